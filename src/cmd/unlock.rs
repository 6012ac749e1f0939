//! `kmigrate unlock`: who holds the single-runner lock and what is known about it; clear it
//! after asking.

use anyhow::Result;

use super::Ctx;
use crate::confirm::{Plan, confirm};
use crate::lock;

/// Run `unlock`.
pub async fn unlock(ctx: &mut Ctx) -> Result<()> {
    // Without the app, the lock is the one of the chosen pod's workload, as for the run.
    let (conn, ns, name) = match ctx.settings.lock_name.clone() {
        Some(name) => {
            let (conn, ns) = super::connect_namespace(ctx).await?;
            (conn, ns, name)
        }
        None => {
            let (conn, t) = super::find_target(ctx).await?;
            let name = super::lock_name(&ctx.settings, &conn, &t).await?;
            (conn, t.namespace, name)
        }
    };
    ctx.report.lock = Some(name.clone());
    let Some(found) = lock::inspect(&conn, &ns, &name).await? else {
        ctx.ui.note(&format!(
            "No lock {name} is held in namespace {ns}; nothing to clear."
        ));
        return Ok(());
    };
    confirm(
        &ctx.ui,
        ctx.settings.yes,
        &Plan {
            title: "Clear the lock",
            namespace: &ns,
            facts: found.facts.clone(),
            argv: &[],
            reason: "the next run may then start at once",
            changes: None,
        },
    )
    .await?;
    lock::clear(&conn, &ns, &name, &found).await?;
    ctx.ui.note(&format!(
        "Cleared the lock {name} (held by {}).",
        found.holder
    ));
    Ok(())
}
