//! `kmigrate status`: every migration per repo, up or down.

use anyhow::Result;

use super::{Ctx, Ran, run_reading};
use crate::ecto_output::{Direction, Findings, StatusRow, pending};
use crate::ecto_snippet::Operation;
use crate::output::Purpose;
use crate::report::Migration;

/// Run `status`: in a Job, or in a running pod. With `gate`, pending migrations trip it.
pub async fn status(ctx: &mut Ctx, gate: bool) -> Result<()> {
    let argv = ctx.ecto("status")?.argv(Operation::Status);
    let out = ctx.ui.streamer(Purpose::Status);
    match run_reading(ctx, &argv, out, |_, _| {}).await? {
        Some(ran) => finish(ctx, &ran, gate),
        None => Ok(()),
    }
}

/// What a status run said: a refusal, a failure (its code passes through), or the table.
fn finish(ctx: &mut Ctx, ran: &Ran, gate: bool) -> Result<()> {
    super::answered(&ran.out.findings, ran.code, "nothing was read")?;
    // A failed snippet (or Job) passes its exit code through.
    if ran.code != 0 {
        return Ok(());
    }
    show(ctx, &ran.out.findings, &ran.place, gate)
}

/// Put the rows in the report and print them for people; trip the gate when asked.
fn show(ctx: &mut Ctx, findings: &Findings, place: &str, gate: bool) -> Result<()> {
    let rows = findings.status().map_err(anyhow::Error::msg)?;
    let locks = findings.locks();
    let behind = out_of_order(rows);
    ctx.report.migrations = rows
        .iter()
        .zip(&behind)
        .map(|(r, &after)| Migration {
            out_of_order_after: after,
            ..Migration::from(r)
        })
        .collect();
    ctx.report.migration_locks = locks.to_vec();
    ctx.report.other_runs = findings.other_runs().into_iter().cloned().collect();
    ctx.report.invalid_indexes = findings.invalid_indexes().to_vec();
    ctx.report.skipped_repos = findings.skipped_repos().to_vec();
    ctx.report.older_ecto_sql = findings.older_ecto_sql().to_vec();
    let waiting = pending(rows).len();
    let ahead = rows.iter().filter(|r| r.not_in_image()).count();
    if !ctx.ui.json {
        let prefixed = rows.iter().any(|r| r.prefix.is_some());
        let mut table = format!("{:<12} {:<16} {:<24} ", "STATUS", "VERSION", "REPO");
        if prefixed {
            table.push_str(&format!("{:<16} ", "PREFIX"));
        }
        table.push_str("NAME\n");
        for r in rows {
            let status = match r.status {
                _ if r.not_in_image() => "not-in-image",
                Direction::Up => "up",
                Direction::Down => "down",
            };
            table.push_str(&format!("{status:<12} {:<16} {:<24} ", r.version, r.repo));
            if prefixed {
                table.push_str(&format!("{:<16} ", r.prefix.as_deref().unwrap_or("-")));
            }
            let name = if r.not_in_image() {
                "-"
            } else {
                r.name.as_str()
            };
            table.push_str(&format!("{name}\n"));
        }
        ctx.ui.data(&table);
        let mut summary = format!("{} migration(s), {waiting} pending", rows.len());
        if ahead > 0 {
            summary.push_str(&format!(
                ", {ahead} applied but not in this image (the database is ahead of it)"
            ));
        }
        ctx.ui.note(&format!("{summary} ({place})"));
        for (r, newest) in rows.iter().zip(&behind) {
            if let Some(newest) = newest {
                let prefix = r
                    .prefix
                    .as_deref()
                    .map(|p| format!(", prefix {p}"))
                    .unwrap_or_default();
                ctx.ui.note(&format!(
                    "{} ({}{prefix}) is pending but older than {newest}, already applied: a migrate runs it out of order, \
                     and a later rollback --step reverts {newest} first",
                    r.version, r.repo
                ));
            }
        }
        for l in locks {
            let prefix = l
                .prefix
                .as_deref()
                .map(|p| format!(" (prefix {p})"))
                .unwrap_or_default();
            ctx.ui.note(&format!(
                "A migration is running: Ecto's migration lock for {}{prefix} is held by database session {} ({}) since {}",
                l.repo,
                l.pid,
                if l.application.is_empty() { "no application name" } else { &l.application },
                l.since
            ));
        }
        for o in findings.other_runs() {
            ctx.ui.note(&format!(
                "Another kmigrate run is still in the database of {}: {}",
                o.repo,
                o.describe()
            ));
        }
        for i in findings.invalid_indexes() {
            ctx.ui.note(&format!("warning: {}", i.describe()));
        }
    }
    ctx.gate_tripped = gate && waiting > 0;
    Ok(())
}

