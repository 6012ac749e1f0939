# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeReferenceNotValidated do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :author_id, references(:users, validate: false)
    end
  end
end
