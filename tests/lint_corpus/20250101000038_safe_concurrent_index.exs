# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeConcurrentIndex do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def change do
    create index(:posts, [:slug], concurrently: true)
  end
end