/// For each row: when it is pending and older than the newest applied version of its repo
/// and prefix, that version (Ecto's `run/4` applies it out of order, without a word).
fn out_of_order(rows: &[StatusRow]) -> Vec<Option<i64>> {
    let newest = |r: &StatusRow| {
        rows.iter()
            .filter(|o| o.repo == r.repo && o.prefix == r.prefix && o.status == Direction::Up)
            .map(|o| o.version)
            .max()
    };
    rows.iter()
        .map(|r| match r.status {
            Direction::Down => newest(r).filter(|&n| n > r.version),
            Direction::Up => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::error::Outcome;
    use crate::error::code;
    use crate::remote_exec::fake::Reply;

    const STATUS: &str = "kmigrate:status\tShop.Repo\t\tup\t1\tone\n\
                          kmigrate:status\tShop.Repo\t\tdown\t2\ttwo\n";

    /// A status run in the test pod, finished as `status` finishes it.
    async fn read(h: &mut Harness, argv: &[String], gate: bool) -> Result<()> {
        let mut out = h.ctx.ui.streamer(Purpose::Status);
        let code = h.ctx.exec(&pod(), argv, &mut out).await?;
        let place = "pod web-1".to_owned();
        finish(&mut h.ctx, &Ran { code, out, place }, gate)
    }

    fn argv(h: &Harness) -> Vec<String> {
        h.ctx
            .settings
            .ecto
            .as_ref()
            .unwrap()
            .argv(Operation::Status)
    }

    #[tokio::test]
    async fn a_pending_version_older_than_the_newest_applied_is_said_to_be_out_of_order() {
        let rows = "kmigrate:status\tShop.Repo\t\tup\t1\tone\n\
                    kmigrate:status\tShop.Repo\t\tdown\t2\ttwo\n\
                    kmigrate:status\tShop.Repo\t\tup\t3\tthree\n\
                    kmigrate:status\tShop.Repo\t\tdown\t4\tfour\n\
                    kmigrate:status\tShop.Repo\tt1\tdown\t2\ttwo\n";
        let mut h = Harness::new(&["status"], vec![Reply::answer(rows, 0)], false);
        let a = argv(&h);
        read(&mut h, &a, false).await.unwrap();
        let after: Vec<Option<i64>> = h
            .ctx
            .report
            .migrations
            .iter()
            .map(|m| m.out_of_order_after)
            .collect();
        assert_eq!(
            after,
            [None, Some(3), None, None, None],
            "only 2 of the repo without prefix"
        );
        assert!(
            h.stderr().contains("2 (Shop.Repo) is pending but older than 3, already applied: a migrate runs it out of order"),
            "{}",
            h.stderr()
        );
        assert_eq!(
            h.stderr().matches("out of order").count(),
            1,
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn status_prints_a_table_and_the_gate_trips_on_pending() {
        for (gate, expected, outcome) in [
            (false, 0, Outcome::Success),
            (true, code::PENDING, Outcome::Pending),
        ] {
            let mut h = Harness::new(&["status"], vec![Reply::answer(STATUS, 0)], false);
            let a = argv(&h);
            let r = read(&mut h, &a, gate).await;
            let end = h.conclude(&r);
            assert_eq!((end.exit_code, end.outcome), (expected, outcome));
            assert!(
                h.stdout()
                    .contains("up           1                Shop.Repo                one\n"),
                "{}",
                h.stdout()
            );
            assert!(!h.stdout().contains("kmigrate:status"));
            assert!(h.stderr().contains("2 migration(s), 1 pending (pod web-1)"));
            assert_eq!(h.ctx.report.migrations.len(), 2);
        }
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_unknown_never_zero_pending() {
        // Exit 0, and no row or only some: without the snippet's last line the status was
        // not read, whatever the rows say; the gate does not pass.
        for text in ["", STATUS] {
            let mut h = Harness::new(&["status"], vec![Reply::exit(text, 0)], false);
            let a = argv(&h);
            let r = read(&mut h, &a, true).await;
            let end = h.conclude(&r);
            assert_eq!(
                (end.exit_code, end.outcome),
                (code::UNKNOWN, Outcome::Unknown)
            );
            assert!(!h.stderr().contains("0 pending"), "{}", h.stderr());
            let msg = r.unwrap_err().to_string();
            assert!(
                msg.contains("stopped before the snippet's last line"),
                "{msg}"
            );
        }
    }

    /// A status whose pod goes silent (a VM hung at boot, a connection dropped without a
    /// reset) ends at the idle limit with a clear error and exit 75, instead of hanging.
    #[tokio::test(start_paused = true)]
    async fn a_silent_status_ends_at_the_idle_limit_instead_of_hanging() {
        let mut h = Harness::new(&["status"], vec![Reply::silent("")], false);
        let a = argv(&h);
        let started = tokio::time::Instant::now();
        let r = tokio::time::timeout(std::time::Duration::from_secs(3600), read(&mut h, &a, true))
            .await
            .expect("a silent status must not hang");
        assert_eq!(started.elapsed(), crate::output::IDLE_LIMIT);
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::UNKNOWN, Outcome::Unknown)
        );
        let msg = format!("{:#}", r.unwrap_err());
        assert!(msg.contains("nothing from the pod for 120 s"), "{msg}");
        assert!(msg.contains("nothing was changed"), "{msg}");
    }

    #[tokio::test]
    async fn a_failing_status_passes_its_code_and_never_trips_the_gate() {
        let mut h = Harness::new(
            &["status", "-o", "json"],
            vec![Reply::answer("boom\n", 3)],
            false,
        );
        let a = argv(&h);
        let r = read(&mut h, &a, true).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (3, Outcome::Failed));
        assert!(h.stdout().is_empty(), "json output has no table");
    }

    #[tokio::test]
    async fn versions_ahead_of_the_image_and_a_running_migration_are_their_own_state() {
        let out = "kmigrate:status\tShop.Repo\t\tup\t1\tone\n\
                   kmigrate:status\tShop.Repo\t\tup\t9\t** FILE NOT FOUND **\n\
                   kmigrate:locked\tShop.Repo\t\t4242\tshop-migrate\t2026-11-27 21:00:00\n";
        let mut h = Harness::new(&["status"], vec![Reply::answer(out, 0)], false);
        let a = argv(&h);
        let r = read(&mut h, &a, true).await;
        assert_eq!(h.conclude(&r).exit_code, 0, "nothing pending");
        assert!(h.stdout().contains("not-in-image 9"), "{}", h.stdout());
        assert!(
            h.stderr().contains("1 applied but not in this image"),
            "{}",
            h.stderr()
        );
        assert!(
            h.stderr().contains("A migration is running: Ecto's migration lock for Shop.Repo is held by database session 4242 (shop-migrate)"),
            "{}",
            h.stderr()
        );
        let states: Vec<_> = h
            .ctx
            .report
            .migrations
            .iter()
            .map(|m| m.state.clone().unwrap())
            .collect();
        assert_eq!(states, ["up", "applied-not-in-image"]);
        assert_eq!(h.ctx.report.migration_locks.len(), 1);
    }
}
