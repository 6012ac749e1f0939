//! `doctor`'s probe: a read-only snippet that says, in tagged lines, whether the app
//! loads, which repos it has, which ecto_sql the release carries, and whether each repo
//! answers `SELECT 1`; then whether sessions opened as a run opens them carry its name and
//! timeouts, and whether a pooler sits in between. Every step that can fail is caught and
//! reported as a line, so one run tells as much as it can; it never migrates, locks or
//! creates anything.

use super::Mode;
use super::bindings::{Bindings, Literal};
use super::{Snippet, elixir, modules, sent, verb};

/// The `lock_timeout` doctor's sessions ask for when no timeout is configured: whether
/// `--lock-timeout` would reach PostgreSQL (through PgBouncer it may not). No server has
/// it by chance.
pub const PROBE_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(4321);

impl Snippet {
    /// The probe's Elixir code.
    pub fn probe(&self) -> String {
        let (bindings, files) = self.probe_parts();
        sent(bindings, &files)
    }

    /// The probe's bindings and file.
    pub(super) fn probe_parts(&self) -> (Bindings, Vec<&'static str>) {
        let mut b = Bindings::default();
        b.bind("app", Literal::atom(&self.app))
            .bind("named_repos", modules(&self.repos))
            .bind(
                "session_parameters",
                self.session_parameters("doctor", Some(PROBE_LOCK_TIMEOUT)),
            );
        (b, vec![elixir::SESSION_CHECK, elixir::PROBE])
    }

    /// The probe's remote argv: `<release> eval|rpc <probe>`.
    pub fn probe_argv(&self, release: &str, mode: Mode) -> Vec<String> {
        vec![release.to_owned(), verb(mode).to_owned(), self.probe()]
    }
}

#[cfg(test)]
mod tests {
    use crate::ecto_snippet::Snippet;

    fn snippet(repos: &[&str]) -> Snippet {
        crate::ecto_snippet::tests::shop(repos, &[])
    }

    #[test]
    fn the_probe_only_reads() {
        let code = snippet(&[]).probe();
        assert!(
            code.starts_with("app = :shop\nnamed_repos = []\n"),
            "{code}"
        );
        assert!(code.contains(
            "repos = if named_repos == [], do: Application.get_env(app, :ecto_repos, []), else: named_repos\n"
        ));
        assert!(code.contains("Application.spec(:ecto_sql, :vsn)"));
        assert!(code.contains("r.query!(\"SELECT 1\")"));
        // Sessions opened as a run opens them: named, with a lock_timeout to look for.
        assert!(
            code.contains(r#"session_parameters = [application_name: "kmigrate-doctor-ab12cd34", lock_timeout: "4321"]"#),
            "{code}"
        );
        assert!(code.contains("session_check.(r, session_parameters)"));
        for writes in [
            "Ecto.Migrator.run(",
            "Ecto.Migrator.migrations(",
            "LOCK TABLE",
            "INSERT",
            "CREATE",
        ] {
            assert!(!code.contains(writes), "{writes}");
        }
        assert!(!code.contains('@'), "every placeholder is filled: {code}");
        // Sent as the file's code lines, without its comments and indentation.
        assert!(!code.ends_with('\n'));
        assert!(
            code.lines()
                .all(|l| !l.is_empty() && !l.starts_with([' ', '#']))
        );
    }

    #[test]
    fn named_repos_replace_the_apps_list() {
        let code = snippet(&["Shop.Repo", "Shop.Audit"]).probe();
        assert!(
            code.starts_with("app = :shop\nnamed_repos = [Shop.Repo, Shop.Audit]\n"),
            "{code}"
        );
    }
}
