//! `exec -t`: this terminal in raw mode while the remote one runs, and its window size
//! passed on, as `kubectl exec -t` does. Only on Unix; elsewhere nothing changes.

use futures::SinkExt;
use kube::api::TerminalSize;

/// The terminal in raw mode until dropped: keys, Ctrl-C and Ctrl-D go to the command
/// instead of being acted on here.
pub struct Raw {
    #[cfg(unix)]
    saved: Option<rustix::termios::Termios>,
}

impl Raw {
    /// Put stdin's terminal in raw mode; nothing happens when it is not a terminal.
    pub fn enter() -> Self {
        #[cfg(unix)]
        {
            use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
            let stdin = std::io::stdin();
            let saved = tcgetattr(&stdin).ok();
            if let Some(s) = &saved {
                let mut raw = s.clone();
                raw.make_raw();
                let _ = tcsetattr(&stdin, OptionalActions::Now, &raw);
            }
            Self { saved }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                s,
            );
        }
    }
}

/// The window size of stdin's terminal, if it has one.
fn size() -> Option<TerminalSize> {
    #[cfg(unix)]
    {
        let w = rustix::termios::tcgetwinsize(std::io::stdin()).ok()?;
        (w.ws_col > 0 && w.ws_row > 0).then_some(TerminalSize {
            width: w.ws_col,
            height: w.ws_row,
        })
    }
    #[cfg(not(unix))]
    None
}

/// Send the window size now and whenever it changes (SIGWINCH), until aborted.
pub fn follow_size(
    mut sizes: futures::channel::mpsc::Sender<TerminalSize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(s) = size() {
            let _ = sizes.send(s).await;
        }
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut changes) = signal(SignalKind::window_change()) else {
                return;
            };
            while changes.recv().await.is_some() {
                if let Some(s) = size()
                    && sizes.send(s).await.is_err()
                {
                    return;
                }
            }
        }
    })
}
