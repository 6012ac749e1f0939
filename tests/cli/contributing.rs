//! CONTRIBUTING.md's layout map against the tree: it names every file and folder under
//! `src/`, one level into each folder too, and nothing that is not there.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::repo;

/// The entries of `dir` as the map writes them: `prefix` + name, folders ending in `/`.
/// Hidden files (an editor's) are not part of the tree.
fn entries(dir: &Path, prefix: &str) -> Vec<(String, bool)> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry"))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().expect("a file type").is_dir();
            let slash = if is_dir { "/" } else { "" };
            (format!("{prefix}{name}{slash}"), is_dir)
        })
        .collect()
}

/// Every file and folder in `src/` and in each of its folders; deeper entries belong to
/// their folder's line.
fn in_the_tree() -> BTreeSet<String> {
    let src = repo().join("src");
    let mut paths = BTreeSet::new();
    for (path, is_dir) in entries(&src, "src/") {
        if is_dir {
            paths.extend(
                entries(&repo().join(&path), &path)
                    .into_iter()
                    .map(|(p, _)| p),
            );
        }
        paths.insert(path);
    }
    paths
}

/// The `src/` paths the map names: the first word of each line of its Layout section.
fn in_the_map() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("CONTRIBUTING.md")).expect("CONTRIBUTING.md");
    let section = text
        .split("\n## Layout\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("CONTRIBUTING.md has a Layout section");
    section
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("src/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_layout_map_names_every_file_under_src_and_nothing_else() {
    let (tree, map) = (in_the_tree(), in_the_map());
    let unnamed: Vec<&String> = tree.difference(&map).collect();
    let gone: Vec<&String> = map
        .iter()
        .filter(|p| {
            let path = repo().join(p);
            if p.ends_with('/') {
                !path.is_dir()
            } else {
                !path.is_file()
            }
        })
        .collect();
    assert!(
        unnamed.is_empty() && gone.is_empty(),
        "CONTRIBUTING.md's layout map is stale: name {unnamed:?}; drop or rename {gone:?}"
    );
}
