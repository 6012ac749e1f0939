# kmigrate lint expects: raw_sql_executed unique_constraint_added
defmodule Corpus.Repo.Migrations.R24UniqueConstraintAdded do
  use Ecto.Migration

  def up do
    execute "ALTER TABLE posts ADD CONSTRAINT posts_slug_key UNIQUE (slug)"
  end
end
