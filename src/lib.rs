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
pub(crate) mod secret_env;
pub(crate) mod selector;
pub(crate) mod settings;
pub(crate) mod stderr;
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

    /// A module's file under `src/` as its path: `a/b.rs` and `a/b/mod.rs` are `a::b`.
    fn module_of(root: &Path, file: &Path) -> Vec<String> {
        let rel = file.strip_prefix(root).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts
            .last()
            .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
        {
            parts.pop();
        }
        parts
    }

    /// What the module's code (its tests left out) names of other modules, by
    /// `crate::`, `super::` and grouped `use` paths.
    fn imports(module: &[String], text: &str) -> Vec<Vec<String>> {
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or_default();
        let code: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let path = regex::Regex::new(r"\b(crate|super)((?:::\w+)+)(?:::\{([^;]*?)\})?").unwrap();
        let mut found = Vec::new();
        for m in path.captures_iter(&code) {
            let base: Vec<String> = m[2]
                .trim_start_matches("::")
                .split("::")
                .map(str::to_owned)
                .collect();
            let mut heads = vec![base.clone()];
            if let Some(group) = m.get(3) {
                for item in group.as_str().split(',') {
                    let item = item.split(" as ").next().unwrap_or_default().trim();
                    let item = item.split("::{").next().unwrap_or_default();
                    if !item.is_empty() && item != "self" {
                        let mut h = base.clone();
                        h.extend(item.split("::").map(str::to_owned));
                        heads.push(h);
                    }
                }
            }
            for h in heads {
                let mut full: Vec<String> = if &m[1] == "crate" {
                    Vec::new()
                } else {
                    // `super` of a folder's mod.rs and of a file is the same: the parent.
                    module[..module.len().saturating_sub(1)].to_vec()
                };
                full.extend(h);
                found.push(full);
            }
        }
        found
    }

    #[test]
    fn no_module_imports_a_module_that_imports_it_back() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = Vec::new();
        files(&root, &mut all);
        let modules: std::collections::BTreeMap<Vec<String>, std::path::PathBuf> = all
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| (module_of(&root, &p), p))
            .collect();
        assert!(modules.len() > 50);
        let resolve = |parts: &[String]| -> Option<Vec<String>> {
            (1..=parts.len())
                .rev()
                .map(|k| parts[..k].to_vec())
                .find(|m| modules.contains_key(m))
        };
        let mut edges: std::collections::BTreeMap<
            Vec<String>,
            std::collections::BTreeSet<Vec<String>>,
        > = std::collections::BTreeMap::new();
        for (module, file) in &modules {
            let is_folder = file.ends_with("mod.rs");
            let text = std::fs::read_to_string(file).unwrap();
            for target in imports(module, &text).iter().filter_map(|p| resolve(p)) {
                // A folder and its own files are one room: mod.rs declares and re-exports them.
                let inside = target.starts_with(module) && is_folder;
                let outside = module.starts_with(&target) && modules[&target].ends_with("mod.rs");
                if target != *module && !target.is_empty() && !inside && !outside {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
        }
        // A path back from each edge's end to its start is a circle.
        let mut circles = Vec::new();
        for (from, tos) in &edges {
            for to in tos {
                let mut seen = std::collections::BTreeSet::new();
                let mut stack = vec![to.clone()];
                while let Some(m) = stack.pop() {
                    if m == *from {
                        circles.push(format!("{} -> {}", from.join("::"), to.join("::")));
                        break;
                    }
                    if seen.insert(m.clone()) {
                        stack.extend(edges.get(&m).into_iter().flatten().cloned());
                    }
                }
            }
        }
        assert!(
            circles.is_empty(),
            "imports that come back around (a circle): {circles:?}"
        );
    }
}
