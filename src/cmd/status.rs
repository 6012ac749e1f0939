//! `kmigrate status`: every migration per repo, up or down.

use std::io::Write;

use anyhow::Result;

use super::job_run::{self, Kind};
use super::{Ctx, find_target, pass_through, run_remote, status_rows};
use crate::cli::StatusArgs;
use crate::ecto_output::{Direction, StatusRow, pending};
use crate::ecto_snippet::Action;
use crate::error::{code, usage};
use crate::output::Streamer;
use crate::report::Migration;

/// Run `status`.
pub async fn run(args: &StatusArgs, ctx: &mut Ctx) -> Result<u8> {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return Err(usage(
            "status needs the app name (--app, --release or kmigrate.toml)",
        ));
    };
    let argv = ecto.snippet.argv(&ecto.release, ecto.mode, Action::Status);
    let (remote, events, place) = if ctx.settings.job.is_some() {
        let (code, events) = job_run::run(ctx, argv, Kind::Status).await?;
        let place = ctx
            .report
            .job
            .clone()
            .map(|j| format!("Job {j}"))
            .unwrap_or_default();
        (code, events, place)
    } else {
        let t = find_target(ctx).await?;
        let spinner = ctx.ui.spinner("reading migration status");
        let mut out = Streamer::new(spinner, true, true).hide_tags();
        let code = run_remote(ctx, &t, &argv, &mut out).await?;
        (code, out.events, format!("pod {}", t.pod))
    };
    if remote != 0 {
        return Ok(pass_through(remote));
    }
    if ctx.settings.job.as_ref().is_some_and(|j| j.dry_run) {
        return Ok(code::SUCCESS);
    }
    let rows = status_rows(&events);
    let waiting = show(ctx, &rows, &place);
    if args.exit_code && waiting > 0 {
        return Ok(code::PENDING);
    }
    Ok(code::SUCCESS)
}

/// Put the rows in the report and print them for people; returns how many are pending.
fn show(ctx: &mut Ctx, rows: &[StatusRow], place: &str) -> usize {
    ctx.report.migrations = rows.iter().map(Migration::from).collect();
    let waiting = pending(rows).len();
    if !ctx.ui.json {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "{:<6} {:<16} {:<24} NAME",
            "STATUS", "VERSION", "REPO"
        );
        for r in rows {
            let status = match r.status {
                Direction::Up => "up",
                Direction::Down => "down",
            };
            let _ = writeln!(
                stdout,
                "{status:<6} {:<16} {:<24} {}",
                r.version, r.repo, r.name
            );
        }
        drop(stdout);
        ctx.ui.note(&format!(
            "{} migration(s), {waiting} pending ({place})",
            rows.len()
        ));
    }
    waiting
}
