//! Job mode for migrate, rollback, status and wait: a Job from the Deployment, followed live.
//! A protected migrate reads its plan first, in a read-only Job of the same image.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;

use super::{Ctx, guard, take_lock};
use crate::confirm::config_fact;
use crate::connection::Connection;
use crate::ecto_output::plan_lines::PlanLines;
use crate::ecto_snippet::Operation;
use crate::error::Error;
use crate::init_container;
use crate::job::{self, JobOptions};
use crate::lock::lease_name;
use crate::migration_plan::MigrationPlan;
use crate::output::{Purpose, Streamer};
use crate::selector::Selector;
use crate::settings::{Action, Change, JobMode};
use crate::target::{self, PodQuery};

/// Where a run's Jobs come from: the namespace, the Deployment copied, the image.
struct Setup {
    conn: Connection,
    ns: String,
    deploy: Deployment,
    image: String,
    lock_name: String,
    /// The init containers (the schema gate) the Jobs leave out.
    leave_out: Vec<String>,
    mode: JobMode,
}

/// Which of a run's Jobs: the run's own, or the read-only one that reads a protected
/// migrate's plan first (not the run: it neither starts it nor names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobRole {
    Run,
    Plan,
}

/// Build, (maybe) confirm, create and follow the Job for migrate, rollback, status, wait or
/// plan, its output going through the caller's `out`. A protected migrate is held to its
/// plan first, as in a pod. Records the container's exit code and returns it with `out`
/// (what the output said), or `None` for a dry run: the caller decides what they mean.
pub async fn run_in_job(
    ctx: &mut Ctx,
    argv: &[String],
    out: Streamer,
) -> Result<Option<(i32, Streamer)>> {
    let Some(mode) = ctx.settings.job.clone() else {
        return Err(anyhow::anyhow!("Job mode is off"));
    };
    let setup = setup(ctx, mode).await?;
    let command = ctx.settings.action.name();
    if setup.mode.dry_run {
        let (_, spec) = job_for(ctx, &setup, argv, command)?;
        dry_run(ctx, &spec)?;
        return Ok(None);
    }
    ctx.report.protected = ctx.protection.is_some();
    let reviewed = match reviewed_change(ctx) {
        Some(change) => Some(review_in_job(ctx, &setup, &change).await?),
        None => None,
    };
    let argv = reviewed.as_ref().map_or(argv, |r| &r.argv[..]);
    let (options, spec) = job_for(ctx, &setup, argv, command)?;
    confirm_and_lock(ctx, &setup, &options.name, argv, reviewed.as_ref()).await?;
    ctx.report.argv = Some(argv.to_vec());
    let (code, out) = run_job(ctx, &setup, &spec, &options.name, out, JobRole::Run).await?;
    ctx.report.remote_exit_code = Some(code);
    ctx.report.pod = Some(options.name.clone());
    if matches!(ctx.settings.action, Action::Plan) && code == 0 {
        ctx.running_code = Some(ask_running_code(ctx, &setup).await);
    }
    Ok(Some((code, out)))
}

/// Every Job runs the image with the Deployment's Secrets and service account: a status
/// too is confirmed where protected, a reviewed migrate with its plan's migrations (and
/// those not allowed typed). Only what may change the database locks; a reviewed migrate
/// took the lock before its plan was read, and a lock lost since then refuses the run.
async fn confirm_and_lock(
    ctx: &mut Ctx,
    setup: &Setup,
    name: &str,
    argv: &[String],
    reviewed: Option<&guard::Reviewed>,
) -> Result<()> {
    if let Some(reason) = ctx.protection.clone() {
        let changes = reviewed.map(guard::Reviewed::changes);
        let facts = facts(ctx, setup, name);
        ctx.confirm_protected(&setup.ns, facts, argv, &reason, changes)
            .await?;
    }
    if let Some(r) = reviewed {
        guard::allow_typed(ctx, r).await?;
    } else if ctx.settings.action.changes_database() {
        take_lock(ctx, &setup.conn, &setup.ns, &setup.lock_name).await?;
    }
    ctx.still_locked()
}

