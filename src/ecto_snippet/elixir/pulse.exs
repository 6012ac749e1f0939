# A heartbeat every `heartbeat_s` seconds (a binding kmigrate writes), from right after the
# app is loaded: starting the repos, settling, reading the status of every tenant, naming
# the lock holders and compiling a plan's files can print nothing for minutes, and
# kmigrate takes a long silence for a lost connection. It ends with the snippet's process,
# or when a migration's watcher (`watch`) takes over.
snippet = self()

pulse =
  spawn(fn ->
    ref = Process.monitor(snippet)

    beat = fn beat, seconds ->
      receive do
        :stop -> :ok
        {:DOWN, ^ref, _, _, _} -> :ok
      after
        heartbeat_s * 1000 ->
          say.("kmigrate:heartbeat", [seconds + heartbeat_s])
          beat.(beat, seconds + heartbeat_s)
      end
    end

    beat.(beat, 0)
  end)
