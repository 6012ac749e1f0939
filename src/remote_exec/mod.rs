//! How a command is executed in the pod through the pods/exec API and streamed back.
//! Never retried: a second attempt could run a migration twice.

#[cfg(test)]
pub mod fake;
mod pump;
mod terminal;

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use futures::future::LocalBoxFuture;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use kube::api::AttachParams;

use crate::access;
use crate::connection::{Connection, chain, classify};
use crate::error::Error;
use crate::output::Streamer;
use crate::target::PodTarget;

pub use pump::{Ended, pump};

/// How long the end of an exec's connection is waited for once its output has ended.
const JOIN_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// kube's pipes hold 1 KiB by default; a larger buffer keeps the WebSocket reader from
/// stalling on every frame.
const PIPE_BUF: usize = 256 * 1024;

/// Runs a command in a pod and streams its output; the seam the flows are tested through
/// (as kubectl's `RemoteExecutor`).
pub trait Executor {
    /// Run `argv` in the target, stream its output through `out`, and return the remote
    /// exit code. Sets `started` once the command may be running.
    fn exec<'a>(
        &'a self,
        target: &'a PodTarget,
        argv: &'a [String],
        out: &'a mut Streamer,
        started: &'a AtomicBool,
    ) -> LocalBoxFuture<'a, Result<i32>>;
}

/// The real executor: the pods/exec subresource over a WebSocket.
pub struct KubeExecutor {
    conn: Connection,
    stdin: bool,
    tty: bool,
}

impl KubeExecutor {
    /// An executor on `conn`.
    pub fn new(conn: Connection) -> Self {
        Self {
            conn,
            stdin: false,
            tty: false,
        }
    }

    /// Give the commands it runs a terminal (`exec -t`): this one in raw mode meanwhile,
    /// its window size passed on.
    pub fn tty(mut self, tty: bool) -> Self {
        self.tty = tty;
        self
    }

    /// Pass this process's stdin to the commands it runs (`exec -i`).
    pub fn forward_stdin(mut self, stdin: bool) -> Self {
        self.stdin = stdin;
        self
    }

    async fn exec_streaming(
        &self,
        t: &PodTarget,
        argv: &[String],
        out: &mut Streamer,
        started: &AtomicBool,
    ) -> Result<i32> {
        let api: Api<Pod> = Api::namespaced(self.conn.exec_client.clone(), &t.namespace);
        let params = AttachParams::default()
            .container(&t.container)
            .stdin(self.stdin)
            .stdout(true)
            // A terminal has one output stream, as kubectl's `-t`.
            .stderr(!self.tty)
            .tty(self.tty)
            .max_stdout_buf_size(PIPE_BUF)
            .max_stderr_buf_size(PIPE_BUF);
        tracing::debug!(pod = %t.pod, container = %t.container, ?argv, "exec");
        let what = format!("exec in pod {}", t.pod);
        // From the upgrade request on, the command may be running: the kubelet may start it
        // before the answer arrives. A stop meanwhile keeps the lock; an error answer says
        // it never started.
        started.store(true, Ordering::SeqCst);
        let answer = api.exec(&t.pod, argv.to_vec(), &params).await;
        if answer.is_err() {
            started.store(false, Ordering::SeqCst);
        }
        let mut process = match answer {
            Ok(p) => p,
            Err(kube::Error::Api(mut status)) if status.code == 403 => {
                let missing = access::missing(&self.conn, &t.namespace, &access::EXEC).await;
                status.message = access::explain(&status.message, &missing, &t.namespace);
                return Err(classify(kube::Error::Api(status), &what, &self.conn));
            }
            Err(e) => return Err(classify(e, &what, &self.conn)),
        };
        // Raw mode from here until this returns (the guard restores the terminal).
        let _raw = self.tty.then(terminal::Raw::enter);
        let resizer = match (self.tty, process.terminal_size()) {
            (true, Some(sizes)) => Some(terminal::follow_size(sizes)),
            _ => None,
        };
        let feeder = process.stdin().map(feed_stdin);
        let status = process.take_status();
        let status = async move {
            match status {
                Some(fut) => fut.await,
                None => None,
            }
        };
        let ended = pump(process.stdout(), process.stderr(), status, out).await;
        for task in [feeder, resizer].into_iter().flatten() {
            task.abort();
        }
        // kube's message loop ends only when the connection does: after a silence past the
        // idle limit (a half-open connection, a hung command) it may never, so it is given a
        // few seconds, then left to the runtime's shutdown.
        let task = tokio::time::timeout(JOIN_WITHIN, process.join())
            .await
            .unwrap_or(Ok(()));
        match ended {
            Ended::Status {
                status,
                output_seen,
            } => exit_code(&status, output_seen),
            Ended::NoStatus { read_error } => {
                let why = match (task, read_error) {
                    (Err(e), _) => chain(&e),
                    (Ok(()), Some(e)) => e.to_string(),
                    (Ok(()), None) => "the stream ended without an exit status".to_owned(),
                };
                Err(Error::Unknown(why).into())
            }
        }
    }
}

