//! `database_dropped`: `DROP DATABASE`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(STATEMENT, r"(?i)\bDROP\s+DATABASE\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::DatabaseDropped],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::DatabaseDropped, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn dropped_databases() {
        assert_eq!(in_sql("DROP DATABASE old"), [(DatabaseDropped, None)]);
        assert_eq!(in_sql("ALTER DATABASE old SET timezone TO 'UTC'"), []);
    }
}
