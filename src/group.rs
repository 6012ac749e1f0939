//! Several environments in one command (`-e prod-eu,prod-us`, or a group of
//! `kmigrate.toml`): every target and what would change there is read first and shown in
//! one plan, confirmed once (where any is protected); then each environment runs in order
//! with its own lock and audit Event. Fail-fast unless `--continue-on-error`; one JSON
//! document; the exit code says whether all, some or none succeeded.

use std::time::Instant;

use anyhow::Result;

use crate::cmd::{self, Confirmation, Ctx, Shown};
use crate::confirm::{Changes, GROUP, Plan, confirm};
use crate::error::{Conclusion, Error, Outcome, code, conclusion_of};
use crate::lifecycle::{Deadline, finish, watched};
use crate::report::{EnvReport, GroupReport, SCHEMA_VERSION};
use crate::settings::{Action, Settings};
use crate::ui::Ui;

/// One environment of the group: its name and its run.
struct Member {
    env: String,
    ctx: Ctx,
    /// How its run ended; `None` while it has not run.
    end: Option<Conclusion>,
}

/// Run the group on a runtime of its own; returns the document and how the whole ended.
pub fn drive(
    members: Vec<(String, Settings)>,
    named: &str,
    ui: &Ui,
    started_at: Instant,
) -> (GroupReport, Conclusion) {
    let command = members
        .first()
        .map(|(_, s)| s.action.name())
        .unwrap_or_default()
        .to_owned();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return failed_before_any(
                &command,
                anyhow::anyhow!("cannot start the async runtime: {e}"),
            );
        }
    };
    let deadline = Deadline::after(members.first().and_then(|(_, s)| s.timeout.as_ref()));
    let continue_on_error = members.first().is_some_and(|(_, s)| s.continue_on_error);
    let yes = members.first().is_some_and(|(_, s)| s.yes);
    let mut members: Vec<Member> = members
        .into_iter()
        .map(|(env, settings)| Member {
            env,
            ctx: Ctx::new(settings, ui.clone()),
            end: None,
        })
        .collect();
    let stopped = runtime.block_on(async {
        let plans = plan_all(&mut members, &deadline).await?;
        confirm_all(ui, yes, named, &mut members, &plans).await?;
        run_all(
            &mut members,
            plans,
            &deadline,
            continue_on_error,
            started_at,
        )
        .await;
        Ok::<(), (Option<String>, anyhow::Error)>(())
    });
    runtime.shutdown_background();
    let mut report = GroupReport {
        schema: SCHEMA_VERSION,
        command,
        ..GroupReport::default()
    };
    let end = match stopped {
        Err((env, e)) => {
            // The typed error decides the outcome and the code, as for a single run.
            let end = conclusion_of(&e);
            let said = match &env {
                Some(env) => format!("environment {env}: {e:#}"),
                None => format!("{e:#}"),
            };
            crate::error::print(&anyhow::anyhow!("{said}"));
            report.error = Some(said);
            end
        }
        Ok(()) => summary(ui, &members),
    };
    report.environments = members
        .into_iter()
        .map(|m| EnvReport {
            env: m.env,
            ran: m.end.is_some(),
            report: finished(m.ctx, m.end),
        })
        .collect();
    report.exit_code = end.exit_code;
    report.outcome = end.outcome.to_string();
    (report, end)
}

/// A group that could not start at all.
fn failed_before_any(command: &str, e: anyhow::Error) -> (GroupReport, Conclusion) {
    let end = conclusion_of(&e);
    let report = GroupReport {
        schema: SCHEMA_VERSION,
        command: command.to_owned(),
        outcome: end.outcome.to_string(),
        exit_code: end.exit_code,
        ..GroupReport::default()
    };
    (report, end)
}

/// A member's report with its outcome filled in.
fn finished(ctx: Ctx, end: Option<Conclusion>) -> crate::report::Report {
    let mut r = ctx.report;
    if let Some(end) = end {
        r.exit_code = end.exit_code;
        r.outcome = end.outcome.to_string();
    } else {
        r.outcome = Outcome::NotRun.to_string();
    }
    r
}

