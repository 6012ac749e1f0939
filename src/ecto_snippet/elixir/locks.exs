# Who holds Ecto's migration lock of a repo and prefix, read from `pg_locks`: the
# `LOCK TABLE ... IN SHARE UPDATE EXCLUSIVE MODE` of
# `Ecto.Adapters.Postgres.lock_for_migrations/3` (the default), or its advisory lock
# (`migration_lock: :pg_advisory_lock`), keyed by `:erlang.phash2({:ecto, prefix, repo})`.
# With a `:migration_repo` the lock is that repo's, in its database
# (`Ecto.Migrator.lock_for_migrations/4` locks on the migration repo's meta).
# `pg_locks` lists the locks of every database of the server, and the advisory key holds no
# database: only this database's locks are the repo's (staging and production on one server
# use the same key).
# Before ecto_sql 3.7.1 the table lock ignored the prefix: its holder is on the default
# schema's table whatever the prefix (the advisory key has held the prefix since 3.9.0,
# when it came).
# `ShareUpdateExclusiveLock` on the table is not Ecto's alone: autovacuum, `VACUUM`,
# `ANALYZE` and `CREATE INDEX CONCURRENTLY` take it too, and are no migration. Only a session
# a user opened counts (autovacuum has no user, which a role without `pg_read_all_stats`
# sees as it sees other roles' sessions: without a `backend_type`), and not one whose current
# or last statement is such maintenance; a `LOCK TABLE` in a console still counts, as it is
# Ecto's own statement.
lock_holders = fn repo, prefix ->
  holder = versions_repo.(repo)
  key = :erlang.phash2({:ecto, prefix, holder})
  locked = migrations_table.(repo, if(older_ecto_sql.(:prefix_lock), do: nil, else: prefix))

  holder.query!(
    "SELECT l.pid, coalesce(a.application_name, ''), " <>
      "coalesce(to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS'), '') " <>
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid " <>
      "WHERE l.granted AND l.pid <> pg_backend_pid() " <>
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) " <>
      "AND a.usesysid IS NOT NULL AND coalesce(a.backend_type, 'client backend') = 'client backend' " <>
      "AND ((l.locktype = 'relation' AND l.mode = 'ShareUpdateExclusiveLock' " <>
      "AND l.relation = to_regclass(#{sql_text.(locked)}) " <>
      "AND coalesce(a.query, '') !~* " <>
      "'^[[:space:]]*(vacuum|analy[sz]e|create[[:space:]]+(unique[[:space:]]+)?index|reindex)') " <>
      "OR (l.locktype = 'advisory' AND l.classid = 0 AND l.objid = #{key} AND l.objsubid = 1))",
    [],
    timeout: :infinity
  ).rows
end

print_lock_holders = fn repo, prefix, rows ->
  for [pid, application, since] <- rows do
    say.("kmigrate:locked", [inspect(repo), prefix || "", pid, application, since])
  end
end

# A `CREATE INDEX CONCURRENTLY` that fails or is cancelled (a `@disable_ddl_transaction`
# migration, a statement timeout) leaves its index behind, marked invalid: PostgreSQL keeps
# maintaining it and never uses it, and `create_if_not_exists`/`IF NOT EXISTS` then keeps
# it for ever. An index being built concurrently right now is invalid too until it ends.
invalid_indexes = fn repo, prefix ->
  schema = if prefix, do: sql_text.(prefix), else: "current_schema()"

  repo.query!(
    "SELECT c.relnamespace::regnamespace::text, c.relname, t.relname FROM pg_index i " <>
      "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid " <>
      "WHERE NOT i.indisvalid AND c.relnamespace = to_regnamespace(#{schema}) ORDER BY 2",
    [],
    timeout: :infinity
  ).rows
end

print_invalid_indexes = fn repo, prefix, rows ->
  for [schema, index, table] <- rows do
    say.("kmigrate:invalidindex", [inspect(repo), prefix || "", schema, index, table])
  end
end
