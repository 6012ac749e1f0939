# kmigrate lint expects: not_null_added
defmodule Corpus.Repo.Migrations.R28NotNullWithoutDefault do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :status, :string, null: false
    end
  end
end
