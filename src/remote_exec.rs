//! How a command is executed in the pod through the pods/exec API and streamed back.
//! Never retried: a second attempt could run a migration twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use kube::api::AttachParams;
use tokio::io::AsyncReadExt;

use crate::connection::{Connection, chain, classify};
use crate::error::Error;
use crate::output::{Stream, Streamer};

/// kube's pipes hold 1 KiB by default; a larger buffer keeps the WebSocket reader from
/// stalling on every frame.
const PIPE_BUF: usize = 256 * 1024;

/// Run `argv` in `container` of `pod`, stream its output through `out`, and return the
/// remote exit code. `started` is set once the server accepted the exec.
pub async fn run(
    conn: &Connection,
    namespace: &str,
    pod: &str,
    container: &str,
    argv: &[String],
    out: &mut Streamer,
    started: &Arc<AtomicBool>,
) -> Result<i32> {
    let api: Api<Pod> = Api::namespaced(conn.exec_client.clone(), namespace);
    let params = AttachParams::default()
        .container(container)
        .stdin(false)
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(PIPE_BUF)
        .max_stderr_buf_size(PIPE_BUF);
    tracing::debug!(pod, container, ?argv, "exec");
    let mut process = api
        .exec(pod, argv.to_vec(), &params)
        .await
        .map_err(|e| classify(e, &format!("exec in pod {pod}"), conn))?;
    started.store(true, Ordering::SeqCst);

    let mut status_rx = Box::pin(match process.take_status() {
        Some(fut) => futures::future::Either::Left(fut),
        None => futures::future::Either::Right(std::future::ready(None)),
    });
    let (mut stdout, mut stderr) = (process.stdout(), process.stderr());
    let mut out_buf = vec![0u8; 64 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let mut read_error = None;
    let mut status: Option<Option<Status>> = None;
    while stdout.is_some() || stderr.is_some() {
        tokio::select! {
            r = read_some(&mut stdout, &mut out_buf) => match r {
                Ok(0) => stdout = None,
                Ok(n) => out.chunk(Stream::Out, &out_buf[..n]),
                Err(e) => { read_error = Some(e); stdout = None }
            },
            r = read_some(&mut stderr, &mut err_buf) => match r {
                Ok(0) => stderr = None,
                Ok(n) => out.chunk(Stream::Err, &err_buf[..n]),
                Err(e) => { read_error = Some(e); stderr = None }
            },
            s = &mut status_rx, if status.is_none() => {
                let ended_without_status = s.is_none();
                status = Some(s);
                // When kube's message loop fails (the connection dropped) it drops its
                // pipe ends without closing them, so the readers would wait forever:
                // take what is buffered and stop.
                if ended_without_status {
                    drain(&mut stdout, &mut out_buf, Stream::Out, out);
                    drain(&mut stderr, &mut err_buf, Stream::Err, out);
                    break;
                }
            },
        }
    }
    out.finish();
    let status = match status {
        Some(s) => s,
        None => status_rx.await,
    };
    let task = process.join().await;
    match status {
        Some(s) => exit_code(&s),
        None => {
            let why = match (task, read_error) {
                (Err(e), _) => chain(&e),
                (Ok(()), Some(e)) => e.to_string(),
                (Ok(()), None) => "the stream ended without an exit status".to_owned(),
            };
            Err(Error::Unknown(why).into())
        }
    }
}

/// Pass on whatever a pipe holds right now, without waiting for more.
fn drain<R: AsyncReadExt + Unpin>(
    reader: &mut Option<R>,
    buf: &mut [u8],
    stream: Stream,
    out: &mut Streamer,
) {
    use futures::FutureExt;
    if let Some(r) = reader.as_mut() {
        while let Some(Ok(n)) = r.read(buf).now_or_never() {
            if n == 0 {
                break;
            }
            out.chunk(stream, &buf[..n]);
        }
    }
}

async fn read_some<R: AsyncReadExt + Unpin>(
    reader: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match reader {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

/// The remote exit code a status reports, per the remotecommand protocol: `Success` is 0,
/// `NonZeroExitCode` carries the code in a cause with reason `ExitCode`.
pub fn exit_code(status: &Status) -> Result<i32> {
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
    Err(Error::NotStarted(message).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn success_is_zero() {
        assert_eq!(
            exit_code(&status(
                serde_json::json!({"metadata": {}, "status": "Success"})
            ))
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
        assert_eq!(exit_code(&s).unwrap(), 42);
    }

    #[test]
    fn failure_without_code_is_not_a_success() {
        let s = status(serde_json::json!({
            "metadata": {}, "status": "Failure", "code": 500, "reason": "InternalError",
            "message": "exec: \"bin/nope\": stat bin/nope: no such file or directory"
        }));
        let err = exit_code(&s).unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::code::NOT_STARTED
        );
        assert!(err.to_string().contains("bin/nope"));
    }
}
