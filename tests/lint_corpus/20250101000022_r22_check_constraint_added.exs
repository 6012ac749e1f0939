# kmigrate lint expects: check_constraint_added
defmodule Corpus.Repo.Migrations.R22CheckConstraintAdded do
  use Ecto.Migration

  def change do
    create constraint(:posts, :views_positive, check: "views >= 0")
  end
end
