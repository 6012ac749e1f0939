# kmigrate lint expects: column_renamed
defmodule Corpus.Repo.Migrations.R11ColumnRenamed do
  use Ecto.Migration

  def change do
    rename table(:posts), :title, to: :headline
  end
end
