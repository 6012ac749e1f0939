# kmigrate lint expects: constraint_dropped
defmodule Corpus.Repo.Migrations.R08ConstraintDropped do
  use Ecto.Migration

  def change do
    drop constraint(:posts, "posts_user_id_fkey")
  end
end
