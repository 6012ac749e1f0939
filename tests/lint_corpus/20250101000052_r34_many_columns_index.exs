# kmigrate lint expects: index_not_concurrently many_columns_index
defmodule Corpus.Repo.Migrations.R34ManyColumnsIndex do
  use Ecto.Migration

  def change do
    create index(:events, [:account_id, :kind, :source, :inserted_at])
  end
end
