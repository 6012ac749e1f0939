# kmigrate lint expects: column_type_changed
defmodule Corpus.Repo.Migrations.R14ColumnTypeChanged do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :views, :bigint, from: :integer
    end
  end
end
