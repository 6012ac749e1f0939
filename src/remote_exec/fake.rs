//! An in-memory executor for tests of whole flows: scripted output and exit codes, and a
//! record of every command it was asked to run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use futures::future::LocalBoxFuture;

use super::Executor;
use crate::output::{Stream, Streamer};
use crate::target::PodTarget;

/// One scripted answer: output lines on stdout, then an exit code or an error.
pub struct Reply {
    /// Written to remote stdout, as is.
    pub stdout: String,
    /// The exit code, or the error the executor returns (e.g. connection lost).
    pub result: Result<i32>,
    /// After its output the stream stays open and says nothing more, with no status (a
    /// command that hangs, a connection that died without a reset): read through the
    /// real pump, whose idle limit is all that ends it.
    pub silent: bool,
}

impl Reply {
    /// Output, then this exit code.
    pub fn exit(stdout: &str, code: i32) -> Self {
        Self {
            stdout: stdout.to_owned(),
            result: Ok(code),
            silent: false,
        }
    }

    /// A snippet's whole answer: its output, its last line (`kmigrate:end`) when it exited
    /// 0 (a snippet that raised never reaches it), then the exit code.
    pub fn answer(stdout: &str, code: i32) -> Self {
        let end = if code == 0 { "kmigrate:end\n" } else { "" };
        Self::exit(&format!("{stdout}{end}"), code)
    }

    /// Output, then this error.
    pub fn fail(stdout: &str, err: anyhow::Error) -> Self {
        Self {
            stdout: stdout.to_owned(),
            result: Err(err),
            silent: false,
        }
    }

    /// This output, then nothing: no more output, no status, the stream left open.
    pub fn silent(stdout: &str) -> Self {
        Self {
            stdout: stdout.to_owned(),
            result: Ok(0),
            silent: true,
        }
    }
}

/// Every argv an executor was asked to run, with the pod.
pub type Calls = Rc<RefCell<Vec<(String, Vec<String>)>>>;

/// Answers exec calls from a script, in order.
pub struct FakeExecutor {
    replies: RefCell<VecDeque<Reply>>,
    calls: Calls,
}

impl FakeExecutor {
    /// An executor that gives these replies.
    pub fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies: RefCell::new(replies.into()),
            calls: Calls::default(),
        }
    }

    /// A handle on the record of calls, readable after the executor moved.
    pub fn calls(&self) -> Calls {
        Rc::clone(&self.calls)
    }
}

impl Executor for FakeExecutor {
    fn exec<'a>(
        &'a self,
        target: &'a PodTarget,
        argv: &'a [String],
        out: &'a mut Streamer,
        started: &'a AtomicBool,
    ) -> LocalBoxFuture<'a, Result<i32>> {
        Box::pin(async move {
            self.calls
                .borrow_mut()
                .push((target.pod.clone(), argv.to_vec()));
            let reply = self
                .replies
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| panic!("unexpected exec of {argv:?}"));
            started.store(true, Ordering::SeqCst);
            if reply.silent {
                return silence(&reply.stdout, out).await;
            }
            out.chunk(Stream::Out, reply.stdout.as_bytes()).await;
            out.finish().await;
            reply.result
        })
    }
}

/// `stdout`, then a stream that stays open and silent, through the real pump: it ends only
/// when the streamer's idle limit says the connection is gone (as the real executor says).
async fn silence(stdout: &str, out: &mut Streamer) -> Result<i32> {
    use tokio::io::AsyncWriteExt;
    let (mut remote, local) = tokio::io::duplex(64 * 1024);
    remote.write_all(stdout.as_bytes()).await?;
    let ended = super::pump(
        Some(local),
        None::<tokio::io::DuplexStream>,
        std::future::pending(),
        out,
    )
    .await;
    drop(remote);
    match ended {
        super::Ended::NoStatus { read_error } => {
            Err(crate::error::Error::Unknown(read_error.map_or_else(
                || "the stream ended without an exit status".to_owned(),
                |e| e.to_string(),
            ))
            .into())
        }
        super::Ended::Status { .. } => Err(anyhow::anyhow!("a silent stream ended with a status")),
    }
}
