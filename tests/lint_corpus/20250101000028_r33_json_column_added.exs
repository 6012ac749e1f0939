# kmigrate lint expects: json_column_added
defmodule Corpus.Repo.Migrations.R33JsonColumnAdded do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :meta, :json
    end
  end
end
