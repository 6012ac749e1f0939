# kmigrate lint expects: index_concurrently_without_disable_migration_lock
defmodule Corpus.Repo.Migrations.R20ConcurrentlyUnderLock do
  use Ecto.Migration
  @disable_ddl_transaction true

  def change do
    create index(:posts, [:slug], concurrently: true)
  end
end
