//! The driver: settings, the runtime, the deadline and signals around the command, the lock
//! release and audit Event after it, and the one exit code and JSON report at the end.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Result;

use clap::FromArgMatches;

use crate::audit;
use crate::cli::{Cli, OutputFormat};
use crate::cmd::{self, Ctx};
use crate::config;
use crate::error::{self, Conclusion, Error, conclude};
use crate::lock::{self, Kept};
use crate::program_name::{self, CalledAs};
use crate::report::Report;
use crate::settings::Settings;
use crate::ui::Ui;

/// Run kmigrate with the process's arguments; returns the process exit code. The name in
/// argv[0] decides how it calls itself (`kubectl kmigrate` as a kubectl plugin), and as
/// `kubectl_complete-kmigrate` it answers kubectl's shell completion instead.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let started_at = Instant::now();
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let called_as = CalledAs::from_argv0(args.first().map(std::ffi::OsString::as_os_str));
    program_name::set(called_as);
    if called_as == CalledAs::PluginCompletion {
        return crate::plugin_completion::run(
            crate::cli::command(),
            args.get(1..).unwrap_or_default(),
        );
    }
    let matches = crate::cli::command_named(program_name::get()).get_matches_from(args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let json = cli.global.output == OutputFormat::Json;
    let ui = Ui::detect(json, cli.global.verbose > 0);
    let ignored = crate::logging::init(cli.global.verbose, ui.color);
    if !ignored.is_empty() {
        ui.note(&format!(
            "note: RUST_LOG raises kmigrate's own logs only (other crates' logs may hold credentials); ignored: {}",
            ignored.join(",")
        ));
    }

    let mut source = config::Source::default();
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"));
    if let Ok(dir) = &cwd {
        match Settings::environments(&cli, dir) {
            Ok(envs) if envs.len() > 1 => {
                let command = matches.subcommand_name().unwrap_or_default();
                return run_group(&cli, command, dir, &envs, ui, json, started_at);
            }
            Ok(_) => {}
            Err(e) => {
                let command = matches.subcommand_name().unwrap_or_default();
                return failed(command, e, json, started_at);
            }
        }
    }
    let settings = cwd.and_then(|dir| Settings::new(&cli, &dir, &mut source));
    for warning in &source.warnings {
        ui.note(warning);
    }
    if let (true, Some(path)) = (ui.informative, &source.path) {
        ui.note(&format!("using config {}", path.display()));
    }
    let (result, mut report, end) = match settings {
        Ok(settings) => drive(settings, ui, started_at),
        Err(e) => {
            let result = Err(e);
            let end = conclude(&result, None, false);
            let report = Report::new(matches.subcommand_name().unwrap_or_default());
            (result, report, end)
        }
    };
    report.config = source.path.map(|p| p.display().to_string());
    emit(report, &result, end, json, started_at)
}

