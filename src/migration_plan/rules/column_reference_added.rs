//! `column_reference_added`: a foreign key that validates at once: `references(...)` in
//! `alter table` without `validate: false`, `ADD ... REFERENCES`, `ADD CONSTRAINT ... FOREIGN
//! KEY` without `NOT VALID`.

use super::{
    Kind, Out, Rule,
    dsl::{Dsl, VALIDATE_FALSE},
    sql::{Added, Sql},
};

rule!(DSL_REFERENCES, r"\breferences\s*\(");
rule!(SQL_REFERENCES, r"(?i)\bREFERENCES\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ColumnReferenceAdded],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if (d.adds() || d.modifies()) && DSL_REFERENCES.is_match(d.t) && !VALIDATE_FALSE.is_match(d.t) {
        out.push((Kind::ColumnReferenceAdded, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    let keys = s
        .added_constraints()
        .into_iter()
        .filter(|a| *a == Added::ForeignKey)
        .count();
    let columns = s
        .added_columns()
        .into_iter()
        .filter(|c| SQL_REFERENCES.is_match(c))
        .count();
    for _ in 0..keys + columns {
        out.push((Kind::ColumnReferenceAdded, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn foreign_keys_that_validate_at_once() {
        let fk = "    alter table(:posts) do\n      add :user_id, references(:users)\n    end";
        assert_eq!(kinds(fk), [ColumnReferenceAdded]);
        let later = "    alter table(:posts) do\n      add :user_id, references(:users, validate: false)\n    end";
        assert_eq!(kinds(later), []);
        let in_create =
            "    create table(:posts) do\n      add :user_id, references(:users)\n    end";
        assert_eq!(kinds(in_create), [], "a new table has no rows to check");
        let with_null = "    alter table(:posts) do\n      add :author_id,\n        references(:users),\n        null: false\n    end";
        assert_eq!(
            found(with_null),
            [
                (NotNullAdded, 6, t("posts")),
                (ColumnReferenceAdded, 6, t("posts"))
            ]
        );
    }

    #[test]
    fn foreign_keys_in_sql() {
        let key = "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)";
        assert_eq!(in_sql(key), [(ColumnReferenceAdded, t("posts"))]);
        assert_eq!(in_sql(&format!("{key} NOT VALID")), []);
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN user_id bigint REFERENCES users"),
            [(ColumnReferenceAdded, t("posts"))]
        );
    }
}
