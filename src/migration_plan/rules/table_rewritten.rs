//! `table_rewritten`: `VACUUM FULL`, `CLUSTER`, `REINDEX` without `CONCURRENTLY`, `SET
//! LOGGED`/`UNLOGGED`, `SET ACCESS METHOD`, `DETACH PARTITION` without `CONCURRENTLY` or
//! `FINALIZE`, and columns that rewrite every row (serial, stored generated, identity).

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql};

rule!(
    SERIAL_TYPE,
    r"^\s*add(?:_if_not_exists)?\s*\(?\s*[^,]+,\s*:(?:big|small)?serial\b"
);
rule!(GENERATED, r"\bgenerated:");
rule!(
    REWRITING_COLUMN,
    r"(?i)^\s*(?:big|small)?serial\b|\bGENERATED\b.*\b(?:STORED|IDENTITY)\b"
);
rule!(
    MAINTENANCE,
    r"(?i)^\s*(?:VACUUM\s+(?:\(\s*)?FULL\b|CLUSTER\b|REINDEX\b)"
);
rule!(
    LOCKING_ACTION,
    r"(?i)\bSET\s+(?:UN)?LOGGED\b|\bSET\s+ACCESS\s+METHOD\b|\bDETACH\s+PARTITION\b"
);
rule!(
    CONCURRENTLY_OR_FINALIZE,
    r"(?i)\b(?:CONCURRENTLY|FINALIZE)\b"
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::TableRewritten],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if d.adds() && (SERIAL_TYPE.is_match(d.t) || GENERATED.is_match(d.t)) {
        out.push((Kind::TableRewritten, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    let locking = MAINTENANCE.is_match(s.stmt) || LOCKING_ACTION.is_match(s.stmt);
    if locking && !CONCURRENTLY_OR_FINALIZE.is_match(s.stmt) {
        out.push((Kind::TableRewritten, None));
    }
    for column in s.added_columns() {
        if REWRITING_COLUMN.is_match(column) {
            out.push((Kind::TableRewritten, s.altered.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn columns_that_rewrite_the_table() {
        assert_eq!(
            kinds("    alter table(:posts) do\n      add :n, :bigserial\n    end"),
            [TableRewritten]
        );
        let generated = "    alter table(:posts) do\n      add :l, :int, generated: \"ALWAYS AS (length(t)) STORED\"\n    end";
        assert_eq!(kinds(generated), [TableRewritten]);
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN n bigserial"),
            [(TableRewritten, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY"),
            [(TableRewritten, t("posts"))]
        );
    }

    #[test]
    fn maintenance_that_locks() {
        for sql in [
            "VACUUM FULL posts",
            "CLUSTER posts USING posts_pkey",
            "REINDEX TABLE posts",
            "ALTER TABLE posts SET UNLOGGED",
            "ALTER TABLE p DETACH PARTITION p1",
        ] {
            assert!(
                in_sql(sql).iter().any(|(k, _)| *k == TableRewritten),
                "{sql}"
            );
        }
        for sql in [
            "REINDEX TABLE CONCURRENTLY posts",
            "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
            "VACUUM posts",
        ] {
            assert_eq!(in_sql(sql), [], "{sql}");
        }
    }
}
