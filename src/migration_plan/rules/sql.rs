//! The rules on SQL: each string literal (interpolations left out), one SQL statement (up
//! to `;`) at a time, `--` and `/* */` comments ignored.

use super::{Flags, Kind, excerpt, table_name};

rule!(SQL_COMMENT, r"(?s)--[^\n]*|/\*.*?\*/");
rule!(
    ALTER_TABLE,
    r#"(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."$]*)"#
);
rule!(
    DROP_TABLE,
    r#"(?i)\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w."$]*)"#
);
rule!(
    DROP_ACTION,
    r#"(?is)^\s*DROP\s+(?:(CONSTRAINT)\b|(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?[\w"$]+)"#
);
rule!(RENAME_TO, r"(?i)\bRENAME\s+TO\b");
rule!(
    RENAME_COLUMN,
    r#"(?i)\bRENAME\s+(?:COLUMN\s+)?[\w"$]+\s+TO\b"#
);
rule!(
    TYPE,
    r#"(?i)\bALTER\s+(?:COLUMN\s+)?[\w"$]+\s+(?:SET\s+DATA\s+)?TYPE\b"#
);
rule!(SET_NOT_NULL, r"(?i)\bSET\s+NOT\s+NULL\b");
rule!(
    ADD_COLUMN,
    r#"(?is)^\s*ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\w"$]+)\s(.*)$"#
);
rule!(NOT_NULL, r"(?i)\bNOT\s+NULL\b");
rule!(DEFAULT, r"(?is)\bDEFAULT\s+(.*)$");
rule!(NOT_VALID, r"(?i)\bNOT\s+VALID\b");
rule!(USING_INDEX, r"(?i)\bUSING\s+INDEX\b");
rule!(REFERENCES, r"(?i)\bREFERENCES\b");
rule!(UNIQUE_OR_KEY, r"(?i)\b(?:UNIQUE|PRIMARY\s+KEY)\b");
rule!(JSON, r"(?i)^\s*json\b");
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
rule!(
    CREATE_INDEX,
    r#"(?is)\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(\s+CONCURRENTLY\b)?.*?\bON\s+(?:ONLY\s+)?([\w."$]+)"#
);
rule!(DROP_INDEX, r"(?i)^\s*DROP\s+INDEX\b(\s+CONCURRENTLY\b)?");
rule!(
    CREATE_TABLE,
    r#"(?i)\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."$]+)"#
);
rule!(
    TRUNCATE,
    r#"(?i)^\s*TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?([\w."$]*)"#
);
rule!(DELETE, r#"(?i)\bDELETE\s+FROM\s+(?:ONLY\s+)?([\w."$]*)"#);
rule!(
    UPDATE,
    r#"(?is)^\s*(?:WITH\b.*\)\s*)?UPDATE\s+(?:ONLY\s+)?([\w."$]+)\b.*\bSET\b"#
);
rule!(INSERT, r#"(?i)\bINSERT\s+INTO\s+([\w."$]*)"#);
rule!(DROP_SCHEMA, r"(?i)\bDROP\s+SCHEMA\b");
rule!(DROP_DATABASE, r"(?i)\bDROP\s+DATABASE\b");
rule!(RENAME_SCHEMA, r"(?i)^\s*ALTER\s+SCHEMA\b.*\bRENAME\s+TO\b");
rule!(RENAME_VALUE, r"(?i)^\s*ALTER\s+TYPE\b.*\bRENAME\s+VALUE\b");
rule!(
    TRANSACTION,
    r"(?i)^\s*(?:COMMIT|BEGIN|ROLLBACK|END|START\s+TRANSACTION|ABORT)\s*$"
);
rule!(DROP_NOT_NULL, r"(?i)\bDROP\s+NOT\s+NULL\b");
rule!(VALIDATE_CONSTRAINT, r"(?i)\bVALIDATE\s+CONSTRAINT\b");
rule!(
    CREATE_TRIGGER,
    r#"(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\b.*?\bON\s+(?:ONLY\s+)?([\w."$]+)"#
);
rule!(
    DOMAIN_CONSTRAINT,
    r"(?is)^\s*(?:ALTER\s+DOMAIN\b.*\bADD\s+(?:CONSTRAINT\b|CHECK\b)|CREATE\s+DOMAIN\b.*\bCHECK\b)"
);
rule!(ADD_VALUE, r"(?is)^\s*ALTER\s+TYPE\b.*\bADD\s+VALUE\b");
rule!(BEFORE_OR_AFTER, r"(?i)\b(?:BEFORE|AFTER)\s+'");
rule!(FUNCTION_CALL, r"([A-Za-z_][\w.]*)\s*\(");

/// Functions a default may call that Postgres does not evaluate again for every existing
/// row (stable or immutable), and SQL keywords that take brackets.
const NOT_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "statement_timestamp",
    "transaction_timestamp",
    "timezone",
    "lower",
    "upper",
    "coalesce",
    "array",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "to_jsonb",
    "to_json",
    "make_interval",
    "interval",
    "varchar",
    "numeric",
    "decimal",
    "char",
    "character",
    "timestamp",
    "timestamptz",
];

/// Whether a default expression calls a function not known to be stable.
pub(super) fn volatile(expression: &str) -> bool {
    let quoted = regex::Regex::new(r"'(?:[^']|'')*'").ok();
    let bare = quoted.map_or_else(
        || expression.to_owned(),
        |q| q.replace_all(expression, "''").into_owned(),
    );
    FUNCTION_CALL.captures_iter(&bare).any(|c| {
        let name = c[1]
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        !NOT_VOLATILE.contains(&name.as_str())
    })
}

/// What one SQL rule found: kind, lines before its statement in the literal, the
/// statement, table.
pub(super) type Found = (Kind, usize, String, Option<String>);

/// The SQL rules on one string literal.
pub(super) fn rules(text: &str, flags: Flags, creates: &mut Vec<String>) -> Vec<Found> {
    // Comments become blanks, line breaks kept, so that lines still count.
    let clean = SQL_COMMENT.replace_all(text, |c: &regex::Captures<'_>| {
        c[0].chars()
            .map(|ch| if ch == '\n' { '\n' } else { ' ' })
            .collect::<String>()
    });
    let mut out = Vec::new();
    let mut lines = 0;
    for stmt in clean.split_inclusive(';') {
        let lead = &stmt[..stmt.len() - stmt.trim_start().len()];
        let start = lines + lead.matches('\n').count();
        lines += stmt.matches('\n').count();
        let stmt = stmt.trim_end_matches(';');
        let shown = excerpt(stmt);
        let mut push = |kind, table: Option<String>| out.push((kind, start, shown.clone(), table));
        for (kind, table) in statement(stmt, flags, creates) {
            push(kind, table);
        }
    }
    out
}

