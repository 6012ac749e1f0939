//! `breaks_running_code`: not in the source but against the code running now. Ecto selects
//! every field of a schema by name, so a column (or table) a deployed `Ecto.Schema` still
//! maps that the migration removes or renames makes every query of that schema fail until
//! the new pods are out; a NOT NULL column added without a default breaks the old code's
//! inserts when its schema does not map it. The plan matches its destructive findings
//! against the running code's schemas (`__schema__(:source)`, `(:prefix)`, `(:fields)`,
//! `(:field_source, f)`, read by the plan snippet).

use super::{Finding, Kind, Out, Rule, dsl::Dsl, sql::Sql};
use crate::ecto_output::plan_lines::SchemaField;

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::BreaksRunningCode],
    file: file!(),
    dsl: nothing_in_the_source,
    sql: none_in_sql,
};

fn nothing_in_the_source(_: &Dsl<'_>, _: &mut Out) {}

fn none_in_sql(_: &Sql<'_>, _: &mut Out) {}

rule!(
    REMOVED,
    r#"(?i)(?:^|[\s(])remove(?:_if_exists)?\s*\(?\s*:"?(\w+)|\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?"?(\w+)"#
);
rule!(
    RENAMED,
    r#"(?i)\brename\s*\(?\s*table\([^)]*\)\s*,\s*:"?(\w+)|\bRENAME\s+(?:COLUMN\s+)?"?(\w+)"?\s+TO\b"#
);
rule!(
    ADDED,
    r#"(?i)(?:^|[\s(])(?:add|add_if_not_exists|modify)\s*\(?\s*:"?(\w+)|\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)|\bALTER\s+(?:COLUMN\s+)?"?(\w+)"?\s+SET\s+NOT\s+NULL"#
);

/// The column a finding's code or SQL names, lowercased.
fn column(f: &Finding) -> Option<String> {
    let re = match f.kind {
        Kind::ColumnRemoved => &REMOVED,
        Kind::ColumnRenamed => &RENAMED,
        Kind::NotNullAdded => &ADDED,
        _ => return None,
    };
    let c = re.captures(&f.text)?;
    let name = c.iter().skip(1).flatten().next()?;
    Some(name.as_str().to_ascii_lowercase())
}

/// The findings that break the running code, for the findings of one migration of a repo
/// with `prefix`: one per schema field (or schema) that still maps what a finding changes.
pub fn against(
    findings: &[Finding],
    prefix: Option<&str>,
    schemas: &[SchemaField],
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for f in findings.iter().filter(|f| !f.assured) {
        let Some(table) = f.table.as_deref() else {
            continue;
        };
        let of_table = || {
            schemas.iter().filter(move |s| {
                s.source.eq_ignore_ascii_case(table)
                    && (s.prefix.is_none() || s.prefix.as_deref() == prefix)
            })
        };
        let text = match f.kind {
            Kind::TableDropped | Kind::TableRenamed => of_table()
                .map(|s| format!("{} maps the table {table}", s.module))
                .next(),
            Kind::ColumnRemoved | Kind::ColumnRenamed => {
                let Some(col) = column(f) else { continue };
                of_table()
                    .find(|s| s.column.eq_ignore_ascii_case(&col))
                    .map(|s| format!("{} maps {table}.{col} (field :{})", s.module, s.field))
            }
            Kind::NotNullAdded => {
                let Some(col) = column(f) else { continue };
                let mut modules: Vec<&str> = of_table().map(|s| s.module.as_str()).collect();
                modules.dedup();
                modules
                    .into_iter()
                    .find(|m| {
                        !of_table().any(|s| s.module == *m && s.column.eq_ignore_ascii_case(&col))
                    })
                    .map(|m| format!("{m} maps {table} without {col}: its inserts leave it NULL"))
            }
            _ => None,
        };
        if let Some(text) = text
            && !out.iter().any(|o| o.text == text)
        {
            out.push(Finding {
                kind: Kind::BreaksRunningCode,
                destructive: true,
                line: f.line,
                text,
                table: f.table.clone(),
                assured: false,
                impact: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration_plan::rules::analyze;

    fn field(
        module: &str,
        source: &str,
        prefix: Option<&str>,
        field: &str,
        column: &str,
    ) -> SchemaField {
        SchemaField {
            module: module.into(),
            source: source.into(),
            prefix: prefix.map(Into::into),
            field: field.into(),
            column: column.into(),
        }
    }

    fn breaks(source: &str, schemas: &[SchemaField]) -> Vec<String> {
        against(&analyze(source).findings, None, schemas)
            .into_iter()
            .map(|f| {
                assert_eq!((f.kind, f.destructive), (Kind::BreaksRunningCode, true));
                f.text
            })
            .collect()
    }

    #[test]
    fn a_removed_or_renamed_column_a_schema_maps_breaks_it() {
        let post = [
            field("Demo.Post", "posts", None, "id", "id"),
            field("Demo.Post", "posts", None, "title", "title"),
            field("Demo.Post", "posts", None, "text", "body"),
        ];
        let removed = "def change do\n  alter table(:posts) do\n    remove :title\n  end\nend\n";
        assert_eq!(
            breaks(removed, &post),
            ["Demo.Post maps posts.title (field :title)"]
        );
        let sql = "def up do\n  execute \"ALTER TABLE posts DROP COLUMN body\"\nend\n";
        assert_eq!(
            breaks(sql, &post),
            ["Demo.Post maps posts.body (field :text)"]
        );
        let renamed = "def change do\n  rename table(:posts), :title, to: :headline\nend\n";
        assert_eq!(
            breaks(renamed, &post),
            ["Demo.Post maps posts.title (field :title)"]
        );
        let dropped = "def up do\n  execute \"DROP TABLE posts\"\nend\n";
        assert_eq!(breaks(dropped, &post), ["Demo.Post maps the table posts"]);
        // A column no schema maps, or another table's, breaks nothing.
        let other = "def change do\n  alter table(:posts) do\n    remove :legacy\n  end\nend\n";
        assert!(breaks(other, &post).is_empty());
        let comments =
            "def change do\n  alter table(:comments) do\n    remove :title\n  end\nend\n";
        assert!(breaks(comments, &post).is_empty());
        // Reviewed is reviewed.
        let assured = "@safety_assured true\ndef change do\n  alter table(:posts) do\n    remove :title\n  end\nend\n";
        assert!(breaks(assured, &post).is_empty());
    }

    #[test]
    fn a_not_null_column_the_schema_does_not_map_breaks_its_inserts() {
        let post = [field("Demo.Post", "posts", None, "title", "title")];
        let added = "def change do\n  alter table(:posts) do\n    add :slug, :text, null: false\n  end\nend\n";
        assert_eq!(
            breaks(added, &post),
            ["Demo.Post maps posts without slug: its inserts leave it NULL"]
        );
        let sql =
            "def up do\n  execute \"ALTER TABLE posts ALTER COLUMN slug SET NOT NULL\"\nend\n";
        assert_eq!(
            breaks(sql, &post),
            ["Demo.Post maps posts without slug: its inserts leave it NULL"]
        );
        let mapped = [field("Demo.Post", "posts", None, "slug", "slug")];
        assert!(breaks(added, &mapped).is_empty());
    }

    #[test]
    fn a_schema_prefix_is_another_schema() {
        let note = [field(
            "Demo.Tenant.Note",
            "notes",
            Some("tenant_a"),
            "title",
            "title",
        )];
        let removed = "def change do\n  alter table(:notes) do\n    remove :title\n  end\nend\n";
        let findings = analyze(removed).findings;
        assert_eq!(against(&findings, Some("tenant_a"), &note).len(), 1);
        assert!(against(&findings, Some("tenant_b"), &note).is_empty());
        assert!(against(&findings, None, &note).is_empty());
    }
}