/// Connect, learn who runs and the protection, and find the Deployment and the image;
/// say what the Jobs leave out of the Deployment's template.
async fn setup(ctx: &mut Ctx, mode: JobMode) -> Result<Setup> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let id = super::identify(&ctx.settings, &conn, &ns).await;
    ctx.identified(id);
    let container = ctx.settings.pods.container.clone();
    let deploy = app_deployment(ctx, &conn, &ns, mode.deployment.as_deref()).await?;
    let image = image_of(&deploy, mode.image.as_deref(), container.as_deref())?;
    let deploy_name = deploy.metadata.name.clone().unwrap_or_default();
    // Without the app, the lock is named after the Deployment, as in exec mode.
    let lock_name = ctx
        .settings
        .lock_name
        .clone()
        .unwrap_or_else(|| lease_name(&deploy_name));
    let leave_out: Vec<String> = init_container::gates(&deploy)
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    if let Some((what, fix)) = init_container::image_mismatch(&deploy, container.as_deref()) {
        ctx.ui.note(&format!("warning: {what}; {fix}"));
    }
    entrypoint_said(ctx, &deploy, mode.entrypoint, "the Job")?;
    if let Some(left_out) = left_out(&leave_out) {
        ctx.ui.note(&format!("The Job leaves out {left_out}."));
    }
    Ok(Setup {
        conn,
        ns,
        deploy,
        image,
        lock_name,
        leave_out,
        mode,
    })
}

/// The entrypoint `what` (the Job, the gate) runs under, checked against the Deployment's app
/// container: `keep` is refused where its own `command` is the release (usage error); under
/// `replace`, a `command` of its own that is a wrapper is named, with `--entrypoint keep`.
pub(super) fn entrypoint_said(
    ctx: &Ctx,
    deploy: &Deployment,
    entrypoint: job::Entrypoint,
    what: &str,
) -> Result<()> {
    let app =
        job::app_container(deploy, ctx.settings.pods.container.as_deref()).map_err(Error::NoPod)?;
    let Some(release) = ctx.settings.ecto.as_ref().map(|e| e.release.as_str()) else {
        return Ok(());
    };
    match entrypoint {
        job::Entrypoint::Keep => match job::keep_refused(app, release) {
            Some(why) => Err(Error::Usage(why).into()),
            None => Ok(()),
        },
        job::Entrypoint::Replace => {
            if let Some(note) = job::replaced_wrapper(app, release, what) {
                ctx.ui.note(&note);
            }
            Ok(())
        }
    }
}

/// A dry run: the Job, printed (with -o json, in the report: stdout is the report alone).
fn dry_run(ctx: &mut Ctx, spec: &Job) -> Result<()> {
    // What is printed never carries a credential the Deployment holds as a literal value.
    let mut shown = spec.clone();
    let pod = shown.spec.as_mut().and_then(|s| s.template.spec.as_mut());
    for c in pod.into_iter().flat_map(|p| {
        let inits = p.init_containers.iter_mut().flatten();
        inits.chain(p.containers.iter_mut())
    }) {
        crate::secret_env::mask(c);
    }
    // The value carries apiVersion and kind already.
    let value = serde_json::to_value(&shown)?;
    if ctx.ui.json {
        ctx.report.job_manifest = Some(value);
    } else {
        ctx.ui.data(&job::to_yaml(&value));
    }
    Ok(())
}

/// The migrate held to its plan, as in a pod: one of the embedded snippet, in a protected
/// environment, that someone can confirm (a terminal, or `--yes`); without either the
/// confirmation refuses, and no plan Job is worth creating.
fn reviewed_change(ctx: &Ctx) -> Option<Change> {
    let Action::Migrate(change) = &ctx.settings.action else {
        return None;
    };
    let confirmable = ctx.ui.can_prompt || ctx.settings.yes;
    (ctx.protection.is_some() && confirmable && !change.custom).then(|| change.clone())
}