/// The SQL rules on one statement.
fn statement(stmt: &str, flags: Flags, creates: &mut Vec<String>) -> Vec<(Kind, Option<String>)> {
    let mut out = Vec::new();
    let mut push = |kind, table| out.push((kind, table));
    if let Some(c) = CREATE_TABLE.captures(stmt) {
        creates.extend(table_name(&c[1]));
    }
    if let Some(c) = DROP_TABLE.captures(stmt) {
        push(Kind::TableDropped, table_name(&c[1]));
    }
    if let Some(c) = TRUNCATE.captures(stmt) {
        push(Kind::TableTruncated, table_name(&c[1]));
    }
    if let Some(c) = DELETE.captures(stmt) {
        push(Kind::OperationDelete, table_name(&c[1]));
    }
    if let Some(c) = UPDATE.captures(stmt) {
        push(Kind::OperationUpdate, table_name(&c[1]));
    }
    if let Some(c) = INSERT.captures(stmt) {
        push(Kind::OperationInsert, table_name(&c[1]));
    }
    if DROP_SCHEMA.is_match(stmt) {
        push(Kind::SchemaDropped, None);
    }
    if DROP_DATABASE.is_match(stmt) {
        push(Kind::DatabaseDropped, None);
    }
    if RENAME_SCHEMA.is_match(stmt) {
        push(Kind::SchemaRenamed, None);
    }
    if RENAME_VALUE.is_match(stmt) {
        push(Kind::EnumValueRenamed, None);
    }
    if VALIDATE_CONSTRAINT.is_match(stmt) && flags.transaction {
        push(Kind::ConstraintValidatedInSameTransaction, None);
    }
    if let Some(c) = CREATE_TRIGGER.captures(stmt) {
        push(Kind::TriggerCreated, table_name(&c[1]));
    }
    if DOMAIN_CONSTRAINT.is_match(stmt) {
        push(Kind::DomainConstraintAdded, None);
    }
    if ADD_VALUE.is_match(stmt) && !BEFORE_OR_AFTER.is_match(stmt) {
        push(Kind::EnumValueAppended, None);
    }
    if TRANSACTION.is_match(stmt) {
        push(Kind::TransactionNesting, None);
    }
    let locking = MAINTENANCE.is_match(stmt) || LOCKING_ACTION.is_match(stmt);
    if locking && !CONCURRENTLY_OR_FINALIZE.is_match(stmt) {
        push(Kind::TableRewritten, None);
    }
    let alter = ALTER_TABLE.captures(stmt);
    let altered = alter.as_ref().and_then(|c| table_name(&c[1]));
    if let Some(c) = &alter {
        if RENAME_TO.is_match(stmt) {
            push(Kind::TableRenamed, altered.clone());
        } else if RENAME_COLUMN.is_match(stmt) {
            push(Kind::ColumnRenamed, altered.clone());
        }
        let actions = &stmt[c.get(0).map_or(0, |m| m.end())..];
        for action in top_level(actions) {
            for kind in alter_action(action) {
                push(kind, altered.clone());
            }
        }
    }
    if TYPE.is_match(stmt) {
        push(Kind::ColumnTypeChanged, altered.clone());
    }
    if SET_NOT_NULL.is_match(stmt) {
        push(Kind::NotNullAdded, altered.clone());
    }
    if DROP_NOT_NULL.is_match(stmt) {
        push(Kind::NotNullRemoved, altered.clone());
    }
    let index = CREATE_INDEX
        .captures(stmt)
        .map(|c| (c.get(1).is_some(), table_name(&c[2])))
        .or_else(|| {
            DROP_INDEX
                .captures(stmt)
                .map(|c| (c.get(1).is_some(), None))
        });
    match index {
        Some((false, table)) => push(Kind::IndexNotConcurrently, table),
        Some((true, table)) if flags.transaction => {
            push(Kind::IndexConcurrentlyWithoutDisableDdlTransaction, table);
        }
        _ => {}
    }
    out
}

