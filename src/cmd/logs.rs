//! `kmigrate logs RUN`: follow a Job-mode run again and exit with its exit code.

use anyhow::Result;

use super::Ctx;
use crate::error::Error;
use crate::job;
use crate::output::Purpose;
use crate::settings::RunName;

/// Run `logs`.
pub async fn logs(ctx: &mut Ctx, run: &RunName) -> Result<()> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    ctx.report.job = Some(run.as_str().to_owned());
    let run = run.as_str();
    let mut out = ctx.ui.streamer(Purpose::Log);
    let followed = job::follow(&conn, &ns, run, &mut out, &ctx.ui, job::START_GRACE).await?;
    let code = match followed {
        job::Followed::Exited(code) => code,
        job::Followed::Unread { code, why } => super::job_run::unread(ctx, run, code, &why)?,
        job::Followed::Completed => {
            ctx.ui.note(&format!(
                "The Job {run} completed (exit code 0); its pod, and so its log, is gone."
            ));
            0
        }
        job::Followed::NotStarting(why) => {
            return Err(Error::Unknown(format!(
                "the Job {run} has not started after {}: {why}; it may still start: follow it again with `{} logs {run}`, or delete it with `kubectl delete job {run}`",
                job::human(job::START_GRACE),
                crate::program_name::on_target()
            ))
            .into());
        }
    };
    ctx.report.remote_exit_code = Some(code);
    Ok(())
}
