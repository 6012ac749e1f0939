//! `kmigrate runs`: recent Job-mode runs, from the Jobs' labels and annotations.

use std::io::Write;

use anyhow::Result;

use super::Ctx;
use crate::job;

/// Run `runs`.
pub async fn run(ctx: &mut Ctx) -> Result<u8> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let rows = job::runs(&conn, &ns).await?;
    if !ctx.ui.json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{:<44} {:<22} {:<12} {:<9} {:<10} {:<9} IMAGE",
            "RUN", "STARTED", "USER", "COMMAND", "OUTCOME", "DURATION"
        );
        for r in &rows {
            let d = r
                .duration_s
                .map(|s| format!("{s}s"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<44} {:<22} {:<12} {:<9} {:<10} {:<9} {}",
                r.name,
                r.started.as_deref().unwrap_or("-"),
                r.user.as_deref().unwrap_or("-"),
                r.command.as_deref().unwrap_or("-"),
                r.outcome,
                d,
                r.image.as_deref().unwrap_or("-")
            );
        }
    }
    ctx.report.runs = rows;
    Ok(0)
}
