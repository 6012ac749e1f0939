# kmigrate lint expects: raw_sql_executed table_truncated
defmodule Corpus.Repo.Migrations.R05TableTruncated do
  use Ecto.Migration

  def up do
    execute "TRUNCATE sessions CASCADE"
  end
end
