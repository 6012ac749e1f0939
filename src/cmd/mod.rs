//! One module per subcommand, dispatched from one exhaustive match on the validated action.

mod completions;
mod console;
mod doctor;
mod exec;
mod gate;
mod guard;
mod init;
mod job_run;
mod lint;
mod logs;
mod migrate;
mod outcome;
mod plan;
mod pods;
mod rollback;
mod runs;
mod status;
mod unlock;
mod wait;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::confirm::{Changes, PROTECTED, Plan, confirm, facts};
use crate::connection::{Connection, connect};
use crate::ecto_output::{Findings, StatusRow};
use crate::ecto_snippet::{Mode, Operation};
use crate::error::Error;
use crate::lock::{self, Held, LockMode};
use crate::migration_plan::MigrationPlan;
use crate::output::Purpose;
use crate::output::Streamer;
use crate::remote_exec::{Executor, KubeExecutor};
use crate::report::Report;
use crate::settings::{Action, Ecto, Place, Settings};
use crate::target::{self, PodTarget};
use crate::ui::Ui;
use crate::{audit, headroom, protection_mark};

/// What every command gets: validated settings, the output decision, the report to fill.
pub struct Ctx {
    /// Validated settings.
    pub settings: Settings,
    /// Terminal facts, fixed at start-up.
    pub ui: Ui,
    /// The JSON report, filled in as the run goes.
    pub report: Report,
    /// Set once a remote command has been started.
    pub started: Arc<AtomicBool>,
    /// The connection, once made (for the audit Event after the run).
    pub conn: Option<Connection>,
    /// Runs commands in pods: the real exec once connected, or a fake in tests.
    pub executor: Option<Box<dyn Executor>>,
    /// The single-runner lock, while held.
    pub lock: Option<Held>,
    /// Why the environment is protected, once known.
    pub protection: Option<String>,
    /// `status --exit-code` found pending migrations.
    pub gate_tripped: bool,
    /// The pod the run's command went to, once chosen.
    pub target: Option<PodTarget>,
    /// Who confirms a protected run: this run, or the group of environments it is part of.
    pub confirmation: Confirmation,
    /// In Job mode, what the code serving traffic answered when asked for its Ecto
    /// schemas (in a pod of the Deployment), or why it could not be asked.
    pub running_code:
        Option<std::result::Result<crate::ecto_output::plan_lines::PlanLines, String>>,
}

/// Who confirms a protected run.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Confirmation {
    /// This run asks (and is refused without a terminal or `--yes`).
    #[default]
    Ask,
    /// Part of several environments run in one command: the plan was shown and confirmed
    /// for all of them at once, before any ran; this is what was shown for this one, which
    /// what runs must still be.
    Confirmed(Shown),
}

/// What a group's confirmation showed of one environment, read by [`preview`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    /// The lines listed (migrations to apply or revert), when they were read.
    pub lines: Option<Vec<String>>,
    /// A migrate's plan, whose hash the run is held to.
    pub plan: Option<MigrationPlan>,
}

impl Ctx {
    /// A context for a run that has not connected yet.
    pub fn new(settings: Settings, ui: Ui) -> Self {
        let mut report = Report::new(settings.action.name());
        // Each environment of several names its config file too, not only a single run.
        report.config = settings.config.as_ref().map(|p| p.display().to_string());
        Self {
            settings,
            ui,
            report,
            started: Arc::new(AtomicBool::new(false)),
            conn: None,
            executor: None,
            lock: None,
            protection: None,
            gate_tripped: false,
            target: None,
            confirmation: Confirmation::Ask,
            running_code: None,
        }
    }

    /// Run the action's command in the target, streaming, and record it and its exit code.
    /// A lost lock stops it before it starts.
    async fn exec(&mut self, t: &PodTarget, argv: &[String], out: &mut Streamer) -> Result<i32> {
        self.still_locked()?;
        self.report.argv = Some(argv.to_vec());
        // Only a command that may change the database counts as started: a read-only one
        // needs no "may still be running" care.
        let scratch = AtomicBool::new(false);
        let started = if self.settings.action.changes_database() {
            &*self.started
        } else {
            &scratch
        };
        let code = self.executor()?.exec(t, argv, out, started).await;
        let code = if self.settings.action.changes_database() {
            code?
        } else {
            code.map_err(|e| answer_lost(e, self.settings.action.name()))?
        };
        self.report.remote_exit_code = Some(code);
        Ok(code)
    }

