//! The stdout/stderr/status pump of one exec: output goes through as it arrives, and the
//! status decides the outcome. Generic over the pipes so it is tested without a server.

use std::future::Future;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::output::{Stream, Streamer};

/// How the stream of one exec ended.
#[derive(Debug)]
pub enum Ended {
    /// The server sent a status (success, exit code, or a failure of its own).
    Status {
        /// The status.
        status: Box<Status>,
        /// Whether any output arrived first: then the command had started.
        output_seen: bool,
    },
    /// No status arrived: the connection dropped or the server closed without one.
    NoStatus {
        /// A read error on one of the pipes, if any.
        read_error: Option<std::io::Error>,
    },
}

/// Copy both pipes into `out` until they close, and wait for the status. When the status
/// channel ends without a status the connection is gone: what the pipes hold is taken and
/// the pump stops, since the pipes may never close (kube drops its pipe ends without
/// closing them when its message loop fails).
pub async fn pump<O, E, S>(
    stdout: Option<O>,
    stderr: Option<E>,
    status: S,
    out: &mut Streamer,
) -> Ended
where
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
    S: Future<Output = Option<Status>>,
{
    let (mut stdout, mut stderr) = (stdout, stderr);
    let mut status_rx = std::pin::pin!(status);
    let mut out_buf = vec![0u8; 64 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let mut read_error = None;
    let mut status: Option<Option<Status>> = None;
    let mut output_seen = false;
    let idle_limit = out.idle_limit();
    let idle = tokio::time::sleep(idle_limit.unwrap_or(std::time::Duration::MAX / 4));
    let mut idle = std::pin::pin!(idle);
    while stdout.is_some() || stderr.is_some() {
        if let Some(limit) = idle_limit {
            idle.as_mut().reset(tokio::time::Instant::now() + limit);
        }
        tokio::select! {
            () = &mut idle, if idle_limit.is_some() => {
                let secs = idle_limit.map_or(0, |d| d.as_secs());
                read_error = Some(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("nothing from the pod for {secs} s, not even the snippet's heartbeat: the connection is presumed lost"),
                ));
                out.finish().await;
                return Ended::NoStatus { read_error };
            },
            r = read_some(&mut stdout, &mut out_buf) => match r {
                Ok(0) => stdout = None,
                Ok(n) => { output_seen = true; out.chunk(Stream::Out, &out_buf[..n]).await }
                Err(e) => { read_error = Some(e); stdout = None }
            },
            r = read_some(&mut stderr, &mut err_buf) => match r {
                Ok(0) => stderr = None,
                Ok(n) => { output_seen = true; out.chunk(Stream::Err, &err_buf[..n]).await }
                Err(e) => { read_error = Some(e); stderr = None }
            },
            s = &mut status_rx, if status.is_none() => {
                let ended_without_status = s.is_none();
                status = Some(s);
                if ended_without_status {
                    drain(&mut stdout, &mut out_buf, Stream::Out, out).await;
                    drain(&mut stderr, &mut err_buf, Stream::Err, out).await;
                    break;
                }
            },
        }
    }
    out.finish().await;
    let status = match status {
        Some(s) => s,
        None => status_rx.await,
    };
    match status {
        Some(s) => Ended::Status {
            status: Box::new(s),
            output_seen,
        },
        None => Ended::NoStatus { read_error },
    }
}

/// Pass on whatever a pipe holds right now, without waiting for more.
async fn drain<R: AsyncRead + Unpin>(
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
            out.chunk(stream, &buf[..n]).await;
        }
    }
}

