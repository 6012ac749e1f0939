//! Job mode for migrate, rollback and status: a Job from the Deployment, followed live.

use anyhow::Result;
use k8s_openapi::jiff::Timestamp;

use super::outcome::{record, refusal, summarize};
use super::{Ctx, take_lock};
use crate::confirm::{PROTECTED, Plan, confirm};
use crate::ecto_output::{Direction, Event};
use crate::error::Error;
use crate::job::{self, JobOptions};
use crate::settings::Action;
use crate::target;
use crate::ui::Purpose;

/// Build, (maybe) confirm, create and follow the Job for migrate, rollback or status;
/// records the container's exit code and returns the events its output held.
pub async fn run_in_job(ctx: &mut Ctx, argv: &[String]) -> Result<Vec<Event>> {
    let Some(mode) = ctx.settings.job.clone() else {
        return Err(anyhow::anyhow!("Job mode is off"));
    };
    let action = ctx.settings.action.clone();
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let (user, protection) = super::identify(&ctx.settings, &conn, &ns).await;
    ctx.report.user = user.clone();

    let pod = if mode.deployment.is_none() {
        let found = target::candidates_in(&conn, &ns, &ctx.settings).await?;
        let chosen = found.choice.chosen().map(|c| c.name.clone());
        match chosen {
            Some(name) => found.pods.get(&name).cloned(),
            None => {
                target::pick(found, &ctx.settings, &mut Vec::new())?;
                None
            }
        }
    } else {
        None
    };
    let deploy = job::find_deployment(&conn, &ns, mode.deployment.as_deref(), pod.as_ref()).await?;
    let image = match mode.image.clone() {
        Some(i) => i,
        None => current_image(&deploy, ctx.settings.container.as_deref()).ok_or_else(|| {
            Error::NoPod("the Deployment's container has no image; pass --image".into())
        })?,
    };
    let app = ctx
        .settings
        .lock_name
        .trim_start_matches("kmigrate-")
        .to_owned();
    let options = JobOptions {
        name: job::run_name(&app, Timestamp::now()),
        image: image.clone(),
        container: ctx.settings.container.clone(),
        argv: argv.to_vec(),
        command: action.name().to_owned(),
        user: user.clone().unwrap_or_else(|| "unknown".to_owned()),
        deadline: ctx.settings.timeout.as_ref().map(|(d, _)| *d),
    };
    let spec = job::build(&deploy, &options).map_err(Error::NoPod)?;
    if mode.dry_run {
        let value = serde_json::to_value(&spec)?;
        let mut text = "apiVersion: \"batch/v1\"\nkind: \"Job\"\n".to_owned();
        text.push_str(&job::to_yaml(&value));
        ctx.ui.data(&text);
        return Ok(Vec::new());
    }
    let deploy_name = deploy.metadata.name.clone().unwrap_or_default();
    if action.changes_database() {
        if let Some(reason) = protection {
            ctx.report.protected = true;
            let facts = vec![
                ("context", conn.context.clone()),
                ("namespace", ns.clone()),
                (
                    "job",
                    format!("{} (from Deployment {deploy_name})", options.name),
                ),
                ("image", image.clone()),
            ];
            confirm(
                &ctx.ui,
                ctx.settings.yes,
                &Plan {
                    title: PROTECTED,
                    namespace: &ns,
                    facts,
                    argv,
                    reason: &reason,
                    changes: None,
                },
            )
            .await?;
        }
        take_lock(ctx, &conn, &ns).await?;
    }
    job::create(&conn, &ns, &spec).await?;
    ctx.started.store(true, std::sync::atomic::Ordering::SeqCst);
    ctx.report.job = Some(options.name.clone());
    ctx.report.argv = Some(argv.to_vec());
    ctx.ui.note(&format!(
        "Created Job {} (image {image}); if interrupted, follow it again with `kmigrate logs {}`",
        options.name, options.name
    ));
    let purpose = match action {
        Action::Status { .. } => Purpose::Status,
        _ => Purpose::Migrations { total: None },
    };
    let mut out = ctx.ui.streamer(purpose);
    // Within --timeout, leave a moment to say why the pod never started.
    let grace = ctx
        .settings
        .timeout
        .as_ref()
        .map_or(job::UNSCHEDULABLE_GRACE, |(d, _)| {
            d.saturating_sub(std::time::Duration::from_secs(2))
                .min(job::UNSCHEDULABLE_GRACE)
        });
    let code = job::follow(&conn, &ns, &options.name, &mut out, grace).await?;
    ctx.report.remote_exit_code = Some(code);
    ctx.report.pod = Some(options.name.clone());
    if let Some(why) = refusal(&out.events) {
        return Err(crate::error::usage(format!("{why}; nothing was run")));
    }
    match action {
        Action::Migrate(c) => {
            record(ctx, &out.events, Direction::Up);
            summarize(ctx, code, &out.events, "applied", c.custom);
        }
        Action::Rollback(c) => {
            record(ctx, &out.events, Direction::Down);
            summarize(ctx, code, &out.events, "reverted", c.custom);
        }
        _ => {}
    }
    Ok(out.events)
}

fn current_image(
    deploy: &k8s_openapi::api::apps::v1::Deployment,
    container: Option<&str>,
) -> Option<String> {
    let spec = deploy.spec.as_ref()?.template.spec.as_ref()?;
    let c = match container {
        Some(name) => spec.containers.iter().find(|c| c.name == name)?,
        None => spec.containers.first()?,
    };
    c.image.clone()
}
