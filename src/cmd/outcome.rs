//! What a migrate or rollback did, for the report and for people.

use super::Ctx;
use crate::ecto_output::{Direction, Findings, TenantState, TimedOut, TimeoutKind};
use crate::error::Error;
use crate::report::{Migration, Tenant, TenantOutcome};

/// A migrate or rollback in a Job from a new image: its output read as migrations, then
/// settled as in a pod (a dry run settles nothing).
pub(super) async fn change_in_job(
    ctx: &mut Ctx,
    change: &crate::settings::Change,
    direction: Direction,
) -> anyhow::Result<()> {
    let out = ctx
        .ui
        .streamer(crate::output::Purpose::Migrations { total: None });
    match super::job_run::run_in_job(ctx, &change.argv, out).await? {
        Some((code, out)) => settle(ctx, code, &out.findings, direction, change.custom),
        None => Ok(()),
    }
}

/// After a migrate or rollback: the snippet's refusal becomes a usage error (nothing ran);
/// otherwise what ran goes into the report and a line for people.
pub(super) fn settle(
    ctx: &mut Ctx,
    code: i32,
    findings: &Findings,
    direction: Direction,
    custom: bool,
) -> anyhow::Result<()> {
    if let Some(why) = session_refusal(findings.session_problems()) {
        return Err(Error::Session(why).into());
    }
    if let Some(why) = findings.refused() {
        return Err(crate::error::usage(format!("{why}; nothing was run")));
    }
    if let Some(still) = findings.changed() {
        let still = if still.is_empty() { "none" } else { still };
        return Err(Error::PlanChanged(format!(
            "the migrations to revert changed after they were shown: of those, still applied: {still}; nothing was run"
        ))
        .into());
    }
    super::guard::check_stale(ctx, findings)?;
    ctx.report.other_runs = findings.other_runs().into_iter().cloned().collect();
    ctx.report.lock_waits = findings.waits().into_iter().cloned().collect();
    // A failed migration outside a transaction names the invalid indexes it left.
    ctx.report.invalid_indexes = findings.invalid_indexes().to_vec();
    ctx.report.older_ecto_sql = findings.older_ecto_sql().to_vec();
    for i in findings.invalid_indexes() {
        ctx.ui.note(&format!("warning: {}", i.describe()));
    }
    if let Some(why) = findings.busy() {
        let who: Vec<String> = findings.other_runs().iter().map(|o| o.describe()).collect();
        return Err(Error::Locked(format!(
            "{why} ({}); nothing was run. Pass --wait to wait for it to end, or see `{} status`",
            who.join("; "),
            crate::program_name::on_target()
        ))
        .into());
    }
    record(ctx, findings, direction);
    ctx.report.tenants = tenants(findings, &ctx.report.migrations);
    let verb = match direction {
        Direction::Up => "applied",
        Direction::Down => "reverted",
    };
    show_tenants(ctx);
    if !custom && code == 0 && !findings.ended() {
        return Err(super::cut_short());
    }
    if let Some(r) = findings.connection_refused() {
        let needs = connections_needed(ctx);
        if code != 0 {
            return Err(Error::Connections(format!(
                "the run failed, and PostgreSQL refused some of its connections: {}. {needs}; \
                 then run again: what was {verb} is skipped",
                r.describe()
            ))
            .into());
        }
        // DBConnection tried again and the run got through: said, not failed.
        ctx.ui.note(&format!("warning: {}. {needs}", r.describe()));
    }
    if let Some(t) = findings.timed_out() {
        ctx.report.timed_out = Some(t.clone());
        return Err(Error::DbTimeout(timed_out_message(ctx, findings, t, verb)).into());
    }
    summarize(ctx, code, findings, verb, custom);
    tenants_failed(ctx, code)
}

/// How many connections the run opens at once (docs/guide/tenants.md, Connections), and the
/// lever kmigrate has on it.
fn connections_needed(ctx: &Ctx) -> String {
    let concurrency = ctx
        .settings
        .ecto
        .as_ref()
        .map_or(crate::ecto_snippet::Concurrency::ONE, |e| {
            e.snippet.tenants.concurrency
        });
    let n = concurrency.get();
    let per_repo = crate::ecto_snippet::pool_size(concurrency);
    let lower = if n > 1 { " or lower --concurrency" } else { "" };
    format!(
        "This run opens up to {per_repo} connections at once for each repo with migrations to run \
         (2 × --concurrency {n} + 1); allow that many{lower}"
    )
}

