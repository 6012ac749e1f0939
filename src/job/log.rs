//! A Job's log, followed across breaks. A log stream that fails, or ends while the container
//! still runs, is asked for again; the API serves the log from its start, so the bytes
//! already passed on are skipped and what is read is the log once, whole. An outcome is
//! never built from part of it: after the last attempt the log counts as unread.

use std::pin::Pin;
use std::time::Duration;

use futures::{AsyncBufRead, AsyncReadExt};
use tokio::time::Instant;

/// A log stream as the API client opens it.
pub type LogStream = Pin<Box<dyn AsyncBufRead + Send>>;

/// How many times in a row a broken stream is asked for again before the log is unread.
pub const ATTEMPTS: u32 = 5;

/// A stream that stayed up this long was healthy: its break starts a new count.
const HEALTHY: Duration = Duration::from_secs(10);

/// What one read of the log gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'b> {
    /// New bytes of the log, to pass on.
    Bytes(&'b [u8]),
    /// Bytes already passed on, read again after a break.
    Skipped,
    /// The stream ended.
    Ended,
    /// The stream failed.
    Broken(String),
}

/// The log of a Job's container, and where reading it stands.
pub struct Log {
    stream: Option<LogStream>,
    /// Bytes passed on so far.
    shown: u64,
    /// Bytes of the current stream still to skip.
    skip: u64,
    /// Breaks in a row.
    breaks: u32,
    /// When to ask again, and why the stream broke.
    retry: Option<(Instant, String)>,
    opened: Instant,
    /// Why the log could not be read, once it is given up.
    pub unread: Option<String>,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            stream: None,
            shown: 0,
            skip: 0,
            breaks: 0,
            retry: None,
            opened: Instant::now(),
            unread: None,
        }
    }
}

impl Log {
    /// Take a newly opened stream (it starts at the log's first byte), or why it failed.
    pub fn open(&mut self, opened: Result<LogStream, String>) {
        self.retry = None;
        match opened {
            Ok(stream) => {
                self.stream = Some(stream);
                self.skip = self.shown;
                self.opened = Instant::now();
            }
            Err(why) => self.broke(why),
        }
    }

    /// The next read; pending for ever while no stream is open.
    pub async fn next<'b>(&mut self, buf: &'b mut [u8]) -> Event<'b> {
        let Some(stream) = self.stream.as_mut() else {
            return std::future::pending().await;
        };
        match stream.read(buf).await {
            Ok(0) => Event::Ended,
            Err(e) => Event::Broken(e.to_string()),
            Ok(n) => {
                let skipped = usize::try_from(self.skip).map_or(n, |s| s.min(n));
                self.skip -= skipped as u64;
                if skipped == n {
                    return Event::Skipped;
                }
                self.shown += (n - skipped) as u64;
                self.breaks = 0;
                Event::Bytes(&buf[skipped..n])
            }
        }
    }

    /// The stream ended: the log is whole once the container has ended, else it broke.
    pub fn ended(&mut self, container_running: bool) {
        if container_running {
            self.broke("the log stream ended while the container ran".to_owned());
        } else {
            self.stream = None;
        }
    }

    /// The stream failed or could not be opened: ask again after a while, or give up.
    pub fn broke(&mut self, why: String) {
        if self.stream.is_some() && self.opened.elapsed() >= HEALTHY {
            self.breaks = 0;
        }
        self.stream = None;
        self.breaks += 1;
        if self.breaks > ATTEMPTS {
            self.unread = Some(why);
            self.retry = None;
        } else {
            let wait = Duration::from_millis(250) * 2u32.pow(self.breaks - 1);
            self.retry = Some((Instant::now() + wait, why));
        }
    }

    /// Why the stream broke and which attempt the next is, once it is time to ask again.
    pub fn due(&self) -> Option<(&str, u32)> {
        self.retry
            .as_ref()
            .filter(|(at, _)| Instant::now() >= *at)
            .map(|(_, why)| (why.as_str(), self.breaks))
    }

    /// Whether the log has been read to its end, or given up.
    pub fn done(&self) -> bool {
        self.stream.is_none() && self.retry.is_none()
    }

    /// Whether a stream has been open for at least `d`.
    pub fn open_for(&self, d: Duration) -> bool {
        self.stream.is_some() && self.opened.elapsed() >= d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(bytes: &'static [u8]) -> Result<LogStream, String> {
        Ok(Box::pin(futures::io::Cursor::new(bytes)))
    }

    /// Read until the stream ends or breaks, collecting what is passed on.
    async fn drain(log: &mut Log, into: &mut Vec<u8>) -> Event<'static> {
        let mut buf = [0u8; 4];
        loop {
            match log.next(&mut buf).await {
                Event::Bytes(b) => into.extend_from_slice(b),
                Event::Skipped => {}
                Event::Ended => return Event::Ended,
                Event::Broken(why) => return Event::Broken(why),
            }
        }
    }

    #[tokio::test]
    async fn a_stream_asked_for_again_passes_on_only_what_was_not_shown() {
        let mut log = Log::default();
        let mut seen = Vec::new();
        log.open(stream(b"line one\n"));
        assert_eq!(drain(&mut log, &mut seen).await, Event::Ended);
        log.ended(true);
        assert!(
            !log.done(),
            "a stream that ended under a running container is asked again"
        );
        log.open(stream(b"line one\nline two\n"));
        assert_eq!(drain(&mut log, &mut seen).await, Event::Ended);
        log.ended(false);
        assert!(log.done());
        assert_eq!(seen, b"line one\nline two\n");
        assert_eq!(log.unread, None);
    }

    #[tokio::test(start_paused = true)]
    async fn breaks_in_a_row_are_asked_again_with_growing_waits_then_the_log_is_unread() {
        let mut log = Log::default();
        let mut waits = Vec::new();
        for attempt in 1..=ATTEMPTS {
            log.open(Err(format!("refused {attempt}")));
            let (at, _) = log.retry.clone().expect("asked again");
            waits.push(at - Instant::now());
            assert_eq!(log.due(), None, "not before its time");
            tokio::time::advance(at - Instant::now()).await;
            assert_eq!(
                log.due(),
                Some((format!("refused {attempt}").as_str(), attempt))
            );
        }
        assert_eq!(waits.first(), Some(&Duration::from_millis(250)));
        assert_eq!(waits.last(), Some(&Duration::from_secs(4)));
        log.open(Err("refused again".to_owned()));
        assert!(log.done());
        assert_eq!(log.unread.as_deref(), Some("refused again"));
    }

    #[tokio::test]
    async fn new_bytes_start_the_count_of_breaks_again() {
        let mut log = Log::default();
        let mut seen = Vec::new();
        for _ in 1..ATTEMPTS {
            log.open(Err("refused".to_owned()));
        }
        log.open(stream(b"more"));
        drain(&mut log, &mut seen).await;
        log.broke("reset by peer".to_owned());
        assert_eq!(
            log.breaks, 1,
            "the stream moved on, so this is a first break"
        );
        assert_eq!(seen, b"more");
    }
}
