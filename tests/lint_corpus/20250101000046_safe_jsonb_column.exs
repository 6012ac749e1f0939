# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeJsonbColumn do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :meta, :map
    end
  end
end
