//! `enum_value_appended`: `ALTER TYPE ... ADD VALUE` without `BEFORE`/`AFTER`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql};

rule!(ADD_VALUE, r"(?is)^\s*ALTER\s+TYPE\b.*\bADD\s+VALUE\b");
rule!(BEFORE_OR_AFTER, r"(?i)\b(?:BEFORE|AFTER)\s+'");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::EnumValueAppended],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if ADD_VALUE.is_match(s.stmt) && !BEFORE_OR_AFTER.is_match(s.stmt) {
        out.push((Kind::EnumValueAppended, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::in_sql;
    use super::Kind::*;

    #[test]
    fn enum_values_without_a_place() {
        assert_eq!(
            in_sql("ALTER TYPE mood ADD VALUE 'meh'"),
            [(EnumValueAppended, None)]
        );
        assert_eq!(in_sql("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'"), []);
        assert_eq!(in_sql("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'"), []);
    }
}
