//! `kmigrate pods`: the candidate pods, the one that would be chosen, and why not the others.

use anyhow::Result;

use super::Ctx;
use crate::error::Error;
use crate::pod_select::choose_container;
use crate::report::PodReport;
use crate::target;

/// Run `pods`.
pub async fn pods(ctx: &mut Ctx) -> Result<()> {
    let spinner = ctx.ui.spinner("listing pods");
    let found = async {
        let (conn, namespace) = super::connect_namespace(ctx).await?;
        let mut found = target::candidates_in(&conn, &namespace, &ctx.settings.pods).await?;
        target::read_revisions(&conn, &ctx.settings.pods, &mut found).await;
        anyhow::Ok(found)
    }
    .await;
    spinner.finish_and_clear();
    let found = found?;
    if let Some(n) = &found.note {
        ctx.ui.note(n);
    }
    if let Some(workloads) = found.several_workloads() {
        let selector = ctx.settings.pods.selector_text();
        ctx.ui.note(&format!(
            "warning: {}; narrow the selector or name the pod (--pod) to choose",
            target::several_workloads_text(&selector, &workloads)
        ));
    }
    let chosen = found.choice.chosen().map(|c| c.name.clone());
    for (cand, reason) in &found.choice.verdicts {
        let revision = cand
            .replicaset
            .as_ref()
            .and_then(|rs| found.revisions.get(rs))
            .map(|i| i.revision);
        ctx.report.pods.push(PodReport {
            name: cand.name.clone(),
            phase: cand.phase.clone(),
            ready: cand.ready,
            chosen: reason.is_none(),
            reason: reason.as_ref().map(ToString::to_string),
            replicaset: cand.replicaset.clone(),
            revision,
        });
    }
    if let Some(name) = &chosen {
        let container = choose_container(&found.pods[name], ctx.settings.pods.container.as_deref())
            .map_err(Error::NoPod)?;
        ctx.report.pod = Some(name.clone());
        ctx.report.container = Some(container.name);
    }
    if !ctx.ui.json {
        let selector = ctx.settings.pods.selector_text();
        ctx.ui.note(&format!(
            "context {}, namespace {}, selector {selector:?}: {} pod(s)",
            found.context,
            found.namespace,
            found.choice.verdicts.len()
        ));
        let mut table = format!(
            "  {:<40} {:<9} {:<6} {:<28} WHY\n",
            "NAME", "PHASE", "READY", "REPLICASET (REVISION)"
        );
        for p in &ctx.report.pods {
            let rs = match (&p.replicaset, p.revision) {
                (Some(rs), Some(rev)) => format!("{rs} ({rev})"),
                (Some(rs), None) => rs.clone(),
                (None, _) => "-".to_owned(),
            };
            let why = match (&p.reason, &ctx.report.container) {
                (None, Some(c)) => format!("chosen (container {c})"),
                (None, None) => "chosen".to_owned(),
                (Some(r), _) => r.clone(),
            };
            let mark = if p.chosen { "*" } else { " " };
            table.push_str(&format!(
                "{mark} {:<40} {:<9} {:<6} {rs:<28} {why}\n",
                p.name, p.phase, p.ready
            ));
        }
        ctx.ui.data(&table);
    }
    if chosen.is_none() {
        let mut notes = Vec::new();
        return target::pick(found, &ctx.settings.pods, &mut notes)
            .map(drop)
            .map_err(|e| super::namespace_hint(ctx, e));
    }
    Ok(())
}