/// The rules on one action of an `ALTER TABLE`.
fn alter_action(action: &str) -> Vec<Kind> {
    let mut out = Vec::new();
    if let Some(d) = DROP_ACTION.captures(action) {
        out.push(if d.get(1).is_some() {
            Kind::ConstraintDropped
        } else {
            Kind::ColumnRemoved
        });
    }
    let Some(m) = ADD_COLUMN.captures(action) else {
        return out;
    };
    let name = m[1].trim_matches('"').to_ascii_uppercase();
    let rest = &m[2];
    let validates = !NOT_VALID.is_match(rest);
    match name.as_str() {
        "CONSTRAINT" | "FOREIGN" | "CHECK" | "EXCLUDE" | "UNIQUE" | "PRIMARY" => {
            let upper = format!("{name} {}", rest.to_ascii_uppercase());
            if upper.contains("FOREIGN KEY") && validates {
                out.push(Kind::ColumnReferenceAdded);
            } else if upper.contains("CHECK") && validates || upper.contains("EXCLUDE") {
                out.push(Kind::CheckConstraintAdded);
            } else if UNIQUE_OR_KEY.is_match(&upper) && !USING_INDEX.is_match(&upper) {
                out.push(Kind::UniqueConstraintAdded);
            }
        }
        _ => {
            let default = DEFAULT.captures(rest);
            if NOT_NULL.is_match(rest) && default.is_none() {
                out.push(Kind::NotNullAdded);
            }
            if default.is_some_and(|d| volatile(&d[1])) {
                out.push(Kind::ColumnVolatileDefault);
            }
            if REFERENCES.is_match(rest) {
                out.push(Kind::ColumnReferenceAdded);
            }
            if UNIQUE_OR_KEY.is_match(rest) {
                out.push(Kind::UniqueConstraintAdded);
            }
            if JSON.is_match(rest) {
                out.push(Kind::JsonColumnAdded);
            }
            if REWRITING_COLUMN.is_match(rest) {
                out.push(Kind::TableRewritten);
            }
        }
    }
    out
}

