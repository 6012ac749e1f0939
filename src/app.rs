//! The driver: settings, the runtime and the command under its deadline and signal watch
//! ([`crate::lifecycle`]), and the one exit code and JSON report at the end.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use clap::FromArgMatches;

use crate::cli::{Cli, OutputFormat};
use crate::cmd::{self, Ctx};
use crate::config;
use crate::error::{self, Conclusion, conclude};
use crate::lifecycle::{Deadline, finish, watched};
use crate::program_name::{self, CalledAs};
use crate::report::Report;
use crate::settings::Settings;
use crate::ui::Ui;

/// Run kmigrate with the process's arguments; returns the process exit code. The name in
/// argv[0] decides how it calls itself (`kubectl kmigrate` as a kubectl plugin), and as
/// `kubectl_complete-kmigrate` it answers kubectl's shell completion instead.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let code = run_to_end(args);
    // Everything said is on stderr before the process ends.
    crate::stderr::process().flush();
    code
}

fn run_to_end(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
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
    program_name::set_target(target_flags(&cli.global));
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

/// The flags of a command line that choose where it runs, as a hint repeats them: a hint
/// without `-e prod` would reach the default environment instead. A config file from
/// `KMIGRATE_CONFIG` is not repeated: the shell that ran this has it too.
fn target_flags(g: &crate::cli::GlobalArgs) -> String {
    let config = g.config.as_ref();
    let path = |p: Option<&std::path::PathBuf>| p.map(|p| p.display().to_string());
    let flags = [
        ("--kubeconfig", path(g.kubeconfig.as_ref())),
        ("--context", g.context.clone()),
        ("--config", path(config)),
        ("-e", g.env.clone()),
        ("-n", g.namespace.clone()),
        ("-l", g.selector.clone()),
        ("--pod", g.pod.clone()),
        ("-c", g.container.clone()),
        ("--release", g.release.clone()),
        ("--app", g.app.clone()),
    ];
    let argv: Vec<String> = flags
        .into_iter()
        .filter_map(|(flag, value)| value.map(|v| [flag.to_owned(), v]))
        .flatten()
        .collect();
    crate::text::shown_argv(&argv)
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
    error::say_whose(&end, report.remote_exit_code);
    if json && report.command != "completions" && report.command != "init" {
        report.exit_code = end.exit_code;
        report.exit_code_source = end.source.as_str().to_owned();
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
    error::say_whose(&end, None);
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
