# kmigrate lint expects: raw_sql_executed raw_sql_executed constraint_validated_in_same_transaction
defmodule Corpus.Repo.Migrations.R23ValidatedInSameTransaction do
  use Ecto.Migration

  def up do
    execute "ALTER TABLE posts ADD CONSTRAINT views_positive CHECK (views >= 0) NOT VALID"
    execute "ALTER TABLE posts VALIDATE CONSTRAINT views_positive"
  end
end
