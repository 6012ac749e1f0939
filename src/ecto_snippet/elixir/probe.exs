# `doctor`'s probe, read-only. kmigrate writes the bindings `app`, `named_repos` (empty:
# the app's `:ecto_repos`, or none) and `session_parameters` (a run's; empty in `rpc`). It says in `kmigrate:probe` lines whether the app
# loads, which repos it has, which ecto_sql the release carries, and whether each repo
# answers `SELECT 1`. Every step that can fail is caught and said, so that one run tells as
# much as it can; it never migrates, locks or creates anything.

# A field's tabs and line breaks become spaces: an error's text may hold them. A URL's
# password is masked: a repo's start error may name its URL (`Ecto.InvalidURLError`).
# (`\x40` is the at sign, which kmigrate keeps for its placeholders.)
field = fn text ->
  text
  |> to_string()
  |> String.replace(~r/[\t\r\n]+/, " ")
  |> String.replace(~r{(\w://[^:/\x40\s]*:)[^\x40\s]+\x40}, "\\1***\x40")
end

say = fn tag, fields -> IO.puts(Enum.map_join([tag | fields], "\t", field)) end

loaded = Application.load(app)

if match?(:ok, loaded) or match?({:error, {:already_loaded, _}}, loaded) do
  say.("kmigrate:probe", ["app", "ok"])
  Application.load(:ecto_sql)
  say.("kmigrate:probe", ["ecto_sql", Application.spec(:ecto_sql, :vsn) || ""])
  repos = if named_repos == [], do: Application.get_env(app, :ecto_repos, []), else: named_repos
  say.("kmigrate:probe", ["repos" | Enum.map(repos, &inspect/1)])
  Application.ensure_all_started(:ssl)

  # A repo that is not PostgreSQL is named with its adapter and not asked: kmigrate leaves it
  # out of reads and refuses to migrate it. A PostgreSQL repo answers `SELECT 1`, then names
  # the indexes PostgreSQL marks invalid in its database (a `CREATE INDEX CONCURRENTLY` that
  # failed or was cancelled leaves one, which `IF NOT EXISTS` then keeps), 20 at most.
  for repo <- repos do
    if repo.__adapter__() == Ecto.Adapters.Postgres do
      {answer, invalid} =
        try do
          case Ecto.Migrator.with_repo(repo, fn r ->
                 r.query!("SELECT 1")

                 r.query!(
                   "SELECT c.relnamespace::regnamespace::text, c.relname, t.relname " <>
                     "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid " <>
                     "JOIN pg_class t ON t.oid = i.indrelid WHERE NOT i.indisvalid " <>
                     "ORDER BY 1, 2 LIMIT 20"
                 ).rows
               end) do
            {:ok, rows, _} -> {["ok"], rows}
            {:error, e} -> {["error", inspect(e)], []}
          end
        rescue
          e -> {["error", Exception.message(e)], []}
        catch
          kind, e -> {["error", inspect({kind, e})], []}
        end

      say.("kmigrate:probe", ["db", inspect(repo) | answer])

      for [schema, index, table] <- invalid do
        say.("kmigrate:probe", ["invalidindex", inspect(repo), schema, index, table])
      end
    else
      say.("kmigrate:probe", ["adapter", inspect(repo), inspect(repo.__adapter__())])
    end
  end

  # Sessions opened as a run opens them (its name and timeouts, put into the repo's
  # `:parameters` as session.exs does) say whether those reach PostgreSQL
  # (session_check.exs), and whether a pooler sits between: the server's own port is not
  # the one the repo connects to. Ecto's advisory migration lock is a session lock, which a
  # pooler in transaction mode does not keep.
  for repo <- repos, session_parameters != [], repo.__adapter__() == Ecto.Adapters.Postgres do
    put_parameters.(repo, session_parameters)

    read = fn r ->
      case session_check.(r, session_parameters) do
        :ok -> {:ok, r.query!("SELECT coalesce(inet_server_port()::text, '')").rows}
        problem -> {problem, []}
      end
    end

    try do
      case Ecto.Migrator.with_repo(repo, read) do
        {:ok, {:ok, [[server_port]]}, _} ->
          say.("kmigrate:probe", ["session", inspect(repo), "ok"])
          repo_port = to_string(repo.config()[:port] || 5432)

          if server_port != "" and server_port != repo_port do
            lock = inspect(repo.config()[:migration_lock] || :table_lock)
            say.("kmigrate:probe", ["pooler", inspect(repo), server_port, repo_port, lock])
          end

        {:ok, {{:refused, parameter}, _}, _} ->
          say.("kmigrate:probe", ["session", inspect(repo), "refused", parameter])

        {:ok, {{:unset, unset}, _}, _} ->
          for {name, asked, in_force} <- unset do
            say.("kmigrate:probe", ["session", inspect(repo), "unset", name, asked, in_force])
          end

        {:error, e} ->
          say.("kmigrate:probe", ["session", inspect(repo), "error", inspect(e)])
      end
    rescue
      e -> say.("kmigrate:probe", ["session", inspect(repo), "error", Exception.message(e)])
    end
  end
else
  say.("kmigrate:probe", ["app", "error", inspect(loaded)])
end