impl Executor for KubeExecutor {
    fn exec<'a>(
        &'a self,
        target: &'a PodTarget,
        argv: &'a [String],
        out: &'a mut Streamer,
        started: &'a AtomicBool,
    ) -> LocalBoxFuture<'a, Result<i32>> {
        Box::pin(self.exec_streaming(target, argv, out, started))
    }
}

/// Copy this process's stdin to the command's until end of file, then close it (the
/// command sees its end, as with `kubectl exec -i`). The reads block on a thread of their
/// own that the process does not wait for: a command that ends before its input does
/// must not keep kmigrate waiting on a terminal.
fn feed_stdin(
    mut remote: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Some(chunk) = rx.recv().await {
            if remote.write_all(&chunk).await.is_err() {
                return;
            }
        }
        // Dropping the writer closes the command's stdin.
        let _ = remote.shutdown().await;
    })
}

/// Messages of a status that says the command could not be started at all.
const NEVER_STARTED: [&str; 6] = [
    "executable file not found",
    "no such file or directory",
    "permission denied",
    "exec format error",
    "container not found",
    "unable to start container process",
];

/// The remote exit code a status reports, per the remotecommand protocol: `Success` is 0,
/// `NonZeroExitCode` carries the code in a cause with reason `ExitCode`. Any other failure
/// means "did not start" only when nothing was output and the message says the program
/// could not be started; otherwise the command may have run (kubelet reports a stream or
/// runtime error after the process started the same way), so the outcome is unknown.
pub fn exit_code(status: &Status, output_seen: bool) -> Result<i32> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref()?.parse::<i32>().ok());
        if let Some(code) = code {
            return Ok(code);
        }
    }
    let message = status
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .or_else(|| status.reason.clone())
        .unwrap_or_else(|| "no message".to_owned());
    let lower = message.to_lowercase();
    // The runtime's message repeats the whole command (the snippet, thousands of
    // characters): kmigrate says the cause, and `-v` shows the message whole.
    tracing::info!(remote = %message, "the remote side's status");
    let cause = cause_of(&message);
    if !output_seen && NEVER_STARTED.iter().any(|m| lower.contains(m)) {
        return Err(Error::NotStarted(format!(
            "the command could not be started in the container ({cause}); nothing ran. Check --release: it must be the release script's path in the image (`{} doctor` checks it)",
            crate::program_name::on_target()
        ))
        .into());
    }
    Err(Error::Unknown(format!(
        "the remote side reported a failure without an exit code ({cause})"
    ))
    .into())
}

