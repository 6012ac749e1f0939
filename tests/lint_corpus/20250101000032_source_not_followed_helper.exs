# kmigrate lint expects: source_not_followed
defmodule Corpus.Repo.Migrations.SourceNotFollowedHelper do
  use Ecto.Migration

  def change do
    add_slug()
  end

  defp add_slug do
    alter table(:posts) do
      add :slug, :string
    end
  end
end
