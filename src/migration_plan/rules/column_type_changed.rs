//! `column_type_changed` and `column_type_coercible`: `modify :col, :type`, `ALTER COLUMN
//! ... TYPE`.
//! One detector reports both: a `modify` whose `from:` Postgres converts without a rewrite
//! is coercible (a warning), any other is a change (destructive).

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql};

rule!(
    COERCIBLE,
    r#"^\s*modify\s*\(?\s*[:"]?\w+"?\s*,\s*:text\s*,\s*from:\s*(?::string|:text|:citext|\{\s*:string\b)"#
);
rule!(
    SAME_TYPE,
    r#"^\s*modify\s*\(?\s*[:"]?\w+"?\s*,\s*:(\w+)\b.*\bfrom:\s*(?:\{\s*)?:(\w+)\b"#
);
rule!(SIZED, r"\b(?:size|precision|scale):");
rule!(
    TYPE,
    r#"(?i)\bALTER\s+(?:COLUMN\s+)?[\w"$]+\s+(?:SET\s+DATA\s+)?TYPE\b"#
);

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ColumnTypeChanged, Kind::ColumnTypeCoercible],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if !d.modifies() {
        return;
    }
    // Ecto's `modify` always emits `ALTER COLUMN ... TYPE`. varchar to text is binary
    // coercible: no rewrite, no client sees a change. `from:` the same type: Ecto still
    // emits `TYPE`, which Postgres does without a rewrite (a change of NULL or default
    // only), unless a size or precision changes.
    let t = d.t;
    let same = SAME_TYPE.captures(t).is_some_and(|c| c[1] == c[2]) && !SIZED.is_match(t);
    let kind = if same || COERCIBLE.is_match(t) {
        Kind::ColumnTypeCoercible
    } else {
        Kind::ColumnTypeChanged
    };
    out.push((kind, d.table()));
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    if TYPE.is_match(s.stmt) {
        out.push((Kind::ColumnTypeChanged, s.altered.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{found, in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn varchar_to_text_is_a_warning_not_destructive() {
        let body = "    alter table(:posts) do\n      modify :title, :text, from: :string\n    end";
        assert_eq!(kinds(body), [ColumnTypeCoercible]);
        assert!(!ColumnTypeCoercible.destructive());
        let other = "    alter table(:posts) do\n      modify :n, :bigint, from: :integer\n    end";
        assert_eq!(found(other), [(ColumnTypeChanged, 6, t("posts"))]);
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
    fn types_changed_in_sql() {
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER COLUMN title TYPE varchar(200)"),
            [(ColumnTypeChanged, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ALTER title SET DATA TYPE text"),
            [(ColumnTypeChanged, t("posts"))]
        );
        assert_eq!(in_sql("ALTER TABLE posts ALTER title SET DEFAULT 'x'"), []);
    }
}
