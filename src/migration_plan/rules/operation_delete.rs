//! `operation_delete`: `repo().delete_all(...)`, `Repo.delete`, `DELETE FROM`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql, table_name};

rule!(ROWS, r#"(?i)\bDELETE\s+FROM\s+(?:ONLY\s+)?([\w."$]*)"#);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::OperationDelete],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    for call in d.repo_calls() {
        if matches!(call, "delete_all" | "delete") {
            out.push((Kind::OperationDelete, None));
        }
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if let Some(c) = ROWS.captures(s.stmt) {
        out.push((Kind::OperationDelete, table_name(&c[1])));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn rows_changed_through_the_repo_and_in_sql() {
        assert_eq!(
            kinds("    repo().delete_all(from(p in \"posts\"))"),
            [OperationDelete]
        );
        assert_eq!(kinds("    MyApp.Repo.delete_all(Post)"), [OperationDelete]);
        assert_eq!(kinds("    MyApp.Repo.delete!(post)"), [OperationDelete]);
        assert_eq!(
            in_sql("DELETE FROM posts WHERE id > 3"),
            [(OperationDelete, t("posts"))]
        );
    }
}
