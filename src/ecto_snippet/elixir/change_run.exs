# `migrate` and `rollback`, last part: run what was planned, one migration per
# `Ecto.Migrator.run/4` call with `to:`, and a `kmigrate:ran` line after each, so that what
# was applied is known from these lines and not from Ecto's log (which the app's level and
# formatter decide), also when a later migration raises. kmigrate writes the bindings
# `log_sql`, `canaries`, `concurrency`, `keep_going` and `pool_size`.
#
# The run goes tenant by tenant: a tenant is a prefix, across every repo (without prefixes
# there is one, `nil`). Canaries go first, one at a time; then the rest, `concurrency` at a
# time (Tasks).
halt = :atomics.new(1, [])

# `--log-sql`: `run/4` reads `log_migrations_sql:` since ecto_sql 3.7.1, `log_sql:` before.
run_options =
  cond do
    not log_sql -> []
    older_ecto_sql.(:log_migrations_sql) -> [log_sql: :info]
    true -> [log_migrations_sql: :info]
  end

prefixes = canaries ++ (prefixes -- canaries)

work = fn prefix ->
  for {repo, ^prefix, selected} <- todo, selected != [], do: {repo, selected}
end

# Each migration file is compiled once, here, and run as `{version, module}` (`run/4`
# takes either): Ecto would compile the file at every `run/4`, and two tenants compiling
# the same module at once fail ("cannot define module ... because it is currently being
# defined"); one after the other they print "redefining module".
#
# The file is the one the status named, `VERSION_NAME.exs`, as `Ecto.Migrator`'s
# `migrations_for/1` and `extract_migration_info/1` find it: never a `.ex` beside it (Ecto
# skips those with a warning), and never another file of the version (refused above). It
# is the file `plan` hashed.
load = fn repo, version, name ->
  files =
    for dir <- migration_paths.(repo),
        file <- Path.wildcard(Path.join([dir, "**", "#{version}_*.exs"])),
        Path.basename(file) == "#{version}_#{name}.exs",
        do: file

  file =
    case files do
      [file] -> file
      _ -> raise "kmigrate: migration #{version} #{name} has #{length(files)} files"
    end

  {version,
   Enum.find(
     Enum.map(Code.compile_file(file), &elem(&1, 0)),
     &function_exported?(&1, :__migration__, 0)
   ) || raise("file " <> file <> " does not define an Ecto.Migration")}
end

modules =
  Map.new(
    for(
      {repo, _, selected} <- todo,
      {version, name} <- selected,
      uniq: true,
      do: {repo, version, name}
    ),
    fn {repo, version, name} -> {{repo, version}, load.(repo, version, name)} end
  )

for prefix <- prefixes, prefix do
  count = Enum.sum(for {_, selected} <- work.(prefix), do: length(selected))
  say.("kmigrate:tenant", [prefix, "pending", count])
end

# Whether a migration whose `run/4` raised is in the state it was run to anyway, read back
# from the migrations table on a connection of its own. A failed read says no: the raise
# stands as it is.
took_effect = fn repo, prefix, version ->
  try do
    %{rows: [[found]]} =
      versions_repo.(repo).query!(
        "SELECT EXISTS (SELECT 1 FROM #{migrations_table.(repo, prefix)} " <>
          "WHERE version = #{version})"
      )

    applied = found in [true, "t"]
    if direction == :up, do: applied, else: not applied
  catch
    _, _ -> false
  end
end

