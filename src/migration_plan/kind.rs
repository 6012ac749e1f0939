//! What a finding is: the one table of every kind the rules report, with its name (as in
//! JSON and in safety-assured comments), what it means, whether it is destructive, and the
//! safe way to do the same.

use enum_iterator::Sequence;
use serde::{Deserialize, Serialize};

/// What a finding is, named as excellent_migrations names its operation types where it has
/// one (so that its `safety-assured` comments work here too).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Sequence,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `drop table(...)`, `DROP TABLE`.
    TableDropped,
    /// `remove :col`, `DROP [COLUMN]`.
    ColumnRemoved,
    /// `rename table(:a), to: table(:b)`, `ALTER TABLE ... RENAME TO`.
    TableRenamed,
    /// `rename table(:a), :x, to: :y`, `RENAME [COLUMN] x TO y`.
    ColumnRenamed,
    /// `modify :col, :type`, `ALTER COLUMN ... TYPE`.
    ColumnTypeChanged,
    /// `null: false` without a default on an existing table, `SET NOT NULL`.
    NotNullAdded,
    /// `TRUNCATE`.
    TableTruncated,
    /// `repo().delete_all(...)`, `DELETE FROM`.
    OperationDelete,
    /// `DROP SCHEMA`.
    SchemaDropped,
    /// `DROP DATABASE`.
    DatabaseDropped,
    /// `ALTER SCHEMA ... RENAME TO`.
    SchemaRenamed,
    /// A column or table the migration removes or renames (or a NOT NULL column it adds)
    /// that an Ecto schema of the running code still maps: found against that code, not in
    /// the source.
    BreaksRunningCode,
    /// `ALTER TYPE ... RENAME VALUE`.
    EnumValueRenamed,
    /// `modify :col, :text, from: :string`: a change Postgres makes without a rewrite.
    ColumnTypeCoercible,
    /// An index created or dropped without `concurrently` on a table that already exists.
    IndexNotConcurrently,
    /// `concurrently: true` in a migration that runs in a transaction.
    IndexConcurrentlyWithoutDisableDdlTransaction,
    /// `concurrently: true` under Ecto's migration lock.
    IndexConcurrentlyWithoutDisableMigrationLock,
    /// A foreign key that validates at once: `references(...)` in `alter table`.
    ColumnReferenceAdded,
    /// A check constraint that validates at once.
    CheckConstraintAdded,
    /// A default Postgres evaluates for every existing row (`gen_random_uuid()`, `random()`).
    ColumnVolatileDefault,
    /// `repo().update_all(...)`, `UPDATE ... SET`.
    OperationUpdate,
    /// `repo().insert_all(...)`, `INSERT INTO`.
    OperationInsert,
    /// `drop constraint(...)`, `DROP CONSTRAINT`.
    ConstraintDropped,
    /// `ADD CONSTRAINT ... UNIQUE`, `ADD ... PRIMARY KEY`.
    UniqueConstraintAdded,
    /// `add :c, :json`.
    JsonColumnAdded,
    /// `VACUUM FULL`, `CLUSTER`, `SET LOGGED`/`UNLOGGED`, `SET ACCESS METHOD`, `REINDEX`
    /// without `CONCURRENTLY`.
    TableRewritten,
    /// `COMMIT`, `BEGIN`, `ROLLBACK` in a migration.
    TransactionNesting,
    /// `modify :c, :t, null: true`, `DROP NOT NULL`.
    NotNullRemoved,
    /// `VALIDATE CONSTRAINT` in the transaction that added it `NOT VALID`.
    ConstraintValidatedInSameTransaction,
    /// `CREATE TRIGGER`.
    TriggerCreated,
    /// `ALTER DOMAIN ... ADD CONSTRAINT`, `CREATE DOMAIN ... CHECK`.
    DomainConstraintAdded,
    /// `ALTER TYPE ... ADD VALUE` without `BEFORE`/`AFTER`.
    EnumValueAppended,
    /// A non-unique index on more than three columns.
    ManyColumnsIndex,
    /// `execute`, `execute_file`, `repo().query`: SQL the DSL rules cannot judge.
    RawSqlExecuted,
    /// Source the rules cannot follow: a block without its `end` where `mix format` puts
    /// it, or the DSL in a helper function.
    SourceNotFollowed,
}

