//! The command line as typed: clap's view, before validation.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::ecto_snippet::Mode;
use crate::job::Entrypoint;

/// Run Ecto migrations inside a running Kubernetes pod, found by label.
#[derive(Debug, Clone, Parser)]
#[command(name = "kmigrate", version, about, long_about = None)]
#[command(after_help = crate::error::exit_codes_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The command line's definition, named `kmigrate`: what the man pages and the committed
/// completions are generated from.
pub fn command() -> clap::Command {
    Cli::command()
}

/// The command line's definition under the name the program was called by, so that help,
/// usage lines and `--version` say `kubectl kmigrate` when run as the plugin.
pub fn command_named(name: &str) -> clap::Command {
    let mut cmd = Cli::command().bin_name(name).display_name(name);
    // Built here, under its name, so the global flags are on every subcommand; those
    // that talk to no cluster keep only `-v` in their help.
    cmd.build();
    for sub in cmd.get_subcommands_mut() {
        if ["init", "completions"].contains(&sub.get_name()) {
            *sub = std::mem::take(sub).mut_args(|a| {
                let talks_to_a_cluster = a.is_global_set() && a.get_id() != "verbose";
                a.hide(talks_to_a_cluster)
            });
        }
    }
    cmd
}

/// Flags shared by every subcommand, named as kubectl names them.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the app's pods
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Label selector for the app's pods (kubectl syntax: `app=demo`, `app in (a,b)`)
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Container to run in (default: the pod's default-container annotation, then the first)
    #[arg(short = 'c', long, global = true, value_name = "NAME")]
    pub container: Option<String>,
    /// Use this pod instead of choosing one by label
    #[arg(long, global = true, value_name = "NAME")]
    pub pod: Option<String>,
    /// Environment from kmigrate.toml; several as a comma-separated list (a,b) or a
    /// group's name, run in order after one confirmation (migrate, rollback, status)
    #[arg(short = 'e', long = "env", global = true, value_name = "NAME")]
    pub env: Option<String>,
    /// Config file, used as given; KMIGRATE_CONFIG names one too (default: the nearest
    /// kmigrate.toml up to the repository root or $HOME)
    // Not clap's `env`: clap would print `--config <PATH>` in every usage error, as if it
    // were required, whenever the variable is set.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Path of the mix release script inside the container (default: /app/bin/<app>)
    #[arg(long, global = true, value_name = "PATH")]
    pub release: Option<String>,
    /// OTP application whose env lists the repos (default: the release script's file name;
    /// in an umbrella, the child app that owns the repos)
    #[arg(long, global = true, value_name = "NAME")]
    pub app: Option<String>,
    /// Ecto repo module to act on; repeat for several (default: the app's :ecto_repos)
    #[arg(long = "repo", global = true, value_name = "MODULE")]
    pub repos: Vec<String>,
    /// Schema prefix to migrate (Ecto's `prefix:`); repeat for several
    #[arg(long = "prefix", global = true, value_name = "SCHEMA")]
    pub prefixes: Vec<String>,
    /// The prefixes are the schema names this SQL query returns (first column), run on the
    /// first repo (the first --repo) in a read-only transaction, e.g. "SELECT nspname FROM pg_namespace WHERE
    /// nspname LIKE 'tenant_%' ORDER BY 1"
    #[arg(long, global = true, value_name = "SQL", conflicts_with = "prefixes")]
    pub prefixes_from: Option<String>,
    /// A --prefixes-from query that returns no names is a success with nothing to do; without
    /// this flag it is refused (exit 2), as a typo in the query would look the same
    #[arg(long, global = true)]
    pub allow_no_tenants: bool,
    /// Migrations directory, relative to the repo's app directory; replaces the default
    /// (priv/<repo>/migrations, or priv/<repo>/tenant_migrations for prefixes) as mix's does;
    /// repeat for several
    #[arg(long = "migrations-path", global = true, value_name = "DIR")]
    pub migrations_paths: Vec<String>,
    /// Log each migration's SQL as it runs (Ecto's `log_migrations_sql`)
    #[arg(long, global = true)]
    pub log_sql: bool,
    /// How the snippet runs: a fresh VM (`eval`) or inside the live node (`rpc`)
    #[arg(long, global = true, value_enum)]
    pub mode: Option<Mode>,
    /// Answer yes to the confirmation of a protected environment (needed without a terminal)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
    /// A failing tenant (exit 79 when any failed) or environment (exit 80) does not stop the
    /// others; by default the first failure does. With several environments that have
    /// tenants it means both: every tenant of every environment is tried
    #[arg(long, global = true)]
    pub continue_on_error: bool,
    /// If another run holds the lock, wait for it (up to --timeout) instead of failing
    #[arg(long, global = true)]
    pub wait: bool,
    /// PostgreSQL lock_timeout for the migration's own database sessions (e.g. 5s): a
    /// migration that waits longer for a lock is rolled back and the run ends with code 78
    #[arg(long, global = true, value_name = "DURATION")]
    pub lock_timeout: Option<String>,
    /// PostgreSQL statement_timeout for the migration's own database sessions (e.g. 15m)
    #[arg(long, global = true, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    /// Give up after this long (e.g. 90s, 10m); the remote command may keep running.
    /// Default for commands that only read (status, plan, wait after its --deadline, pods,
    /// runs, gate, doctor): 15m; none for the others
    #[arg(long, global = true, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Exit with this code whenever the remote command fails, instead of its own code
    /// (which may be one of kmigrate's); 1-255 and none of kmigrate's own codes. The remote
    /// code stays in the JSON report and on stderr
    #[arg(long, global = true, value_name = "CODE")]
    pub remote_failure_code: Option<String>,
    /// Output format: human text, or one JSON document on stdout at the end
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// More logging on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The config file named by `--config`, else by `KMIGRATE_CONFIG` (when not empty).
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            std::env::var_os("KMIGRATE_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }
}

/// Human or machine output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Plain text for people
    Text,
    /// One JSON document on stdout; remote output goes to stderr
    Json,
}

