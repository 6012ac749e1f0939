//! `table_dropped`: `drop table(...)`, `DROP TABLE`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name};

rule!(
    DSL_DROP_TABLE,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)"#
);
rule!(
    SQL_DROP_TABLE,
    r#"(?i)\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w."$]*)"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TableDropped],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(c) = DSL_DROP_TABLE.captures(d.t) {
        out.push((Kind::TableDropped, table_name(&c[1])));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = SQL_DROP_TABLE.captures(s.stmt) {
        out.push((Kind::TableDropped, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, t};
    use super::Kind::TableDropped;

    #[test]
    fn dropped_tables_in_the_dsl_and_in_sql() {
        for body in [
            "    drop table(:posts)",
            "    drop_if_exists table(\"posts\", prefix: \"t\")",
            "    drop(table(:posts))",
        ] {
            assert_eq!(found(body), [(TableDropped, 5, t("posts"))], "{body}");
        }
        assert_eq!(in_sql("DROP TABLE legacy"), [(TableDropped, t("legacy"))]);
        assert_eq!(
            in_sql("drop table if exists public.\\\"Legacy\\\""),
            [(TableDropped, t("legacy"))]
        );
        assert_eq!(
            found("    create table(:posts)\n    drop table(:posts)"),
            [(TableDropped, 6, t("posts"))]
        );
    }
}
