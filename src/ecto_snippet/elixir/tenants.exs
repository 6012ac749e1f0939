# `--prefixes-from`: the prefixes are the names that a query returns, read on the first
# repo in a read-only transaction. The query arrives as hexadecimal digits
# (`tenant_query_hex`), never as Elixir text. A failing query refuses the run, and so does
# one that returns no names, unless `allow_no_tenants`: a typo in the query looks the same.
# It may take long (a catalog of thousands of schemas, a slow view): DBConnection's default
# 15 s checkout `:timeout` (`DBConnection.Holder`'s `@timeout`) would close its connection,
# so it has none; the run's `--statement-timeout`, when given, still bounds it.
tenant_rows =
  try do
    {:ok, rows, _} =
      Ecto.Migrator.with_repo(hd(repos), fn repo ->
        {:ok, rows} =
          repo.transaction(
            fn ->
              repo.query!("SET TRANSACTION READ ONLY", [], timeout: :infinity)
              repo.query!(Base.decode16!(tenant_query_hex), [], timeout: :infinity).rows
            end,
            timeout: :infinity
          )

        rows
      end)

    rows
  rescue
    e ->
      reason = String.replace(Exception.message(e), ~r/\s+/, " ")
      say.("kmigrate:refused", ["the --prefixes-from query failed: " <> reason])
      reraise e, __STACKTRACE__
  end

# A name is kept only if it passes the rule kmigrate applies to `--prefix`: 1 to 63 bytes of
# valid UTF-8, no `"` (Ecto's `quote_name/1` refuses it) and no control character; the
# others are reported, not run.
valid_prefix = fn name ->
  valid =
    is_binary(name) and String.valid?(name) and byte_size(name) in 1..63 and
      not (name =~ ~r/["\x{0}-\x{1F}\x{7F}-\x{9F}]/u)

  unless valid, do: say.("kmigrate:invalid", [inspect(name)])
  valid
end

prefixes = tenant_rows |> Enum.map(&List.first/1) |> Enum.uniq() |> Enum.filter(valid_prefix)

if prefixes == [] and not allow_no_tenants do
  refuse.(
    "the --prefixes-from query returned no tenants (#{length(tenant_rows)} row(s)); " <>
      "check it, or pass --allow-no-tenants when none is expected"
  )
end