/// The subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run pending migrations
    Migrate(MigrateArgs),
    /// Revert migrations (--step N or --to VERSION)
    Rollback(RollbackArgs),
    /// List migrations per repo as up or down
    Status(StatusArgs),
    /// Wait until the database holds every migration of the image (a schema gate)
    Wait(WaitArgs),
    /// Print an init container that makes the Deployment's new pods wait for their schema
    Gate(GateArgs),
    /// Show the pending migrations, how Ecto runs them, what in them is risky, and the plan hash
    Plan(PlanArgs),
    /// Check migration files for risky changes, offline (as `plan` does in the pod): for CI
    /// on pull requests
    Lint(LintArgs),
    /// List candidate pods and explain which one would be chosen
    Pods,
    /// Run any command in the chosen pod and container
    Exec(ExecArgs),
    /// Open the release's remote IEx console (`bin/APP remote`) on the running node of the
    /// chosen pod, with a terminal; leaving it leaves the node running
    Console,
    /// List recent Job-mode runs (start, user, command, image, outcome, duration)
    Runs,
    /// Follow a Job-mode run's output again and exit with its exit code
    Logs(LogsArgs),
    /// Show who holds the single-runner lock and what is known about it; clear it after asking
    Unlock(UnlockArgs),
    /// Check the setup step by step (kubeconfig, API, RBAC, pod, release, app, database) and
    /// say how to fix what fails
    Doctor,
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Write a kmigrate.toml scaffold and print the RBAC Role the tool needs
    Init(InitArgs),
}

/// Job mode: run from a new image in a Job built from the app's Deployment.
#[derive(Debug, Clone, Args, Default)]
pub struct JobArgs {
    /// Run in a Job with this image (the new release) instead of exec in a running pod
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// The Deployment whose pod template the Job copies (default: the owner of the chosen pod)
    #[arg(long, value_name = "NAME")]
    pub deployment: Option<String>,
    /// Job mode: print the Job as YAML and create nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Job mode: how long a pod in image-pull back-off, config error or unschedulable is
    /// given to start before the Job is deleted (default 2m, within --timeout)
    #[arg(long, value_name = "DURATION")]
    pub start_grace: Option<String>,
    /// Job mode: `replace` (default) runs the release command as the container's `command`,
    /// in place of the image's ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app
    /// runs under (the image's ENTRYPOINT, or the container's own `command`), which must exec
    /// its arguments, for an entrypoint that exports the database settings
    #[arg(long, value_enum, value_name = "HOW")]
    pub entrypoint: Option<Entrypoint>,
}

/// `migrate` flags.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Migrate up to and including this version
    #[arg(long, value_name = "VERSION", conflicts_with = "step")]
    pub to: Option<String>,
    /// Migrate up to this version, without it (Ecto's `to_exclusive:`)
    #[arg(long, value_name = "VERSION", conflicts_with_all = ["to", "step"])]
    pub to_exclusive: Option<String>,
    /// Run only the next N pending migrations
    #[arg(long, value_name = "N")]
    pub step: Option<String>,
    /// Run only if the pending migrations and their files are still those of this plan (the
    /// hash the `plan` subcommand prints); otherwise nothing runs and the exit code is 82
    #[arg(long, value_name = "HASH", conflicts_with_all = ["to", "to_exclusive", "step"])]
    pub plan: Option<String>,
    /// In a protected environment, allow these destructive migrations (drops, renames, type
    /// changes, NOT NULL without a default, TRUNCATE, deleted rows), by version
    #[arg(long, value_name = "VERSION,...", value_delimiter = ',')]
    pub allow_destructive: Vec<String>,
    /// In a protected environment, allow these migrations that break the code running now
    /// (a column or table its Ecto schemas still map), by version; --allow-destructive does not
    #[arg(long, value_name = "VERSION,...", value_delimiter = ',')]
    pub allow_breaking: Vec<String>,
    #[command(flatten)]
    pub tenants: TenantArgs,
}

/// `plan` flags.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub job: JobArgs,
}

