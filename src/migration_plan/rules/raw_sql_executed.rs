//! `raw_sql_executed`: `execute`, `execute_file`, `repo().query`: SQL the DSL rules cannot
//! judge (the SQL rules still read its string literals).

use super::{EXECUTE, Kind, Out, Rule, dsl::Dsl, no_sql};

rule!(REPO_QUERY, r"\brepo\(\)\s*\.\s*query!?\s*\(");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::RawSqlExecuted],
    file: file!(),
    dsl,
    sql: no_sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if EXECUTE.is_match(d.t) || REPO_QUERY.is_match(d.t) {
        out.push((Kind::RawSqlExecuted, None));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, kinds};
    use super::Kind::*;

    #[test]
    fn raw_sql_in_its_forms() {
        for body in [
            "    execute \"SELECT 1\"",
            "    execute(fn -> repo().query!(\"SELECT 1\", []) end)",
            "    execute_file \"priv/sql/up.sql\", \"priv/sql/down.sql\"",
        ] {
            assert_eq!(found(body), [(RawSqlExecuted, 5, None)], "{body}");
        }
        let query = "    flush()\n    repo().query!(\"UPDATE posts SET n = 0\")";
        assert_eq!(
            found(query),
            [
                (OperationUpdate, 6, Some("posts".to_owned())),
                (RawSqlExecuted, 6, None)
            ]
        );
        assert_eq!(kinds("    executed = 1"), []);
    }
}
