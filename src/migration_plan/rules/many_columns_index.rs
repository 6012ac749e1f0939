//! `many_columns_index`: a non-unique index on more than three columns.

use super::{Kind, Out, Rule, dsl::Dsl, no_sql};

rule!(UNIQUE, r"\bunique_index\b|\bunique:\s*true\b");
rule!(COLUMNS, r"index\s*\([^,\[]*,\s*\[([^\]]*)\]");

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::ManyColumnsIndex],
    file: file!(),
    dsl,
    sql: no_sql,
};

fn dsl(d: &Dsl<'_>, out: &mut Out) {
    if let Some(table) = d.created_index()
        && !UNIQUE.is_match(d.t)
        && COLUMNS
            .captures(d.t)
            .is_some_and(|cols| cols[1].split(',').filter(|c| !c.trim().is_empty()).count() > 3)
    {
        out.push((Kind::ManyColumnsIndex, table));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::kinds;
    use super::Kind::*;

    #[test]
    fn wide_indexes_unless_unique() {
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
