//! The failures that have their own exit code, the table that documents every code, and
//! the one place that maps a run's result to its exit code and outcome.

use std::fmt;

/// Exit codes of kmigrate's own failures. Remote exit codes pass through unchanged.
pub mod code {
    /// The remote command (or kmigrate itself) succeeded.
    pub const SUCCESS: u8 = 0;
    /// Bad flags, bad config file, bad kubeconfig, invalid input.
    pub const USAGE: u8 = 2;
    /// `status --exit-code` found pending migrations, or `wait` reached its deadline with
    /// migrations still missing.
    pub const PENDING: u8 = 10;
    /// No pod (or container) matched.
    pub const NO_POD: u8 = 69;
    /// An unexpected failure of kmigrate itself.
    pub const INTERNAL: u8 = 70;
    /// The migration Job's pod could not start (image pull error, unschedulable, ...).
    pub const JOB_NOT_STARTED: u8 = 71;
    /// The migrations pending changed between the confirmed plan and the run.
    pub const PLAN_CHANGED: u8 = 72;
    /// The confirmation was declined, or a protected run had no terminal and no `--yes`.
    pub const REFUSED: u8 = 73;
    /// Another run holds the single-runner lock.
    pub const LOCKED: u8 = 74;
    /// The connection was lost while the remote command ran: its outcome is unknown.
    pub const UNKNOWN: u8 = 75;
    /// The Kubernetes API could not be reached or failed before anything ran.
    pub const API: u8 = 76;
    /// RBAC denied a request.
    pub const FORBIDDEN: u8 = 77;
    /// A migration hit the run's `--lock-timeout` or `--statement-timeout`.
    pub const DB_TIMEOUT: u8 = 78;
    /// Some tenants failed (or were not valid prefixes); the others were migrated.
    pub const TENANTS_FAILED: u8 = 79;
    /// Several targets (environments) were run: some succeeded, some did not.
    pub const PARTIAL: u8 = 80;
    /// `doctor`: a check failed.
    pub const CHECK_FAILED: u8 = 81;
    /// `migrate --plan HASH`: the pending migrations or their files are not those of the plan.
    pub const PLAN_STALE: u8 = 82;
    /// `lint`: an unreviewed finding at or above `--fail-on`.
    pub const LINT_FAILED: u8 = 83;
    /// The run's sessions would not carry its name or timeouts (a pooler such as PgBouncer).
    pub const SESSION: u8 = 84;
    /// PostgreSQL refused a connection of the run: `max_connections` or a `CONNECTION LIMIT`.
    pub const CONNECTIONS: u8 = 85;
    /// `--timeout` expired.
    pub const TIMEOUT: u8 = 124;
    /// The remote side reported a failure without an exit code (the command never ran).
    pub const NOT_STARTED: u8 = 126;
    /// Stopped by SIGHUP (the terminal or SSH session went away).
    pub const HANGUP: u8 = 129;
    /// Interrupted by Ctrl-C (SIGINT).
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM.
    pub const TERMINATED: u8 = 143;
}

/// One documented exit code: the source of the `--help` text and the reference's table.
pub struct ExitCodeDoc {
    /// The code.
    pub code: u8,
    /// A few words, for `--help`.
    pub short: &'static str,
    /// What it means, for docs/reference/exit-codes.md.
    pub meaning: &'static str,
    /// What to do about it, for docs/reference/exit-codes.md.
    pub todo: &'static str,
}

