# `status`: every migration's state in each prefix and repo, who holds Ecto's migration
# lock, the sessions of other runs still in the database, and the invalid indexes. A repo of
# another adapter is left out, and said.
say_skipped.()

for prefix <- prefixes, repo <- repos do
  {:ok, {rows, holders, others, invalid}, _} =
    Ecto.Migrator.with_repo(repo, fn r ->
      {status_rows.(r, prefix), lock_holders.(r, prefix), other_runs.(r),
       invalid_indexes.(r, prefix)}
    end)

  print_invalid_indexes.(repo, prefix, invalid)

  for {state, version, name} <- rows do
    say.("kmigrate:status", [inspect(repo), prefix || "", state, version, name])
  end

  print_lock_holders.(repo, prefix, holders)
  print_other_runs.(repo, others)
end
