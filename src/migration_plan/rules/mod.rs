//! The detection rules: what in a migration's source, as shipped in the image, makes it
//! risky. They read the text (nothing is run): regular expressions over the Ecto DSL in the
//! code, and over the SQL in string literals. docs/guide/plan-and-policy.md lists them, and
//! what they do not see.

use std::ops::Range;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub use super::kind::Kind;
use super::lexer;

/// One risky operation found in a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What it is.
    pub kind: Kind,
    /// Whether the kind is destructive.
    pub destructive: bool,
    /// The line of the migration file (1-based).
    pub line: u32,
    /// The code or SQL, on one line, shortened.
    pub text: String,
    /// The table it touches, when the rule can tell.
    pub table: Option<String>,
    /// Marked as reviewed in the migration (`@safety_assured`, or excellent_migrations'
    /// safety-assured comments): shown, never a reason to refuse.
    pub assured: bool,
}

/// What the rules found in one migration file.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The findings, by line.
    pub findings: Vec<Finding>,
    /// The tables the migration creates (lowercase, without schema).
    pub creates: Vec<String>,
}

/// A rule's regular expression, compiled once.
pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("rule {pattern:?}: {e}"))
}

macro_rules! rule {
    ($name:ident, $pattern:expr) => {
        static $name: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| $crate::migration_plan::rules::re($pattern));
    };
}

mod dsl;
mod sql;

// The shape of the code, one statement at a time.
rule!(DEF_DOWN, r"^\s*defp?\s+down\b");
rule!(DEF, r"^\s*defp?\s+\w+");
rule!(ENDS_WITH_DO, r"\bdo\s*$");
rule!(
    ALTER_BLOCK,
    r#"^\s*alter\s*\(?\s*table\s*\(\s*[:"]?([\w.]+)"#
);
rule!(EXECUTE, r"(?:^\s*|\bdo:\s*)execute(?:_file)?\b");
rule!(
    ASSURED_ATTRIBUTE,
    r"^\s*@safety_assured\s*\(?\s*(true|:all|\[[^\]]*\])"
);
rule!(ATOM, r":(\w+)");
rule!(
    ASSURED_COMMENT,
    r"excellent_migrations:safety-assured-for-(this-file|next-line)\s+(\w+)"
);
rule!(NOT_VALID, r"(?i)\bNOT\s+VALID\b");
rule!(VALIDATE_FALSE, r"\bvalidate:\s*false\b");
rule!(ATTRIBUTE_DEF, r"^\s*@(\w+)\b");
rule!(ATTRIBUTE_USE, r"@(\w+)\b");
rule!(
    NO_TRANSACTION,
    r"(?m)^\s*@disable_ddl_transaction\s*\(?\s*true\b"
);
rule!(
    NO_MIGRATION_LOCK,
    r"(?m)^\s*@disable_migration_lock\s*\(?\s*true\b"
);

/// Module attributes whose strings are documentation or settings, never SQL.
const NOT_SQL_ATTRIBUTES: &[&str] = &["moduledoc", "doc", "shortdoc", "typedoc", "safety_assured"];

/// How Ecto runs the migration, as `__migration__/0` says (in `plan`) or the source's
/// attributes (in `lint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// In a transaction (no `@disable_ddl_transaction true`).
    pub transaction: bool,
    /// Under Ecto's migration lock (no `@disable_migration_lock true`).
    pub migration_lock: bool,
}

impl Default for Flags {
    /// Ecto's defaults: a transaction, under the migration lock.
    fn default() -> Self {
        Self {
            transaction: true,
            migration_lock: true,
        }
    }
}

impl Flags {
    /// Neither a transaction nor the migration lock.
    pub const NONE: Flags = Flags {
        transaction: false,
        migration_lock: false,
    };

    /// The flags the source sets with `@disable_ddl_transaction true` and
    /// `@disable_migration_lock true`.
    pub fn of_source(source: &str) -> Flags {
        let code = lexer::lex(source).code;
        Flags {
            transaction: !NO_TRANSACTION.is_match(&code),
            migration_lock: !NO_MIGRATION_LOCK.is_match(&code),
        }
    }
}

/// A finding before the opt-outs are applied, with the statement it came from.
struct Raw {
    kind: Kind,
    line: u32,
    text: String,
    table: Option<String>,
    statement: Option<usize>,
}

/// Find the risky operations in a migration's source, with the flags its source sets.
pub fn analyze(source: &str) -> Analysis {
    analyze_with(source, Flags::of_source(source))
}

