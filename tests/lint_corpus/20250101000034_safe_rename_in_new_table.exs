# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeRenameInNewTable do
  use Ecto.Migration

  def change do
    create table(:drafts) do
      add :title, :string
    end

    rename table(:drafts), :title, to: :headline
  end
end