/// The comma-separated parts of an `ALTER TABLE`'s action list (commas inside brackets,
/// as in `numeric(10,2)`, do not separate).
fn top_level(actions: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0i32, 0);
    for (i, c) in actions.bytes().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                parts.push(&actions[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&actions[from..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kinds, t};
    use super::*;
    use Kind::*;

    /// The kinds found in `sql` run by `execute`, raw_sql_executed left out.
    fn in_sql(sql: &str) -> Vec<(Kind, Option<String>)> {
        super::super::tests::found(&format!("    execute \"{sql}\""))
            .into_iter()
            .filter(|(k, _, _)| *k != RawSqlExecuted)
            .map(|(k, _, table)| (k, table))
            .collect()
    }

    #[test]
    fn data_loss_the_old_rules_missed() {
        assert_eq!(
            in_sql("TRUNCATE posts CASCADE"),
            [(TableTruncated, t("posts"))]
        );
        assert_eq!(
            in_sql("truncate table only posts"),
            [(TableTruncated, t("posts"))]
        );
        assert_eq!(
            in_sql("DELETE FROM posts WHERE id > 3"),
            [(OperationDelete, t("posts"))]
        );
        assert_eq!(
            in_sql("DROP SCHEMA tenant_a CASCADE"),
            [(SchemaDropped, None)]
        );
        assert_eq!(in_sql("DROP DATABASE old"), [(DatabaseDropped, None)]);
        assert_eq!(
            in_sql("ALTER TABLE posts DROP body"),
            [(ColumnRemoved, t("posts"))],
            "DROP without COLUMN"
        );
        assert_eq!(
            in_sql("ALTER TABLE posts DROP IF EXISTS body, DROP CONSTRAINT posts_fk"),
            [(ColumnRemoved, t("posts")), (ConstraintDropped, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER SCHEMA tenant_a RENAME TO tenant_b"),
            [(SchemaRenamed, None)]
        );
        assert_eq!(
            in_sql("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'"),
            [(EnumValueRenamed, None)]
        );
    }

    #[test]
    fn drop_not_null_and_drop_default_are_not_removals() {
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER COLUMN body DROP NOT NULL"),
            [(NotNullRemoved, t("posts"))]
        );
        assert_eq!(in_sql("ALTER TABLE posts ALTER body DROP DEFAULT"), []);
    }

    #[test]
    fn constraints_that_validate_at_once() {
        assert_eq!(
            in_sql(
                "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)"
            ),
            [(ColumnReferenceAdded, t("posts"))]
        );
        assert_eq!(
            in_sql(
                "ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID"
            ),
            []
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN user_id bigint REFERENCES users"),
            [(ColumnReferenceAdded, t("posts"))]
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
    }

    #[test]
    fn columns_that_rewrite_or_break_queries() {
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN uid uuid DEFAULT gen_random_uuid()"),
            [(ColumnVolatileDefault, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN at timestamptz DEFAULT now()"),
            []
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN meta json"),
            [(JsonColumnAdded, t("posts"))]
        );
        assert_eq!(in_sql("ALTER TABLE posts ADD COLUMN meta jsonb"), []);
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN n bigserial"),
            [(TableRewritten, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY"),
            [(TableRewritten, t("posts"))]
        );
        assert!(volatile("random()") && volatile("clock_timestamp()"));
        assert!(!volatile("now()") && !volatile("'now()'") && !volatile("0"));
    }

    #[test]
    fn maintenance_that_locks_and_data_changes() {
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
        assert_eq!(
            in_sql("UPDATE posts SET n = 0"),
            [(OperationUpdate, t("posts"))]
        );
        assert_eq!(
            in_sql("INSERT INTO tags (name) VALUES ('a')"),
            [(OperationInsert, t("tags"))]
        );
        assert_eq!(
            kinds("    execute \"COMMIT\""),
            [TransactionNesting, RawSqlExecuted]
        );
        assert_eq!(
            in_sql("DROP INDEX posts_title_index"),
            [(IndexNotConcurrently, None)]
        );
        let concurrently =
            "def up do\n  execute \"CREATE INDEX CONCURRENTLY i ON posts (title)\"\nend\n";
        let kinds_with = |flags| -> Vec<Kind> {
            super::super::analyze_with(concurrently, flags)
                .findings
                .iter()
                .map(|f| f.kind)
                .collect()
        };
        assert_eq!(kinds_with(Flags::NONE), [RawSqlExecuted]);
        assert_eq!(
            kinds_with(Flags::default()),
            [
                IndexConcurrentlyWithoutDisableDdlTransaction,
                RawSqlExecuted
            ]
        );
    }

    #[test]
    fn the_one_statement_rules_of_rarer_locks() {
        assert_eq!(
            in_sql(
                "CREATE TRIGGER audit AFTER UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION audit()"
            ),
            [(TriggerCreated, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER DOMAIN positive ADD CONSTRAINT p CHECK (VALUE > 0)"),
            [(DomainConstraintAdded, None)]
        );
        assert_eq!(
            in_sql("CREATE DOMAIN positive AS int CHECK (VALUE > 0)"),
            [(DomainConstraintAdded, None)]
        );
        assert_eq!(in_sql("CREATE DOMAIN label AS text"), []);
        assert_eq!(
            in_sql("ALTER TYPE mood ADD VALUE 'meh'"),
            [(EnumValueAppended, None)]
        );
        assert_eq!(in_sql("ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'"), []);
    }

    #[test]
    fn validating_where_the_constraint_was_added_not_valid() {
        let same = "def up do\n  execute \"ALTER TABLE posts ADD CONSTRAINT pos CHECK (n > 0) NOT VALID\"\n  execute \"ALTER TABLE posts VALIDATE CONSTRAINT pos\"\nend\n";
        let kinds = |source: &str| -> Vec<Kind> {
            super::super::analyze(source)
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
