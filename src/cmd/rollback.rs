//! `kmigrate rollback`: revert migrations, showing first exactly which ones.

use anyhow::Result;

use super::migrate::{record, summarize};
use super::{Ctx, Plan, confirm, facts, find_target, pass_through, read_status, take_lock};
use crate::cli::RollbackArgs;
use crate::ecto_output::{Direction, StatusRow};
use crate::ecto_snippet::{Action, Target};
use crate::error::usage;
use crate::output::Streamer;

/// Run `rollback`.
pub async fn run(args: &RollbackArgs, ctx: &mut Ctx) -> Result<u8> {
    let target = Target::from_flags(args.to.as_deref(), args.step.as_deref())
        .map_err(usage)?
        .ok_or_else(|| usage("rollback needs --step N or --to VERSION"))?;
    let argv = match (&ctx.settings.rollback_command, &ctx.settings.ecto) {
        (Some(custom), _) => fill(custom, target),
        (None, Some(ecto)) => ecto
            .snippet
            .argv(&ecto.release, ecto.mode, Action::Rollback(target)),
        (None, None) => return Err(usage("no rollback command configured")),
    };
    if ctx.settings.job.is_some() {
        let (code, _) = super::job_run::run(ctx, argv, super::job_run::Kind::Rollback).await?;
        return Ok(pass_through(code));
    }
    let t = find_target(ctx).await?;
    take_lock(ctx, &t.conn, &t.namespace).await?;
    // The preview costs one read-only exec; during an incident, seeing what will be
    // reverted is worth it.
    let preview = if ctx.settings.ecto.is_some() {
        let rows = read_status(ctx, &t).await?;
        Some(to_revert(&rows, target))
    } else {
        None
    };
    let lines: Option<Vec<String>> = preview.as_ref().map(|rows| {
        rows.iter()
            .map(|r| format!("{} {} ({})", r.version, r.name, r.repo))
            .collect()
    });
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        let changes = lines.clone().map(|l| ("migrations to revert", l));
        confirm(
            ctx,
            Plan {
                namespace: &t.namespace,
                facts: facts(&t),
                argv: &argv,
                reason: &reason,
                changes,
            },
        )?;
    } else if let Some(lines) = lines.as_ref().filter(|_| !ctx.ui.json) {
        let mut text = format!("Reverting {} migration(s) in pod {}:", lines.len(), t.pod);
        for l in lines {
            text.push_str(&format!("\n  {l}"));
        }
        ctx.ui.note(&text);
    }
    let bar = ctx
        .ui
        .migration_bar(preview.as_ref().map(|p| p.len() as u64));
    let mut out = Streamer::new(bar, ctx.ui.json, true).hide_tags();
    let code = super::run_remote(ctx, &t, &argv, &mut out).await?;
    record(ctx, &out.events, Direction::Down);
    summarize(ctx, code, &out.events, "reverted");
    Ok(pass_through(code))
}

/// Which applied migrations a rollback reverts, newest first, per repo, as Ecto does:
/// `step: N` the last N applied, `to: V` every applied version >= V.
pub fn to_revert(rows: &[StatusRow], target: Target) -> Vec<StatusRow> {
    let mut repos: Vec<&str> = rows.iter().map(|r| r.repo.as_str()).collect();
    repos.dedup();
    let mut out = Vec::new();
    for repo in repos {
        let mut applied: Vec<&StatusRow> = rows
            .iter()
            .filter(|r| r.repo == repo && r.status == Direction::Up)
            .collect();
        applied.sort_by_key(|r| std::cmp::Reverse(r.version));
        let chosen: Vec<&StatusRow> = match target {
            Target::Step(n) => applied.into_iter().take(n.get() as usize).collect(),
            Target::To(v) => applied
                .into_iter()
                .filter(|r| r.version >= v.get())
                .collect(),
            Target::All => applied,
        };
        out.extend(chosen.into_iter().cloned());
    }
    out
}

/// Fill `{step}` and `{to}` in a custom rollback command with validated values.
fn fill(argv: &[String], target: Target) -> Vec<String> {
    let (step, to) = match target {
        Target::Step(n) => (n.get().to_string(), String::new()),
        Target::To(v) => (String::new(), v.to_string()),
        Target::All => (String::new(), String::new()),
    };
    argv.iter()
        .map(|a| a.replace("{step}", &step).replace("{to}", &to))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::{Step, Version};

    fn row(repo: &str, status: Direction, version: i64) -> StatusRow {
        StatusRow {
            repo: repo.into(),
            status,
            version,
            name: format!("m{version}"),
        }
    }

    #[test]
    fn step_and_to_follow_ecto() {
        let rows = vec![
            row("A", Direction::Up, 1),
            row("A", Direction::Up, 2),
            row("A", Direction::Up, 3),
            row("A", Direction::Down, 4),
            row("B", Direction::Up, 7),
        ];
        let v = |rs: Vec<StatusRow>| rs.iter().map(|r| r.version).collect::<Vec<_>>();
        assert_eq!(
            v(to_revert(&rows, Target::Step(Step::parse("2").unwrap()))),
            [3, 2, 7]
        );
        assert_eq!(v(to_revert(&rows, Target::To(Version::from(2)))), [3, 2, 7]);
        assert_eq!(
            v(to_revert(&rows, Target::To(Version::from(8)))),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn custom_command_placeholders() {
        let argv = vec!["/app/bin/rollback".to_owned(), "--step={step}".to_owned()];
        assert_eq!(
            fill(&argv, Target::Step(Step::parse("3").unwrap())),
            ["/app/bin/rollback", "--step=3"]
        );
    }
}
