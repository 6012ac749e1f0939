//! `source_not_followed`: source the rules cannot follow. The engine walks the blocks and
//! reports it (a block without its `end` where `mix format` puts it, the DSL in a helper
//! function); this file says what a helper and a DSL call look like, and why.

use super::{Kind, Rule, no_dsl, no_sql};

rule!(HELPER, r"^\s*defp\s+(\w+)");
rule!(
    DSL_CALL,
    r"^\s*(?:create|create_if_not_exists|alter|drop|drop_if_exists|rename|remove|modify|execute|add)\b"
);

/// Why a block whose `end` was not found is not followed.
pub(super) const MISPLACED_END: &str = "its `end` is not where `mix format` puts it";

/// Why a helper that calls the DSL is not followed.
pub(super) const DSL_IN_HELPER: &str = "the migration DSL in a helper function";

pub(super) static RULE: Rule = Rule {
    kinds: &[Kind::SourceNotFollowed],
    file: file!(),
    dsl: no_dsl,
    sql: no_sql,
};

/// The name of the helper function a statement defines (`defp name`), when it is one.
pub(super) fn helper(t: &str) -> Option<&str> {
    HELPER
        .captures(t)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// Whether a statement calls the migration DSL.
pub(super) fn calls_dsl(t: &str) -> bool {
    DSL_CALL.is_match(t)
}

#[cfg(test)]
mod tests {
    use super::super::{Kind, analyze};
    use super::Kind::*;

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
        let helper_without_dsl =
            "def change do\n  create table(:x)\nend\n\ndefp name do\n  \"x\"\nend\n";
        assert!(analyze(helper_without_dsl).findings.is_empty());
    }
}
