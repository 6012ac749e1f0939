# `migrate` and `rollback`, second part: what the range selects, said before anything
# runs. kmigrate writes the bindings `direction` (`:up` or `:down`) and `range` (`:all`,
# `{:step, n}`, `{:to, version}`, `{:to_exclusive, version}`, or for a rollback `{:exactly, versions}`: the versions its
# preview showed, newest first).

# As `Ecto.Migrator.run/4` selects (`pending_all/3`, `pending_step/4`, `pending_to/4`,
# `pending_to_exclusive/4`) from
# a status sorted by version: up takes the pending files, oldest first; down takes the
# applied versions that have a file, newest first.
pending = fn rows -> for {:down, v, n} <- rows, do: {v, n} end

applied = fn rows ->
  Enum.reverse(for {:up, v, n} <- rows, n != "** FILE NOT FOUND **", do: {v, n})
end

select = fn rows ->
  case {direction, range} do
    {:up, :all} ->
      pending.(rows)

    {:up, {:step, count}} ->
      Enum.take(pending.(rows), count)

    {:up, {:to, to}} ->
      for {:down, v, n} <- rows, v <= to, do: {v, n}

    {:up, {:to_exclusive, to}} ->
      for {:down, v, n} <- rows, v < to, do: {v, n}

    {:down, :all} ->
      applied.(rows)

    {:down, {:step, count}} ->
      Enum.take(applied.(rows), count)

    {:down, {:to, to}} ->
      Enum.reverse(for {:up, v, n} <- rows, n != "** FILE NOT FOUND **", v >= to, do: {v, n})

    {:down, {:to_exclusive, to}} ->
      Enum.reverse(for {:up, v, n} <- rows, n != "** FILE NOT FOUND **", v > to, do: {v, n})

    {:down, {:exactly, shown}} ->
      for v <- shown, {^v, n} <- applied.(rows), do: {v, n}
  end
end

todo = for {repo, prefix, rows} <- plans, do: {repo, prefix, select.(rows)}

# Two files of one version, or one name at two versions, among what would run: refused
# before anything runs, as `Ecto.Migrator.run/4` refuses them (`ensure_no_duplication!/1`).
for {_, _, selected} <- todo do
  Enum.reduce(selected, {[], []}, fn {version, name}, {versions, names} ->
    cond do
      version in versions ->
        refuse.("migrations can't be executed, migration version #{version} is duplicated")

      name in names ->
        refuse.("migrations can't be executed, migration name #{name} is duplicated")

      true ->
        {[version | versions], [name | names]}
    end
  end)
end

# A rollback told the exact versions a person saw reverts those or nothing: if one of them
# is no longer applied (another run reverted it meanwhile), say which still are, and stop.
with {:exactly, shown} <- range do
  still = for {_, _, selected} <- todo, {version, _} <- selected, do: version

  if still != shown do
    say.("kmigrate:changed", [Enum.join(still, ",")])
    raise "kmigrate: nothing was run: the migrations to revert changed after they were shown"
  end
end

for {repo, prefix, selected} <- todo, {version, name} <- selected do
  say.("kmigrate:plan", [inspect(repo), prefix || "", version, name])
end

# Who holds Ecto's migration lock now: the run will wait for it.
for {repo, prefix, selected} <- todo, selected != [] do
  {:ok, holders, _} = Ecto.Migrator.with_repo(repo, &lock_holders.(&1, prefix))
  print_lock_holders.(repo, prefix, holders)
end
