# kmigrate lint expects: column_type_changed not_null_removed
defmodule Corpus.Repo.Migrations.R09NotNullRemoved do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :title, :string, null: true
    end
  end
end
