//! `unique_constraint_added`: a unique constraint or primary key that builds its index
//! under ACCESS EXCLUSIVE: `ADD CONSTRAINT ... UNIQUE` (not `USING INDEX`), `ADD ... PRIMARY
//! KEY`, a column added `UNIQUE` or `primary_key: true`.

use super::{
    Kind, Out, Rule,
    dsl::Dsl,
    sql::{Added, Sql, UNIQUE_OR_KEY},
};

rule!(PRIMARY_KEY, r"\bprimary_key:\s*true\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::UniqueConstraintAdded],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if d.adds() && PRIMARY_KEY.is_match(d.t) {
        out.push((Kind::UniqueConstraintAdded, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    let keys = s
        .added_constraints()
        .into_iter()
        .filter(|a| *a == Added::Unique)
        .count();
    let columns = s
        .added_columns()
        .into_iter()
        .filter(|c| UNIQUE_OR_KEY.is_match(c))
        .count();
    for _ in 0..keys + columns {
        out.push((Kind::UniqueConstraintAdded, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn unique_constraints_and_primary_keys() {
        assert_eq!(
            in_sql("ALTER TABLE posts ADD CONSTRAINT u UNIQUE (slug)"),
            [(UniqueConstraintAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD CONSTRAINT u UNIQUE USING INDEX posts_slug"),
            []
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD PRIMARY KEY (id)"),
            [(UniqueConstraintAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN slug text UNIQUE"),
            [(UniqueConstraintAdded, t("posts"))]
        );
        let key =
            "    alter table(:posts) do\n      add :id, :bigserial, primary_key: true\n    end";
        assert_eq!(kinds(key), [UniqueConstraintAdded, TableRewritten]);
    }
}
