# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeCheckNotValidated do
  use Ecto.Migration

  def change do
    create constraint(:posts, :views_positive, check: "views >= 0", validate: false)
  end
end
