# kmigrate lint expects: index_not_concurrently
defmodule Corpus.Repo.Migrations.R18IndexDroppedNotConcurrently do
  use Ecto.Migration

  def change do
    drop index(:posts, [:title])
  end
end
