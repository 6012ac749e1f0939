# What the pending migrations touch, read from the catalog: the size of each table they
# name, and the sessions that hold (or wait for) a lock on it now.
#
# No read takes a lock that could queue behind the migration's tables: `pg_class`,
# `pg_index` and `pg_namespace` are read by name and oid (a catalog scan, no relation
# lock on the tables), and the sizes are `relpages` (as of the last VACUUM, ANALYZE or
# CREATE INDEX) times the block size, never `pg_total_relation_size/1`, which opens the
# table with an AccessShareLock (dbsize.c) and so waits behind an ACCESS EXCLUSIVE.
# `pg_locks` and `pg_stat_activity` take no heavyweight lock.

# The candidate table names of some migration files: every identifier in them, lowercased
# (PostgreSQL folds unquoted names, and Ecto's `table(:posts)` is lowercase), at most 2000.
table_words = fn datas ->
  datas
  |> Enum.flat_map(&Regex.scan(~r/[A-Za-z_][A-Za-z0-9_]{0,62}/, &1))
  |> Enum.map(fn [w] -> String.downcase(w) end)
  |> Enum.uniq()
  |> Enum.take(2000)
end

# The tables of the repo's schema (the prefix, else the session's current schema) among
# `words`, with their estimated rows and bytes (the table, its TOAST table and every index
# of both), then the other sessions holding or waiting for a lock on one of them.
print_impact = fn repo, prefix, words ->
  names = "ARRAY[" <> Enum.map_join(words, ",", sql_text) <> "]::name[]"
  schema = if prefix, do: sql_text.(prefix), else: "current_schema()"

  tables =
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " <>
      "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname = #{schema} AND c.relname = ANY(#{names})"

  for [nsp, rel, rows, bytes] <-
        repo.query!(
          "SELECT n.nspname, c.relname, c.reltuples::bigint::text, " <>
            "((SELECT coalesce(sum(r.relpages), 0) FROM pg_class r " <>
            "WHERE r.oid IN (c.oid, c.reltoastrelid) OR r.oid IN " <>
            "(SELECT x.indexrelid FROM pg_index x WHERE x.indrelid IN (c.oid, c.reltoastrelid))) " <>
            "* current_setting('block_size')::bigint)::text " <> tables,
          [],
          timeout: :infinity
        ).rows do
    say.("kmigrate:table", [inspect(repo), prefix || "", nsp, rel, rows, bytes])
  end

  for [rel, pid, mode, granted, application, state, seconds, query] <-
        repo.query!(
          "SELECT c.relname, l.pid::text, l.mode, " <>
            "CASE WHEN l.granted THEN 'granted' ELSE 'waiting' END, " <>
            "coalesce(a.application_name, ''), coalesce(a.state, ''), " <>
            "coalesce(extract(epoch FROM now() - a.xact_start)::bigint::text, ''), " <>
            statement_head.("a.query") <>
            " FROM pg_locks l JOIN pg_class c ON c.oid = l.relation " <>
            "JOIN pg_namespace n ON n.oid = c.relnamespace " <>
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid " <>
            "WHERE l.locktype = 'relation' AND l.pid <> pg_backend_pid() " <>
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " <>
            "AND c.relkind IN ('r', 'p', 'm') AND n.nspname = #{schema} " <>
            "AND c.relname = ANY(#{names}) ORDER BY a.xact_start, l.pid",
          [],
          timeout: :infinity
        ).rows do
    say.("kmigrate:holder", [
      inspect(repo),
      prefix || "",
      rel,
      pid,
      mode,
      granted,
      application,
      state,
      seconds,
      query
    ])
  end
end
