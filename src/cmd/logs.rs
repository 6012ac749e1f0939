//! `kmigrate logs RUN`: follow a Job-mode run again and exit with its exit code.

use anyhow::Result;

use super::{Ctx, pass_through};
use crate::cli::LogsArgs;
use crate::error::usage;
use crate::job;
use crate::output::Streamer;

/// Run `logs`.
pub async fn run(args: &LogsArgs, ctx: &mut Ctx) -> Result<u8> {
    let run = &args.run;
    let valid = !run.is_empty()
        && run.len() <= 63
        && run
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(usage(format!(
            "invalid run name {run:?}; `kmigrate runs` lists them"
        )));
    }
    let (conn, ns) = super::connect_namespace(ctx).await?;
    ctx.report.job = Some(run.clone());
    let bar = ctx.ui.migration_bar(None);
    let mut out = Streamer::new(bar, ctx.ui.json, false);
    let code = job::follow(&conn, &ns, run, &mut out, job::UNSCHEDULABLE_GRACE).await?;
    ctx.report.remote_exit_code = Some(code);
    Ok(pass_through(code))
}
