//! `table_renamed`: `rename table(:a), to: table(:b)`, `ALTER TABLE ... RENAME TO`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name};

rule!(
    RENAME_TABLE,
    r#"^\s*rename\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*to\s*:"#
);
rule!(RENAME_TO, r"(?i)\bRENAME\s+TO\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TableRenamed],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(c) = RENAME_TABLE.captures(d.t) {
        out.push((Kind::TableRenamed, table_name(&c[1])));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if renames_table(s) {
        out.push((Kind::TableRenamed, s.altered.clone()));
    }
}

/// Whether an SQL statement is `ALTER TABLE ... RENAME TO` (a column's rename is not).
pub(super) fn renames_table(s: &Sql<'_>) -> bool {
    s.alters && RENAME_TO.is_match(s.stmt)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn renamed_tables_but_not_indexes_or_new_tables() {
        assert_eq!(
            found("    rename table(:posts), to: table(:articles)"),
            [(TableRenamed, 5, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts RENAME TO articles"),
            [(TableRenamed, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER INDEX posts_title_index RENAME TO posts_headline_index"),
            []
        );
        assert_eq!(
            kinds("    create table(:drafts)\n    rename table(:drafts), to: table(:posts)"),
            []
        );
    }
}
