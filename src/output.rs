//! Where remote output goes: stdout to stdout, stderr to stderr (both to stderr with
//! `-o json`), byte for byte, while Ecto's log lines drive the progress bar. The writes
//! happen on a thread of their own: a reader that stops reading (a pager, a full pipe)
//! slows the stream down but never stops the runtime, which renews the lock and watches
//! the deadline and signals.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::ProgressBar;

use crate::ecto_output::{Event, Findings, TenantState, parse_line};
use crate::text::printable_text;
use crate::ui::{Sink, Ui};

/// What a stream of remote output is for; decides bar, parsing and where stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A migrate or rollback: progress from Ecto's lines, tags hidden.
    Migrations {
        /// The number expected, when a preview said.
        total: Option<u64>,
    },
    /// Reading the status: all of it to stderr, tags hidden, behind a spinner.
    Status,
    /// Waiting for the schema: as `Status`, with a spinner of its own.
    Wait,
    /// Any command: byte for byte, nothing parsed.
    Raw,
    /// A Job's log followed again: byte for byte, with a spinner.
    Log,
    /// A check's command (`doctor`): nothing shown, the last lines kept, tags read.
    Probe,
}

/// The streamers, one per purpose: decided here, next to what they build.
impl Ui {
    /// The streamer for remote output of this purpose.
    pub fn streamer(&self, purpose: Purpose) -> Streamer {
        let sink = self.sink.clone();
        match purpose {
            Purpose::Migrations { total } => {
                let mut s = Streamer::new(self.migration_bar(total), sink, self.json, true)
                    .hide_tags()
                    .explain_failures(self.verbose);
                s.counted = total.is_some();
                s
            }
            Purpose::Status | Purpose::Wait => {
                let msg = if purpose == Purpose::Wait {
                    "waiting for the schema"
                } else {
                    "reading migration status"
                };
                // Status and plan beat from their first step; the wait snippet says a
                // round every 30 s. A silence of the idle limit is a lost connection.
                let mut s = Streamer::new(self.still_spinner(msg), sink, true, true)
                    .hide_tags()
                    .explain_failures(self.verbose);
                s.expect_heartbeats();
                s.reads_only = true;
                s
            }
            Purpose::Raw => Streamer::new(ProgressBar::hidden(), sink, self.json, false),
            Purpose::Log => Streamer::new(self.migration_bar(None), sink, self.json, false),
            Purpose::Probe => Streamer::new(self.still_spinner("checking"), sink, true, true)
                .hide_tags()
                .capture(),
        }
    }
}

/// Longest partial line kept for parsing; longer lines are passed through but not parsed.
const MAX_LINE: usize = 64 * 1024;

/// Silence after which a remote side that beats every
/// [`crate::ecto_snippet::HEARTBEAT_SECONDS`] is taken for gone: six beats missed (four
/// rounds of the wait snippet).
pub const IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

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

/// What the writer thread does, in order: write bytes, or change the progress bar. The bar
/// draws on the terminal under its own lock, so it is only touched there (security N9).
enum Item {
    /// Bytes for stdout.
    Out(Vec<u8>),
    /// Bytes for stderr.
    Err(Vec<u8>),
    /// The bar's message.
    Message(String),
    /// Migrations done.
    Inc(u64),
    /// Migrations expected, one more.
    IncLength,
}

/// The writer thread: what to write and show, in order.
struct Writer {
    tx: tokio::sync::mpsc::Sender<Item>,
    done: tokio::sync::oneshot::Receiver<()>,
}

/// Turns what the output said so far into text for people, or `None` when there is nothing
/// new; called at the end of each round of the wait snippet.
pub type Narrator = fn(&Findings) -> Option<String>;

