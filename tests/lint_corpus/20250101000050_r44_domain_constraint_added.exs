# kmigrate lint expects: raw_sql_executed domain_constraint_added
defmodule Corpus.Repo.Migrations.R44DomainConstraintAdded do
  use Ecto.Migration

  def up do
    execute "ALTER DOMAIN positive_int ADD CONSTRAINT positive CHECK (VALUE > 0)"
  end
end
