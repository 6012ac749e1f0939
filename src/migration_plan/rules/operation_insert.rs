//! `operation_insert`: `repo().insert_all(...)`, `Repo.insert`, `INSERT INTO`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name};

rule!(ROWS, r#"(?i)\bINSERT\s+INTO\s+([\w."$]*)"#);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::OperationInsert],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    for call in d.repo_calls() {
        if matches!(call, "insert_all" | "insert") {
            out.push((Kind::OperationInsert, None));
        }
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = ROWS.captures(s.stmt) {
        out.push((Kind::OperationInsert, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn rows_changed_through_the_repo_and_in_sql() {
        assert_eq!(
            kinds("    repo().insert_all(\"tags\", [%{name: \"a\"}])"),
            [OperationInsert]
        );
        assert_eq!(
            in_sql("INSERT INTO tags (name) VALUES ('a')"),
            [(OperationInsert, t("tags"))]
        );
    }
}