/// Find the risky operations in a migration's source that Ecto runs with these flags.
pub fn analyze_with(source: &str, flags: Flags) -> Analysis {
    let lexed = lexer::lex(source);
    let code = lexed.code.as_str();
    let stmts = lexer::statements(code, &lexed.strings);

    // What runs on migrate: not `down/0`, not the second argument of `execute/2`, not
    // documentation, and a module attribute's string only where the code uses it.
    let mut skipped: Vec<Range<usize>> = Vec::new();
    let mut attributes: Vec<(String, Range<usize>)> = Vec::new();
    let mut alters: Vec<(Range<usize>, Option<String>)> = Vec::new();
    let mut assured_file: Vec<Kind> = Vec::new();
    let mut unfollowed: Vec<(u32, String, &str)> = Vec::new();
    let mut helper: Option<(Range<usize>, u32, &str)> = None;
    for (i, s) in stmts.iter().enumerate() {
        let t = s.of(code);
        let found_end = lexer::block_end(code, &stmts, i);
        let end = found_end.unwrap_or(code.len());
        let block = || s.start..end;
        let opens = ENDS_WITH_DO.is_match(t) && (DEF.is_match(t) || ALTER_BLOCK.is_match(t));
        if opens && found_end.is_none() {
            unfollowed.push((
                s.line,
                excerpt(s.of(source)),
                "its `end` is not where `mix format` puts it",
            ));
        }
        if DEF_DOWN.is_match(t) {
            skipped.push(if ENDS_WITH_DO.is_match(t) {
                block()
            } else {
                s.start..s.end
            });
        } else if let Some(name) = dsl::helper(t) {
            helper = Some((block(), s.line, name));
        }
        if let Some((r, line, name)) = &helper
            && r.contains(&s.start)
            && r.start != s.start
            && dsl::calls_dsl(t)
        {
            unfollowed.push((
                *line,
                format!("defp {name}"),
                "the migration DSL in a helper function",
            ));
            helper = None;
        }
        if let Some(c) = ALTER_BLOCK.captures(t)
            && ENDS_WITH_DO.is_match(t)
        {
            alters.push((block(), table_name(&c[1])));
        }
        if EXECUTE.is_match(t)
            && let Some(at) = second_argument(t)
        {
            skipped.push(s.start + at..s.end);
        }
        if let Some(c) = ASSURED_ATTRIBUTE.captures(t) {
            assured_file.extend(assured_kinds(&c[1]));
        }
        if let Some(c) = ATTRIBUTE_DEF.captures(t) {
            if NOT_SQL_ATTRIBUTES.contains(&&c[1]) {
                skipped.push(s.start..s.end);
            } else {
                attributes.push((c[1].to_owned(), s.start..s.end));
            }
        }
    }
    let used: Vec<&str> = stmts
        .iter()
        .filter(|s| !skipped.iter().any(|r| r.contains(&s.start)))
        .filter(|s| !attributes.iter().any(|(_, r)| r.start == s.start))
        .flat_map(|s| {
            ATTRIBUTE_USE
                .captures_iter(s.of(code))
                .filter(|c| {
                    let at = s.start + c.get(0).map_or(0, |m| m.start());
                    !skipped.iter().any(|r| r.contains(&at))
                })
                .filter_map(|c| c.get(1).map(|m| m.as_str()))
        })
        .collect();
    for (name, r) in &attributes {
        if !used.contains(&name.as_str()) {
            skipped.push(r.clone());
        }
    }
    let live = |at: usize| !skipped.iter().any(|r| r.contains(&at));
    let statement_at = |at: usize| stmts.iter().position(|s| (s.start..s.end).contains(&at));

    let mut raw = Vec::new();
    let mut creates = Vec::new();
    for (i, s) in stmts.iter().enumerate().filter(|(_, s)| live(s.start)) {
        let alter = alters
            .iter()
            .find(|(r, _)| r.contains(&s.start) && r.start != s.start)
            .map(|(_, table)| table.clone());
        for (kind, table) in dsl::rules(s.of(code), s.of(source), alter, flags, &mut creates) {
            raw.push(Raw {
                kind,
                line: s.line,
                text: excerpt(s.of(source)),
                table,
                statement: Some(i),
            });
        }
    }
    for lit in lexed.strings.iter().filter(|l| live(l.start)) {
        for (kind, lines_before, text, table) in sql::rules(&lit.text, flags, &mut creates) {
            raw.push(Raw {
                kind,
                line: lit.line + u32::try_from(lines_before).unwrap_or(0),
                text,
                table,
                statement: statement_at(lit.start),
            });
        }
    }
    for (line, text, why) in unfollowed {
        raw.push(Raw {
            kind: Kind::SourceNotFollowed,
            line,
            text: format!("{text} ({why})"),
            table: None,
            statement: None,
        });
    }

    // Opt-outs: the attribute and this-file comments for the whole file, next-line
    // comments for the statement after them.
    let mut assured_next: Vec<(usize, Kind)> = Vec::new();
    for c in &lexed.comments {
        for cap in ASSURED_COMMENT.captures_iter(&c.text) {
            let Some(kind) = Kind::parse(&cap[2]) else {
                continue;
            };
            if &cap[1] == "this-file" {
                assured_file.push(kind);
            } else if let Some(next) = stmts.iter().position(|s| s.line > c.line) {
                assured_next.push((next, kind));
            }
        }
    }

    // A VALIDATE is only a problem next to the NOT VALID it follows.
    let adds_not_valid = VALIDATE_FALSE.is_match(code)
        || lexed
            .strings
            .iter()
            .any(|l| live(l.start) && NOT_VALID.is_match(&l.text));
    raw.retain(|r| r.kind != Kind::ConstraintValidatedInSameTransaction || adds_not_valid);
    creates.sort();
    creates.dedup();
    let mut findings: Vec<Finding> = raw
        .into_iter()
        // A table this migration creates is empty and unknown to running code.
        .filter(|r| !on_new_table(r.kind, r.table.as_deref(), &creates))
        .map(|r| Finding {
            kind: r.kind,
            destructive: r.kind.destructive(),
            line: r.line,
            assured: assured_file.contains(&r.kind)
                || r.statement
                    .is_some_and(|s| assured_next.contains(&(s, r.kind))),
            text: r.text,
            table: r.table,
        })
        .collect();
    findings.sort_by_key(|f| (f.line, f.kind));
    findings.dedup_by(|a, b| a.line == b.line && a.kind == b.kind);
    Analysis { findings, creates }
}