/// A table lock mode, as PostgreSQL names it (`pg_locks.mode` says `AccessExclusiveLock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LockMode {
    /// `ROW EXCLUSIVE`: `UPDATE`, `DELETE`, `INSERT`; blocks SHARE and stronger.
    #[serde(rename = "ROW EXCLUSIVE")]
    RowExclusive,
    /// `SHARE UPDATE EXCLUSIVE`: `CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`; blocks
    /// schema changes and VACUUM, not reads or writes.
    #[serde(rename = "SHARE UPDATE EXCLUSIVE")]
    ShareUpdateExclusive,
    /// `SHARE`: `CREATE INDEX`; blocks writes, not reads.
    #[serde(rename = "SHARE")]
    Share,
    /// `SHARE ROW EXCLUSIVE`: `ADD FOREIGN KEY`, `CREATE TRIGGER`; blocks writes, not reads.
    #[serde(rename = "SHARE ROW EXCLUSIVE")]
    ShareRowExclusive,
    /// `ACCESS EXCLUSIVE`: most `ALTER TABLE`, `DROP`, `TRUNCATE`; blocks every query.
    #[serde(rename = "ACCESS EXCLUSIVE")]
    AccessExclusive,
}

impl LockMode {
    /// Its name in SQL (`LOCK TABLE ... IN <name> MODE`).
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// What it stops while it is held (or waited for: a waiting request queues every
    /// later conflicting one behind it).
    pub fn blocks(self) -> &'static str {
        match self {
            LockMode::RowExclusive => "blocks index builds and schema changes of the table",
            LockMode::ShareUpdateExclusive => {
                "blocks schema changes and VACUUM, not reads or writes"
            }
            LockMode::Share | LockMode::ShareRowExclusive => {
                "blocks every write to the table, not reads"
            }
            LockMode::AccessExclusive => "blocks every query of the table, reads included",
        }
    }
}

/// What a statement does to the rows of its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Writes the whole table (and its indexes) again: time and disk grow with its size.
    Rewrite,
    /// Reads every row (a check, an index build, a validation): time grows with its size.
    Scan,
    /// Changes the catalog only: quick once the lock is granted.
    Catalog,
}

impl Effect {
    /// Its name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Rewrite => "rewrite",
            Effect::Scan => "scan",
            Effect::Catalog => "catalog",
        }
    }

    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            Effect::Rewrite => "rewrites the table",
            Effect::Scan => "reads every row",
            Effect::Catalog => "changes the catalog only",
        }
    }
}

/// The lock a kind's statement takes on its table, and what it does to the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableLock {
    /// The lock mode.
    pub mode: LockMode,
    /// Rewrite, scan, or catalog only.
    pub effect: Effect,
}

/// What is said of a kind: one row of the table [`Kind::info`] keeps.
struct Info {
    name: &'static str,
    describe: &'static str,
    destructive: bool,
    fix: &'static str,
}

const fn row(
    name: &'static str,
    describe: &'static str,
    destructive: bool,
    fix: &'static str,
) -> Info {
    Info {
        name,
        describe,
        destructive,
        fix,
    }
}

impl Kind {
    /// Every kind, in the order they are declared (and docs/guide/plan-and-policy.md lists
    /// them): the compiler keeps the list, a new variant is in it.
    pub fn all() -> impl Iterator<Item = Kind> {
        enum_iterator::all::<Kind>()
    }

