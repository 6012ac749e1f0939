# kmigrate lint expects: column_type_coercible
defmodule Corpus.Repo.Migrations.SafeVarcharToText do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :title, :text, from: :string
    end
  end
end
