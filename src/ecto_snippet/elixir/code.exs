# The running code's Ecto schemas, asked through Ecto's reflection (`Ecto.Schema`'s
# `__schema__/1,2`): in `plan` the snippet runs in the app's pod, so the modules loaded are
# the code that serves traffic now. The app's own modules and those of the apps it runs with
# that use Ecto (an umbrella's data app) are looked at; an embedded schema (no source) maps
# no table of its own. Each field is printed with its column (`:field_source`), under the
# schema's source and `@schema_prefix`.
# A failure to ask is said, not raised: the plan stands, and kmigrate says the code was not
# looked at rather than that nothing breaks.
try do
  code_apps =
    Enum.filter([app | Application.spec(app, :applications) || []], fn a ->
      a == app or :ecto in (Application.spec(a, :applications) || [])
    end)

  code_schemas =
    for a <- Enum.uniq(code_apps),
        m <- Application.spec(a, :modules) || [],
        Code.ensure_loaded?(m) and function_exported?(m, :__schema__, 2),
        source = m.__schema__(:source),
        is_binary(source),
        do: m

  for m <- code_schemas, f <- m.__schema__(:fields) do
    say.("kmigrate:schema", [
      inspect(m),
      m.__schema__(:source),
      m.__schema__(:prefix) || "",
      f,
      m.__schema__(:field_source, f)
    ])
  end

  say.("kmigrate:code", ["asked", length(code_schemas)])
rescue
  e -> say.("kmigrate:code", ["failed", String.replace(Exception.message(e), ~r/\s+/, " ")])
end
