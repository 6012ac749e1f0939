# kmigrate lint expects: column_volatile_default
defmodule Corpus.Repo.Migrations.R30ColumnVolatileDefault do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      add :public_id, :uuid, default: fragment("gen_random_uuid()")
    end
  end
end
