//! `kmigrate completions SHELL`.

use std::io::Write;

use crate::program_name::{self, CalledAs};

/// Write completions for `shell` to `out`, for the command the user types: `kmigrate`, or
/// `kubectl-kmigrate` when run as the plugin. A script cannot complete `kubectl kmigrate`
/// without taking over kubectl's own completion; kubectl completes its plugins through
/// `kubectl_complete-kmigrate`, which a note on stderr then points to.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let bin = match program_name::called_as() {
        CalledAs::Plain => program_name::PLAIN,
        CalledAs::Plugin | CalledAs::PluginCompletion => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "note: this completes `{}` typed as such; for `{}`, put `{}` on PATH and kubectl's own completion asks it (see the README)",
                program_name::PLUGIN_FILE,
                program_name::PLUGIN,
                program_name::COMPLETION_FILE
            );
            program_name::PLUGIN_FILE
        }
    };
    // clap_complete panics when a write fails, and a reader that stopped early (`| head`)
    // is not an error: the script is written here.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), bin, &mut script);
    if let Err(e) = out.write_all(&script).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: cannot write the completions: {e}"
        );
    }
}
