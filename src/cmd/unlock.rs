//! `kmigrate unlock`: who holds the single-runner lock and what is known about it; clear it
//! after asking.

use anyhow::Result;

use super::Ctx;
use crate::confirm::{Plan, confirm};
use crate::ecto_snippet::Operation;
use crate::error::Error;
use crate::lock;
use crate::output::Purpose;
use crate::target::PodTarget;

/// Run `unlock`; `force` clears a lock that still looks live.
pub async fn unlock(ctx: &mut Ctx, force: bool) -> Result<()> {
    // Without the app, the lock is the one of the chosen pod's workload, as for the run.
    let (conn, ns, name, target) = match ctx.settings.lock_name.clone() {
        Some(name) => {
            let (conn, ns) = super::connect_namespace(ctx).await?;
            (conn, ns, name, None)
        }
        None => {
            let (conn, t) = super::find_target(ctx).await?;
            let name = super::lock_name(&ctx.settings, &conn, &t).await?;
            (conn, t.namespace.clone(), name, Some(t))
        }
    };
    ctx.report.lock = Some(name.clone());
    let Some(found) = lock::inspect(&conn, &ns, &name).await? else {
        ctx.ui.note(&format!(
            "No lock {name} is held in namespace {ns}; nothing to clear."
        ));
        return Ok(());
    };
    let mut facts = found.facts.clone();
    let target = match target {
        Some(t) => Some(t),
        // Best effort: the database is read from a pod of the app, when one is found.
        None if ctx.settings.ecto.is_some() => super::find_target(ctx).await.ok().map(|(_, t)| t),
        None => None,
    };
    if let Some(t) = &target {
        facts.extend(database_fact(ctx, t).await);
    }
    if found.live && !force {
        let said: Vec<String> = facts.iter().map(|(k, v)| format!("  {k}: {v}")).collect();
        return Err(Error::Refused(format!(
            "the lock {name} looks live: its run may still be going, so clearing it could let a second run start beside it; \
             nothing was cleared. Check with `{me} status`; clear it anyway with `{me} unlock --force`\n{}",
            said.join("\n"),
            me = crate::program_name::on_target()
        ))
        .into());
    }
    confirm(
        &ctx.ui,
        ctx.settings.yes,
        &Plan {
            title: "Clear the lock",
            namespace: &ns,
            facts,
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

/// Whether a migration still runs in the database, which a kept lock cannot say by itself:
/// Ecto's migration lock, as `status` reads it in the pod `t`.
async fn database_fact(ctx: &Ctx, t: &PodTarget) -> Option<(&'static str, String)> {
    let ecto = ctx.settings.ecto.as_ref()?;
    let mut out = ctx.ui.streamer(Purpose::Status);
    let said = match ctx.exec_quietly(t, &ecto.argv(Operation::Status), &mut out).await {
        Ok(0) if out.findings.ended() => match out.findings.locks() {
            [] => "no session holds Ecto's migration lock: no migration runs now".to_owned(),
            locks => locks
                .iter()
                .map(|l| {
                    format!(
                        "session {} ({}) holds Ecto's migration lock for {} since {}: a migration still runs",
                        l.pid, l.application, l.repo, l.since
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        },
        Ok(code) => format!("not read (the status read exited {code})"),
        Err(e) => format!("not read ({e})"),
    };
    Some(("database", said))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::remote_exec::fake::Reply;

    /// `unlock` says whether the migration still runs in the database, not only what the
    /// lease knows.
    #[tokio::test]
    async fn unlock_says_whether_a_migration_still_holds_the_database() {
        let held =
            "kmigrate:locked\tDemo.Repo\t\t27095\tkmigrate-migrate-ab12\t2026-12-06 20:00:00\n";
        let h = Harness::new(
            &["unlock"],
            vec![Reply::answer(held, 0), Reply::answer("", 0)],
            false,
        );
        let (_, said) = database_fact(&h.ctx, &pod()).await.unwrap();
        assert_eq!(
            said,
            "session 27095 (kmigrate-migrate-ab12) holds Ecto's migration lock for Demo.Repo since 2026-12-06 20:00:00: a migration still runs"
        );
        let (_, said) = database_fact(&h.ctx, &pod()).await.unwrap();
        assert!(said.starts_with("no session holds"), "{said}");
    }
}
