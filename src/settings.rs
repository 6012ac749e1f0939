//! The second parsing stage: flags + config file + environment become one validated value
//! before any network I/O. Nothing past this point reads flags.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, Mode, OutputFormat};
use crate::config::{self, Config, DEFAULT_PROTECTED_PATTERNS};
use crate::connection::KubeArgs;
use crate::ecto_snippet::{AppName, RepoModule, Snippet, app_from_release};
use crate::error::usage;
use crate::lock::{LockMode, lease_name};
use crate::selector::Selector;

/// How the app's migrations are reached inside the container.
#[derive(Debug, Clone)]
pub struct Ecto {
    /// The release script, e.g. `/app/bin/my_app`.
    pub release: String,
    /// Validated values for the snippet.
    pub snippet: Snippet,
    /// eval or rpc.
    pub mode: Mode,
}

/// Validated settings for one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// kubeconfig and context.
    pub kube: KubeArgs,
    /// Namespace from flag or config; `None` means the kubeconfig's.
    pub namespace: Option<String>,
    /// Label selector.
    pub selector: Option<Selector>,
    /// A forced pod name.
    pub pod: Option<String>,
    /// A forced container name.
    pub container: Option<String>,
    /// The embedded snippet's inputs; `None` for commands that do not need them.
    pub ecto: Option<Ecto>,
    /// Custom migrate argv.
    pub migrate_command: Option<Vec<String>>,
    /// Custom rollback argv with `{step}` / `{to}` placeholders.
    pub rollback_command: Option<Vec<String>>,
    /// `protected` from the config, if set.
    pub protected: Option<bool>,
    /// Name patterns that make an environment protected.
    pub protected_patterns: Vec<String>,
    /// `--yes`.
    pub yes: bool,
    /// `--timeout` (or the config's), with the text as written.
    pub timeout: Option<(Duration, String)>,
    /// `-o json`.
    pub json: bool,
    /// The environment name, if any.
    pub env: Option<String>,
    /// The config file used, if any.
    pub config_path: Option<PathBuf>,
    /// The single-runner lock mode.
    pub lock: LockMode,
    /// The Lease name for this app.
    pub lock_name: String,
    /// `--wait`: wait for the lock instead of failing.
    pub wait: bool,
    /// Job mode, when on.
    pub job: Option<JobMode>,
}

/// Job mode settings.
#[derive(Debug, Clone)]
pub struct JobMode {
    /// The image; `None` means the Deployment's current image.
    pub image: Option<String>,
    /// The Deployment to copy; `None` means the owner of the chosen pod.
    pub deployment: Option<String>,
    /// Print the Job and create nothing.
    pub dry_run: bool,
}

