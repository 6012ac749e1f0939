# Whether a repo's sessions carry the run-time parameters kmigrate asked for (`parameters`,
# a keyword list of strings, as Postgrex's `:parameters`). Behind PgBouncer they may not:
# it refuses a startup parameter it does not track ("unsupported startup parameter", every
# connection fails) or, listed in its `ignore_startup_parameters`, accepts it and drops it,
# silently. So a session of the repo reads what is in force, in the units kmigrate sent
# (`pg_settings.setting`: milliseconds for the timeouts). The answer is `:ok`,
# `{:refused, parameter}` or `{:unset, [{name, asked, in_force}]}`. Postgrex itself raises
# only DBConnection's queue error when no connection opens; its log line "failed to
# connect: ... unsupported startup parameter" is what kmigrate reads then.
session_check = fn repo, parameters ->
  asked = Map.new(parameters, fn {name, value} -> {to_string(name), to_string(value)} end)
  names = Enum.map_join(Map.keys(asked), ", ", &("'" <> &1 <> "'"))

  try do
    in_force =
      repo.query!("SELECT name, setting FROM pg_settings WHERE name IN (#{names})").rows
      |> Map.new(fn [name, setting] -> {name, setting} end)

    unset =
      for {name, value} <- asked, in_force[name] != value, do: {name, value, in_force[name] || ""}

    if unset == [], do: :ok, else: {:unset, unset}
  rescue
    e ->
      case Regex.run(~r/unsupported startup parameter:?\s+(\S+)/, Exception.message(e)) do
        [_, parameter] -> {:refused, parameter}
        nil -> reraise e, __STACKTRACE__
      end
  end
end

# Postgrex's `:parameters` of a repo, with `parameters` put over them, for the repo's next
# start (`Ecto.Migrator.with_repo/3` starts it with the config of that moment).
put_parameters = fn repo, parameters ->
  otp_app = repo.config()[:otp_app]
  config = Application.get_env(otp_app, repo, [])
  merged = Keyword.merge(Keyword.get(config, :parameters, []), parameters)
  Application.put_env(otp_app, repo, Keyword.put(config, :parameters, merged))
end
