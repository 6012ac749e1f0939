//! `kmigrate lint`'s part of the rules: migration files found on disk, each read by the
//! same [`rules::analyze`] that `plan` and a protected `migrate` use, with no cluster.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::rules::{self, Kind};

/// What fails a lint: an unassured finding at or above this level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// A destructive finding.
    Destructive,
    /// Any finding, warnings too.
    Warning,
    /// Nothing: lint only reports.
    Never,
}

/// One migration file and what the rules found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintedFile {
    /// The file, as given or found (relative to the current directory by default).
    pub path: String,
    /// What the rules found, by line; empty when the file is clean.
    pub findings: Vec<LintFinding>,
}

/// One finding, with what it means and the safe way to do the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// What it is, as in safety-assured comments.
    pub kind: Kind,
    /// Whether the kind is destructive.
    pub destructive: bool,
    /// The line of the file (1-based).
    pub line: u32,
    /// Marked as reviewed in the migration.
    pub assured: bool,
    /// What it does, with the code or SQL it was found in.
    pub message: String,
    /// The safe way to do the same.
    pub fix: String,
}

impl LintFinding {
    /// Whether this finding fails a lint at `level`.
    pub fn fails(&self, level: FailOn) -> bool {
        !self.assured
            && match level {
                FailOn::Destructive => self.destructive,
                FailOn::Warning => true,
                FailOn::Never => false,
            }
    }
}

/// The migration files to lint: each file named, each `.exs` file in a folder named (in
/// name order, which is version order), or with no path the app's migrations under `cwd`
/// (see [`default_dirs`]).
pub fn files(paths: &[PathBuf], cwd: &Path) -> Result<Vec<PathBuf>, String> {
    if paths.is_empty() {
        let found = default_dirs(cwd)
            .iter()
            .map(|d| migrations_in(cwd, d))
            .collect::<Result<Vec<_>, _>>()?
            .concat();
        if found.is_empty() {
            return Err(format!(
                "no migrations in {}: none in priv/*/migrations, priv/*/tenant_migrations or an umbrella's \
                 apps/*/priv/*/migrations and apps/*/priv/*/tenant_migrations; name the files or folders to lint",
                cwd.display()
            ));
        }
        return Ok(found);
    }
    let mut out = Vec::new();
    for p in paths {
        let full = cwd.join(p);
        if full.is_dir() {
            out.extend(migrations_in(cwd, p)?);
        } else if full.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    Ok(out)
}

/// The folders of migrations under `cwd`, as relative paths: the app's own
/// `priv/*/migrations` and `priv/*/tenant_migrations` (Triplex's and other prefix
/// libraries' folder), then each umbrella child's `apps/*/priv/*/...`, each in name order.
fn default_dirs(cwd: &Path) -> Vec<PathBuf> {
    let mut apps = subfolders(cwd, Path::new("apps"));
    apps.insert(0, PathBuf::new());
    apps.iter()
        .flat_map(|app| subfolders(cwd, &app.join("priv")))
        .flat_map(|repo| ["migrations", "tenant_migrations"].map(|d| repo.join(d)))
        .filter(|d| cwd.join(d).is_dir())
        .collect()
}

/// The folders in `dir` (relative to `cwd`), in name order, as relative paths; none when
/// it is not a folder.
fn subfolders(cwd: &Path, dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(cwd.join(dir)) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .filter(|d| cwd.join(d).is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The `.exs` files of the folder `dir` (relative to `cwd`, or absolute), in name order.
fn migrations_in(cwd: &Path, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(cwd.join(dir)).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file() && e.path().extension().is_some_and(|x| x == "exs"))
        .map(|e| dir.join(e.file_name()))
        .collect();
    files.sort();
    Ok(files)
}

/// Lint one migration's source: the findings of [`rules::analyze`], the flags read from
/// its attributes.
pub fn lint_source(path: &str, source: &str) -> LintedFile {
    let findings = rules::analyze(source)
        .findings
        .into_iter()
        .map(|f| LintFinding {
            kind: f.kind,
            destructive: f.destructive,
            line: f.line,
            assured: f.assured,
            message: format!("{}: {}", f.kind.describe(), f.text),
            fix: f.kind.fix().to_owned(),
        })
        .collect();
    LintedFile {
        path: path.to_owned(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_fail_at_or_above_the_level_unless_reviewed() {
        let file = lint_source(
            "m.exs",
            "def change do\n  drop table(:a)\n  create index(:b, [:c])\n  # excellent_migrations:safety-assured-for-next-line table_dropped\n  drop table(:d)\nend\n",
        );
        let failing = |level| file.findings.iter().filter(|f| f.fails(level)).count();
        assert_eq!(
            (
                failing(FailOn::Destructive),
                failing(FailOn::Warning),
                failing(FailOn::Never)
            ),
            (1, 2, 0)
        );
        let first = &file.findings[0];
        assert_eq!(first.message, "drops a table: drop table(:a)");
        assert_eq!(first.fix, Kind::TableDropped.fix());
    }

    #[test]
    fn folders_give_their_migrations_in_version_order() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = dir.path().join("priv/repo/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        for name in ["2_b.exs", "1_a.exs", "notes.txt"] {
            std::fs::write(migrations.join(name), "").unwrap();
        }
        let names = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(files(&[], dir.path()).unwrap()),
            [
                "priv/repo/migrations/1_a.exs",
                "priv/repo/migrations/2_b.exs"
            ]
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(
            files(&[], empty.path())
                .unwrap_err()
                .contains("no migrations")
        );
        for (folder, name) in [
            ("priv/repo/tenant_migrations", "3_c.exs"),
            ("apps/billing/priv/repo/migrations", "1_d.exs"),
            ("apps/billing/priv/repo/tenant_migrations", "1_e.exs"),
            ("apps/billing/priv/repo/seeds", "1_f.exs"),
        ] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join(name), "").unwrap();
        }
        std::fs::write(dir.path().join("apps/README.md"), "").unwrap();
        assert_eq!(
            names(files(&[], dir.path()).unwrap()),
            [
                "priv/repo/migrations/1_a.exs",
                "priv/repo/migrations/2_b.exs",
                "priv/repo/tenant_migrations/3_c.exs",
                "apps/billing/priv/repo/migrations/1_d.exs",
                "apps/billing/priv/repo/tenant_migrations/1_e.exs"
            ],
            "tenant and umbrella migrations, not seeds"
        );
        let missing = files(&[PathBuf::from("nope.exs")], dir.path()).unwrap_err();
        assert_eq!(missing, "nope.exs: no such file or folder");
    }
}