/// Every exit code of kmigrate's own, in order.
pub const EXIT_CODES: &[ExitCodeDoc] = &[
    ExitCodeDoc {
        code: code::SUCCESS,
        short: "success",
        meaning: "success: the remote side reported success",
        todo: "",
    },
    ExitCodeDoc {
        code: code::USAGE,
        short: "usage or config error",
        meaning: "usage or configuration error: bad flag, config, kubeconfig, selector, name, version; or the pod's snippet refused the run \
                  before anything ran (e.g. an unknown `--to`, a repo that is not PostgreSQL, `--concurrency` above 1 with tenants on an ecto_sql \
                  older than 3.7.1)",
        todo: "fix the input; nothing was run",
    },
    ExitCodeDoc {
        code: code::PENDING,
        short: "pending migrations (status --exit-code, wait)",
        meaning: "migrations are pending: `status --exit-code` found some, or `wait` reached its `--deadline` with migrations of the image still missing (the `gate` init container exits 10 then too)",
        todo: "run `kmigrate migrate` (with `--image` for a new release)",
    },
    ExitCodeDoc {
        code: code::NO_POD,
        short: "no matching pod",
        meaning: "no matching pod, or the pod has no such container",
        todo: "check `kmigrate pods`, `-n`, `-l`, `-c`",
    },
    ExitCodeDoc {
        code: code::INTERNAL,
        short: "internal error",
        meaning: "internal error, or kmigrate's own output or file could not be written",
        todo: "a full disk or closed file is named in the message; otherwise report a bug",
    },
    ExitCodeDoc {
        code: code::JOB_NOT_STARTED,
        short: "Job pod could not start",
        meaning: "Job mode: the Job's container never ran and will not: its pod could not start \
            (image pull, config error, unschedulable, past `--start-grace`) and kmigrate \
            deleted the Job, or the pod failed first (init container, eviction)",
        todo: "fix the image or the Deployment; `kmigrate runs`",
    },
    ExitCodeDoc {
        code: code::PLAN_CHANGED,
        short: "plan changed, nothing run",
        meaning: "what would be applied or reverted changed between the plan you confirmed and the run; nothing was run",
        todo: "read the new plan: run the command again",
    },
    ExitCodeDoc {
        code: code::REFUSED,
        short: "confirmation refused",
        meaning: "confirmation refused, or protected run without a terminal and without `--yes`, or a destructive migration a protected run \
            did not allow, or `unlock` of a lock that looks live without `--force`, or `gate` asked to print a credential \
            the Deployment holds as a literal env value; nothing was run",
        todo: "confirm, or pass `--yes`; review `kmigrate plan`, then pass `--allow-destructive VERSION`; \
            move a literal credential into a Secret",
    },
    ExitCodeDoc {
        code: code::LOCKED,
        short: "another run holds the lock",
        meaning: "another run holds the single-runner lock (its holder is named), a run whose outcome is unknown \
            left it (the message says why: interrupted, timed out, connection lost, and whether its pod is still \
            there), or the lock was lost before the command started",
        todo: "wait, or pass `--wait`; for a kept lock, `kmigrate status`, then `kmigrate unlock`",
    },
    ExitCodeDoc {
        code: code::UNKNOWN,
        short: "outcome unknown",
        meaning: "the outcome is unknown: the connection was lost while the remote command ran, \
            the remote side failed without an exit code after the command started, or (Job \
            mode) the Job may exist or still start, or ended without an exit code, or its \
            container exited 0 but its log (the snippet's own report) could not be read; the lock \
            stays held. For a command that only reads (`status`, `plan`, `wait`, the plan read before a \
            change) the same loss, or a pod silent for 120 s, means what it read is unknown: nothing was \
            changed, no lock is kept, and the message says so",
        todo: "run `kmigrate status` (Job mode: `kmigrate logs RUN`) before anything else, then `kmigrate unlock`; \
            a read: run it again",
    },
    ExitCodeDoc {
        code: code::API,
        short: "API unreachable or failed",
        meaning: "the Kubernetes API could not be reached or failed before anything ran",
        todo: "check the cluster and kubeconfig",
    },
    ExitCodeDoc {
        code: code::FORBIDDEN,
        short: "permission denied",
        meaning: "permission denied (RBAC 403, or 401 rejected credentials); the message names the denied verb and resource",
        todo: "apply the Role from `kmigrate init`; refresh credentials",
    },
    ExitCodeDoc {
        code: code::DB_TIMEOUT,
        short: "migration hit --lock-timeout or --statement-timeout",
        meaning: "a migration waited longer than `--lock-timeout` for a lock, or ran longer \
            than `--statement-timeout`; PostgreSQL cancelled it and Ecto rolled its transaction \
            back (a `@disable_ddl_transaction` migration may be half done: the message says \
            which); migrations before it stay applied and are listed",
        todo: "see who held the lock (printed while waiting), then run again",
    },
    ExitCodeDoc {
        code: code::TENANTS_FAILED,
        short: "some tenants failed",
        meaning: "tenants (`--prefix`, `--prefixes-from`): with `--continue-on-error`, some \
            tenants failed and every other one was migrated; or a name `--prefixes-from` \
            returned is not a valid prefix and was not run. Each tenant's outcome is listed \
            (`tenants` in JSON). Without `--continue-on-error` the first failure stops the run \
            and its remote exit code passes through",
        todo: "fix the failed tenants, then run again: tenants already up are skipped",
    },
    ExitCodeDoc {
        code: code::PARTIAL,
        short: "some environments failed",
        meaning: "several environments (`-e a,b` or a group) ran and some succeeded while others failed or \
            did not run; when none succeeded the first failure's own code is the exit code. Before 80: \
            an environment whose outcome is unknown or that was stopped (75, 124, 129, 130, 143: its \
            lock stays held) gives its own code, and pending migrations with no failure (`status \
            --exit-code`) give 10; pending migrations do not stop the other environments from being read",
        todo: "read `environments` in `-o json` (or the summary): fix the failed ones and run them again",
    },
    ExitCodeDoc {
        code: code::CHECK_FAILED,
        short: "doctor: a check failed",
        meaning: "`kmigrate doctor`: at least one check failed (the failed checks are named, each with its fix; a warning alone does not fail)",
        todo: "apply each failed check's fix, then run `kmigrate doctor` again",
    },
    ExitCodeDoc {
        code: code::PLAN_STALE,
        short: "not the approved plan (--plan), nothing run",
        meaning: "`migrate --plan HASH`: the pending migrations or their files are not those of \
            the approved plan (a migration was added, applied or edited since `kmigrate plan`); \
            checked in the same remote run, right before the first migration; nothing was run",
        todo: "make and review a new plan with `kmigrate plan`",
    },
    ExitCodeDoc {
        code: code::LINT_FAILED,
        short: "lint: a finding at or above --fail-on",
        meaning: "`kmigrate lint`: a migration file has a finding not marked as reviewed that is at \
            least as severe as `--fail-on` (default: destructive); each is listed with its line \
            and the safe way to do the same",
        todo: "follow each finding's fix, or, when the change is meant, mark it reviewed \
            (`@safety_assured`, or a safety-assured comment)",
    },
    ExitCodeDoc {
        code: code::SESSION,
        short: "session parameters not in force (PgBouncer)",
        meaning: "the run's database sessions would not carry its parameters: the database, \
            typically PgBouncer, refused one (\"unsupported startup parameter\"), or took \
            `--lock-timeout`/`--statement-timeout` (or the session name) and did not apply it, \
            as its `ignore_startup_parameters` does; nothing was run",
        todo: "run migrations on a direct connection to PostgreSQL, or see \
            docs/guide/pgbouncer.md; `kmigrate doctor` checks it",
    },
    ExitCodeDoc {
        code: code::CONNECTIONS,
        short: "PostgreSQL refused connections",
        meaning: "the run failed and PostgreSQL had refused some of its connections (SQLSTATE 53300): the role's or the \
            database's `CONNECTION LIMIT`, or the server's `max_connections`; the message names the limit and how many \
            connections the run opens (docs/guide/tenants.md, Connections)",
        todo: "raise that limit (`ALTER ROLE ... CONNECTION LIMIT`, `ALTER DATABASE ... CONNECTION LIMIT`, \
            `max_connections`), or lower `--concurrency`, then run again: what was applied is skipped",
    },
    ExitCodeDoc {
        code: code::TIMEOUT,
        short: "timeout",
        meaning: "`--timeout` expired (once a migration started, it may still be running and the lock stays held, as the \
            message says; before, at the confirmation or while the plan was read, nothing was run \
            and no lock is kept)",
        todo: "`kmigrate status`, then `kmigrate unlock`",
    },
    ExitCodeDoc {
        code: code::NOT_STARTED,
        short: "remote command did not start",
        meaning: "the remote command could not be started, and nothing was output (e.g. the release path does not exist)",
        todo: "check `--release` and the container",
    },
    ExitCodeDoc {
        code: code::HANGUP,
        short: "SIGHUP",
        meaning: "stopped by SIGHUP: the terminal or SSH session went away (once a migration started, it may still be running and the lock stays held, as the \
            message says; before, at the confirmation or while the plan was read, nothing was run \
            and no lock is kept)",
        todo: "`kmigrate status`, then `kmigrate unlock`",
    },
    ExitCodeDoc {
        code: code::INTERRUPTED,
        short: "Ctrl-C",
        meaning: "interrupted by Ctrl-C (once a migration started, it may still be running and the lock stays held, as the \
            message says; before, at the confirmation or while the plan was read, nothing was run \
            and no lock is kept)",
        todo: "`kmigrate status`, then `kmigrate unlock`",
    },
    ExitCodeDoc {
        code: code::TERMINATED,
        short: "SIGTERM",
        meaning: "stopped by SIGTERM (once a migration started, it may still be running and the lock stays held, as the \
            message says; before, at the confirmation or while the plan was read, nothing was run \
            and no lock is kept)",
        todo: "`kmigrate status`, then `kmigrate unlock`",
    },
];

