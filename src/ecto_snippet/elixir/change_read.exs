# `migrate` and `rollback`, first part: read the status of every repo and prefix before
# anything runs. A refusal (`refuse`, in the prelude) prints its reason and raises: nothing
# was run.

# A repo of another adapter among those the run would migrate: refused before anything runs.
# Migrating a release's PostgreSQL repos without the others is a choice someone makes with
# --repo, never one the run makes on its own.
if other_repos != [] do
  refuse.(
    Enum.map_join(other_repos, ", ", &"#{inspect(&1)} uses #{inspect(&1.__adapter__())}") <>
      ", not Ecto.Adapters.Postgres: kmigrate migrates PostgreSQL repos only" <>
      if(repos == [],
        do: "",
        else: "; name the repos to run with --repo (#{Enum.map_join(repos, ", ", &inspect/1)})"
      )
  )
end

# Tenants at once need a migration lock per prefix (ecto_sql 3.7.1): before it, every
# tenant locks the same table, and tenants would wait on one another (or time out).
if concurrency > 1 and tenant_run and older_ecto_sql.(:prefix_lock) do
  refuse.(
    "ecto_sql #{ecto_sql_vsn} takes one migration lock for every tenant (a lock per prefix " <>
      "came with 3.7.1): tenants cannot run at once; run with --concurrency 1, or upgrade ecto_sql"
  )
end

# Each repo is started once to read every prefix: a start per tenant would keep the pod
# silent for minutes with many tenants, and kmigrate takes a long silence for a lost
# connection.
statuses =
  Map.new(repos, fn repo ->
    {:ok, by_prefix, _} =
      Ecto.Migrator.with_repo(repo, fn r -> Map.new(prefixes, &{&1, status_rows.(r, &1)}) end)

    {repo, by_prefix}
  end)

plans = for prefix <- prefixes, repo <- repos, do: {repo, prefix, statuses[repo][prefix]}