/// A protected migrate in Job mode: take the lock, read the plan in a read-only Job of the
/// same image, and review it with the destructive-change policy, as a migrate in a pod
/// takes the lock and reads its plan in the pod. The run's Job is then held to its hash.
async fn review_in_job(ctx: &mut Ctx, setup: &Setup, change: &Change) -> Result<guard::Reviewed> {
    take_lock(ctx, &setup.conn, &setup.ns, &setup.lock_name).await?;
    let plan = read_plan_in_job(ctx, setup).await?;
    guard::review(ctx, change, plan)
}

/// Run the plan snippet in a Job of the image, quietly, and read the plan it prints.
async fn read_plan_in_job(ctx: &mut Ctx, setup: &Setup) -> Result<MigrationPlan> {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return Err(guard::no_plan("no Ecto app configured".to_owned()).into());
    };
    let (options, spec) = job_for(ctx, setup, &ecto.argv(Operation::Plan), "plan")?;
    ctx.report.plan_job = Some(options.name.clone());
    ctx.ui.note(&format!(
        "Reading the plan first, in Job {} (read-only)",
        options.name
    ));
    let out = ctx.ui.streamer(Purpose::Status);
    let (code, out) = run_job(ctx, setup, &spec, &options.name, out, JobRole::Plan).await?;
    let mut plan = guard::plan_read(&out.findings, code)?;
    plan.read_in_new_image();
    plan.asked_apart(&ask_running_code(ctx, setup).await);
    Ok(plan)
}

/// The code serving traffic now, asked for its Ecto schemas in a pod of the Deployment,
/// chosen as a run in a pod chooses one (Running and Ready, of the newest ReplicaSet),
/// through the same exec: the plan's Job runs the new image, which is not that code.
async fn ask_running_code(ctx: &mut Ctx, setup: &Setup) -> Result<PlanLines, String> {
    let ecto = ctx.settings.ecto.clone().ok_or("no Ecto app configured")?;
    let labels = setup
        .deploy
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    if labels.is_empty() {
        return Err("the Deployment's selector has no matchLabels to find its pods by".to_owned());
    }
    let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let query = PodQuery {
        pod: None,
        selector: Some(Selector::parse(&selector.join(","))?),
        container: ctx.settings.pods.container.clone(),
    };
    let found = target::candidates_in(&setup.conn, &setup.ns, &query)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let t = target::pick(found, &query, &mut Vec::new()).map_err(|e| format!("{e:#}"))?;
    let mut out = ctx.ui.streamer(Purpose::Status);
    let argv = ecto.snippet.schemas_argv(&ecto.release, ecto.mode);
    let code = ctx
        .exec_quietly(&t, &argv, &mut out)
        .await
        .map_err(|e| format!("{e:#}"))?;
    if code != 0 || !out.findings.ended() {
        return Err(format!(
            "the ask in pod {} ended with exit code {code}",
            t.pod
        ));
    }
    ctx.ui.note(&format!(
        "Asked the code running now for its Ecto schemas, in pod {}",
        t.pod
    ));
    Ok(out.findings.migration_plan().clone())
}

/// A Job of the image for `argv`, labelled as `command`; records the container it runs.
fn job_for(
    ctx: &mut Ctx,
    setup: &Setup,
    argv: &[String],
    command: &str,
) -> Result<(JobOptions, Job)> {
    let options = job_options(ctx, setup, argv, command);
    let spec = job::build(&setup.deploy, &options).map_err(Error::NoPod)?;
    // The Job's pod runs the one container the Deployment's template chose.
    ctx.report.container = spec
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map(|c| c.name.clone());
    Ok((options, spec))
}

/// The Job's options: its name, image and command, who asks, its deadline, and the schema
/// gate it leaves out.
fn job_options(ctx: &Ctx, setup: &Setup, argv: &[String], command: &str) -> JobOptions {
    let app = setup.lock_name.trim_start_matches("kmigrate-");
    JobOptions {
        name: job::run_name(app, Timestamp::now()),
        image: setup.image.clone(),
        container: ctx.settings.pods.container.clone(),
        argv: argv.to_vec(),
        argv_record: ctx.settings.recorded_argv(argv),
        command: command.to_owned(),
        user: ctx
            .report
            .user
            .clone()
            .unwrap_or_else(|| "unknown".to_owned()),
        deadline: ctx.settings.timeout.as_ref().map(|(d, _)| *d),
        leave_out: setup.leave_out.clone(),
        entrypoint: setup.mode.entrypoint,
    }
}

