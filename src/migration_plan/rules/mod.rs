//! The detection rules: what in a migration's source, as shipped in the image, makes it
//! risky. They read the text (nothing is run): regular expressions over the Ecto DSL in the
//! code, and over the SQL in string literals. docs/guide/plan-and-policy.md lists them, and
//! what they do not see.
//!
//! This module is the engine: it walks the source (what runs on migrate, blocks, opt-outs)
//! and asks every rule about each DSL statement ([`dsl::Dsl`]) and each SQL statement
//! ([`sql::Sql`]). Each rule is a file of its own, named after the kind it reports, with its
//! tests; [`rule`] maps every [`Kind`] to its rule, so a new kind without one does not build.

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
    /// The lock it takes and the size of its table, in a plan read from the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<super::impact::Impact>,
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
    ($vis:vis $name:ident, $pattern:expr) => {
        $vis static $name: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| $crate::migration_plan::rules::re($pattern));
    };
}

mod dsl;
mod sql;

pub(super) mod breaks_running_code;
mod check_constraint_added;
mod column_reference_added;
mod column_removed;
mod column_renamed;
mod column_type_changed;
mod column_volatile_default;
mod constraint_dropped;
mod constraint_validated_in_same_transaction;
mod database_dropped;
mod domain_constraint_added;
mod enum_value_appended;
mod enum_value_renamed;
mod index_concurrently;
mod index_not_concurrently;
mod json_column_added;
mod many_columns_index;
mod not_null_added;
mod not_null_removed;
mod operation_delete;
mod operation_insert;
mod operation_update;
mod raw_sql_executed;
mod schema_dropped;
mod schema_renamed;
mod source_not_followed;
mod table_dropped;
mod table_renamed;
mod table_rewritten;
mod table_truncated;
mod transaction_nesting;
mod trigger_created;
mod unique_constraint_added;

/// What a rule found in one statement: the kind and the table, when the rule can tell.
type Out = Vec<(Kind, Option<String>)>;

/// One rule: the kinds it reports, its file, and what it finds in a DSL statement and in an
/// SQL statement.
struct Rule {
    /// The kinds it reports (two when one detector tells them apart).
    kinds: &'static [Kind],
    /// Its source file, as `file!()` says.
    file: &'static str,
    /// What it finds in one statement of the Ecto DSL.
    dsl: fn(&dsl::Dsl<'_>, &mut Out),
    /// What it finds in one SQL statement of a string literal.
    sql: fn(&sql::Sql<'_>, &mut Out),
}

impl Rule {
    /// In debug builds, that a rule reports only the kinds it says it does.
    fn check(&self, found: &[(Kind, Option<String>)]) {
        debug_assert!(
            found.iter().all(|(k, _)| self.kinds.contains(k)),
            "{} reports {found:?}, not among {:?}",
            self.file,
            self.kinds
        );
    }
}

/// For a rule that does not look at the DSL.
fn no_dsl(_: &dsl::Dsl<'_>, _: &mut Out) {}

/// For a rule that does not look at SQL.
fn no_sql(_: &sql::Sql<'_>, _: &mut Out) {}

/// The rule that reports a kind: the match keeps "every kind has a rule" to the compiler.
fn rule(kind: Kind) -> &'static Rule {
    match kind {
        Kind::TableDropped => &table_dropped::RULE,
        Kind::ColumnRemoved => &column_removed::RULE,
        Kind::TableRenamed => &table_renamed::RULE,
        Kind::ColumnRenamed => &column_renamed::RULE,
        Kind::ColumnTypeChanged | Kind::ColumnTypeCoercible => &column_type_changed::RULE,
        Kind::NotNullAdded => &not_null_added::RULE,
        Kind::TableTruncated => &table_truncated::RULE,
        Kind::OperationDelete => &operation_delete::RULE,
        Kind::SchemaDropped => &schema_dropped::RULE,
        Kind::DatabaseDropped => &database_dropped::RULE,
        Kind::SchemaRenamed => &schema_renamed::RULE,
        Kind::EnumValueRenamed => &enum_value_renamed::RULE,
        Kind::IndexNotConcurrently => &index_not_concurrently::RULE,
        Kind::IndexConcurrentlyWithoutDisableDdlTransaction
        | Kind::IndexConcurrentlyWithoutDisableMigrationLock => &index_concurrently::RULE,
        Kind::ColumnReferenceAdded => &column_reference_added::RULE,
        Kind::CheckConstraintAdded => &check_constraint_added::RULE,
        Kind::ColumnVolatileDefault => &column_volatile_default::RULE,
        Kind::OperationUpdate => &operation_update::RULE,
        Kind::OperationInsert => &operation_insert::RULE,
        Kind::ConstraintDropped => &constraint_dropped::RULE,
        Kind::UniqueConstraintAdded => &unique_constraint_added::RULE,
        Kind::JsonColumnAdded => &json_column_added::RULE,
        Kind::TableRewritten => &table_rewritten::RULE,
        Kind::TransactionNesting => &transaction_nesting::RULE,
        Kind::NotNullRemoved => &not_null_removed::RULE,
        Kind::ConstraintValidatedInSameTransaction => {
            &constraint_validated_in_same_transaction::RULE
        }
        Kind::TriggerCreated => &trigger_created::RULE,
        Kind::DomainConstraintAdded => &domain_constraint_added::RULE,
        Kind::EnumValueAppended => &enum_value_appended::RULE,
        Kind::BreaksRunningCode => &breaks_running_code::RULE,
        Kind::ManyColumnsIndex => &many_columns_index::RULE,
        Kind::RawSqlExecuted => &raw_sql_executed::RULE,
        Kind::SourceNotFollowed => &source_not_followed::RULE,
    }
}

/// Every rule once, in the order of the kinds they report.
fn rules() -> &'static [&'static Rule] {
    static ALL: std::sync::LazyLock<Vec<&'static Rule>> = std::sync::LazyLock::new(|| {
        let mut all: Vec<&'static Rule> = Vec::new();
        for r in Kind::all().map(rule) {
            if !all.iter().any(|a| std::ptr::eq(*a, r)) {
                all.push(r);
            }
        }
        all
    });
    &ALL
}