/// The run's sessions would not carry its parameters (PgBouncer): what, and what to set.
/// PgBouncer's refusal is one connection failure to its driver, and a timeout it drops
/// would let the run wait without bound: both stop the run before anything runs.
pub(crate) fn session_refusal(problems: &[crate::ecto_output::SessionProblem]) -> Option<String> {
    let first = problems.first()?;
    let said: Vec<String> = problems
        .iter()
        .map(|p| match &p.unset {
            None => format!("refused the session parameter {}", p.parameter),
            Some((asked, in_force)) => {
                let in_force = if in_force.is_empty() {
                    "nothing"
                } else {
                    in_force.as_str()
                };
                format!("took {} = {asked} but {in_force} is in force", p.parameter)
            }
        })
        .collect();
    let repo = first
        .repo
        .as_deref()
        .map_or(String::new(), |r| format!(" of {r}"));
    let fix = if first.unset.is_some() {
        "a pooler dropped it (PgBouncer's ignore_startup_parameters accepts a parameter and never applies it)"
    } else {
        "PgBouncer accepts only the startup parameters it tracks (\"unsupported startup parameter\")"
    };
    Some(format!(
        "the database{repo} {}: {fix}; nothing was run. Connect the migration to PostgreSQL directly, or run without \
         --lock-timeout/--statement-timeout, or set the timeouts on the server for the role that migrates (see \
         docs/guide/pgbouncer.md); `{} doctor` checks it",
        said.join(", "),
        crate::program_name::on_target()
    ))
}

/// Each tenant's outcome, in run order, then the names `--prefixes-from` returned that are
/// not prefixes.
fn tenants(findings: &Findings, migrations: &[Migration]) -> Vec<Tenant> {
    let stopped_by = findings.tenants().iter().find_map(|t| match t.end {
        Some(TenantState::Failed { .. }) => Some(t.prefix.as_str()),
        _ => None,
    });
    let mut out: Vec<Tenant> = findings
        .tenants()
        .iter()
        .map(|t| {
            let applied = migrations
                .iter()
                .filter(|m| m.prefix.as_deref() == Some(t.prefix.as_str()))
                .count() as u64;
            let (outcome, failed_version, error) = match (&t.end, t.pending) {
                (Some(TenantState::Failed { version, error }), _) => {
                    (TenantOutcome::Failed, *version, Some(error.clone()))
                }
                (Some(TenantState::NotRun), _) => (
                    TenantOutcome::NotRun,
                    None,
                    Some(match stopped_by {
                        Some(p) => format!("the run stopped when tenant {p} failed"),
                        None => "the run stopped before this tenant".to_owned(),
                    }),
                ),
                (Some(TenantState::Done), _) => (TenantOutcome::Applied, None, None),
                (_, Some(0)) => (TenantOutcome::UpToDate, None, None),
                _ => (TenantOutcome::Unknown, None, None),
            };
            Tenant {
                prefix: t.prefix.clone(),
                outcome,
                migrations: applied,
                failed_version,
                error,
            }
        })
        .collect();
    out.extend(findings.invalid_tenants().iter().map(|name| {
        Tenant {
            prefix: name.clone(),
            outcome: TenantOutcome::Invalid,
            migrations: 0,
            failed_version: None,
            error: Some(
                "not a valid prefix (1 to 63 bytes, no \" and no control character); not run"
                    .to_owned(),
            ),
        }
    }));
    out
}

