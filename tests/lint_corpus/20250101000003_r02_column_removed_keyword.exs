# kmigrate lint expects: column_removed
defmodule Corpus.Repo.Migrations.R02ColumnRemovedKeyword do
  use Ecto.Migration

  def change do
    alter table(:posts), do: remove(:body)
  end
end
