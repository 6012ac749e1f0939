//! Where remote output goes: stdout to stdout, stderr to stderr (both to stderr with
//! `-o json`), byte for byte, while Ecto's log lines drive the progress bar. The writes
//! happen on a thread of their own: a reader that stops reading (a pager, a full pipe)
//! slows the stream down but never stops the runtime, which renews the lock and watches
//! the deadline and signals.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use crate::ecto_output::{Event, parse_line};
use crate::ui::{Sink, printable_text};

/// Longest partial line kept for parsing; longer lines are passed through but not parsed.
const MAX_LINE: usize = 64 * 1024;

/// Lines our snippets print for kmigrate, not for people.
const TAG_PREFIX: &[u8] = b"kmigrate:";

/// Which remote stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Remote stdout.
    Out,
    /// Remote stderr.
    Err,
}

#[derive(Default)]
struct LineBuf {
    partial: Vec<u8>,
    overlong: bool,
}

/// Chunks in flight to the writer thread: at most this many (of at most 64 KiB each).
const QUEUE: usize = 64;

/// The writer thread: bytes for stdout (true) or stderr (false), in order.
struct Writer {
    tx: tokio::sync::mpsc::Sender<(bool, Vec<u8>)>,
    done: tokio::sync::oneshot::Receiver<()>,
}

/// Turns the events seen so far into text for people, or `None` when there is nothing new.
pub type Narrator = fn(&[Event]) -> Option<String>;

/// Writes remote output through and collects the events it contains.
pub struct Streamer {
    bar: ProgressBar,
    sink: Sink,
    stdout_to_stderr: bool,
    parse: bool,
    out: LineBuf,
    err: LineBuf,
    stdout_closed: Arc<AtomicBool>,
    pending: Vec<(bool, Vec<u8>)>,
    writer: Option<Writer>,
    hide_tags: bool,
    planned: bool,
    narrate: Option<Narrator>,
    /// Events seen so far, in order.
    pub events: Vec<Event>,
}

impl Streamer {
    /// A streamer drawing `bar` (hidden when not on a terminal) and writing to `sink`;
    /// [`crate::ui::Ui::streamer`] picks these per purpose.
    pub fn new(bar: ProgressBar, sink: Sink, stdout_to_stderr: bool, parse: bool) -> Self {
        Self {
            bar,
            sink,
            stdout_to_stderr,
            parse,
            out: LineBuf::default(),
            err: LineBuf::default(),
            stdout_closed: Arc::new(AtomicBool::new(false)),
            pending: Vec::new(),
            writer: None,
            hide_tags: false,
            planned: false,
            narrate: None,
            events: Vec::new(),
        }
    }

    /// Keep the machine-readable `kmigrate:` lines of our snippets off the screen.
    pub fn hide_tags(mut self) -> Self {
        self.hide_tags = true;
        self
    }

    /// Tell people, on stderr and in order with the remote output, what the events so far
    /// mean whenever `narrator` has something to say (it is asked after every event).
    pub fn narrate(mut self, narrator: Narrator) -> Self {
        self.narrate = Some(narrator);
        self
    }

    /// Take a chunk of remote output; waits only while the writer is a whole queue behind.
    pub async fn chunk(&mut self, stream: Stream, data: &[u8]) {
        self.take(stream, data);
        self.flush().await;
    }

