//! `kmigrate status`: every migration per repo, up or down.

use anyhow::Result;

use super::{Ctx, find_target, job_run, status_rows};
use crate::ecto_output::{Direction, StatusRow, pending};
use crate::ecto_snippet::Operation;
use crate::error::usage;
use crate::report::Migration;
use crate::target::PodTarget;
use crate::ui::Purpose;

/// Run `status`: in a Job, or in a running pod. With `gate`, pending migrations trip it.
pub async fn status(ctx: &mut Ctx, gate: bool) -> Result<()> {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return Err(usage(
            "status needs the app name (--app, --release or kmigrate.toml)",
        ));
    };
    let argv = ecto.argv(Operation::Status);
    if ctx.settings.job.is_some() {
        let events = job_run::run_in_job(ctx, &argv).await?;
        if ctx.report.remote_exit_code != Some(0) {
            return Ok(());
        }
        let place = ctx
            .report
            .job
            .clone()
            .map(|j| format!("Job {j}"))
            .unwrap_or_default();
        return show(ctx, &status_rows(&events), &place, gate);
    }
    let (_, t) = find_target(ctx).await?;
    read(ctx, &t, &argv, gate).await
}

async fn read(ctx: &mut Ctx, t: &PodTarget, argv: &[String], gate: bool) -> Result<()> {
    let mut out = ctx.ui.streamer(Purpose::Status);
    let code = ctx.exec(t, argv, &mut out).await?;
    if code != 0 {
        return Ok(());
    }
    show(
        ctx,
        &status_rows(&out.events),
        &format!("pod {}", t.pod),
        gate,
    )
}

/// Put the rows in the report and print them for people; trip the gate when asked.
fn show(ctx: &mut Ctx, rows: &[StatusRow], place: &str, gate: bool) -> Result<()> {
    ctx.report.migrations = rows.iter().map(Migration::from).collect();
    let waiting = pending(rows).len();
    if !ctx.ui.json {
        let mut table = format!("{:<6} {:<16} {:<24} NAME\n", "STATUS", "VERSION", "REPO");
        for r in rows {
            let status = match r.status {
                Direction::Up => "up",
                Direction::Down => "down",
            };
            table.push_str(&format!(
                "{status:<6} {:<16} {:<24} {}\n",
                r.version, r.repo, r.name
            ));
        }
        ctx.ui.data(&table);
        ctx.ui.note(&format!(
            "{} migration(s), {waiting} pending ({place})",
            rows.len()
        ));
    }
    ctx.gate_tripped = gate && waiting > 0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::error::code;
    use crate::remote_exec::fake::Reply;

    const STATUS: &str = "kmigrate:status\tShop.Repo\tup\t1\tone\n\
                          kmigrate:status\tShop.Repo\tdown\t2\ttwo\n";

    fn argv(h: &Harness) -> Vec<String> {
        h.ctx
            .settings
            .ecto
            .as_ref()
            .unwrap()
            .argv(Operation::Status)
    }

    #[tokio::test]
    async fn status_prints_a_table_and_the_gate_trips_on_pending() {
        for (gate, expected, outcome) in [(false, 0, "success"), (true, code::PENDING, "pending")] {
            let mut h = Harness::new(&["status"], vec![Reply::exit(STATUS, 0)], false);
            let a = argv(&h);
            let r = read(&mut h.ctx, &pod(), &a, gate).await;
            let end = h.conclude(&r);
            assert_eq!((end.exit_code, end.outcome), (expected, outcome));
            assert!(
                h.stdout()
                    .contains("up     1                Shop.Repo                one\n"),
                "{}",
                h.stdout()
            );
            assert!(!h.stdout().contains("kmigrate:status"));
            assert!(h.stderr().contains("2 migration(s), 1 pending (pod web-1)"));
            assert_eq!(h.ctx.report.migrations.len(), 2);
        }
    }

    #[tokio::test]
    async fn a_failing_status_passes_its_code_and_never_trips_the_gate() {
        let mut h = Harness::new(
            &["status", "-o", "json"],
            vec![Reply::exit("boom\n", 3)],
            false,
        );
        let a = argv(&h);
        let r = read(&mut h.ctx, &pod(), &a, true).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (3, "failed"));
        assert!(h.stdout().is_empty(), "json output has no table");
    }
}
