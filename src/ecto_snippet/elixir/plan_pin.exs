# A migrate held to a plan (`--plan HASH`, the binding `planned_hash`): after the status of
# every repo is read and before anything runs, the plan hash is computed again, in this VM,
# from what this run is about to do. Another hash refuses the run.
now = plan_hash.(pending_files.(plans))

if now != planned_hash do
  say.("kmigrate:stale", [now])

  raise "kmigrate: nothing was run: the pending migrations or their files are not those of plan " <>
          planned_hash
end
