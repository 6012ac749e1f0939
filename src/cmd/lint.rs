//! `kmigrate lint [PATH...]`: the rules of `plan` on migration files on disk, with no
//! cluster, for a pull request's CI. Findings on stdout (file:line, what, the safe way),
//! optionally as GitHub Actions workflow commands; the count on stderr.

use anyhow::Result;

use super::Ctx;
use crate::error::{Error, usage};
use crate::migration_plan::lint::{self, FailOn, LintFinding, LintedFile};
use crate::settings::Lint;

/// Run `lint`: read every file, report, and fail (exit 83) on a finding at `--fail-on`.
pub fn lint(ctx: &mut Ctx, req: &Lint) -> Result<()> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
    let paths = lint::files(&req.paths, &cwd).map_err(usage)?;
    let mut files = Vec::new();
    for path in paths {
        let bytes = std::fs::read(cwd.join(&path))
            .map_err(|e| usage(format!("{}: {e}", path.display())))?;
        let shown = path.to_string_lossy().into_owned();
        files.push(lint::lint_source(&shown, &String::from_utf8_lossy(&bytes)));
    }
    if !ctx.ui.json {
        ctx.ui.data(&text(&files, req.fail_on));
        if req.github {
            ctx.ui.data(&annotations(&files, req.fail_on));
        }
    }
    let failing = files
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| f.fails(req.fail_on))
        .count();
    let found = files.iter().map(|f| f.findings.len()).sum::<usize>();
    let summary = format!(
        "{failing} finding(s) at --fail-on {} or above and not marked reviewed ({found} finding(s) in {} file(s))",
        level_name(req.fail_on),
        files.len(),
    );
    ctx.report.files = files;
    if failing == 0 {
        ctx.ui.note(&format!(
            "{found} finding(s) in {} file(s), none at --fail-on {} or above and not marked reviewed",
            ctx.report.files.len(),
            level_name(req.fail_on)
        ));
        return Ok(());
    }
    Err(Error::LintFailed(summary).into())
}

fn level_name(level: FailOn) -> &'static str {
    match level {
        FailOn::Destructive => "destructive",
        FailOn::Warning => "warning",
        FailOn::Never => "never",
    }
}

/// How a finding is marked for people.
fn mark(f: &LintFinding, level: FailOn) -> &'static str {
    match (f.assured, f.destructive, f.fails(level)) {
        (true, _, _) => "reviewed",
        (false, true, _) => "DESTRUCTIVE",
        (false, false, true) => "error",
        (false, false, false) => "warning",
    }
}

/// The findings for people: `path:line: MARK kind: message`, the fix under it; a clean
/// file as `path: ok`.
fn text(files: &[LintedFile], level: FailOn) -> String {
    let mut out = String::new();
    for file in files {
        if file.findings.is_empty() {
            out.push_str(&format!("{}: ok\n", file.path));
        }
        for f in &file.findings {
            out.push_str(&format!(
                "{}:{}: {} {}: {}\n    fix: {}\n",
                file.path,
                f.line,
                mark(f, level),
                f.kind.name(),
                f.message,
                f.fix
            ));
        }
    }
    out
}

/// GitHub Actions workflow commands, one per unreviewed finding: `::error` for those that
/// fail the lint, `::warning` for the others. GitHub shows them on the line of the pull
/// request's diff.
fn annotations(files: &[LintedFile], level: FailOn) -> String {
    let mut out = String::new();
    for file in files {
        for f in file.findings.iter().filter(|f| !f.assured) {
            let command = if f.fails(level) { "error" } else { "warning" };
            out.push_str(&format!(
                "::{command} file={},line={},title={}::{}\n",
                property(&file.path),
                f.line,
                property(&format!("kmigrate {}", f.kind.name())),
                data(&format!("{}. Fix: {}", f.message, f.fix))
            ));
        }
    }
    out
}

/// A workflow command's message, escaped as GitHub's toolkit escapes it.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value, escaped as GitHub's toolkit escapes it.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<LintedFile> {
        vec![
            lint::lint_source(
                "priv/repo/migrations/1_drop.exs",
                "def change do\n  drop table(:legacy)\n  create index(:posts, [:title])\nend\n",
            ),
            lint::lint_source("priv/repo/migrations/2_ok.exs", "def change do\nend\n"),
        ]
    }

    #[test]
    fn each_finding_has_its_place_and_fix_and_clean_files_say_ok() {
        let out = text(&files(), FailOn::Destructive);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "priv/repo/migrations/1_drop.exs:2: DESTRUCTIVE table_dropped: drops a table: drop table(:legacy)"
        );
        assert!(
            lines[1].starts_with("    fix: deploy code that no longer"),
            "{out}"
        );
        assert!(
            lines[2]
                .starts_with("priv/repo/migrations/1_drop.exs:3: warning index_not_concurrently")
        );
        assert_eq!(lines[4], "priv/repo/migrations/2_ok.exs: ok");
        let strict = text(&files(), FailOn::Warning);
        assert!(
            strict.contains(":3: error index_not_concurrently"),
            "{strict}"
        );
    }

    #[test]
    fn annotations_are_workflow_commands_escaped_as_github_reads_them() {
        let out = annotations(&files(), FailOn::Destructive);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with(
                "::error file=priv/repo/migrations/1_drop.exs,line=2,title=kmigrate table_dropped::drops a table: drop table(:legacy). Fix: "
            ),
            "{out}"
        );
        assert!(lines[1].starts_with("::warning file="), "{out}");
        assert_eq!(property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(data("50%\r\n"), "50%25%0D%0A");
    }
}
