//! The snippets of `kmigrate plan` and of a migrate held to a plan (`--plan HASH`).
//!
//! The plan reads the status as `status` does (lock-free), then for each pending
//! migration finds its file under the repo's migration paths, reads it, hashes it
//! (SHA-256), and loads it as `Ecto.Migrator.load_migration!/1` does (`Code.compile_file/1`,
//! then the module that exports `__migration__/0`) to read `__migration__/0`: whether it
//! runs in a transaction and under the migration lock. Loading runs the module's body, as
//! Ecto's own loading does; no migration function is called. It prints each migration,
//! each file's bytes (hex, once per distinct file, in chunks), the tables the files name
//! with their sizes and lock holders, read from the catalog (`elixir/impact.exs`), and the
//! plan hash
//! (`crate::migration_plan::hash`). A migrate held to a plan computes the same hash from
//! the status it is about to act on, in the same VM right before the first migration, and
//! refuses when it differs.

use std::fmt;

use super::bindings::{Bindings, Literal};
use super::elixir;

/// Bytes of a file per source line: its hex stays well within the longest line the
/// output reader parses.
pub const SOURCE_CHUNK: usize = 24 * 1024;

/// A plan hash as `--plan` takes it: 64 hex digits (SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanHash([u8; 32]);

impl PlanHash {
    /// Validate a plan hash: 64 hex digits, either case.
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || {
            format!(
                "invalid plan hash {s:?}: expected the 64 hex digits `{} plan` prints",
                crate::program_name::on_target()
            )
        };
        if s.len() != 64 || !s.is_ascii() {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| err())?;
        }
        Ok(Self(out))
    }
}

impl fmt::Display for PlanHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The bindings and files of `plan`, after the prelude and the session's. Migration files
/// are loaded only in a VM of its own (`own_vm`, `eval`): in `rpc` nothing is loaded into
/// the live app before a confirmation, and the attributes are read from the source.
pub(super) fn add(b: &mut Bindings, files: &mut Vec<&'static str>, own_vm: bool) {
    b.bind("source_chunk", Literal::int(SOURCE_CHUNK))
        .bind("load_migrations", Literal::bool(own_vm));
    files.extend([
        elixir::PLAN_FILES,
        elixir::IMPACT,
        elixir::PLAN,
        elixir::CODE,
    ]);
}

#[cfg(test)]
mod tests {
    use super::super::tests::{demo, flat, split};
    use super::super::{Operation, Range};
    use super::*;

    #[test]
    fn plan_hashes_are_64_hex_digits() {
        let h = "C5A463319391be4c243c6c98c5f953a608ad19268ca1251817ae512aaecb5fd5";
        assert_eq!(
            PlanHash::parse(h).unwrap().to_string(),
            h.to_ascii_lowercase()
        );
        for bad in [
            "",
            &h[1..],
            &format!("{h}0"),
            &h.replace('C', "g"),
            &h.replacen('C', "é", 1),
            "c5a4\"; System.halt(); \"63319391be4c243c6c98c5f953a608ad19268ca1251817",
        ] {
            assert!(PlanHash::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_plan_reads_loads_and_hashes_but_runs_nothing() {
        let (bindings, body) = split(&demo(), Operation::Plan);
        let code = flat(&body);
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("Code.compile_file(file)"), "{code}");
        assert!(code.contains("function_exported?(&1, :__migration__, 0)"));
        assert!(code.contains(r#"say.("kmigrate:pending", ["#));
        assert!(code.contains(r#"say.("kmigrate:planhash", [plan_hash.(entries)])"#));
        assert!(code.contains(":crypto.hash(:sha256, data)"));
        assert!(bindings.contains("source_chunk = 24576\n"));
        assert!(code.contains("for i <- 0..div(byte_size(data) - 1, source_chunk) do"));
        assert!(bindings.contains(r#"application_name: "kmigrate-plan-ab12cd34""#));
        assert!(!code.contains("Ecto.Migrator.run("));
        assert!(
            bindings.contains("load_migrations = true\n"),
            "eval loads: {bindings}"
        );
        // The module attributes the rpc plan reads from the source are the only `@`.
        let read = [
            "~r/^\\s*@disable_ddl_transaction",
            "~r/^\\s*@disable_migration_lock",
        ];
        assert!(read.iter().all(|r| code.contains(r)), "{code}");
        assert!(
            !read
                .iter()
                .fold(code.clone(), |c, r| c.replace(r, ""))
                .contains('@'),
            "nothing but bindings is inserted: {code}"
        );
    }

    #[test]
    fn an_rpc_plan_loads_no_migration_into_the_live_app() {
        let mut rpc = demo();
        rpc.session.named = false;
        let (bindings, _) = split(&rpc, Operation::Plan);
        assert!(bindings.contains("load_migrations = false\n"), "{bindings}");
    }

    #[test]
    fn a_migrate_held_to_a_plan_checks_it_after_reading_and_before_running() {
        let hash = PlanHash::parse(&"ab".repeat(32)).unwrap();
        let (bindings, body) = split(&demo(), Operation::MigratePlanned(Range::All, hash));
        assert!(bindings.contains(&format!("planned_hash = \"{}\"\n", "ab".repeat(32))));
        let code = flat(&body);
        let at = |s: &str| code.find(s).unwrap_or_else(|| panic!("no {s:?} in {code}"));
        let check = at("now = plan_hash.(pending_files.(plans)) if now != planned_hash do");
        assert!(at("plans = for prefix <- prefixes") < check);
        assert!(check < at("todo = for"));
        assert!(check < at("Ecto.Migrator.run("));
        assert!(code.contains(
            r#"say.("kmigrate:stale", [now]) raise "kmigrate: nothing was run: the pending migrations or their files are not those of plan " <> planned_hash"#
        ));
        assert!(bindings.contains(r#"application_name: "kmigrate-migrate-ab12cd34""#));
        let plain = demo().elixir(Operation::Migrate(Range::All));
        assert!(!plain.contains("plan_hash") && !plain.contains("planned_hash"));
        assert!(!plain.replace("@disable_ddl_transaction", "").contains('@'));
    }
}
