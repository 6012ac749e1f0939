//! The destructive-change policy: in a protected environment, a migration with a
//! destructive finding that nobody marked as reviewed runs only when the run allows its
//! version (`--allow-destructive`, or typed at the confirmation).

use super::{Kind, PlannedMigration, RepoPlan};

/// What the policy says about the migrations a run would apply.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Destructive migrations the run allows, by version, in order.
    pub allowed: Vec<i64>,
    /// Destructive migrations it does not allow (yet), in order.
    pub unallowed: Vec<Blocked>,
    /// Allowed versions that name no destructive migration of this run (a typo, or a plan
    /// that changed): said, never an error.
    pub unused: Vec<i64>,
}

/// A destructive migration that is not allowed.
#[derive(Debug, PartialEq, Eq)]
pub struct Blocked {
    /// Its version.
    pub version: i64,
    /// How it shows in a plan: `version name (repo)`.
    pub shown: String,
    /// What makes it destructive, one entry per finding: `drops a table (line 5: DROP TABLE x)`.
    pub reasons: Vec<String>,
}

impl Decision {
    /// The versions not allowed, as `--allow-destructive` takes them.
    pub fn unallowed_versions(&self) -> String {
        let v: Vec<String> = self
            .unallowed
            .iter()
            .map(|b| b.version.to_string())
            .collect();
        v.join(",")
    }
}

/// Decide for the migrations a run would apply, given the versions it allows. A version
/// counts once, however many prefixes run it.
pub fn decide<'a>(
    selected: impl IntoIterator<Item = (&'a RepoPlan, &'a PlannedMigration)>,
    allow: &[i64],
) -> Decision {
    let mut d = Decision::default();
    let mut seen = Vec::new();
    for (repo, m) in selected {
        if !m.destructive || seen.contains(&m.version) {
            continue;
        }
        seen.push(m.version);
        if allow.contains(&m.version) {
            d.allowed.push(m.version);
            continue;
        }
        d.unallowed.push(Blocked {
            version: m.version,
            shown: repo.line(m),
            reasons: m
                .findings
                .iter()
                .filter(|f| f.destructive && !f.assured)
                .map(|f| format!("{} (line {}: {})", f.kind.describe(), f.line, f.text))
                .collect(),
        });
    }
    d.unused = allow
        .iter()
        .copied()
        .filter(|v| !seen.contains(v))
        .collect();
    d.unused.dedup();
    d
}

/// The migrations that break the code running now (`breaks_running_code`, not marked as
/// reviewed) and whose version `allow` (`--allow-breaking`) does not name: refused in a
/// protected environment whatever else is allowed, as `--allow-destructive` and the typed
/// versions do not cover them. A version counts once.
pub fn breaking<'a>(
    selected: impl IntoIterator<Item = (&'a RepoPlan, &'a PlannedMigration)>,
    allow: &[i64],
) -> Vec<Blocked> {
    let mut out: Vec<Blocked> = Vec::new();
    for (repo, m) in selected {
        let reasons: Vec<String> = m
            .findings
            .iter()
            .filter(|f| f.kind == Kind::BreaksRunningCode && !f.assured)
            .map(|f| format!("{} (line {})", f.text, f.line))
            .collect();
        if reasons.is_empty()
            || allow.contains(&m.version)
            || out.iter().any(|b| b.version == m.version)
        {
            continue;
        }
        out.push(Blocked {
            version: m.version,
            shown: repo.line(m),
            reasons,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration_plan::tests::{migration, repo};

    #[test]
    fn only_unassured_destructive_migrations_need_an_allow() {
        let plan = repo(vec![
            migration(1, "execute \"CREATE TABLE a (id int)\""),
            migration(2, "execute \"DROP TABLE legacy\""),
            migration(
                3,
                "@safety_assured true\ndef up do\n  execute \"ALTER TABLE a ALTER COLUMN id TYPE bigint\"\nend",
            ),
            migration(
                4,
                "def change do\n  alter table(:a) do\n    remove :x\n  end\nend",
            ),
        ]);
        let all = || plan.migrations.iter().map(|m| (&plan, m));
        let d = decide(all(), &[]);
        let blocked: Vec<i64> = d.unallowed.iter().map(|b| b.version).collect();
        assert_eq!(blocked, [2, 4], "1 is safe, 3 is assured");
        assert_eq!(d.unallowed_versions(), "2,4");
        assert_eq!(
            d.unallowed[0].reasons,
            ["drops a table (line 1: DROP TABLE legacy)"]
        );
        assert_eq!(d.unallowed[0].shown, "2 m2 (Demo.Repo)");

        let d = decide(all(), &[4, 2, 9]);
        assert!(d.unallowed.is_empty());
        assert_eq!(d.allowed, [2, 4]);
        assert_eq!(d.unused, [9], "9 names no destructive migration");

        // Only what the run applies counts: a --to before 4 needs no allow for it.
        let d = decide(all().take(3), &[2]);
        assert_eq!((d.allowed, d.unallowed.len()), (vec![2], 0));
    }

    #[test]
    fn a_version_in_several_prefixes_counts_once() {
        let mut a = repo(vec![migration(5, "execute \"DROP TABLE x\"")]);
        a.prefix = Some("tenant_a".into());
        let mut b = repo(vec![migration(5, "execute \"DROP TABLE x\"")]);
        b.prefix = Some("tenant_b".into());
        let selected = [(&a, &a.migrations[0]), (&b, &b.migrations[0])];
        let d = decide(selected, &[]);
        assert_eq!(d.unallowed.len(), 1);
        assert_eq!(d.unallowed[0].shown, "5 m5 (Demo.Repo, prefix tenant_a)");
        assert_eq!(decide(selected, &[5]).allowed, [5]);
    }

    #[test]
    fn what_breaks_the_running_code_needs_its_own_allow() {
        use crate::migration_plan::rules::Finding;
        let mut m = migration(
            7,
            "def change do\n  alter table(:posts) do\n    remove :title\n  end\nend\n",
        );
        m.findings.push(Finding {
            kind: Kind::BreaksRunningCode,
            destructive: true,
            line: 3,
            text: "Demo.Post maps posts.title (field :title)".into(),
            table: Some("posts".into()),
            assured: false,
            impact: None,
        });
        let r = repo(vec![m]);
        let selected = || r.migrations.iter().map(|m| (&r, m));
        let blocked = breaking(selected(), &[]);
        assert_eq!(blocked.len(), 1);
        assert_eq!(
            blocked[0].reasons,
            ["Demo.Post maps posts.title (field :title) (line 3)"]
        );
        // --allow-destructive allows the removal, not what it breaks.
        assert_eq!(decide(selected(), &[7]).allowed, [7]);
        assert_eq!(breaking(selected(), &[7]).len(), 0);
        assert_eq!(breaking(selected(), &[8]).len(), 1);
    }
}
