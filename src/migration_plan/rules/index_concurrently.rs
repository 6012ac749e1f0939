//! `index_concurrently_without_disable_ddl_transaction` and
//! `index_concurrently_without_disable_migration_lock`: `concurrently: true` (or
//! `CONCURRENTLY`) in a migration Ecto runs in a transaction or under its migration lock.
//! One detector reports both, each for the flag the migration lacks. In SQL only the
//! transaction is told (the lock does not stop a statement Ecto does not know of).

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql};

pub(super) static RULE: Rule = Rule {
    kinds: &[
        Kind::IndexConcurrentlyWithoutDisableDdlTransaction,
        Kind::IndexConcurrentlyWithoutDisableMigrationLock,
    ],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    let Some((table, true)) = d.index() else {
        return;
    };
    if d.flags.transaction {
        out.push((
            Kind::IndexConcurrentlyWithoutDisableDdlTransaction,
            table.clone(),
        ));
    }
    if d.flags.migration_lock {
        out.push((Kind::IndexConcurrentlyWithoutDisableMigrationLock, table));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some((true, table)) = s.index()
        && s.flags.transaction
    {
        out.push((Kind::IndexConcurrentlyWithoutDisableDdlTransaction, table));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Flags, Kind, analyze_with};
    use super::Kind::*;

    fn with(source: &str, flags: Flags) -> Vec<Kind> {
        analyze_with(source, flags)
            .findings
            .into_iter()
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn concurrent_indexes_need_the_migration_flags() {
        let body = "def change do\n    create index(:posts, [:title], concurrently: true)\nend\n";
        assert_eq!(
            with(body, Flags::default()),
            [
                IndexConcurrentlyWithoutDisableDdlTransaction,
                IndexConcurrentlyWithoutDisableMigrationLock
            ]
        );
        assert_eq!(with(body, Flags::NONE), []);
        let no_lock = Flags {
            transaction: false,
            migration_lock: true,
        };
        assert_eq!(
            with(body, no_lock),
            [IndexConcurrentlyWithoutDisableMigrationLock]
        );
        let multi_line =
            "def change do\n  create index(:posts, [:title],\n    concurrently: true\n  )\nend\n";
        assert_eq!(with(multi_line, Flags::NONE), []);
    }

    #[test]
    fn concurrently_in_sql_needs_no_transaction() {
        let sql = "def up do\n  execute \"CREATE INDEX CONCURRENTLY i ON posts (title)\"\nend\n";
        assert_eq!(with(sql, Flags::NONE), [RawSqlExecuted]);
        assert_eq!(
            with(sql, Flags::default()),
            [
                IndexConcurrentlyWithoutDisableDdlTransaction,
                RawSqlExecuted
            ]
        );
    }
}
