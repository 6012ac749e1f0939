//! `not_null_added`: `null: false` without a default on an existing table (`add`,
//! `modify`, `timestamps()`), `SET NOT NULL`, `ADD COLUMN ... NOT NULL` without a default.

use super::{
    Kind, Out, Rule,
    dsl::{DEFAULT, Dsl, NULL_FALSE, NULL_TRUE},
    sql::{self, Sql},
};

rule!(TIMESTAMPS, r"^\s*timestamps\b");
rule!(NOT_NULL, r"(?i)\bNOT\s+NULL\b");
rule!(SET_NOT_NULL, r"(?i)\bSET\s+NOT\s+NULL\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::NotNullAdded],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    let t = d.t;
    // `modify` with `null: false` adds `SET NOT NULL`, and a `default:` does not fill the
    // rows already NULL.
    let modified = d.modifies() && NULL_FALSE.is_match(t);
    let added = d.adds() && NULL_FALSE.is_match(t) && !DEFAULT.is_match(t);
    // `timestamps()` adds NOT NULL columns unless told otherwise.
    let timestamps = d.in_alter_block()
        && TIMESTAMPS.is_match(t)
        && !NULL_TRUE.is_match(t)
        && !DEFAULT.is_match(t);
    if modified || added || timestamps {
        out.push((Kind::NotNullAdded, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for column in s.added_columns() {
        if NOT_NULL.is_match(column) && sql::default(column).is_none() {
            out.push((Kind::NotNullAdded, s.altered.clone()));
        }
    }
    if SET_NOT_NULL.is_match(s.stmt) {
        out.push((Kind::NotNullAdded, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn not_null_without_a_default_on_an_existing_table() {
        let add = "    alter table(:posts) do\n      add :score, :integer, null: false\n    end";
        assert_eq!(found(add), [(NotNullAdded, 6, t("posts"))]);
        let modify =
            "    alter table(:posts) do\n      modify :title, :string, null: false\n    end";
        assert_eq!(kinds(modify), [ColumnTypeChanged, NotNullAdded]);
        let stamps = "    alter table(:posts) do\n      timestamps()\n    end";
        assert_eq!(kinds(stamps), [NotNullAdded]);
        for safe in [
            "    alter table(:posts) do\n      add :score, :integer, null: false, default: 0\n    end",
            "    alter table(:posts) do\n      timestamps(null: true)\n    end",
            "    create table(:tags) do\n      add :name, :string, null: false\n      timestamps()\n    end",
        ] {
            assert_eq!(kinds(safe), [], "{safe}");
        }
    }

    #[test]
    fn not_null_in_sql() {
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER COLUMN title SET NOT NULL"),
            [(NotNullAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN score numeric(10,2) NOT NULL"),
            [(NotNullAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD a int, ADD b int NOT NULL"),
            [(NotNullAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN score int NOT NULL DEFAULT 0"),
            []
        );
    }
}
