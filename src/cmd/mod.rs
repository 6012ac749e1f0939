//! One module per subcommand, dispatched from one exhaustive match.

mod completions;
mod exec;
mod init;
mod job_run;
mod logs;
mod migrate;
mod pods;
mod rollback;
mod runs;
mod status;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;

use crate::audit;
use crate::cli::Command;
use crate::connection::{Connection, connect};
use crate::ecto_output::{Event, StatusRow};
use crate::ecto_snippet::Action;
use crate::error::Error;
use crate::lock::{self, Held};
use crate::output::Streamer;
use crate::remote_exec;
use crate::report::Report;
use crate::settings::Settings;
use crate::target::{self, Target};
use crate::ui::{Ui, confirm_typed};

pub use completions::completions;
pub use init::init;

/// What every command gets: validated settings, the output decision, the report to fill.
pub struct Ctx {
    /// Validated settings.
    pub settings: Settings,
    /// Terminal facts, fixed at start-up.
    pub ui: Ui,
    /// The JSON report, filled in as the run goes.
    pub report: Report,
    /// Set once a remote command has been started.
    pub started: Arc<AtomicBool>,
    /// The connection, once made (for the audit Event after the run).
    pub conn: Option<Connection>,
    /// The single-runner lock, while held.
    pub lock: Option<Held>,
    /// Why the environment is protected, once known.
    pub protection: Option<String>,
}

impl Ctx {
    /// A context for a run that has not connected yet.
    pub fn new(settings: Settings, ui: Ui, report: Report) -> Self {
        Self {
            settings,
            ui,
            report,
            started: Arc::new(AtomicBool::new(false)),
            conn: None,
            lock: None,
            protection: None,
        }
    }
}

/// Run a subcommand that talks to the cluster; returns the exit code.
pub async fn execute(command: &Command, ctx: &mut Ctx) -> Result<u8> {
    match command {
        Command::Migrate(args) => migrate::run(args, ctx).await,
        Command::Rollback(args) => rollback::run(args, ctx).await,
        Command::Status(args) => status::run(args, ctx).await,
        Command::Pods => pods::run(ctx).await,
        Command::Exec(args) => exec::run(args, ctx).await,
        Command::Runs => runs::run(ctx).await,
        Command::Logs(args) => logs::run(args, ctx).await,
        Command::Completions(_) | Command::Init(_) => unreachable!("handled before connecting"),
    }
}

/// Connect and settle the namespace (flag or config, else the kubeconfig's), recording both.
async fn connect_namespace(ctx: &mut Ctx) -> Result<(Connection, String)> {
    let conn = connect(&ctx.settings.kube).await?;
    ctx.conn = Some(conn.clone());
    let ns = ctx
        .settings
        .namespace
        .clone()
        .unwrap_or_else(|| conn.default_namespace.clone());
    ctx.report.context = Some(conn.context.clone());
    ctx.report.namespace = Some(ns.clone());
    Ok((conn, ns))
}

/// Who the user is (SelfSubjectReview), and why the environment is protected, if it is:
/// by config, by name, or by the namespace's `kmigrate.io/protected` mark.
async fn identify(
    settings: &Settings,
    conn: &Connection,
    namespace: &str,
) -> (Option<String>, Option<String>) {
    let (user, marked) = tokio::join!(
        audit::whoami(conn),
        audit::namespace_protected(conn, namespace)
    );
    let protection = settings.protection(&conn.context, namespace).or_else(|| {
        marked.then(|| {
            format!(
                "namespace {namespace:?} is marked {}=true",
                audit::PROTECTED_KEY
            )
        })
    });
    (user, protection)
}

/// Find the pod (with a spinner) and record it in the report; meanwhile ask who the user
/// is and whether the environment is protected.
async fn find_target(ctx: &mut Ctx) -> Result<Target> {
    let spinner = ctx.ui.spinner("finding pod");
    let found = async {
        let (conn, namespace) = connect_namespace(ctx).await?;
        let (found, (user, protection)) = tokio::join!(
            target::candidates_in(conn.clone(), namespace.clone(), &ctx.settings),
            identify(&ctx.settings, &conn, &namespace),
        );
        ctx.report.user = user;
        ctx.protection = protection;
        found
    }
    .await;
    spinner.finish_and_clear();
    let found = found?;
    let mut notes = Vec::new();
    let picked = target::pick(found, &ctx.settings, &mut notes);
    for n in notes {
        ctx.ui.note(&n);
    }
    let t = picked?;
    ctx.report.pod = Some(t.pod.clone());
    ctx.report.container = Some(t.container.clone());
    tracing::info!(pod = %t.pod, container = %t.container, "chosen");
    Ok(t)
}