/// The cause in a runtime's message, without the command it repeats: from `fork/exec`
/// or `exec:` on when there, else the message cut to its ends.
fn cause_of(message: &str) -> String {
    const KEPT: usize = 240;
    if let Some(at) = ["fork/exec ", "exec: ", "exec failed: "]
        .iter()
        .find_map(|m| message.rfind(m))
    {
        return message[at..].to_owned();
    }
    let chars: Vec<char> = message.chars().collect();
    if chars.len() <= KEPT {
        return message.to_owned();
    }
    let head: String = chars[..KEPT / 2].iter().collect();
    let tail: String = chars[chars.len() - KEPT / 2..].iter().collect();
    format!("{head} … {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command counts as started from the upgrade request on (a stop while it is in
    /// flight keeps the lock), and as never started once the server refuses it.
    #[tokio::test]
    async fn a_command_may_run_from_its_upgrade_request_on() {
        let (conn, mut handle) = crate::connection::testing::mock_cluster();
        let exec = KubeExecutor::new(conn);
        let t = PodTarget {
            context: "test".into(),
            namespace: "apps".into(),
            pod: "shop-0".into(),
            container: "app".into(),
            uid: None,
            memory_limit: None,
            controller: None,
        };
        let argv = vec!["true".to_owned()];
        let (ui, _) = crate::ui::Ui::memory(false, false);
        let mut out = Streamer::new(indicatif::ProgressBar::hidden(), ui.sink, false, false);
        let started = AtomicBool::new(false);
        let mut run = exec.exec(&t, &argv, &mut out, &started);
        let (req, send) = tokio::select! {
            _ = &mut run => panic!("ended before its request was answered"),
            r = handle.next_request() => r.expect("the upgrade request"),
        };
        assert!(
            req.uri().path().ends_with("/pods/shop-0/exec"),
            "{}",
            req.uri()
        );
        assert!(
            started.load(Ordering::SeqCst),
            "in flight: it may be running"
        );
        send.send_response(crate::connection::testing::status(
            500,
            "InternalError",
            "boom",
        ));
        assert!(run.await.is_err());
        assert!(!started.load(Ordering::SeqCst), "refused: it never started");
    }

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn success_is_zero() {
        assert_eq!(
            exit_code(
                &status(serde_json::json!({"metadata": {}, "status": "Success"})),
                true
            )
            .unwrap(),
            0
        );
    }

    #[test]
    fn non_zero_exit_code_is_passed_through() {
        let s = status(serde_json::json!({
            "metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command [sh -c exit 42], exit code 42",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "42"}]}
        }));
        assert_eq!(exit_code(&s, true).unwrap(), 42);
    }

    #[test]
    fn failure_without_code_is_not_a_success() {
        let s = status(serde_json::json!({
            "metadata": {}, "status": "Failure", "code": 500, "reason": "InternalError",
            "message": "exec: \"bin/nope\": stat bin/nope: no such file or directory"
        }));
        let err = exit_code(&s, false).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::code::NOT_STARTED
        );
        assert!(err.to_string().contains("bin/nope"));
        assert!(err.to_string().contains("Check --release"), "{err}");
        // The same status after output: the program had started.
        let err = exit_code(&s, true).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::code::UNKNOWN
        );
    }

    /// A release path that does not exist: the runtime's message repeats the snippet
    /// whole; kmigrate's line names the cause and `--release`, in a few hundred characters.
    #[test]
    fn a_missing_release_is_one_short_line_naming_the_fix() {
        let snippet = "app = :demo; Application.load(app); ".repeat(250);
        let s = status(serde_json::json!({
            "metadata": {}, "status": "Failure", "code": 500, "reason": "InternalError",
            "message": format!("Internal error occurred: error executing command in container: cmd start: /app/bin/demo eval {snippet}: fork/exec /app/bin/demo: no such file or directory")
        }));
        let err = exit_code(&s, false).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::code::NOT_STARTED
        );
        let text = err.to_string();
        assert!(text.len() < 400, "{} characters: {text}", text.len());
        assert!(
            text.contains("(fork/exec /app/bin/demo: no such file or directory)"),
            "{text}"
        );
        assert!(
            text.contains("Check --release") && text.contains("doctor"),
            "{text}"
        );
        assert!(
            !text.contains("without an exit code"),
            "not an unknown outcome: {text}"
        );
    }

    #[test]
    fn a_failure_after_the_start_is_unknown_not_did_not_start() {
        let s = status(serde_json::json!({
            "metadata": {}, "status": "Failure", "code": 500, "reason": "InternalError",
            "message": "error executing command in container: read /dev/ptmx: broken pipe"
        }));
        for seen in [false, true] {
            let err = exit_code(&s, seen).unwrap_err();
            assert_eq!(
                crate::error::exit_code_of(&err),
                crate::error::code::UNKNOWN
            );
            assert!(err.to_string().contains("broken pipe"), "{err}");
        }
    }
}
