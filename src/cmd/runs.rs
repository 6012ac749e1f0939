//! `kmigrate runs`: recent Job-mode runs, from the Jobs' labels and annotations.

use anyhow::Result;

use super::Ctx;
use crate::job;

/// Run `runs`.
pub async fn runs(ctx: &mut Ctx) -> Result<()> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let rows = job::runs(&conn, &ns).await?;
    if !ctx.ui.json {
        let mut table = format!(
            "{:<44} {:<22} {:<12} {:<9} {:<10} {:<9} IMAGE\n",
            "RUN", "STARTED", "USER", "COMMAND", "OUTCOME", "DURATION"
        );
        for r in &rows {
            let d = r
                .duration_s
                .map(|s| format!("{s}s"))
                .unwrap_or_else(|| "-".into());
            table.push_str(&format!(
                "{:<44} {:<22} {:<12} {:<9} {:<10} {:<9} {}\n",
                r.name,
                r.started.as_deref().unwrap_or("-"),
                r.user.as_deref().unwrap_or("-"),
                r.command.as_deref().unwrap_or("-"),
                r.outcome,
                d,
                r.image.as_deref().unwrap_or("-")
            ));
        }
        ctx.ui.data(&table);
    }
    ctx.report.runs = rows;
    Ok(())
}