/// The end of a single run: the error on stderr, the report on stdout with `-o json`.
fn emit(
    mut report: Report,
    result: &Result<()>,
    end: Conclusion,
    json: bool,
    started_at: Instant,
) -> ExitCode {
    if let Err(e) = result {
        report.error = Some(format!("{e:#}"));
        error::print(e);
    }
    if json && report.command != "completions" && report.command != "init" {
        report.exit_code = end.exit_code;
        report.outcome = end.outcome.to_string();
        report.duration_ms = u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Ok(text) = serde_json::to_string_pretty(&report) {
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }
    ExitCode::from(end.exit_code)
}

/// A run that failed before anything started.
fn failed(command: &str, e: anyhow::Error, json: bool, started_at: Instant) -> ExitCode {
    let result = Err(e);
    let end = conclude(&result, None, false);
    emit(Report::new(command), &result, end, json, started_at)
}

/// Several environments: settings for each (each `-e NAME` as if alone), then the group.
fn run_group(
    cli: &Cli,
    command: &str,
    dir: &std::path::Path,
    envs: &[String],
    ui: Ui,
    json: bool,
    started_at: Instant,
) -> ExitCode {
    let named = cli.global.env.clone().unwrap_or_default();
    let mut members = Vec::new();
    for env in envs {
        let mut one = cli.clone();
        one.global.env = Some(env.clone());
        let mut source = config::Source::default();
        let settings = Settings::new(&one, dir, &mut source)
            .and_then(|s| crate::group::check(&s).map(|()| s))
            .map_err(|e| e.context(format!("environment {env}")));
        for warning in &source.warnings {
            ui.note(warning);
        }
        match settings {
            Ok(s) => members.push((env.clone(), s)),
            Err(e) => return failed(command, e, json, started_at),
        }
    }
    let (mut report, end) = crate::group::drive(members, &named, &ui, started_at);
    if json {
        report.duration_ms = u64::try_from(started_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Ok(text) = serde_json::to_string_pretty(&report) {
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }
    ExitCode::from(end.exit_code)
}

/// Run the action on a current-thread runtime, under the deadline and signal watch; then
/// end the lock (released, or kept while the remote may still run) and leave the audit
/// record, whatever happened.
fn drive(settings: Settings, ui: Ui, started_at: Instant) -> (Result<()>, Report, Conclusion) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let result = Err(anyhow::anyhow!("cannot start the async runtime: {e}"));
            let end = conclude(&result, None, false);
            return (result, Report::new(settings.action.name()), end);
        }
    };
    let deadline = Deadline::after(settings.timeout.as_ref());
    let mut ctx = Ctx::new(settings, ui);
    let (result, end) = runtime.block_on(async {
        let started = ctx.started.clone();
        let result = watched(cmd::execute(&mut ctx), &deadline, &started).await;
        let end = finish(&mut ctx, &result, started_at).await;
        (result, end)
    });
    // A prompt may still be blocked on stdin; do not wait for it.
    runtime.shutdown_background();
    (result, std::mem::take(&mut ctx.report), end)
}

/// The whole run's `--timeout`: when it ends, and the text the user wrote.
#[derive(Clone)]
pub(crate) struct Deadline(Option<(tokio::time::Instant, String)>);

impl Deadline {
    /// The deadline of a timeout starting now.
    pub(crate) fn after(timeout: Option<&(std::time::Duration, String)>) -> Self {
        Self(timeout.map(|(d, text)| (tokio::time::Instant::now() + *d, text.clone())))
    }
}

/// Run `work` under the deadline and the signal watch: either stops it with its own error,
/// saying whether a remote command had been started.
pub(crate) async fn watched<T>(
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
pub(crate) async fn finish(ctx: &mut Ctx, result: &Result<()>, started_at: Instant) -> Conclusion {
    let end = conclude(result, ctx.report.remote_exit_code, ctx.gate_tripped);
    let running = ctx.started.load(Ordering::SeqCst);
    end_lock(ctx, running && end.remote_may_run()).await;
    if running {
        audit_event(ctx, started_at).await;
        if let (Err(_), Some(job)) = (result, &ctx.report.job) {
            ctx.ui.note(&format!(
                "The Job {job} keeps running; follow it again with `{} logs {job}`.",
                program_name::get()
            ));
        }
    }
    end
}

/// Give the lock back when the outcome is known; keep it while the remote may still be
/// running (handed to the Job, or marked with the pod). Say when it was lost.
async fn end_lock(ctx: &mut Ctx, remote_may_run: bool) {
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
    if !remote_may_run {
        held.release().await;
        return;
    }
    let name = held.name().to_owned();
    let kept = match (&ctx.report.job, &ctx.target) {
        (Some(job), _) => Kept::Job(job),
        (None, Some(t)) => Kept::Unknown {
            pod: &t.pod,
            uid: t.uid.as_deref(),
        },
        (None, None) => Kept::Unknown { pod: "", uid: None },
    };
    match held.keep(kept).await {
        Ok(()) => {
            ctx.report.lock_kept = true;
            ctx.ui.note(&format!(
                "The lock {name} stays held while the command may still be running: the next run is refused until it is known to be gone. Check with `{me} status`, then clear it with `{me} unlock`.",
                me = program_name::get()
            ));
        }
        Err(e) => ctx.ui.note(&format!(
            "warning: could not keep the lock {name} ({e}); it expires in {}s",
            lock::LEASE_SECONDS
        )),
    }
}

/// Record the run as a Kubernetes Event on the pod; warn once when that is not allowed.
async fn audit_event(ctx: &Ctx, started_at: Instant) {
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
async fn interrupted() -> &'static str {
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
