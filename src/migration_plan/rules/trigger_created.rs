//! `trigger_created`: `CREATE TRIGGER`.

use super::{Kind, Out, Rule, no_dsl, sql::Sql, table_name};

rule!(
    CREATE_TRIGGER,
    r#"(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\b.*?\bON\s+(?:ONLY\s+)?([\w."$]+)"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TriggerCreated],
    file: file!(),
    dsl: no_dsl,
    sql,
};

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = CREATE_TRIGGER.captures(s.stmt) {
        out.push((Kind::TriggerCreated, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, t};
    use super::Kind::*;

    #[test]
    fn triggers_on_existing_tables() {
        assert_eq!(
            in_sql(
                "CREATE TRIGGER audit AFTER UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION audit()"
            ),
            [(TriggerCreated, t("posts"))]
        );
        assert_eq!(
            in_sql(
                "CREATE TABLE notes (id int); CREATE TRIGGER a BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION f()"
            ),
            [],
            "a new table"
        );
    }
}