/// The exit-code line of `--help`.
pub fn exit_codes_help() -> String {
    let codes: Vec<String> = EXIT_CODES
        .iter()
        .map(|d| format!("{} {}", d.code, d.short))
        .collect();
    format!(
        "Exit codes: {}; any other code is the remote command's own, passed through (--remote-failure-code maps every \
         remote failure to one code; stderr and the JSON report's exit_code_source say whose a code is).",
        codes.join("; ")
    )
}

/// The exit-code table of docs/reference/exit-codes.md, as Markdown.
pub fn exit_codes_markdown() -> String {
    let mut out = "| code | meaning | what to do |\n| --- | --- | --- |\n".to_owned();
    for d in EXIT_CODES {
        out.push_str(&format!("| {} | {} | {} |\n", d.code, d.meaning, d.todo));
    }
    out
}

/// A failure with its own documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid input, config or kubeconfig: nothing was sent anywhere.
    #[error("{0}")]
    Usage(String),
    /// No candidate pod or container.
    #[error("{0}")]
    NoPod(String),
    /// Forbidden by RBAC.
    #[error("permission denied: {message}")]
    Forbidden {
        /// The API server's explanation, which names user, verb and resource.
        message: String,
        /// What the user can do about it.
        hint: String,
    },
    /// Confirmation declined or impossible.
    #[error("{0}")]
    Refused(String),
    /// The plan changed after it was confirmed.
    #[error("{0}")]
    PlanChanged(String),
    /// Another run holds the lock.
    #[error("{0}")]
    Locked(String),
    /// A migration hit the run's lock or statement timeout.
    #[error("{0}")]
    DbTimeout(String),
    /// Some tenants failed; the others were migrated.
    #[error("{0}")]
    TenantsFailed(String),
    /// The pending migrations are not those of the plan `--plan` named.
    #[error("{0}")]
    PlanStale(String),
    /// The Job's pod could not start.
    #[error("{0}")]
    JobNotStarted(String),
    /// `wait` reached its deadline with migrations still missing.
    #[error("{0}")]
    Pending(String),
    /// `doctor`: a check failed.
    #[error("{0}")]
    CheckFailed(String),
    /// `lint`: a finding at or above `--fail-on`.
    #[error("{0}")]
    LintFailed(String),
    /// The run's sessions would not carry its parameters; nothing was run.
    #[error("{0}")]
    Session(String),
    /// PostgreSQL refused connections of a run that failed.
    #[error("{0}")]
    Connections(String),
    /// The remote command may have run, or may still run, and nothing says how it ended:
    /// the exec stream ended without an exit status, or a Job may exist or still start.
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// A command that only reads lost its answer (silence past the idle limit, a stream
    /// without a status): nothing was changed, nothing is left to check.
    #[error("{0}")]
    ReadLost(String),
    /// The API server failed before anything ran remotely.
    #[error("{0}")]
    Api(String),
    /// The remote side failed without running the command.
    #[error("{0}")]
    NotStarted(String),
    /// `--timeout` expired; `running` says whether a remote command may still be running.
    #[error("timed out after {after}")]
    Timeout {
        /// The configured timeout, as the user wrote it.
        after: String,
        /// Whether the remote command had been started.
        running: bool,
    },
    /// A signal stopped the run.
    #[error("interrupted by {signal}")]
    Interrupted {
        /// `SIGINT`, `SIGTERM` or `SIGHUP`.
        signal: &'static str,
        /// Whether the remote command had been started.
        running: bool,
    },
}

