# kmigrate lint expects: raw_sql_executed operation_insert
defmodule Corpus.Repo.Migrations.XInsert do
  use Ecto.Migration

  def up do
    execute "INSERT INTO roles (name) VALUES ('admin')"
  end
end
