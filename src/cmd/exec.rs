//! `kmigrate exec -- CMD...`: any command in the chosen pod, streamed, with its exit code.

use anyhow::Result;

use super::{Ctx, Plan, confirm, facts, find_target, pass_through, run_remote};
use crate::cli::ExecArgs;
use crate::output::Streamer;

/// Run `exec`.
pub async fn run(args: &ExecArgs, ctx: &mut Ctx) -> Result<u8> {
    let t = find_target(ctx).await?;
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        confirm(
            ctx,
            Plan {
                namespace: &t.namespace,
                facts: facts(&t),
                argv: &args.argv,
                reason: &reason,
                changes: None,
            },
        )?;
    }
    let mut out = Streamer::new(indicatif::ProgressBar::hidden(), ctx.ui.json, false);
    let code = run_remote(ctx, &t, &args.argv, &mut out).await?;
    Ok(pass_through(code))
}
