# kmigrate lint expects: column_type_coercible
defmodule Corpus.Repo.Migrations.R15ModifyDefaultOnly do
  use Ecto.Migration

  def change do
    alter table(:posts) do
      modify :published, :boolean, default: false, from: {:boolean, default: true}
    end
  end
end
