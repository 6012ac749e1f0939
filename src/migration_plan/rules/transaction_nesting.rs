//! `transaction_nesting`: `COMMIT`, `BEGIN`, `ROLLBACK` (and their kin) in a migration.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(
    STATEMENT,
    r"(?i)^\s*(?:COMMIT|BEGIN|ROLLBACK|END|START\s+TRANSACTION|ABORT)\s*$"
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TransactionNesting],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::TransactionNesting, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn transactions_ended_or_begun() {
        assert_eq!(
            super::super::tests::kinds("    execute \"COMMIT\""),
            [TransactionNesting, RawSqlExecuted]
        );
        assert_eq!(in_sql("BEGIN"), [(TransactionNesting, None)]);
        assert_eq!(in_sql("SELECT 'commit'"), []);
    }
}