impl Error {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => code::USAGE,
            Error::NoPod(_) => code::NO_POD,
            Error::Forbidden { .. } => code::FORBIDDEN,
            Error::Refused(_) => code::REFUSED,
            Error::PlanChanged(_) => code::PLAN_CHANGED,
            Error::Locked(_) => code::LOCKED,
            Error::DbTimeout(_) => code::DB_TIMEOUT,
            Error::TenantsFailed(_) => code::TENANTS_FAILED,
            Error::PlanStale(_) => code::PLAN_STALE,
            Error::JobNotStarted(_) => code::JOB_NOT_STARTED,
            Error::Pending(_) => code::PENDING,
            Error::CheckFailed(_) => code::CHECK_FAILED,
            Error::LintFailed(_) => code::LINT_FAILED,
            Error::Session(_) => code::SESSION,
            Error::Connections(_) => code::CONNECTIONS,
            Error::Unknown(_) | Error::ReadLost(_) => code::UNKNOWN,
            Error::Api(_) => code::API,
            Error::NotStarted(_) => code::NOT_STARTED,
            Error::Timeout { .. } => code::TIMEOUT,
            Error::Interrupted { signal, .. } => match *signal {
                "SIGTERM" => code::TERMINATED,
                "SIGHUP" => code::HANGUP,
                _ => code::INTERRUPTED,
            },
        }
    }

    /// A line of advice printed after the error, if any.
    pub fn advice(&self) -> Option<String> {
        let check = || {
            format!(
                "The remote process may still be running; check the result with `{} status` before running anything again.",
                crate::program_name::on_target()
            )
        };
        match self {
            Error::Forbidden { hint, .. } => Some(hint.clone()),
            Error::Unknown(_) => Some(check()),
            Error::Timeout { running: true, .. } | Error::Interrupted { running: true, .. } => {
                Some(check())
            }
            Error::Timeout { running: false, .. } | Error::Interrupted { running: false, .. } => {
                Some(
                    "No migration had started: nothing was changed, and no lock is kept."
                        .to_owned(),
                )
            }
            _ => None,
        }
    }
}

