//! What the user asked for, validated: the one value that dispatch matches on.

use std::time::Duration;

use clap_complete::Shell;

use crate::ecto_snippet::{Operation, PlanHash, Range, Version};
use crate::error::usage;
use crate::job::Entrypoint;
use crate::migration_plan::lint::FailOn;

/// The default `--timeout` of the commands that only read ([`Action::default_timeout`]).
pub const READ_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The validated subcommand with everything it needs.
#[derive(Debug, Clone)]
pub enum Action {
    /// Run pending migrations.
    Migrate(Change),
    /// Revert migrations.
    Rollback(Change),
    /// List migrations; `gate` makes pending ones exit with their own code.
    Status {
        /// `--exit-code`.
        gate: bool,
    },
    /// Wait until the database holds every migration of the image.
    Wait {
        /// Give up then, with the pending code.
        deadline: Duration,
    },
    /// Print the schema gate's init container for the app's Deployment.
    Gate(Gate),
    /// Show the plan of a migrate.
    Plan,
    /// Check migration files on disk, offline.
    Lint(Lint),
    /// Run any command in the chosen pod.
    Exec {
        /// The remote argv.
        argv: Vec<String>,
        /// `-i`: stdin is passed to the command.
        stdin: bool,
        /// `-t`: the command gets a terminal.
        tty: bool,
    },
    /// The release's remote console on the chosen pod's running node.
    Console {
        /// `<release> remote`.
        argv: Vec<String>,
    },
    /// Explain the pod choice.
    Pods,
    /// List Job-mode runs.
    Runs,
    /// Follow a Job-mode run again.
    Logs {
        /// The run's (Job's) name.
        run: RunName,
    },
    /// Show and clear the single-runner lock; `force` clears a live one too.
    Unlock {
        /// `--force`.
        force: bool,
    },
    /// Check the setup and say how to fix what fails.
    Doctor,
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Write the config scaffold and print the Role.
    Init {
        /// Overwrite an existing file.
        force: bool,
        /// Print only the Role; write nothing.
        rbac: bool,
    },
}

/// `lint`: which files, and what fails it.
#[derive(Debug, Clone)]
pub struct Lint {
    /// Files or folders; empty means the app's `priv/*/migrations` and
    /// `priv/*/tenant_migrations`, and an umbrella's `apps/*/priv/*/...` of both.
    pub paths: Vec<std::path::PathBuf>,
    /// What fails the lint.
    pub fail_on: FailOn,
    /// Also print GitHub Actions workflow commands.
    pub github: bool,
}

/// How long `wait` and the gate wait unless `--deadline` says otherwise.
pub const WAIT_DEADLINE: Duration = Duration::from_secs(600);

/// `gate`: which Deployment, which image, how long each run of the init container waits.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The image; `None` means the Deployment's app container's.
    pub image: Option<String>,
    /// The Deployment; `None` means the owner of the chosen pod.
    pub deployment: Option<String>,
    /// The wait snippet's deadline.
    pub deadline: Duration,
    /// Print a strategic-merge patch instead of the bare entry.
    pub patch: bool,
    /// Whether the gate's command replaces the entrypoint the app runs under, or runs under it.
    pub entrypoint: Entrypoint,
}

/// A migrate or rollback: how far, and the exact remote command.
#[derive(Debug, Clone)]
pub struct Change {
    /// How far to go.
    pub range: Range,
    /// The remote argv: the embedded snippet, or the configured custom command.
    pub argv: Vec<String>,
    /// Whether `argv` is the configured custom command (no Ecto preview possible).
    pub custom: bool,
    /// `--plan`: the run is held to this plan.
    pub plan: Option<PlanHash>,
    /// `--allow-destructive`: destructive migrations allowed in a protected environment.
    pub allow_destructive: Vec<Version>,
    /// `--allow-breaking`: migrations allowed to break the running code there.
    pub allow_breaking: Vec<Version>,
}

