# kmigrate lint expects: column_reference_added
defmodule Corpus.Repo.Migrations.R21ColumnReferenceAdded do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :author_id, references(:users)
    end
  end
end
