//! The detection rules: what in a migration's source, as shipped in the image, makes it
//! risky. They read the text (nothing is run): regular expressions over the Ecto DSL in the
//! code, and over the SQL in string literals. docs/guide/plan-and-policy.md lists them, and
//! what they do not see.

use std::ops::Range;
use std::sync::LazyLock;

use enum_iterator::Sequence;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::lexer;

/// What a finding is, named as excellent_migrations names its operation types (so that its
/// `safety-assured` comments work here too).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Sequence,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `drop table(...)`, `DROP TABLE`.
    TableDropped,
    /// `remove :col`, `DROP COLUMN`.
    ColumnRemoved,
    /// `rename table(:a), to: table(:b)`, `ALTER TABLE ... RENAME TO`.
    TableRenamed,
    /// `rename table(:a), :x, to: :y`, `RENAME [COLUMN] x TO y`.
    ColumnRenamed,
    /// `modify :col, :type`, `ALTER COLUMN ... TYPE`.
    ColumnTypeChanged,
    /// `null: false` without a default on an existing table, `SET NOT NULL`.
    NotNullAdded,
    /// An index created without `concurrently` on a table that already exists.
    IndexNotConcurrently,
    /// `execute`, `execute_file`, `repo().query`: SQL the DSL rules cannot judge.
    RawSqlExecuted,
}

/// What is said of a kind: one row of the table [`Kind::info`] keeps.
struct Info {
    /// As in JSON and in safety-assured comments.
    name: &'static str,
    /// What it does, for people.
    describe: &'static str,
    /// A protected environment needs `--allow-destructive` for it: it loses data or
    /// breaks the code that still reads the old shape.
    destructive: bool,
}

impl Kind {
    /// Every kind, in the order they are declared (and docs/guide/plan-and-policy.md lists them): the
    /// compiler keeps the list, a new variant is in it.
    pub fn all() -> impl Iterator<Item = Kind> {
        enum_iterator::all::<Kind>()
    }

    /// The one table of what each kind is called and means.
    fn info(self) -> Info {
        let (name, describe, destructive) = match self {
            Kind::TableDropped => ("table_dropped", "drops a table", true),
            Kind::ColumnRemoved => ("column_removed", "removes a column", true),
            Kind::TableRenamed => ("table_renamed", "renames a table", true),
            Kind::ColumnRenamed => ("column_renamed", "renames a column", true),
            Kind::ColumnTypeChanged => ("column_type_changed", "changes a column's type", true),
            Kind::NotNullAdded => (
                "not_null_added",
                "makes a column NOT NULL without a default",
                true,
            ),
            Kind::IndexNotConcurrently => (
                "index_not_concurrently",
                "creates an index without CONCURRENTLY",
                false,
            ),
            Kind::RawSqlExecuted => ("raw_sql_executed", "runs raw SQL", false),
        };
        Info {
            name,
            describe,
            destructive,
        }
    }

    /// Whether a protected environment needs `--allow-destructive` for it.
    pub fn destructive(self) -> bool {
        self.info().destructive
    }

    /// Its name, as in JSON and in safety-assured comments.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// What it does, for people.
    pub fn describe(self) -> &'static str {
        self.info().describe
    }

    fn parse(name: &str) -> Option<Kind> {
        Kind::all().find(|k| k.name() == name)
    }
}

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

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("rule {pattern:?}: {e}"))
}

macro_rules! rule {
    ($name:ident, $pattern:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re($pattern));
    };
}

