//! How the Elixir snippet sent to `<release> eval` is built, and the checks that guard it.
//!
//! Every value that reaches the snippet is one of the validated types below, so no user
//! input is ever pasted into Elixir code unchecked.

use std::fmt;

use crate::cli::Mode;

/// An OTP application name: `^[a-z][a-z0-9_]*$`, at most 255 bytes (an atom's limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

/// An Elixir module name such as `MyApp.Repo`: `^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoModule(String);

/// A migration version: digits only, fits Ecto's `bigint` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(i64);

/// A positive number of migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step(u32);

impl AppName {
    /// Validate an OTP application name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut chars = s.chars();
        let ok = s.len() <= 255
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid app name {s:?}: use lowercase letters, digits and _ and start with a letter (like my_app)"
            ))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RepoModule {
    /// Validate an Elixir module name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let segment_ok = |seg: &str| {
            let mut chars = seg.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if s.len() <= 255 && s.split('.').all(segment_ok) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid repo module {s:?}: expected an Elixir module name like MyApp.Repo"
            ))
        }
    }

    /// The module name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Version {
    /// Validate a migration version (digits only).
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("invalid version {s:?}: expected digits only, like 20240101120000");
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        s.parse::<i64>().map(Self).map_err(|_| err())
    }

    /// The numeric value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Version {
    fn from(v: i64) -> Self {
        Self(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Step {
    /// Validate a step count: a positive integer.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.parse::<u32>() {
            Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(n)),
            _ => Err(format!(
                "invalid step {s:?}: expected a positive whole number"
            )),
        }
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// How far a migrate or rollback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Every pending migration (migrate only).
    All,
    /// The next or last N.
    Step(Step),
    /// Up to, or down to, this version (inclusive, as Ecto's `to:`).
    To(Version),
}

impl Range {
    /// `--to VERSION` or `--step N`, validated; `None` when neither was given.
    pub fn from_flags(to: Option<&str>, step: Option<&str>) -> Result<Option<Self>, String> {
        match (to, step) {
            (Some(v), _) => Version::parse(v).map(|v| Some(Self::To(v))),
            (None, Some(n)) => Step::parse(n).map(|n| Some(Self::Step(n))),
            (None, None) => Ok(None),
        }
    }
}

/// What the snippet asks Ecto to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Run migrations up.
    Migrate(Range),
    /// Run migrations down.
    Rollback(Range),
    /// Print every migration's state.
    Status,
}

/// Line prefix of the machine-readable lines the snippets print.
pub const STATUS_TAG: &str = "kmigrate:status";
/// Line prefix of the line listing the versions a migrate or rollback ran.
pub const RAN_TAG: &str = "kmigrate:ran";

/// The validated values a snippet is built from.
#[derive(Debug, Clone)]
pub struct Snippet {
    /// The OTP app to load.
    pub app: AppName,
    /// Explicit repos; empty means the app's `:ecto_repos`.
    pub repos: Vec<RepoModule>,
}

impl Snippet {
    /// The Elixir code for an action, on one line.
    pub fn elixir(&self, action: Operation) -> String {
        let repos = if self.repos.is_empty() {
            "Application.fetch_env!(app, :ecto_repos)".to_owned()
        } else {
            let list: Vec<&str> = self.repos.iter().map(RepoModule::as_str).collect();
            format!("[{}]", list.join(", "))
        };
        let body = match action {
            Operation::Migrate(range) => {
                ran(&format!("&Ecto.Migrator.run(&1, :up, {})", opts(range)))
            }
            Operation::Rollback(range) => {
                ran(&format!("&Ecto.Migrator.run(&1, :down, {})", opts(range)))
            }
            Operation::Status => format!(
                "{{:ok, ms, _}} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.migrations/1); \
                 for {{s, v, n}} <- ms, do: IO.puts(\"{STATUS_TAG}\\t#{{inspect(repo)}}\\t#{{s}}\\t#{{v}}\\t#{{n}}\")"
            ),
        };
        format!(
            "app = :{app}; Application.load(app); Application.ensure_all_started(:ssl); \
             for repo <- {repos} do {body} end",
            app = self.app.as_str()
        )
    }

    /// The remote argv: `<release> eval|rpc <snippet>`.
    pub fn argv(&self, release: &str, mode: Mode, action: Operation) -> Vec<String> {
        let verb = match mode {
            Mode::Eval => "eval",
            Mode::Rpc => "rpc",
        };
        vec![release.to_owned(), verb.to_owned(), self.elixir(action)]
    }
}

fn ran(run: &str) -> String {
    format!(
        "{{:ok, vs, _}} = Ecto.Migrator.with_repo(repo, {run}); \
         IO.puts(\"{RAN_TAG}\\t#{{inspect(repo)}}\\t#{{Enum.join(vs, \",\")}}\")"
    )
}

fn opts(range: Range) -> String {
    match range {
        Range::All => "all: true".to_owned(),
        Range::Step(n) => format!("step: {}", n.get()),
        Range::To(v) => format!("to: {}", v.get()),
    }
}

