//! `doctor`'s probe: a read-only snippet that says, in tagged lines, whether the app
//! loads, which repos it has, which ecto_sql the release carries, and whether each repo
//! answers `SELECT 1`. Every step that can fail is caught and reported as a line, so one
//! run tells as much as it can; it never migrates, locks or creates anything.

use super::{Snippet, verb};
use crate::cli::Mode;

const PROBE: &str = r#"say = fn parts -> IO.puts(Enum.map_join(["kmigrate:probe" | parts], "\t", &String.replace(to_string(&1), ~r/[\t\r\n]+/, " "))) end; app = :@APP@; loaded = Application.load(app); if match?(:ok, loaded) or match?({:error, {:already_loaded, _}}, loaded) do say.(["app", "ok"]); Application.load(:ecto_sql); say.(["ecto_sql", Application.spec(:ecto_sql, :vsn) || ""]); repos = @REPOS@; say.(["repos" | Enum.map(repos, &inspect/1)]); Application.ensure_all_started(:ssl); for repo <- repos do said = try do case Ecto.Migrator.with_repo(repo, fn r -> r.query!("SELECT 1") end) do {:ok, _, _} -> ["ok"]; {:error, e} -> ["error", inspect(e)] end rescue e -> ["error", Exception.message(e)] catch k, e -> ["error", inspect({k, e})] end; say.(["db", inspect(repo) | said]) end else say.(["app", "error", inspect(loaded)]) end"#;

impl Snippet {
    /// The probe's Elixir code, on one line.
    pub fn probe(&self) -> String {
        let repos = if self.repos.is_empty() {
            "Application.get_env(app, :ecto_repos, [])".to_owned()
        } else {
            super::list(self.repos.iter().map(|r| r.as_str().to_owned()))
        };
        PROBE
            .replace("@APP@", self.app.as_str())
            .replace("@REPOS@", &repos)
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
        assert!(code.contains("app = :shop;"), "{code}");
        assert!(code.contains("repos = Application.get_env(app, :ecto_repos, []);"));
        assert!(code.contains("Application.spec(:ecto_sql, :vsn)"));
        assert!(code.contains("r.query!(\"SELECT 1\")"));
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
        assert!(!code.contains('\n'));
    }

    #[test]
    fn named_repos_replace_the_apps_list() {
        let code = snippet(&["Shop.Repo", "Shop.Audit"]).probe();
        assert!(code.contains("repos = [Shop.Repo, Shop.Audit];"), "{code}");
    }
}
