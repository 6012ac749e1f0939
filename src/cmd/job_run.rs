//! Job mode for migrate, rollback, status and wait: a Job from the Deployment, followed live.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;

use super::{Ctx, take_lock};
use crate::confirm::config_fact;
use crate::connection::Connection;
use crate::error::Error;
use crate::init_container;
use crate::job::{self, JobOptions};
use crate::lock::lease_name;
use crate::output::Streamer;
use crate::settings::Action;
use crate::target;

/// Build, (maybe) confirm, create and follow the Job for migrate, rollback, status, wait or
/// plan, its output going through the caller's `out`. Records the container's exit code
/// and returns it with `out` (what the output said), or `None` for a dry run: the caller
/// decides what they mean.
pub async fn run_in_job(
    ctx: &mut Ctx,
    argv: &[String],
    mut out: Streamer,
) -> Result<Option<(i32, Streamer)>> {
    let Some(mode) = ctx.settings.job.clone() else {
        return Err(anyhow::anyhow!("Job mode is off"));
    };
    let action = ctx.settings.action.clone();
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let id = super::identify(&ctx.settings, &conn, &ns).await;
    ctx.identified(id);
    let (user, protection) = (ctx.report.user.clone(), ctx.protection.clone());

    let deploy = app_deployment(ctx, &conn, &ns, mode.deployment.as_deref()).await?;
    let image = image_of(
        &deploy,
        mode.image.as_deref(),
        ctx.settings.pods.container.as_deref(),
    )?;
    let deploy_name = deploy.metadata.name.clone().unwrap_or_default();
    // Without the app, the lock is named after the Deployment, as in exec mode.
    let lock_name = ctx
        .settings
        .lock_name
        .clone()
        .unwrap_or_else(|| lease_name(&deploy_name));
    let options = job_options(ctx, &deploy, &lock_name, &image, argv, user);
    let spec = job::build(&deploy, &options).map_err(Error::NoPod)?;
    let left_out = left_out(&options.leave_out);
    if let Some(left_out) = &left_out {
        ctx.ui.note(&format!("The Job leaves out {left_out}."));
    }
    // The Job's pod runs the one container the Deployment's template chose.
    ctx.report.container = spec
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .map(|c| c.name.clone());
    if mode.dry_run {
        // The value carries apiVersion and kind already. With -o json, stdout is the
        // report alone: the Job goes into it.
        let value = serde_json::to_value(&spec)?;
        if ctx.ui.json {
            ctx.report.job_manifest = Some(value);
        } else {
            ctx.ui.data(&job::to_yaml(&value));
        }
        return Ok(None);
    }
    // Every Job runs the image with the Deployment's Secrets and service account: a
    // status too is confirmed where protected; only what may change the database locks.
    if let Some(reason) = protection {
        let facts = vec![
            ("context", conn.context.clone()),
            ("namespace", ns.clone()),
            (
                "job",
                format!("{} (from Deployment {deploy_name})", options.name),
            ),
            ("image", image.clone()),
            config_fact(ctx.settings.config.as_deref()),
        ]
        .into_iter()
        .chain(left_out.map(|l| ("left out", l)))
        .collect();
        confirm_job(ctx, &ns, facts, argv, &reason).await?;
    }
    if action.changes_database() {
        take_lock(ctx, &conn, &ns, &lock_name).await?;
    }
    ctx.report.argv = Some(argv.to_vec());
    create(ctx, &conn, &ns, &spec, &options.name).await?;
    ctx.ui.note(&format!(
        "Created Job {name} (image {image}); if interrupted, follow it again with `{} logs {name}`",
        crate::program_name::get(),
        name = options.name
    ));
    let grace = start_grace(
        mode.start_grace,
        ctx.settings.timeout.as_ref().map(|(d, _)| *d),
    );
    let followed = job::follow(&conn, &ns, &options.name, &mut out, &ctx.ui, grace).await;
    let code = match followed {
        Ok(job::Followed::Exited(code)) => code,
        Ok(job::Followed::Completed) => 0,
        Ok(job::Followed::NotStarting(why)) => {
            return Err(give_up(ctx, &conn, &ns, &spec, &options.name, &why).await);
        }
        Err(e) => return Err(after_create(ctx, e, &options.name)),
    };
    ctx.report.remote_exit_code = Some(code);
    ctx.report.pod = Some(options.name.clone());
    Ok(Some((code, out)))
}

/// The Job's options: its name, image and command, who asks, its deadline, and the schema
/// gate it leaves out (said, with a warning when the gate runs another image).
fn job_options(
    ctx: &Ctx,
    deploy: &Deployment,
    lock_name: &str,
    image: &str,
    argv: &[String],
    user: Option<String>,
) -> JobOptions {
    let container = ctx.settings.pods.container.clone();
    let leave_out: Vec<String> = init_container::gates(deploy)
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    if let Some((what, fix)) = init_container::image_mismatch(deploy, container.as_deref()) {
        ctx.ui.note(&format!("warning: {what}; {fix}"));
    }
    let app = lock_name.trim_start_matches("kmigrate-");
    JobOptions {
        name: job::run_name(app, Timestamp::now()),
        image: image.to_owned(),
        container,
        argv: argv.to_vec(),
        argv_record: ctx.settings.recorded_argv(argv),
        command: ctx.settings.action.name().to_owned(),
        user: user.unwrap_or_else(|| "unknown".to_owned()),
        deadline: ctx.settings.timeout.as_ref().map(|(d, _)| *d),
        leave_out,
    }
}

/// A protected environment's confirmation of a Job. A migrate not held to a plan is said
/// to go unchecked for destructive changes: the plan is read in the pod, not before.
async fn confirm_job(
    ctx: &mut Ctx,
    ns: &str,
    facts: Vec<(&'static str, String)>,
    argv: &[String],
    reason: &str,
) -> Result<()> {
    ctx.report.protected = true;
    if matches!(&ctx.settings.action, Action::Migrate(c) if c.plan.is_none() && !c.custom) {
        ctx.ui.note(&format!(
            "note: in Job mode the plan is not read before the Job runs, so destructive migrations are not checked here: review `{} plan --image IMAGE` and pass its hash with --plan",
            crate::program_name::get()
        ));
    }
    ctx.confirm_protected(ns, facts, argv, reason, None).await
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
async fn create(ctx: &mut Ctx, conn: &Connection, ns: &str, spec: &Job, name: &str) -> Result<()> {
    ctx.report.job = Some(name.to_owned());
    ctx.started.store(true, Ordering::SeqCst);
    let why = match job::create(conn, ns, spec).await {
        Ok(()) => return Ok(()),
        Err(job::CreateFailure::Rejected(e)) => {
            not_created(ctx);
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
            not_created(ctx);
            Err(Error::Api(format!(
                "create the migration Job: {why}; no Job {name} exists, so nothing ran"
            ))
            .into())
        }
        Err(e) => Err(Error::Unknown(format!(
            "creating the Job {name} got no clear answer ({why}), and looking it up failed ({e:#}); it may exist and run: follow it with `{} logs {name}`",
            crate::program_name::get()
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
            crate::program_name::get()
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
            crate::program_name::get()
        ))
        .into(),
        _ => Error::Unknown(format!(
            "{err:#}; the Job {name} may still run: follow it with `{} logs {name}`",
            crate::program_name::get()
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
    use super::*;

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