    /// Say, before a change runs, when a later run could not see this one in
    /// `pg_stat_activity` should kmigrate go away mid-run: only the embedded snippet in a
    /// VM of its own (`eval`) names its sessions; in `rpc` they are the live app's pool, and
    /// a custom command's are its own.
    fn note_unnamed_sessions(&self, custom: bool) {
        let rpc = self
            .settings
            .ecto
            .as_ref()
            .is_some_and(|e| e.mode == Mode::Rpc);
        let what = match (custom, rpc) {
            (true, _) => "a custom command's database sessions are its own",
            (false, true) => "in rpc the database sessions are the live app's pool",
            (false, false) => return,
        };
        self.ui.note(&format!(
            "note: {what} and carry no run name: should kmigrate go away mid-run, a later run \
             cannot see this one in pg_stat_activity; the lock and Ecto's migration lock still \
             keep runs apart (`--mode eval` names them)"
        ));
    }

    /// The lock, when one was taken, is still held: one lost (while a plan was read or a
    /// confirmation waited) refuses the run before its command starts.
    fn still_locked(&self) -> Result<()> {
        if let Some(held) = &self.lock
            && let Some(why) = held.lost()
        {
            return Err(Error::Locked(format!(
                "lost the lock {} before the command started ({why}); nothing was run",
                held.name()
            ))
            .into());
        }
        Ok(())
    }

    /// Run a read-only command that is not the run's own (a preview).
    async fn exec_quietly(
        &self,
        t: &PodTarget,
        argv: &[String],
        out: &mut Streamer,
    ) -> Result<i32> {
        let started = AtomicBool::new(false);
        self.executor()?
            .exec(t, argv, out, &started)
            .await
            .map_err(|e| answer_lost(e, "the read before the change"))
    }

    /// The snippet's inputs, which `verb` cannot do without.
    fn ecto(&self, verb: &str) -> Result<Ecto> {
        self.settings.ecto.clone().ok_or_else(|| {
            crate::error::usage(format!(
                "{verb} needs the app name (--app, --release or kmigrate.toml)"
            ))
        })
    }

    fn executor(&self) -> Result<&dyn Executor> {
        self.executor
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("not connected to the cluster"))
    }

    /// Run the status snippet quietly and return its rows (for plans and previews).
    async fn read_status(&self, t: &PodTarget) -> Result<Vec<StatusRow>> {
        let Some(ecto) = &self.settings.ecto else {
            return Ok(Vec::new());
        };
        let argv = ecto.argv(Operation::Status);
        let mut out = self.ui.streamer(Purpose::Status);
        let code = self.exec_quietly(t, &argv, &mut out).await?;
        let refuse = |why: String| {
            Error::Refused(format!(
                "could not read the migration status first ({why}); nothing was changed"
            ))
        };
        answered(&out.findings, code, "nothing was changed")?;
        if code != 0 {
            return Err(refuse(format!("remote exit code {code}")).into());
        }
        Ok(out.findings.status().map_err(refuse)?.to_vec())
    }
}

