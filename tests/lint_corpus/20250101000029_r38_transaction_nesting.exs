# kmigrate lint expects: raw_sql_executed transaction_nesting
defmodule Corpus.Repo.Migrations.R38TransactionNesting do
  use Ecto.Migration

  def up do
    execute "COMMIT"
  end
end
