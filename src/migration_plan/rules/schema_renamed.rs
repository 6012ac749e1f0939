//! `schema_renamed`: `ALTER SCHEMA ... RENAME TO`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(STATEMENT, r"(?i)^\s*ALTER\s+SCHEMA\b.*\bRENAME\s+TO\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::SchemaRenamed],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::SchemaRenamed, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn renamed_schemas() {
        assert_eq!(
            in_sql("ALTER SCHEMA tenant_a RENAME TO tenant_b"),
            [(SchemaRenamed, None)]
        );
        assert_eq!(in_sql("ALTER SCHEMA tenant_a OWNER TO app"), []);
    }
}
