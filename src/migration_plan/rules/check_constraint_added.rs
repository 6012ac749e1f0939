//! `check_constraint_added`: a check (or exclusion) constraint that validates at once:
//! `create constraint(...)` without `validate: false`, `ADD CONSTRAINT ... CHECK` without
//! `NOT VALID`, any `EXCLUDE` (it cannot be `NOT VALID`).

use super::{
    Kind, Out, Rule,
    dsl::{Dsl, VALIDATE_FALSE},
    sql::{Added, Sql},
    table_name,
};

rule!(
    CREATE_CONSTRAINT,
    r#"^\s*create\s*\(?\s*constraint\s*\(\s*[:"]?([\w.]*)"#
);
rule!(EXCLUDE, r"\bexclude:");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::CheckConstraintAdded],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(c) = CREATE_CONSTRAINT.captures(d.t)
        && (EXCLUDE.is_match(d.t) || !VALIDATE_FALSE.is_match(d.t))
    {
        out.push((Kind::CheckConstraintAdded, table_name(&c[1])));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for added in s.added_constraints() {
        if added == Added::Check {
            out.push((Kind::CheckConstraintAdded, s.altered.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn checks_that_validate_at_once() {
        let check = "    create constraint(:posts, :positive, check: \"n > 0\")";
        assert_eq!(kinds(check), [CheckConstraintAdded]);
        let unvalidated =
            "    create constraint(:posts, :positive, check: \"n > 0\", validate: false)";
        assert_eq!(kinds(unvalidated), []);
        let exclusion = "    create constraint(:r, :no_overlap, exclude: ~s|gist (r WITH &&)|, validate: false)";
        assert_eq!(
            kinds(exclusion),
            [CheckConstraintAdded],
            "cannot be NOT VALID"
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD CONSTRAINT pos CHECK (n > 0)"),
            [(CheckConstraintAdded, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD CONSTRAINT pos CHECK (n > 0) NOT VALID"),
            []
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD CONSTRAINT pos CHECK (kind <> 'unique')"),
            [(CheckConstraintAdded, t("posts"))],
            "a check, not a unique constraint"
        );
    }
}
