//! kmigrate: run Ecto migrations inside a running Kubernetes pod, found by label.

pub(crate) mod access;
mod app;
pub(crate) mod audit;
pub(crate) mod cli;
pub(crate) mod cmd;
pub(crate) mod config;
pub(crate) mod confirm;
pub(crate) mod connection;
pub mod doctor;
pub mod ecto_output;
pub(crate) mod ecto_snippet;
pub mod error;
pub(crate) mod group;
pub(crate) mod headroom;
pub(crate) mod init_container;
pub(crate) mod job;
pub(crate) mod lifecycle;
pub(crate) mod lock;
pub(crate) mod logging;
pub mod migration_plan;
pub(crate) mod output;
pub(crate) mod plugin_completion;
pub(crate) mod pod_select;
pub(crate) mod program_name;
pub(crate) mod protection_mark;
pub mod protocol;
pub(crate) mod remote_exec;
pub mod report;
pub(crate) mod selector;
pub(crate) mod settings;
pub(crate) mod target;
pub(crate) mod text;
pub(crate) mod ui;

pub use app::run;
pub use cli::command;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The longest line of source: longer ones cannot be read side by side or diffed well.
    const MAX_LINE: usize = 200;

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_source_line_is_longer_than_200_characters() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut all = Vec::new();
        files(&root.join("src"), &mut all);
        assert!(all.len() > 50);
        let mut long = Vec::new();
        for path in all {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<usize> = (text.lines().enumerate())
                .filter(|(_, l)| l.chars().count() > MAX_LINE)
                .map(|(i, _)| i + 1)
                .collect();
            long.extend(lines.iter().map(|n| format!("{name}:{n}")));
        }
        assert!(
            long.is_empty(),
            "lines over {MAX_LINE} characters: {long:?}"
        );
    }
}
