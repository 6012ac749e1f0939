//! `column_renamed`: `rename table(:a), :x, to: :y`, `ALTER TABLE ... RENAME [COLUMN] x TO y`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name, table_renamed};

rule!(
    RENAME_COLUMN,
    r#"^\s*rename\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*[:"]"#
);
rule!(
    SQL_RENAME_COLUMN,
    r#"(?i)\bRENAME\s+(?:COLUMN\s+)?[\w"$]+\s+TO\b"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ColumnRenamed],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(c) = RENAME_COLUMN.captures(d.t) {
        out.push((Kind::ColumnRenamed, table_name(&c[1])));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if s.alters && !table_renamed::renames_table(s) && SQL_RENAME_COLUMN.is_match(s.stmt) {
        out.push((Kind::ColumnRenamed, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn renamed_columns_but_not_in_a_new_table() {
        assert_eq!(
            found("    rename table(:posts), :title, to: :headline"),
            [(ColumnRenamed, 5, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts RENAME COLUMN title TO headline"),
            [(ColumnRenamed, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE ONLY posts RENAME title TO headline"),
            [(ColumnRenamed, t("posts"))]
        );
        assert_eq!(
            kinds("    rename index(:posts, :old_name, to: :new_name)"),
            []
        );
        let new = "    create table(:drafts) do\n      add :title, :string\n    end\n    rename table(:drafts), :title, to: :headline";
        assert_eq!(kinds(new), []);
    }
}