    fn take(&mut self, stream: Stream, data: &[u8]) {
        let line_mode = !self.bar.is_hidden() || self.hide_tags;
        if !line_mode {
            self.write(stream, data);
        }
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(pos + 1);
            rest = tail;
            let buf = self.buf(stream);
            let whole = if buf.partial.is_empty() {
                let overlong = std::mem::take(&mut buf.overlong);
                (!overlong).then(|| line.to_vec())
            } else {
                buf.partial.extend_from_slice(line);
                let overlong = std::mem::take(&mut buf.overlong);
                let l = std::mem::take(&mut buf.partial);
                (!overlong).then_some(l)
            };
            if line_mode {
                match &whole {
                    Some(l) if self.hide_tags && l.starts_with(TAG_PREFIX) => {}
                    Some(l) => self.write(stream, l),
                    None => self.write(stream, line),
                }
            }
            if let Some(l) = whole {
                self.observe(&l);
            }
        }
        if rest.is_empty() {
            return;
        }
        let buf = self.buf(stream);
        if buf.overlong || buf.partial.len() + rest.len() > MAX_LINE {
            let flushed = std::mem::take(&mut buf.partial);
            buf.overlong = true;
            if line_mode {
                self.write(stream, &flushed);
                self.write(stream, rest);
            }
        } else {
            buf.partial.extend_from_slice(rest);
        }
    }

    /// The streams ended: write what is left of unterminated lines, wait until everything
    /// is written, and clear the bar.
    pub async fn finish(&mut self) {
        self.take_rest();
        self.flush().await;
        if let Some(w) = self.writer.take() {
            drop(w.tx);
            let _ = w.done.await;
        }
        self.bar.finish_and_clear();
    }

    fn take_rest(&mut self) {
        for stream in [Stream::Out, Stream::Err] {
            let buf = self.buf(stream);
            let rest = std::mem::take(&mut buf.partial);
            let overlong = std::mem::take(&mut buf.overlong);
            if rest.is_empty() {
                continue;
            }
            let tagged = self.hide_tags && rest.starts_with(TAG_PREFIX);
            if (!self.bar.is_hidden() || self.hide_tags) && !tagged {
                self.write(stream, &rest);
            }
            if !overlong {
                self.observe(&rest);
            }
        }
    }

    fn buf(&mut self, stream: Stream) -> &mut LineBuf {
        match stream {
            Stream::Out => &mut self.out,
            Stream::Err => &mut self.err,
        }
    }

    fn observe(&mut self, line: &[u8]) {
        if !self.parse {
            return;
        }
        let Some(event) = parse_line(line) else {
            return;
        };
        match &event {
            Event::Running {
                version, module, ..
            } => self.bar.set_message(format!("{version} {module}")),
            // The snippet's own lines count when it printed a plan; Ecto's for a custom command.
            Event::Plan { .. } => self.bar.inc_length(1),
            Event::Ran { versions, .. } => self.bar.inc(versions.len() as u64),
            Event::Migrated { .. } if !self.planned => self.bar.inc(1),
            Event::NothingToDo => self.bar.set_message("already up"),
            Event::Migrated { .. }
            | Event::Status(_)
            | Event::Locked(_)
            | Event::Refused(_)
            | Event::Wait { .. } => {}
        }
        if matches!(event, Event::Plan { .. }) {
            self.planned = true;
        }
        self.events.push(event);
        if let Some(text) = self.narrate.and_then(|narrate| narrate(&self.events)) {
            self.write(Stream::Err, printable_text(&text).as_bytes());
        }
    }

    fn write(&mut self, stream: Stream, data: &[u8]) {
        let to_stdout = stream == Stream::Out && !self.stdout_to_stderr;
        // A closed pipe on stdout is not an error: keep draining so the exit code still arrives.
        if to_stdout && self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        self.pending.push((to_stdout, data.to_vec()));
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let writer = self.writer.get_or_insert_with(|| {
            spawn_writer(
                self.bar.clone(),
                self.sink.clone(),
                Arc::clone(&self.stdout_closed),
            )
        });
        for item in self.pending.drain(..) {
            if writer.tx.send(item).await.is_err() {
                break;
            }
        }
        self.pending.clear();
    }
}

