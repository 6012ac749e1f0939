//! The name kmigrate was called by, decided once from argv[0]: `kubectl kmigrate` when
//! kubectl runs it as the plugin `kubectl-kmigrate`, else `kmigrate`. Help, usage lines,
//! completions and every message that tells the user what to type use it, as kubectl
//! plugins do. Identifiers (lease and Job names, labels, snippet tags, `kmigrate.toml`) do
//! not: they name the tool, not a command line.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::OnceLock;

/// The name of the crate's binary and of the tool.
pub const PLAIN: &str = "kmigrate";
/// What the user types to run the plugin.
pub const PLUGIN: &str = "kubectl kmigrate";
/// The file kubectl runs for `kubectl kmigrate`.
pub const PLUGIN_FILE: &str = "kubectl-kmigrate";
/// The file kubectl (1.26 and later) runs to complete `kubectl kmigrate ...`.
pub const COMPLETION_FILE: &str = "kubectl_complete-kmigrate";

/// How the process was started, by the file name of argv[0].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalledAs {
    /// `kmigrate`, or any name that is not one of kubectl's.
    Plain,
    /// `kubectl-kmigrate`: kubectl runs it for `kubectl kmigrate ...`.
    Plugin,
    /// `kubectl_complete-kmigrate`: kubectl asks it to complete `kubectl kmigrate ...`.
    PluginCompletion,
}

impl CalledAs {
    /// How a process started as `argv0` was called. Only the file name counts (kubectl
    /// passes the plugin's full path), less the platform's executable suffix.
    pub fn from_argv0(argv0: Option<&OsStr>) -> Self {
        let file = argv0.map(Path::new).and_then(Path::file_name);
        let name = file
            .and_then(OsStr::to_str)
            .map(|f| f.strip_suffix(std::env::consts::EXE_SUFFIX).unwrap_or(f));
        match name {
            Some(PLUGIN_FILE) => CalledAs::Plugin,
            Some(COMPLETION_FILE) => CalledAs::PluginCompletion,
            _ => CalledAs::Plain,
        }
    }

    /// The name to show for the program.
    pub fn display_name(self) -> &'static str {
        match self {
            CalledAs::Plain => PLAIN,
            CalledAs::Plugin | CalledAs::PluginCompletion => PLUGIN,
        }
    }
}

static CALLED_AS: OnceLock<CalledAs> = OnceLock::new();

/// Record how the process was called; the first call wins.
pub fn set(called_as: CalledAs) {
    let _ = CALLED_AS.set(called_as);
}

/// How the process was called (plain when [`set`] was never called, as in unit tests).
pub fn called_as() -> CalledAs {
    CALLED_AS.get().copied().unwrap_or(CalledAs::Plain)
}

/// The name to show for the program: `kubectl kmigrate` or `kmigrate`.
pub fn get() -> &'static str {
    called_as().display_name()
}

static TARGET: OnceLock<String> = OnceLock::new();

/// Record the flags of this command line that choose its target (`-e prod`, `-n shop`,
/// `--context c`, ...), already quoted for a shell; the first call wins.
pub fn set_target(flags: String) {
    let _ = TARGET.set(flags);
}

/// What a hint tells the user to type to reach the same target as this run: the program
/// name and the target's flags (`kmigrate -e prod`). A recovery hint without them would
/// check the default environment while the run it is about went on in another.
pub fn on_target() -> String {
    match TARGET.get().filter(|f| !f.is_empty()) {
        Some(flags) => format!("{} {flags}", get()),
        None => get().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn called(argv0: &str) -> CalledAs {
        CalledAs::from_argv0(Some(OsStr::new(argv0)))
    }

    #[test]
    fn the_plugin_file_is_kubectl_kmigrate() {
        assert_eq!(called("kubectl-kmigrate"), CalledAs::Plugin);
        // kubectl runs the plugin by its full path.
        assert_eq!(called("/usr/local/bin/kubectl-kmigrate"), CalledAs::Plugin);
        assert_eq!(called("./kubectl-kmigrate"), CalledAs::Plugin);
        assert_eq!(
            called("kubectl-kmigrate").display_name(),
            "kubectl kmigrate"
        );
    }

    #[test]
    fn the_completion_file_completes_for_the_plugin() {
        let c = called("/home/u/.cargo/bin/kubectl_complete-kmigrate");
        assert_eq!(c, CalledAs::PluginCompletion);
        assert_eq!(c.display_name(), "kubectl kmigrate");
    }

    #[test]
    fn any_other_name_is_plain() {
        for argv0 in [
            "kmigrate",
            "/usr/bin/kmigrate",
            "target/debug/kmigrate",
            "kubectl",
            "kubectl-kmigrate-old",
            "kubectl-kmigrate.sh",
            "/opt/kubectl-kmigrate/kmigrate",
            "",
        ] {
            assert_eq!(called(argv0), CalledAs::Plain, "{argv0}");
            assert_eq!(called(argv0).display_name(), "kmigrate");
        }
        assert_eq!(CalledAs::from_argv0(None), CalledAs::Plain);
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_is_plain() {
        use std::os::unix::ffi::OsStrExt;
        let argv0 = OsStr::from_bytes(b"/bin/kubectl-kmigrate\xff");
        assert_eq!(CalledAs::from_argv0(Some(argv0)), CalledAs::Plain);
    }

    #[test]
    fn unset_means_plain() {
        // Unit tests never go through `run`, so nothing set the name.
        assert_eq!(get(), "kmigrate");
    }
}
