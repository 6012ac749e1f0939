//! `enum_value_renamed`: `ALTER TYPE ... RENAME VALUE`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(STATEMENT, r"(?i)^\s*ALTER\s+TYPE\b.*\bRENAME\s+VALUE\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::EnumValueRenamed],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if STATEMENT.is_match(s.stmt) {
        out.push((Kind::EnumValueRenamed, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn renamed_enum_values() {
        assert_eq!(
            in_sql("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'"),
            [(EnumValueRenamed, None)]
        );
        assert_eq!(in_sql("ALTER TYPE mood RENAME TO feeling"), []);
    }
}
