# The start of every snippet but the probe. kmigrate writes the bindings above it: `app`,
# `named_repos` (empty: the app's `:ecto_repos`), `prefixes` (`[nil]`: the default schema)
# and `extra_paths` (`--migrations-path`).

# The app is loaded, not started: its config names the repos and its directory holds the
# migrations. SSL is started as in Phoenix's generated release module: many platforms
# require it to reach the database.
Application.load(app)
Application.ensure_all_started(:ssl)
repos = if named_repos == [], do: Application.fetch_env!(app, :ecto_repos), else: named_repos

# One `kmigrate:*` line: the tag and its fields, tab-separated. Every tagged line goes
# through `say` (the probe has its own); src/protocol.rs lists each tag with its fields.
say = fn tag, fields -> IO.puts(Enum.join([tag | fields], "\t")) end

# A repo's migrations: its own `priv/<repo>/migrations` (`Ecto.Migrator.migrations_path/1`),
# then each `--migrations-path`, relative to the app's directory.
migration_paths = fn repo ->
  [
    Ecto.Migrator.migrations_path(repo)
    | Enum.map(extra_paths, &Path.expand(&1, Application.app_dir(app)))
  ]
end

# The migrations table, quoted as `Ecto.Adapters.Postgres.lock_for_migrations/3` quotes it
# (`"prefix"."schema_migrations"`), under the repo's `:migration_source` if it has one.
migrations_table = fn repo, prefix ->
  if(prefix, do: "\"" <> prefix <> "\".", else: "") <>
    "\"" <> (repo.config()[:migration_source] || "schema_migrations") <> "\""
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
       repo.query!("SELECT to_regclass('#{table}') IS NOT NULL")
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
