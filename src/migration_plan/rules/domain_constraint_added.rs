//! `domain_constraint_added`: `ALTER DOMAIN ... ADD CONSTRAINT`, `CREATE DOMAIN ... CHECK`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(
    STATEMENT,
    r"(?is)^\s*(?:ALTER\s+DOMAIN\b.*\bADD\s+(?:CONSTRAINT\b|CHECK\b)|CREATE\s+DOMAIN\b.*\bCHECK\b)"
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::DomainConstraintAdded],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::DomainConstraintAdded, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn domain_constraints() {
        assert_eq!(
            in_sql("ALTER DOMAIN positive ADD CONSTRAINT p CHECK (VALUE > 0)"),
            [(DomainConstraintAdded, None)]
        );
        assert_eq!(
            in_sql("CREATE DOMAIN positive AS int CHECK (VALUE > 0)"),
            [(DomainConstraintAdded, None)]
        );
        assert_eq!(in_sql("CREATE DOMAIN label AS text"), []);
    }
}
