# `--to` and `--to-exclusive` must name a migration of the chosen repos: `Ecto.Migrator.run/4`
# selects with `pending_to/4` and `pending_to_exclusive/4`, a `take_while`, so a typo would
# silently run everything up to (or down from) it.
{_, to} = range

unless Enum.any?(plans, fn {_, _, rows} -> Enum.any?(rows, fn {_, v, _} -> v == to end) end) do
  refuse.("version #{to} is not a migration of " <> Enum.map_join(repos, ", ", &inspect/1))
end