/// What the rules find in one statement of the Ecto DSL (`t`: code, `src`: source, the same
/// offsets), in the `alter table` block of `alter` if any.
fn dsl_findings(
    t: &str,
    src: &str,
    alter: Option<Option<String>>,
    flags: Flags,
    creates: &mut Vec<String>,
) -> Out {
    let statement = dsl::read(t, src, alter, flags, creates);
    let mut out = Vec::new();
    for r in rules() {
        let before = out.len();
        (r.dsl)(&statement, &mut out);
        r.check(&out[before..]);
    }
    out
}

/// What the rules find in one string literal: kind, lines before its SQL statement in the
/// literal, the statement, table.
fn sql_findings(
    text: &str,
    flags: Flags,
    creates: &mut Vec<String>,
) -> Vec<(Kind, usize, String, Option<String>)> {
    let mut found = Vec::new();
    for (start, stmt) in sql::statements(text) {
        let shown = excerpt(&stmt);
        let statement = sql::read(&stmt, flags, creates);
        let mut out = Vec::new();
        for r in rules() {
            let before = out.len();
            (r.sql)(&statement, &mut out);
            r.check(&out[before..]);
        }
        found.extend(
            out.into_iter()
                .map(|(k, table)| (k, start, shown.clone(), table)),
        );
    }
    found
}

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
                source_not_followed::MISPLACED_END,
            ));
        }
        if DEF_DOWN.is_match(t) {
            skipped.push(if ENDS_WITH_DO.is_match(t) {
                block()
            } else {
                s.start..s.end
            });
        } else if let Some(name) = source_not_followed::helper(t) {
            helper = Some((block(), s.line, name));
        }
        if let Some((r, line, name)) = &helper
            && r.contains(&s.start)
            && r.start != s.start
            && source_not_followed::calls_dsl(t)
        {
            unfollowed.push((
                *line,
                format!("defp {name}"),
                source_not_followed::DSL_IN_HELPER,
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
        for (kind, table) in dsl_findings(s.of(code), s.of(source), alter, flags, &mut creates) {
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
        for (kind, lines_before, text, table) in sql_findings(&lit.text, flags, &mut creates) {
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
    let adds_not_valid = constraint_validated_in_same_transaction::adds_not_valid(
        code,
        lexed
            .strings
            .iter()
            .filter(|l| live(l.start))
            .map(|l| l.text.as_str()),
    );
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
            impact: None,
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
    pub(super) type FoundInSql = Vec<(Kind, Option<String>)>;

    /// The (kind, table) found in `sql` run by `execute`, raw_sql_executed left out.
    pub(super) fn in_sql(sql: &str) -> FoundInSql {
        found(&format!("    execute \"{sql}\""))
            .into_iter()
            .filter(|(k, _, _)| *k != RawSqlExecuted)
            .map(|(k, _, table)| (k, table))
            .collect()
    }

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
    fn every_kind_has_a_rule_in_a_file_of_its_own_with_tests() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for kind in Kind::all() {
            let r = rule(kind);
            assert!(
                r.kinds.contains(&kind),
                "{kind:?} is not among its rule's kinds"
            );
            let text = std::fs::read_to_string(root.join(r.file)).unwrap();
            let variant = format!("Kind::{kind:?}");
            assert!(
                text.contains(&variant) && text.contains(kind.name()),
                "{}: {kind:?}",
                r.file
            );
            assert!(text.contains("#[test]"), "{} has no tests", r.file);
        }
        let on_disk = std::fs::read_dir(root.join("src/migration_plan/rules"))
            .unwrap()
            .count();
        assert_eq!(
            rules().len(),
            on_disk - 3,
            "a rule file per rule, besides mod.rs, dsl.rs and sql.rs"
        );
        assert!(
            rules()
                .iter()
                .all(|r| r.kinds.iter().all(|k| std::ptr::eq(rule(*k), *r)))
        );
        for r in rules().iter().filter(|r| r.kinds.len() > 1) {
            let text = std::fs::read_to_string(root.join(r.file)).unwrap();
            let says = text.contains("//! One detector reports both");
            assert!(says, "{} does not say why it reports two kinds", r.file);
        }
    }
}
