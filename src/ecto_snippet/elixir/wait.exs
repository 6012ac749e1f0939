# The schema gate: wait until the database holds every migration of this image, reading as
# `status` does (`status_rows`: no lock, no table created, nothing changed). kmigrate
# writes the bindings `deadline_ms`, `round_ms`, `poll_ms` and `pending_exit_code`.

# A repo of another adapter is left out, and said.
say_skipped.()

# Each repo is started once, for the whole wait (`Ecto.Migrator.with_repo/3`, nested).
in_repos = fn in_repos, repos, fun ->
  case repos do
    [] ->
      fun.()

    [repo | rest] ->
      {:ok, result, _} = Ecto.Migrator.with_repo(repo, fn _ -> in_repos.(in_repos, rest, fun) end)

      result
  end
end

# What is missing (`down`), and what the database has without a file here (it is ahead:
# that does not block).
gap = fn ->
  for prefix <- prefixes,
      repo <- repos,
      {state, version, name} <- status_rows.(repo, prefix),
      state == :down or name == "** FILE NOT FOUND **",
      do: {repo, prefix, state, version, name}
end

# A round: the gap's lines, then the round's `kmigrate:wait` line.
print_round = fn rows, state, elapsed ->
  for {repo, prefix, s, version, name} <- rows do
    say.("kmigrate:status", [inspect(repo), prefix || "", s, version, name])
  end

  say.("kmigrate:wait", [state, div(elapsed, 1000)])
end

# Read every `poll_ms`; print a round when the wait starts, every `round_ms` while it
# waits, and when it ends.
started = System.monotonic_time(:millisecond)

poll = fn poll, said_at ->
  rows = gap.()
  elapsed = System.monotonic_time(:millisecond) - started

  cond do
    not Enum.any?(rows, &(elem(&1, 2) == :down)) ->
      print_round.(rows, "ready", elapsed)
      :ready

    elapsed >= deadline_ms ->
      print_round.(rows, "deadline", elapsed)
      :deadline

    true ->
      said_at =
        if said_at == nil or elapsed - said_at >= round_ms do
          print_round.(rows, "waiting", elapsed)
          elapsed
        else
          said_at
        end

      Process.sleep(min(poll_ms, deadline_ms - elapsed))
      poll.(poll, said_at)
  end
end

# At the deadline the VM exits with `pending_exit_code`, so that an init container fails
# there too and the kubelet runs it again.
if in_repos.(in_repos, repos, fn -> poll.(poll, nil) end) == :deadline do
  exit({:shutdown, pending_exit_code})
end
