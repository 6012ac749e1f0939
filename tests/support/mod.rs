//! A small fluent helper to run the built binary with a scrubbed environment, and the
//! harness for the local cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A kmigrate invocation being set up.
pub struct Run {
    cmd: Command,
    stderr_has: Vec<String>,
    stdout_has: Vec<String>,
    stderr_lacks: Vec<String>,
}

/// Start describing a run of the built binary, with an empty environment and a private HOME.
pub fn kmigrate() -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kmigrate"));
    cmd.env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("HOME", scratch_dir("home"));
    cmd.current_dir(scratch_dir("cwd"));
    Run {
        cmd,
        stderr_has: Vec::new(),
        stdout_has: Vec::new(),
        stderr_lacks: Vec::new(),
    }
}

/// A fresh empty directory under the target folder.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = repo().join("target").join("e2e-scratch").join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

impl Run {
    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// Run in this directory.
    pub fn dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// stderr must contain this.
    pub fn expect_stderr(mut self, s: &str) -> Self {
        self.stderr_has.push(s.to_owned());
        self
    }

    /// stderr must not contain this.
    pub fn reject_stderr(mut self, s: &str) -> Self {
        self.stderr_lacks.push(s.to_owned());
        self
    }

    /// stdout must contain this.
    pub fn expect_stdout(mut self, s: &str) -> Self {
        self.stdout_has.push(s.to_owned());
        self
    }

    /// Run without checking anything.
    pub fn status_any(mut self) -> Output {
        self.cmd
            .stdin(Stdio::null())
            .output()
            .expect("run kmigrate")
    }

    /// Run, check the exit code and expectations, and return the output.
    pub fn status(mut self, code: i32) -> Output {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = self.cmd.output().expect("run kmigrate");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let show = || {
            format!(
                "{:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                self.cmd
            )
        };
        assert_eq!(
            out.status.code(),
            Some(code),
            "unexpected exit code: {}",
            show()
        );
        for s in &self.stderr_has {
            assert!(
                stderr.contains(s.as_str()),
                "stderr lacks {s:?}: {}",
                show()
            );
        }
        for s in &self.stderr_lacks {
            assert!(!stderr.contains(s.as_str()), "stderr has {s:?}: {}", show());
        }
        for s in &self.stdout_has {
            assert!(
                stdout.contains(s.as_str()),
                "stdout lacks {s:?}: {}",
                show()
            );
        }
        out
    }
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `-o json` document on stdout.
pub fn report(out: &Output) -> kmigrate::report::Report {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a report ({e}): {}", stdout(out)))
}

/// Wait until `f` is true, or panic after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Parse a file of `KEY=value` lines.
pub fn env_file(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches("export ");
            let (k, v) = l.split_once('=')?;
            Some((k.to_owned(), v.trim_matches(['"', '\'']).to_owned()))
        })
        .collect()
}
