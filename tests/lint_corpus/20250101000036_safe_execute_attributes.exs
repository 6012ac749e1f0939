# kmigrate lint expects: raw_sql_executed
defmodule Corpus.Repo.Migrations.SafeExecuteAttributes do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true
  @up "CREATE INDEX CONCURRENTLY posts_slug_index ON posts (slug)"
  @down "DROP INDEX CONCURRENTLY posts_slug_index"

  def change do
    execute(@up, @down)
  end
end
