//! `column_volatile_default`: a default Postgres evaluates for every existing row
//! (`gen_random_uuid()`, `random()`), in `default: fragment("...")` or `DEFAULT ...`. Known
//! stable functions (`now()` and its kin) are evaluated once: a list, as squawk keeps.

use super::{
    Kind, Out, Rule,
    dsl::Dsl,
    sql::{self, Sql},
};

rule!(FUNCTION_CALL, r"([A-Za-z_][\w.]*)\s*\(");
rule!(QUOTED, r"'(?:[^']|'')*'");
rule!(
    FRAGMENT,
    r#"\bdefault:\s*fragment\(\s*(?:"([^"]*)"|~[sS]?[(\[{|"]([^)\]}|"]*))"#
);

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

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ColumnVolatileDefault],
    file: file!(),
    dsl,
    sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if (d.adds() || d.modifies()) && volatile_fragment(d.src) {
        out.push((Kind::ColumnVolatileDefault, d.table()));
    }
}

fn sql(s: &Sql<'_>, out: &mut Out) {
    for column in s.added_columns() {
        if sql::default(column).is_some_and(volatile) {
            out.push((Kind::ColumnVolatileDefault, s.altered.clone()));
        }
    }
}

/// Whether a statement's source has a function in a `default: fragment("...")` that is
/// not known to be stable.
fn volatile_fragment(src: &str) -> bool {
    FRAGMENT.captures(src).is_some_and(|c| {
        let sql = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        volatile(sql)
    })
}

/// Whether a default expression calls a function not known to be stable.
fn volatile(expression: &str) -> bool {
    let bare = QUOTED.replace_all(expression, "''");
    FUNCTION_CALL.captures_iter(&bare).any(|c| {
        let name = c[1]
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        !NOT_VOLATILE.contains(&name.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{in_sql, kinds, t};
    use super::Kind::*;
    use super::volatile;

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
    fn volatile_defaults_in_sql() {
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN uid uuid DEFAULT gen_random_uuid()"),
            [(ColumnVolatileDefault, t("posts"))]
        );
        assert_eq!(
            in_sql("ALTER TABLE posts ADD COLUMN at timestamptz DEFAULT now()"),
            []
        );
        assert!(volatile("random()") && volatile("clock_timestamp()"));
        assert!(!volatile("now()") && !volatile("'now()'") && !volatile("0"));
    }
}