    /// The one table of what each kind is called and means.
    fn info(self) -> Info {
        match self {
            Kind::TableDropped => row(
                "table_dropped",
                "drops a table",
                true,
                "deploy code that no longer reads or writes the table first; drop it in a later release",
            ),
            Kind::ColumnRemoved => row(
                "column_removed",
                "removes a column",
                true,
                "remove the field from the Ecto schema (or mark it `load_in_query: false`) and deploy; remove the column in a later release",
            ),
            Kind::TableRenamed => row(
                "table_renamed",
                "renames a table",
                true,
                "point the schema at the new name with `schema \"new\"` after creating it (or a view), copy, switch reads, drop the old one later",
            ),
            Kind::ColumnRenamed => row(
                "column_renamed",
                "renames a column",
                true,
                "keep the column and rename the field only (`field :new, :t, source: :old`), or add a column, backfill, switch, remove the old later",
            ),
            Kind::ColumnTypeChanged => row(
                "column_type_changed",
                "changes a column's type",
                true,
                "add a column of the new type, write both, backfill in batches, switch reads, remove the old column later",
            ),
            Kind::NotNullAdded => row(
                "not_null_added",
                "makes a column NOT NULL without a default",
                true,
                "add a CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in the next migration, then SET NOT NULL (PostgreSQL 12+); or give a default",
            ),
            Kind::TableTruncated => row(
                "table_truncated",
                "empties a table (TRUNCATE)",
                true,
                "delete the rows on purpose in a reviewed data migration, in batches; mark it reviewed when it is meant",
            ),
            Kind::OperationDelete => row(
                "operation_delete",
                "deletes rows",
                true,
                "move data deletion out of schema migrations (a batched task), or mark it reviewed when it is meant",
            ),
            Kind::SchemaDropped => row(
                "schema_dropped",
                "drops a schema and everything in it",
                true,
                "drop each object on purpose in a reviewed migration, once no code uses the schema (a tenant prefix)",
            ),
            Kind::DatabaseDropped => row(
                "database_dropped",
                "drops a database",
                true,
                "drop databases by hand, never from a migration",
            ),
            Kind::SchemaRenamed => row(
                "schema_renamed",
                "renames a schema",
                true,
                "create the new schema, move objects while code reads both, drop the old one later",
            ),
            Kind::BreaksRunningCode => row(
                "breaks_running_code",
                "breaks the code running now: an Ecto schema still maps what it changes",
                true,
                "deploy code without the field (or schema) first, then migrate; for NOT NULL, give the column a default",
            ),
            Kind::EnumValueRenamed => row(
                "enum_value_renamed",
                "renames an enum value",
                true,
                "add the new value, write it, migrate the rows, stop writing the old one",
            ),
            Kind::ColumnTypeCoercible => row(
                "column_type_coercible",
                "changes a column's type without a rewrite (binary coercible)",
                false,
                "safe on PostgreSQL: no rewrite, a short ACCESS EXCLUSIVE lock (set a lock_timeout); to change only a default, `execute \"ALTER TABLE t ALTER c SET DEFAULT ...\"`",
            ),
            Kind::IndexNotConcurrently => row(
                "index_not_concurrently",
                "creates or drops an index without CONCURRENTLY",
                false,
                "pass `concurrently: true` with `@disable_ddl_transaction true` and `@disable_migration_lock true`, alone in its migration",
            ),
            Kind::IndexConcurrentlyWithoutDisableDdlTransaction => row(
                "index_concurrently_without_disable_ddl_transaction",
                "builds an index CONCURRENTLY inside a transaction (PostgreSQL refuses)",
                false,
                "add `@disable_ddl_transaction true` to the migration",
            ),
            Kind::IndexConcurrentlyWithoutDisableMigrationLock => row(
                "index_concurrently_without_disable_migration_lock",
                "builds an index CONCURRENTLY under Ecto's migration lock",
                false,
                "add `@disable_migration_lock true` (or use `migration_lock: :pg_advisory_lock`)",
            ),
            Kind::ColumnReferenceAdded => row(
                "column_reference_added",
                "adds a foreign key that validates every row at once",
                false,
                "add it with `references(..., validate: false)`, then `execute \"ALTER TABLE t VALIDATE CONSTRAINT c\"` in the next migration",
            ),
            Kind::CheckConstraintAdded => row(
                "check_constraint_added",
                "adds a check constraint that validates every row at once",
                false,
                "create it with `validate: false`, then `execute \"ALTER TABLE t VALIDATE CONSTRAINT c\"` in the next migration",
            ),
            Kind::ColumnVolatileDefault => row(
                "column_volatile_default",
                "adds a volatile default: every row is rewritten",
                false,
                "add the column without a default, set the default in a second step, backfill in batches",
            ),
            Kind::OperationUpdate => row(
                "operation_update",
                "updates rows inside the migration",
                false,
                "backfill in a separate migration with `@disable_ddl_transaction true`, in batches",
            ),
            Kind::OperationInsert => row(
                "operation_insert",
                "inserts rows inside the migration",
                false,
                "seed data in a separate migration or task, in batches",
            ),
            Kind::ConstraintDropped => row(
                "constraint_dropped",
                "drops a constraint (an integrity guarantee)",
                false,
                "make sure no code relies on it; mark it reviewed",
            ),
            Kind::UniqueConstraintAdded => row(
                "unique_constraint_added",
                "adds a unique constraint or primary key, building its index under ACCESS EXCLUSIVE",
                false,
                "build a unique index CONCURRENTLY first, then `ADD CONSTRAINT ... UNIQUE USING INDEX`",
            ),
            Kind::JsonColumnAdded => row(
                "json_column_added",
                "adds a json column (no equality operator)",
                false,
                "use :map (jsonb) instead of :json",
            ),
            Kind::TableRewritten => row(
                "table_rewritten",
                "rewrites or reindexes a table under an exclusive lock",
                false,
                "use REINDEX ... CONCURRENTLY, pg_repack, or run it by hand in a maintenance window",
            ),
            Kind::TransactionNesting => row(
                "transaction_nesting",
                "ends or starts a transaction inside the migration",
                false,
                "let Ecto manage the transaction; use `@disable_ddl_transaction true` instead",
            ),
            Kind::NotNullRemoved => row(
                "not_null_removed",
                "lets a column hold NULL",
                false,
                "make sure every reader (and PL/pgSQL) copes with NULL before it is written; mark it reviewed",
            ),
            Kind::ConstraintValidatedInSameTransaction => row(
                "constraint_validated_in_same_transaction",
                "validates a constraint in the transaction that added it (the scan runs under its lock)",
                false,
                "VALIDATE CONSTRAINT in the next migration, not in the one that adds it NOT VALID",
            ),
            Kind::TriggerCreated => row(
                "trigger_created",
                "creates a trigger (blocks writes to the table while it waits and runs)",
                false,
                "set a lock_timeout, and create it when the table is quiet; mark it reviewed",
            ),
            Kind::DomainConstraintAdded => row(
                "domain_constraint_added",
                "adds a domain constraint (checks every column of that domain, under lock)",
                false,
                "add a CHECK ... NOT VALID on the tables instead, and VALIDATE it later",
            ),
            Kind::EnumValueAppended => row(
                "enum_value_appended",
                "adds an enum value without BEFORE or AFTER (ordering comparisons change)",
                false,
                "say where it goes with BEFORE 'x' or AFTER 'y'",
            ),
            Kind::ManyColumnsIndex => row(
                "many_columns_index",
                "creates a non-unique index on more than three columns",
                false,
                "index fewer columns; such an index rarely helps and costs every write",
            ),
            Kind::RawSqlExecuted => row(
                "raw_sql_executed",
                "runs raw SQL",
                false,
                "review the SQL; the rules read SQL literals only",
            ),
            Kind::SourceNotFollowed => row(
                "source_not_followed",
                "has code the rules cannot follow",
                false,
                "run `mix format`, keep the DSL in `change/0`/`up/0` (not helpers), and review it by hand",
            ),
        }
    }

