# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeDefaultNow do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :published_at, :utc_datetime, default: fragment("now()")
    end
  end
end
