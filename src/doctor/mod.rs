//! `doctor`'s checks: each one's verdict, detail and fix, in order; a check that needs an
//! earlier one that failed (or was itself skipped) is skipped, naming it. The checks
//! themselves run in `cmd::doctor`; what they need to be allowed is in [`needs`].

pub(crate) mod needs;
pub(crate) mod session;

use serde::{Deserialize, Serialize};

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Will stop kmigrate: fix it.
    Fail,
    /// kmigrate works, with less (no audit Event, an unchecked mark, ...).
    Warn,
    /// Not run: a check it needs failed.
    Skip,
}

/// One check as reported: its name, verdict, what it found, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The check's name, e.g. `kubeconfig`, `rbac:exec`, `database`.
    pub name: String,
    /// pass, fail, warn or skip.
    pub status: Status,
    /// What was found (for a skip, which earlier check stopped it).
    pub detail: String,
    /// What to do, when something is to be done.
    pub fix: Option<String>,
}

/// The checks so far, in the order run.
#[derive(Debug, Default)]
pub struct Checks {
    list: Vec<Check>,
}

impl Checks {
    /// Whether `name` may run: when a check it `needs` failed or was skipped, `name` is
    /// recorded as skipped with the first such reason, and this returns false. A needed
    /// check that is not in the list (not configured) does not hold it back.
    pub fn ready(&mut self, name: &str, needs: &[&str]) -> bool {
        let blocker = needs.iter().find_map(|need| {
            let c = self.list.iter().find(|c| c.name == *need)?;
            match c.status {
                Status::Fail => Some(format!("needs {need}, which failed")),
                // The root cause, not the chain: "needs rbac:exec, which failed".
                Status::Skip => Some(c.detail.clone()),
                Status::Pass | Status::Warn => None,
            }
        });
        match blocker {
            Some(why) => {
                self.add(name, Status::Skip, why, None);
                false
            }
            None => true,
        }
    }

    /// Record a check's verdict.
    pub fn add(&mut self, name: &str, status: Status, detail: String, fix: Option<String>) {
        self.list.push(Check {
            name: name.to_owned(),
            status,
            detail,
            fix,
        });
    }

    /// A passed check.
    pub fn pass(&mut self, name: &str, detail: String) {
        self.add(name, Status::Pass, detail, None);
    }

    /// A failed check and its fix.
    pub fn fail(&mut self, name: &str, detail: String, fix: impl Into<String>) {
        self.add(name, Status::Fail, detail, Some(fix.into()));
    }

    /// A check that found something less than right, and its fix.
    pub fn warn(&mut self, name: &str, detail: String, fix: impl Into<String>) {
        self.add(name, Status::Warn, detail, Some(fix.into()));
    }

    /// The names of the failed checks.
    pub fn failed(&self) -> Vec<&str> {
        self.list
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The checks, in order.
    pub fn into_list(self) -> Vec<Check> {
        self.list
    }
}

/// The checks as text, one mark and line each, the fix indented below.
pub fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let mark = match c.status {
            Status::Pass => "[ ok ]",
            Status::Fail => "[FAIL]",
            Status::Warn => "[warn]",
            Status::Skip => "[skip]",
        };
        out.push_str(&format!("{mark} {:<width$}  {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("       {:<width$}  fix: {fix}\n", ""));
        }
    }
    out
}

/// The oldest ecto_sql whose `Ecto.Migrator.migrations/3` takes `migration_lock: false,
/// skip_table_creation: true`, which every status read of kmigrate's passes.
pub const MIN_ECTO_SQL: (u64, u64, u64) = (3, 6, 1);

/// Whether `version` (`3.10.2`, `3.6.1-rc.0`) is at least `min`; `None` when it is not a
/// version. A pre-release is older than its release.
pub fn at_least(version: &str, min: (u64, u64, u64)) -> Option<bool> {
    let version = version.trim();
    let (core, pre) = match version.find(['-', '+']) {
        Some(i) => (&version[..i], version[i..].starts_with('-')),
        None => (version, false),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    let v = (major, minor, patch);
    Some(v > min || (v == min && !pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_after_a_failed_one_it_needs_is_skipped_naming_it() {
        let mut c = Checks::default();
        assert!(c.ready("kubeconfig", &[]));
        c.pass("kubeconfig", "ok".into());
        assert!(c.ready("api", &["kubeconfig"]));
        c.pass("api", "v1.37".into());
        c.fail(
            "rbac:exec",
            "missing: create pods/exec".into(),
            "apply the Role",
        );
        c.warn(
            "rbac:audit",
            "missing: create events".into(),
            "apply the Role",
        );
        assert!(
            c.ready("pod", &["api", "rbac:audit"]),
            "a warning holds nothing back"
        );
        c.pass("pod", "demo-0".into());
        assert!(!c.ready("release", &["pod", "rbac:exec"]));
        // Skipped because of a skip: the reason is the root cause, not the chain.
        assert!(!c.ready("app", &["release"]));
        assert!(!c.ready("database", &["app"]));
        // Not configured (no such check) holds nothing back.
        assert!(c.ready("protection", &["api", "rbac:job"]));
        let list = c.into_list();
        let names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kubeconfig",
                "api",
                "rbac:exec",
                "rbac:audit",
                "pod",
                "release",
                "app",
                "database"
            ]
        );
        for skipped in &list[5..] {
            assert_eq!(skipped.status, Status::Skip);
            assert_eq!(skipped.detail, "needs rbac:exec, which failed");
            assert_eq!(skipped.fix, None);
        }
    }

    #[test]
    fn only_failures_fail() {
        let mut c = Checks::default();
        c.pass("a", String::new());
        c.warn("b", String::new(), "x");
        assert!(c.failed().is_empty());
        c.fail("c", String::new(), "y");
        assert!(!c.ready("d", &["c"]));
        assert_eq!(c.failed(), ["c"], "a skip is not a failure of its own");
    }

    #[test]
    fn render_marks_each_check_and_indents_the_fix() {
        let mut c = Checks::default();
        c.pass("api", "Kubernetes v1.37.2".into());
        c.fail(
            "rbac:exec",
            "missing create pods/exec".into(),
            "apply the Role",
        );
        let text = render(&c.into_list());
        assert_eq!(
            text,
            "[ ok ] api        Kubernetes v1.37.2\n\
             [FAIL] rbac:exec  missing create pods/exec\n\
             \x20                 fix: apply the Role\n"
        );
    }

    #[test]
    fn versions_compare_as_numbers() {
        let min = MIN_ECTO_SQL;
        assert_eq!(at_least("3.6.1", min), Some(true));
        assert_eq!(at_least("3.6.2", min), Some(true));
        assert_eq!(
            at_least("3.10.0", min),
            Some(true),
            "10 > 6, not \"1\" < \"6\""
        );
        assert_eq!(at_least("4.0", min), Some(true));
        assert_eq!(at_least("3.6.0", min), Some(false));
        assert_eq!(at_least("3.5.4", min), Some(false));
        assert_eq!(at_least("2.9.9", min), Some(false));
        assert_eq!(at_least("3.6.1-rc.0", min), Some(false));
        assert_eq!(at_least("3.6.2-rc.0", min), Some(true));
        assert_eq!(at_least("3.6.1+build-5", min), Some(true));
        assert_eq!(at_least(" 3.12.1\n", min), Some(true));
        for bad in ["", "x", "3.x.1", "3.6.1.4", "v3.6.1"] {
            assert_eq!(at_least(bad, min), None, "{bad:?}");
        }
    }
}
