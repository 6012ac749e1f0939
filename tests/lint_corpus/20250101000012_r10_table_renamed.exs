# kmigrate lint expects: table_renamed
defmodule Corpus.Repo.Migrations.R10TableRenamed do
  use Ecto.Migration

  def change do
    rename table(:posts), to: table(:articles)
  end
end
