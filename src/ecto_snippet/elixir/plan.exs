# `plan`: the pending migrations of each prefix and repo, how Ecto will run each, their
# files' bytes and the plan hash. It reads and loads; it runs nothing. kmigrate writes the
# bindings `source_chunk` and `load_migrations`.
# A pending migration older than the newest applied one runs out of order: Ecto's `run/4`
# applies it without a word (`up/4` warns), and a later `rollback --step` reverts the newest
# first. Where there are such, the newest applied version is said.
# With the repo started, what the pending files name is read from its catalog
# (impact.exs).
# A repo of another adapter is left out, and said.
say_skipped.()

entries =
  Enum.flat_map(prefixes, fn prefix ->
    Enum.flat_map(repos, fn repo ->
      {:ok, pending, _} =
        Ecto.Migrator.with_repo(repo, fn repo ->
          rows = status_rows.(repo, prefix)
          newest = Enum.max([0 | for({:up, v, _} <- rows, do: v)])

          if Enum.any?(rows, &match?({:down, v, _} when v < newest, &1)) do
            say.("kmigrate:newest", [inspect(repo), prefix || "", newest])
          end

          pending = pending_files.([{repo, prefix, rows}])

          if pending != [] do
            print_impact.(repo, prefix, table_words.(for(e <- pending, do: elem(e, 5))))
          end

          pending
        end)

      pending
    end)
  end)

# In a VM of its own (`eval`), each file is loaded as `Ecto.Migrator`'s `load_migration!/1`
# loads it (`Code.compile_file/1`, then the module for which `migration?/1` holds) to read
# `__migration__/0`: whether it runs in a transaction and under the migration lock. Loading
# runs the module's body, as Ecto's own loading does; no migration function is called.
# In `rpc` the snippet runs inside the live app, and loading there would run a module's
# body before anyone confirmed, and keep it loaded if they decline: there the two module
# attributes `__migration__/0` reports are read from the source as they are written, and
# the module's name from its `defmodule` line. Nothing is compiled.
read_from_source = fn file ->
  source = File.read!(file)

  module =
    case Regex.run(~r/^\s*defmodule\s+([\w.]+)\s+do/m, source) do
      [_, name] -> name
      _ -> ""
    end

  {module,
   [
     disable_ddl_transaction: source =~ ~r/^\s*@disable_ddl_transaction\s+true\b/m,
     disable_migration_lock: source =~ ~r/^\s*@disable_migration_lock\s+true\b/m
   ]}
end

loaded =
  Map.new(Enum.uniq(for({_, _, _, _, file, _, _} <- entries, do: file)), fn file ->
    if load_migrations do
      module =
        Enum.find(
          Enum.map(Code.compile_file(file), &elem(&1, 0)),
          &(Code.ensure_loaded?(&1) and function_exported?(&1, :__migration__, 0))
        )

      {file,
       {if(module, do: inspect(module), else: ""),
        if(module, do: module.__migration__(), else: [])}}
    else
      {file, read_from_source.(file)}
    end
  end)

for {repo, prefix, version, name, file, _, sha256} <- entries do
  {module, info} = loaded[file]

  say.("kmigrate:pending", [
    inspect(repo),
    prefix || "",
    version,
    name,
    module,
    if(info[:disable_ddl_transaction], do: "notx", else: "tx"),
    if(info[:disable_migration_lock], do: "nolock", else: "lock"),
    sha256,
    Path.relative_to(file, Application.app_dir(app))
  ])
end

# Each distinct file's bytes, once, as hexadecimal in parts of `source_chunk` bytes: no
# line outgrows what kmigrate reads.
chunks = fn
  "" ->
    [""]

  data ->
    for i <- 0..div(byte_size(data) - 1, source_chunk) do
      binary_part(data, i * source_chunk, min(source_chunk, byte_size(data) - i * source_chunk))
    end
end

for {_, _, _, _, _, data, sha256} <- Enum.uniq_by(entries, &elem(&1, 6)) do
  parts = chunks.(data)

  for {part, i} <- Enum.with_index(parts) do
    say.("kmigrate:source", [sha256, i, length(parts), Base.encode16(part, case: :lower)])
  end
end

say.("kmigrate:planhash", [plan_hash.(entries)])