# One tenant. Its failure is caught and tagged, and stops the tenants not started yet
# unless `keep_going` (a canary's always does); tenants already running finish. Alone
# (`solo`) it has a watcher of its own, so its lock waits carry its prefix; tenants at once
# share one per repo.
migrate_tenant = fn prefix, solo ->
  tenant_work = work.(prefix)

  cond do
    tenant_work == [] ->
      :ok

    :atomics.get(halt, 1) == 1 ->
      if prefix, do: say.("kmigrate:tenant", [prefix, "not-run"])
      :ok

    true ->
      Process.delete(:kmigrate_v)

      try do
        for {repo, selected} <- tenant_work do
          watcher = if(solo, do: watch.(repo, prefix))

          try do
            for {version, _} <- selected do
              Process.put(:kmigrate_v, version)

              ran =
                try do
                  Ecto.Migrator.run(
                    repo,
                    [modules[{repo, version}]],
                    direction,
                    [to: version] ++ run_options ++ if(prefix, do: [prefix: prefix], else: [])
                  )
                rescue
                  e ->
                    tag_timeout.(e, repo, prefix, version)

                    # The migration may have taken effect before the raise (its lock
                    # session ended by the server, as `idle_in_transaction_session_timeout`
                    # does, after it committed): what the table says is what ran.
                    if took_effect.(repo, prefix, version) do
                      say.("kmigrate:ran", [inspect(repo), prefix || "", version])

                      # On the group leader: in `rpc` the node's own stderr is not the caller's.
                      IO.puts(
                        "note: migration #{version} took effect (#{inspect(repo)}'s " <>
                          "migrations table says so); the error below came after it"
                      )
                    end

                    # Outside a transaction a failed or cancelled concurrent build leaves
                    # its index invalid: say which, so it is dropped before the next run.
                    if transaction_mode.(repo, version) == "notx" do
                      try do
                        print_invalid_indexes.(repo, prefix, invalid_indexes.(repo, prefix))
                      catch
                        _, _ -> :ok
                      end
                    end

                    reraise e, __STACKTRACE__
                end

              say.("kmigrate:ran", [inspect(repo), prefix || "", Enum.join(ran, ",")])
            end
          after
            if watcher, do: send(watcher, :stop)
          end
        end

        if prefix, do: say.("kmigrate:tenant", [prefix, "done"])
        :ok
      catch
        kind, error ->
          stacktrace = __STACKTRACE__

          if prefix do
            banner = Exception.format_banner(kind, error, stacktrace)
            reason = String.replace(String.trim_leading(banner, "** "), ~r/\s+/, " ")
            version = Process.get(:kmigrate_v)
            say.("kmigrate:tenant", [prefix, "failed", version, String.slice(reason, 0, 400)])
          end

          if not keep_going or prefix in canaries, do: :atomics.put(halt, 1, 1)
          {kind, error, stacktrace}
      end
  end
end

rest = prefixes -- canaries
busy = Enum.uniq(for {repo, _, selected} <- todo, selected != [], do: repo)

run_tenants = fn ->
  canary_results = Enum.map(canaries, &migrate_tenant.(&1, true))

  rest_results =
    if concurrency < 2 or length(rest) < 2 do
      Enum.map(rest, &migrate_tenant.(&1, true))
    else
      watchers = Enum.map(busy, &watch.(&1, nil))

      try do
        Enum.map(
          Task.async_stream(rest, &migrate_tenant.(&1, false),
            max_concurrency: concurrency,
            ordered: false,
            timeout: :infinity
          ),
          fn {:ok, result} -> result end
        )
      after
        Enum.each(watchers, &send(&1, :stop))
      end
    end

  canary_results ++ rest_results
end

# Each repo with work is started once, for the whole run (`Ecto.Migrator.with_repo/3`,
# nested), with `pool_size` connections: see `pool_size` in src/ecto_snippet/mod.rs.
run_in_repos =
  Enum.reduce(Enum.reverse(busy), run_tenants, fn repo, inner ->
    fn ->
      {:ok, result, _} = Ecto.Migrator.with_repo(repo, fn _ -> inner.() end, pool_size: pool_size)

      result
    end
  end)

results = run_in_repos.()

# The first failure is raised again at the end, after the others are printed, so that
# the exit code is the one Ecto's raise gives.
case for({_, _, _} = failure <- results, do: failure) do
  [] ->
    :ok

  [{kind, error, stacktrace} | more] ->
    for {k, e, st} <- more, do: IO.puts(:stderr, Exception.format(k, e, st))
    :erlang.raise(kind, error, stacktrace)
end