    /// Whether a protected environment needs `--allow-destructive` for it: it loses data
    /// or breaks the code that still reads the old shape.
    pub fn destructive(self) -> bool {
        self.info().destructive
    }

    /// Its name, as in JSON and in safety-assured comments.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// What it does, for people.
    pub fn describe(self) -> &'static str {
        self.info().describe
    }

    /// The safe way to do the same.
    pub fn fix(self) -> &'static str {
        self.info().fix
    }

    /// Whether it does no harm on a table created earlier in the same migration (or plan):
    /// that table is empty and no running code knows it.
    pub fn harmless_on_new_table(self) -> bool {
        matches!(
            self,
            Kind::IndexNotConcurrently
                | Kind::NotNullAdded
                | Kind::TableRenamed
                | Kind::ColumnRenamed
                | Kind::ColumnRemoved
                | Kind::ColumnTypeChanged
                | Kind::ColumnTypeCoercible
                | Kind::ColumnReferenceAdded
                | Kind::CheckConstraintAdded
                | Kind::ColumnVolatileDefault
                | Kind::UniqueConstraintAdded
                | Kind::NotNullRemoved
                | Kind::TriggerCreated
                | Kind::ManyColumnsIndex
        )
    }

    /// The lock its statement takes on the table it names, and what it does to the rows:
    /// `None` for kinds that touch no one table (a schema, a type, raw SQL). The match keeps
    /// every kind in this table. Modes as PostgreSQL's "Explicit Locking" chapter gives each
    /// command; where one kind covers two commands, the usual one (`create index` takes
    /// SHARE; `drop index` takes ACCESS EXCLUSIVE).
    pub fn table_lock(self) -> Option<TableLock> {
        use Effect::{Catalog, Rewrite, Scan};
        use LockMode::{
            AccessExclusive, RowExclusive, Share, ShareRowExclusive, ShareUpdateExclusive,
        };
        let (mode, effect) = match self {
            Kind::TableDropped
            | Kind::ColumnRemoved
            | Kind::TableRenamed
            | Kind::ColumnRenamed
            | Kind::ColumnTypeCoercible
            | Kind::ConstraintDropped
            | Kind::JsonColumnAdded
            | Kind::NotNullRemoved => (AccessExclusive, Catalog),
            Kind::ColumnTypeChanged
            | Kind::ColumnVolatileDefault
            | Kind::TableRewritten
            | Kind::TableTruncated => (AccessExclusive, Rewrite),
            Kind::NotNullAdded
            | Kind::CheckConstraintAdded
            | Kind::UniqueConstraintAdded
            | Kind::ConstraintValidatedInSameTransaction => (AccessExclusive, Scan),
            Kind::IndexNotConcurrently | Kind::ManyColumnsIndex => (Share, Scan),
            Kind::IndexConcurrentlyWithoutDisableDdlTransaction
            | Kind::IndexConcurrentlyWithoutDisableMigrationLock => (ShareUpdateExclusive, Scan),
            Kind::ColumnReferenceAdded => (ShareRowExclusive, Scan),
            Kind::TriggerCreated => (ShareRowExclusive, Catalog),
            Kind::OperationDelete | Kind::OperationUpdate => (RowExclusive, Scan),
            Kind::OperationInsert
            | Kind::SchemaDropped
            | Kind::DatabaseDropped
            | Kind::SchemaRenamed
            | Kind::EnumValueRenamed
            | Kind::BreaksRunningCode
            | Kind::EnumValueAppended
            | Kind::DomainConstraintAdded
            | Kind::TransactionNesting
            | Kind::RawSqlExecuted
            | Kind::SourceNotFollowed => return None,
        };
        Some(TableLock { mode, effect })
    }

    /// The kind of this name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::all().find(|k| k.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_unique_name_a_meaning_and_a_fix() {
        let names: Vec<&str> = Kind::all().map(Kind::name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for k in Kind::all() {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
            assert!(!k.describe().is_empty() && !k.fix().is_empty(), "{k:?}");
        }
    }

    #[test]
    fn data_loss_and_breaking_changes_are_destructive() {
        let destructive: Vec<&str> = Kind::all()
            .filter(|k| k.destructive())
            .map(Kind::name)
            .collect();
        assert_eq!(
            destructive,
            [
                "table_dropped",
                "column_removed",
                "table_renamed",
                "column_renamed",
                "column_type_changed",
                "not_null_added",
                "table_truncated",
                "operation_delete",
                "schema_dropped",
                "database_dropped",
                "schema_renamed",
                "breaks_running_code",
                "enum_value_renamed",
            ]
        );
        assert!(!Kind::TableDropped.harmless_on_new_table());
        assert!(Kind::ColumnRenamed.harmless_on_new_table());
    }

    #[test]
    fn every_kind_that_loses_data_or_rewrites_takes_a_table_lock() {
        for k in Kind::all().filter(|k| k.destructive()) {
            let touches_one_table = !matches!(
                k,
                Kind::SchemaDropped
                    | Kind::DatabaseDropped
                    | Kind::SchemaRenamed
                    | Kind::EnumValueRenamed
                    | Kind::BreaksRunningCode
            );
            assert_eq!(k.table_lock().is_some(), touches_one_table, "{k:?}");
        }
        let lock = |k: Kind| k.table_lock().map(|l| (l.mode.sql(), l.effect));
        assert_eq!(
            lock(Kind::ColumnRemoved),
            Some(("ACCESS EXCLUSIVE", Effect::Catalog))
        );
        assert_eq!(
            lock(Kind::ColumnTypeChanged),
            Some(("ACCESS EXCLUSIVE", Effect::Rewrite))
        );
        assert_eq!(
            lock(Kind::ColumnVolatileDefault),
            Some(("ACCESS EXCLUSIVE", Effect::Rewrite))
        );
        assert_eq!(
            lock(Kind::NotNullAdded),
            Some(("ACCESS EXCLUSIVE", Effect::Scan))
        );
        assert_eq!(
            lock(Kind::IndexNotConcurrently),
            Some(("SHARE", Effect::Scan))
        );
        assert_eq!(
            lock(Kind::ColumnReferenceAdded),
            Some(("SHARE ROW EXCLUSIVE", Effect::Scan))
        );
        assert_eq!(
            lock(Kind::TriggerCreated),
            Some(("SHARE ROW EXCLUSIVE", Effect::Catalog))
        );
        assert_eq!(
            lock(Kind::IndexConcurrentlyWithoutDisableMigrationLock),
            Some(("SHARE UPDATE EXCLUSIVE", Effect::Scan))
        );
        assert_eq!(lock(Kind::RawSqlExecuted), None);
        // JSON names the mode as SQL does.
        for m in [
            LockMode::RowExclusive,
            LockMode::ShareUpdateExclusive,
            LockMode::Share,
            LockMode::ShareRowExclusive,
            LockMode::AccessExclusive,
        ] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.sql());
        }
        for e in [Effect::Rewrite, Effect::Scan, Effect::Catalog] {
            assert_eq!(serde_json::to_value(e).unwrap(), e.name());
        }
    }

    /// The guide's table of locks is this one.
    #[test]
    fn the_guide_lists_the_lock_of_every_kind() {
        let guide = include_str!("../../docs/guide/plan-and-policy.md");
        let rows: String = Kind::all()
            .map(|k| match k.table_lock() {
                Some(l) => format!(
                    "| {} | {} | `{}` |\n",
                    l.mode.sql(),
                    l.effect.name(),
                    k.name()
                ),
                None => format!("| no one table | | `{}` |\n", k.name()),
            })
            .collect();
        assert!(
            guide.contains(&format!(
                "| lock | effect | kind |\n| --- | --- | --- |\n{rows}\n"
            )),
            "docs/guide/plan-and-policy.md's table of locks is not this one:\n{rows}"
        );
    }

    #[test]
    fn the_guide_lists_every_kind_as_the_table_says() {
        let guide = include_str!("../../docs/guide/plan-and-policy.md");
        let rows: Vec<(String, bool)> = guide
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(" | ").collect();
                let name = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
                Some((name.to_owned(), cells.get(1)? == &"yes"))
            })
            .collect();
        let kinds: Vec<(String, bool)> = Kind::all()
            .map(|k| (k.name().to_owned(), k.destructive()))
            .collect();
        assert_eq!(
            rows, kinds,
            "docs/guide/plan-and-policy.md's table of kinds differs from src/migration_plan/kind.rs"
        );
    }
}
