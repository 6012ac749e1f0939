# A rollback reverts per repo and prefix: with several, `--step` or `--to` would revert in
# each of them.
if length(repos) * length(prefixes) > 1 do
  refuse.(
    "a rollback acts on one repo (and prefix) at a time, and this app has " <>
      Enum.map_join(repos, ", ", &inspect/1) <> ": choose one with --repo"
  )
end
