# kmigrate lint expects: raw_sql_executed operation_delete
defmodule Corpus.Repo.Migrations.R06OperationDeleteSql do
  use Ecto.Migration

  def up do
    execute "DELETE FROM sessions WHERE expired"
  end
end