fn spawn_writer(bar: ProgressBar, sink: Sink, stdout_closed: Arc<AtomicBool>) -> Writer {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(bool, Vec<u8>)>(QUEUE);
    let (done_tx, done) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        while let Some((to_stdout, data)) = rx.blocking_recv() {
            if to_stdout && stdout_closed.load(Ordering::Relaxed) {
                continue;
            }
            let closed = bar.suspend(|| {
                if to_stdout {
                    sink.stdout(&data).is_err()
                } else {
                    sink.stderr(&data);
                    false
                }
            });
            if closed {
                stdout_closed.store(true, Ordering::Relaxed);
            }
        }
        let _ = done_tx.send(());
    });
    Writer { tx, done }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink() -> Sink {
        crate::ui::Ui::memory(false, false).0.sink
    }

    fn streamer() -> Streamer {
        Streamer::new(ProgressBar::hidden(), sink(), true, true)
    }

    #[tokio::test]
    async fn events_from_lines_split_across_chunks() {
        let mut s = streamer();
        s.chunk(
            Stream::Out,
            b"12:00:00.000 [info] == Running 1 A.B.change/0 for",
        )
        .await;
        s.chunk(
            Stream::Out,
            b"ward\n12:00:00.100 [info] == Migrated 1 in 0.1s\nkmigrate:ran\tA\t\t1",
        )
        .await;
        s.finish().await;
        assert_eq!(s.events.len(), 3, "{:?}", s.events);
        assert!(matches!(s.events[2], Event::Ran { .. }));
    }

    #[tokio::test]
    async fn overlong_lines_are_not_parsed_and_memory_stays_bounded() {
        let mut s = streamer();
        let big = vec![b'x'; MAX_LINE];
        s.chunk(Stream::Err, b"== Migrated 7 in 0.1s").await;
        for _ in 0..4 {
            s.chunk(Stream::Err, &big).await;
            assert!(s.err.partial.len() <= MAX_LINE);
        }
        s.chunk(Stream::Err, b"\nMigrations already up\n").await;
        s.finish().await;
        assert_eq!(s.events, vec![Event::NothingToDo]);
    }

    #[tokio::test]
    async fn a_narrator_speaks_on_stderr_in_order() {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        let narrator: Narrator = |events| {
            matches!(events.last(), Some(Event::NothingToDo)).then(|| "all done\x07\n".to_owned())
        };
        let mut s = Streamer::new(ProgressBar::hidden(), ui.sink.clone(), true, true)
            .hide_tags()
            .narrate(narrator);
        s.chunk(Stream::Out, b"before\nMigrations already up\nafter\n")
            .await;
        s.finish().await;
        assert_eq!(
            String::from_utf8_lossy(&captured.lock().unwrap().stderr),
            "before\nMigrations already up\nall done\\u{7}\nafter\n"
        );
    }

    #[tokio::test]
    async fn parsing_can_be_off() {
        let mut s = Streamer::new(ProgressBar::hidden(), sink(), true, false);
        s.chunk(Stream::Out, b"Migrations already up\n").await;
        assert!(s.events.is_empty());
    }

    /// A reader that stops reading (a pager) must not stop the runtime: the lock's
    /// renewer, the deadline and the signal watch share its thread.
    #[tokio::test]
    async fn a_slow_reader_does_not_block_the_runtime() {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        captured.lock().unwrap().write_delay = std::time::Duration::from_millis(100);
        let mut s = Streamer::new(ProgressBar::hidden(), ui.sink.clone(), false, false);
        let ticks = std::cell::Cell::new(0u32);
        let ticker = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.set(ticks.get() + 1);
            }
        };
        let work = async {
            for i in 0..4 {
                s.chunk(Stream::Out, format!("line {i}\n").as_bytes()).await;
            }
            s.finish().await;
        };
        tokio::select! {
            () = work => {}
            () = ticker => unreachable!("the ticker never ends"),
        }
        assert!(
            ticks.get() >= 10,
            "the runtime was blocked: {} ticks in 400 ms",
            ticks.get()
        );
        assert_eq!(
            captured.lock().unwrap().stdout,
            b"line 0\nline 1\nline 2\nline 3\n"
        );
    }

    #[tokio::test]
    async fn a_closed_stdout_is_not_written_again() {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        captured.lock().unwrap().stdout_closed = true;
        let mut s = Streamer::new(ProgressBar::hidden(), ui.sink.clone(), false, false);
        s.chunk(Stream::Out, b"a\n").await;
        s.chunk(Stream::Err, b"e\n").await;
        s.finish().await;
        assert!(s.stdout_closed.load(Ordering::Relaxed));
        let c = captured.lock().unwrap();
        assert!(c.stdout.is_empty());
        assert_eq!(c.stderr, b"e\n");
    }
}
