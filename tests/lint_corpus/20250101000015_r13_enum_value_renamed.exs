# kmigrate lint expects: raw_sql_executed enum_value_renamed
defmodule Corpus.Repo.Migrations.R13EnumValueRenamed do
  use Ecto.Migration

  def up do
    execute "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'"
  end
end
