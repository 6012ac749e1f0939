//! What the release's ecto_sql version decides: the features of a run that came with an
//! ecto_sql newer than the oldest kmigrate runs with, and what a run does on an older one.
//! The snippet is given the versions (`ecto_sql_floors`) and says `kmigrate:older` where
//! it does without one; `doctor` names them for the version it finds. Each version is read
//! from ecto_sql's history (`git log -S` on lib/ecto/adapters/postgres.ex and
//! lib/ecto/migration/runner.ex, tags checked with `git tag --contains`).

use super::bindings::Literal;

/// A feature and the ecto_sql version it came with.
#[derive(Debug)]
pub struct Floor {
    /// Its name in the snippet and in `kmigrate:older` lines.
    pub feature: &'static str,
    /// The first ecto_sql release that has it.
    pub version: (u64, u64, u64),
    /// What it is, and the ecto_sql commit that brought it.
    pub what: &'static str,
    /// What a run does with an older ecto_sql.
    pub instead: &'static str,
}

/// The features, oldest first.
pub const ECTO_SQL_FLOORS: &[Floor] = &[
    Floor {
        feature: "prefix_lock",
        version: (3, 7, 1),
        what: "a migration lock per prefix: `LOCK TABLE \"prefix\".\"schema_migrations\"` \
               (585c2d1, \"Consider prefix when locking table\")",
        instead: "Ecto locks the default schema's schema_migrations for every prefix: tenants \
                  wait on one another, so a migrate with tenants refuses --concurrency above 1, \
                  and the lock's holder is read on that table for every prefix",
    },
    Floor {
        feature: "log_migrations_sql",
        version: (3, 7, 1),
        what: "`run/4`'s `log_migrations_sql:` option (0f87606; `log_sql:` before)",
        instead: "--log-sql is passed as `log_sql:`, the name this version reads: nothing is lost",
    },
    Floor {
        feature: "advisory_lock",
        version: (3, 9, 0),
        what: "`migration_lock: :pg_advisory_lock` (0869686)",
        instead: "Ecto takes the table lock whatever the repo's :migration_lock says (any value \
                  but false), and kmigrate reads that lock's holder",
    },
];

/// The floor of `feature`.
pub fn floor(feature: &str) -> Option<&'static Floor> {
    ECTO_SQL_FLOORS.iter().find(|f| f.feature == feature)
}

impl Floor {
    /// `3.7.1`.
    pub fn version_text(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }

    /// For people, in a run: what the release's `version` does without it.
    pub fn describe(&self, version: &str) -> String {
        format!(
            "ecto_sql {version} is older than {}, which brought {}: {}",
            self.version_text(),
            self.what,
            self.instead
        )
    }
}

/// The floors as the snippet's binding: `[prefix_lock: "3.7.1", ...]`.
pub(super) fn binding() -> Literal {
    Literal::keyword(
        ECTO_SQL_FLOORS
            .iter()
            .map(|f| (f.feature, Literal::string(&f.version_text()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_floor_is_used_by_the_snippet_and_documented() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide/doctor.md"),
        )
        .unwrap();
        for f in ECTO_SQL_FLOORS {
            let used = crate::ecto_snippet::ELIXIR_FILES
                .iter()
                .any(|(_, code)| code.contains(&format!("older_ecto_sql.(:{})", f.feature)));
            assert!(used, "{} is never asked", f.feature);
            let row = format!("| `{}` | {} |", f.feature, f.version_text());
            assert!(docs.contains(&row), "docs/guide/doctor.md lacks {row}");
        }
        assert!(
            ECTO_SQL_FLOORS
                .windows(2)
                .all(|w| w[0].version <= w[1].version)
        );
    }
}