impl Settings {
    /// Merge and validate. `cwd` is where `kmigrate.toml` is searched from.
    pub fn new(cli: &Cli, cwd: &std::path::Path) -> Result<Self> {
        let g = &cli.global;
        let config_path = match &g.config {
            Some(path) => {
                if !path.is_file() {
                    return Err(usage(format!("config file {} not found", path.display())));
                }
                Some(path.clone())
            }
            None => config::discover(cwd),
        };
        let config = match &config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))
                    .map_err(|e| usage(format!("{e:#}")))?;
                Config::parse(&text)
                    .map_err(|e| usage(format!("invalid config file {}: {e}", path.display())))?
            }
            None => Config::default(),
        };
        if g.env.is_some() && config_path.is_none() {
            return Err(usage(
                "-e/--env needs a kmigrate.toml (none found here or above; see `kmigrate init`)",
            ));
        }
        let t = config.resolve(g.env.as_deref()).map_err(usage)?;

        let namespace = g.namespace.clone().or(t.namespace);
        if let Some(ns) = &namespace {
            check_dns_label(ns, "namespace")?;
        }
        let selector_text = g.selector.clone().or(t.selector);
        let selector = selector_text
            .as_deref()
            .map(Selector::parse)
            .transpose()
            .map_err(usage)?;
        if let Some(pod) = &g.pod {
            check_dns_subdomain(pod, "pod name")?;
        }
        let container = g.container.clone().or(t.container);
        if let Some(c) = &container {
            check_dns_label(c, "container name")?;
        }
        let job_args = match &cli.command {
            Command::Migrate(a) => Some(&a.job),
            Command::Rollback(a) => Some(&a.job),
            Command::Status(a) => Some(&a.job),
            _ => None,
        };
        let job = job_args
            .filter(|a| a.image.is_some() || a.dry_run || t.job == Some(true))
            .map(|a| JobMode {
                image: a.image.clone(),
                deployment: a.deployment.clone().or_else(|| t.deployment.clone()),
                dry_run: a.dry_run,
            });
        if let Some(image) = job.as_ref().and_then(|j| j.image.as_deref())
            && (image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(usage(format!("invalid image {image:?}")));
        }
        if let Some(d) = job.as_ref().and_then(|j| j.deployment.as_deref()) {
            check_dns_subdomain(d, "deployment name")?;
        }
        let needs_target = !matches!(
            cli.command,
            Command::Completions(_) | Command::Init(_) | Command::Runs | Command::Logs(_)
        ) && job.as_ref().is_none_or(|j| j.deployment.is_none());
        if needs_target && selector.is_none() && g.pod.is_none() {
            return Err(usage(
                "no pod selector: pass -l (e.g. -l app=my_app) or --pod, or set selector in kmigrate.toml",
            ));
        }
        let mode = g.mode.or(t.mode).unwrap_or(Mode::Eval);
        let migrate_command = t.migrate_command;
        let rollback_command = t.rollback_command;
        for argv in [&migrate_command, &rollback_command].into_iter().flatten() {
            if argv.is_empty() || argv[0].is_empty() {
                return Err(usage(
                    "migrate_command and rollback_command need at least a program name",
                ));
            }
        }
        let needs_ecto = match cli.command {
            Command::Migrate(_) => migrate_command.is_none(),
            Command::Rollback(_) => rollback_command.is_none(),
            Command::Status(_) => true,
            _ => false,
        };
        let app = g.app.clone().or(t.app);
        let release = g.release.clone().or(t.release);
        let ecto = if needs_ecto {
            let repos = if g.repos.is_empty() {
                t.repos.unwrap_or_default()
            } else {
                g.repos.clone()
            };
            Some(ecto(app.clone(), release.clone(), &repos, mode)?)
        } else {
            None
        };
        let lock_name = match (
            &ecto,
            app.as_deref()
                .or_else(|| release.as_deref().and_then(app_from_release)),
        ) {
            (Some(e), _) => lease_name(e.snippet.app.as_str()),
            (None, Some(a)) if AppName::parse(a).is_ok() => lease_name(a),
            _ => {
                let key = selector
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| g.pod.clone())
                    .unwrap_or_default();
                format!("kmigrate-{:08x}", fnv1a(key.as_bytes()))
            }
        };
        let timeout_text = g.timeout.clone().or(t.timeout.clone());
        let timeout = timeout_text
            .map(|s| parse_duration(&s).map(|d| (d, s.clone())).map_err(usage))
            .transpose()?;
        let protected_patterns = config.protected_patterns.unwrap_or_else(|| {
            DEFAULT_PROTECTED_PATTERNS
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        });
        Ok(Self {
            kube: KubeArgs {
                kubeconfig: g.kubeconfig.clone(),
                context: g.context.clone().or(t.context),
            },
            namespace,
            selector,
            pod: g.pod.clone(),
            container,
            ecto,
            migrate_command,
            rollback_command,
            protected: t.protected,
            protected_patterns,
            yes: g.yes,
            timeout,
            json: g.output == OutputFormat::Json,
            env: g.env.clone().or(config.default_env),
            config_path,
            lock: config.lock.unwrap_or_default(),
            lock_name,
            wait: g.wait,
            job,
        })
    }

    /// Why the environment is protected, or `None`.
    pub fn protection(&self, context: &str, namespace: &str) -> Option<String> {
        if self.protected == Some(true) {
            return Some(match &self.env {
                Some(env) => format!("environment {env} is marked protected"),
                None => "the config marks it protected".to_owned(),
            });
        }
        for pattern in &self.protected_patterns {
            if config::glob_match(pattern, namespace) {
                return Some(format!("namespace {namespace:?} matches {pattern:?}"));
            }
            if config::glob_match(pattern, context) {
                return Some(format!("context {context:?} matches {pattern:?}"));
            }
        }
        None
    }
}

fn ecto(
    app: Option<String>,
    release: Option<String>,
    repos: &[String],
    mode: Mode,
) -> Result<Ecto> {
    let app_text = match (&app, &release) {
        (Some(app), _) => app.clone(),
        (None, Some(release)) => app_from_release(release)
            .ok_or_else(|| {
                usage(format!(
                    "cannot tell the app name from release path {release:?}; set app"
                ))
            })?
            .to_owned(),
        (None, None) => {
            return Err(usage(
                "which app? pass --app or --release, or set app or release in kmigrate.toml",
            ));
        }
    };
    let app = AppName::parse(&app_text).map_err(usage)?;
    let release = release.unwrap_or_else(|| format!("/app/bin/{}", app.as_str()));
    let repos = repos
        .iter()
        .map(|r| RepoModule::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    Ok(Ecto {
        release,
        snippet: Snippet { app, repos },
        mode,
    })
}

/// A stable short hash for names derived from user input.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `90s`, `10m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("invalid duration {s:?}: use e.g. 90s, 10m, 1h or 500ms");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| err())?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.checked_mul(60).ok_or_else(err)?),
        "h" => Duration::from_secs(n.checked_mul(3600).ok_or_else(err)?),
        _ => return Err(err()),
    };
    if d.is_zero() {
        return Err(err());
    }
    Ok(d)
}

fn check_dns_label(s: &str, what: &str) -> Result<()> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "invalid {what} {s:?}: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        )))
    }
}

