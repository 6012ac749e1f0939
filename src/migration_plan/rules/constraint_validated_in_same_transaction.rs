//! `constraint_validated_in_same_transaction`: `VALIDATE CONSTRAINT` in the transaction of
//! a migration that also adds a constraint `NOT VALID` (or `validate: false`): the scan runs
//! under the lock the addition took. The engine keeps the finding only when
//! [`adds_not_valid`] says the migration adds one.

use super::{
    Kind, Out, Rule,
    dsl::VALIDATE_FALSE,
    no_dsl,
    sql::{NOT_VALID, Sql},
};

rule!(VALIDATE_CONSTRAINT, r"(?i)\bVALIDATE\s+CONSTRAINT\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ConstraintValidatedInSameTransaction],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if VALIDATE_CONSTRAINT.is_match(s.stmt) && s.flags.transaction {
        out.push((Kind::ConstraintValidatedInSameTransaction, None));
    }
}

/// Whether the migration adds a constraint unvalidated: `validate: false` in its code or
/// `NOT VALID` in the SQL it runs.
pub(super) fn adds_not_valid<'a>(code: &str, mut sql: impl Iterator<Item = &'a str>) -> bool {
    VALIDATE_FALSE.is_match(code) || sql.any(|text| NOT_VALID.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::super::{Kind, analyze};
    use super::Kind::*;

    #[test]
    fn validating_where_the_constraint_was_added_not_valid() {
        let same = "def up do\n  execute \"ALTER TABLE posts ADD CONSTRAINT pos CHECK (n > 0) NOT VALID\"\n  execute \"ALTER TABLE posts VALIDATE CONSTRAINT pos\"\nend\n";
        let kinds = |source: &str| -> Vec<Kind> {
            analyze(source)
                .findings
                .iter()
                .map(|f| f.kind)
                .filter(|k| *k != RawSqlExecuted)
                .collect()
        };
        assert_eq!(kinds(same), [ConstraintValidatedInSameTransaction]);
        let dsl = "def change do\n  create constraint(:posts, :pos, check: \"n > 0\", validate: false)\n  execute \"ALTER TABLE posts VALIDATE CONSTRAINT pos\", \"\"\nend\n";
        assert_eq!(kinds(dsl), [ConstraintValidatedInSameTransaction]);
        let next = "def up do\n  execute \"ALTER TABLE posts VALIDATE CONSTRAINT pos\"\nend\n";
        assert_eq!(kinds(next), [], "the next migration validates");
        let outside = format!("@disable_ddl_transaction true\n{same}");
        assert_eq!(kinds(&outside), [], "no transaction holds the lock");
    }
}
