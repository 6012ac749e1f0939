# kmigrate lint expects: column_type_changed not_null_added
defmodule Corpus.Repo.Migrations.R27NotNullAdded do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :title, :string, null: false
    end
  end
end