/// Whether a finding is one that does no harm because its table is among `created`.
pub fn on_new_table(kind: Kind, table: Option<&str>, created: &[String]) -> bool {
    kind.harmless_on_new_table() && table.is_some_and(|t| created.iter().any(|c| c == t))
}

/// `true` or `:all`: every kind; `[:column_removed, ...]`: those.
fn assured_kinds(value: &str) -> Vec<Kind> {
    let atoms = || ATOM.captures_iter(value).map(|c| c[1].to_owned());
    if value == "true" || atoms().any(|a| a == "all") {
        return Kind::all().collect();
    }
    atoms().filter_map(|a| Kind::parse(&a)).collect()
}

/// In an `execute` statement (code view), the offset of the comma before its second
/// argument: what follows is SQL for the way down.
fn second_argument(statement: &str) -> Option<usize> {
    let after = EXECUTE.find(statement)?.end();
    let rest = &statement[after..];
    let args_depth = i32::from(rest.trim_start().starts_with('('));
    let mut depth = 0;
    for (i, c) in rest.bytes().enumerate() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == args_depth => return Some(after + i),
            _ => {}
        }
    }
    None
}

/// A table's name as the rules compare them: no quotes, no schema, lowercase.
fn table_name(raw: &str) -> Option<String> {
    let name = raw
        .rsplit('.')
        .next()?
        .trim_matches('"')
        .to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

/// Code or SQL on one line, at most 120 characters.
fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 120 {
        return one_line;
    }
    one_line.chars().take(119).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What was found: (kind, line, table).
    pub(super) type Found = Vec<(Kind, u32, Option<String>)>;
    /// What was found in SQL: (kind, table).
    type FoundInSql = Vec<(Kind, Option<String>)>;

    /// The (kind, line, table) found in a migration whose `change/0` is `body`.
    pub(super) fn found(body: &str) -> Found {
        let source = format!(
            "defmodule Demo.Repo.Migrations.M do\n  use Ecto.Migration\n\n  def change do\n{body}\n  end\nend\n"
        );
        analyze(&source)
            .findings
            .into_iter()
            .map(|f| (f.kind, f.line, f.table))
            .collect()
    }

    /// The kinds found in a migration whose `change/0` is `body`.
    pub(super) fn kinds(body: &str) -> Vec<Kind> {
        found(body).into_iter().map(|(k, _, _)| k).collect()
    }

    /// A table's name as findings hold it.
    pub(super) fn t(name: &str) -> Option<String> {
        Some(name.to_owned())
    }

    use Kind::*;

    #[test]
    fn every_risky_dsl_form_is_found_on_its_line() {
        let cases: &[(&str, Found)] = &[
            (
                "    drop table(:posts)",
                vec![(TableDropped, 5, t("posts"))],
            ),
            (
                "    drop_if_exists table(\"posts\", prefix: \"t\")",
                vec![(TableDropped, 5, t("posts"))],
            ),
            (
                "    drop(table(:posts))",
                vec![(TableDropped, 5, t("posts"))],
            ),
            (
                "    alter table(:posts) do\n      remove :title\n    end",
                vec![(ColumnRemoved, 6, t("posts"))],
            ),
            (
                "    alter table(:posts) do\n      remove_if_exists :title, :string\n    end",
                vec![(ColumnRemoved, 6, t("posts"))],
            ),
            (
                "    rename table(:posts), to: table(:articles)",
                vec![(TableRenamed, 5, t("posts"))],
            ),
            (
                "    rename table(:posts), :title, to: :headline",
                vec![(ColumnRenamed, 5, t("posts"))],
            ),
            (
                "    alter table(:posts) do\n      modify :title, :text, from: :integer\n    end",
                vec![(ColumnTypeChanged, 6, t("posts"))],
            ),
            (
                "    alter table(:posts) do\n      modify :title, :string, null: false\n    end",
                vec![
                    (ColumnTypeChanged, 6, t("posts")),
                    (NotNullAdded, 6, t("posts")),
                ],
            ),
            (
                "    alter table(:posts) do\n      add :score, :integer, null: false\n    end",
                vec![(NotNullAdded, 6, t("posts"))],
            ),
            (
                "    alter table(:posts) do\n      add :author_id,\n        references(:users),\n        null: false\n    end",
                vec![
                    (NotNullAdded, 6, t("posts")),
                    (ColumnReferenceAdded, 6, t("posts")),
                ],
            ),
            (
                "    alter table(:posts) do\n      timestamps()\n    end",
                vec![(NotNullAdded, 6, t("posts"))],
            ),
            (
                "    create index(:posts, [:title])",
                vec![(IndexNotConcurrently, 5, t("posts"))],
            ),
            (
                "    create unique_index(\"posts\", [:slug], name: :posts_slug)",
                vec![(IndexNotConcurrently, 5, t("posts"))],
            ),
            (
                "    create_if_not_exists(index(:posts, [:title]))",
                vec![(IndexNotConcurrently, 5, t("posts"))],
            ),
            ("    execute \"SELECT 1\"", vec![(RawSqlExecuted, 5, None)]),
            (
                "    execute(fn -> repo().query!(\"SELECT 1\", []) end)",
                vec![(RawSqlExecuted, 5, None)],
            ),
            (
                "    execute_file \"priv/sql/up.sql\", \"priv/sql/down.sql\"",
                vec![(RawSqlExecuted, 5, None)],
            ),
            (
                "    flush()\n    repo().query!(\"UPDATE posts SET n = 0\")",
                vec![(OperationUpdate, 6, t("posts")), (RawSqlExecuted, 6, None)],
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(&found(body), expected, "{body}");
        }
    }

    #[test]
    fn safe_dsl_forms_are_not_flagged() {
        for body in [
            "    alter table(:posts) do\n      add :score, :integer, null: false, default: 0\n    end",
            "    alter table(:posts) do\n      add :score, :integer\n      add :note, :text, null: true\n    end",
            "    alter table(:posts) do\n      timestamps(null: true)\n    end",
            "    create table(:tags) do\n      add :name, :string, null: false\n      timestamps()\n    end\n    create index(:tags, [:name])",
            "    create table(\"tags\")\n    create unique_index(\"tags\", [:name])",
            "    # drop table(:posts) once nobody reads it\n    flush()",
            "    rename index(:posts, :old_name, to: :new_name)",
        ] {
            assert_eq!(kinds(body), [], "{body}");
        }
    }

    #[test]
    fn every_risky_sql_form_is_found() {
        let cases: &[(&str, FoundInSql)] = &[
            ("DROP TABLE legacy", vec![(TableDropped, t("legacy"))]),
            (
                "drop table if exists public.\\\"Legacy\\\"",
                vec![(TableDropped, t("legacy"))],
            ),
            (
                "ALTER TABLE posts DROP COLUMN body",
                vec![(ColumnRemoved, t("posts"))],
            ),
            (
                "ALTER TABLE posts RENAME TO articles",
                vec![(TableRenamed, t("posts"))],
            ),
            (
                "ALTER TABLE posts RENAME COLUMN title TO headline",
                vec![(ColumnRenamed, t("posts"))],
            ),
            (
                "ALTER TABLE ONLY posts RENAME title TO headline",
                vec![(ColumnRenamed, t("posts"))],
            ),
            (
                "ALTER TABLE posts ALTER COLUMN title TYPE varchar(200)",
                vec![(ColumnTypeChanged, t("posts"))],
            ),
            (
                "ALTER TABLE posts ALTER title SET DATA TYPE text",
                vec![(ColumnTypeChanged, t("posts"))],
            ),
            (
                "ALTER TABLE posts ALTER COLUMN title SET NOT NULL",
                vec![(NotNullAdded, t("posts"))],
            ),
            (
                "ALTER TABLE posts ADD COLUMN score numeric(10,2) NOT NULL",
                vec![(NotNullAdded, t("posts"))],
            ),
            (
                "ALTER TABLE posts ADD a int, ADD b int NOT NULL",
                vec![(NotNullAdded, t("posts"))],
            ),
            (
                "CREATE INDEX posts_title_index ON posts (title)",
                vec![(IndexNotConcurrently, t("posts"))],
            ),
            (
                "create unique index if not exists i on only public.posts using btree (title)",
                vec![(IndexNotConcurrently, t("posts"))],
            ),
        ];
        for (sql, expected) in cases {
            let got: FoundInSql = found(&format!("    execute \"{sql}\""))
                .into_iter()
                .filter(|(k, _, _)| *k != RawSqlExecuted)
                .map(|(k, _, table)| (k, table))
                .collect();
            assert_eq!(&got, expected, "{sql}");
        }
    }

    #[test]
    fn safe_sql_is_not_flagged() {
        for sql in [
            "CREATE TABLE tags (id bigint NOT NULL, name text NOT NULL); CREATE INDEX tags_name ON tags (name)",
            "ALTER TABLE posts ADD COLUMN score int NOT NULL DEFAULT 0",
            "ALTER TABLE posts ADD CONSTRAINT title_not_null CHECK (title IS NOT NULL) NOT VALID",
            "ALTER INDEX posts_title_index RENAME TO posts_headline_index",
            "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'",
            "SELECT 'DROP TABLE' -- DROP TABLE posts\n",
            "SELECT 1 /* ALTER TABLE posts DROP COLUMN body */",
        ] {
            assert_eq!(
                kinds(&format!("    execute \"{sql}\"")),
                [RawSqlExecuted],
                "{sql}"
            );
        }
    }

    #[test]
    fn only_what_runs_on_migrate_counts() {
        let source = r#"defmodule M do
  use Ecto.Migration

  def up do
    execute "CREATE TABLE notes (id bigint)"
  end

  def down do
    execute "DROP TABLE notes"
    drop table(:notes)
  end
end
"#;
        let kinds: Vec<Kind> = analyze(source).findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [RawSqlExecuted], "down/0 does not run on migrate");
        assert_eq!(analyze(source).creates, ["notes"]);
        let two_way = "@disable_ddl_transaction true\n@disable_migration_lock true\ndef change do\n  execute \"CREATE INDEX CONCURRENTLY i ON posts \
            (title)\",\n          \"DROP INDEX i\"\n  execute(\"ALTER TABLE posts ADD x int\", \
            \"ALTER TABLE posts DROP COLUMN x\")\nend\n";
        let kinds: Vec<Kind> = analyze(two_way).findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [RawSqlExecuted, RawSqlExecuted],
            "execute/2's second SQL is the way down"
        );
        let one_line =
            "def up, do: execute(\"SELECT 1\")\ndef down, do: execute(\"DROP TABLE posts\")\n";
        let kinds: Vec<Kind> = analyze(one_line).findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [RawSqlExecuted]);
    }

    #[test]
    fn sql_in_heredocs_and_interpolations_keeps_its_line() {
        let source = "def up do\n  execute \"\"\"\n  CREATE TABLE #{prefix()}.tags (id bigint);\n  ALTER TABLE #{prefix()}.posts\n    DROP COLUMN body;\n  \"\"\"\nend\n";
        let f = analyze(source).findings;
        let got: Vec<(Kind, u32, Option<String>)> = f
            .iter()
            .map(|f| (f.kind, f.line, f.table.clone()))
            .collect();
        assert_eq!(
            got,
            [(RawSqlExecuted, 2, None), (ColumnRemoved, 4, t("posts"))]
        );
        assert_eq!(f[1].text, "ALTER TABLE .posts DROP COLUMN body");
    }

    #[test]
    fn reviewed_migrations_opt_out_as_excellent_migrations_documents() {
        let assured = |source: &str| -> Vec<(Kind, bool)> {
            analyze(source)
                .findings
                .iter()
                .map(|f| (f.kind, f.assured))
                .collect()
        };
        let attribute = "defmodule M do\n  use Ecto.Migration\n  @safety_assured true\n  def change do\n    drop table(:legacy)\n  end\nend\n";
        assert_eq!(assured(attribute), [(TableDropped, true)]);
        let listed = "@safety_assured [:table_dropped]\ndef change do\n  drop table(:legacy)\n  alter table(:posts) do\n    remove :x\n  end\nend\n";
        assert_eq!(
            assured(listed),
            [(TableDropped, true), (ColumnRemoved, false)]
        );
        let file_comment = "# excellent_migrations:safety-assured-for-this-file column_removed\ndef change do\n  alter table(:posts) do\n    remove :x\n  end\nend\n";
        assert_eq!(assured(file_comment), [(ColumnRemoved, true)]);
        let next_line = "def change do\n  # excellent_migrations:safety-assured-for-next-line table_dropped\n  drop table(:a)\n  drop table(:b)\nend\n";
        assert_eq!(
            assured(next_line),
            [(TableDropped, true), (TableDropped, false)]
        );
        let wrong_kind = "# excellent_migrations:safety-assured-for-this-file raw_sql_executed\ndef up do\n  execute \"DROP TABLE x\"\nend\n";
        assert_eq!(
            assured(wrong_kind),
            [(TableDropped, false), (RawSqlExecuted, true)],
            "an opt-out covers the kinds it names"
        );
        let in_a_string =
            "def up do\n  execute \"SELECT '@safety_assured true'\"\n  drop table(:x)\nend\n";
        assert_eq!(
            assured(in_a_string),
            [(RawSqlExecuted, false), (TableDropped, false)]
        );
    }

    #[test]
    fn safe_migrations_the_old_rules_refused() {
        let renamed_new = "    create table(:drafts) do\n      add :title, :string\n    end\n    rename table(:drafts), :title, to: :headline\n    rename table(:drafts), to: table(:posts)";
        assert_eq!(kinds(renamed_new), []);
        let doc = concat!(
            "defmodule M do\n  @moduledoc \"\"\"\n  Replaces DROP TABLE legacy; see ALTER TABLE posts DROP COLUMN body.\n  \"\"\"\n",
            "  use Ecto.Migration\n  def change, do: create(table(:x))\nend\n"
        );
        assert!(analyze(doc).findings.is_empty());
        let attributes = concat!(
            "defmodule M do\n  use Ecto.Migration\n  @up \"CREATE INDEX CONCURRENTLY i ON posts (title)\"\n  @down \"DROP INDEX i\"\n",
            "  @disable_ddl_transaction true\n  @disable_migration_lock true\n  def change do\n    execute(@up, @down)\n  end\nend\n"
        );
        let got: Vec<Kind> = analyze(attributes)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(got, [RawSqlExecuted], "@down is the way down");
        let used_up = attributes.replace(
            "@up \"CREATE INDEX CONCURRENTLY i",
            "@up \"DROP TABLE posts; CREATE INDEX CONCURRENTLY i",
        );
        let got: Vec<(Kind, u32)> = analyze(&used_up)
            .findings
            .iter()
            .map(|f| (f.kind, f.line))
            .collect();
        assert_eq!(
            got,
            [(TableDropped, 3), (RawSqlExecuted, 8)],
            "@up is read where it is set"
        );
    }

    #[test]
    fn code_the_rules_cannot_follow_is_said() {
        let helper = "def change do\n  add_title()\nend\n\ndefp add_title do\n  alter table(:posts) do\n    add :title, :string\n  end\nend\n";
        let f = analyze(helper).findings;
        assert_eq!(f[0].kind, SourceNotFollowed);
        assert_eq!(
            (f[0].line, f[0].text.as_str()),
            (5, "defp add_title (the migration DSL in a helper function)")
        );
        let misindented = "def change do\n  alter table(:posts) do\n    remove :x\n    end\nend\n";
        let kinds: Vec<Kind> = analyze(misindented)
            .findings
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(kinds, [SourceNotFollowed, ColumnRemoved]);
    }
}
