//! What holds a migrate to a plan: the plan read before a protected migrate, the
//! destructive-change policy, and the refusal of a run whose plan went stale.

use anyhow::Result;

use super::Ctx;
use crate::confirm;
use crate::ecto_output::Findings;
use crate::ecto_snippet::{Mode, Operation, PlanHash};
use crate::error::Error;
use crate::migration_plan::policy::{self, Decision};
use crate::migration_plan::{MigrationPlan, PlannedMigration, RepoPlan, impact};
use crate::output::Purpose;
use crate::settings::{Action, Change};
use crate::target::PodTarget;

/// A protected migrate's plan, reviewed.
pub(super) struct Reviewed {
    /// The migrations it applies, as the confirmation lists them (destructive ones say so).
    pub lines: Vec<String>,
    /// The remote command, held to this plan.
    pub argv: Vec<String>,
    /// The plan's hash, shown with the migrations.
    pub hash: String,
    /// What the migrations touch (locks, table sizes) and what they will wait behind.
    pub impact: Vec<String>,
    decision: Decision,
}

impl Reviewed {
    /// What the confirmation shows of the plan: its migrations with their findings, and
    /// its hash (what `migrate --plan` takes).
    pub(super) fn changes(&self) -> confirm::Changes {
        confirm::Changes {
            title: "pending migrations to apply",
            lines: self.lines.clone(),
            notes: self
                .impact
                .iter()
                .cloned()
                .chain([format!("plan {}", self.hash)])
                .collect(),
        }
    }
}

impl Ctx {
    /// Run the plan snippet quietly and read the plan it prints.
    pub(super) async fn read_plan(&self, t: &PodTarget) -> Result<MigrationPlan> {
        let Some(ecto) = &self.settings.ecto else {
            return Err(no_plan("no Ecto app configured".to_owned()).into());
        };
        let mut out = self.ui.streamer(Purpose::Status);
        let code = self
            .exec_quietly(t, &ecto.argv(Operation::Plan), &mut out)
            .await?;
        self.note_plan_in_live_node();
        plan_read(&out.findings, code)
    }

    /// In `rpc` the plan snippet ran inside the live app: say that it loaded nothing there.
    pub(super) fn note_plan_in_live_node(&self) {
        let rpc = self
            .settings
            .ecto
            .as_ref()
            .is_some_and(|e| e.mode == Mode::Rpc);
        if rpc && self.settings.job.is_none() {
            self.ui.note(
                "note: rpc: the plan read each migration's @disable_ddl_transaction and \
                 @disable_migration_lock from its source; nothing was loaded into the live app",
            );
        }
    }
}

/// The plan the plan snippet printed (in a pod, or in a Job), if it answered in full.
pub(super) fn plan_read(findings: &Findings, code: i32) -> Result<MigrationPlan> {
    super::answered(findings, code, "nothing was changed")?;
    if code != 0 {
        return Err(no_plan(format!("remote exit code {code}")).into());
    }
    Ok(MigrationPlan::from_lines(findings.migration_plan()).map_err(no_plan)?)
}

/// The plan a protected migrate needs could not be read.
pub(super) fn no_plan(why: String) -> Error {
    Error::Refused(format!(
        "could not read the plan first ({why}); nothing was changed"
    ))
}

/// Before a protected migrate that the person can confirm (a terminal, or `--yes`), with
/// its `plan` (read in the pod or in a Job, or the one a group's confirmation showed):
/// refuse when `--plan` named another one or when a destructive migration is not allowed
/// and cannot be allowed at the prompt, and hold the run to the plan, so that what runs is
/// what was shown (the snippet checks the hash right before it runs).
pub(super) fn review(ctx: &mut Ctx, change: &Change, plan: MigrationPlan) -> Result<Reviewed> {
    ctx.report.plan = Some(plan.clone());
    let hash = PlanHash::parse(&plan.hash).map_err(anyhow::Error::msg)?;
    if let Some(approved) = change.plan
        && approved != hash
    {
        return Err(stale_plan(&approved, &plan.hash).into());
    }
    let selected = plan.selected(change.range);
    let allow: Vec<i64> = change.allow_destructive.iter().map(|v| v.get()).collect();
    let decision = policy::decide(selected.iter().copied(), &allow);
    let allow_breaking: Vec<i64> = change.allow_breaking.iter().map(|v| v.get()).collect();
    let breaking = policy::breaking(selected.iter().copied(), &allow_breaking);
    if !breaking.is_empty() {
        let list: Vec<String> = breaking
            .iter()
            .map(|b| format!("{}: {}", b.shown, b.reasons.join("; ")))
            .collect();
        let versions: Vec<String> = breaking.iter().map(|b| b.version.to_string()).collect();
        return Err(Error::Refused(format!(
            "migrations that break the code running now: {}; nothing was run. Deploy code that no longer maps them first, \
             or, if the running code never touches them, re-run with --allow-breaking {}",
            list.join(" | "),
            versions.join(",")
        ))
        .into());
    }
    let lines = selected.iter().map(|(r, m)| shown(r, m)).collect();
    let lock_timeout = ctx
        .settings
        .ecto
        .as_ref()
        .is_some_and(|e| e.snippet.session.lock_timeout.is_some());
    let impact = touched(&selected, &plan, lock_timeout);
    if !decision.unused.is_empty() {
        let unused: Vec<String> = decision.unused.iter().map(ToString::to_string).collect();
        ctx.ui.note(&format!(
            "note: --allow-destructive {} names no destructive migration of this run",
            unused.join(",")
        ));
    }
    ctx.report.destructive_allowed.clone_from(&decision.allowed);
    let can_type = ctx.ui.can_prompt && !ctx.settings.yes;
    if !decision.unallowed.is_empty() && !can_type {
        return Err(Error::Refused(format!(
            "{}; nothing was run. Review them (`{} plan`), then re-run with --allow-destructive {}",
            blocked(&decision),
            crate::program_name::on_target(),
            decision.unallowed_versions()
        ))
        .into());
    }
    let argv = match &ctx.settings.ecto {
        Some(ecto) => ecto.argv(Operation::MigratePlanned(change.range, hash)),
        None => change.argv.clone(),
    };
    Ok(Reviewed {
        lines,
        argv,
        hash: plan.hash.clone(),
        impact,
        decision,
    })
}

