//! The snippets of `kmigrate plan` and of a migrate held to a plan (`--plan HASH`).
//!
//! The plan reads the status as `status` does (lock-free), then for each pending
//! migration finds its file under the repo's migration paths, reads it, hashes it
//! (SHA-256), and loads it as `Ecto.Migrator.load_migration!/1` does (`Code.compile_file/1`,
//! then the module that exports `__migration__/0`) to read `__migration__/0`: whether it
//! runs in a transaction and under the migration lock. Loading runs the module's body, as
//! Ecto's own loading does; no migration function is called. It prints each migration,
//! each file's bytes (hex, once per distinct file, in chunks), and the plan hash
//! (`crate::migration_plan::hash`). A migrate held to a plan computes the same hash from
//! the status it is about to act on, in the same VM right before the first migration, and
//! refuses when it differs.

use std::fmt;

/// Bytes of a file per source line: its hex stays well within the longest line the
/// output reader parses.
pub const SOURCE_CHUNK: usize = 24 * 1024;

/// What both snippets share: `planned` turns `{repo, prefix, rows}` into the pending
/// migrations with their file, bytes and SHA-256 (a version must have exactly one file,
/// as Ecto's `ensure_no_duplication!/1` demands); `planhash` hashes them.
const FILES: &str = r##"digest = fn data -> Base.encode16(:crypto.hash(:sha256, data), case: :lower) end; planned = fn plans -> for {r, p, ms} <- plans, {:down, v, n} <- ms do fs = for(d <- paths.(r), f <- Path.wildcard(Path.join([d, "**", "#{v}_*.exs"])), Path.basename(f) == "#{v}_#{n}.exs", do: f); if length(fs) != 1, do: raise("kmigrate: migration #{v} of " <> inspect(r) <> " has #{length(fs)} files"); [f] = fs; data = File.read!(f); {r, p, v, n, f, data, digest.(data)} end end; planhash = fn es -> digest.(["kmigrate-plan-v1\n" | for({r, p, v, n, _, _, d} <- es, do: [inspect(r), "\t", p || "", "\t", Integer.to_string(v), "\t", n, "\t", d, "\n"])]) end; "##;

/// `plan`: the pending migrations, their files, how Ecto runs them, and the hash.
const PLAN: &str = r##"es = Enum.flat_map(pfxs, fn p -> Enum.flat_map(repos, fn repo -> {:ok, ms, _} = Ecto.Migrator.with_repo(repo, &rows.(&1, p)); planned.([{repo, p, ms}]) end) end); loaded = Map.new(Enum.uniq(for({_, _, _, _, f, _, _} <- es, do: f)), fn f -> mod = Enum.find(Enum.map(Code.compile_file(f), &elem(&1, 0)), &(Code.ensure_loaded?(&1) and function_exported?(&1, :__migration__, 0))); {f, {mod, if(mod, do: mod.__migration__(), else: [])}} end); for {r, p, v, n, f, _, d} <- es do {mod, info} = loaded[f]; IO.puts(Enum.join(["kmigrate:pending", inspect(r), p || "", v, n, if(mod, do: inspect(mod), else: ""), if(info[:disable_ddl_transaction], do: "notx", else: "tx"), if(info[:disable_migration_lock], do: "nolock", else: "lock"), d, Path.relative_to(f, Application.app_dir(app))], "\t")) end; chunks = fn "" -> [""]; data -> for(i <- 0..div(byte_size(data) - 1, @CHUNK@), do: binary_part(data, i * @CHUNK@, min(@CHUNK@, byte_size(data) - i * @CHUNK@))) end; for {_, _, _, _, _, data, d} <- Enum.uniq_by(es, &elem(&1, 6)) do cs = chunks.(data); for {c, i} <- Enum.with_index(cs), do: IO.puts("kmigrate:source\t" <> d <> "\t#{i}\t#{length(cs)}\t" <> Base.encode16(c, case: :lower)) end; IO.puts("kmigrate:planhash\t" <> planhash.(es))"##;

/// A migrate held to a plan: placed after the status of every repo is read (`plans`) and
/// before anything runs.
const PIN: &str = r##"now = planhash.(planned.(plans)); if now != "@HASH@", do: (IO.puts("kmigrate:stale\t" <> now); raise "kmigrate: nothing was run: the pending migrations or their files are not those of plan @HASH@"); "##;

/// A plan hash as `--plan` takes it: 64 hex digits (SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanHash([u8; 32]);

impl PlanHash {
    /// Validate a plan hash: 64 hex digits, either case.
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || {
            format!(
                "invalid plan hash {s:?}: expected the 64 hex digits `{} plan` prints",
                crate::program_name::get()
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

/// The body of `plan`.
pub(super) fn body() -> String {
    FILES.to_owned() + &PLAN.replace("@CHUNK@", &SOURCE_CHUNK.to_string())
}

/// A migrate's body held to `hash`.
pub(super) fn pinned(change: &str, hash: &PlanHash) -> String {
    let pin = FILES.to_owned() + &PIN.replace("@HASH@", &hash.to_string());
    change.replace("@PIN@", &pin)
}

#[cfg(test)]
mod tests {
    use super::super::tests::demo;
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
        let code = demo().elixir(Operation::Plan);
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("Code.compile_file(f)"), "{code}");
        assert!(code.contains("function_exported?(&1, :__migration__, 0)"));
        assert!(code.contains("\"kmigrate:pending\""));
        assert!(code.contains("IO.puts(\"kmigrate:planhash\\t\" <> planhash.(es))"));
        assert!(code.contains(":crypto.hash(:sha256, data)"));
        assert!(code.contains("for(i <- 0..div(byte_size(data) - 1, 24576)"));
        assert!(code.contains(r#"application_name: "kmigrate-plan-ab12cd34""#));
        assert!(!code.contains("Ecto.Migrator.run("));
        assert!(!code.contains('@'), "every placeholder is filled: {code}");
    }

    #[test]
    fn a_migrate_held_to_a_plan_checks_it_after_reading_and_before_running() {
        let hash = PlanHash::parse(&"ab".repeat(32)).unwrap();
        let code = demo().elixir(Operation::MigratePlanned(Range::All, hash));
        let at = |s: &str| code.find(s).unwrap_or_else(|| panic!("no {s:?} in {code}"));
        let check = at(&format!(
            "now = planhash.(planned.(plans)); if now != \"{}\"",
            "ab".repeat(32)
        ));
        assert!(at("plans = for p <- pfxs") < check);
        assert!(check < at("todo = for"));
        assert!(check < at("Ecto.Migrator.run("));
        assert!(code.contains("IO.puts(\"kmigrate:stale\\t\" <> now); raise"));
        assert!(code.contains(r#"application_name: "kmigrate-migrate-ab12cd34""#));
        let plain = demo().elixir(Operation::Migrate(Range::All));
        assert!(!plain.contains("planhash") && !plain.contains("@PIN@"));
    }
}
