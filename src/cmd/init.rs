//! `kmigrate init`: a config scaffold and the RBAC the tool needs.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::config::{FILE_NAME, SCAFFOLD};
use crate::error::usage;

/// The least-privilege Role for kmigrate, and a binding to fill in.
pub const RBAC: &str = include_str!("../../rbac/kmigrate.yaml");

/// Write `kmigrate.toml` in `dir` (unless it exists and `force` is off) and print the RBAC.
pub fn init(dir: &Path, force: bool, out: &mut dyn Write) -> Result<()> {
    let path = dir.join(FILE_NAME);
    if path.exists() && !force {
        return Err(usage(format!(
            "{} already exists; pass --force to overwrite it, or `{} init --rbac` to print only the Role",
            path.display(),
            crate::program_name::get()
        )));
    }
    std::fs::write(&path, SCAFFOLD).with_context(|| format!("cannot write {}", path.display()))?;
    crate::stderr::process().write(
        format!(
            "wrote {}; edit selector, app and environments. The Role kmigrate needs:\n",
            path.display()
        )
        .as_bytes(),
    );
    role(out)
}

/// Print the Role (`init --rbac`): what doctor's RBAC fixes point to.
pub fn role(out: &mut dyn Write) -> Result<()> {
    out.write_all(RBAC.as_bytes())
        .context("cannot write to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        init(dir.path(), false, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("pods/exec"));
        let again = init(dir.path(), false, &mut Vec::new()).unwrap_err();
        assert!(
            again
                .to_string()
                .contains("`kmigrate init --rbac` to print only the Role"),
            "{again}"
        );
        init(dir.path(), true, &mut Vec::new()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        crate::config::Config::parse(&text).unwrap();
    }

    #[test]
    fn the_reference_shows_the_role_that_init_prints() {
        let reference = include_str!("../../docs/reference/rbac.md");
        assert!(
            reference.contains(&format!("```yaml\n{RBAC}```")),
            "docs/reference/rbac.md's block differs from rbac/kmigrate.yaml; paste the file there"
        );
    }
}