/// How a run ended: the JSON report's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The remote side said it succeeded (or there was nothing to do).
    Success,
    /// The remote command failed, or checks failed.
    Failed,
    /// A status or wait gate found migrations pending.
    Pending,
    /// The remote side may or may not have finished: nobody knows.
    Unknown,
    /// Refused before anything ran (confirmation, policy, a changed plan).
    Refused,
    /// Stopped by `--timeout`.
    Timeout,
    /// Stopped by a signal.
    Interrupted,
    /// Any other error of kmigrate's own (usage, no pod, API).
    Error,
    /// Several environments: some succeeded, some did not.
    Partial,
    /// Several environments: this one was not run.
    NotRun,
}

impl Outcome {
    /// The name the JSON report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Pending => "pending",
            Outcome::Unknown => "unknown",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Interrupted => "interrupted",
            Outcome::Error => "error",
            Outcome::Partial => "partial",
            Outcome::NotRun => "not run",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose exit code a run ends with: the JSON report's `exit_code_source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeSource {
    /// One of kmigrate's own codes ([`EXIT_CODES`]), 0 included.
    #[default]
    Kmigrate,
    /// The remote command failed: its own exit code, passed through, or the code
    /// `--remote-failure-code` maps every remote failure to.
    Remote,
}

impl CodeSource {
    /// The name the JSON report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSource::Kmigrate => "kmigrate",
            CodeSource::Remote => "remote",
        }
    }
}

