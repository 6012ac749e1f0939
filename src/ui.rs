//! How kmigrate talks to the person (or CI job) running it. Decided once at start-up.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The terminal facts and output choices, fixed for the whole run.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Standard input is a terminal and `CI` is not set: prompting is allowed.
    pub can_prompt: bool,
    /// Standard error is a terminal: spinners and progress bars may be drawn.
    pub fancy: bool,
    /// Colour allowed (a terminal and no `NO_COLOR`).
    pub color: bool,
    /// `-o json`: stdout carries one JSON document, remote stdout moves to stderr.
    pub json: bool,
}

impl Ui {
    /// Look at the real terminal and environment.
    pub fn detect(json: bool) -> Self {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            can_prompt: std::io::stdin().is_terminal() && stderr_tty && !ci,
            fancy: stderr_tty && !ci,
            color: stderr_tty && !no_color,
            json,
        }
    }

    /// A spinner on stderr, or a hidden one when stderr is not a terminal.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if !self.fancy {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_owned());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }

    /// A progress bar for `total` migrations, or a spinner counting them when the total is unknown.
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
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }

    /// Print a note for people on stderr (never on stdout, which is for data).
    pub fn note(&self, msg: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{msg}");
    }

    /// Wrap `text` in bold when colour is allowed.
    pub fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\u{1b}[1m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Ask the user to type `expected`; true only when they typed it exactly.
pub fn confirm_typed(prompt: &str, expected: &str) -> std::io::Result<bool> {
    let typed: String = dialoguer::Input::new()
        .with_prompt(prompt)
        .allow_empty(true)
        .interact_text()
        .map_err(|dialoguer::Error::IO(e)| e)?;
    Ok(typed.trim() == expected)
}