/// Find every target and read what would change there; nothing is locked or changed. The
/// first that fails stops the group: nothing has run anywhere.
async fn plan_all(
    members: &mut [Member],
    deadline: &Deadline,
) -> Result<Vec<Shown>, (Option<String>, anyhow::Error)> {
    let mut plans = Vec::new();
    for m in members.iter_mut() {
        let started = m.ctx.started.clone();
        match watched(cmd::preview(&mut m.ctx), deadline, &started).await {
            Ok(p) => plans.push(p),
            Err(e) => {
                m.ctx.report.error = Some(format!("{e:#}"));
                return Err((
                    Some(m.env.clone()),
                    e.context("reading the plan; nothing was run in any environment"),
                ));
            }
        }
    }
    Ok(plans)
}

/// Show every target and its plan; where any environment is protected, one typed
/// confirmation (the environments, as given) covers them all.
async fn confirm_all(
    ui: &Ui,
    yes: bool,
    named: &str,
    members: &mut [Member],
    plans: &[Shown],
) -> Result<(), (Option<String>, anyhow::Error)> {
    let mut facts = Vec::new();
    let mut changes = Vec::new();
    let mut reasons = Vec::new();
    for (m, plan) in members.iter_mut().zip(plans) {
        let r = &m.ctx.report;
        let protected = m.ctx.protection.clone();
        facts.push((
            "target",
            format!(
                "{}: context {}, namespace {}, pod {}{}",
                m.env,
                r.context.as_deref().unwrap_or("?"),
                r.namespace.as_deref().unwrap_or("?"),
                r.pod.as_deref().unwrap_or("?"),
                if protected.is_some() {
                    " (protected)"
                } else {
                    ""
                }
            ),
        ));
        if let Some(reason) = protected {
            m.ctx.report.protected = true;
            // As for one environment: a read-only status is not confirmed, protected or not.
            if m.ctx.settings.confirms_when_protected() {
                reasons.push(format!("{}: {reason}", m.env));
            }
        }
        match &plan.lines {
            Some(lines) if lines.is_empty() => changes.push(format!("{}: nothing", m.env)),
            Some(lines) => changes.extend(lines.iter().map(|l| format!("{}: {l}", m.env))),
            None => changes.push(format!("{}: (not read before the run)", m.env)),
        }
    }
    let verb = match members.first().map(|m| &m.ctx.settings.action) {
        Some(Action::Rollback(_)) => "to revert, in order",
        Some(Action::Status { .. }) => "to read, in order",
        _ => "to apply, in order",
    };
    if reasons.is_empty() {
        if !ui.json {
            let mut text = format!("{GROUP}, in order:");
            for (_, f) in &facts {
                text.push_str(&format!("\n  {f}"));
            }
            ui.note(&text);
        }
        return Ok(());
    }
    let argv: Vec<String> = Vec::new();
    confirm(
        ui,
        yes,
        &Plan {
            title: GROUP,
            namespace: named,
            facts,
            argv: &argv,
            reason: &reasons.join("; "),
            changes: Some(Changes::new(verb, changes)),
        },
    )
    .await
    .map_err(|e| (None, e))
}

/// Run each environment in order, under the one deadline. A failure stops the rest unless
/// told to go on; a deadline or a signal always does.
async fn run_all(
    members: &mut [Member],
    plans: Vec<Shown>,
    deadline: &Deadline,
    continue_on_error: bool,
    started_at: Instant,
) {
    for (m, plan) in members.iter_mut().zip(plans) {
        m.ctx.confirmation = Confirmation::Confirmed(plan);
        m.ctx.ui.note(&format!("== environment {}", m.env));
        let started = m.ctx.started.clone();
        let result = watched(cmd::execute(&mut m.ctx), deadline, &started).await;
        if let Err(e) = &result {
            m.ctx.report.error = Some(format!("{e:#}"));
            crate::error::print(e);
        }
        let end = finish(&mut m.ctx, &result, started_at).await;
        m.end = Some(end);
        let stopped = matches!(end.outcome, Outcome::Timeout | Outcome::Interrupted);
        if end.exit_code != code::SUCCESS && (stopped || !continue_on_error) {
            break;
        }
    }
}

