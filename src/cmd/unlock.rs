//! `kmigrate unlock`: who holds the single-runner lock and what is known about it; clear it
//! after asking.

use anyhow::Result;

use super::Ctx;
use crate::confirm::{Plan, confirm};
use crate::lock;

/// Run `unlock`.
pub async fn unlock(ctx: &mut Ctx) -> Result<()> {
    let (conn, ns) = super::connect_namespace(ctx).await?;
    let name = ctx.settings.lock_name.clone();
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