/// Writes remote output through and keeps what its recognised lines say.
pub struct Streamer {
    bar: ProgressBar,
    /// Whether the bar is hidden (not a terminal), read once: the bar is not asked again.
    hidden: bool,
    sink: Sink,
    stdout_to_stderr: bool,
    parse: bool,
    out: LineBuf,
    err: LineBuf,
    stdout_closed: Arc<AtomicBool>,
    pending: Vec<Item>,
    writer: Option<Writer>,
    hide_tags: bool,
    /// What the recognised lines said so far.
    pub findings: Findings,
    /// The migration running now, as Ecto's log names it.
    current: String,
    /// The longest silence that still means the remote side is alive.
    idle_limit: Option<std::time::Duration>,
    /// Say so when the snippet waits for another run (`--wait`).
    announce_other_runs: bool,
    /// A status, plan or wait: its heartbeats say it is still reading.
    reads_only: bool,
    /// Say who holds Ecto's migration lock when a migrate or rollback is about to start.
    announce_locks: bool,
    narrate: Option<Narrator>,
    /// The last lines of output, kept instead of written (a probe's).
    kept: Option<std::collections::VecDeque<String>>,
    /// The bar's length was known before the run (the plan was read): the snippet's own
    /// plan lines must not count the same migrations again.
    counted: bool,
    /// Remote failures kmigrate understands are said in one line of its own, their raw
    /// text (an Elixir stack trace) hidden; `None` shows everything (`-v`, raw output).
    explain: Option<Explain>,
}

/// What [`Streamer::explain_failures`] has seen.
#[derive(Default)]
struct Explain {
    /// Within a hidden stack trace: its further lines are hidden too.
    hiding: bool,
    /// kmigrate's line for the failure, said when the stream ends.
    said: Option<String>,
    /// The output is a container's log, stdout and stderr in one stream (Job mode).
    merged: bool,
}

/// Lines a capturing streamer keeps, and the characters kept of each.
const KEPT_LINES: usize = 20;
const KEPT_CHARS: usize = 300;

impl Streamer {
    /// A streamer drawing `bar` (hidden when not on a terminal) and writing to `sink`;
    /// [`crate::ui::Ui::streamer`] picks these per purpose.
    /// A streamer showing `bar` (not yet ticking: it is started here, once its state is read).
    pub fn new(bar: ProgressBar, sink: Sink, stdout_to_stderr: bool, parse: bool) -> Self {
        let hidden = bar.is_hidden();
        if !hidden {
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
        }
        Self {
            bar,
            hidden,
            sink,
            stdout_to_stderr,
            parse,
            out: LineBuf::default(),
            err: LineBuf::default(),
            stdout_closed: Arc::new(AtomicBool::new(false)),
            pending: Vec::new(),
            writer: None,
            hide_tags: false,
            findings: Findings::default(),
            current: String::new(),
            idle_limit: None,
            announce_other_runs: false,
            reads_only: false,
            announce_locks: false,
            narrate: None,
            kept: None,
            counted: false,
            explain: None,
        }
    }

    /// Say remote failures kmigrate understands (a refusal of its snippet, a database that
    /// cannot be reached, no running node for `--mode rpc`) in one line naming the cause
    /// and the fix, instead of their stack trace; `verbose` (`-v`) shows the raw text too.
    pub fn explain_failures(mut self, verbose: bool) -> Self {
        self.explain = (!verbose).then(Explain::default);
        self
    }

    /// The output is a container's log, where a failure's text comes on the one stream
    /// there is: it is explained there too.
    pub fn reads_a_merged_log(&mut self) {
        if let Some(explain) = self.explain.as_mut() {
            explain.merged = true;
        }
    }

    /// Whether a remote line is the raw text of a failure kmigrate says in its own words.
    fn explained(&mut self, stream: Stream, line: &[u8]) -> bool {
        // DBConnection logs a connection the server refused for a reason kmigrate names at
        // the end (read into the findings as it came): the pool's queue drop that follows
        // is that refusal, not an unreachable database.
        let refused = self.findings.refused_connection();
        let Some(explain) = self.explain.as_mut() else {
            return false;
        };
        if stream != Stream::Err && !explain.merged && !line.starts_with(b"--rpc-eval") {
            return false;
        }
        let text = String::from_utf8_lossy(line);
        if refused && text.starts_with("** (DBConnection.ConnectionError)") {
            explain.hiding = true;
            return true;
        }
        if let Some(said) = crate::ecto_output::failure::explain(text.trim_end()) {
            explain.hiding = text.starts_with("** (");
            if !said.is_empty() {
                explain.said.get_or_insert(said);
            }
            return true;
        }
        if text.starts_with("** (") {
            explain.hiding = false;
        }
        // In a merged log a stack trace ends where its indented frames do: what follows is
        // the program's own output.
        if explain.merged && !text.starts_with(char::is_whitespace) {
            explain.hiding = false;
        }
        explain.hiding
    }

    /// Keep the last lines of the remote output instead of writing them: a check reads
    /// them, and shows them only when it fails.
    pub fn capture(mut self) -> Self {
        self.kept = Some(std::collections::VecDeque::new());
        self
    }

