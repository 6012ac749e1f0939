//! The snippet of `kmigrate plan`.
//!
//! The plan reads the status as `status` does (lock-free), then for each pending
//! migration finds its file under the repo's migration paths, reads it, hashes it
//! (SHA-256), and loads it as `Ecto.Migrator.load_migration!/1` does (`Code.compile_file/1`,
//! then the module that exports `__migration__/0`) to read `__migration__/0`: whether it
//! runs in a transaction and under the migration lock. Loading runs the module's body, as
//! Ecto's own loading does; no migration function is called. It prints each migration,
//! each file's bytes (hex, once per distinct file, in chunks), and the plan hash
//! (`crate::migration_plan::hash`).

/// `kmigrate:pending\t<repo>\t<prefix>\t<version>\t<name>\t<module>\t<tx|notx>\t<lock|nolock>\t<sha256>\t<file>`:
/// a pending migration.
pub const PENDING_TAG: &str = "kmigrate:pending";
/// `kmigrate:source\t<sha256>\t<chunk>\t<chunks>\t<hex>`: part of a migration file.
pub const SOURCE_TAG: &str = "kmigrate:source";
/// `kmigrate:planhash\t<sha256>`: the plan hash, as the pod computed it.
pub const PLAN_HASH_TAG: &str = "kmigrate:planhash";
/// `kmigrate:stale\t<sha256>`: nothing was run, the plan hash is now this (a migrate held
/// to a plan).
pub const STALE_TAG: &str = "kmigrate:stale";
/// Bytes of a file per source line: its hex stays well within the longest line the
/// output reader parses.
pub const SOURCE_CHUNK: usize = 24 * 1024;

/// `planned` turns `{repo, prefix, rows}` into the pending
/// migrations with their file, bytes and SHA-256 (a version must have exactly one file,
/// as Ecto's `ensure_no_duplication!/1` demands); `planhash` hashes them.
const FILES: &str = r##"digest = fn data -> Base.encode16(:crypto.hash(:sha256, data), case: :lower) end; planned = fn plans -> for {r, p, ms} <- plans, {:down, v, n} <- ms do fs = for(d <- paths.(r), f <- Path.wildcard(Path.join([d, "**", "#{v}_*.exs"])), Path.basename(f) == "#{v}_#{n}.exs", do: f); if length(fs) != 1, do: raise("kmigrate: migration #{v} of " <> inspect(r) <> " has #{length(fs)} files"); [f] = fs; data = File.read!(f); {r, p, v, n, f, data, digest.(data)} end end; planhash = fn es -> digest.(["kmigrate-plan-v1\n" | for({r, p, v, n, _, _, d} <- es, do: [inspect(r), "\t", p || "", "\t", Integer.to_string(v), "\t", n, "\t", d, "\n"])]) end; "##;

/// `plan`: the pending migrations, their files, how Ecto runs them, and the hash.
const PLAN: &str = r##"es = Enum.flat_map(pfxs, fn p -> Enum.flat_map(repos, fn repo -> {:ok, ms, _} = Ecto.Migrator.with_repo(repo, &rows.(&1, p)); planned.([{repo, p, ms}]) end) end); loaded = Map.new(Enum.uniq(for({_, _, _, _, f, _, _} <- es, do: f)), fn f -> mod = Enum.find(Enum.map(Code.compile_file(f), &elem(&1, 0)), &(Code.ensure_loaded?(&1) and function_exported?(&1, :__migration__, 0))); {f, {mod, if(mod, do: mod.__migration__(), else: [])}} end); for {r, p, v, n, f, _, d} <- es do {mod, info} = loaded[f]; IO.puts(Enum.join(["kmigrate:pending", inspect(r), p || "", v, n, if(mod, do: inspect(mod), else: ""), if(info[:disable_ddl_transaction], do: "notx", else: "tx"), if(info[:disable_migration_lock], do: "nolock", else: "lock"), d, Path.relative_to(f, Application.app_dir(app))], "\t")) end; chunks = fn "" -> [""]; data -> for(i <- 0..div(byte_size(data) - 1, @CHUNK@), do: binary_part(data, i * @CHUNK@, min(@CHUNK@, byte_size(data) - i * @CHUNK@))) end; for {_, _, _, _, _, data, d} <- Enum.uniq_by(es, &elem(&1, 6)) do cs = chunks.(data); for {c, i} <- Enum.with_index(cs), do: IO.puts("kmigrate:source\t" <> d <> "\t#{i}\t#{length(cs)}\t" <> Base.encode16(c, case: :lower)) end; IO.puts("kmigrate:planhash\t" <> planhash.(es))"##;

/// The body of `plan`.
pub(super) fn body() -> String {
    FILES.to_owned() + &PLAN.replace("@CHUNK@", &SOURCE_CHUNK.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::Operation;
    use super::super::tests::demo;

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
}