/// `lint` arguments.
#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// Migration files or folders of them (default: priv/*/migrations and
    /// priv/*/tenant_migrations under the current directory, and an umbrella's
    /// apps/*/priv/*/migrations and apps/*/priv/*/tenant_migrations)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Exit 83 when an unreviewed finding is at least this severe
    #[arg(long, value_enum, default_value_t = LintFailOn::Destructive)]
    pub fail_on: LintFailOn,
    /// Also print each finding as a GitHub Actions workflow command, which the pull
    /// request shows on the line (not with `-o json`)
    #[arg(long)]
    pub github: bool,
}

/// What fails `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFailOn {
    /// A destructive finding (data loss, or breaks the running code)
    Destructive,
    /// Any finding, warnings too
    Warning,
    /// Nothing: report only
    Never,
}

/// `migrate` with several tenants (prefixes): order, failures, concurrency.
#[derive(Debug, Clone, Args, Default)]
pub struct TenantArgs {
    /// Migrate this tenant first, alone; a failure there stops the run. Repeat for several
    #[arg(long = "canary", value_name = "PREFIX")]
    pub canaries: Vec<String>,
    /// Migrate N tenants at a time (default 1; at most 16), after the canaries
    #[arg(long, value_name = "N")]
    pub concurrency: Option<String>,
}

/// `rollback` flags: one of them is required.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to", "to_exclusive", "step"])))]
pub struct RollbackArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Revert every migration down to and including this version (Ecto's `to:`)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Revert every migration newer than this version, keeping it (Ecto's `to_exclusive:`)
    #[arg(long, value_name = "VERSION")]
    pub to_exclusive: Option<String>,
    /// Revert the last N applied migrations
    #[arg(long, value_name = "N")]
    pub step: Option<String>,
}

/// `status` flags.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Exit with code 10 when any migration is pending (a CI gate)
    #[arg(long)]
    pub exit_code: bool,
}

/// `wait` flags.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Give up after this long with exit code 10, listing what is still missing (default 10m)
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
}

/// `gate` flags.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// The image the init container runs (default: the Deployment's app container's)
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// The Deployment to gate (default: the owner of the chosen pod)
    #[arg(long, value_name = "NAME")]
    pub deployment: Option<String>,
    /// How long one run of the init container waits before it exits 10 (default 10m)
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Print a strategic-merge patch for `kubectl patch deployment NAME --patch-file FILE`
    #[arg(long)]
    pub patch: bool,
    /// `replace` (default) runs the wait command as the gate's `command`, in
    /// place of the image's ENTRYPOINT; `keep` passes it as `args` to the entrypoint the app
    /// runs under (the image's ENTRYPOINT, or the container's own `command`), which must exec
    /// its arguments, for an entrypoint that exports the database settings
    #[arg(long, value_enum, value_name = "HOW")]
    pub entrypoint: Option<Entrypoint>,
}

/// `exec` arguments.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Pass stdin to the command until it ends (end of file closes the command's stdin),
    /// as `kubectl exec -i` does
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Give the command a terminal, as `kubectl exec -t`: with -i on a terminal, keys,
    /// Ctrl-C and Ctrl-D reach the command (raw mode) and its window size follows yours
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub argv: Vec<String>,
}

/// `logs` arguments.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The run name (the Job's name, as the `runs` subcommand lists it)
    #[arg(value_name = "RUN")]
    pub run: String,
}

/// `completions` arguments.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `unlock` flags.
#[derive(Debug, Clone, Args)]
pub struct UnlockArgs {
    /// Clear a lock that still looks live (renewed within its duration, or held by a Job
    /// that is still active): its run may still be going. `--yes` alone clears only a lock
    /// whose holder looks gone
    #[arg(long)]
    pub force: bool,
}

/// `init` flags.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Overwrite an existing kmigrate.toml
    #[arg(long)]
    pub force: bool,
    /// Print only the RBAC Role, and write no file (for a kmigrate.toml that exists, or an
    /// installed kmigrate without the repository's rbac/)
    #[arg(long, conflicts_with = "force")]
    pub rbac: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
        command_named(crate::program_name::PLUGIN).debug_assert();
    }

    #[test]
    fn rollback_needs_a_target() {
        assert!(Cli::try_parse_from(["kmigrate", "rollback"]).is_err());
        assert!(Cli::try_parse_from(["kmigrate", "rollback", "--step", "1", "--to", "1"]).is_err());
        assert!(Cli::try_parse_from(["kmigrate", "rollback", "--step", "1"]).is_ok());
    }

    #[test]
    fn exec_takes_everything_after_double_dash() {
        let cli = Cli::try_parse_from([
            "kmigrate", "exec", "-l", "app=x", "--", "sh", "-c", "exit 3",
        ])
        .unwrap();
        let Command::Exec(args) = cli.command else {
            panic!("not exec")
        };
        assert_eq!(args.argv, ["sh", "-c", "exit 3"]);
        assert_eq!(cli.global.selector.as_deref(), Some("app=x"));
    }
}
