# kmigrate lint expects: column_removed
defmodule Corpus.Repo.Migrations.R02ColumnRemoved do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      remove :body
    end
  end
end
