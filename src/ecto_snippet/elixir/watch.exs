# While migrations run. kmigrate writes the bindings `heartbeat_s` and `session_name`
# (`kmigrate-<verb>-<run id>`, the name of this run's sessions; empty in `rpc`).

# Which lock a session of this run (`session_name`) has waited on for 3 s or more, and who
# holds it. The read may take up to 60 s on a busy catalog (not DBConnection's default 15 s,
# which would drop it), and no longer: the heartbeat waits for it, and kmigrate takes 120 s of
# silence for a lost connection.
lock_waits = fn repo ->
  repo.query!(
    "SELECT extract(epoch FROM now() - w.query_start)::bigint::text, " <>
      "coalesce(l.relation::regclass::text, l.locktype), l.mode, b.pid::text, " <>
      "coalesce(b.application_name, ''), coalesce(host(b.client_addr), 'local'), " <>
      "coalesce(b.state, ''), " <>
      "coalesce(extract(epoch FROM now() - b.state_change)::bigint::text, ''), " <>
      statement_head.("b.query") <>
      " FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted " <>
      "CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) " <>
      "JOIN pg_stat_activity b ON b.pid = bp.pid " <>
      "WHERE w.application_name = '#{session_name}' " <>
      "AND w.wait_event_type = 'Lock' AND w.query_start < now() - interval '3 seconds'",
    [],
    timeout: 60_000
  ).rows
end

# A failed read is left out: the watcher never takes the run down.
print_lock_waits = fn repo, prefix ->
  try do
    for [waited, lock, mode, pid, application, client, state, state_s, query] <-
          lock_waits.(repo) do
      say.("kmigrate:waiting", [
        inspect(repo),
        prefix || "",
        waited,
        lock,
        mode,
        pid,
        application,
        client,
        state,
        state_s,
        query
      ])
    end
  catch
    _, _ -> :ok
  end
end

# A process of its own: a heartbeat every `heartbeat_s` seconds and, when the sessions are
# named (`eval`), the lock waits every 5 s. It queries on a connection of its own (the run
# starts each repo with one more than the migrations need), and ends on `:stop` or with
# the process that started it.
watch = fn repo, prefix ->
  send(pulse, :stop)
  parent = self()

  spawn(fn ->
    ref = Process.monitor(parent)

    tick = fn tick, seconds ->
      receive do
        :stop ->
          :ok

        {:DOWN, ^ref, _, _, _} ->
          :ok
      after
        1000 ->
          seconds = seconds + 1
          if rem(seconds, heartbeat_s) == 0, do: say.("kmigrate:heartbeat", [seconds])
          if session_name != "" and rem(seconds, 5) == 3, do: print_lock_waits.(repo, prefix)
          tick.(tick, seconds)
      end
    end

    tick.(tick, 0)
  end)
end

# Whether a migration runs outside a transaction (`@disable_ddl_transaction true` in its
# file): then a cancelled statement may leave part of it committed.
transaction_mode = fn repo, version ->
  outside =
    Enum.any?(migration_paths.(repo), fn dir ->
      Enum.any?(
        Path.wildcard(Path.join([dir, "**", "#{version}_*.exs"])),
        &(File.read!(&1) =~ ~r/@disable_ddl_transaction\s+true/)
      )
    end)

  if outside, do: "notx", else: "tx"
end

# A statement cancelled by the run's lock or statement timeout is tagged before it is
# raised again: a `Postgrex.Error` with `:lock_not_available`, or `:query_canceled` by the
# statement timeout; or, when the wait was for Ecto's own migration lock, the `MatchError`
# around it (`Ecto.Adapters.Postgres.lock_for_migrations/3` matches
# `{:ok, _} = Ecto.Adapters.SQL.query(...)`).
# SQLSTATE 57014 (`:query_canceled`) is every cancel: a statement timeout, or a cancel
# request (`pg_cancel_backend`). Only the message tells them apart, in the server's
# `lc_messages` language, so it is read only in English: a run that set a statement timeout
# reads a cancel as it, unless the message says in English that a user asked for it; a run
# without one, only when the message names the statement timeout (the database's or the
# role's own).
statement_cancel? = fn message ->
  if Keyword.has_key?(session_parameters, :statement_timeout),
    do: not (message =~ "due to user request"),
    else: message =~ "statement timeout"
end

tag_timeout = fn error, repo, prefix, version ->
  kind =
    case error do
      %{postgres: %{code: :lock_not_available}} ->
        "lock"

      %MatchError{term: {:error, %{postgres: %{code: :lock_not_available}}}} ->
        "lock"

      %{postgres: %{code: :query_canceled, message: message}} ->
        if(statement_cancel?.(message), do: "statement")

      _ ->
        nil
    end

  if kind do
    mode = transaction_mode.(repo, version)
    say.("kmigrate:timeout", [inspect(repo), prefix || "", version, kind, mode])
  end
end