/// How a run ended, for the JSON report's `outcome`, with the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conclusion {
    /// The process exit code.
    pub exit_code: u8,
    /// What the report calls it.
    pub outcome: Outcome,
    /// Whose code `exit_code` is.
    pub source: CodeSource,
}

impl Conclusion {
    /// A conclusion with one of kmigrate's own codes.
    pub fn own(exit_code: u8, outcome: Outcome) -> Self {
        Self {
            exit_code,
            outcome,
            source: CodeSource::Kmigrate,
        }
    }

    /// With `--remote-failure-code`: a remote failure exits with that code instead of its
    /// own. Anything else stays.
    pub fn mapped(self, remote_failure_code: Option<u8>) -> Self {
        match (self.source, remote_failure_code) {
            (CodeSource::Remote, Some(code)) => Self {
                exit_code: code,
                ..self
            },
            _ => self,
        }
    }

    /// The stderr line that says whose exit code this is (`remote`: what the remote
    /// command exited with), or nothing for success.
    pub fn whose(&self, remote: Option<i32>) -> Option<String> {
        let code = self.exit_code;
        match self.source {
            _ if code == code::SUCCESS => None,
            CodeSource::Remote => Some(match remote {
                Some(r) if i32::from(code) != r => format!(
                    "kmigrate: exit code {code} stands for the remote command's failure (it exited {r}; --remote-failure-code)"
                ),
                _ => format!(
                    "kmigrate: exit code {code} is the remote command's own, passed through; kmigrate's own codes are listed \
                     in --help (--remote-failure-code maps every remote failure to one code)"
                ),
            }),
            CodeSource::Kmigrate => {
                let short = EXIT_CODES
                    .iter()
                    .find(|d| d.code == code)
                    .map_or("", |d| d.short);
                Some(format!(
                    "kmigrate: exit code {code} is kmigrate's own ({short})"
                ))
            }
        }
    }

    /// Whether the remote command may still be running: the outcome is unknown, or the run
    /// was stopped by the deadline or a signal.
    pub fn remote_may_run(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Unknown | Outcome::Timeout | Outcome::Interrupted
        )
    }
}

/// The one place a run's result becomes an exit code: a remote exit code passes through
/// (codes outside 0..=255 become 1), a tripped status gate is [`code::PENDING`], and an
/// error keeps its typed code (anything untyped is internal).
pub fn conclude(
    result: &anyhow::Result<()>,
    remote: Option<i32>,
    gate_tripped: bool,
) -> Conclusion {
    match result {
        Ok(()) => match remote {
            Some(c) if c != 0 => Conclusion {
                exit_code: u8::try_from(c).unwrap_or(1),
                outcome: Outcome::Failed,
                source: CodeSource::Remote,
            },
            _ if gate_tripped => Conclusion::own(code::PENDING, Outcome::Pending),
            _ => Conclusion::own(code::SUCCESS, Outcome::Success),
        },
        Err(e) => conclusion_of(e),
    }
}

