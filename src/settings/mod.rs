//! The second parsing stage: flags + config file + environment become one validated value,
//! carrying the validated action, before any network I/O. Nothing past this point reads flags.

mod action;
mod loaded;
mod protection;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::cli::{
    Cli, Command, GlobalArgs, LintArgs, LintFailOn, MigrateArgs, OutputFormat, RollbackArgs,
};
use crate::config::{self, Config};
use crate::connection::{Destination, KubeArgs};
use crate::ecto_snippet::Mode;
use crate::ecto_snippet::{AppName, Operation, Range, Snippet, app_from_release};
use crate::error::usage;
use crate::job::Entrypoint;
use crate::lock::{LockMode, lease_name};
use crate::selector::Selector;
use crate::target::PodQuery;

pub use action::{Action, Change, Gate, Lint, RunName};
use loaded::{Loaded, deadline};
pub use protection::{Place, Protection};
use values::check_dns_subdomain;
pub use values::{check_dns_label, parse_duration};

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

impl Ecto {
    /// The remote argv for an operation: `<release> eval|rpc <snippet>`.
    pub fn argv(&self, op: Operation) -> Vec<String> {
        self.snippet.argv(&self.release, self.mode, op)
    }

    /// The remote argv of `doctor`'s probe: `<release> eval|rpc <probe>`.
    pub fn probe_argv(&self) -> Vec<String> {
        self.snippet.probe_argv(&self.release, self.mode)
    }
}

/// Validated settings for one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What to do.
    pub action: Action,
    /// kubeconfig and context.
    pub kube: KubeArgs,
    /// Namespace from flag or config; `None` means the kubeconfig's.
    pub namespace: Option<String>,
    /// Which pods are the app's, and the container to run in.
    pub pods: PodQuery,
    /// The embedded snippet's inputs; `None` for commands that do not need them.
    pub ecto: Option<Ecto>,
    /// What makes the environment protected.
    pub protection: Protection,
    /// Record user-typed commands in full in the audit trail.
    pub audit_full_argv: bool,
    /// Leave an audit Event per run that may change the database (`audit`, default true).
    pub audit: bool,
    /// `--yes`.
    pub yes: bool,
    /// `--timeout` (or the config's, or the default of a command that only reads), with
    /// the text as written.
    pub timeout: Option<(Duration, String)>,
    /// `--remote-failure-code` (or the config's): the exit code of every remote failure.
    pub remote_failure_code: Option<u8>,
    /// The single-runner lock mode.
    pub lock: LockMode,
    /// The Lease name, when the app names it; `None` when only the pod can tell (a custom
    /// command without a valid `app`: the lock is named after the pod's workload).
    pub lock_name: Option<String>,
    /// `--wait`: wait for the lock instead of failing.
    pub wait: bool,
    /// `--continue-on-error`: with several environments, go on after one fails.
    pub continue_on_error: bool,
    /// Job mode, when on.
    pub job: Option<JobMode>,
    /// The config file read, if any (shown in plans).
    pub config: Option<PathBuf>,
}

/// `--remote-failure-code` over the config's `remote_failure_code`: a code from 1 to 255
/// that is none of kmigrate's own (which would bring back the collision it removes).
fn remote_failure_code(flag: Option<&str>, config: Option<i64>) -> Result<Option<u8>> {
    let (value, name) = match (flag, config) {
        (Some(f), _) => (f.parse::<i64>().ok(), "--remote-failure-code"),
        (None, Some(c)) => (Some(c), "remote_failure_code in kmigrate.toml"),
        (None, None) => return Ok(None),
    };
    let shown = flag.map_or_else(|| config.unwrap_or_default().to_string(), str::to_owned);
    let code = value
        .and_then(|v| u8::try_from(v).ok())
        .filter(|&c| c != 0)
        .ok_or_else(|| {
            usage(format!(
                "{name}: {shown:?} is not an exit code from 1 to 255"
            ))
        })?;
    if crate::error::EXIT_CODES.iter().any(|d| d.code == code) {
        return Err(usage(format!(
            "{name}: {code} is one of kmigrate's own exit codes; choose one that is not (see --help)"
        )));
    }
    Ok(Some(code))
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
    /// How long a pod that Kubernetes keeps retrying is given to start.
    pub start_grace: Duration,
    /// Whether the Job's command replaces the entrypoint the app runs under, or runs under it.
    pub entrypoint: Entrypoint,
}

