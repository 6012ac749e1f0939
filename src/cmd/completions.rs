//! `kmigrate completions SHELL`.

use std::io::Write;

use crate::program_name::{self, CalledAs};

/// Write completions for `shell` to `out`, for the command the user types: `kmigrate`, or
/// `kubectl-kmigrate` when run as the plugin. A script cannot complete `kubectl kmigrate`
/// without taking over kubectl's own completion; kubectl completes its plugins through
/// `kubectl_complete-kmigrate`, which a note on stderr then points to.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> anyhow::Result<()> {
    let bin = match program_name::called_as() {
        CalledAs::Plain => program_name::PLAIN,
        CalledAs::Plugin | CalledAs::PluginCompletion => {
            crate::stderr::process().write(
                format!(
                    "note: this completes `{}` typed as such; for `{}`, put `{}` on PATH and kubectl's own completion asks it (see docs/guide/kubectl-plugin.md)\n",
                    program_name::PLUGIN_FILE,
                    program_name::PLUGIN,
                    program_name::COMPLETION_FILE
                )
                .as_bytes(),
            );
            program_name::PLUGIN_FILE
        }
    };
    // clap_complete panics when a write fails, and a reader that stopped early (`| head`)
    // is not an error: the script is written here.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), bin, &mut script);
    match out.write_all(&script).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write the completions: {e}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    /// A writer that fails every write with `kind`.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(self.0, "no space left on device"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_an_error_and_a_closed_reader_is_not() {
        let shell = clap_complete::Shell::Bash;
        let e = super::completions(shell, &mut Failing(io::ErrorKind::StorageFull))
            .expect_err("a full disk fails the command");
        assert!(e.to_string().contains("no space left on device"), "{e}");
        super::completions(shell, &mut Failing(io::ErrorKind::BrokenPipe))
            .expect("`| head` is not an error");
        let mut script = Vec::new();
        super::completions(shell, &mut script).unwrap();
        assert!(String::from_utf8(script).unwrap().contains("complete -F"));
    }
}
