# kmigrate lint expects: operation_delete
defmodule Corpus.Repo.Migrations.R06OperationDeleteRepo do
  use Ecto.Migration

  import Ecto.Query

  def up do
    repo().delete_all(from(s in "sessions", where: s.expired))
  end
end
