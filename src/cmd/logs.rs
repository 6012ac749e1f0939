//! `kmigrate logs RUN`: follow a Job-mode run again and exit with its exit code.

use anyhow::Result;

use super::Ctx;
use crate::job;
use crate::settings::RunName;
use crate::ui::Purpose;

/// Run `logs`.
pub async fn logs(ctx: &mut Ctx, run: &RunName) -> Result<()> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    ctx.report.job = Some(run.as_str().to_owned());
    let mut out = ctx.ui.streamer(Purpose::Log);
    let code = job::follow(&conn, &ns, run.as_str(), &mut out, job::UNSCHEDULABLE_GRACE).await?;
    ctx.report.remote_exit_code = Some(code);
    Ok(())
}