/// Take the single-runner lock for the app, per the configured mode.
async fn take_lock(ctx: &mut Ctx, conn: &Connection, namespace: &str) -> Result<()> {
    let user = ctx
        .report
        .user
        .clone()
        .unwrap_or_else(|| "unknown-user".to_owned());
    let holder = format!("{user}@{} pid {}", audit::host(), std::process::id());
    let wait = ctx.settings.wait.then(|| {
        ctx.settings
            .timeout
            .as_ref()
            .map_or(std::time::Duration::from_secs(3600), |(d, _)| *d)
    });
    let ui = ctx.ui;
    let held = lock::acquire(
        conn,
        namespace,
        &ctx.settings.lock_name,
        &holder,
        ctx.settings.lock,
        wait,
        &|msg: &str| ui.note(msg),
    )
    .await?;
    if held.is_some() {
        ctx.report.lock = Some(ctx.settings.lock_name.clone());
    }
    ctx.lock = held;
    Ok(())
}

/// Run `argv` in the target, streaming, and record the remote exit code.
async fn run_remote(ctx: &mut Ctx, t: &Target, argv: &[String], out: &mut Streamer) -> Result<i32> {
    ctx.report.argv = Some(argv.to_vec());
    let code = remote_exec::run(
        &t.conn,
        &t.namespace,
        &t.pod,
        &t.container,
        argv,
        out,
        &ctx.started,
    )
    .await?;
    ctx.report.remote_exit_code = Some(code);
    Ok(code)
}

/// Run the status snippet quietly and return its rows (for plans and previews).
async fn read_status(ctx: &mut Ctx, t: &Target) -> Result<Vec<StatusRow>> {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return Ok(Vec::new());
    };
    let argv = ecto.snippet.argv(&ecto.release, ecto.mode, Action::Status);
    let spinner = ctx.ui.spinner("reading migration status");
    let mut out = Streamer::new(spinner, true, true).hide_tags();
    let code = remote_exec::run(
        &t.conn,
        &t.namespace,
        &t.pod,
        &t.container,
        &argv,
        &mut out,
        &ctx.started,
    )
    .await?;
    if code != 0 {
        return Err(Error::Refused(format!(
            "could not read the migration status first (remote exit code {code}); nothing was changed"
        ))
        .into());
    }
    Ok(status_rows(&out.events))
}

fn status_rows(events: &[Event]) -> Vec<StatusRow> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Status(row) => Some(row.clone()),
            _ => None,
        })
        .collect()
}

/// The plan shown before changing a protected environment.
struct Plan<'a> {
    /// The namespace the user must type.
    namespace: &'a str,
    /// Where it runs: (label, value) lines.
    facts: Vec<(&'static str, String)>,
    argv: &'a [String],
    reason: &'a str,
    /// Lines describing the migrations affected, when known.
    changes: Option<(&'a str, Vec<String>)>,
}

/// The facts of an exec target, for a plan.
fn facts(t: &Target) -> Vec<(&'static str, String)> {
    vec![
        ("context", t.conn.context.clone()),
        ("namespace", t.namespace.clone()),
        ("pod", t.pod.clone()),
        ("container", t.container.clone()),
    ]
}

/// Show the plan and ask for the namespace to be typed; refuse without a terminal unless `--yes`.
fn confirm(ctx: &Ctx, plan: Plan<'_>) -> Result<()> {
    let ui = &ctx.ui;
    let mut text = format!("{} ({})\n", ui.bold("Protected environment"), plan.reason);
    for (label, value) in &plan.facts {
        text.push_str(&format!("  {:<10} {value}\n", format!("{label}:")));
    }
    text.push_str(&format!("  {:<10} {}\n", "command:", shown_argv(plan.argv)));
    if let Some((title, lines)) = &plan.changes {
        if lines.is_empty() {
            text.push_str(&format!("  {title}: none\n"));
        } else {
            text.push_str(&format!("  {title}:\n"));
            for l in lines {
                text.push_str(&format!("    {l}\n"));
            }
        }
    }
    ui.note(text.trim_end());
    if ctx.settings.yes {
        ui.note("Confirmed by --yes.");
        return Ok(());
    }
    if !ui.can_prompt {
        return Err(Error::Refused(format!(
            "namespace {} is protected ({}) and there is no terminal to confirm on; re-run with --yes to proceed",
            plan.namespace, plan.reason
        ))
        .into());
    }
    match confirm_typed(
        &format!("Type the namespace name ({}) to continue", plan.namespace),
        plan.namespace,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => {
            Err(Error::Refused("confirmation did not match; nothing was run".to_owned()).into())
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(Error::Interrupted {
            signal: "SIGINT",
            running: false,
        }
        .into()),
        Err(e) => Err(Error::Refused(format!("could not read the confirmation: {e}")).into()),
    }
}

/// An argv as a person would type it, for plans and messages.
pub fn shown_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Turn a remote exit code into kmigrate's exit code.
fn pass_through(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_display_quotes_what_a_shell_would_split() {
        let argv = [
            "/app/bin/demo".to_owned(),
            "eval".to_owned(),
            "IO.puts(\"it's\")".to_owned(),
        ];
        assert_eq!(
            shown_argv(&argv),
            "/app/bin/demo eval 'IO.puts(\"it'\\''s\")'"
        );
    }

    #[test]
    fn exit_codes_pass_through() {
        assert_eq!(pass_through(0), 0);
        assert_eq!(pass_through(42), 42);
        assert_eq!(pass_through(255), 255);
        assert_eq!(pass_through(-1), 1);
        assert_eq!(pass_through(256), 1);
    }
}
