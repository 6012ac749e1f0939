# kmigrate lint expects: table_rewritten
defmodule Corpus.Repo.Migrations.R31GeneratedStored do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :title_length, :integer, generated: "ALWAYS AS (length(title)) STORED"
    end
  end
end
