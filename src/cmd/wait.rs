//! `kmigrate wait`: until the database holds every migration of the image, or the deadline.
//! The polling happens inside one remote run of the wait snippet; its rounds are told live.

use std::time::Duration;

use anyhow::Result;

use super::{Ctx, run_reading};
use crate::ecto_output::{Findings, StatusRow, WaitState, by_repo, pending};
use crate::ecto_snippet::Operation;
use crate::error::{Error, code};
use crate::job::human;
use crate::output::Purpose;
use crate::output::Streamer;
use crate::report::Migration;
use crate::ui::Ui;

/// Run `wait`: in a Job with `--image`, or in a running pod.
pub async fn wait(ctx: &mut Ctx, deadline: Duration) -> Result<()> {
    let argv = ctx.ecto("wait")?.argv(Operation::Wait(deadline));
    let out = streamer(&ctx.ui);
    let announce = |ctx: &Ctx, place: &str| {
        ctx.ui.note(&format!(
            "Waiting up to {} for the database to hold every migration of {place}'s image.",
            human(deadline)
        ));
    };
    let Some(ran) = run_reading(ctx, &argv, out, announce).await? else {
        return Ok(());
    };
    super::answered(&ran.out.findings, ran.code, "nothing was read")?;
    settle(ctx, ran.code, &ran.out.findings, &ran.place)
}

/// The streamer for the wait snippet's output: each round while waiting is told.
pub fn streamer(ui: &Ui) -> Streamer {
    ui.streamer(Purpose::Wait).narrate(narrate)
}

/// After a round that ends in `waiting`: what is still missing.
fn narrate(findings: &Findings) -> Option<String> {
    let round = findings.last_wait_round()?;
    if round.state != WaitState::Waiting {
        return None;
    }
    let missing = pending(&round.rows);
    Some(format!(
        "Still missing after {}s: {} migration(s)\n{}",
        round.waited_s,
        missing.len(),
        listing(&missing)
    ))
}

/// One line per repo (and prefix): `  Repo: version name, ...`.
fn listing(rows: &[&StatusRow]) -> String {
    by_repo(rows.iter().copied())
        .iter()
        .map(|group| {
            let head = &group[0];
            let prefix = head
                .prefix
                .as_deref()
                .map(|p| format!(" (prefix {p})"))
                .unwrap_or_default();
            let names: Vec<String> = group
                .iter()
                .map(|r| {
                    if r.not_in_image() {
                        r.version.to_string()
                    } else {
                        format!("{} {}", r.version, r.name)
                    }
                })
                .collect();
            format!("  {}{prefix}: {}\n", head.repo, names.join(", "))
        })
        .collect()
}

