//! Where remote output goes: stdout to stdout, stderr to stderr (both to stderr with
//! `-o json`), byte for byte, while Ecto's log lines drive the progress bar.

use indicatif::ProgressBar;

use crate::ecto_output::{Event, parse_line};
use crate::ui::Sink;

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

/// Writes remote output through and collects the events it contains.
pub struct Streamer {
    bar: ProgressBar,
    sink: Sink,
    stdout_to_stderr: bool,
    parse: bool,
    out: LineBuf,
    err: LineBuf,
    stdout_closed: bool,
    hide_tags: bool,
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
            stdout_closed: false,
            hide_tags: false,
            events: Vec::new(),
        }
    }

    /// Keep the machine-readable `kmigrate:` lines of our snippets off the screen.
    pub fn hide_tags(mut self) -> Self {
        self.hide_tags = true;
        self
    }

    /// Take a chunk of remote output.
    pub fn chunk(&mut self, stream: Stream, data: &[u8]) {
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

    /// The streams ended: write what is left of unterminated lines and clear the bar.
    pub fn finish(&mut self) {
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
        self.bar.finish_and_clear();
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
            Event::Migrated { .. } => self.bar.inc(1),
            Event::NothingToDo => self.bar.set_message("already up"),
            Event::Status(_) | Event::Ran { .. } => {}
        }
        self.events.push(event);
    }

    fn write(&mut self, stream: Stream, data: &[u8]) {
        let to_stdout = stream == Stream::Out && !self.stdout_to_stderr;
        if to_stdout && self.stdout_closed {
            return;
        }
        let sink = &self.sink;
        let closed = self.bar.suspend(|| {
            if to_stdout {
                // A closed pipe on stdout is not an error: keep draining so the exit code still arrives.
                sink.stdout(data).is_err()
            } else {
                sink.stderr(data);
                false
            }
        });
        if closed {
            self.stdout_closed = true;
        }
    }
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

    #[test]
    fn events_from_lines_split_across_chunks() {
        let mut s = streamer();
        s.chunk(
            Stream::Out,
            b"12:00:00.000 [info] == Running 1 A.B.change/0 for",
        );
        s.chunk(
            Stream::Out,
            b"ward\n12:00:00.100 [info] == Migrated 1 in 0.1s\nkmigrate:ran\tA\t1",
        );
        s.finish();
        assert_eq!(s.events.len(), 3, "{:?}", s.events);
        assert!(matches!(s.events[2], Event::Ran { .. }));
    }

    #[test]
    fn overlong_lines_are_not_parsed_and_memory_stays_bounded() {
        let mut s = streamer();
        let big = vec![b'x'; MAX_LINE];
        s.chunk(Stream::Err, b"== Migrated 7 in 0.1s");
        for _ in 0..4 {
            s.chunk(Stream::Err, &big);
            assert!(s.err.partial.len() <= MAX_LINE);
        }
        s.chunk(Stream::Err, b"\nMigrations already up\n");
        s.finish();
        assert_eq!(s.events, vec![Event::NothingToDo]);
    }

    #[test]
    fn parsing_can_be_off() {
        let mut s = Streamer::new(ProgressBar::hidden(), sink(), true, false);
        s.chunk(Stream::Out, b"Migrations already up\n");
        assert!(s.events.is_empty());
    }
}
