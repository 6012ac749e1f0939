# `migrate` and `rollback`, first part: read the status of every repo and prefix before
# anything runs. A refusal (`refuse`, in the prelude) prints its reason and raises: nothing
# was run.

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
