# kmigrate lint expects: raw_sql_executed schema_renamed
defmodule Corpus.Repo.Migrations.R12SchemaRenamed do
  use Ecto.Migration

  def up do
    execute "ALTER SCHEMA tenant_a RENAME TO tenant_b"
  end
end
