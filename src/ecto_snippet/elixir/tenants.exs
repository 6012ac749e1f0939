# `--prefixes-from`: the prefixes are the names that a query returns, read on the first
# repo in a read-only transaction. The query arrives as hexadecimal digits
# (`tenant_query_hex`), never as Elixir text. A failing query refuses the run.
tenant_rows =
  try do
    {:ok, rows, _} =
      Ecto.Migrator.with_repo(hd(repos), fn repo ->
        {:ok, rows} =
          repo.transaction(fn ->
            repo.query!("SET TRANSACTION READ ONLY")
            repo.query!(Base.decode16!(tenant_query_hex)).rows
          end)

        rows
      end)

    rows
  rescue
    e ->
      reason = String.replace(Exception.message(e), ~r/\s+/, " ")
      say.("kmigrate:refused", ["the --prefixes-from query failed: " <> reason])
      reraise e, __STACKTRACE__
  end

# A name is kept only if it passes the rule kmigrate applies to `--prefix` (`\A` and `\z`:
# `$` would let a trailing newline through); the others are reported, not run.
valid_prefix = fn name ->
  valid = is_binary(name) and byte_size(name) <= 63 and name =~ ~r/\A[a-z_][a-z0-9_]*\z/
  unless valid, do: say.("kmigrate:invalid", [inspect(name)])
  valid
end

prefixes = tenant_rows |> Enum.map(&List.first/1) |> Enum.uniq() |> Enum.filter(valid_prefix)
