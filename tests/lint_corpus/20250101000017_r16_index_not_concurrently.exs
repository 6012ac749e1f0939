# kmigrate lint expects: index_not_concurrently
defmodule Corpus.Repo.Migrations.R16IndexNotConcurrently do
  use Ecto.Migration

  def change do
    create index(:posts, [:title])
  end
end
