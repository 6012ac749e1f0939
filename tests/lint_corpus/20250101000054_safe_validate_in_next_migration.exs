# kmigrate lint expects: raw_sql_executed
defmodule Corpus.Repo.Migrations.SafeValidateInNextMigration do
  use Ecto.Migration

  def up do
    execute "ALTER TABLE posts VALIDATE CONSTRAINT views_positive"
  end
end
