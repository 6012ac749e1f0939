//! How kmigrate talks to the person (or CI job) running it. Decided once at start-up.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The terminal facts and output choices, fixed for the whole run.
#[derive(Debug, Clone)]
pub struct Ui {
    /// Standard input is a terminal and `CI` is not set: prompting is allowed.
    pub can_prompt: bool,
    /// Standard input is a terminal (`exec -t` can put it in raw mode).
    pub stdin_terminal: bool,
    /// Standard error is a terminal: spinners and progress bars may be drawn.
    pub fancy: bool,
    /// Colour allowed (a terminal and no `NO_COLOR`).
    pub color: bool,
    /// `-o json`: stdout carries one JSON document, remote stdout moves to stderr.
    pub json: bool,
    /// Notes that only help someone watching (which config file is used) are shown:
    /// stderr is a terminal, or `-v` was given.
    pub informative: bool,
    /// `-v` was given: what is long and rarely needed (the remote command in full) is shown.
    pub verbose: bool,
    /// Where text goes: the process's stdout and stderr, or memory in tests.
    pub sink: Sink,
}

impl Ui {
    /// Look at the real terminal and environment.
    pub fn detect(json: bool, verbose: bool) -> Self {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            can_prompt: std::io::stdin().is_terminal() && stderr_tty && !ci,
            stdin_terminal: std::io::stdin().is_terminal(),
            fancy: stderr_tty && !ci,
            color: stderr_tty && !no_color,
            json,
            informative: stderr_tty || verbose,
            verbose,
            sink: Sink::Process,
        }
    }

    /// A spinner on stderr, or a hidden one when stderr is not a terminal.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        let pb = self.still_spinner(msg);
        if !pb.is_hidden() {
            pb.enable_steady_tick(Duration::from_millis(100));
        }
        pb
    }

    /// A spinner that has not drawn yet and does not tick: a streamer starts it.
    pub fn still_spinner(&self, msg: &str) -> ProgressBar {
        if !self.fancy {
            return ProgressBar::hidden();
        }
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
            .with_message(msg.to_owned())
    }

    /// A progress bar for `total` migrations, or a spinner counting them when the total is
    /// unknown; it has not drawn yet and does not tick: a streamer starts it.
    pub fn migration_bar(&self, total: Option<u64>) -> ProgressBar {
        if !self.fancy {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{spinner} [{bar:24}] {pos}/{len} {msg} ({elapsed})"
        } else {
            "{spinner} {pos} done {msg} ({elapsed})"
        };
        pb.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb
    }

    /// Print a note for people on stderr (never on stdout, which is for data).
    pub fn note(&self, msg: &str) {
        self.sink
            .stderr(format!("{}\n", crate::text::printable_text(msg)).as_bytes());
    }

    /// Print data (tables, YAML) on stdout.
    pub fn data(&self, text: &str) {
        let _ = self
            .sink
            .stdout(crate::text::printable_text(text).as_bytes());
    }

    /// Wrap `text` in bold when colour is allowed.
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\u{1b}[1m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }

    /// Ask the user to type `expected`; true only when they typed it exactly.
    pub fn confirm_typed(&self, prompt: &str, expected: &str) -> std::io::Result<bool> {
        let typed: String = match &self.sink {
            Sink::Process => {
                // What was said before the prompt is on the screen before it.
                crate::stderr::process().flush();
                dialoguer::Input::new()
                    .with_prompt(prompt)
                    .allow_empty(true)
                    .interact_text()
                    .map_err(|dialoguer::Error::IO(e)| e)?
            }
            #[cfg(test)]
            Sink::Memory(m) => {
                let delay = m.lock().expect("capture lock").answer_delay;
                std::thread::sleep(delay);
                let mut m = m.lock().expect("capture lock");
                m.prompts.push(prompt.to_owned());
                m.answers.pop_front().unwrap_or_else(|| {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "no answer",
                    ))
                })?
            }
        };
        Ok(typed.trim() == expected)
    }
}

/// Where output goes.
#[derive(Debug, Clone)]
pub enum Sink {
    /// The process's own stdout and stderr, and the terminal for prompts.
    Process,
    /// Memory, for tests of whole flows: what was written, and answers to prompts.
    #[cfg(test)]
    Memory(std::sync::Arc<std::sync::Mutex<Captured>>),
}

/// What a [`Sink::Memory`] holds.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Captured {
    /// Bytes written to stdout.
    pub stdout: Vec<u8>,
    /// Bytes written to stderr.
    pub stderr: Vec<u8>,
    /// Behave like a closed pipe on stdout.
    pub stdout_closed: bool,
    /// Answers to give prompts, in order.
    pub answers: std::collections::VecDeque<std::io::Result<String>>,
    /// The prompts shown.
    pub prompts: Vec<String>,
    /// How long a person takes to answer.
    pub answer_delay: std::time::Duration,
    /// How long each write to stdout takes (a slow reader).
    pub write_delay: std::time::Duration,
}

impl Sink {
    /// Write to stdout; an error means the reader went away.
    pub fn stdout(&self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Process => {
                let mut out = std::io::stdout().lock();
                out.write_all(data).and_then(|()| out.flush())
            }
            #[cfg(test)]
            Sink::Memory(m) => {
                let delay = m.lock().expect("capture lock").write_delay;
                std::thread::sleep(delay);
                let mut m = m.lock().expect("capture lock");
                if m.stdout_closed {
                    return Err(std::io::ErrorKind::BrokenPipe.into());
                }
                m.stdout.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Write to stderr, through the queue that a thread of its own writes (`crate::stderr`):
    /// returns at once, so a terminal that stops reading never stops the caller. Failures
    /// are ignored (there is nowhere left to report them).
    pub fn stderr(&self, data: &[u8]) {
        match self {
            Sink::Process => crate::stderr::process().write(data),
            #[cfg(test)]
            Sink::Memory(m) => m
                .lock()
                .expect("capture lock")
                .stderr
                .extend_from_slice(data),
        }
    }

    /// Write to stderr and wait until it is written: for a thread of its own (the remote
    /// output's writer), so that a terminal that stops reading holds the output back
    /// instead of piling it up in memory.
    pub fn stderr_written(&self, data: &[u8]) {
        self.stderr(data);
        if matches!(self, Sink::Process) {
            crate::stderr::process().flush();
        }
    }
}

#[cfg(test)]
impl Ui {
    /// A non-terminal Ui that writes to memory; `can_prompt` as given.
    pub fn memory(
        can_prompt: bool,
        json: bool,
    ) -> (Self, std::sync::Arc<std::sync::Mutex<Captured>>) {
        let captured = std::sync::Arc::default();
        let ui = Self {
            can_prompt,
            stdin_terminal: false,
            fancy: false,
            color: false,
            json,
            informative: false,
            verbose: false,
            sink: Sink::Memory(std::sync::Arc::clone(&captured)),
        };
        (ui, captured)
    }
}
