//! `kmigrate rollback`: revert migrations, showing first exactly which ones.

use anyhow::Result;

use super::outcome::{change_in_job, settle};
use super::{Confirmation, Ctx, Shown, find_and_lock};
use crate::confirm::Changes;
use crate::ecto_output::{Direction, StatusRow, by_repo};
use crate::ecto_snippet::{Operation, Range, Version};
use crate::error::Error;
use crate::output::Purpose;
use crate::settings::Change;
use crate::target::PodTarget;

/// Run `rollback`: in a Job, or in a running pod.
pub async fn rollback(ctx: &mut Ctx, change: &Change) -> Result<()> {
    if ctx.settings.job.is_some() {
        return change_in_job(ctx, change, Direction::Down).await;
    }
    let t = find_and_lock(ctx).await?;
    revert(ctx, &t, change).await
}

/// Preview what is reverted, confirm when protected, run, record, summarise.
async fn revert(ctx: &mut Ctx, t: &PodTarget, change: &Change) -> Result<()> {
    // The preview costs one read-only exec; during an incident, seeing what will be
    // reverted is worth it.
    let mut skipped = None;
    let preview = if change.custom {
        None
    } else {
        let rows = ctx.read_status(t).await?;
        unknown_to(&rows, change.range)?;
        let chosen = to_revert(&rows, change.range);
        skipped = passed_over(&rows, &chosen, change.range);
        Some(chosen)
    };
    let lines: Option<Vec<String>> = preview.as_deref().map(lines_of);
    // What runs is what the preview showed: the snippet reverts exactly those versions, or
    // nothing when one of them is no longer applied (checked in the same run, right
    // before it reverts), with or without a prompt.
    let argv = match (&preview, &ctx.settings.ecto) {
        (Some(rows), Some(ecto)) => {
            let versions = rows.iter().map(|r| Version::from(r.version)).collect();
            ecto.argv(Operation::RollbackExactly(versions))
        }
        _ => change.argv.clone(),
    };
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        match &ctx.confirmation {
            Confirmation::Ask => {
                let changes = lines.clone().map(|l| Changes {
                    notes: skipped.iter().cloned().collect(),
                    ..Changes::new("migrations to revert", l)
                });
                ctx.confirm_in_pod(t, &argv, &reason, changes).await?;
            }
            // Several environments were confirmed together, before any of them ran: the
            // preview read now must still be the one shown then.
            Confirmation::Confirmed(Shown {
                lines: Some(shown), ..
            }) if Some(shown) != lines.as_ref() => {
                return Err(changed_since_shown(
                    shown,
                    lines.as_deref().unwrap_or_default(),
                ));
            }
            Confirmation::Confirmed(_) => {}
        }
    } else if let Some(lines) = lines.as_ref().filter(|_| !ctx.ui.json) {
        let mut text = format!("Reverting {} migration(s) in pod {}:", lines.len(), t.pod);
        for l in lines {
            text.push_str(&format!("\n  {l}"));
        }
        if let Some(s) = &skipped {
            text.push_str(&format!("\n{s}"));
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
    ctx.note_unnamed_sessions(change.custom);
    let code = ctx.exec(t, &argv, &mut out).await?;
    settle(ctx, code, &out.findings, Direction::Down, change.custom)
}

/// `--to` names a version that none of the repos has, as the snippet refuses it for a
/// migrate (Ecto's `to:` need not exist; a typo must not revert everything above it).
fn unknown_to(rows: &[StatusRow], range: Range) -> Result<()> {
    let Some(v) = range.target() else {
        return Ok(());
    };
    if rows.iter().any(|r| r.version == v.get()) {
        return Ok(());
    }
    let mut repos: Vec<&str> = rows.iter().map(|r| r.repo.as_str()).collect();
    repos.dedup();
    Err(crate::error::usage(format!(
        "version {v} is not a migration of {}; nothing was run",
        repos.join(", ")
    )))
}

/// The migrations to revert are not those a group's confirmation showed.
fn changed_since_shown(shown: &[String], now: &[String]) -> anyhow::Error {
    let list = |l: &[String]| {
        if l.is_empty() {
            "none".to_owned()
        } else {
            l.join(", ")
        }
    };
    Error::PlanChanged(format!(
        "the migrations to revert changed after they were shown (confirmed: {}; now: {}); nothing was run",
        list(shown),
        list(now)
    ))
    .into()
}

/// Applied versions this image has no file for, which the rollback passes over although
/// they are newer than what it reverts (or, for `--step`, newer than all it could): said
/// next to the prompt, since `--step 1` then reverts an older migration than the newest.
fn passed_over(rows: &[StatusRow], chosen: &[StatusRow], range: Range) -> Option<String> {
    let mut over = Vec::new();
    for group in by_repo(rows) {
        let oldest = chosen
            .iter()
            .filter(|c| c.repo == group[0].repo && c.prefix == group[0].prefix)
            .map(|c| c.version)
            .min();
        over.extend(group.into_iter().filter(|r| {
            r.not_in_image()
                && match oldest {
                    Some(v) => r.version > v,
                    None => matches!(range, Range::Step(_)),
                }
        }));
    }
    if over.is_empty() {
        return None;
    }
    let versions: Vec<String> = over
        .iter()
        .map(|r| format!("{} ({})", r.version, r.repo))
        .collect();
    Some(format!(
        "skipped: {} applied but not in this image, so it cannot be reverted from it and stays applied; \
         to revert it, run the rollback from the image that has it (--image in Job mode)",
        versions.join(", ")
    ))
}

pub(super) fn lines_of(rows: &[StatusRow]) -> Vec<String> {
    rows.iter().map(StatusRow::plan_line).collect()
}

/// Which applied migrations a rollback reverts, newest first, per repo (and prefix), as
/// Ecto's `pending_step`/`pending_to` pick them going down: applied versions that have a
/// file (one this image lacks cannot be reverted), `step: N` the last N, `to: V` every
/// one >= V, `to_exclusive: V` every one > V.
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
            Range::ToExclusive(v) => applied
                .into_iter()
                .filter(|r| r.version > v.get())
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
            v(to_revert(&rows, Range::ToExclusive(Version::from(2)))),
            [3, 7],
            "to_exclusive keeps the version it names"
        );
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
            vec![Reply::answer(STATUS, 0), Reply::answer(REVERTED_2, 0)],
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

    /// The newest applied version is not in the image: `--step 1` reverts an older one,
    /// and says, next to the prompt, which was skipped and why.
    #[tokio::test]
    async fn a_rollback_that_skips_the_newest_applied_version_says_so() {
        let status = format!(
            "{STATUS}kmigrate:status\tShop.Repo\t\tup\t3\t{}\n",
            crate::ecto_snippet::FILE_NOT_FOUND
        );
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::answer(&status, 0), Reply::answer(REVERTED_2, 0)],
            true,
        );
        h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
        h.answer(&["shop-prod"]);
        let c = h.change();
        revert(&mut h.ctx, &pod(), &c).await.unwrap();
        assert!(
            h.stderr().contains(
                "migrations to revert:\n    2 two (Shop.Repo)\n  skipped: 3 (Shop.Repo) applied but not in this image"
            ),
            "{}",
            h.stderr()
        );
        let rows = vec![row("A", Direction::Up, 1), row("A", Direction::Up, 2)];
        let none = to_revert(&rows, Range::Step(Step::parse("1").unwrap()));
        assert_eq!(
            passed_over(&rows, &none, Range::All),
            None,
            "nothing skipped"
        );
    }

    #[tokio::test]
    async fn protected_rollback_shows_the_plan_and_refuses_a_wrong_name() {
        let mut h = Harness::new(
            &["rollback", "--to", "1"],
            vec![Reply::answer(STATUS, 0)],
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
    async fn the_rollback_runs_exactly_what_was_shown_or_nothing() {
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::answer(STATUS, 0), Reply::answer(REVERTED_2, 0)],
            true,
        );
        h.ctx.protection = Some("context matches".into());
        h.answer(&["shop-prod"]);
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        // The preview, then the run told the version shown (no second read in between:
        // the snippet checks it in the same run, right before it reverts).
        let calls = h.calls();
        assert_eq!(calls.len(), 2);
        assert!(
            calls[1]
                .last()
                .unwrap()
                .contains("range = {:exactly, [2]}\n"),
            "{:?}",
            calls[1]
        );
        // Without a prompt (--yes, or unprotected) too.
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::answer(STATUS, 0), Reply::answer(REVERTED_2, 0)],
            false,
        );
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert!(
            h.calls()[1]
                .last()
                .unwrap()
                .contains("range = {:exactly, [2]}\n")
        );
        // Reverted by someone else meanwhile: the snippet runs nothing and says which of
        // them are still applied (none).
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![
                Reply::answer(STATUS, 0),
                Reply::answer("kmigrate:changed\t\n", 1),
            ],
            true,
        );
        h.ctx.protection = Some("context matches".into());
        h.answer(&["shop-prod"]);
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::PLAN_CHANGED);
        let err = format!("{:#}", r.unwrap_err());
        assert!(
            err.contains("still applied: none; nothing was run"),
            "{err}"
        );
        assert!(h.ctx.report.migrations.is_empty());
    }

    #[tokio::test]
    async fn an_unknown_to_is_refused_after_the_preview_and_nothing_runs() {
        let mut h = Harness::new(
            &["rollback", "--to", "9"],
            vec![Reply::answer(STATUS, 0)],
            false,
        );
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::USAGE);
        let err = format!("{:#}", r.unwrap_err());
        assert!(
            err.contains("version 9 is not a migration of Shop.Repo"),
            "{err}"
        );
        assert_eq!(h.calls().len(), 1, "only the preview ran");
    }

    #[tokio::test]
    async fn a_failed_preview_changes_nothing() {
        let mut h = Harness::new(
            &["rollback", "--step", "1"],
            vec![Reply::answer("", 1)],
            false,
        );
        let c = h.change();
        let r = revert(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::REFUSED);
        assert_eq!(h.calls().len(), 1);
    }
}
