//! `constraint_dropped`: `drop constraint(...)`, `ALTER TABLE ... DROP CONSTRAINT`.

use super::{
    Kind, Out, Rule,
    dsl::Dsl,
    sql::{Dropped, Sql},
    table_name,
};

rule!(
    DROP_CONSTRAINT,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*constraint\s*\(\s*[:"]?([\w.]*)"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ConstraintDropped],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(c) = DROP_CONSTRAINT.captures(d.t) {
        out.push((Kind::ConstraintDropped, table_name(&c[1])));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for dropped in s.dropped() {
        if dropped == Dropped::Constraint {
            out.push((Kind::ConstraintDropped, s.altered.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn dropped_constraints_are_not_dropped_columns() {
        assert_eq!(
            kinds("    drop constraint(:posts, \"posts_user_id_fkey\")"),
            [ConstraintDropped]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts DROP IF EXISTS body, DROP CONSTRAINT posts_fk"),
            [(ColumnRemoved, t("posts")), (ConstraintDropped, t("posts"))]
        );
    }
}