/// What a protected environment's confirmation of a Job shows of where it runs.
fn facts(ctx: &Ctx, setup: &Setup, name: &str) -> Vec<(&'static str, String)> {
    let deploy_name = setup.deploy.metadata.name.clone().unwrap_or_default();
    let plan_job = ctx.report.plan_job.clone();
    vec![
        ("context", setup.conn.context.clone()),
        ("namespace", setup.ns.clone()),
        ("job", format!("{name} (from Deployment {deploy_name})")),
        ("image", setup.image.clone()),
        config_fact(ctx.settings.config.as_deref()),
    ]
    .into_iter()
    .chain(plan_job.map(|j| ("plan read in", format!("Job {j}"))))
    .chain(left_out(&setup.leave_out).map(|l| ("left out", l)))
    .collect()
}

/// Create the Job and follow it to its container's exit code, its output through `out`.
async fn run_job(
    ctx: &mut Ctx,
    setup: &Setup,
    spec: &Job,
    name: &str,
    mut out: Streamer,
    role: JobRole,
) -> Result<(i32, Streamer)> {
    let (conn, ns) = (&setup.conn, setup.ns.as_str());
    create(ctx, conn, ns, spec, name, role).await?;
    ctx.ui.note(&format!(
        "Created Job {name} (image {}); if interrupted, follow it again with `{} logs {name}`",
        setup.image,
        crate::program_name::on_target(),
    ));
    let timeout = ctx.settings.timeout.as_ref().map(|(d, _)| *d);
    let grace = start_grace(setup.mode.start_grace, timeout);
    let code = match job::follow(conn, ns, name, &mut out, &ctx.ui, grace).await {
        Ok(job::Followed::Exited(code)) => code,
        Ok(job::Followed::Unread { code, why }) => unread(ctx, name, code, &why)?,
        // Its container exited 0, but without its log what it applied is unknown.
        Ok(job::Followed::Completed) => unread(
            ctx,
            name,
            0,
            "the Job completed, and its pod, with the log, is gone",
        )?,
        Ok(job::Followed::NotStarting(why)) => {
            return Err(give_up(ctx, conn, ns, spec, name, &why).await);
        }
        Err(e) => return Err(after_create(ctx, e, name)),
    };
    Ok((code, out))
}

/// A Job whose container exited with `code` but whose log could not be read: without the
/// snippet's own report, an exit code 0 says nothing of what ran (unknown, 75); a failure
/// is taken from the exit code, said to be without its output.
pub(super) fn unread(ctx: &mut Ctx, name: &str, code: i32, why: &str) -> Result<i32> {
    // The container's code is known: whatever the outcome, the Job is not running.
    ctx.report.remote_exit_code = Some(code);
    if code == 0 {
        return Err(Error::Unknown(format!(
            "the Job {name}'s container exited 0, but its log could not be read ({why}): without the snippet's own report, what it did is unknown; check with `{} status`",
            crate::program_name::on_target()
        ))
        .into());
    }
    ctx.ui.note(&format!(
        "warning: the Job {name}'s log could not be read ({why}); the outcome is its container's exit code {code}, without its output"
    ));
    Ok(code)
}

/// What the Job leaves out of the Deployment's template, and why, for the plan and notes.
fn left_out(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| {
        format!(
            "init container {} (the schema gate: it would wait for the migrations this Job applies)",
            names.join(", ")
        )
    })
}

/// Where a Job-mode run ran, for messages: `Job NAME`.
pub(super) fn place(ctx: &Ctx) -> String {
    ctx.report
        .job
        .as_ref()
        .map(|j| format!("Job {j}"))
        .unwrap_or_default()
}