impl Change {
    /// A migrate held to `--plan` and allowing `--allow-destructive`, validated: a plan
    /// needs the embedded snippet, which checks it in the run itself.
    pub fn guarded(
        mut self,
        ecto: Option<&super::Ecto>,
        plan: Option<&str>,
        allow: &[String],
        allow_breaking: &[String],
    ) -> anyhow::Result<Self> {
        // An empty list (`--allow-destructive ""`, as a script may pass) allows nothing.
        let versions = |list: &[String], flag: &str| -> anyhow::Result<Vec<Version>> {
            list.iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| Version::parse(v.trim()))
                .collect::<Result<_, _>>()
                .map_err(|e| usage(format!("{flag}: {e}")))
        };
        self.allow_destructive = versions(allow, "--allow-destructive")?;
        self.allow_breaking = versions(allow_breaking, "--allow-breaking")?;
        let Some(plan) = plan else {
            return Ok(self);
        };
        let hash = PlanHash::parse(plan.trim()).map_err(usage)?;
        let Some(ecto) = ecto else {
            return Err(usage(
                "--plan needs the embedded Ecto snippet, which checks the plan in the run itself; the configured migrate_command cannot",
            ));
        };
        self.argv = ecto.argv(Operation::MigratePlanned(self.range, hash));
        self.plan = Some(hash);
        Ok(self)
    }
}

impl Action {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Migrate(_) => "migrate",
            Action::Rollback(_) => "rollback",
            Action::Status { .. } => "status",
            Action::Wait { .. } => "wait",
            Action::Gate(_) => "gate",
            Action::Plan => "plan",
            Action::Lint(_) => "lint",
            Action::Exec { .. } => "exec",
            Action::Console { .. } => "console",
            Action::Pods => "pods",
            Action::Runs => "runs",
            Action::Logs { .. } => "logs",
            Action::Unlock { .. } => "unlock",
            Action::Doctor => "doctor",
            Action::Completions { .. } => "completions",
            Action::Init { .. } => "init",
        }
    }

    /// Whether the run may change the database (migrate, rollback, and exec, which can run
    /// anything): such runs leave an audit Event.
    pub fn changes_database(&self) -> bool {
        // Every action named: a new one needs a decision here.
        match self {
            Action::Migrate(_)
            | Action::Rollback(_)
            | Action::Exec { .. }
            | Action::Console { .. } => true,
            Action::Status { .. }
            | Action::Wait { .. }
            | Action::Gate(_)
            | Action::Plan
            | Action::Pods
            | Action::Runs
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Doctor
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        }
    }

    /// The `--timeout` of a command that only reads, when none is given: a read that hangs
    /// (a pod that never answers, a server that stops mid-stream) ends with 124 instead of
    /// never. `wait` gets its own `--deadline` on top. Changes (migrate, rollback, exec,
    /// console), the follow of a Job's log and the interactive `unlock` have none: a
    /// migration, or a person, may take as long as it takes.
    pub fn default_timeout(&self) -> Option<Duration> {
        match self {
            Action::Status { .. }
            | Action::Plan
            | Action::Gate(_)
            | Action::Pods
            | Action::Runs
            | Action::Doctor => Some(READ_TIMEOUT),
            Action::Wait { deadline } => Some(*deadline + READ_TIMEOUT),
            Action::Migrate(_)
            | Action::Rollback(_)
            | Action::Exec { .. }
            | Action::Console { .. }
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => None,
        }
    }

    /// Whether Job mode (`--image`, or `job = true` in the config) runs this action in a Job.
    /// Doctor only checks what Job mode needs, and creates nothing.
    pub fn runs_in_job(&self) -> bool {
        match self {
            Action::Migrate(_)
            | Action::Rollback(_)
            | Action::Status { .. }
            | Action::Plan
            | Action::Wait { .. } => true,
            Action::Doctor
            | Action::Gate(_)
            | Action::Exec { .. }
            | Action::Console { .. }
            | Action::Pods
            | Action::Runs
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        }
    }

    /// Whether several environments (`-e a,b`, a group) may run this action, one after
    /// the other.
    pub fn fans_out(&self) -> bool {
        match self {
            Action::Migrate(_) | Action::Rollback(_) | Action::Status { .. } => true,
            Action::Wait { .. }
            | Action::Gate(_)
            | Action::Plan
            | Action::Exec { .. }
            | Action::Console { .. }
            | Action::Pods
            | Action::Runs
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Doctor
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        }
    }

    /// Whether the action works on the app's pods (and so needs a selector or `--pod`).
    pub fn needs_pod(&self) -> bool {
        match self {
            Action::Migrate(_)
            | Action::Rollback(_)
            | Action::Status { .. }
            | Action::Wait { .. }
            | Action::Plan
            | Action::Exec { .. }
            | Action::Console { .. }
            | Action::Pods
            | Action::Doctor => true,
            Action::Gate(g) => g.deployment.is_none(),
            Action::Runs
            | Action::Logs { .. }
            | Action::Unlock { .. }
            | Action::Lint(_)
            | Action::Completions { .. }
            | Action::Init { .. } => false,
        }
    }
}

