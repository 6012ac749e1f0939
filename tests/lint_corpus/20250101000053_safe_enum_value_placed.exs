# kmigrate lint expects: raw_sql_executed
defmodule Corpus.Repo.Migrations.SafeEnumValuePlaced do
  use Ecto.Migration

  def up do
    execute "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'"
  end
end
