//! `operation_update`: `repo().update_all(...)`, `Repo.update`, `UPDATE ... SET`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name};

rule!(
    ROWS,
    r#"(?is)^\s*(?:WITH\b.*\)\s*)?UPDATE\s+(?:ONLY\s+)?([\w."$]+)\b.*\bSET\b"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::OperationUpdate],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    for call in d.repo_calls() {
        if matches!(call, "update_all" | "update") {
            out.push((Kind::OperationUpdate, None));
        }
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = ROWS.captures(s.stmt) {
        out.push((Kind::OperationUpdate, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn rows_changed_through_the_repo_and_in_sql() {
        assert_eq!(
            kinds("    flush()\n    repo().update_all(\"posts\", set: [n: 0])"),
            [OperationUpdate]
        );
        assert_eq!(
            in_sql("UPDATE posts SET n = 0"),
            [(OperationUpdate, t("posts"))]
        );
        assert_eq!(in_sql("SELECT updated_at FROM posts"), []);
    }
}
