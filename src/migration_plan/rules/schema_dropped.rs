//! `schema_dropped`: `DROP SCHEMA`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(STATEMENT, r"(?i)\bDROP\s+SCHEMA\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::SchemaDropped],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::SchemaDropped, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn dropped_schemas() {
        assert_eq!(
            in_sql("DROP SCHEMA tenant_a CASCADE"),
            [(SchemaDropped, None)]
        );
        assert_eq!(in_sql("CREATE SCHEMA tenant_a"), []);
    }
}
