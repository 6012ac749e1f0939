# kmigrate lint expects: raw_sql_executed table_rewritten
defmodule Corpus.Repo.Migrations.R39Reindex do
  use Ecto.Migration

  def up do
    execute "REINDEX TABLE posts"
  end
end