fn check_dns_subdomain(s: &str, what: &str) -> Result<()> {
    let ok = s.len() <= 253
        && s.split('.')
            .all(|label| check_dns_label(label, what).is_ok());
    if ok {
        Ok(())
    } else {
        Err(usage(format!("invalid {what} {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str], config: Option<&str>) -> Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = config {
            std::fs::write(dir.path().join(config::FILE_NAME), text).unwrap();
        }
        let mut argv = vec!["kmigrate"];
        argv.extend_from_slice(args);
        Settings::new(&Cli::try_parse_from(argv).unwrap(), dir.path())
    }

    fn code(r: Result<Settings>) -> u8 {
        crate::error::exit_code_of(&r.expect_err("expected an error"))
    }

    #[test]
    fn flags_override_env_which_overrides_defaults() {
        let cfg = "selector = \"app=a\"\nnamespace = \"n0\"\nrelease = \"/srv/bin/shop\"\n\
                   [env.s]\nnamespace = \"n1\"\ncontainer = \"web\"\n";
        let s = settings(&["-e", "s", "migrate"], Some(cfg)).unwrap();
        assert_eq!(s.namespace.as_deref(), Some("n1"));
        assert_eq!(s.container.as_deref(), Some("web"));
        let ecto = s.ecto.unwrap();
        assert_eq!(ecto.release, "/srv/bin/shop");
        assert_eq!(ecto.snippet.app.as_str(), "shop");
        let s = settings(&["-e", "s", "-n", "n2", "-c", "app", "migrate"], Some(cfg)).unwrap();
        assert_eq!(
            (s.namespace.as_deref(), s.container.as_deref()),
            (Some("n2"), Some("app"))
        );
    }

    #[test]
    fn default_release_path_comes_from_app() {
        let s = settings(&["-l", "app=x", "--app", "my_app", "status"], None).unwrap();
        assert_eq!(s.ecto.unwrap().release, "/app/bin/my_app");
    }

    #[test]
    fn invalid_values_are_usage_errors_before_any_network() {
        let usage = crate::error::code::USAGE;
        assert_eq!(
            code(settings(
                &["-l", "app=x", "--app", "My-App", "migrate"],
                None
            )),
            usage
        );
        assert_eq!(
            code(settings(
                &["-l", "app=x", "--app", "a", "--repo", "repo;", "migrate"],
                None
            )),
            usage
        );
        assert_eq!(
            code(settings(
                &["-l", "app in (x", "--app", "a", "migrate"],
                None
            )),
            usage
        );
        assert_eq!(
            code(settings(&["-l", "app=x", "-n", "Bad_NS", "pods"], None)),
            usage
        );
        assert_eq!(
            code(settings(
                &["-l", "app=x", "--timeout", "soon", "pods"],
                None
            )),
            usage
        );
        assert_eq!(code(settings(&["pods"], None)), usage);
        assert_eq!(code(settings(&["-l", "app=x", "migrate"], None)), usage);
        assert_eq!(code(settings(&["-e", "prod", "pods"], None)), usage);
        assert_eq!(
            code(settings(&["-e", "prd", "pods"], Some("[env.prod]\n"))),
            usage
        );
        assert_eq!(code(settings(&["pods"], Some("selector = 12\n"))), usage);
    }

    #[test]
    fn custom_command_needs_no_app() {
        let s = settings(
            &["-l", "app=x", "migrate"],
            Some("migrate_command = [\"/app/bin/migrate\"]\n"),
        )
        .unwrap();
        assert!(s.ecto.is_none());
        assert_eq!(s.migrate_command.unwrap(), ["/app/bin/migrate"]);
    }

    #[test]
    fn protection_rules() {
        let s = settings(&["-l", "app=x", "pods"], None).unwrap();
        assert!(s.protection("dev", "shop-prod").is_some());
        assert!(s.protection("prod", "shop").unwrap().contains("context"));
        assert!(s.protection("prod-eu", "shop").is_some());
        assert!(s.protection("kind-dev", "shop-staging").is_none());
        assert!(s.protection("dev", "production").is_some());
        let s = settings(
            &["-l", "app=x", "pods"],
            Some("protected_patterns = [\"live\"]\n"),
        )
        .unwrap();
        assert!(s.protection("dev", "prod").is_none());
        assert!(s.protection("dev", "live").is_some());
        let s = settings(
            &["-l", "app=x", "-e", "p", "pods"],
            Some("[env.p]\nprotected = true\n"),
        )
        .unwrap();
        assert!(
            s.protection("dev", "dev")
                .unwrap()
                .contains("environment p")
        );
    }

    #[test]
    fn lock_names() {
        let s = settings(&["-l", "app=x", "--app", "my_app", "migrate"], None).unwrap();
        assert_eq!(s.lock_name, "kmigrate-my-app");
        assert_eq!(s.lock, LockMode::BestEffort);
        let s = settings(
            &["-l", "app=x", "migrate"],
            Some("migrate_command = [\"m\"]\nlock = \"required\"\n"),
        )
        .unwrap();
        assert!(
            s.lock_name.starts_with("kmigrate-") && s.lock_name.len() == 17,
            "{}",
            s.lock_name
        );
        assert_eq!(s.lock, LockMode::Required);
        assert!(settings(&["-l", "app=x", "pods"], Some("lock = \"maybe\"\n")).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        for bad in ["", "0s", "1.5s", "-1s", "10 m", "m", "1d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
