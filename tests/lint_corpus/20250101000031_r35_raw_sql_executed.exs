# kmigrate lint expects: raw_sql_executed
defmodule Corpus.Repo.Migrations.R35RawSqlExecuted do
  use Ecto.Migration

  def up do
    execute "CREATE EXTENSION IF NOT EXISTS citext"
  end
end
