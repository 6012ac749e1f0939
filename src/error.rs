//! The failures that have their own exit code, and the one place that maps them.

use std::fmt;
use std::process::ExitCode;

/// Exit codes of kmigrate's own failures. Remote exit codes pass through unchanged.
pub mod code {
    /// The remote command (or kmigrate itself) succeeded.
    pub const SUCCESS: u8 = 0;
    /// Bad flags, bad config file, bad kubeconfig, invalid input.
    pub const USAGE: u8 = 2;
    /// `status --exit-code` found pending migrations.
    pub const PENDING: u8 = 10;
    /// No pod (or container) matched.
    pub const NO_POD: u8 = 69;
    /// An unexpected failure of kmigrate itself.
    pub const INTERNAL: u8 = 70;
    /// The confirmation was declined, or a protected run had no terminal and no `--yes`.
    pub const REFUSED: u8 = 73;
    /// The connection was lost while the remote command ran: its outcome is unknown.
    pub const UNKNOWN: u8 = 75;
    /// The Kubernetes API could not be reached or failed before anything ran.
    pub const API: u8 = 76;
    /// RBAC denied a request.
    pub const FORBIDDEN: u8 = 77;
    /// The remote side reported a failure without an exit code (the command never ran).
    pub const NOT_STARTED: u8 = 126;
    /// The migration Job's pod could not start (image pull error, unschedulable, ...).
    pub const JOB_NOT_STARTED: u8 = 71;
    /// Another run holds the single-runner lock.
    pub const LOCKED: u8 = 74;
    /// `--timeout` expired.
    pub const TIMEOUT: u8 = 124;
    /// Interrupted by Ctrl-C (SIGINT).
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM.
    pub const TERMINATED: u8 = 143;
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
    /// Another run holds the lock.
    #[error("{0}")]
    Locked(String),
    /// The Job's pod could not start.
    #[error("{0}")]
    JobNotStarted(String),
    /// The exec stream ended without an exit status.
    #[error("connection lost while the remote command was running: {0}")]
    Unknown(String),
    /// The API server failed before anything ran remotely.
    #[error("{0}")]
    Api(String),
    /// The remote side failed without running the command.
    #[error("the remote side reported a failure without an exit code: {0}")]
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
        /// `SIGINT` or `SIGTERM`.
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
            Error::Locked(_) => code::LOCKED,
            Error::JobNotStarted(_) => code::JOB_NOT_STARTED,
            Error::Unknown(_) => code::UNKNOWN,
            Error::Api(_) => code::API,
            Error::NotStarted(_) => code::NOT_STARTED,
            Error::Timeout { .. } => code::TIMEOUT,
            Error::Interrupted { signal, .. } => {
                if *signal == "SIGTERM" {
                    code::TERMINATED
                } else {
                    code::INTERRUPTED
                }
            }
        }
    }

    /// A line of advice printed after the error, if any.
    pub fn advice(&self) -> Option<String> {
        const CHECK: &str = "The remote process may still be running; check the result with `kmigrate status` before running anything again.";
        match self {
            Error::Forbidden { hint, .. } => Some(hint.clone()),
            Error::Unknown(_) => Some(CHECK.to_owned()),
            Error::Timeout { running: true, .. } | Error::Interrupted { running: true, .. } => {
                Some(CHECK.to_owned())
            }
            _ => None,
        }
    }
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

/// Print an error (with its causes and advice) to stderr and return its exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    let mut msg = format!("error: {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!(": {cause}"));
    }
    eprintln!("{msg}");
    if let Some(advice) = err
        .chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .and_then(Error::advice)
    {
        eprintln!("{advice}");
    }
    ExitCode::from(exit_code_of(err))
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
    fn every_code_is_distinct_and_outside_clap_success() {
        let all = [
            code::USAGE,
            code::PENDING,
            code::NO_POD,
            code::INTERNAL,
            code::REFUSED,
            code::UNKNOWN,
            code::API,
            code::FORBIDDEN,
            code::LOCKED,
            code::JOB_NOT_STARTED,
            code::NOT_STARTED,
            code::TIMEOUT,
            code::INTERRUPTED,
            code::TERMINATED,
        ];
        let mut sorted = all.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert!(!all.contains(&code::SUCCESS));
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
        assert_eq!(int.exit_code(), 130);
        assert_eq!(term.exit_code(), 143);
        assert!(int.advice().is_some());
        assert!(term.advice().is_none());
    }
}
