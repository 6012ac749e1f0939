# kmigrate lint expects: table_dropped
defmodule Corpus.Repo.Migrations.R01TableDropped do
  use Ecto.Migration

  def change do
    drop table(:legacy_notes)
  end
end