/// The app's Deployment: by name, or as the owner of the pod the settings choose.
pub(super) async fn app_deployment(
    ctx: &Ctx,
    conn: &Connection,
    ns: &str,
    name: Option<&str>,
) -> Result<Deployment> {
    let pod = if name.is_none() {
        let found = target::candidates_in(conn, ns, &ctx.settings.pods).await?;
        let chosen = found.choice.chosen().map(|c| c.name.clone());
        match chosen {
            Some(name) => found.pods.get(&name).cloned(),
            None => {
                target::pick(found, &ctx.settings.pods, &mut Vec::new())?;
                None
            }
        }
    } else {
        None
    };
    job::find_deployment(conn, ns, name, pod.as_ref()).await
}

/// The image to run: `--image`, else the Deployment's app container's.
pub(super) fn image_of(
    deploy: &Deployment,
    image: Option<&str>,
    container: Option<&str>,
) -> Result<String> {
    if let Some(i) = image {
        return Ok(i.to_owned());
    }
    let app = job::app_container(deploy, container).map_err(Error::NoPod)?;
    app.image.clone().ok_or_else(|| {
        Error::NoPod(format!(
            "the Deployment's container {} has no image; pass --image",
            app.name
        ))
        .into()
    })
}

/// Create the Job. From the moment the request leaves, the Job may exist: the run counts
/// as started (an interruption keeps the lock and prints `kmigrate logs`) until the API
/// server says it did not create it. An unanswered create is settled by asking for the
/// Job by name.
async fn create(
    ctx: &mut Ctx,
    conn: &Connection,
    ns: &str,
    spec: &Job,
    name: &str,
    role: JobRole,
) -> Result<()> {
    let run = role == JobRole::Run;
    if run {
        ctx.report.job = Some(name.to_owned());
        ctx.started.store(true, Ordering::SeqCst);
    }
    let why = match job::create(conn, ns, spec).await {
        Ok(()) => return Ok(()),
        Err(job::CreateFailure::Rejected(e)) => {
            if run {
                not_created(ctx);
            }
            return Err(e);
        }
        Err(job::CreateFailure::Unsure(why)) => why,
    };
    match job::exists(conn, ns, name).await {
        Ok(true) => {
            ctx.ui.note(&format!(
                "The answer to creating Job {name} was lost ({why}), but the Job exists; following it."
            ));
            Ok(())
        }
        Ok(false) => {
            if run {
                not_created(ctx);
            }
            Err(Error::Api(format!(
                "create the migration Job: {why}; no Job {name} exists, so nothing ran"
            ))
            .into())
        }
        Err(e) => Err(Error::Unknown(format!(
            "creating the Job {name} got no clear answer ({why}), and looking it up failed ({e:#}); it may exist and run: follow it with `{} logs {name}`",
            crate::program_name::on_target()
        ))
        .into()),
    }
}

/// No Job was created: nothing ran, and there is no Job to name.
fn not_created(ctx: &mut Ctx) {
    nothing_ran(ctx);
    ctx.report.job = None;
    ctx.report.argv = None;
}

/// The Job's container never ran and never will: nothing is left running.
fn nothing_ran(ctx: &mut Ctx) {
    ctx.started.store(false, Ordering::SeqCst);
}

/// The pod could not start and Kubernetes may still start it: delete the Job so that it
/// cannot run later, unwatched. Exit 71 only once the Job is gone; otherwise the Job
/// may still run, and the outcome is unknown.
async fn give_up(
    ctx: &mut Ctx,
    conn: &Connection,
    ns: &str,
    spec: &Job,
    name: &str,
    why: &str,
) -> anyhow::Error {
    ctx.ui.note(&format!(
        "Giving up: deleting the Job {name} so that its pod cannot start later."
    ));
    let app = spec
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map(|c| c.name.clone())
        .unwrap_or_default();
    match job::delete(conn, ns, name, &app, job::DELETE_WITHIN).await {
        Ok(()) => {
            nothing_ran(ctx);
            Error::JobNotStarted(format!(
                "the Job's pod could not start: {why}; the Job {name} was deleted"
            ))
            .into()
        }
        Err(e) => Error::Unknown(format!(
            "the Job's pod could not start ({why}), and deleting the Job {name} failed: {e:#}; it may still start: follow it with `{} logs {name}`, or delete it with `kubectl delete job {name}`",
            crate::program_name::on_target()
        ))
        .into(),
    }
}

