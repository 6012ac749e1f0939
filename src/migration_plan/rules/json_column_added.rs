//! `json_column_added`: `add :c, :json`, `ADD COLUMN c json`.

use super::{Kind, Out, Rule, dsl::Dsl, sql::Sql};

rule!(
    JSON_TYPE,
    r#"^\s*add(?:_if_not_exists)?\s*\(?\s*[:"]?\w+"?\s*,\s*:json\b"#
);
rule!(JSON, r"(?i)^\s*json\b");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::JsonColumnAdded],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if d.adds_anywhere() && JSON_TYPE.is_match(d.t) {
        out.push((Kind::JsonColumnAdded, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for column in s.added_columns() {
        if JSON.is_match(column) {
            out.push((Kind::JsonColumnAdded, s.altered.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;

    #[test]
    fn json_but_not_jsonb() {
        assert_eq!(
            kinds("    alter table(:posts) do\n      add :meta, :json\n    end"),
            [JsonColumnAdded]
        );
        assert_eq!(
            kinds("    create table(:notes) do\n      add :meta, :json\n    end"),
            [JsonColumnAdded],
            "new tables too"
        );
        assert_eq!(
            kinds("    alter table(:posts) do\n      add :meta, :map\n    end"),
            []
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN meta json"),
            [(JsonColumnAdded, t("posts"))]
        );
        assert_eq!(in_sql("ALTER TABLE posts ADD COLUMN meta jsonb"), []);
    }
}
