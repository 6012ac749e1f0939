# kmigrate lint expects: raw_sql_executed enum_value_appended
defmodule Corpus.Repo.Migrations.R45EnumValueAppended do
  use Ecto.Migration

  def up do
    execute "ALTER TYPE mood ADD VALUE 'meh'"
  end
end
