//! `column_removed`: `remove :col`, `ALTER TABLE ... DROP [COLUMN]`.

use super::{
    Kind, Out, Rule,
    dsl::Dsl,
    sql::{Dropped, Sql},
};

rule!(REMOVE, r#"^\s*remove(?:_if_exists)?\s*\(?\s*[:"\w]"#);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ColumnRemoved],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if REMOVE.is_match(d.t) {
        out.push((Kind::ColumnRemoved, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for dropped in s.dropped() {
        if dropped == Dropped::Column {
            out.push((Kind::ColumnRemoved, s.altered.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn removed_columns_with_and_without_the_column_keyword() {
        for body in [
            "    alter table(:posts) do\n      remove :title\n    end",
            "    alter table(:posts) do\n      remove_if_exists :title, :string\n    end",
            "    alter table(:posts) do\n      remove column\n    end",
        ] {
            assert_eq!(found(body), [(ColumnRemoved, 6, t("posts"))], "{body}");
        }
        assert_eq!(
            in_sql("ALTER TABLE posts DROP COLUMN body"),
            [(ColumnRemoved, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts DROP body"),
            [(ColumnRemoved, t("posts"))],
            "DROP without COLUMN"
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER body DROP DEFAULT"),
            [],
            "not a removal"
        );
        assert_eq!(
            kinds(
                "    create table(:posts)\n    alter table(:posts) do\n      remove :title\n    end"
            ),
            []
        );
    }
}
