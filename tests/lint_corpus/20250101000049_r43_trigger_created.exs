# kmigrate lint expects: raw_sql_executed trigger_created
defmodule Corpus.Repo.Migrations.R43TriggerCreated do
  use Ecto.Migration

  def up do
    execute "CREATE TRIGGER posts_audit AFTER UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION audit()"
  end
end