impl Settings {
    /// Merge and validate. `cwd` is where `kmigrate.toml` is searched from; `source` says
    /// which config file was read, and what was wrong with one, even when this fails. The
    /// config file is read only for actions that use it: `init` and `completions` work anywhere.
    pub fn new(cli: &Cli, cwd: &Path, source: &mut config::Source) -> Result<Self> {
        let g = &cli.global;
        match &cli.command {
            Command::Completions(a) => Ok(Self::local(Action::Completions { shell: a.shell })),
            Command::Lint(a) => Ok(Self::local(Action::Lint(lint(a, g)?))),
            Command::Init(a) => Ok(Self::local(Action::Init {
                force: a.force,
                rbac: a.rbac,
            })),
            command => {
                let loaded = Loaded::read(g, cwd, source)?;
                let chosen = Chosen::of(command, g, &loaded)?;
                Self::assemble(g, loaded, chosen, source.path.clone())
            }
        }
    }

    /// Where the app's pods are: the namespace, selector, pod and container of the flags
    /// over the config's, each validated.
    fn pods(
        g: &GlobalArgs,
        namespace: Option<String>,
        selector: Option<String>,
        container: Option<String>,
    ) -> Result<(Option<String>, Option<Selector>, Option<String>)> {
        let namespace = g.namespace.clone().or(namespace);
        if let Some(ns) = &namespace {
            check_dns_label(ns, "namespace")?;
        }
        let selector = g
            .selector
            .clone()
            .or(selector)
            .as_deref()
            .map(Selector::parse)
            .transpose()
            .map_err(usage)?;
        if let Some(pod) = &g.pod {
            check_dns_subdomain(pod, "pod name")?;
        }
        let container = g.container.clone().or(container);
        if let Some(c) = &container {
            check_dns_label(c, "container name")?;
        }
        Ok((namespace, selector, container))
    }

    /// The settings around a chosen action: where (namespace, selector, pod, container),
    /// which lock, the timeout, the protection, from the flags over the config's layer.
    fn assemble(
        g: &GlobalArgs,
        loaded: Loaded,
        chosen: Chosen,
        config_path: Option<PathBuf>,
    ) -> Result<Self> {
        let Chosen { action, ecto, job } = chosen;
        let Loaded { config, layer: t } = loaded;
        let (namespace, selector, container) = Self::pods(g, t.namespace, t.selector, t.container)?;
        // A Job copied from a named Deployment needs no pod to find it by.
        let needs_pod = action.needs_pod() && job.as_ref().is_none_or(|j| j.deployment.is_none());
        if needs_pod && selector.is_none() && g.pod.is_none() {
            return Err(usage(
                "no pod selector: pass -l (e.g. -l app=my_app) or --pod, or set selector in kmigrate.toml",
            ));
        }
        let app = g.app.clone().or(t.app);
        let release = g.release.clone().or(t.release);
        let lock_name = lock_name(
            ecto.as_ref(),
            app.as_deref()
                .or_else(|| release.as_deref().and_then(app_from_release)),
        );
        if matches!(action, Action::Unlock { .. })
            && lock_name.is_none()
            && selector.is_none()
            && g.pod.is_none()
        {
            return Err(usage(
                "which lock? pass --app (or -l/--pod, as for the run that took it), or set app in kmigrate.toml",
            ));
        }
        let timeout = g
            .timeout
            .clone()
            .or(t.timeout)
            .map(|s| parse_duration(&s).map(|d| (d, s)).map_err(usage))
            .transpose()?
            .or_else(|| {
                action.default_timeout().map(|d| {
                    let s = d.as_secs();
                    let text = if s % 60 == 0 {
                        format!("{}m", s / 60)
                    } else {
                        format!("{s}s")
                    };
                    (
                        d,
                        format!("{text} (the default --timeout of a command that only reads)"),
                    )
                })
            });
        let remote_failure_code =
            remote_failure_code(g.remote_failure_code.as_deref(), config.remote_failure_code)?;
        let env = g.env.clone().or(config.default_env.clone());
        let (lock, marks_off) = switches(
            &config,
            std::env::var("KMIGRATE_LOCK").ok().as_deref(),
            std::env::var("KMIGRATE_PROTECTION_MARKS").ok().as_deref(),
        )
        .map_err(usage)?;
        let mut protection = Protection::new(&config, env.clone(), t.protected, marks_off);
        if lock == LockMode::Off {
            protection.notes.push(
                "note: KMIGRATE_LOCK=off: this run takes no single-runner lock, so nothing stops another run at the same time"
                    .to_owned(),
            );
        }
        Ok(Self {
            action,
            kube: KubeArgs {
                kubeconfig: g.kubeconfig.clone(),
                context: g.context.clone().or(t.context),
            },
            namespace,
            pods: PodQuery {
                pod: g.pod.clone(),
                selector,
                container,
            },
            ecto,
            protection,
            audit_full_argv: config.audit_argv == Some(crate::config::AuditArgv::Full),
            audit: config.audit != Some(false),
            yes: g.yes,
            timeout,
            remote_failure_code,
            lock,
            lock_name,
            wait: g.wait,
            continue_on_error: g.continue_on_error,
            job,
            config: config_path,
        })
    }

