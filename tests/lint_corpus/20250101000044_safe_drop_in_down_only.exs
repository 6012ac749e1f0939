# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeDropInDownOnly do
  use Ecto.Migration

  def up do
    create table(:notes) do
      add :body, :text
    end
  end

  def down do
    drop table(:notes)
  end
end
