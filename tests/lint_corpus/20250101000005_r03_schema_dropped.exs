# kmigrate lint expects: raw_sql_executed schema_dropped
defmodule Corpus.Repo.Migrations.R03SchemaDropped do
  use Ecto.Migration

  def up do
    execute "DROP SCHEMA tenant_acme CASCADE"
  end
end
