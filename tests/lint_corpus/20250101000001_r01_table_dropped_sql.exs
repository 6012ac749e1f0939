# kmigrate lint expects: raw_sql_executed table_dropped
defmodule Corpus.Repo.Migrations.R01TableDroppedSql do
  use Ecto.Migration

  def up do
    execute "DROP TABLE IF EXISTS legacy_notes CASCADE"
  end
end
