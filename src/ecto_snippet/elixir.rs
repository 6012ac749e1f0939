//! The Elixir that runs in the pod: the files under `elixir/`, and how a snippet is made of
//! them. Each file reads variables that the bindings (or a file before it) define; see
//! [`super::Snippet::elixir`] for which files each operation sends, in which order.
//!
//! The files are checked by the demo_release fixture's tests (`mix format
//! --check-formatted`, and each operation's snippet compiled), and by the tests below.

/// Load the app, name the repos, paths and prefixes; `say` prints a `kmigrate:*` line.
pub const PRELUDE: &str = include_str!("elixir/prelude.exs");
/// A heartbeat from the first step on (every snippet kmigrate follows by exec but `wait`).
pub const PULSE: &str = include_str!("elixir/pulse.exs");
/// Whether a repo's sessions carry the parameters asked for (PgBouncer may drop them).
pub const SESSION_CHECK: &str = include_str!("elixir/session_check.exs");
/// Name and bound the run's sessions; find other runs' sessions.
pub const SESSION: &str = include_str!("elixir/session.exs");
/// `--prefixes-from`: the prefixes from a query.
pub const TENANTS: &str = include_str!("elixir/tenants.exs");
/// Who holds Ecto's migration lock.
pub const LOCKS: &str = include_str!("elixir/locks.exs");
/// `status`.
pub const STATUS: &str = include_str!("elixir/status.exs");
/// Before a migrate or rollback: refuse, or wait, while another run executes.
pub const SETTLE: &str = include_str!("elixir/settle.exs");
/// While migrations run: heartbeats, lock waits, timeouts.
pub const WATCH: &str = include_str!("elixir/watch.exs");
/// A migrate or rollback reads every repo and prefix.
pub const CHANGE_READ: &str = include_str!("elixir/change_read.exs");
/// A rollback acts on one repo and prefix.
pub const CHECK_ONE_REPO: &str = include_str!("elixir/check_one_repo.exs");
/// `--canary` names tenants of the run.
pub const CHECK_CANARY: &str = include_str!("elixir/check_canary.exs");
/// `--to` names a migration.
pub const CHECK_TO: &str = include_str!("elixir/check_to.exs");
/// What the range selects, said before anything runs.
pub const CHANGE_PLAN: &str = include_str!("elixir/change_plan.exs");
/// Run it, tenant by tenant.
pub const CHANGE_RUN: &str = include_str!("elixir/change_run.exs");
/// The pending migrations' files and the plan hash.
pub const PLAN_FILES: &str = include_str!("elixir/plan_files.exs");
/// What the pending migrations touch: table sizes and lock holders, from the catalog.
pub const IMPACT: &str = include_str!("elixir/impact.exs");
/// The running code's Ecto schemas, through `__schema__/1,2`.
pub const CODE: &str = include_str!("elixir/code.exs");
/// `plan`.
pub const PLAN: &str = include_str!("elixir/plan.exs");
/// A migrate held to a plan hash.
pub const PLAN_PIN: &str = include_str!("elixir/plan_pin.exs");
/// The schema gate's wait.
pub const WAIT: &str = include_str!("elixir/wait.exs");
/// The last line of every snippet but the probe.
pub const END: &str = include_str!("elixir/end.exs");
/// `doctor`'s probe.
pub const PROBE: &str = include_str!("elixir/probe.exs");

/// Every file, by name.
#[cfg(test)]
pub const ALL: &[(&str, &str)] = &[
    ("prelude.exs", PRELUDE),
    ("pulse.exs", PULSE),
    ("session_check.exs", SESSION_CHECK),
    ("session.exs", SESSION),
    ("tenants.exs", TENANTS),
    ("locks.exs", LOCKS),
    ("status.exs", STATUS),
    ("settle.exs", SETTLE),
    ("watch.exs", WATCH),
    ("change_read.exs", CHANGE_READ),
    ("check_one_repo.exs", CHECK_ONE_REPO),
    ("check_canary.exs", CHECK_CANARY),
    ("check_to.exs", CHECK_TO),
    ("change_plan.exs", CHANGE_PLAN),
    ("change_run.exs", CHANGE_RUN),
    ("plan_files.exs", PLAN_FILES),
    ("impact.exs", IMPACT),
    ("code.exs", CODE),
    ("plan.exs", PLAN),
    ("plan_pin.exs", PLAN_PIN),
    ("wait.exs", WAIT),
    ("end.exs", END),
    ("probe.exs", PROBE),
];

/// `files` as they are sent: without comment lines, blank lines and indentation, which
/// would make the argv about twice as long. No string literal in the files spans lines
/// (a test below holds them to it), so this changes no code.
pub fn fold(files: &[&str]) -> String {
    let mut out = String::new();
    for line in files.iter().flat_map(|f| f.lines()) {
        let code = line.trim_start();
        if !code.is_empty() && !code.starts_with('#') {
            out.push_str(code);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration_plan::lexer::lex;

    #[test]
    fn every_file_is_listed_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ecto_snippet/elixir");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".exs") && !n.starts_with('.'))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = ALL.iter().map(|(n, _)| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    /// Folding is safe only if every line break is between tokens, and every comment has
    /// its own line.
    #[test]
    fn no_string_spans_lines_and_comments_have_their_own_lines() {
        for (name, source) in ALL {
            let lexed = lex(source);
            for s in &lexed.strings {
                assert!(
                    !source[s.start..s.end].contains('\n'),
                    "{name}:{}: a literal spans lines",
                    s.line
                );
            }
            let lines: Vec<&str> = source.lines().collect();
            for c in &lexed.comments {
                let line = lines[c.line as usize - 1].trim_start();
                assert!(
                    line.starts_with('#'),
                    "{name}:{}: a comment after code",
                    c.line
                );
            }
            assert!(!source.contains('\t') && !source.contains('\r'), "{name}");
        }
    }

    #[test]
    fn folding_drops_comment_and_blank_lines_and_indentation_only() {
        let src = "# why\nx = fn a ->\n  # more\n\n  \"# not a comment\" <> a\nend\n";
        assert_eq!(
            fold(&[src, "y = 1\n"]),
            "x = fn a ->\n\"# not a comment\" <> a\nend\ny = 1\n"
        );
    }
}