// The DSL, on the code (comments and SQL blanked), one statement at a time.
rule!(DEF_DOWN, r"^\s*defp?\s+down\b");
rule!(ENDS_WITH_DO, r"\bdo\s*$");
rule!(
    ALTER_BLOCK,
    r#"^\s*alter\s*\(?\s*table\s*\(\s*[:"]?([\w.]+)"#
);
rule!(
    CREATE_TABLE,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]+)"#
);
rule!(
    DROP_TABLE,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)"#
);
rule!(REMOVE, r#"^\s*remove(?:_if_exists)?\s*\(?\s*[:"]"#);
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
rule!(
    CREATE_INDEX,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*(?:unique_)?index\s*\(\s*[:"]?([\w.]*)"#
);
rule!(CONCURRENTLY, r"\bconcurrently:\s*true\b");
rule!(EXECUTE, r"(?:^\s*|\bdo:\s*)execute(?:_file)?\b");
rule!(REPO_QUERY, r"\brepo\(\)\s*\.\s*query!?\s*\(");
rule!(
    ASSURED_ATTRIBUTE,
    r"^\s*@safety_assured\s*\(?\s*(true|:all|\[[^\]]*\])"
);
rule!(ATOM, r":(\w+)");
rule!(
    ASSURED_COMMENT,
    r"excellent_migrations:safety-assured-for-(this-file|next-line)\s+(\w+)"
);

// SQL, in string literals, one SQL statement (up to `;`) at a time.
rule!(SQL_COMMENT, r"(?s)--[^\n]*|/\*.*?\*/");
rule!(
    SQL_ALTER_TABLE,
    r#"(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."$]*)"#
);
rule!(
    SQL_DROP_TABLE,
    r#"(?i)\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w."$]*)"#
);
rule!(SQL_DROP_COLUMN, r"(?i)\bDROP\s+COLUMN\b");
rule!(SQL_RENAME_TO, r"(?i)\bRENAME\s+TO\b");
rule!(
    SQL_RENAME_COLUMN,
    r#"(?i)\bRENAME\s+(?:COLUMN\s+)?[\w"$]+\s+TO\b"#
);
rule!(
    SQL_TYPE,
    r#"(?i)\bALTER\s+(?:COLUMN\s+)?[\w"$]+\s+(?:SET\s+DATA\s+)?TYPE\b"#
);
rule!(SQL_SET_NOT_NULL, r"(?i)\bSET\s+NOT\s+NULL\b");
rule!(
    SQL_ADD_COLUMN,
    r#"(?is)^\s*ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\w"$]+)\s(.*)$"#
);
rule!(SQL_NOT_NULL, r"(?i)\bNOT\s+NULL\b");
rule!(SQL_DEFAULT, r"(?i)\bDEFAULT\b");
rule!(
    SQL_CREATE_INDEX,
    r#"(?is)\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(\s+CONCURRENTLY\b)?.*?\bON\s+(?:ONLY\s+)?([\w."$]+)"#
);
rule!(
    SQL_CREATE_TABLE,
    r#"(?i)\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."$]+)"#
);

/// A finding before the opt-outs are applied, with the statement it came from.
struct Raw {
    kind: Kind,
    line: u32,
    text: String,
    table: Option<String>,
    statement: Option<usize>,
}

/// Find the risky operations in a migration's source.
pub fn analyze(source: &str) -> Analysis {
    let lexed = lexer::lex(source);
    let code = lexed.code.as_str();
    let stmts = lexer::statements(code, &lexed.strings);

    // What runs on migrate: not `down/0`, not the second argument of `execute/2`.
    let mut skipped: Vec<Range<usize>> = Vec::new();
    let mut alters: Vec<(Range<usize>, Option<String>)> = Vec::new();
    let mut assured_file: Vec<Kind> = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        let t = s.of(code);
        let block = || s.start..lexer::block_end(code, &stmts, i);
        if DEF_DOWN.is_match(t) {
            skipped.push(if ENDS_WITH_DO.is_match(t) {
                block()
            } else {
                s.start..s.end
            });
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
        for (kind, table) in dsl(s.of(code), alter, &mut creates) {
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
        for (kind, lines_before, text, table) in sql(&lit.text, &mut creates) {
            raw.push(Raw {
                kind,
                line: lit.line + u32::try_from(lines_before).unwrap_or(0),
                text,
                table,
                statement: statement_at(lit.start),
            });
        }
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

    creates.sort();
    creates.dedup();
    let mut findings: Vec<Finding> = raw
        .into_iter()
        // An index or a NOT NULL column on a table this migration creates is on an
        // empty table.
        .filter(|r| {
            !(matches!(r.kind, Kind::IndexNotConcurrently | Kind::NotNullAdded)
                && r.table.as_ref().is_some_and(|t| creates.contains(t)))
        })
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

/// The DSL rules on one statement of code; `alter` is the table of the enclosing
/// `alter table(...) do` block, if any (`Some(None)` when its name was not a literal).
fn dsl(
    t: &str,
    alter: Option<Option<String>>,
    creates: &mut Vec<String>,
) -> Vec<(Kind, Option<String>)> {
    let mut out = Vec::new();
    if let Some(c) = CREATE_TABLE.captures(t) {
        creates.extend(table_name(&c[1]));
    }
    if let Some(c) = DROP_TABLE.captures(t) {
        out.push((Kind::TableDropped, table_name(&c[1])));
    }
    let in_alter = alter.clone().flatten();
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
        out.push((Kind::ColumnTypeChanged, in_alter.clone()));
        if NULL_FALSE.is_match(t) {
            out.push((Kind::NotNullAdded, in_alter.clone()));
        }
    }
    let in_alter_block = alter.is_some();
    if in_alter_block && ADD.is_match(t) && NULL_FALSE.is_match(t) && !DEFAULT.is_match(t) {
        out.push((Kind::NotNullAdded, in_alter.clone()));
    }
    // `timestamps()` adds NOT NULL columns unless told otherwise.
    if in_alter_block && TIMESTAMPS.is_match(t) && !NULL_TRUE.is_match(t) && !DEFAULT.is_match(t) {
        out.push((Kind::NotNullAdded, in_alter.clone()));
    }
    if let Some(c) = CREATE_INDEX.captures(t)
        && !CONCURRENTLY.is_match(t)
    {
        out.push((Kind::IndexNotConcurrently, table_name(&c[1])));
    }
    if EXECUTE.is_match(t) || REPO_QUERY.is_match(t) {
        out.push((Kind::RawSqlExecuted, None));
    }
    out
}

/// The SQL rules on one string literal: (kind, lines before it in `text`, the SQL
/// statement, table).
fn sql(text: &str, creates: &mut Vec<String>) -> Vec<(Kind, usize, String, Option<String>)> {
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
        if let Some(c) = SQL_CREATE_TABLE.captures(stmt) {
            creates.extend(table_name(&c[1]));
        }
        if let Some(c) = SQL_DROP_TABLE.captures(stmt) {
            push(Kind::TableDropped, table_name(&c[1]));
        }
        let alter = SQL_ALTER_TABLE.captures(stmt);
        let altered = alter.as_ref().and_then(|c| table_name(&c[1]));
        if SQL_DROP_COLUMN.is_match(stmt) {
            push(Kind::ColumnRemoved, altered.clone());
        }
        if let Some(c) = &alter {
            if SQL_RENAME_TO.is_match(stmt) {
                push(Kind::TableRenamed, altered.clone());
            } else if SQL_RENAME_COLUMN.is_match(stmt) {
                push(Kind::ColumnRenamed, altered.clone());
            }
            let actions = &stmt[c.get(0).map_or(0, |m| m.end())..];
            let adds_not_null = top_level(actions).into_iter().any(|a| {
                SQL_ADD_COLUMN.captures(a).is_some_and(|m| {
                    let name = m[1].trim_matches('"').to_ascii_uppercase();
                    let constraint = [
                        "CONSTRAINT",
                        "PRIMARY",
                        "UNIQUE",
                        "FOREIGN",
                        "CHECK",
                        "EXCLUDE",
                    ]
                    .contains(&name.as_str());
                    !constraint && SQL_NOT_NULL.is_match(&m[2]) && !SQL_DEFAULT.is_match(&m[2])
                })
            });
            if adds_not_null {
                push(Kind::NotNullAdded, altered.clone());
            }
        }
        if SQL_TYPE.is_match(stmt) {
            push(Kind::ColumnTypeChanged, altered.clone());
        }
        if SQL_SET_NOT_NULL.is_match(stmt) {
            push(Kind::NotNullAdded, altered.clone());
        }
        if let Some(c) = SQL_CREATE_INDEX.captures(stmt)
            && c.get(1).is_none()
        {
            push(Kind::IndexNotConcurrently, table_name(&c[2]));
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
    type Found = Vec<(Kind, u32, Option<String>)>;
    /// What was found in SQL: (kind, table).
    type FoundInSql = Vec<(Kind, Option<String>)>;

    /// The (kind, line, table) found in a migration whose `change/0` is `body`.
    fn found(body: &str) -> Found {
        let source = format!(
            "defmodule Demo.Repo.Migrations.M do\n  use Ecto.Migration\n\n  def change do\n{body}\n  end\nend\n"
        );
        analyze(&source)
            .findings
            .into_iter()
            .map(|f| (f.kind, f.line, f.table))
            .collect()
    }

    fn kinds(body: &str) -> Vec<Kind> {
        found(body).into_iter().map(|(k, _, _)| k).collect()
    }

    fn t(name: &str) -> Option<String> {
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
                "    alter table(:posts) do\n      modify :title, :text, from: :string\n    end",
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
                vec![(NotNullAdded, 6, t("posts"))],
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
                vec![(RawSqlExecuted, 6, None)],
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(&found(body), expected, "{body}");
        }
    }

    #[test]
    fn safe_dsl_forms_are_not_flagged() {
        for body in [
            "    create index(:posts, [:title], concurrently: true)",
            "    create index(:posts, [:title],\n      concurrently: true\n    )",
            "    alter table(:posts) do\n      add :score, :integer, null: false, default: 0\n    end",
            "    alter table(:posts) do\n      add :score, :integer\n      add :note, :text, null: true\n    end",
            "    alter table(:posts) do\n      timestamps(null: true)\n    end",
            "    create table(:tags) do\n      add :name, :string, null: false\n      timestamps()\n    end\n    create index(:tags, [:name])",
            "    create table(\"tags\")\n    create unique_index(\"tags\", [:name])",
            "    # drop table(:posts) once nobody reads it\n    flush()",
            "    drop index(:posts, [:title])\n    drop constraint(:posts, :title_length)",
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
            "CREATE INDEX CONCURRENTLY posts_title_index ON posts (title)",
            "CREATE TABLE tags (id bigint NOT NULL, name text NOT NULL); CREATE INDEX tags_name ON tags (name)",
            "ALTER TABLE posts ADD COLUMN score int NOT NULL DEFAULT 0",
            "ALTER TABLE posts ADD CONSTRAINT title_not_null CHECK (title IS NOT NULL) NOT VALID",
            "ALTER TABLE posts ALTER COLUMN title DROP NOT NULL",
            "ALTER INDEX posts_title_index RENAME TO posts_headline_index",
            "ALTER TYPE mood ADD VALUE 'meh'",
            "DROP INDEX posts_title_index",
            "UPDATE posts SET title = 'DROP TABLE' -- DROP TABLE posts\n",
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
        let two_way = "def change do\n  execute \"CREATE INDEX CONCURRENTLY i ON posts \
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
    fn every_kind_says_whether_it_is_destructive() {
        let destructive: Vec<&str> = Kind::all()
            .filter(|k| k.destructive())
            .map(Kind::name)
            .collect();
        assert_eq!(
            destructive,
            [
                "table_dropped",
                "column_removed",
                "table_renamed",
                "column_renamed",
                "column_type_changed",
                "not_null_added"
            ]
        );
        assert_eq!(Kind::all().count(), 8);
        for k in Kind::all() {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }
}
