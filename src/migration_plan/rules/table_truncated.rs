//! `table_truncated`: `TRUNCATE`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql, table_name};

rule!(
    TRUNCATE,
    r#"(?i)^\s*TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?([\w."$]*)"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TableTruncated],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = TRUNCATE.captures(s.stmt) {
        out.push((Kind::TableTruncated, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, t};
    use super::Kind::*;

    #[test]
    fn truncated_tables() {
        assert_eq!(
            in_sql("TRUNCATE posts CASCADE"),
            [(TableTruncated, t("posts"))]
        );
        assert_eq!(
            in_sql("truncate table only posts"),
            [(TableTruncated, t("posts"))]
        );
        assert_eq!(in_sql("SELECT 'TRUNCATE posts'"), []);
    }
}
