//! kmigrate: run Ecto migrations inside a running Kubernetes pod, found by label.

pub mod audit;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod ecto_output;
pub mod ecto_snippet;
pub mod error;
pub mod job;
pub mod lock;
pub mod output;
pub mod pod_select;
pub mod remote_exec;
pub mod report;
pub mod selector;
pub mod settings;
pub mod target;
pub mod ui;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::cmd::Ctx;
use crate::error::{Error, code, exit_code_of};
use crate::report::Report;
use crate::settings::Settings;
use crate::ui::Ui;

/// Run kmigrate with parsed arguments; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let started_at = Instant::now();
    let json = cli.global.output == cli::OutputFormat::Json;
    let ui = Ui::detect(json);
    init_logging(cli.global.verbose, ui.color);
    let name = command_name(&cli.command);
    let mut report = Report::new(name);

    let result = match &cli.command {
        Command::Completions(args) => {
            cmd::completions(args.shell, &mut std::io::stdout().lock());
            return ExitCode::SUCCESS;
        }
        Command::Init(args) => match std::env::current_dir() {
            Ok(dir) => {
                cmd::init(&dir, args.force, &mut std::io::stdout().lock()).map(|()| code::SUCCESS)
            }
            Err(e) => Err(anyhow::anyhow!("cannot read the current directory: {e}")),
        },
        command => match std::env::current_dir()
            .map_err(anyhow::Error::from)
            .and_then(|d| Settings::new(&cli, &d))
        {
            Ok(settings) => run_async(command, settings, ui, &mut report, started_at),
            Err(e) => Err(e),
        },
    };

    let exit = match &result {
        Ok(c) => *c,
        Err(e) => exit_code_of(e),
    };
    report.exit_code = exit;
    report.duration_ms = u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.outcome = outcome(&result, &report).to_owned();
    if let Err(e) = &result {
        report.error = Some(format!("{e:#}"));
        error::report(e);
    }
    if json {
        let mut out = std::io::stdout().lock();
        if let Ok(text) = serde_json::to_string_pretty(&report) {
            let _ = writeln!(out, "{text}");
        }
    }
    ExitCode::from(exit)
}

fn run_async(
    command: &Command,
    settings: Settings,
    ui: Ui,
    report: &mut Report,
    started_at: Instant,
) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let timeout = settings.timeout.clone();
    let mut ctx = Ctx::new(settings, ui, Report::new(&report.command));
    let started = ctx.started.clone();
    let result = runtime.block_on(async {
        let result = {
            let work = cmd::execute(command, &mut ctx);
            let deadline = async {
                match &timeout {
                    Some((d, _)) => tokio::time::sleep(*d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = work => r,
                () = deadline => Err(Error::Timeout {
                    after: timeout.map(|(_, s)| s).unwrap_or_default(),
                    running: started.load(Ordering::SeqCst),
                }.into()),
                signal = interrupted() => Err(Error::Interrupted { signal, running: started.load(Ordering::SeqCst) }.into()),
            }
        };
        // Whatever happened, give the lock back and leave the audit record.
        if let Some(held) = ctx.lock.take() {
            held.release().await;
        }
        if started.load(Ordering::SeqCst) {
            audit_event(&ctx, started_at).await;
            if let (Err(_), Some(job)) = (&result, &ctx.report.job) {
                ctx.ui.note(&format!("The Job {job} keeps running; follow it again with `kmigrate logs {job}`."));
            }
        }
        result
    });
    *report = std::mem::take(&mut ctx.report);
    // A prompt may still be blocked on stdin; do not wait for it.
    runtime.shutdown_background();
    result
}

/// Record the run as a Kubernetes Event on the pod; warn once when that is not allowed.
async fn audit_event(ctx: &Ctx, started_at: Instant) {
    let (Some(conn), Some(pod), Some(ns)) = (&ctx.conn, &ctx.report.pod, &ctx.report.namespace)
    else {
        return;
    };
    if !matches!(ctx.report.command.as_str(), "migrate" | "rollback" | "exec") {
        return;
    }
    let argv = ctx
        .report
        .argv
        .as_deref()
        .map(cmd::shown_argv)
        .unwrap_or_default();
    let record = audit::Record {
        command: &ctx.report.command,
        user: ctx.report.user.as_deref().unwrap_or("unknown user"),
        regarding: match &ctx.report.job {
            Some(job) => ("batch/v1", "Job", job.as_str()),
            None => ("v1", "Pod", pod.as_str()),
        },
        exit_code: ctx.report.remote_exit_code,
        migrations: ctx.report.migrations.iter().map(|m| m.version).collect(),
        duration_ms: u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX),
        argv: &argv,
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

/// Resolves with the name of the first SIGINT or SIGTERM.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
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

fn outcome(result: &Result<u8>, report: &Report) -> &'static str {
    match result {
        Ok(0) => "success",
        Ok(c) if *c == code::PENDING && report.remote_exit_code == Some(0) => "pending",
        Ok(_) => "failed",
        Err(e) => match e.chain().find_map(|c| c.downcast_ref::<Error>()) {
            Some(Error::Unknown(_)) => "unknown",
            Some(Error::Refused(_)) => "refused",
            Some(Error::Timeout { .. }) => "timeout",
            Some(Error::Interrupted { .. }) => "interrupted",
            _ => "error",
        },
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Migrate(_) => "migrate",
        Command::Rollback(_) => "rollback",
        Command::Status(_) => "status",
        Command::Pods => "pods",
        Command::Exec(_) => "exec",
        Command::Runs => "runs",
        Command::Logs(_) => "logs",
        Command::Completions(_) => "completions",
        Command::Init(_) => "init",
    }
}

/// Logs go to stderr. Other crates are capped at debug so that no request or credential
/// detail from the HTTP stack is ever printed.
fn init_logging(verbose: u8, color: bool) {
    use tracing_subscriber::EnvFilter;
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = if verbose >= 2 { "info" } else { "warn" };
    let filter = EnvFilter::new(format!("{others},kmigrate={ours}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
}