/// How a run that ended in this error concluded: its typed error decides both.
pub fn conclusion_of(e: &anyhow::Error) -> Conclusion {
    let typed = e.chain().find_map(|c| c.downcast_ref::<Error>());
    // Every variant named: a new one needs a decision here.
    let outcome = match typed {
        Some(Error::Unknown(_) | Error::ReadLost(_)) => Outcome::Unknown,
        Some(Error::Refused(_) | Error::PlanChanged(_) | Error::PlanStale(_)) => Outcome::Refused,
        Some(Error::Timeout { .. }) => Outcome::Timeout,
        // The remote command ended (PostgreSQL cancelled a statement, or tenants
        // failed and the others were migrated): it failed.
        Some(Error::DbTimeout(_) | Error::TenantsFailed(_) | Error::Connections(_)) => {
            Outcome::Failed
        }
        Some(Error::Pending(_)) => Outcome::Pending,
        Some(Error::CheckFailed(_) | Error::LintFailed(_)) => Outcome::Failed,
        Some(Error::Interrupted { .. }) => Outcome::Interrupted,
        Some(
            Error::Usage(_)
            | Error::NoPod(_)
            | Error::Forbidden { .. }
            | Error::Locked(_)
            | Error::Session(_)
            | Error::JobNotStarted(_)
            | Error::Api(_)
            | Error::NotStarted(_),
        )
        | None => Outcome::Error,
    };
    Conclusion::own(exit_code_of(e), outcome)
}

/// Short-hand for a usage error.
pub fn usage(msg: impl fmt::Display) -> anyhow::Error {
    Error::Usage(msg.to_string()).into()
}

/// The exit code for any error: typed errors keep theirs, anything else is internal.
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(code::INTERNAL, Error::exit_code)
}

/// Print an error (with its causes and advice) to stderr. A stderr that is gone (the
/// terminal hung up) is not a reason to panic: the exit code and report still follow.
pub fn print(err: &anyhow::Error) {
    let mut msg = format!("error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!(": {cause}"));
    }
    let mut text = format!("{}\n", crate::text::printable_text(&msg));
    if let Some(advice) = err
        .chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .and_then(Error::advice)
    {
        text.push_str(&format!("{}\n", crate::text::printable_text(&advice)));
    }
    crate::stderr::process().write(text.as_bytes());
}

