# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeNotNullWithDefault do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :status, :string, null: false, default: "draft"
    end
  end
end