async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut Option<R>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match reader {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Purpose;
    use crate::ui::Ui;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncWriteExt, DuplexStream, duplex};

    fn success() -> Status {
        serde_json::from_value(serde_json::json!({"metadata": {}, "status": "Success"})).unwrap()
    }

    /// A pipe that fails on the first read.
    struct Broken;
    impl AsyncRead for Broken {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Poll::Ready(Err(std::io::Error::other("pipe broke")))
        }
    }

    #[tokio::test]
    async fn status_before_eof_still_passes_all_output() {
        let (ui, captured) = Ui::memory(false, false);
        let mut out = ui.streamer(Purpose::Raw);
        let (mut w_out, r_out) = duplex(64);
        let (mut w_err, r_err) = duplex(64);
        let (tx, rx) = tokio::sync::oneshot::channel();
        tx.send(success()).unwrap();
        let writer = async move {
            tokio::task::yield_now().await;
            w_out
                .write_all(b"first\nsecond line that is longer than the pipe buffer of 64 bytes\n")
                .await
                .unwrap();
            w_err.write_all(b"warn\n").await.unwrap();
        };
        let (ended, ()) = tokio::join!(
            pump(Some(r_out), Some(r_err), async { rx.await.ok() }, &mut out),
            writer
        );
        assert!(
            matches!(ended, Ended::Status { status, output_seen: true } if status.status.as_deref() == Some("Success"))
        );
        let c = captured.lock().unwrap();
        assert_eq!(
            c.stdout,
            b"first\nsecond line that is longer than the pipe buffer of 64 bytes\n"
        );
        assert_eq!(c.stderr, b"warn\n");
    }

    #[tokio::test]
    async fn no_status_with_open_pipes_ends_at_once_with_what_was_buffered() {
        let (ui, captured) = Ui::memory(false, false);
        let mut out = ui.streamer(Purpose::Raw);
        let (mut w_out, r_out) = duplex(1024);
        w_out.write_all(b"partial output").await.unwrap();
        // The writer is kept alive: the pipe never closes, like kube's after a dropped connection.
        let ended = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            pump(
                Some(r_out),
                None::<DuplexStream>,
                async {
                    tokio::task::yield_now().await;
                    None
                },
                &mut out,
            ),
        )
        .await
        .expect("the pump must not wait for pipes that never close");
        assert!(matches!(ended, Ended::NoStatus { read_error: None }));
        assert_eq!(captured.lock().unwrap().stdout, b"partial output");
        drop(w_out);
    }

    /// Our snippet beats every 20 s: output keeps the run alive however long it takes,
    /// and a silence of the idle limit means the connection is gone (no status will come).
    #[tokio::test(start_paused = true)]
    async fn a_silence_longer_than_the_idle_limit_ends_without_status() {
        let (ui, captured) = Ui::memory(false, false);
        let mut out = ui.streamer(Purpose::Raw);
        out.expect_heartbeats();
        let (mut w_out, r_out) = duplex(1024);
        let beats = async move {
            for _ in 0..10 {
                tokio::time::sleep(std::time::Duration::from_secs(20)).await;
                w_out.write_all(b"beat\n").await.unwrap();
            }
            // Then silence, with the pipe still open (a half-open connection).
            std::future::pending::<()>().await;
        };
        let started = tokio::time::Instant::now();
        let ended = tokio::select! {
            e = pump(Some(r_out), None::<DuplexStream>, std::future::pending(), &mut out) => e,
            () = beats => unreachable!("the beats never end"),
        };
        let elapsed = started.elapsed();
        match ended {
            Ended::NoStatus {
                read_error: Some(e),
            } => {
                assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
                assert!(e.to_string().contains("heartbeat"), "{e}");
            }
            other => panic!("expected the idle deadline, got {other:?}"),
        }
        // 200 s of beats, then 120 s of silence.
        assert_eq!(elapsed.as_secs(), 200 + crate::output::IDLE_LIMIT.as_secs());
        assert_eq!(captured.lock().unwrap().stdout, b"beat\n".repeat(10));
    }

    #[tokio::test]
    async fn a_pipe_error_without_status_is_reported() {
        let (ui, _) = Ui::memory(false, false);
        let mut out = ui.streamer(Purpose::Raw);
        let status = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            None
        };
        let ended = pump(Some(Broken), None::<Broken>, status, &mut out).await;
        match ended {
            Ended::NoStatus {
                read_error: Some(e),
            } => assert_eq!(e.to_string(), "pipe broke"),
            other => panic!("expected the read error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_closed_stdout_keeps_draining_until_the_status() {
        let (ui, captured) = Ui::memory(false, false);
        captured.lock().unwrap().stdout_closed = true;
        let mut out = ui.streamer(Purpose::Raw);
        let (mut w_out, r_out) = duplex(16);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let writer = async move {
            // More than the pipe holds: the pump must keep reading although stdout is gone.
            w_out.write_all(&[b'x'; 4096]).await.unwrap();
            drop(w_out);
            tx.send(success()).unwrap();
        };
        let (ended, ()) = tokio::join!(
            pump(
                Some(r_out),
                None::<DuplexStream>,
                async { rx.await.ok() },
                &mut out
            ),
            writer
        );
        assert!(matches!(
            ended,
            Ended::Status {
                output_seen: true,
                ..
            }
        ));
        assert!(captured.lock().unwrap().stdout.is_empty());
    }
}