/// A run name as `kmigrate runs` lists it (a Job name): a DNS label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunName(String);

impl RunName {
    /// Validate a run name.
    pub fn parse(run: &str) -> anyhow::Result<Self> {
        let valid = !run.is_empty()
            && run.len() <= 63
            && run
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(run.to_owned()))
        } else {
            Err(usage(format!(
                "invalid run name {run:?}; `{} runs` lists them",
                crate::program_name::on_target()
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fill `{step}` and `{to}` in a custom command with the validated range. A range the
/// template cannot express, or a placeholder left without a value, is a usage error:
/// running the script without the limit the user asked for could migrate or revert more.
pub fn fill_custom(argv: &[String], range: Range, key: &str) -> anyhow::Result<Vec<String>> {
    let has = |p: &str| argv.iter().any(|a| a.contains(p));
    let (step, to) = match range {
        Range::Step(n) => (Some(n.get().to_string()), None),
        Range::To(v) => (None, Some(v.to_string())),
        Range::ToExclusive(_) => {
            return Err(usage(format!(
                "--to-exclusive cannot be passed on to {key} (it has {{step}} and {{to}} placeholders only); use --to with the version before it"
            )));
        }
        Range::All => (None, None),
    };
    let slots = [("{step}", &step, "--step"), ("{to}", &to, "--to")];
    for (placeholder, value, flag) in slots {
        if value.is_some() && !has(placeholder) {
            return Err(usage(format!(
                "{flag} was given but {key} has no {placeholder} placeholder to pass it on; add it to {key} or drop {flag}"
            )));
        }
    }
    for (placeholder, value, flag) in slots {
        if value.is_none() && has(placeholder) {
            return Err(usage(format!(
                "{key} uses {placeholder} but no {flag} was given"
            )));
        }
    }
    Ok(argv
        .iter()
        .map(|a| {
            let a = step
                .as_ref()
                .map_or_else(|| a.clone(), |s| a.replace("{step}", s));
            to.as_ref().map_or(a.clone(), |t| a.replace("{to}", t))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::{Step, Version};

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn custom_command_placeholders() {
        let step = Range::Step(Step::parse("3").unwrap());
        assert_eq!(
            fill_custom(&argv(&["/app/bin/rollback", "--step={step}"]), step, "k").unwrap(),
            ["/app/bin/rollback", "--step=3"]
        );
        let to = Range::To(Version::from(20240101));
        assert_eq!(
            fill_custom(&argv(&["m", "{to}"]), to, "k").unwrap(),
            ["m", "20240101"]
        );
        assert_eq!(fill_custom(&argv(&["m"]), Range::All, "k").unwrap(), ["m"]);
    }

    #[test]
    fn a_range_the_template_cannot_carry_is_refused() {
        let to = Range::To(Version::from(7));
        let err = fill_custom(&argv(&["r", "{step}"]), to, "rollback_command").unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
        assert!(err.to_string().contains("{to}"), "{err}");
        let err =
            fill_custom(&argv(&["m"]), Range::Step(Step::parse("1").unwrap()), "k").unwrap_err();
        assert!(err.to_string().contains("--step"), "{err}");
        // A placeholder is never replaced by nothing.
        assert!(fill_custom(&argv(&["m", "{step}"]), Range::All, "k").is_err());
    }

    #[test]
    fn run_names() {
        assert!(RunName::parse("kmigrate-demo-20260101000000-abcd").is_ok());
        for bad in ["", "Run", "a b", "a/b", &"a".repeat(64)] {
            assert!(RunName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
