# What `plan` and a migrate held to a plan (`--plan HASH`) share: the pending migrations
# with their files, and the plan hash over them.

digest = fn data -> Base.encode16(:crypto.hash(:sha256, data), case: :lower) end

# `{repo, prefix, status rows}` to each pending migration as
# `{repo, prefix, version, name, file, bytes, sha256}`. A version must have exactly one
# file, as Ecto's `ensure_no_duplication!/1` demands.
pending_files = fn plans ->
  for {repo, prefix, rows} <- plans, {:down, version, name} <- rows do
    files =
      for dir <- migration_paths.(repo),
          file <- Path.wildcard(Path.join([dir, "**", "#{version}_*.exs"])),
          Path.basename(file) == "#{version}_#{name}.exs",
          do: file

    if length(files) != 1 do
      raise(
        "kmigrate: migration #{version} of " <> inspect(repo) <> " has #{length(files)} files"
      )
    end

    [file] = files
    data = File.read!(file)
    {repo, prefix, version, name, file, data, digest.(data)}
  end
end

# The plan hash, as src/migration_plan/hash.rs computes it again from the lines printed.
plan_hash = fn entries ->
  digest.([
    "kmigrate-plan-v1\n"
    | for {repo, prefix, version, name, _, _, sha256} <- entries do
        [inspect(repo), "\t", prefix || "", "\t", Integer.to_string(version), "\t"] ++
          [name, "\t", sha256, "\n"]
      end
  ])
end