    /// The environments `-e` names, in order: a comma-separated list, or a group of the
    /// config (`[groups] prod = ["prod-eu", "prod-us"]`); empty or one name is one run.
    pub fn environments(cli: &Cli, cwd: &Path) -> Result<Vec<String>> {
        let Some(e) = cli.global.env.as_deref() else {
            return Ok(Vec::new());
        };
        let names: Vec<String> = if e.contains(',') {
            e.split(',').map(|n| n.trim().to_owned()).collect()
        } else {
            let home = std::env::home_dir();
            let text = config::read(
                cli.global.config_path().as_deref(),
                cwd,
                home.as_deref(),
                &mut config::Source::default(),
            )
            .map_err(usage)?;
            let groups = match text {
                Some(t) => Config::parse(&t).map_err(usage)?.groups,
                None => Default::default(),
            };
            match groups.get(e) {
                Some(list) if list.is_empty() => {
                    return Err(usage(format!(
                        "group {e:?} in kmigrate.toml lists no environment"
                    )));
                }
                Some(list) => list.clone(),
                None => vec![e.to_owned()],
            }
        };
        if let Some(bad) = names.iter().find(|n| n.is_empty()) {
            return Err(usage(format!(
                "-e {e:?}: an empty environment name {bad:?}"
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(usage(format!("-e {e:?} names {dup:?} twice")));
        }
        Ok(names)
    }

    /// Settings for an action that needs neither the config file nor the cluster.
    fn local(action: Action) -> Self {
        Self {
            action,
            kube: KubeArgs::default(),
            namespace: None,
            pods: PodQuery::default(),
            ecto: None,
            protection: Protection::default(),
            audit_full_argv: false,
            audit: true,
            yes: false,
            timeout: None,
            remote_failure_code: None,
            lock: LockMode::default(),
            lock_name: None,
            wait: false,
            continue_on_error: false,
            job: None,
            config: None,
        }
    }

    /// The action's command as the audit trail records it: the embedded snippet in full
    /// (kmigrate wrote it from validated values), a user's command per `audit_argv`.
    pub fn recorded_argv(&self, argv: &[String]) -> String {
        let ours = match &self.action {
            Action::Migrate(c) | Action::Rollback(c) => !c.custom,
            Action::Status { .. } | Action::Wait { .. } | Action::Gate(_) | Action::Plan => true,
            Action::Exec { .. }
            | Action::Console { .. }
            | Action::Pods
            | Action::Runs
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Doctor
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        };
        crate::audit::recorded_argv(argv, ours || self.audit_full_argv)
    }

    /// Whether a protected environment asks before this run: it may change the database,
    /// or it creates a Job, which runs an image with the app's Secrets and service account
    /// (a Job-mode status too; a dry run creates nothing).
    pub fn confirms_when_protected(&self) -> bool {
        let creates_job =
            self.action.runs_in_job() && self.job.as_ref().is_some_and(|j| !j.dry_run);
        self.action.changes_database() || creates_job
    }

    /// Whether the run names its user (SelfSubjectReview): in the audit Event, as the lock's
    /// holder, in a Job's annotations, or in doctor's checks.
    pub fn needs_user(&self) -> bool {
        let by_action = match self.action {
            Action::Doctor | Action::Unlock { .. } => true,
            Action::Migrate(_) | Action::Rollback(_) => self.lock != LockMode::Off,
            Action::Status { .. }
            | Action::Wait { .. }
            | Action::Gate(_)
            | Action::Plan
            | Action::Exec { .. }
            | Action::Console { .. }
            | Action::Pods
            | Action::Runs
            | Action::Logs { .. }
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        };
        self.audit || self.job.is_some() || by_action
    }

    /// Why the place is protected, or `None`.
    pub fn protection(&self, place: &Place<'_>) -> Option<String> {
        self.protection.reason(place)
    }

    /// Why the place is protected, from what is known before any request: the namespace
    /// and context given by flag or config, and what the kubeconfig says of its context
    /// (name, cluster, server, namespace). A run that cannot confirm is refused at once.
    pub fn protection_before_connecting(&self, dest: Option<&Destination>) -> Option<String> {
        self.protection(&Place {
            context: dest
                .map(|d| d.context.as_str())
                .or(self.kube.context.as_deref()),
            namespace: self
                .namespace
                .as_deref()
                .or(dest.map(|d| d.namespace.as_str())),
            cluster: dest.and_then(|d| d.cluster.as_deref()),
            host: dest.and_then(Destination::host),
        })
    }
}

/// `lint`'s request, validated: annotations are lines of their own, which one JSON
/// document on stdout cannot hold.
fn lint(a: &LintArgs, g: &GlobalArgs) -> Result<Lint> {
    if a.github && g.output == OutputFormat::Json {
        return Err(usage(
            "--github prints workflow commands on stdout, which -o json keeps for one document; pass one of them",
        ));
    }
    Ok(Lint {
        paths: a.paths.clone(),
        fail_on: match a.fail_on {
            LintFailOn::Destructive => crate::migration_plan::lint::FailOn::Destructive,
            LintFailOn::Warning => crate::migration_plan::lint::FailOn::Warning,
            LintFailOn::Never => crate::migration_plan::lint::FailOn::Never,
        },
        github: a.github,
    })
}

/// The Lease name, when the app is known (always for the embedded snippet). Without it, a
/// custom command's lock is named once the pod is found, after its workload: the selector
/// text or a pod name would give the same app a lock per spelling.
fn lock_name(ecto: Option<&Ecto>, app: Option<&str>) -> Option<String> {
    match (ecto, app) {
        (Some(e), _) => Some(lease_name(e.snippet.app.as_str())),
        (None, Some(a)) if AppName::parse(a).is_ok() => Some(lease_name(a)),
        _ => None,
    }
}

/// The validated action of a command that works on the cluster, with what it runs (the
/// Ecto snippet's settings) and where (a Job, or a running pod).
struct Chosen {
    action: Action,
    ecto: Option<Ecto>,
    job: Option<JobMode>,
}

impl Chosen {
    /// The clap command, matched once.
    fn of(command: &Command, g: &GlobalArgs, l: &Loaded) -> Result<Self> {
        let chosen = Self::matched(command, g, l)?;
        // A Job's pod starts the release for the command and runs no app node: `rpc` there
        // would find none (`:nodedown`) after the Job was created. doctor reports instead.
        let rpc = chosen.ecto.as_ref().is_some_and(|e| e.mode == Mode::Rpc);
        if rpc && chosen.job.is_some() && !matches!(command, Command::Doctor) {
            return Err(usage(
                "--mode rpc and Job mode (--image, --dry-run, or job = true in kmigrate.toml) do not go together: \
                 the Job's pod runs no app node to rpc into; drop --mode rpc (or pass --mode eval over the \
                 config's mode), and the Job starts the release's own VM with eval",
            ));
        }
        Ok(chosen)
    }

    fn matched(command: &Command, g: &GlobalArgs, l: &Loaded) -> Result<Self> {
        let chosen = |action, ecto, job| Self { action, ecto, job };
        Ok(match command {
            Command::Migrate(a) => Self::migrate(a, g, l)?,
            Command::Rollback(a) => Self::rollback(a, g, l)?,
            Command::Status(a) => chosen(
                Action::Status { gate: a.exit_code },
                Some(l.ecto(g)?),
                l.job(&a.job)?,
            ),
            Command::Wait(a) => {
                let deadline = deadline(a.deadline.as_deref())?;
                chosen(Action::Wait { deadline }, Some(l.ecto(g)?), l.job(&a.job)?)
            }
            Command::Gate(a) => chosen(Action::Gate(l.gate(a)?), Some(l.ecto(g)?), None),
            Command::Plan(a) => chosen(Action::Plan, Some(l.ecto(g)?), l.job(&a.job)?),
            Command::Exec(a) => chosen(
                Action::Exec {
                    argv: a.argv.clone(),
                    stdin: a.stdin,
                    tty: a.tty,
                },
                None,
                None,
            ),
            Command::Console => {
                let ecto = l.ecto(g)?;
                let argv = vec![ecto.release.clone(), "remote".to_owned()];
                chosen(Action::Console { argv }, Some(ecto), None)
            }
            Command::Pods => chosen(Action::Pods, None, None),
            Command::Doctor => chosen(
                Action::Doctor,
                Some(l.ecto(g)?),
                l.job(&crate::cli::JobArgs::default())?,
            ),
            Command::Runs => chosen(Action::Runs, None, None),
            // Best effort: with the app known, unlock reads whether a migration still runs.
            Command::Unlock(a) => chosen(Action::Unlock { force: a.force }, l.ecto(g).ok(), None),
            Command::Logs(a) => chosen(
                Action::Logs {
                    run: RunName::parse(&a.run)?,
                },
                None,
                None,
            ),
            Command::Completions(a) => chosen(Action::Completions { shell: a.shell }, None, None),
            Command::Lint(a) => chosen(Action::Lint(lint(a, g)?), None, None),
            Command::Init(a) => chosen(
                Action::Init {
                    force: a.force,
                    rbac: a.rbac,
                },
                None,
                None,
            ),
        })
    }

    fn migrate(a: &MigrateArgs, g: &GlobalArgs, l: &Loaded) -> Result<Self> {
        let range = Range::from_flags(
            a.to.as_deref(),
            a.to_exclusive.as_deref(),
            a.step.as_deref(),
        )
        .map_err(usage)?
        .unwrap_or(Range::All);
        let (change, ecto) = l.change(g, range, Some(&a.tenants))?;
        let change = change.guarded(
            ecto.as_ref(),
            a.plan.as_deref(),
            &a.allow_destructive,
            &a.allow_breaking,
        )?;
        Ok(Self {
            action: Action::Migrate(change),
            ecto,
            job: l.job(&a.job)?,
        })
    }

    fn rollback(a: &RollbackArgs, g: &GlobalArgs, l: &Loaded) -> Result<Self> {
        let range = Range::from_flags(
            a.to.as_deref(),
            a.to_exclusive.as_deref(),
            a.step.as_deref(),
        )
        .map_err(usage)?
        .ok_or_else(|| usage("rollback needs --step N, --to VERSION or --to-exclusive VERSION"))?;
        let (change, ecto) = l.change(g, range, None)?;
        if let Some(e) = &ecto
            && (e.snippet.repos.len() > 1
                || e.snippet.prefixes.len() > 1
                || e.snippet.tenants.query.is_some())
        {
            return Err(usage(
                "a rollback acts on one repo (and prefix) at a time: pass a single --repo (and at most one --prefix, which also stands in for prefixes_from)",
            ));
        }
        Ok(Self {
            action: Action::Rollback(change),
            ecto,
            job: l.job(&a.job)?,
        })
    }
}

/// The lock mode and whether the cluster's protection marks are off. What removes a
/// safeguard (`off` for either) comes from the environment of the run, `KMIGRATE_LOCK` and
/// `KMIGRATE_PROTECTION_MARKS`, never from kmigrate.toml: a committed file would switch it
/// off for everyone who runs kmigrate in the repository. The file may make the lock stricter.
fn switches(
    config: &Config,
    env_lock: Option<&str>,
    env_marks: Option<&str>,
) -> std::result::Result<(LockMode, bool), String> {
    const WHY: &str = "a committed file would switch it off for everyone who runs kmigrate here";
    if config.lock == Some(LockMode::Off) {
        return Err(format!(
            "kmigrate.toml cannot turn the single-runner lock off (lock = \"off\"): {WHY}; \
             set KMIGRATE_LOCK=off in the environment of the run that needs it"
        ));
    }
    if config.protection_marks == Some(false) {
        return Err(format!(
            "kmigrate.toml cannot turn the cluster's protection marks off (protection_marks = false): \
             {WHY}; set KMIGRATE_PROTECTION_MARKS=off in the environment of the run that needs it"
        ));
    }
    let lock = match env_lock {
        None => config.lock.unwrap_or_default(),
        Some("required") => LockMode::Required,
        Some("best-effort") => LockMode::BestEffort,
        Some("off") => LockMode::Off,
        Some(other) => {
            return Err(format!(
                "KMIGRATE_LOCK={other:?}: it is required, best-effort or off"
            ));
        }
    };
    let marks_off = match env_marks {
        None | Some("on") => false,
        Some("off") => true,
        Some(other) => {
            return Err(format!(
                "KMIGRATE_PROTECTION_MARKS={other:?}: it is on or off"
            ));
        }
    };
    Ok((lock, marks_off))
}

#[cfg(test)]
mod tests;