/// On a terminal, after the namespace was typed: the destructive migrations not allowed
/// by `--allow-destructive` are listed, and their versions must be typed too.
pub(super) async fn allow_typed(ctx: &mut Ctx, reviewed: &Reviewed) -> Result<()> {
    let d = &reviewed.decision;
    if d.unallowed.is_empty() {
        return Ok(());
    }
    ctx.ui.note(&blocked(d));
    let versions = d.unallowed_versions();
    confirm::typed(
        &ctx.ui,
        format!("Type their versions ({versions}) to allow them and continue"),
        versions,
        "the destructive migrations were not allowed; nothing was run",
    )
    .await?;
    ctx.report
        .destructive_allowed
        .extend(d.unallowed.iter().map(|b| b.version));
    Ok(())
}

/// A migrate held to a plan refused in the pod: the plan went stale. With `--plan` that is
/// its own exit code; a plan read by kmigrate itself changed between the confirmation and
/// the run, as the status-based plans say.
pub(super) fn check_stale(ctx: &Ctx, findings: &Findings) -> Result<()> {
    let Some(now) = findings.migration_plan().stale() else {
        return Ok(());
    };
    match &ctx.settings.action {
        Action::Migrate(Change {
            plan: Some(approved),
            ..
        }) => Err(stale_plan(approved, now).into()),
        _ => Err(Error::PlanChanged(format!(
            "the pending migrations or their files changed after the plan was read (they now hash to {now}); nothing was run"
        ))
        .into()),
    }
}

fn stale_plan(approved: &PlanHash, now: &str) -> Error {
    Error::PlanStale(format!(
        "the pending migrations or their files are not those of plan {approved} (they now hash to {now}); nothing was run. Make and review a new plan with `{} plan`",
        crate::program_name::on_target()
    ))
}

/// The destructive migrations not allowed, with why.
fn blocked(d: &Decision) -> String {
    let list: Vec<String> = d
        .unallowed
        .iter()
        .map(|b| format!("{}: {}", b.shown, b.reasons.join("; ")))
        .collect();
    format!(
        "destructive migrations in a protected environment need an explicit allow: {}",
        list.join(" | ")
    )
}

/// What the selected migrations touch in the database (one line per table and lock), then
/// the sessions they will wait behind, with the advice to set a lock timeout when none is.
fn touched(
    selected: &[(&RepoPlan, &PlannedMigration)],
    plan: &MigrationPlan,
    lock_timeout: bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, m) in selected {
        for f in &m.findings {
            if let Some(i) = f.impact.as_ref().filter(|i| i.schema.is_some()) {
                let line = format!("{}: {}", m.version, impact::describe(i, f.table.as_deref()));
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out.extend(plan.running_code.unknown());
    out.extend(impact::waits_behind(plan, lock_timeout));
    out
}

/// A migration as the confirmation lists it.
pub(super) fn shown(repo: &RepoPlan, m: &PlannedMigration) -> String {
    let mut line = repo.line(m);
    let kinds = |destructive: bool| -> Vec<&str> {
        let mut kinds: Vec<&str> = m
            .findings
            .iter()
            .filter(|f| (f.destructive && !f.assured) == destructive)
            .map(|f| f.kind.describe())
            .collect();
        kinds.dedup();
        kinds
    };
    if m.destructive {
        line.push_str(&format!("  DESTRUCTIVE: {}", kinds(true).join(", ")));
    }
    let warnings = kinds(false);
    if !warnings.is_empty() {
        line.push_str(&format!("  warning: {}", warnings.join(", ")));
    }
    line
}