/// Say on stderr whose exit code the run ends with (nothing for success). A stderr that
/// is gone is no reason to fail.
pub fn say_whose(end: &Conclusion, remote: Option<i32>) {
    use std::io::Write;
    if let Some(line) = end.whose(remote) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_keep_their_code_through_context() {
        let err = anyhow::Error::from(Error::NoPod("none".into())).context("finding the pod");
        assert_eq!(exit_code_of(&err), code::NO_POD);
    }

    #[test]
    fn untyped_errors_are_internal() {
        assert_eq!(exit_code_of(&anyhow::anyhow!("boom")), code::INTERNAL);
    }

    #[test]
    fn every_code_is_documented_once_in_order() {
        let all: Vec<u8> = EXIT_CODES.iter().map(|d| d.code).collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, all, "the table is sorted and has no duplicates");
        assert_eq!(all.len(), 25);
        let typed = [
            Error::Usage(String::new()),
            Error::NoPod(String::new()),
            Error::Refused(String::new()),
            Error::PlanChanged(String::new()),
            Error::Locked(String::new()),
            Error::DbTimeout(String::new()),
            Error::TenantsFailed(String::new()),
            Error::PlanStale(String::new()),
            Error::JobNotStarted(String::new()),
            Error::Pending(String::new()),
            Error::CheckFailed(String::new()),
            Error::LintFailed(String::new()),
            Error::Session(String::new()),
            Error::Connections(String::new()),
            Error::Unknown(String::new()),
            Error::ReadLost(String::new()),
            Error::Api(String::new()),
            Error::NotStarted(String::new()),
        ];
        for e in &typed {
            assert!(all.contains(&e.exit_code()), "{e:?}");
        }
        for c in [
            code::PENDING,
            code::INTERNAL,
            code::FORBIDDEN,
            code::TIMEOUT,
        ] {
            assert!(all.contains(&c));
        }
    }

    #[test]
    fn the_reference_table_matches_the_code() {
        let reference = include_str!("../docs/reference/exit-codes.md");
        assert!(
            reference.contains(&exit_codes_markdown()),
            "docs/reference/exit-codes.md's table differs from src/error.rs EXIT_CODES; paste:\n{}",
            exit_codes_markdown()
        );
    }

    #[test]
    fn help_lists_every_code() {
        let help = exit_codes_help();
        for d in EXIT_CODES {
            assert!(help.contains(&format!("{} {}", d.code, d.short)));
        }
    }

    #[test]
    fn conclusions() {
        let ok = Ok(());
        assert_eq!(conclude(&ok, Some(0), false).exit_code, 0);
        assert_eq!(conclude(&ok, None, false).outcome, Outcome::Success);
        assert_eq!(conclude(&ok, Some(42), false).exit_code, 42);
        assert_eq!(conclude(&ok, Some(42), true).outcome, Outcome::Failed);
        assert_eq!(conclude(&ok, Some(255), false).exit_code, 255);
        assert_eq!(conclude(&ok, Some(-1), false).exit_code, 1);
        assert_eq!(conclude(&ok, Some(256), false).exit_code, 1);
        assert_eq!(
            conclude(&ok, Some(0), true),
            Conclusion::own(code::PENDING, Outcome::Pending)
        );
        let unknown = Err(anyhow::Error::from(Error::Unknown("cut".into())).context("exec"));
        assert_eq!(
            conclude(&unknown, None, false),
            Conclusion::own(code::UNKNOWN, Outcome::Unknown)
        );
        let late = Err(anyhow::Error::from(Error::Pending("2 missing".into())));
        assert_eq!(
            conclude(&late, Some(10), false),
            Conclusion::own(code::PENDING, Outcome::Pending)
        );
        let internal = Err(anyhow::anyhow!("boom"));
        assert_eq!(
            conclude(&internal, Some(0), false),
            Conclusion::own(code::INTERNAL, Outcome::Error)
        );
    }

    /// A remote failure's code may be one of ours (75 is also "outcome unknown"): it is
    /// marked as the remote's, said so, and `--remote-failure-code` maps it to one code.
    #[test]
    fn a_remote_code_is_marked_said_and_mapped() {
        let ok = Ok(());
        let remote = conclude(&ok, Some(75), false);
        assert_eq!((remote.exit_code, remote.source), (75, CodeSource::Remote));
        assert!(
            remote
                .whose(Some(75))
                .is_some_and(|l| l.contains("exit code 75 is the remote command's own")),
            "{:?}",
            remote.whose(Some(75))
        );
        let mapped = remote.mapped(Some(3));
        assert_eq!((mapped.exit_code, mapped.source), (3, CodeSource::Remote));
        assert!(mapped.whose(Some(75)).is_some_and(|l| {
            l.contains("exit code 3 stands for the remote command's failure (it exited 75")
        }));
        let ours = conclude(&Err(Error::Unknown("cut".into()).into()), None, false);
        assert_eq!(ours.mapped(Some(3)).exit_code, code::UNKNOWN, "ours stay");
        assert!(
            ours.whose(None)
                .is_some_and(|l| l.contains("exit code 75 is kmigrate's own (outcome unknown)"))
        );
        let success = conclude(&ok, Some(0), false).mapped(Some(3));
        assert_eq!((success.exit_code, success.whose(Some(0))), (0, None));
        assert_eq!(
            conclude(&ok, Some(256), false).exit_code,
            1,
            "256 is not success"
        );
    }

    #[test]
    fn signals_map_to_shell_conventions() {
        let int = Error::Interrupted {
            signal: "SIGINT",
            running: true,
        };
        let term = Error::Interrupted {
            signal: "SIGTERM",
            running: false,
        };
        let hup = Error::Interrupted {
            signal: "SIGHUP",
            running: true,
        };
        assert_eq!(int.exit_code(), 130);
        assert_eq!(term.exit_code(), 143);
        assert_eq!(hup.exit_code(), 129);
        assert!(hup.advice().is_some());
        assert!(int.advice().is_some());
        assert!(
            term.advice()
                .is_some_and(|a| a.contains("nothing was changed, and no lock is kept")),
            "stopped before anything ran (at the prompt): said so"
        );
        assert!(
            int.advice()
                .is_some_and(|a| a.contains("may still be running"))
        );
    }
}