/// For people: one line per tenant, after a count of each outcome.
fn show_tenants(ctx: &Ctx) {
    let tenants = &ctx.report.tenants;
    if ctx.ui.json || tenants.is_empty() {
        return;
    }
    let counts: Vec<String> = [
        TenantOutcome::Applied,
        TenantOutcome::UpToDate,
        TenantOutcome::Failed,
        TenantOutcome::NotRun,
        TenantOutcome::Invalid,
        TenantOutcome::Unknown,
    ]
    .into_iter()
    .filter_map(|o| {
        let n = tenants.iter().filter(|t| t.outcome == o).count();
        (n > 0).then(|| format!("{n} {}", o.describe()))
    })
    .collect();
    let width = tenants.iter().map(|t| t.prefix.len()).max().unwrap_or(0);
    let mut text = format!("kmigrate: tenants: {}", counts.join(", "));
    for t in tenants {
        let what = match t.outcome {
            TenantOutcome::Applied => format!("applied {}", t.migrations),
            TenantOutcome::Failed => {
                let at = t
                    .failed_version
                    .map(|v| format!(" at {v}"))
                    .unwrap_or_default();
                let before = if t.migrations > 0 {
                    format!(" ({} applied before it)", t.migrations)
                } else {
                    String::new()
                };
                format!(
                    "failed{at}{before}: {}",
                    t.error.as_deref().unwrap_or_default()
                )
            }
            TenantOutcome::NotRun | TenantOutcome::Invalid => format!(
                "{}: {}",
                t.outcome.describe(),
                t.error.as_deref().unwrap_or_default()
            ),
            TenantOutcome::UpToDate | TenantOutcome::Unknown => t.outcome.describe().to_owned(),
        };
        text.push_str(&format!("\n  {:<width$}  {what}", t.prefix));
    }
    ctx.ui.note(&text);
}

