# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeReviewedDrop do
  use Ecto.Migration

  def change do
    # excellent_migrations:safety-assured-for-next-line table_dropped
    drop table(:legacy_notes)
  end
end
