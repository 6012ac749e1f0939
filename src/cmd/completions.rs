//! `kmigrate completions SHELL`.

use clap::CommandFactory;

use crate::cli::Cli;

/// Write completions for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut Cli::command(), "kmigrate", out);
}