/// Tenants that failed while every other one ran to its end (`--continue-on-error`), or
/// names `--prefixes-from` returned that are not prefixes: their own exit code. A run that
/// stopped at a failure keeps the remote exit code.
fn tenants_failed(ctx: &Ctx, code: i32) -> anyhow::Result<()> {
    let tenants = &ctx.report.tenants;
    let failed: Vec<&str> = tenants
        .iter()
        .filter(|t| matches!(t.outcome, TenantOutcome::Failed | TenantOutcome::Invalid))
        .map(|t| t.prefix.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let keep_going = ctx
        .settings
        .ecto
        .as_ref()
        .is_some_and(|e| e.snippet.tenants.keep_going);
    let all_ended = tenants
        .iter()
        .all(|t| !matches!(t.outcome, TenantOutcome::NotRun | TenantOutcome::Unknown));
    let ran_to_the_end =
        keep_going && all_ended && tenants.iter().any(|t| t.outcome == TenantOutcome::Failed);
    if code != 0 && !ran_to_the_end {
        return Ok(());
    }
    Err(Error::TenantsFailed(format!(
        "{} of {} tenants failed or were not run ({}); every other tenant was migrated. Fix them and run again: tenants already up are skipped",
        failed.len(),
        tenants.len(),
        failed.join(", ")
    ))
    .into())
}

/// What a cancelled migration left: nothing of it when it ran in a transaction; the
/// migrations before it stay.
fn timed_out_message(ctx: &Ctx, findings: &Findings, t: &TimedOut, verb: &str) -> String {
    let session = ctx.settings.ecto.as_ref().map(|e| &e.snippet.session);
    let (what, limit) = match t.kind {
        TimeoutKind::Lock => (
            "waited longer than the lock timeout",
            session.and_then(|s| s.lock_timeout),
        ),
        TimeoutKind::Statement => (
            "ran a statement longer than the statement timeout",
            session.and_then(|s| s.statement_timeout),
        ),
    };
    let limit = limit.map(|d| format!(" ({d:?})")).unwrap_or_default();
    let name = findings
        .planned_name(t.version)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let left = if t.in_transaction {
        "PostgreSQL cancelled it and Ecto rolled its transaction back: nothing of it was committed"
    } else {
        "it runs without a transaction (@disable_ddl_transaction): statements before the cancelled one may have been committed; check the database before running it again"
    };
    let before: Vec<String> = ctx
        .report
        .migrations
        .iter()
        .map(|m| m.version.to_string())
        .collect();
    let before = if before.is_empty() {
        "none".to_owned()
    } else {
        before.join(", ")
    };
    format!(
        "migration {}{name} ({}) {what}{limit}; {left}. {verb} before it in this run: {before}",
        t.version, t.repo
    )
}

/// Put the migrations that ran into the report: the versions of the snippet's tagged
/// lines (printed after each migration, so also those before a failure), named as the
/// plan named them; without tags (a custom command), Ecto's `== Migrated` lines.
fn record(ctx: &mut Ctx, findings: &Findings, direction: Direction) {
    let module = |version: i64| findings.module(version, direction).map(str::to_owned);
    ctx.report.migrations = if findings.tagged() {
        findings
            .ran()
            .iter()
            .map(|r| Migration {
                repo: Some(r.repo.clone()),
                prefix: r.prefix.clone(),
                version: r.version,
                name: findings
                    .planned_name(r.version)
                    .map(str::to_owned)
                    .or_else(|| module(r.version)),
                direction,
                state: None,
                out_of_order_after: None,
            })
            .collect()
    } else {
        findings
            .migrated()
            .iter()
            .map(|&version| Migration {
                repo: None,
                prefix: None,
                version,
                name: module(version),
                direction,
                state: None,
                out_of_order_after: None,
            })
            .collect()
    };
    let left_out = findings.migrations_left_out();
    if left_out > 0 {
        ctx.ui.note(&format!(
            "warning: the command printed more migration lines than kmigrate keeps; {left_out} were left out of the report"
        ));
    }
}

/// One line for people on stderr.
/// `custom` says the command was the configured one, not the snippet (which plans).
fn summarize(ctx: &Ctx, code: i32, findings: &Findings, verb: &str, custom: bool) {
    if ctx.ui.json {
        return;
    }
    let n = ctx.report.migrations.len();
    let pod = ctx.report.pod.as_deref().unwrap_or("?");
    if code == 0 {
        let nothing = if custom {
            findings.nothing_to_do()
        } else {
            !findings.planned()
        };
        if n == 0 && nothing {
            let state = if verb == "applied" {
                ", migrations already up"
            } else {
                ""
            };
            ctx.ui
                .note(&format!("kmigrate: nothing to do{state} (pod {pod})"));
        } else {
            let s = if n == 1 { "" } else { "s" };
            ctx.ui
                .note(&format!("kmigrate: {n} migration{s} {verb} (pod {pod})"));
        }
    } else if ctx.report.tenants.is_empty() {
        ctx.ui.note(&format!(
            "kmigrate: the remote command failed with exit code {code}{} (pod {pod}); {n} migration(s) {verb} before that",
            killed_by(code)
        ));
    } else {
        ctx.ui.note(&format!(
            "kmigrate: the remote command failed with exit code {code}{} (pod {pod}); {n} migration(s) {verb} in the tenants above",
            killed_by(code)
        ));
    }
}

/// What an exit code above 128 says: the shell's code for a process ended by a signal.
/// On a real node 137 is the OOM killer, `kill -9`, or the pod deleted or evicted under
/// the running command; a bare number sent people looking in the migration.
fn killed_by(code: i32) -> String {
    match code {
        137 => ", killed by SIGKILL: out of memory, `kill -9`, or the pod was deleted or evicted"
            .to_owned(),
        129..=159 => format!(", killed by signal {}", code - 128),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{killed_by, session_refusal};
    use crate::ecto_output::SessionProblem;

    #[test]
    fn a_session_parameter_refused_or_dropped_is_said_with_what_to_set() {
        assert_eq!(session_refusal(&[]), None);
        let refused = session_refusal(&[SessionProblem {
            repo: None,
            parameter: "lock_timeout".to_owned(),
            unset: None,
        }])
        .unwrap();
        assert!(
            refused.starts_with(
                "the database refused the session parameter lock_timeout: PgBouncer accepts only"
            ),
            "{refused}"
        );
        assert!(refused.contains("nothing was run"), "{refused}");
        assert!(refused.contains("docs/guide/pgbouncer.md"), "{refused}");
        let dropped = session_refusal(&[SessionProblem {
            repo: Some("Shop.Repo".to_owned()),
            parameter: "statement_timeout".to_owned(),
            unset: Some(("60000".to_owned(), "0".to_owned())),
        }])
        .unwrap();
        assert!(
            dropped.starts_with("the database of Shop.Repo took statement_timeout = 60000 but 0 is in force: a pooler dropped it"),
            "{dropped}"
        );
    }

    #[test]
    fn only_codes_above_128_name_a_signal() {
        assert_eq!(killed_by(1), "");
        assert_eq!(killed_by(128), "");
        assert_eq!(killed_by(143), ", killed by signal 15");
        assert!(killed_by(137).contains("SIGKILL: out of memory"));
        assert_eq!(killed_by(160), "");
    }
}
