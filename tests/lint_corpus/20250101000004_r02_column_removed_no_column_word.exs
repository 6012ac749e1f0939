# kmigrate lint expects: raw_sql_executed column_removed
defmodule Corpus.Repo.Migrations.R02ColumnRemovedNoColumnWord do
  use Ecto.Migration

  def up do
    execute "ALTER TABLE posts DROP body"
  end
end
