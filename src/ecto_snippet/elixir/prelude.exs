# The start of every snippet but the probe. kmigrate writes the bindings above it: `app`,
# `named_repos` (empty: the app's `:ecto_repos`), `prefixes` (`[nil]`: the default schema)
# `paths` (`--migrations-path`, empty when none is given), `tenant_run` (whether the run
# has prefixes, given or read by `--prefixes-from`) and `ecto_sql_floors` (the ecto_sql
# version each feature came with, src/ecto_snippet/versions.rs).

# The app is loaded, not started: its config names the repos and its directory holds the
# migrations. SSL is started as in Phoenix's generated release module: many platforms
# require it to reach the database.
Application.load(app)
Application.ensure_all_started(:ssl)
repos = if named_repos == [], do: Application.fetch_env!(app, :ecto_repos), else: named_repos

# One `kmigrate:*` line: the tag and its fields, tab-separated. Every tagged line goes
# through `say` (the probe has its own); src/protocol.rs lists each tag with its fields.
say = fn tag, fields -> IO.puts(Enum.join([tag | fields], "\t")) end

# A refusal: its reason, tagged, then a raise. Nothing was run.
refuse = fn why ->
  say.("kmigrate:refused", [why])
  raise "kmigrate: nothing was run: " <> why
end

# The release's ecto_sql, and whether it is older than the version a feature came with
# (`ecto_sql_floors`); a version that cannot be read counts as new. Where it is older, the
# run does without the feature and says so (`kmigrate:older`).
Application.load(:ecto_sql)
ecto_sql_vsn = to_string(Application.spec(:ecto_sql, :vsn) || "")

older_ecto_sql = fn feature ->
  case Version.parse(ecto_sql_vsn) do
    {:ok, v} -> Version.compare(v, Keyword.fetch!(ecto_sql_floors, feature)) == :lt
    :error -> false
  end
end

say_older = fn feature ->
  say.("kmigrate:older", [to_string(feature), ecto_sql_vsn, ecto_sql_floors[feature]])
end

# kmigrate reads and runs PostgreSQL repos only: its reads use PostgreSQL's catalog
# (`to_regclass`, `pg_locks`, `pg_stat_activity`), which a MyXQL, SQLite3 or Tds repo
# cannot answer. Such repos are set apart: a read says it leaves them out
# (`say_skipped`), a migrate or rollback refuses them (change_read.exs).
{repos, other_repos} = Enum.split_with(repos, &(&1.__adapter__() == Ecto.Adapters.Postgres))

say_skipped = fn ->
  for repo <- other_repos,
      do: say.("kmigrate:skipped", [inspect(repo), inspect(repo.__adapter__())])
end

# An app whose `:ecto_repos` is empty has nothing kmigrate could read or run: "no
# migrations" would be a success without evidence. Nor has one whose repos are all of
# another adapter.
cond do
  repos == [] and other_repos == [] ->
    refuse.("#{inspect(app)} lists no repos in :ecto_repos: name them with --repo")

  repos == [] ->
    say_skipped.()

    refuse.(
      "no repo of #{inspect(app)} uses PostgreSQL (" <>
        Enum.map_join(other_repos, ", ", &"#{inspect(&1)}: #{inspect(&1.__adapter__())}") <>
        "): kmigrate reads and runs PostgreSQL repos only"
    )

  true ->
    :ok
end

# Tenants across several repos of `:ecto_repos`: a repo without tenants would be migrated
# in each tenant's schema, and `--prefixes-from` would read whichever repo is listed first.
# The repos a tenant has are named with `--repo`; the query runs on the first one named.
if tenant_run and named_repos == [] and length(repos) > 1 do
  refuse.(
    "this app has several repos (" <>
      Enum.map_join(repos, ", ", &inspect/1) <>
      ") and the run has tenants: name the repos that have them with --repo"
  )
end

