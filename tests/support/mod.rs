//! A small fluent helper to run the built binary with a scrubbed environment: to
//! completion, in the background with its output read line by line, or on a terminal.
//! Every test builds its kmigrate command here.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
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
    input: Option<Vec<u8>>,
}

/// Start describing a run of the built binary, with an empty environment and a private HOME.
pub fn kmigrate() -> Run {
    run_of(Path::new(env!("CARGO_BIN_EXE_kmigrate")))
}

/// A fresh directory holding the built binary under each of `names` (symbolic links, as a
/// package would install `kubectl-kmigrate`), for PATH or to run by path.
#[cfg(unix)]
pub fn installed_as(names: &[&str]) -> PathBuf {
    let dir = scratch_dir("bin");
    for name in names {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kmigrate"), dir.join(name))
            .expect("link the binary");
    }
    dir
}

/// Start describing a run of the built binary installed as `name` (argv[0] is that path),
/// with the same scrubbed environment as [`kmigrate`].
#[cfg(unix)]
pub fn kmigrate_as(name: &str) -> Run {
    run_of(&installed_as(&[name]).join(name))
}

fn run_of(program: &Path) -> Run {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("HOME", scratch_dir("home"));
    cmd.current_dir(scratch_dir("cwd"));
    Run {
        cmd,
        stderr_has: Vec::new(),
        stdout_has: Vec::new(),
        stderr_lacks: Vec::new(),
        input: None,
    }
}

/// Start describing a `bash -c LINE` run with the same scrubbed environment as
/// [`kmigrate`]: a line of shell as a person would type it.
pub fn shell(line: &str) -> Run {
    run_of(Path::new("bash")).args(["-c", line])
}