/// All succeeded: success. None: the first failure's own code. Some: [`code::PARTIAL`].
fn summary(ui: &Ui, members: &[Member]) -> Conclusion {
    let ok = members
        .iter()
        .filter(|m| m.end.is_some_and(|e| e.exit_code == code::SUCCESS))
        .count();
    let first_failure = members
        .iter()
        .filter_map(|m| m.end)
        .find(|e| e.exit_code != code::SUCCESS);
    let line: Vec<String> = members
        .iter()
        .map(|m| match m.end {
            Some(e) if e.exit_code == code::SUCCESS => format!("{} ok", m.env),
            Some(e) => format!("{} {} ({})", m.env, e.outcome, e.exit_code),
            None => format!("{} not run", m.env),
        })
        .collect();
    if !ui.json {
        ui.note(&format!(
            "kmigrate: {ok} of {} environments succeeded: {}",
            members.len(),
            line.join(", ")
        ));
    }
    match first_failure {
        None => Conclusion {
            exit_code: code::SUCCESS,
            outcome: Outcome::Success,
        },
        Some(first) if ok == 0 => first,
        Some(_) => Conclusion {
            exit_code: code::PARTIAL,
            outcome: Outcome::Partial,
        },
    }
}

/// Refuse what a group cannot do: only migrate, rollback and status fan out, and only by
/// exec (a Job per environment is for a later version).
pub fn check(settings: &Settings) -> Result<()> {
    if !settings.action.fans_out() {
        return Err(Error::Usage(format!(
            "{} runs in one environment at a time; several (-e a,b or a group) are for migrate, rollback and status",
            settings.action.name()
        ))
        .into());
    }
    if settings.job.is_some() {
        return Err(Error::Usage(
            "Job mode runs in one environment at a time; drop --image (or job = true) to run several".into(),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-e staging,prod status` reads without a typed confirmation, as `-e prod status`
    /// does; a migrate of the same environments is confirmed (and refused without a
    /// terminal or --yes).
    #[tokio::test]
    async fn a_read_only_group_is_not_confirmed_a_changing_one_is() {
        for (args, confirmed) in [(["status"], false), (["migrate"], true)] {
            let (ui, captured) = Ui::memory(false, false);
            let mut members: Vec<Member> = ["staging", "prod"]
                .into_iter()
                .map(|env| {
                    let mut ctx = Ctx::new(crate::cmd::testing::settings(&args), ui.clone());
                    if env == "prod" {
                        ctx.protection = Some("config marks it protected".into());
                    }
                    Member {
                        env: env.into(),
                        ctx,
                        end: None,
                    }
                })
                .collect();
            members[1].ctx = Ctx::new(
                crate::settings::Settings {
                    config: Some("/src/shop/kmigrate.toml".into()),
                    ..members[1].ctx.settings.clone()
                },
                ui.clone(),
            );
            members[1].ctx.protection = Some("config marks it protected".into());
            assert_eq!(
                members[1].ctx.report.config.as_deref(),
                Some("/src/shop/kmigrate.toml"),
                "each environment's document names the config"
            );
            let plans = vec![Shown::default(), Shown::default()];
            let r = confirm_all(&ui, false, "staging,prod", &mut members, &plans).await;
            assert_eq!(r.is_err(), confirmed, "{args:?}");
            assert!(members[1].ctx.report.protected);
            let said = String::from_utf8_lossy(&captured.lock().unwrap().stderr).into_owned();
            assert_eq!(
                said.contains("Several environments (prod:"),
                confirmed,
                "{said}"
            );
        }
    }
}
