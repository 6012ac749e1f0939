# Before a migrate or rollback: sessions of another run still in the database mean that
# run is still executing, even if its kmigrate is gone. Refuse, or with `--wait`
# (`wait_for_other_runs`) poll every 5 s until they end, naming them every 30 s.
settle = fn repo ->
  Enum.reduce_while(Stream.repeatedly(fn -> other_runs.(repo) end), 0, fn rows, polls ->
    cond do
      rows == [] ->
        {:halt, polls}

      wait_for_other_runs ->
        if rem(polls, 6) == 0, do: print_other_runs.(repo, rows)
        Process.sleep(5000)
        {:cont, polls + 1}

      true ->
        print_other_runs.(repo, rows)
        reason = "another run is still executing in the database of " <> inspect(repo)
        say.("kmigrate:busy", [reason])
        raise "kmigrate: nothing was run: another run is still executing"
    end
  end)
end

for repo <- repos do
  {:ok, _, _} =
    Ecto.Migrator.with_repo(repo, fn r ->
      check_session.(r)
      keep_idle_lock.(r)
      settle.(r)
    end)
end
