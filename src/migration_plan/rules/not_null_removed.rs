//! `not_null_removed`: `modify :c, :t, null: true`, `DROP NOT NULL`.

use super::{
    Kind, Out, Rule,
    dsl::{Dsl, NULL_TRUE},
    sql::Sql,
};

rule!(DROP_NOT_NULL, r"(?i)\bDROP\s+NOT\s+NULL\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::NotNullRemoved],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if d.modifies() && NULL_TRUE.is_match(d.t) {
        out.push((Kind::NotNullRemoved, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if DROP_NOT_NULL.is_match(s.stmt) {
        out.push((Kind::NotNullRemoved, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn null_allowed_again() {
        let body = "    alter table(:posts) do\n      modify :title, :string, null: true\n    end";
        assert_eq!(kinds(body), [ColumnTypeChanged, NotNullRemoved]);
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER COLUMN body DROP NOT NULL"),
            [(NotNullRemoved, t("posts"))]
        );
        let add = "    alter table(:posts) do\n      add :note, :text, null: true\n    end";
        assert_eq!(kinds(add), [], "a new column that allows NULL");
    }
}
