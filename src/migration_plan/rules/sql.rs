//! One SQL statement as the rules read it: each string literal (interpolations left out),
//! split at `;`, `--` and `/* */` comments ignored; and the parts of SQL more than one rule
//! looks at (an `ALTER TABLE`'s actions, indexes).

use super::{Flags, table_name};

rule!(SQL_COMMENT, r"(?s)--[^\n]*|/\*.*?\*/");
rule!(
    ALTER_TABLE,
    r#"(?is)^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."$]*)"#
);
rule!(
    CREATE_TABLE,
    r#"(?i)\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."$]+)"#
);
rule!(
    DROP_ACTION,
    r#"(?is)^\s*DROP\s+(?:(CONSTRAINT)\b|(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?[\w"$]+)"#
);
rule!(
    ADD_COLUMN,
    r#"(?is)^\s*ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\w"$]+)\s(.*)$"#
);
rule!(DEFAULT, r"(?is)\bDEFAULT\s+(.*)$");
rule!(pub(super) NOT_VALID, r"(?i)\bNOT\s+VALID\b");
rule!(USING_INDEX, r"(?i)\bUSING\s+INDEX\b");
rule!(pub(super) UNIQUE_OR_KEY, r"(?i)\b(?:UNIQUE|PRIMARY\s+KEY)\b");
rule!(
    CREATE_INDEX,
    r#"(?is)\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(\s+CONCURRENTLY\b)?.*?\bON\s+(?:ONLY\s+)?([\w."$]+)"#
);
rule!(DROP_INDEX, r"(?i)^\s*DROP\s+INDEX\b(\s+CONCURRENTLY\b)?");

/// One SQL statement.
pub(super) struct Sql<'a> {
    /// The statement, without its `;`, comments blanked.
    pub(super) stmt: &'a str,
    /// How Ecto runs the migration.
    pub(super) flags: Flags,
    /// Whether it is an `ALTER TABLE`.
    pub(super) alters: bool,
    /// The table an `ALTER TABLE` changes, when it is a name.
    pub(super) altered: Option<String>,
    /// An `ALTER TABLE`'s actions, split at the commas outside brackets.
    pub(super) actions: Vec<&'a str>,
}

/// What an `ADD CONSTRAINT` (or `ADD FOREIGN KEY`, `ADD CHECK`, ...) adds, told apart in
/// this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Added {
    /// A foreign key that validates at once (no `NOT VALID`).
    ForeignKey,
    /// A check that validates at once, or an exclusion constraint (never `NOT VALID`).
    Check,
    /// A unique constraint or primary key that builds its own index.
    Unique,
}

/// What an `ALTER TABLE ... DROP` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dropped {
    Column,
    Constraint,
}

/// A literal's SQL statements, each with the lines before it in the literal.
pub(super) fn statements(text: &str) -> Vec<(usize, String)> {
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
        out.push((start, stmt.trim_end_matches(';').to_owned()));
    }
    out
}

/// Read one statement, noting the tables it creates.
pub(super) fn read<'a>(stmt: &'a str, flags: Flags, creates: &mut Vec<String>) -> Sql<'a> {
    if let Some(c) = CREATE_TABLE.captures(stmt) {
        creates.extend(table_name(&c[1]));
    }
    let alter = ALTER_TABLE.captures(stmt);
    let actions = alter
        .as_ref()
        .map(|c| top_level(&stmt[c.get(0).map_or(0, |m| m.end())..]))
        .unwrap_or_default();
    Sql {
        stmt,
        flags,
        alters: alter.is_some(),
        altered: alter.as_ref().and_then(|c| table_name(&c[1])),
        actions,
    }
}

impl Sql<'_> {
    /// The table of an index created (its `ON`) or dropped (none), and whether
    /// `CONCURRENTLY`.
    pub(super) fn index(&self) -> Option<(bool, Option<String>)> {
        CREATE_INDEX
            .captures(self.stmt)
            .map(|c| (c.get(1).is_some(), table_name(&c[2])))
            .or_else(|| {
                DROP_INDEX
                    .captures(self.stmt)
                    .map(|c| (c.get(1).is_some(), None))
            })
    }

    /// What each action drops, in order.
    pub(super) fn dropped(&self) -> Vec<Dropped> {
        self.actions
            .iter()
            .filter_map(|a| DROP_ACTION.captures(a))
            .map(|d| {
                if d.get(1).is_some() {
                    Dropped::Constraint
                } else {
                    Dropped::Column
                }
            })
            .collect()
    }

    /// The column definitions added (what follows `ADD [COLUMN] name`), in order.
    pub(super) fn added_columns(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter_map(|a| add(a))
            .filter(|(name, _)| !is_constraint(name))
            .map(|(_, rest)| rest)
            .collect()
    }

    /// What the constraints added are, in order.
    pub(super) fn added_constraints(&self) -> Vec<Added> {
        self.actions
            .iter()
            .filter_map(|a| add(a))
            .filter(|(name, _)| is_constraint(name))
            .filter_map(|(name, rest)| {
                let validates = !NOT_VALID.is_match(rest);
                let upper = format!("{name} {}", rest.to_ascii_uppercase());
                if upper.contains("FOREIGN KEY") && validates {
                    Some(Added::ForeignKey)
                } else if upper.contains("CHECK") && validates || upper.contains("EXCLUDE") {
                    Some(Added::Check)
                } else if UNIQUE_OR_KEY.is_match(&upper) && !USING_INDEX.is_match(&upper) {
                    Some(Added::Unique)
                } else {
                    None
                }
            })
            .collect()
    }
}

/// A column definition's `DEFAULT` expression (to the end of the definition).
pub(super) fn default(column: &str) -> Option<&str> {
    DEFAULT
        .captures(column)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// An `ADD` action: the word after it (uppercase, unquoted) and the rest.
fn add(action: &str) -> Option<(String, &str)> {
    let m = ADD_COLUMN.captures(action)?;
    let name = m[1].trim_matches('"').to_ascii_uppercase();
    Some((name, m.get(2).map_or("", |r| r.as_str())))
}

/// Whether the word after `ADD` starts a constraint, not a column.
fn is_constraint(name: &str) -> bool {
    matches!(
        name,
        "CONSTRAINT" | "FOREIGN" | "CHECK" | "EXCLUDE" | "UNIQUE" | "PRIMARY"
    )
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
    use super::*;

    #[test]
    fn statements_keep_their_lines_and_lose_their_comments() {
        let got = statements("SELECT 1; -- DROP TABLE x\n\n  ALTER TABLE t /* ; */ ADD a int;");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], (0, "SELECT 1".to_owned()));
        assert_eq!(got[1].0, 2);
        assert!(!got[1].1.contains("DROP") && got[1].1.contains("ADD a int"));
    }

    #[test]
    fn alter_table_actions_split_outside_brackets() {
        let mut creates = Vec::new();
        let s = read(
            "ALTER TABLE ONLY public.\"Posts\" ADD a numeric(10,2), ADD CONSTRAINT u UNIQUE (a), DROP b",
            Flags::default(),
            &mut creates,
        );
        assert_eq!((s.alters, s.altered.as_deref()), (true, Some("posts")));
        assert_eq!(s.actions.len(), 3);
        assert_eq!(s.added_columns(), ["numeric(10,2)"]);
        assert_eq!(s.added_constraints(), [Added::Unique]);
        assert_eq!(s.dropped(), [Dropped::Column]);
        read(
            "CREATE TABLE IF NOT EXISTS tags (id int)",
            Flags::NONE,
            &mut creates,
        );
        assert_eq!(creates, ["tags"]);
    }
}