# A repo's migrations folders, chosen as `mix ecto.migrate` chooses them
# (`Mix.EctoSQL.ensure_migrations_paths/2`): the `--migrations-path` folders replace the
# default. Relative ones resolve against the repo's own app directory, the one
# `Ecto.Migrator.migrations_path/2` uses (in an umbrella the web app and its repos' app
# differ). The default is `priv/<repo>/migrations`; a run with prefixes takes
# `priv/<repo>/tenant_migrations` instead where that folder exists, as Triplex's
# `migrations_path/1` does, so the public schema's migrations never run in a tenant. A
# folder that is not there refuses the run, as mix raises "Could not find migrations
# directory".
migration_paths = fn repo ->
  chosen =
    cond do
      paths != [] ->
        Enum.map(paths, &Path.expand(&1, Application.app_dir(repo.config()[:otp_app])))

      tenant_run and File.dir?(Ecto.Migrator.migrations_path(repo, "tenant_migrations")) ->
        [Ecto.Migrator.migrations_path(repo, "tenant_migrations")]

      true ->
        [Ecto.Migrator.migrations_path(repo)]
    end

  for dir <- chosen, paths != [], not File.dir?(dir) do
    refuse.("could not find migrations directory #{inspect(dir)} for repo #{inspect(repo)}")
  end

  chosen
end

# The migrations table, quoted as `Ecto.Adapters.Postgres.lock_for_migrations/3` quotes it
# (`"prefix"."schema_migrations"`), under the repo's `:migration_source` if it has one.
migrations_table = fn repo, prefix ->
  quote_name = &("\"" <> String.replace(&1, "\"", "\"\"") <> "\"")

  if(prefix, do: quote_name.(prefix) <> ".", else: "") <>
    quote_name.(repo.config()[:migration_source] || "schema_migrations")
end

# The repo that holds a repo's versions and migration lock: its `:migration_repo` when it
# has one (`Ecto.Migration.SchemaMigration.get_repo_and_source/2`), else itself.
versions_repo = &(&1.config()[:migration_repo] || &1)

# With prefixes, an ecto_sql older than 3.7.1 locks the default schema's table for every
# prefix (`LOCK TABLE "schema_migrations"`); a repo configured with the advisory lock gets
# the table lock before 3.9.0. Said once, before anything is read.
if tenant_run and older_ecto_sql.(:prefix_lock), do: say_older.(:prefix_lock)

if older_ecto_sql.(:advisory_lock) and
     Enum.any?(repos, &(versions_repo.(&1).config()[:migration_lock] == :pg_advisory_lock)) do
  say_older.(:advisory_lock)
end

# A text as a SQL string literal: quotes doubled (`standard_conforming_strings`, on since
# PostgreSQL 9.1, leaves backslashes alone).
sql_text = &("'" <> String.replace(&1, "'", "''") <> "'")

# The start of a session's current or last statement (`column` of `pg_stat_activity`), on
# one line and cut at 120 characters: how every view of other sessions shows them.
statement_head = fn column ->
  "left(regexp_replace(coalesce(#{column}, ''), '[[:space:]]+', ' ', 'g'), 120)"
end

# Every migration's state, as `Ecto.Migrator.migrations/3` gives it, read with
# `migration_lock: false, skip_table_creation: true` (ecto_sql 3.6.1 and later): the read
# neither waits behind a running migration's lock nor creates the table. Without the table
# every file is pending, named as `extract_migration_info/1` names them, by version. The
# table's existence reads `true`, or `"t"` from a driver that returns text.
status_rows = fn repo, prefix ->
  table = migrations_table.(repo, prefix)

  if match?(
       %{rows: [[v]]} when v in [true, "t"],
       versions_repo.(repo).query!(
         "SELECT to_regclass(#{sql_text.(table)}) IS NOT NULL",
         [],
         timeout: :infinity
       )
     ) do
    Ecto.Migrator.migrations(
      repo,
      migration_paths.(repo),
      [migration_lock: false, skip_table_creation: true] ++
        if(prefix, do: [prefix: prefix], else: [])
    )
  else
    files =
      for dir <- migration_paths.(repo),
          file <- Path.wildcard(Path.join([dir, "**", "*.exs"])),
          {version, "_" <> name} <- [Integer.parse(Path.rootname(Path.basename(file)))],
          do: {:down, version, name}

    Enum.sort_by(files, &elem(&1, 1))
  end
end
