//! `kmigrate rollback`: revert migrations, showing first exactly which ones.

use anyhow::Result;

use super::outcome::settle;
use super::{Confirmation, Ctx, find_and_lock, job_run};
use crate::ecto_output::{Direction, StatusRow, by_repo};
use crate::ecto_snippet::Range;
use crate::output::Purpose;
use crate::settings::Change;
use crate::target::PodTarget;

/// Run `rollback`: in a Job, or in a running pod.
pub async fn rollback(ctx: &mut Ctx, change: &Change) -> Result<()> {
    if ctx.settings.job.is_some() {
        let out = ctx.ui.streamer(Purpose::Migrations { total: None });
        return match job_run::run_in_job(ctx, &change.argv, out).await? {
            Some((code, out)) => settle(ctx, code, &out.findings, Direction::Down, change.custom),
            None => Ok(()),
        };
    }
    let t = find_and_lock(ctx).await?;
    revert(ctx, &t, change).await
}

/// Preview what is reverted, confirm when protected, run, record, summarise.
async fn revert(ctx: &mut Ctx, t: &PodTarget, change: &Change) -> Result<()> {
    // The preview costs one read-only exec; during an incident, seeing what will be
    // reverted is worth it.
    let preview = if change.custom {
        None
    } else {
        Some(to_revert(&ctx.read_status(t).await?, change.range))
    };
    let lines: Option<Vec<String>> = preview.as_deref().map(lines_of);
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        let changes = lines.clone().map(|l| ("migrations to revert", l));
        // Several environments were confirmed together, before any of them ran.
        if ctx.confirmation == Confirmation::Ask {
            ctx.confirm_in_pod(t, &change.argv, &reason, changes)
                .await?;
        }
        let confirmed = match &ctx.confirmation {
            Confirmation::Confirmed(shown) => shown.clone(),
            Confirmation::Ask => lines
                .clone()
                .filter(|_| ctx.ui.can_prompt && !ctx.settings.yes),
        };
        if let Some(planned) = confirmed.as_ref() {
            ctx.recheck(t, planned, "revert", |rows| {
                lines_of(&to_revert(rows, change.range))
            })
            .await?;
        }
    } else if let Some(lines) = lines.as_ref().filter(|_| !ctx.ui.json) {
        let mut text = format!("Reverting {} migration(s) in pod {}:", lines.len(), t.pod);
        for l in lines {
            text.push_str(&format!("\n  {l}"));
        }
        ctx.ui.note(&text);
    }
    let total = preview.as_ref().map(|p| p.len() as u64);
    let mut out = ctx.ui.streamer(Purpose::Migrations { total });
    if !change.custom {
        // The snippet beats every 20 s while migrations run: a silence much longer than
        // that is a connection gone half-open, not a slow migration.
        out.expect_heartbeats();
        out.announce_locks();
        if ctx.settings.wait {
            out.announce_other_runs();
        }
    }
    let code = ctx.exec(t, &change.argv, &mut out).await?;
    settle(ctx, code, &out.findings, Direction::Down, change.custom)
}

pub(super) fn lines_of(rows: &[StatusRow]) -> Vec<String> {
    rows.iter().map(StatusRow::plan_line).collect()
}

/// Which applied migrations a rollback reverts, newest first, per repo (and prefix), as
/// Ecto's `pending_step`/`pending_to` pick them going down: applied versions that have a
/// file (one this image lacks cannot be reverted), `step: N` the last N, `to: V` every
/// one >= V.
pub fn to_revert(rows: &[StatusRow], range: Range) -> Vec<StatusRow> {
    let mut out = Vec::new();
    for group in by_repo(rows) {
        let mut applied: Vec<&StatusRow> = group
            .into_iter()
            .filter(|r| r.status == Direction::Up && !r.not_in_image())
            .collect();
        applied.sort_by_key(|r| std::cmp::Reverse(r.version));
        let chosen: Vec<&StatusRow> = match range {
            Range::Step(n) => applied.into_iter().take(n.get() as usize).collect(),
            Range::To(v) => applied
                .into_iter()
                .filter(|r| r.version >= v.get())
                .collect(),
            Range::All => applied,
        };
        out.extend(chosen.into_iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::ecto_snippet::{Step, Version};
    use crate::error::code;
    use crate::remote_exec::fake::Reply;

    fn row(repo: &str, status: Direction, version: i64) -> StatusRow {
        StatusRow {
            repo: repo.into(),
            prefix: None,
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
            v(to_revert(&rows, Range::Step(Step::parse("2").unwrap()))),
            [3, 2, 7]
        );
        assert_eq!(v(to_revert(&rows, Range::To(Version::from(2)))), [3, 2, 7]);
        assert_eq!(
            v(to_revert(&rows, Range::To(Version::from(8)))),
            Vec::<i64>::new()
        );
    }

    const STATUS: &str = "kmigrate:status\tShop.Repo\t\tup\t1\tone\n\
                          kmigrate:status\tShop.Repo\t\tup\t2\ttwo\n";
    const REVERTED_2: &str = "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 backward\n\
                              12:00:00.100 [info] == Migrated 2 in 0.1s\n\
                              kmigrate:plan\tShop.Repo\t\t2\ttwo\n\
                              kmigrate:ran\tShop.Repo\t\t2\n";

    #[tokio::test]
    async fn rollback_previews_then_reverts_and_reports_down() {
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::exit(STATUS, 0), Reply::exit(REVERTED_2, 0)],
            false,
        );
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert!(
            h.stderr()
                .contains("Reverting 1 migration(s) in pod web-1:\n  2 two (Shop.Repo)"),
            "{}",
            h.stderr()
        );
        let m = &h.ctx.report.migrations;
        assert_eq!(
            (m.len(), m[0].version, m[0].direction),
            (1, 2, Direction::Down)
        );
        assert!(
            h.stderr().contains("1 migration reverted"),
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn protected_rollback_shows_the_plan_and_refuses_a_wrong_name() {
        let mut h = Harness::new(
            &["rollback", "--to", "1"],
            vec![Reply::exit(STATUS, 0)],
            true,
        );
        h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
        h.answer(&["nope"]);
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::REFUSED);
        assert!(
            h.stderr()
                .contains("migrations to revert:\n    2 two (Shop.Repo)\n    1 one (Shop.Repo)"),
            "{}",
            h.stderr()
        );
        assert_eq!(h.calls().len(), 1);
    }

    #[tokio::test]
    async fn protected_rollback_checks_the_plan_again_after_the_prompt() {
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![
                Reply::exit(STATUS, 0),
                Reply::exit(STATUS, 0),
                Reply::exit(REVERTED_2, 0),
            ],
            true,
        );
        h.ctx.protection = Some("context matches".into());
        h.answer(&["shop-prod"]);
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert_eq!(h.calls().len(), 3);
        let newer = "kmigrate:status\tShop.Repo\t\tup\t1\tone\n\
                     kmigrate:status\tShop.Repo\t\tup\t2\ttwo\n\
                     kmigrate:status\tShop.Repo\t\tup\t3\tthree\n";
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::exit(STATUS, 0), Reply::exit(newer, 0)],
            true,
        );
        h.ctx.protection = Some("context matches".into());
        h.answer(&["shop-prod"]);
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::PLAN_CHANGED);
        assert_eq!(h.calls().len(), 2, "the rollback itself never ran");
    }

    #[tokio::test]
    async fn a_failed_preview_changes_nothing() {
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::exit("", 1)],
            false,
        );
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::REFUSED);
        assert_eq!(h.calls().len(), 1);
    }
}
