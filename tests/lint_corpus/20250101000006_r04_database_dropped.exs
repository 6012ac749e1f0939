# kmigrate lint expects: raw_sql_executed database_dropped
defmodule Corpus.Repo.Migrations.R04DatabaseDropped do
  use Ecto.Migration
  @disable_ddl_transaction true

  def up do
    execute "DROP DATABASE old_reports"
  end
end