impl Ctx {
    /// Before a protected environment is changed: show where (`facts`), what (`argv`,
    /// `changes`) and why it is protected, and have the namespace typed (or take `--yes`;
    /// without a terminal, refuse).
    pub async fn confirm_protected(
        &self,
        namespace: &str,
        facts: Vec<(&'static str, String)>,
        argv: &[String],
        reason: &str,
        changes: Option<Changes>,
    ) -> Result<()> {
        let plan = Plan {
            title: PROTECTED,
            namespace,
            facts,
            argv,
            reason,
            changes,
        };
        confirm(&self.ui, self.settings.yes, &plan).await
    }

    /// [`Ctx::confirm_protected`] for a run in the pod `t`.
    pub async fn confirm_in_pod(
        &self,
        t: &PodTarget,
        argv: &[String],
        reason: &str,
        changes: Option<Changes>,
    ) -> Result<()> {
        let facts = facts(t, self.settings.config.as_deref());
        self.confirm_protected(&t.namespace, facts, argv, reason, changes)
            .await
    }
}

/// Run a subcommand that talks to the cluster.
pub async fn execute(ctx: &mut Ctx) -> Result<()> {
    for note in &ctx.settings.protection.notes {
        ctx.ui.note(note);
    }
    if !ctx.settings.audit {
        ctx.ui
            .note("note: kmigrate.toml turns audit Events off (audit = false)");
    }
    refuse_early(ctx).await?;
    match ctx.settings.action.clone() {
        Action::Migrate(change) => migrate::migrate(ctx, &change).await,
        Action::Rollback(change) => rollback::rollback(ctx, &change).await,
        Action::Status { gate } => status::status(ctx, gate).await,
        Action::Wait { deadline } => wait::wait(ctx, deadline).await,
        Action::Gate(req) => gate::gate(ctx, &req).await,
        Action::Plan => plan::plan(ctx).await,
        Action::Lint(req) => lint::lint(ctx, &req),
        Action::Exec { argv, .. } => exec::exec(ctx, &argv).await,
        Action::Console { argv } => console::console(ctx, &argv).await,
        Action::Pods => pods::pods(ctx).await,
        Action::Runs => runs::runs(ctx).await,
        Action::Logs { run } => logs::logs(ctx, &run).await,
        Action::Unlock { force } => unlock::unlock(ctx, force).await,
        Action::Doctor => doctor::doctor(ctx).await,
        Action::Completions { shell } => {
            completions::completions(shell, &mut std::io::stdout().lock())
        }
        Action::Init { force, rbac } => {
            if rbac {
                return init::role(&mut std::io::stdout().lock());
            }
            let dir = std::env::current_dir()
                .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
            init::init(&dir, force, &mut std::io::stdout().lock())
        }
    }
}

/// One environment of several run in one command: find its pod, learn its protection, and
/// read what the action would change there (the lines of the combined plan). Nothing is
/// locked or changed; the run itself comes later, through [`execute`].
pub async fn preview(ctx: &mut Ctx) -> Result<Shown> {
    let (change, up) = match ctx.settings.action.clone() {
        Action::Migrate(c) => (c, true),
        Action::Rollback(c) => (c, false),
        _ => {
            find_target(ctx).await?;
            return Ok(Shown::default());
        }
    };
    let (_, t) = find_target(ctx).await?;
    if change.custom {
        return Ok(Shown::default());
    }
    if up {
        // The plan, as a single protected migrate reads it: the run is held to its hash.
        let plan = ctx.read_plan(&t).await?;
        let lines = plan
            .selected(change.range)
            .iter()
            .map(|(r, m)| guard::shown(r, m))
            .collect();
        return Ok(Shown {
            lines: Some(lines),
            plan: Some(plan),
        });
    }
    let rows = ctx.read_status(&t).await?;
    Ok(Shown {
        lines: Some(rollback::lines_of(&rollback::to_revert(
            &rows,
            change.range,
        ))),
        plan: None,
    })
}

/// How a read-only snippet (status, wait, plan) ended, and where it ran.
pub(super) struct Ran {
    /// The remote exit code.
    pub code: i32,
    /// What its output said.
    pub out: Streamer,
    /// Where it ran, for messages: `pod NAME` or `Job NAME`.
    pub place: String,
}

/// The one "where does this run" step of the read-only commands: in a Job from a new image
/// (Job mode), or in the chosen running pod, its output through `out`; `announce` is told
/// the place before it runs. `None` for a Job-mode dry run, which runs nothing.
pub(super) async fn run_reading(
    ctx: &mut Ctx,
    argv: &[String],
    out: Streamer,
    announce: impl FnOnce(&Ctx, &str),
) -> Result<Option<Ran>> {
    if ctx.settings.job.is_some() {
        let Some((code, out)) = job_run::run_in_job(ctx, argv, out).await? else {
            return Ok(None);
        };
        let place = job_run::place(ctx);
        return Ok(Some(Ran { code, out, place }));
    }
    let (_, t) = find_target(ctx).await?;
    let place = format!("pod {}", t.pod);
    announce(ctx, &place);
    let mut out = out;
    let code = ctx.exec(&t, argv, &mut out).await?;
    Ok(Some(Ran { code, out, place }))
}

/// A command that only reads (`what`) whose answer was lost (the pod went silent past the
/// idle limit, the stream ended without a status): what it read is unknown, but it changed
/// nothing and holds no lock, so it says so instead of "check before running again".
fn answer_lost(e: anyhow::Error, what: &str) -> anyhow::Error {
    match e.downcast::<Error>() {
        Ok(Error::Unknown(why)) => Error::ReadLost(format!(
            "{what}: the answer was lost ({why}); nothing was changed and no lock is kept: run it again"
        ))
        .into(),
        Ok(other) => other.into(),
        Err(e) => e,
    }
}

/// What any snippet's answer must show before it is believed: its refusal is a usage error
/// (`nothing` was run or read), and an answer that exited 0 without its last line
/// (`kmigrate:end`) was cut short: its outcome is unknown, never "nothing to do".
pub(super) fn answered(findings: &Findings, code: i32, nothing: &str) -> Result<()> {
    if let Some(why) = findings.refused() {
        return Err(crate::error::usage(format!("{why}; {nothing}")));
    }
    if code == 0 && !findings.ended() {
        return Err(cut_short());
    }
    Ok(())
}

/// An answer that exited 0 without the snippet's last line.
pub(super) fn cut_short() -> anyhow::Error {
    Error::Unknown(format!(
        "the pod's answer stopped before the snippet's last line although the command exited 0, so what it did or read is unknown; check with `{} status`",
        crate::program_name::on_target()
    ))
    .into()
}

/// A protected place known before connecting, with no terminal to confirm on and no
/// `--yes`: refused before any request, so nothing is locked or read.
async fn refuse_early(ctx: &mut Ctx) -> Result<()> {
    let Some(reason) = protected_before_connecting(&ctx.settings, &ctx.ui).await else {
        return Ok(());
    };
    ctx.report.protected = true;
    Err(refused_before_connecting(
        &ctx.ui,
        "the environment is",
        &reason,
        "",
    ))
}

/// A protected run (`what` is protected, for `reasons`) that cannot confirm, refused
/// before any request: the banner on stderr, and the error, `after` appended to it.
pub fn refused_before_connecting(ui: &Ui, what: &str, reasons: &str, after: &str) -> anyhow::Error {
    ui.note(&format!(
        "{} ({reasons})",
        ui.bold(crate::confirm::PROTECTED)
    ));
    Error::Refused(format!(
        "{what} protected ({reasons}) and there is no terminal to confirm on; re-run with --yes to proceed{after}"
    ))
    .into()
}

/// Why a run that would ask for a typed confirmation, and cannot (no terminal, no `--yes`),
/// is protected, from what is known before any request: flags, config and the kubeconfig's
/// context read from its files. A kubeconfig that cannot be read decides nothing here; the
/// connection then fails with its own error before anything is sent.
pub async fn protected_before_connecting(settings: &Settings, ui: &Ui) -> Option<String> {
    if settings.yes || ui.can_prompt || !settings.confirms_when_protected() {
        return None;
    }
    let dest = crate::connection::destination(&settings.kube).await.ok();
    settings.protection_before_connecting(dest.as_ref())
}

/// Connect and settle the namespace (flag or config, else the kubeconfig's), recording both.
async fn connect_namespace(ctx: &mut Ctx) -> Result<(Connection, String)> {
    let conn = connect(&ctx.settings.kube).await?;
    ctx.conn = Some(conn.clone());
    if ctx.executor.is_none() {
        let (stdin, tty) = match ctx.settings.action {
            Action::Exec { stdin, tty, .. } => (stdin, tty),
            Action::Console { .. } => (true, true),
            _ => (false, false),
        };
        // As kubectl: a terminal only where stdin is one (and is passed on).
        let tty = tty && stdin && ctx.ui.stdin_terminal;
        if matches!(ctx.settings.action, Action::Exec { tty: true, .. }) && !tty {
            ctx.ui
                .note("note: -t needs -i and stdin on a terminal; running without a terminal");
        }
        ctx.executor = Some(Box::new(
            KubeExecutor::new(conn.clone())
                .forward_stdin(stdin)
                .tty(tty),
        ));
    }
    let ns = match ctx.settings.namespace.clone() {
        Some(ns) => ns,
        None => {
            // The kubeconfig's (or in-cluster) namespace is checked like `-n`, so that API
            // paths and protection matching see the same kind of name.
            let ns = conn.default_namespace.clone();
            crate::settings::check_dns_label(
                &ns,
                &format!("namespace of context {:?} in the kubeconfig:", conn.context),
            )?;
            ns
        }
    };
    ctx.report.context = Some(conn.context.clone());
    ctx.report.namespace = Some(ns.clone());
    Ok((conn, ns))
}

/// Who runs, and whether the environment is protected.
pub struct Identity {
    /// The Kubernetes user (SelfSubjectReview), if the server says.
    pub user: Option<String>,
    /// Why the environment is protected: by config, by name, or by a mark in the cluster.
    pub protection: Option<String>,
    /// The cluster's marks that could not be checked, with why.
    pub unchecked: Vec<String>,
}

/// Who the user is (SelfSubjectReview), and why the environment is protected, if it is,
/// read concurrently.
/// What a run does not need is not asked: the user without an audit Event, lock or Job to
/// name them in, the marks when the config turns them off.
async fn identify(settings: &Settings, conn: &Connection, namespace: &str) -> Identity {
    let user = async {
        if settings.needs_user() {
            audit::whoami(conn).await
        } else {
            None
        }
    };
    let mark = async {
        if settings.protection.marks_off {
            protection_mark::Mark {
                protected: None,
                unchecked: vec!["not read: KMIGRATE_PROTECTION_MARKS=off".to_owned()],
            }
        } else {
            protection_mark::read(conn, namespace).await
        }
    };
    let (user, mark) = tokio::join!(user, mark);
    let place = Place {
        context: Some(&conn.context),
        namespace: Some(namespace),
        cluster: conn.cluster_name.as_deref(),
        host: conn.host(),
    };
    Identity {
        user,
        protection: settings.protection(&place).or(mark.protected),
        unchecked: mark.unchecked,
    }
}

impl Ctx {
    /// Record who runs and the protection; for a run that changes something, say once
    /// which marks could not be checked when nothing else already protects it.
    fn identified(&mut self, id: Identity) {
        self.report.user = id.user;
        if self.settings.action.changes_database()
            && id.protection.is_none()
            && !id.unchecked.is_empty()
            && !self.settings.protection.marks_off
        {
            self.ui.note(&format!(
                "note: protection mark not checked: {}; name patterns and config still apply",
                id.unchecked.join("; ")
            ));
        }
        self.report.protection_unchecked = id.unchecked;
        self.protection = id.protection;
    }
}

/// Find the pod (with a spinner) and record it in the report; meanwhile ask who the user
/// is and whether the environment is protected.
async fn find_target(ctx: &mut Ctx) -> Result<(Connection, PodTarget)> {
    let spinner = ctx.ui.spinner("finding pod");
    let found = async {
        let (conn, namespace) = connect_namespace(ctx).await?;
        let (found, id) = tokio::join!(
            target::candidates_in(&conn, &namespace, &ctx.settings.pods),
            identify(&ctx.settings, &conn, &namespace),
        );
        ctx.identified(id);
        found.map(|f| (conn, f))
    }
    .await;
    spinner.finish_and_clear();
    let (conn, found) = found?;
    let several = found.several_workloads();
    let mut notes = Vec::new();
    let picked = target::pick(found, &ctx.settings.pods, &mut notes);
    if let (Some(workloads), Ok(t)) = (&several, &picked) {
        guess_among(ctx, workloads, &t.pod)?;
    }
    for n in notes {
        ctx.ui.note(&n);
    }
    let t = picked.map_err(|e| namespace_hint(ctx, e))?;
    ctx.report.pod = Some(t.pod.clone());
    ctx.report.container = Some(t.container.clone());
    tracing::info!(pod = %t.pod, container = %t.container, "chosen");
    ctx.target = Some(t.clone());
    let evals = ctx
        .settings
        .ecto
        .as_ref()
        .is_some_and(|e| e.mode == crate::ecto_snippet::Mode::Eval);
    let migrates = matches!(
        ctx.settings.action,
        Action::Migrate(_) | Action::Rollback(_)
    );
    if let (true, Some(limit)) = (evals && migrates, t.memory_limit)
        && let Some(used) = headroom::used(&conn, &t.namespace, &t.pod, &t.container).await
        && let Some(warning) = headroom::warning(limit, used, &t.pod, &t.container)
    {
        ctx.ui.note(&warning);
    }
    Ok((conn, t))
}

/// No pod in a namespace nobody chose (the kubeconfig context's, often `default`): say
/// where the namespace came from and how to choose one.
fn namespace_hint(ctx: &Ctx, e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<Error>() {
        Some(Error::NoPod(msg)) if ctx.settings.namespace.is_none() => Error::NoPod(format!(
            "{msg}; the namespace is the kubeconfig context's: pass -n NAMESPACE or -e ENV, or set namespace or default_env in kmigrate.toml"
        ))
        .into(),
        _ => e,
    }
}

/// The selector matched pods of several workloads (web and worker sharing `app=shop`): say
/// so and name them; a protected environment is not left to a guess.
fn guess_among(ctx: &Ctx, workloads: &[(String, Vec<String>)], chosen: &str) -> Result<()> {
    let selector = ctx.settings.pods.selector_text();
    let what = target::several_workloads_text(&selector, workloads);
    let fix =
        "narrow the selector (-l with the label that tells them apart) or name the pod (--pod)";
    if let Some(reason) = &ctx.protection {
        return Err(crate::error::usage(format!(
            "{what}; the environment is protected ({reason}), so kmigrate does not guess: {fix}; nothing was run"
        )));
    }
    ctx.ui.note(&format!(
        "warning: {what}; chose {chosen}, the pod that became ready most recently: {fix} to choose"
    ));
    Ok(())
}

/// Find the pod and take the single-runner lock: what migrate and rollback do first.
async fn find_and_lock(ctx: &mut Ctx) -> Result<PodTarget> {
    let (conn, t) = find_target(ctx).await?;
    if ctx.settings.lock != LockMode::Off {
        let name = lock_name(&ctx.settings, &conn, &t).await?;
        take_lock(ctx, &conn, &t.namespace, &name).await?;
    }
    Ok(t)
}

/// The Lease name: the app's, or that of the workload the chosen pod belongs to.
async fn lock_name(settings: &Settings, conn: &Connection, t: &PodTarget) -> Result<String> {
    match &settings.lock_name {
        Some(name) => Ok(name.clone()),
        None => Ok(lock::lease_name(&target::workload(conn, t).await?)),
    }
}

/// Take the single-runner lock `name`, per the configured mode.
async fn take_lock(ctx: &mut Ctx, conn: &Connection, namespace: &str, name: &str) -> Result<()> {
    let user = ctx
        .report
        .user
        .clone()
        .unwrap_or_else(|| "unknown-user".to_owned());
    let holder = lock::holder_identity(&user, &audit::host());
    let wait = ctx.settings.wait.then(|| {
        ctx.settings
            .timeout
            .as_ref()
            .map_or(std::time::Duration::from_secs(3600), |(d, _)| *d)
    });
    let ui = ctx.ui.clone();
    // Protection fails closed: a protected environment never runs without the lock because
    // RBAC forbids it (`KMIGRATE_LOCK=off` still turns it off, and says so).
    let fail_closed = ctx.settings.lock == LockMode::BestEffort && ctx.protection.is_some();
    let mode = if fail_closed {
        LockMode::Required
    } else {
        ctx.settings.lock
    };
    let held = lock::acquire(conn, namespace, name, &holder, mode, wait, &|msg: &str| {
        ui.note(msg)
    })
    .await
    .map_err(|e| {
        if fail_closed && matches!(e.downcast_ref::<Error>(), Some(Error::Forbidden { .. })) {
            e.context(
                "a protected environment does not run without the single-runner lock \
                 (best-effort runs unlocked only where nothing is protected); nothing was run",
            )
        } else {
            e
        }
    })?;
    if held.is_some() {
        ctx.report.lock = Some(name.to_owned());
    }
    ctx.lock = held;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A context for flow tests: an in-memory executor and terminal, no cluster.

    use std::sync::{Arc, Mutex};

    use clap::Parser;

    use super::Ctx;
    use crate::remote_exec::fake::{Calls, FakeExecutor, Reply};
    use crate::settings::{Action, Change, Settings};
    use crate::target::PodTarget;
    use crate::ui::{Captured, Ui};

    /// The pod every flow test runs in.
    pub fn pod() -> PodTarget {
        PodTarget {
            context: "kind-dev".into(),
            namespace: "shop-prod".into(),
            pod: "web-1".into(),
            container: "app".into(),
            uid: Some("uid-1".into()),
            memory_limit: None,
            controller: None,
        }
    }

    /// Settings from a command line (no config file).
    pub fn settings(args: &[&str]) -> Settings {
        let mut argv = vec!["kmigrate", "-l", "app=shop", "--app", "shop"];
        argv.extend_from_slice(args);
        let dir = tempfile::tempdir().expect("temp dir");
        Settings::new(
            &crate::cli::Cli::try_parse_from(argv).expect("flags"),
            dir.path(),
            &mut crate::config::Source::default(),
        )
        .expect("settings")
    }

    /// A flow under test: its context, what it wrote, and what it ran.
    pub struct Harness {
        /// The context to pass to the flow.
        pub ctx: Ctx,
        /// stdout, stderr and prompts.
        pub captured: Arc<Mutex<Captured>>,
        calls: Calls,
    }

    impl Harness {
        /// A context with scripted replies; `terminal` says whether prompting is possible.
        pub fn new(args: &[&str], replies: Vec<Reply>, terminal: bool) -> Self {
            let settings = settings(args);
            let json = args.contains(&"json");
            let (ui, captured) = Ui::memory(terminal, json);
            let mut ctx = Ctx::new(settings, ui);
            ctx.report.pod = Some(pod().pod);
            let fake = FakeExecutor::new(replies);
            let calls = fake.calls();
            ctx.executor = Some(Box::new(fake));
            Self {
                ctx,
                captured,
                calls,
            }
        }

        /// The migrate or rollback the command line asked for.
        pub fn change(&self) -> Change {
            match &self.ctx.settings.action {
                Action::Migrate(c) | Action::Rollback(c) => c.clone(),
                other => panic!("not a migrate or rollback: {other:?}"),
            }
        }

        /// Answer the next prompts with these lines.
        pub fn answer(&self, lines: &[&str]) {
            let mut c = self.captured.lock().expect("capture lock");
            c.answers.extend(lines.iter().map(|l| Ok((*l).to_owned())));
        }

        /// The argvs the executor ran, in order.
        pub fn calls(&self) -> Vec<Vec<String>> {
            self.calls.borrow().iter().map(|(_, a)| a.clone()).collect()
        }

        /// Everything written to stderr.
        pub fn stderr(&self) -> String {
            String::from_utf8_lossy(&self.captured.lock().expect("capture lock").stderr)
                .into_owned()
        }

        /// Everything written to stdout.
        pub fn stdout(&self) -> String {
            String::from_utf8_lossy(&self.captured.lock().expect("capture lock").stdout)
                .into_owned()
        }

        /// The prompts shown.
        pub fn prompts(&self) -> usize {
            self.captured.lock().expect("capture lock").prompts.len()
        }

        /// The exit code and outcome the run would end with.
        pub fn conclude(&self, result: &anyhow::Result<()>) -> crate::error::Conclusion {
            crate::error::conclude(
                result,
                self.ctx.report.remote_exit_code,
                self.ctx.gate_tripped,
            )
            .mapped(self.ctx.settings.remote_failure_code)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use clap::Parser;
    use serde_json::json;

    use super::{Identity, identify};
    use crate::connection::testing::{mock_cluster, object, status};
    use crate::error::Error;

    /// `identify` for `args` under a kmigrate.toml of `config`, with what the run's
    /// environment switches `off` (`"lock"`: `KMIGRATE_LOCK=off`, `"marks"`:
    /// `KMIGRATE_PROTECTION_MARKS=off`), against a server that answers every read; returns
    /// the paths asked and the identity.
    async fn identify_with(config: &str, args: &[&str], off: &[&str]) -> (Vec<String>, Identity) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(crate::config::FILE_NAME), config).expect("config");
        let mut argv = vec!["kmigrate", "-l", "app=shop", "--app", "shop"];
        argv.extend_from_slice(args);
        let settings = crate::settings::Settings::new(
            &crate::cli::Cli::try_parse_from(argv).expect("flags"),
            Path::new(dir.path()),
            &mut crate::config::Source::default(),
        )
        .expect("settings");
        let mut settings = settings;
        if off.contains(&"lock") {
            settings.lock = crate::lock::LockMode::Off;
        }
        settings.protection.marks_off = off.contains(&"marks");
        let (conn, mut handle) = mock_cluster();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let server = tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let path = req.uri().path().to_owned();
                log.lock().unwrap().push(path.clone());
                send.send_response(if path.ends_with("selfsubjectreviews") {
                    object(&json!({"apiVersion": "authentication.k8s.io/v1",
                        "kind": "SelfSubjectReview", "status": {"userInfo": {"username": "ann"}}}))
                } else {
                    status(404, "NotFound", "not found")
                });
            }
        });
        let id = identify(&settings, &conn, "shop").await;
        server.abort();
        let asked = asked.lock().unwrap().clone();
        (asked, id)
    }

    /// No pod in the kubeconfig's namespace (nobody chose it): the message says where the
    /// namespace came from and how to choose one; a namespace given is not second-guessed.
    #[test]
    fn no_pod_in_the_kubeconfig_namespace_says_how_to_choose_one() {
        use crate::cmd::testing::Harness;
        let no_pod = || anyhow::Error::from(Error::NoPod("no running, ready pod".into()));
        let h = Harness::new(&["pods"], Vec::new(), false);
        let err = super::namespace_hint(&h.ctx, no_pod());
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::NO_POD);
        assert!(
            err.to_string().contains("pass -n NAMESPACE or -e ENV"),
            "{err}"
        );
        let h = Harness::new(&["-n", "shop", "pods"], Vec::new(), false);
        let err = super::namespace_hint(&h.ctx, no_pod());
        assert!(!err.to_string().contains("-e ENV"), "{err}");
    }

    /// Pods of several workloads: named in a warning when unprotected; a protected
    /// environment refuses to guess.
    #[test]
    fn several_workloads_are_named_and_a_protected_run_does_not_guess() {
        use crate::cmd::testing::Harness;
        let workloads = vec![
            ("Deployment web".to_owned(), vec!["web-1".to_owned()]),
            ("Deployment worker".to_owned(), vec!["worker-1".to_owned()]),
        ];
        let mut h = Harness::new(&["status"], Vec::new(), false);
        super::guess_among(&h.ctx, &workloads, "worker-1").unwrap();
        assert!(
            h.stderr().contains("warning: selector \"app=shop\" matches pods of several workloads: Deployment web (pod web-1); Deployment worker (pod worker-1); chose worker-1"),
            "{}",
            h.stderr()
        );
        h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
        let err = super::guess_among(&h.ctx, &workloads, "worker-1").unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
        assert!(err.to_string().contains("does not guess"), "{err}");
    }

    #[tokio::test]
    async fn exec_with_audit_and_marks_off_asks_nothing_and_says_why() {
        let (asked, id) = identify_with("", &["exec", "--", "true"], &[]).await;
        assert_eq!(asked.len(), 3, "user, namespace, ConfigMap: {asked:?}");
        assert_eq!(id.user.as_deref(), Some("ann"));
        let (asked, id) =
            identify_with("audit = false\n", &["exec", "--", "true"], &["marks"]).await;
        assert!(asked.is_empty(), "{asked:?}");
        assert_eq!(id.user, None);
        assert!(
            id.unchecked[0].contains("KMIGRATE_PROTECTION_MARKS=off"),
            "{:?}",
            id.unchecked
        );
    }

    #[tokio::test]
    async fn the_lock_still_names_its_holder_without_audit() {
        let (asked, id) = identify_with("audit = false\n", &["migrate"], &["marks"]).await;
        assert_eq!(asked, ["/apis/authentication.k8s.io/v1/selfsubjectreviews"]);
        assert_eq!(id.user.as_deref(), Some("ann"));
        let (asked, _) = identify_with("audit = false\n", &["migrate"], &["marks", "lock"]).await;
        assert!(asked.is_empty(), "{asked:?}");
    }
}
