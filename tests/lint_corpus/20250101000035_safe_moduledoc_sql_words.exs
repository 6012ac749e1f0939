# kmigrate lint expects: nothing
defmodule Corpus.Repo.Migrations.SafeModuledocSqlWords do
  @moduledoc """
  Replaces the old audit log; we used to DROP TABLE audit_log and
  ALTER TABLE events DROP COLUMN payload by hand.
  """
  use Ecto.Migration

  def change do
    create table(:audit_entries) do
      add :action, :string
    end
  end
end