/// Run `terminal` (a [`Run::terminal_command`]) as a conversation: for each step, wait
/// until the screen shows its text (after what the steps before waited for), then type its
/// keys. Returns the exit code and the screen; kills the run and panics after 60 s.
pub fn converse(mut terminal: Command, steps: &[(&str, &str)]) -> (i32, String) {
    let mut child = terminal
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let steps: Vec<(String, String)> = steps
        .iter()
        .map(|(s, k)| ((*s).to_owned(), (*k).to_owned()))
        .collect();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let (mut step, mut from) = (0, 0);
        loop {
            let n = Read::read(&mut out, &mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            while let Some((wait, keys)) = steps.get(step) {
                let screen = String::from_utf8_lossy(&seen[from..]).into_owned();
                let Some(at) = screen.find(wait.as_str()) else {
                    break;
                };
                from += at + wait.len();
                std::thread::sleep(Duration::from_millis(200));
                let _ = std::io::Write::write_all(&mut stdin, keys.as_bytes());
                let _ = std::io::Write::flush(&mut stdin);
                step += 1;
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            let screen = reader.join().unwrap_or_default();
            panic!("the conversation did not end within 60 s; the screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let screen = reader.join().unwrap();
    (status.code().unwrap_or(-1), screen)
}

/// Run `terminal` (a [`Run::terminal_command`]) and type `typed` once a prompt ending in
/// "to continue" is on the screen, as a person would, after running `meanwhile` (a person
/// reading the plan for a while). Returns the exit code and everything the screen showed;
/// a run that never prompts gets nothing typed.
pub fn type_at_prompt(
    mut terminal: Command,
    typed: &str,
    meanwhile: impl FnOnce() + Send + 'static,
) -> (i32, String) {
    let mut child = terminal
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let typed = typed.to_owned();
    let mut meanwhile = Some(meanwhile);
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut sent = false;
        loop {
            let n = std::io::Read::read(&mut out, &mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if !sent && String::from_utf8_lossy(&seen).contains("to continue") {
                std::thread::sleep(Duration::from_millis(200));
                if let Some(f) = meanwhile.take() {
                    // A failing check must not leave kmigrate waiting at its prompt forever.
                    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                        std::panic::resume_unwind(panic);
                    }
                }
                let _ = std::io::Write::write_all(&mut stdin, typed.as_bytes());
                let _ = std::io::Write::flush(&mut stdin);
                sent = true;
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let status = child.wait().unwrap();
    let screen = reader.join().unwrap();
    (status.code().unwrap_or(-1), screen)
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

    /// What [`Run::status`] writes to stdin (then closes it); without it, stdin is empty.
    pub fn stdin(mut self, input: &str) -> Self {
        self.input = Some(input.as_bytes().to_vec());
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

    /// Start it and return at once: stdin is empty, stdout and stderr are read line by
    /// line while it runs.
    pub fn spawn(self) -> Spawned {
        self.start(true)
    }

    /// Start it as [`Run::spawn`] does, but with nobody reading its stderr (a terminal
    /// that went away): every write there fails.
    pub fn spawn_without_stderr(self) -> Spawned {
        self.start(false)
    }

    fn start(mut self, read_stderr: bool) -> Spawned {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("start kmigrate");
        let (tx, lines) = channel();
        forward(child.stdout.take(), Stream::Stdout, tx.clone());
        let stderr = child.stderr.take();
        if read_stderr {
            forward(stderr, Stream::Stderr, tx);
        }
        Spawned {
            child,
            lines,
            seen: Vec::new(),
            stdout: Vec::new(),
        }
    }

    /// The same run on a pseudo-terminal: under util-linux `script`, with the same
    /// environment and directory plus `TERM=dumb`. Pipes are the caller's to set.
    pub fn terminal_command(self) -> Command {
        let quote = |s: &OsStr| {
            let s = s.to_str().expect("kmigrate arguments are UTF-8");
            format!("'{}'", s.replace('\'', r"'\''"))
        };
        let line: Vec<String> = std::iter::once(self.cmd.get_program())
            .chain(self.cmd.get_args())
            .map(quote)
            .collect();
        let mut script = Command::new("script");
        script
            .args(["-q", "-e", "-c", &line.join(" "), "/dev/null"])
            .env_clear()
            .envs(self.cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("TERM", "dumb");
        if let Some(dir) = self.cmd.get_current_dir() {
            script.current_dir(dir);
        }
        script
    }

    /// Run, check the exit code and expectations, and return the output.
    pub fn status(mut self, code: i32) -> Output {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("run kmigrate");
        if let (Some(input), Some(mut stdin)) = (self.input.take(), child.stdin.take()) {
            use std::io::Write;
            stdin.write_all(&input).expect("write stdin");
        }
        let out = child.wait_with_output().expect("run kmigrate");
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

/// Which pipe of a spawned kmigrate a line came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Send each line of `pipe` to `tx` from a thread of its own.
fn forward(pipe: Option<impl Read + Send + 'static>, stream: Stream, tx: Sender<(Stream, String)>) {
    let pipe = pipe.expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send((stream, line));
        }
    });
}

/// A kmigrate started by [`Run::spawn`], still running or not.
pub struct Spawned {
    child: Child,
    lines: Receiver<(Stream, String)>,
    /// The lines read so far, stdout and stderr in the order they arrived.
    pub seen: Vec<String>,
    /// The stdout lines among them.
    pub stdout: Vec<String>,
}

impl Spawned {
    /// Send a signal by name (`INT`, `TERM`), as `kill -INT` does.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} failed");
    }

    /// The next line, and where it came from; panics when none comes before `deadline`.
    fn next_line(&mut self, deadline: Instant, what: &str) -> (Stream, String) {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok((stream, line)) => {
                self.record(stream, &line);
                (stream, line)
            }
            Err(_) => panic!("never saw {what} in the output; saw: {:#?}", self.seen),
        }
    }

    /// Read lines until one contains `needle`, and return it; panics after 60 s.
    pub fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, line) = self.next_line(deadline, &format!("{needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// The next line on stdout (stderr lines before it are only recorded); panics after 60 s.
    pub fn stdout_line(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let (Stream::Stdout, line) = self.next_line(deadline, "a line on stdout") {
                return line;
            }
        }
    }

    fn record(&mut self, stream: Stream, line: &str) {
        self.seen.push(line.to_owned());
        if let Stream::Stdout = stream {
            self.stdout.push(line.to_owned());
        }
    }

    fn record_pending(&mut self) {
        let pending: Vec<(Stream, String)> = self.lines.try_iter().collect();
        for (stream, line) in pending {
            self.record(stream, &line);
        }
    }

    /// The `-o json` document, from stdout, once the run has ended.
    pub fn stdout_json(&self) -> serde_json::Value {
        let text = self.stdout.join("\n");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text}"))
    }

    /// Wait for the exit code and read the rest of the output; returns the code and how
    /// long the wait took. Kills it and panics after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> (i32, Duration) {
        let start = Instant::now();
        loop {
            self.record_pending();
            if let Some(status) = self.child.try_wait().expect("wait for kmigrate") {
                std::thread::sleep(Duration::from_millis(100));
                self.record_pending();
                return (status.code().unwrap_or(-1), start.elapsed());
            }
            if start.elapsed() > within {
                let _ = self.child.kill();
                panic!(
                    "kmigrate did not exit within {within:?}; output: {:#?}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    /// A test that fails half-way must not leave kmigrate running, holding a lock.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