/// How the wait ended: 0 is ready (saying when the database is ahead of the image), the
/// pending code is the deadline (an error listing what is missing); any other remote exit
/// code passes through. The last round goes into the report.
fn settle(ctx: &mut Ctx, code: i32, findings: &Findings, place: &str) -> Result<()> {
    let (waited, rows): (Option<u64>, Vec<&StatusRow>) = findings
        .last_wait_round()
        .map(|r| (Some(r.waited_s), r.rows.iter().collect()))
        .unwrap_or_default();
    ctx.report.migrations = rows.iter().copied().map(Migration::from).collect();
    let ahead: Vec<&StatusRow> = rows.iter().copied().filter(|r| r.not_in_image()).collect();
    let ahead_note = (!ahead.is_empty()).then(|| {
        format!(
            "The database is ahead of this image: {} applied migration(s) have no file in it, which does not block the gate:\n{}",
            ahead.len(),
            listing(&ahead)
        )
    });
    let after = waited.map(|w| format!(" after {w}s")).unwrap_or_default();
    if code == 0 {
        ctx.ui.note(&format!(
            "Schema ready{after}: the database holds every migration of {place}'s image."
        ));
        if let Some(n) = ahead_note {
            ctx.ui.note(n.trim_end());
        }
        return Ok(());
    }
    if code != i32::from(code::PENDING) {
        return Ok(());
    }
    if let Some(n) = ahead_note {
        ctx.ui.note(n.trim_end());
    }
    let missing = pending(rows);
    let list = if missing.is_empty() {
        " (the list of missing migrations was not received)".to_owned()
    } else {
        format!(":\n{}", listing(&missing).trim_end())
    };
    Err(Error::Pending(format!(
        "the deadline passed{after}: the database still lacks {} migration(s) of {place}'s image{list}\nRun `{} migrate` (with --image for a new release) and wait again.",
        missing.len(),
        crate::program_name::on_target()
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::error::Outcome;
    use crate::remote_exec::fake::Reply;

    const WAITING: &str = "kmigrate:status\tShop.Repo\t\tdown\t2\ttwo\n\
                           kmigrate:status\tShop.Repo\t\tdown\t3\tthree\n\
                           kmigrate:status\tShop.Repo\t\tup\t9\t** FILE NOT FOUND **\n\
                           kmigrate:wait\twaiting\t0\n";

    async fn run(args: &[&str], reply: Reply) -> (Harness, crate::error::Conclusion) {
        let mut h = Harness::new(args, vec![reply], false);
        let argv = h
            .ctx
            .settings
            .ecto
            .as_ref()
            .unwrap()
            .argv(Operation::Wait(Duration::from_secs(3)));
        let mut out = streamer(&h.ctx.ui);
        let code = h.ctx.exec(&pod(), &argv, &mut out).await.unwrap();
        let r = settle(&mut h.ctx, code, &out.findings, "pod web-1");
        let end = h.conclude(&r);
        (h, end)
    }

    #[tokio::test]
    async fn the_deadline_lists_what_is_missing_with_the_pending_code() {
        let out = format!(
            "{WAITING}kmigrate:status\tShop.Repo\t\tdown\t3\tthree\nkmigrate:wait\tdeadline\t3\n"
        );
        let (h, end) = run(&["wait", "-o", "json"], Reply::answer(&out, 10)).await;
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::PENDING, Outcome::Pending)
        );
        let err = h.stderr();
        assert!(
            err.contains("Still missing after 0s: 2 migration(s)\n  Shop.Repo: 2 two, 3 three\n"),
            "{err}"
        );
        let states: Vec<(i64, String)> = h
            .ctx
            .report
            .migrations
            .iter()
            .map(|m| (m.version, m.state.clone().unwrap()))
            .collect();
        assert_eq!(states, [(3, "down".to_owned())], "the last round only");
        assert!(h.stdout().is_empty());
    }

    #[tokio::test]
    async fn ready_says_when_the_database_is_ahead() {
        let out = format!(
            "{WAITING}kmigrate:status\tShop.Repo\t\tup\t9\t** FILE NOT FOUND **\nkmigrate:wait\tready\t4\n"
        );
        let (h, end) = run(&["wait"], Reply::answer(&out, 0)).await;
        assert_eq!((end.exit_code, end.outcome), (0, Outcome::Success));
        let err = h.stderr();
        assert!(err.contains("Schema ready after 4s"), "{err}");
        assert!(
            err.contains("ahead of this image: 1 applied migration(s) have no file in it, which does not block the gate:\n  Shop.Repo: 9"),
            "{err}"
        );
        assert_eq!(
            h.ctx.report.migrations[0].state.as_deref(),
            Some("applied-not-in-image")
        );
    }

    #[tokio::test]
    async fn other_failures_pass_through() {
        let (h, end) = run(
            &["wait"],
            Reply::answer("** (DBConnection.ConnectionError)\n", 1),
        )
        .await;
        assert_eq!((end.exit_code, end.outcome), (1, Outcome::Failed));
        assert!(!h.stderr().contains("Schema ready"));
    }
}
