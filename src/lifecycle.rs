//! Around every run, single or one of a group: the deadline and the signal watch while it
//! works, then the lock ended and the audit Event left, whatever happened.

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use crate::audit;
use crate::cmd::Ctx;
use crate::error::{Conclusion, Error, conclude};
use crate::lock::{self, Kept};
use crate::program_name;

/// The whole run's `--timeout`: when it ends, and the text the user wrote.
#[derive(Clone)]
pub struct Deadline(Option<(tokio::time::Instant, String)>);

impl Deadline {
    /// The deadline of a timeout starting now.
    pub fn after(timeout: Option<&(std::time::Duration, String)>) -> Self {
        Self(timeout.map(|(d, text)| (tokio::time::Instant::now() + *d, text.clone())))
    }
}

/// Run `work` under the deadline and the signal watch: either stops it with its own error,
/// saying whether a remote command had been started.
pub async fn watched<T>(
    work: impl std::future::Future<Output = Result<T>>,
    deadline: &Deadline,
    started: &std::sync::atomic::AtomicBool,
) -> Result<T> {
    let expired = async {
        match &deadline.0 {
            Some((at, _)) => tokio::time::sleep_until(*at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = work => r,
        () = expired => Err(Error::Timeout {
            after: deadline.0.as_ref().map(|(_, s)| s.clone()).unwrap_or_default(),
            running: started.load(Ordering::SeqCst),
        }.into()),
        signal = interrupted() => Err(Error::Interrupted { signal, running: started.load(Ordering::SeqCst) }.into()),
    }
}

/// After a run, whatever happened: how it ended; the lock ended (released, or kept while
/// the remote may still run) and the audit record left.
pub async fn finish(ctx: &mut Ctx, result: &Result<()>, started_at: Instant) -> Conclusion {
    let end = conclude(result, ctx.report.remote_exit_code, ctx.gate_tripped)
        .mapped(ctx.settings.remote_failure_code);
    let running = ctx.started.load(Ordering::SeqCst);
    let kept_for = (running && end.remote_may_run()).then(|| cause_of(result));
    end_lock(ctx, kept_for.as_deref()).await;
    if running {
        audit_event(
            ctx,
            started_at,
            end.exit_code == crate::error::code::NOT_STARTED,
        )
        .await;
        // A Job whose container's exit code is known is not running any more.
        let ran_out = ctx.report.remote_exit_code.is_some();
        if let (Err(_), Some(job), false) = (result, &ctx.report.job, ran_out) {
            ctx.ui.note(&format!(
                "The Job {job} keeps running; follow it again with `{} logs {job}`.",
                program_name::on_target()
            ));
        }
    }
    end
}

/// Why a run's remote command may still be running, as a kept lock records it and the
/// next run's refusal names it.
fn cause_of(result: &Result<()>) -> String {
    match result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<Error>())
    {
        Some(e @ (Error::Interrupted { .. } | Error::Timeout { .. })) => e.to_string(),
        _ => "lost its connection".to_owned(),
    }
}

/// Give the lock back when the outcome is known; keep it while the remote may still be
/// running (handed to the Job, or marked with the pod and `cause`). Say when it was lost.
async fn end_lock(ctx: &mut Ctx, cause: Option<&str>) {
    let Some(held) = ctx.lock.take() else {
        return;
    };
    if let Some(why) = held.lost() {
        ctx.ui.note(&format!(
            "warning: the lock {} was lost while the command ran: {why}; another run may have run at the same time",
            held.name()
        ));
        ctx.report.lock_lost = Some(why);
    }
    let Some(cause) = cause else {
        held.release().await;
        return;
    };
    let name = held.name().to_owned();
    let kept = match (&ctx.report.job, &ctx.target) {
        (Some(job), _) => Kept::Job(job),
        (None, Some(t)) => Kept::Unknown {
            pod: &t.pod,
            uid: t.uid.as_deref(),
            cause,
        },
        (None, None) => Kept::Unknown {
            pod: "",
            uid: None,
            cause,
        },
    };
    match held.keep(kept).await {
        Ok(()) => {
            ctx.report.lock_kept = true;
            ctx.ui.note(&format!(
                "The lock {name} stays held while the command may still be running: the next run is refused until it is known to be gone. Check with `{me} status`, then clear it with `{me} unlock`.",
                me = program_name::on_target()
            ));
        }
        Err(e) => ctx.ui.note(&format!(
            "WARNING: could not keep the lock {name} ({e}): it expires within {}s while the command may still be running. \
             Before anyone runs a migrate or rollback here, check with `{me} status` that no migration still runs.",
            lock::LEASE_SECONDS,
            me = program_name::on_target()
        )),
    }
}

/// Record the run as a Kubernetes Event on the pod; warn once when that is not allowed.
async fn audit_event(ctx: &Ctx, started_at: Instant, not_started: bool) {
    let (Some(conn), Some(pod), Some(ns)) = (&ctx.conn, &ctx.report.pod, &ctx.report.namespace)
    else {
        return;
    };
    if !ctx.settings.action.changes_database() || !ctx.settings.audit {
        return;
    }
    let argv = ctx
        .report
        .argv
        .as_deref()
        .map(|a| ctx.settings.recorded_argv(a))
        .unwrap_or_default();
    let record = audit::Record {
        command: &ctx.report.command,
        user: ctx.report.user.as_deref().unwrap_or("unknown user"),
        regarding: match &ctx.report.job {
            Some(job) => ("batch/v1", "Job", job.as_str()),
            None => ("v1", "Pod", pod.as_str()),
        },
        exit_code: ctx.report.remote_exit_code,
        not_started,
        migrations: ctx.report.migrations.iter().map(|m| m.version).collect(),
        duration_ms: u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX),
        argv: &argv,
        lock_lost: ctx.report.lock_lost.as_deref(),
        destructive_allowed: &ctx.report.destructive_allowed,
    };
    let write = audit::record(conn, ns, &record);
    match tokio::time::timeout(std::time::Duration::from_secs(5), write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => ctx
            .ui
            .note(&format!("note: no audit Event was recorded: {e}")),
        Err(_) => ctx
            .ui
            .note("note: no audit Event was recorded: the API server did not answer in 5s"),
    }
}

/// Resolves with the name of the first SIGINT, SIGTERM or SIGHUP. A hang-up (the terminal
/// or SSH session went away) is a stop like any other: the lock, the audit Event and the
/// report are seen to rather than the process dying on the spot.
/// The first stop signal (`SIGINT`, `SIGTERM`, `SIGHUP`) that arrives, by name.
pub async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut int), Ok(mut term), Ok(mut hup)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
