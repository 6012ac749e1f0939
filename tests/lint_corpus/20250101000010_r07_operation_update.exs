# kmigrate lint expects: operation_update
defmodule Corpus.Repo.Migrations.R07OperationUpdate do
  use Ecto.Migration

  def up do
    alter table(:posts) do
      add :score, :integer
    end

    flush()
    repo().update_all("posts", set: [score: 0])
  end
end
