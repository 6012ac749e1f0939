//! The rules on the Ecto DSL: one expression of code (comments and SQL blanked) at a time.

use super::{Flags, Kind, table_name};

rule!(
    CREATE_TABLE,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]+)"#
);
rule!(
    DROP_TABLE,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)"#
);
rule!(
    ALTER_KEYWORD,
    r#"^\s*alter\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*do:\s*"#
);
rule!(REMOVE, r#"^\s*remove(?:_if_exists)?\s*\(?\s*[:"\w]"#);
rule!(
    RENAME_TABLE,
    r#"^\s*rename\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*to\s*:"#
);
rule!(
    RENAME_COLUMN,
    r#"^\s*rename\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*[:"]"#
);
rule!(MODIFY, r#"^\s*modify\s*\(?\s*[:"]"#);
rule!(ADD, r#"^\s*add(?:_if_not_exists)?\s*\(?\s*[:"]"#);
rule!(TIMESTAMPS, r"^\s*timestamps\b");
rule!(NULL_FALSE, r"\bnull:\s*false\b");
rule!(NULL_TRUE, r"\bnull:\s*true\b");
rule!(DEFAULT, r"\bdefault:");
rule!(REFERENCES, r"\breferences\s*\(");
rule!(VALIDATE_FALSE, r"\bvalidate:\s*false\b");
rule!(
    CREATE_INDEX,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*(?:unique_)?index\s*\(\s*[:"]?([\w.]*)"#
);
rule!(
    DROP_INDEX,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*(?:unique_)?index\s*\(\s*[:"]?([\w.]*)"#
);
rule!(
    CREATE_CONSTRAINT,
    r#"^\s*create\s*\(?\s*constraint\s*\(\s*[:"]?([\w.]*)"#
);
rule!(EXCLUDE, r"\bexclude:");
rule!(UNIQUE, r"\bunique_index\b|\bunique:\s*true\b");
rule!(COLUMNS, r"index\s*\([^,\[]*,\s*\[([^\]]*)\]");
rule!(
    DROP_CONSTRAINT,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*constraint\s*\(\s*[:"]?([\w.]*)"#
);
rule!(CONCURRENTLY, r"\bconcurrently:\s*true\b");
rule!(EXECUTE, r"(?:^\s*|\bdo:\s*)execute(?:_file)?\b");
rule!(REPO_QUERY, r"\brepo\(\)\s*\.\s*query!?\s*\(");
rule!(
    REPO_CALL,
    r"(?:\brepo\(\)|\b[A-Z]\w*(?:\.[A-Z]\w*)*\.Repo)\s*\.\s*(delete_all|delete!?|update_all|update!?|insert_all|insert!?)\s*\("
);
rule!(
    JSON_TYPE,
    r#"^\s*add(?:_if_not_exists)?\s*\(?\s*[:"]?\w+"?\s*,\s*:json\b"#
);
rule!(
    SERIAL_TYPE,
    r"^\s*add(?:_if_not_exists)?\s*\(?\s*[^,]+,\s*:(?:big|small)?serial\b"
);
rule!(GENERATED, r"\bgenerated:");
rule!(
    COERCIBLE,
    r#"^\s*modify\s*\(?\s*[:"]?\w+"?\s*,\s*:text\s*,\s*from:\s*(?::string|:text|:citext|\{\s*:string\b)"#
);
rule!(
    SAME_TYPE,
    r#"^\s*modify\s*\(?\s*[:"]?\w+"?\s*,\s*:(\w+)\b.*\bfrom:\s*(?:\{\s*)?:(\w+)\b"#
);
rule!(PRIMARY_KEY, r"\bprimary_key:\s*true\b");
rule!(SIZED, r"\b(?:size|precision|scale):");
rule!(HELPER, r"^\s*defp\s+(\w+)");
rule!(
    DSL_CALL,
    r"^\s*(?:create|create_if_not_exists|alter|drop|drop_if_exists|rename|remove|modify|execute|add)\b"
);

/// The DSL rules on one statement of code (`t`), with its source (`src`, the same offsets);
/// `alter` is the table of the enclosing `alter table(...) do` block, if any (`Some(None)`
/// when its name was not a literal).
pub(super) fn rules(
    t: &str,
    src: &str,
    alter: Option<Option<String>>,
    flags: Flags,
    creates: &mut Vec<String>,
) -> Vec<(Kind, Option<String>)> {
    let mut out = Vec::new();
    if let Some(c) = CREATE_TABLE.captures(t) {
        creates.extend(table_name(&c[1]));
    }
    // `alter table(:t), do: remove(:c)`: the rest is the block's one statement.
    if let Some(c) = ALTER_KEYWORD.captures(t) {
        let at = c.get(0).map_or(0, |m| m.end());
        let table = Some(table_name(&c[1]));
        return rules(&t[at..], &src[at..], table, flags, creates);
    }
    if let Some(c) = DROP_TABLE.captures(t) {
        out.push((Kind::TableDropped, table_name(&c[1])));
    }
    let in_alter = alter.clone().flatten();
    let in_alter_block = alter.is_some();
    if REMOVE.is_match(t) {
        out.push((Kind::ColumnRemoved, in_alter.clone()));
    }
    if let Some(c) = RENAME_TABLE.captures(t) {
        out.push((Kind::TableRenamed, table_name(&c[1])));
    } else if let Some(c) = RENAME_COLUMN.captures(t) {
        out.push((Kind::ColumnRenamed, table_name(&c[1])));
    }
    if MODIFY.is_match(t) {
        // Ecto's `modify` always emits `ALTER COLUMN ... TYPE`; with `null: false` it
        // adds `SET NOT NULL`, and a `default:` does not fill the rows already NULL.
        // varchar to text is binary coercible: no rewrite, no client sees a change.
        // `from:` the same type: Ecto still emits `TYPE`, which Postgres does without a
        // rewrite (a change of NULL or default only), unless a size or precision changes.
        let same = SAME_TYPE.captures(t).is_some_and(|c| c[1] == c[2]) && !SIZED.is_match(t);
        let kind = if same || COERCIBLE.is_match(t) {
            Kind::ColumnTypeCoercible
        } else {
            Kind::ColumnTypeChanged
        };
        out.push((kind, in_alter.clone()));
        if NULL_FALSE.is_match(t) {
            out.push((Kind::NotNullAdded, in_alter.clone()));
        }
        if NULL_TRUE.is_match(t) {
            out.push((Kind::NotNullRemoved, in_alter.clone()));
        }
    }
    let adds = in_alter_block && ADD.is_match(t);
    if adds && NULL_FALSE.is_match(t) && !DEFAULT.is_match(t) {
        out.push((Kind::NotNullAdded, in_alter.clone()));
    }
    // `timestamps()` adds NOT NULL columns unless told otherwise.
    if in_alter_block && TIMESTAMPS.is_match(t) && !NULL_TRUE.is_match(t) && !DEFAULT.is_match(t) {
        out.push((Kind::NotNullAdded, in_alter.clone()));
    }
    if (adds || MODIFY.is_match(t)) && REFERENCES.is_match(t) && !VALIDATE_FALSE.is_match(t) {
        out.push((Kind::ColumnReferenceAdded, in_alter.clone()));
    }
    if (adds || MODIFY.is_match(t)) && volatile_default(src) {
        out.push((Kind::ColumnVolatileDefault, in_alter.clone()));
    }
    if adds && (SERIAL_TYPE.is_match(t) || GENERATED.is_match(t)) {
        out.push((Kind::TableRewritten, in_alter.clone()));
    }
    if adds && PRIMARY_KEY.is_match(t) {
        out.push((Kind::UniqueConstraintAdded, in_alter.clone()));
    }
    if ADD.is_match(t) && JSON_TYPE.is_match(t) {
        out.push((Kind::JsonColumnAdded, in_alter.clone()));
    }
    if let Some(c) = CREATE_INDEX.captures(t)
        && !UNIQUE.is_match(t)
        && COLUMNS
            .captures(t)
            .is_some_and(|cols| cols[1].split(',').filter(|c| !c.trim().is_empty()).count() > 3)
    {
        out.push((Kind::ManyColumnsIndex, table_name(&c[1])));
    }
    let index = CREATE_INDEX.captures(t).or_else(|| DROP_INDEX.captures(t));
    if let Some(c) = index {
        let table = table_name(&c[1]);
        if !CONCURRENTLY.is_match(t) {
            out.push((Kind::IndexNotConcurrently, table));
        } else {
            if flags.transaction {
                out.push((
                    Kind::IndexConcurrentlyWithoutDisableDdlTransaction,
                    table.clone(),
                ));
            }
            if flags.migration_lock {
                out.push((Kind::IndexConcurrentlyWithoutDisableMigrationLock, table));
            }
        }
    }
    if let Some(c) = CREATE_CONSTRAINT.captures(t)
        && (EXCLUDE.is_match(t) || !VALIDATE_FALSE.is_match(t))
    {
        out.push((Kind::CheckConstraintAdded, table_name(&c[1])));
    }
    if let Some(c) = DROP_CONSTRAINT.captures(t) {
        out.push((Kind::ConstraintDropped, table_name(&c[1])));
    }
    if EXECUTE.is_match(t) || REPO_QUERY.is_match(t) {
        out.push((Kind::RawSqlExecuted, None));
    }
    for c in REPO_CALL.captures_iter(t) {
        let kind = match c[1].trim_end_matches('!') {
            "delete_all" | "delete" => Kind::OperationDelete,
            "update_all" | "update" => Kind::OperationUpdate,
            _ => Kind::OperationInsert,
        };
        out.push((kind, None));
    }
    out
}

/// The name of the helper function a statement defines (`defp name`), when it is one.
pub(super) fn helper(t: &str) -> Option<&str> {
    HELPER
        .captures(t)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Whether a statement calls the migration DSL.
pub(super) fn calls_dsl(t: &str) -> bool {
    DSL_CALL.is_match(t)
}

/// Whether a statement has a Postgres function in a `default: fragment("...")` that is not
/// known to be stable: such a default is evaluated for every existing row. `now()` and
/// its kin are evaluated once (squawk keeps the same kind of list).
fn volatile_default(src: &str) -> bool {
    rule!(
        FRAGMENT,
        r#"\bdefault:\s*fragment\(\s*(?:"([^"]*)"|~[sS]?[(\[{|"]([^)\]}|"]*))"#
    );
    FRAGMENT.captures(src).is_some_and(|c| {
        let sql = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        super::sql::volatile(sql)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, kinds, t};
    use super::Kind::*;

    #[test]
    fn the_keyword_form_of_alter_is_a_block_of_one() {
        assert_eq!(
            found("    alter table(:posts), do: remove(:title)"),
            [(ColumnRemoved, 5, t("posts"))]
        );
        assert_eq!(
            found("    alter table(:posts) do\n      remove column\n    end"),
            [(ColumnRemoved, 6, t("posts"))],
            "remove(var)"
        );
        assert_eq!(
            kinds("    alter table(:posts), do: add(:n, :integer, null: false)"),
            [NotNullAdded]
        );
    }

    #[test]
    fn varchar_to_text_is_a_warning_not_destructive() {
        let body = "    alter table(:posts) do\n      modify :title, :text, from: :string\n    end";
        assert_eq!(kinds(body), [ColumnTypeCoercible]);
        assert!(!ColumnTypeCoercible.destructive());
        let other = "    alter table(:posts) do\n      modify :n, :bigint, from: :integer\n    end";
        assert_eq!(kinds(other), [ColumnTypeChanged]);
        let same = "    alter table(:posts) do\n      modify :on, :boolean, default: false, from: {:boolean, default: true}\n    end";
        assert_eq!(
            kinds(same),
            [ColumnTypeCoercible],
            "only the default changes"
        );
        let shorter = "    alter table(:posts) do\n      modify :t, :string, size: 80, from: {:string, size: 255}\n    end";
        assert_eq!(
            kinds(shorter),
            [ColumnTypeChanged],
            "a shorter varchar is checked"
        );
        let no_from = "    alter table(:posts) do\n      modify :title, :text\n    end";
        assert_eq!(kinds(no_from), [ColumnTypeChanged], "unknown old type");
    }

    #[test]
    fn foreign_keys_and_checks_that_validate_at_once() {
        let fk = "    alter table(:posts) do\n      add :user_id, references(:users)\n    end";
        assert_eq!(kinds(fk), [ColumnReferenceAdded]);
        let later = "    alter table(:posts) do\n      add :user_id, references(:users, validate: false)\n    end";
        assert_eq!(kinds(later), []);
        let in_create =
            "    create table(:posts) do\n      add :user_id, references(:users)\n    end";
        assert_eq!(kinds(in_create), [], "a new table has no rows to check");
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
            kinds("    drop constraint(:posts, \"posts_user_id_fkey\")"),
            [ConstraintDropped]
        );
    }

    #[test]
    fn volatile_defaults_but_not_now() {
        let uuid = "    alter table(:posts) do\n      add :uid, :uuid, default: fragment(\"gen_random_uuid()\")\n    end";
        assert_eq!(kinds(uuid), [ColumnVolatileDefault]);
        for stable in [
            "fragment(\"now()\")",
            "fragment(\"timezone('utc', now())\")",
            "fragment(\"'{}'::jsonb\")",
            "0",
        ] {
            let body =
                format!("    alter table(:posts) do\n      add :x, :t, default: {stable}\n    end");
            assert_eq!(kinds(&body), [], "{stable}");
        }
    }

    #[test]
    fn concurrent_indexes_need_the_migration_flags() {
        let body = "    create index(:posts, [:title], concurrently: true)";
        let (all, none) = (super::Flags::default(), super::Flags::NONE);
        let with = |flags| {
            super::super::analyze_with(&format!("def change do\n{body}\nend\n"), flags)
                .findings
                .into_iter()
                .map(|f| f.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            with(all),
            [
                IndexConcurrentlyWithoutDisableDdlTransaction,
                IndexConcurrentlyWithoutDisableMigrationLock
            ]
        );
        assert_eq!(with(none), []);
        let multi_line =
            "def change do\n  create index(:posts, [:title],\n    concurrently: true\n  )\nend\n";
        assert!(
            super::super::analyze_with(multi_line, none)
                .findings
                .is_empty()
        );
        assert_eq!(
            kinds("    drop index(:posts, [:title])"),
            [IndexNotConcurrently]
        );
    }

    #[test]
    fn data_changes_through_the_repo() {
        assert_eq!(
            kinds("    repo().delete_all(from(p in \"posts\"))"),
            [OperationDelete]
        );
        assert_eq!(kinds("    MyApp.Repo.delete_all(Post)"), [OperationDelete]);
        assert_eq!(
            kinds("    flush()\n    repo().update_all(\"posts\", set: [n: 0])"),
            [OperationUpdate]
        );
        assert_eq!(
            kinds("    repo().insert_all(\"tags\", [%{name: \"a\"}])"),
            [OperationInsert]
        );
    }

    #[test]
    fn json_serial_and_stored_generated_columns() {
        let json = "    alter table(:posts) do\n      add :meta, :json\n    end";
        assert_eq!(kinds(json), [JsonColumnAdded]);
        let jsonb = "    alter table(:posts) do\n      add :meta, :map\n    end";
        assert_eq!(kinds(jsonb), []);
        let serial = "    alter table(:posts) do\n      add :n, :bigserial\n    end";
        assert_eq!(kinds(serial), [TableRewritten]);
        let key =
            "    alter table(:posts) do\n      add :id, :bigserial, primary_key: true\n    end";
        assert_eq!(kinds(key), [UniqueConstraintAdded, TableRewritten]);
        let generated = "    alter table(:posts) do\n      add :l, :int, generated: \"ALWAYS AS (length(t)) STORED\"\n    end";
        assert_eq!(kinds(generated), [TableRewritten]);
    }

    #[test]
    fn null_true_and_wide_indexes() {
        let body = "    alter table(:posts) do\n      modify :title, :string, null: true\n    end";
        assert_eq!(kinds(body), [ColumnTypeChanged, NotNullRemoved]);
        assert_eq!(
            kinds("    create index(:posts, [:a, :b, :c, :d])"),
            [IndexNotConcurrently, ManyColumnsIndex]
        );
        assert_eq!(
            kinds("    create unique_index(:posts, [:a, :b, :c, :d])"),
            [IndexNotConcurrently]
        );
        assert_eq!(
            kinds("    create index(:posts, [:a, :b, :c])"),
            [IndexNotConcurrently]
        );
    }
}
