//! `index_not_concurrently`: an index created or dropped without `concurrently` on a table
//! that already exists.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql};

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::IndexNotConcurrently],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some((table, false)) = d.index() {
        out.push((Kind::IndexNotConcurrently, table));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some((false, table)) = s.index() {
        out.push((Kind::IndexNotConcurrently, table));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn indexes_that_lock_writes() {
        for body in [
            "    create index(:posts, [:title])",
            "    create unique_index(\"posts\", [:slug], name: :posts_slug)",
            "    create_if_not_exists(index(:posts, [:title]))",
        ] {
            assert_eq!(
                found(body),
                [(IndexNotConcurrently, 5, t("posts"))],
                "{body}"
            );
        }
        assert_eq!(
            kinds("    drop index(:posts, [:title])"),
            [IndexNotConcurrently]
        );
        assert_eq!(
            in_sql("CREATE INDEX posts_title_index ON posts (title)"),
            [(IndexNotConcurrently, t("posts"))]
        );
        assert_eq!(
            in_sql("create unique index if not exists i on only public.posts using btree (title)"),
            [(IndexNotConcurrently, t("posts"))]
        );
        assert_eq!(
            in_sql("DROP INDEX posts_title_index"),
            [(IndexNotConcurrently, None)]
        );
        assert_eq!(
            kinds("    create table(\"tags\")\n    create unique_index(\"tags\", [:name])"),
            [],
            "a new table"
        );
    }
}
