//! One statement of the Ecto DSL as the rules read it (comments and SQL blanked), and the
//! parts of the DSL more than one rule looks at.

use super::{Flags, table_name};

rule!(
    CREATE_TABLE,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*table\s*\(\s*[:"]?([\w.]+)"#
);
rule!(
    ALTER_KEYWORD,
    r#"^\s*alter\s*\(?\s*table\s*\(\s*[:"]?([\w.]*)[^)]*\)\s*,\s*do:\s*"#
);
rule!(MODIFY, r#"^\s*modify\s*\(?\s*[:"]"#);
rule!(ADD, r#"^\s*add(?:_if_not_exists)?\s*\(?\s*[:"]"#);
rule!(pub(super) NULL_FALSE, r"\bnull:\s*false\b");
rule!(pub(super) NULL_TRUE, r"\bnull:\s*true\b");
rule!(pub(super) DEFAULT, r"\bdefault:");
rule!(pub(super) VALIDATE_FALSE, r"\bvalidate:\s*false\b");
rule!(
    CREATE_INDEX,
    r#"^\s*create(?:_if_not_exists)?\s*\(?\s*(?:unique_)?index\s*\(\s*[:"]?([\w.]*)"#
);
rule!(
    DROP_INDEX,
    r#"^\s*drop(?:_if_exists)?\s*\(?\s*(?:unique_)?index\s*\(\s*[:"]?([\w.]*)"#
);
rule!(CONCURRENTLY, r"\bconcurrently:\s*true\b");
rule!(
    REPO_CALL,
    r"(?:\brepo\(\)|\b[A-Z]\w*(?:\.[A-Z]\w*)*\.Repo)\s*\.\s*(delete_all|delete!?|update_all|update!?|insert_all|insert!?)\s*\("
);

/// One statement of the DSL.
pub(super) struct Dsl<'a> {
    /// The code: comments and strings blanked.
    pub(super) t: &'a str,
    /// The source, at the same offsets.
    pub(super) src: &'a str,
    /// The table of the enclosing `alter table(...)` block, if any (`Some(None)` when its
    /// name was not a literal).
    alter: Option<Option<String>>,
    /// How Ecto runs the migration.
    pub(super) flags: Flags,
}

/// Read one statement: note the tables it creates, and take `alter table(:t), do: x` as
/// `x` in a block of `:t`.
pub(super) fn read<'a>(
    mut t: &'a str,
    mut src: &'a str,
    mut alter: Option<Option<String>>,
    flags: Flags,
    creates: &mut Vec<String>,
) -> Dsl<'a> {
    loop {
        if let Some(c) = CREATE_TABLE.captures(t) {
            creates.extend(table_name(&c[1]));
        }
        let Some(c) = ALTER_KEYWORD.captures(t) else {
            return Dsl {
                t,
                src,
                alter,
                flags,
            };
        };
        let at = c.get(0).map_or(0, |m| m.end());
        alter = Some(table_name(&c[1]));
        (t, src) = (&t[at..], &src[at..]);
    }
}

impl Dsl<'_> {
    /// The table of the enclosing `alter table` block, when it is a literal.
    pub(super) fn table(&self) -> Option<String> {
        self.alter.clone().flatten()
    }

    /// Whether the statement is in an `alter table` block.
    pub(super) fn in_alter_block(&self) -> bool {
        self.alter.is_some()
    }

    /// Whether it is an `add` in an `alter table` block (a column on an existing table).
    pub(super) fn adds(&self) -> bool {
        self.in_alter_block() && ADD.is_match(self.t)
    }

    /// Whether it is an `add`, in a block or not.
    pub(super) fn adds_anywhere(&self) -> bool {
        ADD.is_match(self.t)
    }

    /// Whether it is a `modify`.
    pub(super) fn modifies(&self) -> bool {
        MODIFY.is_match(self.t)
    }

    /// The table of a `create index(...)`, when it is one (`Some(None)`: not a literal).
    pub(super) fn created_index(&self) -> Option<Option<String>> {
        CREATE_INDEX.captures(self.t).map(|c| table_name(&c[1]))
    }

    /// The table of an index created or dropped, and whether `concurrently: true`.
    pub(super) fn index(&self) -> Option<(Option<String>, bool)> {
        let c = CREATE_INDEX
            .captures(self.t)
            .or_else(|| DROP_INDEX.captures(self.t))?;
        Some((table_name(&c[1]), CONCURRENTLY.is_match(self.t)))
    }

    /// The repo functions it calls that change rows (`delete_all`, `update!`, ...), without
    /// their `!`, in order.
    pub(super) fn repo_calls(&self) -> Vec<&str> {
        REPO_CALL
            .captures_iter(self.t)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str().trim_end_matches('!'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, kinds, t};
    use super::super::{Flags, Kind::*};

    #[test]
    fn the_keyword_form_of_alter_is_a_block_of_one() {
        assert_eq!(
            found("    alter table(:posts), do: remove(:title)"),
            [(ColumnRemoved, 5, t("posts"))]
        );
        assert_eq!(
            kinds("    alter table(:posts), do: add(:n, :integer, null: false)"),
            [NotNullAdded]
        );
    }

    #[test]
    fn a_statement_notes_the_tables_it_creates() {
        let mut creates = Vec::new();
        let d = super::read(
            "create table(:tags) do",
            "create table(:tags) do",
            None,
            Flags::default(),
            &mut creates,
        );
        assert_eq!(creates, ["tags"]);
        assert!(!d.in_alter_block() && d.table().is_none());
        let keyword = "alter table(\"posts\"), do: add(:n, :int)";
        let d = super::read(keyword, keyword, None, Flags::NONE, &mut creates);
        assert_eq!((d.table(), d.adds()), (t("posts"), true));
    }
}
