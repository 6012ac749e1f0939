# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeNewTableWithIndex do
  use Ecto.Migration

  def change do
    create table(:tags) do
      add :name, :string, null: false
      timestamps()
    end

    create unique_index(:tags, [:name])
  end
end