/// The app name a release path implies: `/app/bin/my_app` gives `my_app`.
pub fn app_from_release(release: &str) -> Option<&str> {
    release.rsplit('/').next().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Snippet {
        Snippet {
            app: AppName::parse("demo").unwrap(),
            repos: vec![],
        }
    }

    #[test]
    fn app_names() {
        for ok in ["demo", "my_app", "a1_b2"] {
            assert!(AppName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Demo",
            "1app",
            "_app",
            "my-app",
            "demo; System.halt",
            "a\"b",
            "a\nb",
            "démo",
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(AppName::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn repo_modules() {
        for ok in ["Repo", "MyApp.Repo", "My_App.Repo2.Read"] {
            assert!(RepoModule::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "repo",
            "MyApp.",
            ".Repo",
            "MyApp..Repo",
            "MyApp.repo",
            "A.B]",
            "A B",
            "A;B",
            ":repo",
        ] {
            assert!(RepoModule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_and_steps() {
        assert_eq!(
            Version::parse("20240101120000").unwrap().get(),
            20_240_101_120_000
        );
        for bad in ["", "-1", "+1", "1e3", "12 ", "0x10", "99999999999999999999"] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Step::parse("3").unwrap().get(), 3);
        for bad in ["0", "-1", "+1", "", "1.5", " 1", "4294967296"] {
            assert!(Step::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_from_flags() {
        assert_eq!(Range::from_flags(None, None), Ok(None));
        assert_eq!(
            Range::from_flags(Some("7"), None),
            Ok(Some(Range::To(Version::from(7))))
        );
        assert_eq!(
            Range::from_flags(None, Some("2")),
            Ok(Some(Range::Step(Step::parse("2").unwrap())))
        );
        assert!(Range::from_flags(Some("x"), None).is_err());
        assert!(Range::from_flags(None, Some("0")).is_err());
    }

    #[test]
    fn migrate_snippet_calls_ecto_migrator() {
        let code = demo().elixir(Operation::Migrate(Range::All));
        assert_eq!(
            code,
            "app = :demo; Application.load(app); Application.ensure_all_started(:ssl); \
             for repo <- Application.fetch_env!(app, :ecto_repos) do \
             {:ok, vs, _} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :up, all: true)); \
             IO.puts(\"kmigrate:ran\\t#{inspect(repo)}\\t#{Enum.join(vs, \",\")}\") end"
        );
    }

    #[test]
    fn rollback_and_explicit_repos() {
        let s = Snippet {
            app: AppName::parse("shop").unwrap(),
            repos: vec![
                RepoModule::parse("Shop.Repo").unwrap(),
                RepoModule::parse("Shop.Audit").unwrap(),
            ],
        };
        let step = s.elixir(Operation::Rollback(Range::Step(Step::parse("2").unwrap())));
        assert!(step.contains("for repo <- [Shop.Repo, Shop.Audit] do"));
        assert!(step.contains("Ecto.Migrator.run(&1, :down, step: 2)"));
        let to = s.elixir(Operation::Rollback(Range::To(
            Version::parse("20240102").unwrap(),
        )));
        assert!(to.contains("Ecto.Migrator.run(&1, :down, to: 20240102)"));
    }

    #[test]
    fn status_snippet_prints_tagged_lines() {
        let code = demo().elixir(Operation::Status);
        assert!(code.contains("&Ecto.Migrator.migrations/1"));
        assert!(
            code.contains("IO.puts(\"kmigrate:status\\t#{inspect(repo)}\\t#{s}\\t#{v}\\t#{n}\")")
        );
    }

    #[test]
    fn argv_has_no_shell() {
        let argv = demo().argv("/app/bin/demo", Mode::Rpc, Operation::Status);
        assert_eq!(argv.len(), 3);
        assert_eq!(&argv[..2], ["/app/bin/demo", "rpc"]);
    }

    #[test]
    fn app_from_release_path() {
        assert_eq!(app_from_release("/app/bin/my_app"), Some("my_app"));
        assert_eq!(app_from_release("bin/demo"), Some("demo"));
        assert_eq!(app_from_release("/app/bin/"), None);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever is typed, a value that passes validation carries no Elixir syntax beyond
        /// identifiers, dots and digits into the snippet.
        #[test]
        fn validated_values_cannot_inject(input in "\\PC{0,24}") {
            if let Ok(app) = AppName::parse(&input) {
                prop_assert!(app.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            }
            if let Ok(repo) = RepoModule::parse(&input) {
                prop_assert!(repo.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
            }
            if let Ok(v) = Version::parse(&input) {
                prop_assert!(v.get() >= 0);
            }
            if let Ok(s) = Step::parse(&input) {
                prop_assert!(s.get() > 0);
            }
        }

        /// The snippet's shape does not depend on the values: only the identifiers change.
        #[test]
        fn snippet_structure_is_fixed(app in "[a-z][a-z0-9_]{0,20}", repo in "[A-Z][A-Za-z0-9_]{0,10}(\\.[A-Z][A-Za-z0-9_]{0,10}){0,3}", step in 1u32..1000) {
            let s = Snippet { app: AppName::parse(&app).unwrap(), repos: vec![RepoModule::parse(&repo).unwrap()] };
            let code = s.elixir(Operation::Rollback(Range::Step(Step::parse(&step.to_string()).unwrap())));
            let skeleton = code.replace(&format!(":{app};"), ":APP;").replace(&format!("[{repo}]"), "[REPO]").replace(&format!("step: {step})"), "step: N)");
            prop_assert_eq!(
                skeleton,
                Snippet { app: AppName::parse("a").unwrap(), repos: vec![RepoModule::parse("R").unwrap()] }
                    .elixir(Operation::Rollback(Range::Step(Step::parse("1").unwrap())))
                    .replace(":a;", ":APP;").replace("[R]", "[REPO]").replace("step: 1)", "step: N)")
            );
        }
    }
}