    /// The last lines kept by [`Streamer::capture`], oldest first.
    pub fn captured(&self) -> Vec<String> {
        self.kept.iter().flatten().cloned().collect()
    }

    /// The remote side beats (our snippet): a silence of [`IDLE_LIMIT`] means the
    /// connection is gone, however quiet the migration.
    pub fn expect_heartbeats(&mut self) {
        self.idle_limit = Some(IDLE_LIMIT);
    }

    /// A migrate or rollback: say who holds Ecto's migration lock before it starts (the run
    /// waits for them).
    pub fn announce_locks(&mut self) {
        self.announce_locks = true;
    }

    /// The snippet waits for other runs to end (`--wait`): say which, as it reports them.
    pub fn announce_other_runs(&mut self) {
        self.announce_other_runs = true;
    }

    /// The longest silence that still means the remote side is alive, if one is known.
    pub fn idle_limit(&self) -> Option<std::time::Duration> {
        self.idle_limit
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
        let line_mode = !self.hidden || self.hide_tags;
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
                    Some(l) if self.kept.is_none() && self.explained(stream, l) => {}
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
        if let Some(said) = self.explain.as_mut().and_then(|e| e.said.take()) {
            let line = format!("kmigrate: {said} (-v shows the remote side's own words)\n");
            self.write(Stream::Err, printable_text(&line).as_bytes());
        }
        self.flush().await;
        // The writer thread clears the bar when it ends: start it if nothing was written
        // and there is a bar on the screen to clear.
        let w = match self.writer.take() {
            Some(w) => w,
            None if self.hidden => return,
            None => self.spawn_writer(),
        };
        drop(w.tx);
        let _ = w.done.await;
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
            let explained = self.kept.is_none() && self.explained(stream, &rest);
            if (!self.hidden || self.hide_tags) && !tagged && !explained {
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
            } => {
                self.current = format!("{version} {module}");
                self.pending.push(Item::Message(self.current.clone()));
            }
            Event::Waiting(w) => {
                let line = format!("kmigrate: {}\n", w.describe());
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::Heartbeat { seconds } => {
                let still = if self.reads_only {
                    format!("still reading, {}", minutes(*seconds))
                } else if self.current.is_empty() {
                    format!(
                        "still preparing the run (status, locks), {}",
                        minutes(*seconds)
                    )
                } else {
                    format!("still on {}, {}", self.current, minutes(*seconds))
                };
                if self.hidden {
                    // Plain output (CI logs): a line per beat, so a silent migration is seen
                    // to be alive and log-idle timeouts do not cut it.
                    let line = format!("kmigrate: {still}\n");
                    self.write(Stream::Err, printable_text(&line).as_bytes());
                } else {
                    self.pending.push(Item::Message(printable_text(&still)));
                }
            }
            Event::Locked(l) if self.announce_locks => {
                let app = if l.application.is_empty() {
                    "no application name".to_owned()
                } else {
                    format!("application {:?}", l.application)
                };
                let line = format!(
                    "kmigrate: Ecto's migration lock for {} is held by database session {} ({app}, since {}): the migration waits for it\n",
                    l.repo, l.pid, l.since
                );
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::OtherRun(o) if self.announce_other_runs => {
                let line = format!(
                    "kmigrate: waiting for another run to end, still in the database of {}: {}\n",
                    o.repo,
                    o.describe()
                );
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::Tenant {
                prefix,
                state: TenantState::Failed { version, error },
            } => {
                // Said as it happens: with --continue-on-error the run goes on for long.
                let at = version.map(|v| format!(" at {v}")).unwrap_or_default();
                let line = format!("kmigrate: tenant {prefix} failed{at}: {error}\n");
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::InvalidTenant(name) => {
                let line = format!(
                    "kmigrate: --prefixes-from returned {name}, which is not a valid prefix: skipped\n"
                );
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            // Said as they come: what the run leaves out, before anything else it says.
            Event::Older(o) => {
                let line = format!("kmigrate: {}\n", o.describe());
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::Skipped(r) => {
                let line = format!("kmigrate: {}\n", r.describe());
                self.write(Stream::Err, printable_text(&line).as_bytes());
            }
            Event::OtherRun(_)
            | Event::Busy(_)
            | Event::Session(_)
            | Event::TimedOut(_)
            | Event::Tenant { .. }
            | Event::InvalidIndex(_) => {}
            Event::MigrationPlan(_) => {}
            // The snippet's own lines count when it printed a plan; Ecto's for a custom command.
            Event::Plan { .. } if !self.counted => self.pending.push(Item::IncLength),
            Event::Plan { .. } => {}
            Event::Ran { versions, .. } => self.pending.push(Item::Inc(versions.len() as u64)),
            Event::Migrated { .. } if !self.findings.planned() => self.pending.push(Item::Inc(1)),
            Event::NothingToDo => self.pending.push(Item::Message("already up".to_owned())),
            Event::Migrated { .. }
            | Event::Status(_)
            | Event::Locked(_)
            | Event::Refused(_)
            | Event::Changed(_)
            | Event::End
            | Event::Wait { .. }
            | Event::Probe(_)
            | Event::ConnectionRefused(_) => {}
        }
        let ends_round = matches!(event, Event::Wait { .. });
        self.findings.add(event);
        if ends_round && let Some(text) = self.narrate.and_then(|narrate| narrate(&self.findings)) {
            self.write(Stream::Err, printable_text(&text).as_bytes());
        }
    }

    fn write(&mut self, stream: Stream, data: &[u8]) {
        if let Some(kept) = &mut self.kept {
            for line in String::from_utf8_lossy(data).lines() {
                if line.trim().is_empty() {
                    continue;
                }
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(line.chars().take(KEPT_CHARS).collect());
            }
            return;
        }
        let to_stdout = stream == Stream::Out && !self.stdout_to_stderr;
        // A closed pipe on stdout is not an error: keep draining so the exit code still arrives.
        if to_stdout && self.stdout_closed.load(Ordering::Relaxed) {
            return;
        }
        self.pending.push(if to_stdout {
            Item::Out(data.to_vec())
        } else {
            Item::Err(data.to_vec())
        });
    }

    /// The thread that writes the output and draws the bar, so that a terminal that stops
    /// reading slows the stream down but never stops the runtime. It clears the bar when
    /// the stream ends.
    fn spawn_writer(&self) -> Writer {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Item>(QUEUE);
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let (bar, sink) = (self.bar.clone(), self.sink.clone());
        let stdout_closed = Arc::clone(&self.stdout_closed);
        std::thread::spawn(move || {
            while let Some(item) = rx.blocking_recv() {
                match item {
                    Item::Message(m) => bar.set_message(m),
                    Item::Inc(n) => bar.inc(n),
                    Item::IncLength => bar.inc_length(1),
                    Item::Out(_) if stdout_closed.load(Ordering::Relaxed) => {}
                    Item::Out(data) => {
                        if bar.suspend(|| sink.stdout(&data).is_err()) {
                            stdout_closed.store(true, Ordering::Relaxed);
                        }
                    }
                    Item::Err(data) => bar.suspend(|| sink.stderr_written(&data)),
                }
            }
            bar.finish_and_clear();
            let _ = done_tx.send(());
        });
        Writer { tx, done }
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.writer.is_none() {
            self.writer = Some(self.spawn_writer());
        }
        let Some(writer) = self.writer.as_mut() else {
            return;
        };
        for item in self.pending.drain(..) {
            if writer.tx.send(item).await.is_err() {
                break;
            }
        }
        self.pending.clear();
    }
}

/// A duration in whole minutes, or seconds under one.
fn minutes(seconds: u64) -> String {
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_output::Direction;

    fn sink() -> Sink {
        crate::ui::Ui::memory(false, false).0.sink
    }

    fn streamer() -> Streamer {
        Streamer::new(ProgressBar::hidden(), sink(), true, true)
    }

    /// A terminal that does not take what is drawn (stopped by Ctrl-S): every write waits
    /// until it is opened.
    #[derive(Debug, Clone, Default)]
    struct StoppedTerminal(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

    impl StoppedTerminal {
        fn wait(&self) -> std::io::Result<()> {
            let (open, cv) = &*self.0;
            drop(cv.wait_while(open.lock().unwrap(), |o| !*o).unwrap());
            Ok(())
        }

        fn open(&self) {
            *self.0.0.lock().unwrap() = true;
            self.0.1.notify_all();
        }
    }

    impl indicatif::TermLike for StoppedTerminal {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            self.wait()
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            self.wait()
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            self.wait()
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            self.wait()
        }
        fn write_line(&self, _: &str) -> std::io::Result<()> {
            self.wait()
        }
        fn write_str(&self, _: &str) -> std::io::Result<()> {
            self.wait()
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.wait()
        }
        fn flush(&self) -> std::io::Result<()> {
            self.wait()
        }
    }

    /// The progress bar draws on the terminal under its own lock; with the terminal
    /// stopped, Ecto's lines that move the bar (a migration running, one done, a heartbeat)
    /// still leave the runtime free, so the lock's renewal beside them goes on
    /// (security N9). Run on a thread of its own, so that a runtime that does block fails
    /// the test instead of hanging it.
    #[test]
    fn a_stopped_terminal_never_stops_the_runtime_that_moves_the_bar() {
        let terminal = StoppedTerminal::default();
        let bar = ProgressBar::with_draw_target(
            Some(3),
            indicatif::ProgressDrawTarget::term_like(Box::new(terminal.clone())),
        );
        let (ran, beside_done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let beside = tokio::spawn(async move {
                    for _ in 0..5 {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                });
                let mut s = Streamer::new(bar, sink(), true, true).hide_tags();
                for v in 1..=3 {
                    let lines = format!(
                        "12:00:00.000 [info] == Running {v} Shop.Repo.Migrations.M{v}.change/0 forward\n\
                         kmigrate:heartbeat\t20\n\
                         12:00:00.100 [info] == Migrated {v} in 0.1s\n"
                    );
                    s.chunk(Stream::Err, lines.as_bytes()).await;
                }
                beside.await.unwrap();
                let _ = ran.send(());
                s.finish().await;
            });
        });
        let free = beside_done.recv_timeout(std::time::Duration::from_secs(10));
        terminal.open();
        assert!(free.is_ok(), "the runtime blocked on the stopped terminal");
    }

    /// Status, plan and wait say something at least every 30 s (a heartbeat, a round):
    /// their silence for the idle limit is a lost connection, as a migrate's is.
    #[test]
    fn reads_have_the_idle_limit_of_a_migrate() {
        let (ui, _) = crate::ui::Ui::memory(false, false);
        for purpose in [
            Purpose::Status,
            Purpose::Wait,
            Purpose::Migrations { total: None },
        ] {
            let mut s = ui.streamer(purpose);
            if matches!(purpose, Purpose::Migrations { .. }) {
                s.expect_heartbeats();
            }
            assert_eq!(s.idle_limit(), Some(IDLE_LIMIT), "{purpose:?}");
        }
        assert_eq!(ui.streamer(Purpose::Raw).idle_limit(), None, "exec");
    }

    /// A refusal's stack trace and a database that cannot be reached are said in one
    /// kmigrate line, their raw text hidden; with `-v` the raw text is there too; a
    /// migration's own error is never hidden.
    #[tokio::test]
    async fn failures_kmigrate_understands_are_said_in_its_words() {
        const TRACE: &str = "** (RuntimeError) kmigrate: nothing was run: version 7 is not a migration\n    (stdlib 5.2) erl_eval.erl:750: :erl_eval.do_apply/7\n\
            ** (DBConnection.ConnectionError) connection refused\n    (db_connection 2.6.0) lib/db_connection.ex:1: DBConnection.run/3\n\
            ** (Postgrex.Error) ERROR 42P01 (undefined_table)\n";
        for verbose in [false, true] {
            let (ui, captured) = crate::ui::Ui::memory(false, false);
            let ui = crate::ui::Ui { verbose, ..ui };
            let mut s = ui.streamer(Purpose::Status);
            s.chunk(Stream::Err, TRACE.as_bytes()).await;
            s.finish().await;
            let err = String::from_utf8_lossy(&captured.lock().unwrap().stderr).into_owned();
            assert_eq!(err.contains("erl_eval"), verbose, "{err}");
            assert_eq!(err.contains("** (DBConnection"), verbose, "{err}");
            assert!(err.contains("** (Postgrex.Error) ERROR 42P01"), "{err}");
            assert_eq!(
                err.contains(
                    "kmigrate: the app could not connect to its database (connection refused)"
                ),
                !verbose,
                "{err}"
            );
        }
    }

    /// A Job's log is one stream: a failure kmigrate understands is said in its words there
    /// too, its stack trace hidden up to its last frame, and what follows is shown.
    #[tokio::test]
    async fn failures_in_a_merged_log_are_said_in_its_words() {
        const LOG: &str = "== Running 1\n\
            ** (System.EnvError) could not fetch environment variable \"DATABASE_URL\" because it is not set\n\
            \x20   (elixir 1.14.0) lib/system.ex:1: System.fetch_env!/1\nafter\n";
        for merged in [false, true] {
            let (ui, captured) = crate::ui::Ui::memory(false, false);
            let mut s = ui.streamer(Purpose::Status);
            if merged {
                s.reads_a_merged_log();
            }
            s.chunk(Stream::Out, LOG.as_bytes()).await;
            s.finish().await;
            let c = captured.lock().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&c.stdout),
                String::from_utf8_lossy(&c.stderr)
            );
            assert_eq!(all.contains("System.fetch_env!"), !merged, "{all}");
            assert_eq!(
                all.contains("needs the environment variable DATABASE_URL"),
                merged,
                "{all}"
            );
            assert!(
                all.contains("== Running 1") && all.contains("after"),
                "{all}"
            );
        }
    }

    /// A queue drop after DBConnection logged a refusal kmigrate names at the end (PgBouncer's
    /// unsupported startup parameter, a connection limit) is not said to be an unreachable
    /// database; without such a refusal it still is.
    #[tokio::test]
    async fn a_queue_drop_after_a_named_refusal_is_not_an_unreachable_database() {
        const REFUSED: &str = "12:00:00.000 [error] Postgrex.Protocol (#PID<0.1.0>) failed to connect: \
            ** (Postgrex.Error) FATAL 08P01 (protocol_violation) unsupported startup parameter: lock_timeout\n";
        const DROP: &str = "** (DBConnection.ConnectionError) connection not available and request was dropped \
            from queue after 4000ms\n\x20   lib/ecto/pool.ex:219: Ecto.StandIn.Pool.checkout!/2\n";
        for refused in [true, false] {
            let (ui, captured) = crate::ui::Ui::memory(false, false);
            let mut s = ui.streamer(Purpose::Status).explain_failures(false);
            if refused {
                s.chunk(Stream::Out, REFUSED.as_bytes()).await;
            }
            s.chunk(Stream::Err, DROP.as_bytes()).await;
            s.finish().await;
            let c = captured.lock().unwrap();
            let err = String::from_utf8_lossy(&c.stderr);
            assert!(!err.contains("Ecto.StandIn.Pool.checkout!"), "{err}");
            assert_eq!(
                err.contains("could not connect to its database"),
                !refused,
                "{err}"
            );
        }
    }

    /// A bar whose total the plan gave does not count the snippet's plan lines again:
    /// one migration is `0/1`, not `0/2`.
    #[tokio::test]
    async fn a_known_total_is_not_counted_twice() {
        let (ui, _) = crate::ui::Ui::memory(false, false);
        let mut s = ui.streamer(Purpose::Migrations { total: Some(1) });
        s.bar = ProgressBar::hidden();
        s.bar.set_length(1);
        s.chunk(Stream::Out, b"kmigrate:plan\tShop.Repo\t\t2\ttwo\n")
            .await;
        // The bar moves on the writer thread: done once the stream is finished.
        s.finish().await;
        assert_eq!(s.bar.length(), Some(1));
        let mut unknown = ui.streamer(Purpose::Migrations { total: None });
        unknown.bar = ProgressBar::hidden();
        unknown.bar.set_length(0);
        unknown
            .chunk(Stream::Out, b"kmigrate:plan\tShop.Repo\t\t2\ttwo\n")
            .await;
        unknown.finish().await;
        assert_eq!(unknown.bar.length(), Some(1));
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
        let f = &s.findings;
        assert_eq!(f.module(1, Direction::Up), Some("A.B"), "{f:?}");
        assert_eq!(f.migrated(), [1]);
        assert_eq!(f.ran().iter().map(|r| r.version).collect::<Vec<_>>(), [1]);
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
        assert!(s.findings.nothing_to_do());
        assert!(
            s.findings.migrated().is_empty(),
            "the overlong line was not parsed"
        );
    }

    #[tokio::test]
    async fn a_narrator_speaks_on_stderr_in_order() {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        let narrator: Narrator = |findings| {
            findings
                .last_wait_round()
                .map(|r| format!("round at {}s\x07\n", r.waited_s))
        };
        let mut s = Streamer::new(ProgressBar::hidden(), ui.sink.clone(), true, true)
            .hide_tags()
            .narrate(narrator);
        s.chunk(
            Stream::Out,
            b"before\nkmigrate:status\tR\t\tdown\t2\ttwo\nkmigrate:wait\twaiting\t30\nafter\n",
        )
        .await;
        s.finish().await;
        assert_eq!(
            String::from_utf8_lossy(&captured.lock().unwrap().stderr),
            "before\nround at 30s\\u{7}\nafter\n"
        );
        let round = s.findings.last_wait_round().unwrap();
        assert_eq!(round.rows.len(), 1);
    }

    #[tokio::test]
    async fn a_beat_says_what_the_run_is_on_or_that_it_prepares() {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        let mut s = Streamer::new(ProgressBar::hidden(), ui.sink.clone(), true, true).hide_tags();
        s.chunk(
            Stream::Out,
            b"kmigrate:heartbeat\t20\n== Running 20240101120000 Demo.Repo.Migrations.CreatePosts.up/0\nkmigrate:heartbeat\t80\n",
        )
        .await;
        s.finish().await;
        let said = String::from_utf8_lossy(&captured.lock().unwrap().stderr).into_owned();
        assert!(
            said.contains("kmigrate: still preparing the run (status, locks), 20 s\n"),
            "{said}"
        );
        assert!(
            said.contains(
                "kmigrate: still on 20240101120000 Demo.Repo.Migrations.CreatePosts, 1 min\n"
            ),
            "{said}"
        );
    }

    #[tokio::test]
    async fn parsing_can_be_off() {
        let mut s = Streamer::new(ProgressBar::hidden(), sink(), true, false);
        s.chunk(Stream::Out, b"Migrations already up\n").await;
        assert_eq!(s.findings, Findings::default());
    }

    /// A streamer whose output goes nowhere: only what it keeps is measured.
    fn quiet_streamer() -> Streamer {
        let (ui, captured) = crate::ui::Ui::memory(false, false);
        captured.lock().unwrap().stdout_closed = true;
        Streamer::new(ProgressBar::hidden(), ui.sink, false, true)
    }

    /// A chatty pod says the same things over and over: a million recognised lines keep
    /// a few bytes, and the report still gets the one migration, by its planned name.
    #[tokio::test]
    async fn a_million_repeated_lines_keep_a_few_bytes() {
        let lines = "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 forward\n\
                     12:00:00.100 [info] == Migrated 2 in 0.1s\n\
                     kmigrate:plan\tShop.Repo\t\t2\ttwo\n\
                     kmigrate:ran\tShop.Repo\t\t2\n\
                     12:00:00.200 [info] Migrations already up\n";
        let chunk = lines.repeat(2_000);
        let mut s = quiet_streamer();
        for _ in 0..100 {
            s.chunk(Stream::Out, chunk.as_bytes()).await;
        }
        s.finish().await;
        let f = &s.findings;
        assert!(f.kept_bytes() < 1024, "{} bytes kept", f.kept_bytes());
        let ran: Vec<(&str, i64)> = f
            .ran()
            .iter()
            .map(|r| (r.repo.as_str(), r.version))
            .collect();
        assert_eq!(ran, [("Shop.Repo", 2)]);
        assert_eq!(f.planned_name(2), Some("two"));
        assert_eq!(f.module(2, Direction::Up), Some("Shop.Repo.Migrations.Two"));
        assert_eq!(f.migrated(), [2]);
        assert!(f.planned() && f.nothing_to_do());
    }

    /// A hostile pod says ever new things: what is kept stops at the budget, and a status
    /// that did not fit is refused rather than read in part.
    #[tokio::test]
    async fn a_million_new_lines_keep_at_most_the_budget() {
        let mut s = quiet_streamer();
        for batch in 0..100 {
            let chunk: String = (0..10_000)
                .map(|i| {
                    let v = batch * 10_000 + i;
                    format!("kmigrate:status\tShop.Repo\t\tdown\t{v}\tmigration_number_{v}\n")
                })
                .collect();
            s.chunk(Stream::Out, chunk.as_bytes()).await;
        }
        s.finish().await;
        let kept = s.findings.kept_bytes();
        assert!(
            kept <= crate::ecto_output::MAX_LIST_BYTES,
            "{kept} bytes kept"
        );
        let err = s
            .findings
            .status()
            .expect_err("part of a status is no status");
        assert!(err.contains("more migrations than kmigrate keeps"), "{err}");
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
