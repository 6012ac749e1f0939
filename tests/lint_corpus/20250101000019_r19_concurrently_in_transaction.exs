# kmigrate lint expects: index_concurrently_without_disable_ddl_transaction
defmodule Corpus.Repo.Migrations.R19ConcurrentlyInTransaction do
  use Ecto.Migration
  @disable_migration_lock true

  def change do
    create index(:posts, [:slug], concurrently: true)
  end
end