/// An error after the Job was created: anything but "its container never ran" is an
/// unknown outcome that names the Job; an error of kmigrate's own (an API call that
/// failed) leaves the Job running unwatched.
fn after_create(ctx: &mut Ctx, err: anyhow::Error, name: &str) -> anyhow::Error {
    match err.chain().find_map(|c| c.downcast_ref::<Error>()) {
        Some(Error::JobNotStarted(_)) => {
            nothing_ran(ctx);
            err
        }
        Some(Error::Unknown(why)) => Error::Unknown(format!(
            "{why}; see `{} logs {name}`",
            crate::program_name::on_target()
        ))
        .into(),
        _ => Error::Unknown(format!(
            "{err:#}; the Job {name} may still run: follow it with `{} logs {name}`",
            crate::program_name::on_target()
        ))
        .into(),
    }
}

/// How long a pod Kubernetes keeps retrying is given to start: `--start-grace`, but within
/// `--timeout`, leaving time to delete the Job and say why.
fn start_grace(grace: Duration, timeout: Option<Duration>) -> Duration {
    match timeout {
        Some(t) => {
            let room = (t / 2).clamp(Duration::from_secs(2), Duration::from_secs(10));
            grace.min(t.saturating_sub(room))
        }
        None => grace,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http::Response;
    use kube::client::Body;
    use serde_json::{Value, json};

    use super::*;
    use crate::cmd::testing::Harness;
    use crate::connection::testing::{Handle, list, mock_cluster, object, status};
    use crate::error::{code, exit_code_of};
    use crate::lock::LockMode;
    use crate::migration_plan::tests::{plan_hash, plan_output};

    const SAFE: &str = "def change do\n  execute \"CREATE TABLE t (id int)\"\nend\n";
    const DROPS: &str = "def up do\n  execute \"DROP TABLE legacy\"\nend\n";

    /// An API server where each Job's pod has run its container `web` (the app container
    /// of [`job::deployment`]), which printed `log` (and the snippet's last line when it
    /// exited 0) and exited with `exit`; returns the Jobs created.
    fn serve(mut handle: Handle, log: String, exit: i32) -> Arc<Mutex<Vec<Value>>> {
        let log = if exit == 0 {
            format!("{log}kmigrate:end\n")
        } else {
            log
        };
        let created = Arc::new(Mutex::new(Vec::<Value>::new()));
        let jobs = created.clone();
        tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let (method, path) = (req.method().clone(), req.uri().path().to_owned());
                let last = jobs.lock().unwrap().last().cloned();
                let answer = match (method.as_str(), path.rsplit('/').next().unwrap_or("")) {
                    ("POST", "jobs") => {
                        let body = req.into_body().collect_bytes().await.unwrap();
                        let job: Value = serde_json::from_slice(&body).unwrap();
                        jobs.lock().unwrap().push(job.clone());
                        object(&job)
                    }
                    ("GET", "pods") => list(vec![json!({
                        "metadata": {"name": "run-pod", "creationTimestamp": "2026-01-01T00:00:00Z"},
                        "status": {"phase": if exit == 0 { "Succeeded" } else { "Failed" },
                            "containerStatuses": [{"name": "web", "image": "shop:2", "imageID": "",
                                "ready": false, "restartCount": 0,
                                "state": {"terminated": {"exitCode": exit}}}]}
                    })]),
                    ("GET", "log") => Response::new(Body::from(log.clone().into_bytes())),
                    ("GET", _) if path.contains("/jobs/") => object(&last.unwrap()),
                    _ => status(404, "NotFound", &format!("{method} {path}")),
                };
                send.send_response(answer);
            }
        });
        created
    }

    /// A protected `migrate --image shop:2` (with `args` after it) against `serve`, the
    /// lock off (the plan Job is what is tested here).
    fn protected_job(
        args: &[&str],
        log: String,
        exit: i32,
    ) -> (Harness, Setup, Arc<Mutex<Vec<Value>>>) {
        let mut argv = vec!["migrate", "--image", "shop:2", "--yes"];
        argv.extend_from_slice(args);
        let mut h = Harness::new(&argv, vec![], false);
        h.ctx.protection = Some("namespace matches \"prod\"".into());
        h.ctx.settings.lock = LockMode::Off;
        let (conn, handle) = mock_cluster();
        let created = serve(handle, log, exit);
        let setup = Setup {
            conn,
            ns: "apps".into(),
            deploy: job::deployment(),
            image: "shop:2".into(),
            lock_name: "kmigrate-shop".into(),
            leave_out: Vec::new(),
            mode: h.ctx.settings.job.clone().expect("Job mode"),
        };
        (h, setup, created)
    }

    /// The command label and the container's command of a Job created.
    fn command_of(job: &Value) -> (String, Vec<String>) {
        let label = job["metadata"]["labels"]["kmigrate.io/command"]
            .as_str()
            .unwrap();
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        let argv = c["command"]
            .as_array()
            .unwrap()
            .iter()
            .chain(c["args"].as_array().unwrap());
        (
            label.to_owned(),
            argv.map(|a| a.as_str().unwrap().to_owned()).collect(),
        )
    }

    /// Never a success without the snippet's report: a Job whose log could not be read and
    /// whose container exited 0 is unknown; a failure keeps its code, said to lack its log.
    #[test]
    fn a_job_without_its_log_is_unknown_or_its_exit_code_said_to_lack_the_log() {
        let mut h = Harness::new(&["migrate"], Vec::new(), false);
        let err = unread(&mut h.ctx, "run-1", 0, "no logs found").unwrap_err();
        assert_eq!(exit_code_of(&err), code::UNKNOWN);
        assert!(err.to_string().contains("no logs found"), "{err}");
        assert!(!h.stderr().contains("nothing to do"));
        assert_eq!(unread(&mut h.ctx, "run-1", 3, "no logs found").unwrap(), 3);
        assert!(
            h.stderr().contains("the Job run-1's log could not be read (no logs found); the outcome is its container's exit code 3"),
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn a_protected_migrate_reads_its_plan_in_a_read_only_job_and_refuses_what_is_not_allowed()
    {
        let pending = [(2, "create_t", SAFE), (3, "drop_legacy", DROPS)];
        let (mut h, setup, created) = protected_job(&[], plan_output(&pending), 0);
        let change = reviewed_change(&h.ctx).expect("reviewed");
        let err = review_in_job(&mut h.ctx, &setup, &change)
            .await
            .err()
            .unwrap();
        assert_eq!(exit_code_of(&err), code::REFUSED);
        let msg = format!("{err:#}");
        assert!(
            msg.contains("3 drop_legacy (Shop.Repo): drops a table"),
            "{msg}"
        );
        assert!(msg.contains("re-run with --allow-destructive 3"), "{msg}");
        // One Job was created: the plan's, running the plan snippet; not the run's.
        let jobs = created.lock().unwrap().clone();
        assert_eq!(jobs.len(), 1);
        let ecto = h.ctx.settings.ecto.clone().unwrap();
        assert_eq!(
            command_of(&jobs[0]),
            ("plan".into(), ecto.argv(Operation::Plan))
        );
        assert_eq!(
            h.ctx.report.plan_job.as_deref(),
            jobs[0]["metadata"]["name"].as_str()
        );
        assert_eq!(
            (h.ctx.report.job.as_ref(), h.ctx.report.argv.as_ref()),
            (None, None)
        );
        assert!(!h.ctx.started.load(Ordering::SeqCst), "nothing was started");
        assert_eq!(
            h.ctx.report.plan.as_ref().map(|p| p.hash.clone()),
            Some(plan_hash(&pending))
        );
    }

    #[tokio::test]
    async fn allowed_the_run_is_held_to_the_hash_its_plan_job_read() {
        let pending = [(2, "create_t", SAFE), (3, "drop_legacy", DROPS)];
        let (mut h, setup, _) =
            protected_job(&["--allow-destructive", "3"], plan_output(&pending), 0);
        let change = reviewed_change(&h.ctx).expect("reviewed");
        let reviewed = review_in_job(&mut h.ctx, &setup, &change).await.unwrap();
        let hash = plan_hash(&pending);
        assert!(reviewed.argv[2].contains(&format!("planned_hash = \"{hash}\"\n")));
        assert_eq!(h.ctx.report.destructive_allowed, [3]);
        assert!(
            reviewed.lines[1].contains("3 drop_legacy")
                && reviewed.lines[1].contains("DESTRUCTIVE")
        );
        // An approved plan that is not the one read: 82, as in a pod.
        let other = plan_hash(&pending[..1]);
        let (mut h, setup, _) = protected_job(&["--plan", &other], plan_output(&pending), 0);
        let change = reviewed_change(&h.ctx).expect("reviewed");
        let err = review_in_job(&mut h.ctx, &setup, &change)
            .await
            .err()
            .unwrap();
        assert_eq!(exit_code_of(&err), code::PLAN_STALE);
    }

    #[tokio::test]
    async fn a_plan_job_that_fails_refuses_the_run() {
        let (mut h, setup, _) = protected_job(&[], "** (RuntimeError) boom\n".into(), 1);
        let change = reviewed_change(&h.ctx).expect("reviewed");
        let err = review_in_job(&mut h.ctx, &setup, &change)
            .await
            .err()
            .unwrap();
        assert_eq!(exit_code_of(&err), code::REFUSED);
        let msg = format!("{err:#}");
        assert!(
            msg.contains("could not read the plan first (remote exit code 1); nothing was changed"),
            "{msg}"
        );
        assert!(!h.ctx.started.load(Ordering::SeqCst));
    }

    #[test]
    fn only_a_protected_migrate_of_the_snippet_that_someone_can_confirm_reads_a_plan_first() {
        let with = |args: &[&str], protected: bool, terminal: bool| {
            let mut h = Harness::new(args, vec![], terminal);
            h.ctx.protection = protected.then(|| "by name".to_owned());
            reviewed_change(&h.ctx).is_some()
        };
        assert!(with(
            &["migrate", "--image", "shop:2", "--yes"],
            true,
            false
        ));
        assert!(with(&["migrate", "--image", "shop:2"], true, true));
        assert!(with(
            &[
                "migrate",
                "--image",
                "shop:2",
                "--yes",
                "--plan",
                &plan_hash(&[])
            ],
            true,
            false
        ));
        assert!(
            !with(&["migrate", "--image", "shop:2", "--yes"], false, false),
            "unprotected, as in a pod"
        );
        assert!(
            !with(&["migrate", "--image", "shop:2"], true, false),
            "refused at the confirmation"
        );
        assert!(!with(
            &["rollback", "--image", "shop:2", "--yes", "--step", "1"],
            true,
            false
        ));
        assert!(!with(
            &["status", "--image", "shop:2", "--yes"],
            true,
            false
        ));
    }

    #[test]
    fn the_image_is_the_app_containers_as_the_job_chooses_it() {
        let d = job::deployment();
        // The template's default-container annotation names `web`, not the first container.
        assert_eq!(image_of(&d, None, None).unwrap(), "shop:1");
        assert_eq!(image_of(&d, None, Some("metrics")).unwrap(), "exporter:1");
        assert_eq!(image_of(&d, Some("shop:2"), None).unwrap(), "shop:2");
        let err = image_of(&d, None, Some("nope")).unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::NO_POD);
    }

    #[test]
    fn the_start_grace_leaves_room_within_the_timeout() {
        let two_min = Duration::from_secs(120);
        assert_eq!(start_grace(two_min, None), two_min);
        assert_eq!(
            start_grace(two_min, Some(Duration::from_secs(600))),
            two_min
        );
        assert_eq!(
            start_grace(two_min, Some(Duration::from_secs(60))),
            Duration::from_secs(50)
        );
        assert_eq!(
            start_grace(two_min, Some(Duration::from_secs(8))),
            Duration::from_secs(4)
        );
        assert_eq!(
            start_grace(Duration::from_secs(3), Some(Duration::from_secs(60))),
            Duration::from_secs(3)
        );
        assert_eq!(
            start_grace(two_min, Some(Duration::from_secs(1))),
            Duration::ZERO
        );
    }
}
