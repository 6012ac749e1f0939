# The run's own database sessions. kmigrate writes the bindings `session_parameters`
# (empty in `rpc`) and `run_id`.

# In a VM of its own (`eval`) the sessions are named after the run and bounded by its
# timeouts: Postgrex's `:parameters` go into each repo's config before
# `Ecto.Migrator.with_repo/3` starts it, so the app's own pool never carries them. In `rpc`
# the repo is the live app's pool, which must not change: nothing is set.
# A repo's `:migration_repo` holds the migration lock on sessions of its own: they are
# named and bounded too.
if session_parameters != [] do
  for repo <- Enum.uniq(repos ++ Enum.map(repos, versions_repo)) do
    put_parameters.(repo, session_parameters)
  end
end

# PostgreSQL ends a session left idle in a transaction longer than
# `idle_in_transaction_session_timeout`, and Ecto's table lock is such a session for the
# whole migration (`Ecto.Adapters.Postgres.lock_for_migrations/3` holds it while another
# connection migrates): the migration commits, then `run/4` raises. Where the database or
# the role sets one, the run's sessions turn it off for themselves; elsewhere nothing is
# added, as a startup parameter PgBouncer does not know refuses the connection. It is read
# on a repo started before the run's (`settle`), and set for the repo's next start.
keep_idle_lock = fn repo ->
  if session_parameters != [] and
       repo.query!("SHOW idle_in_transaction_session_timeout").rows != [["0"]] do
    for repo <- Enum.uniq([repo, versions_repo.(repo)]) do
      put_parameters.(repo, idle_in_transaction_session_timeout: "0")
    end
  end
end

# Before anything runs, a session of the repo shows that the run's name and timeouts are in
# force (session_check.exs): a timeout dropped on the way (PgBouncer) would let the run wait
# without bound, and a session without its name would hide this run from the others and
# from the lock-wait view. In `rpc` nothing was set, so nothing is checked.
check_session = fn repo ->
  problem = if session_parameters == [], do: :ok, else: session_check.(repo, session_parameters)

  case problem do
    :ok ->
      :ok

    {:refused, parameter} ->
      say.("kmigrate:session", [inspect(repo), "refused", parameter])
      raise "kmigrate: nothing was run: the database refused the session parameter " <> parameter

    {:unset, unset} ->
      for {name, asked, in_force} <- unset do
        say.("kmigrate:session", [inspect(repo), "unset", name, asked, in_force])
      end

      raise "kmigrate: nothing was run: the run's session parameters are not in force"
  end
end

# The sessions of other migrate or rollback runs still in the database, found by the names
# they gave themselves (`pg_stat_activity`); this run's are left out. An idle session runs
# nothing and holds no lock but an advisory one: behind PgBouncer's transaction pooling a
# server session keeps the name of the last client it served long after that run ended,
# so idle ones count only when they hold Ecto's advisory migration lock.
other_runs = fn repo ->
  repo.query!(
    "SELECT pid::text, application_name, coalesce(state, ''), " <>
      "coalesce(extract(epoch FROM now() - query_start)::bigint::text, ''), " <>
      "left(regexp_replace(coalesce(query, ''), '[[:space:]]+', ' ', 'g'), 160) " <>
      "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() " <>
      "AND application_name ~ '^kmigrate-(migrate|rollback)-' " <>
      "AND application_name NOT LIKE '%-#{run_id}' " <>
      "AND (state IS DISTINCT FROM 'idle' OR pid IN " <>
      "(SELECT pid FROM pg_locks WHERE locktype = 'advisory'))",
    [],
    timeout: :infinity
  ).rows
end

print_other_runs = fn repo, rows ->
  for [pid, application, state, seconds, query] <- rows do
    say.("kmigrate:running", [inspect(repo), pid, application, state, seconds, query])
  end
end
