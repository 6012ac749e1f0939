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
        refuse_early(ui, &members).await?;
        let plans = plan_all(&mut members, &deadline).await?;
        confirm_all(ui, yes, named, &mut members, &plans).await?;
        let signal = run_all(
            &mut members,
            plans,
            &deadline,
            continue_on_error,
            started_at,
        )
        .await;
        Ok::<_, (Option<String>, anyhow::Error)>(signal)
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
        Ok(signal) => {
            let end = summary(ui, &members);
            match signal {
                // A stop is a stop: the environments after it were not run, whatever the
                // last one's own end.
                Some(signal)
                    if end.outcome != Outcome::Interrupted
                        && members.iter().any(|m| m.end.is_none()) =>
                {
                    let e = anyhow::Error::from(Error::Interrupted {
                        signal,
                        running: false,
                    });
                    let said = format!(
                        "{e}: the environments after {} were not run",
                        members
                            .iter()
                            .rev()
                            .find(|m| m.end.is_some())
                            .map_or("none", |m| m.env.as_str())
                    );
                    crate::error::print(&anyhow::anyhow!("{said}"));
                    report.error = Some(said);
                    conclusion_of(&e)
                }
                _ => end,
            }
        }
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
    report.exit_code_source = end.source.as_str().to_owned();
    report.outcome = end.outcome.to_string();
    (report, end)
}

/// Environments protected by what is known before connecting, with no terminal to confirm
/// on and no `--yes`: the group is refused before any request, as one environment is.
async fn refuse_early(ui: &Ui, members: &[Member]) -> Result<(), (Option<String>, anyhow::Error)> {
    let mut reasons = Vec::new();
    for m in members {
        if let Some(reason) = cmd::protected_before_connecting(&m.ctx.settings, ui).await {
            reasons.push(format!("{}: {reason}", m.env));
        }
    }
    if reasons.is_empty() {
        return Ok(());
    }
    Err((
        None,
        cmd::refused_before_connecting(
            ui,
            "the environments are",
            &reasons.join("; "),
            "; nothing was run in any environment",
        ),
    ))
}

/// A group that could not start at all.
fn failed_before_any(command: &str, e: anyhow::Error) -> (GroupReport, Conclusion) {
    let end = conclusion_of(&e);
    let report = GroupReport {
        schema: SCHEMA_VERSION,
        command: command.to_owned(),
        outcome: end.outcome.to_string(),
        exit_code: end.exit_code,
        exit_code_source: end.source.as_str().to_owned(),
        ..GroupReport::default()
    };
    (report, end)
}

/// A member's report with its outcome filled in.
fn finished(ctx: Ctx, end: Option<Conclusion>) -> crate::report::Report {
    let mut r = ctx.report;
    if let Some(end) = end {
        r.exit_code = end.exit_code;
        r.exit_code_source = end.source.as_str().to_owned();
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
/// told to go on; a deadline or a signal always does. One watch sees the signals of the
/// whole group, also those that arrive while an environment finishes (its lock given back,
/// its Event left): none lets the next environment start. Returns the signal, if one came.
async fn run_all(
    members: &mut [Member],
    plans: Vec<Shown>,
    deadline: &Deadline,
    continue_on_error: bool,
    started_at: Instant,
) -> Option<&'static str> {
    let signal = std::sync::Arc::new(std::sync::OnceLock::new());
    let watch = {
        let signal = signal.clone();
        tokio::spawn(async move {
            let _ = signal.set(crate::lifecycle::interrupted().await);
        })
    };
    for (m, plan) in members.iter_mut().zip(plans) {
        if signal.get().is_some() {
            break;
        }
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
        // Pending migrations (`status --exit-code`) are a finding, not a failure: the other
        // environments are read too.
        let failed = !matches!(end.outcome, Outcome::Success | Outcome::Pending);
        if stopped || (failed && !continue_on_error) {
            break;
        }
        // The signal task runs when this one waits; let it see what has arrived.
        tokio::task::yield_now().await;
    }
    watch.abort();
    signal.get().copied()
}

/// Says how each environment ended, and concludes the group's run.
fn summary(ui: &Ui, members: &[Member]) -> Conclusion {
    let ok = members
        .iter()
        .filter(|m| m.end.is_some_and(|e| e.exit_code == code::SUCCESS))
        .count();
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
    conclude_group(&members.iter().map(|m| m.end).collect::<Vec<_>>())
}

/// How a group's run ends, from each environment's end (`None`: not run). An environment
/// where the remote command may still run (unknown outcome, timeout, signal: its lock stays
/// held) decides first, with its own code. Then all succeeded: success; pending migrations
/// and otherwise success: [`code::PENDING`]; none succeeded: the first failure's own code;
/// else [`code::PARTIAL`].
fn conclude_group(ends: &[Option<Conclusion>]) -> Conclusion {
    let ran: Vec<Conclusion> = ends.iter().flatten().copied().collect();
    if let Some(unsettled) = ran.iter().find(|e| e.remote_may_run()) {
        return *unsettled;
    }
    let not_ok: Vec<&Conclusion> = ran
        .iter()
        .filter(|e| e.exit_code != code::SUCCESS)
        .collect();
    let all_ran = ran.len() == ends.len();
    match not_ok.first() {
        None if all_ran => Conclusion::own(code::SUCCESS, Outcome::Success),
        Some(_) if all_ran && not_ok.iter().all(|e| e.outcome == Outcome::Pending) => {
            Conclusion::own(code::PENDING, Outcome::Pending)
        }
        Some(first) if ran.len() == not_ok.len() => not_ok
            .iter()
            .find(|e| e.outcome != Outcome::Pending)
            .map_or(**first, |e| **e),
        _ => Conclusion::own(code::PARTIAL, Outcome::Partial),
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

    fn end(exit_code: u8, outcome: Outcome) -> Option<Conclusion> {
        Some(Conclusion::own(exit_code, outcome))
    }

    #[test]
    fn a_group_ends_with_what_matters_most() {
        let ok = end(code::SUCCESS, Outcome::Success);
        let pending = end(code::PENDING, Outcome::Pending);
        let failed = end(1, Outcome::Failed);
        let unknown = end(code::UNKNOWN, Outcome::Unknown);
        let stopped = end(code::INTERRUPTED, Outcome::Interrupted);
        let code_of = |ends: &[Option<Conclusion>]| conclude_group(ends).exit_code;
        assert_eq!(code_of(&[ok, ok]), code::SUCCESS);
        // `-e eu,us status --exit-code` with pending migrations only in us.
        assert_eq!(code_of(&[ok, pending]), code::PENDING);
        assert_eq!(code_of(&[pending, pending]), code::PENDING);
        // A run whose remote may still run (its lock kept) is never hidden behind 80.
        assert_eq!(code_of(&[ok, unknown]), code::UNKNOWN);
        assert_eq!(code_of(&[failed, unknown]), code::UNKNOWN);
        assert_eq!(code_of(&[ok, stopped, None]), code::INTERRUPTED);
        assert_eq!(code_of(&[ok, failed]), code::PARTIAL);
        assert_eq!(code_of(&[ok, pending, failed]), code::PARTIAL);
        assert_eq!(code_of(&[ok, None]), code::PARTIAL);
        assert_eq!(code_of(&[failed, None]), 1);
        assert_eq!(
            code_of(&[pending, failed]),
            1,
            "the failure, not the finding"
        );
    }

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
