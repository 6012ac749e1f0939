//! exec: exit codes passed through, output streamed as it comes and byte for byte.

use std::time::{Duration, Instant};

use crate::harness::{LiveNode, Ns};
use crate::support::report;

#[test]
fn exec_passes_remote_exit_codes_through() {
    let ns = Ns::with_demo_pod("exec", &[]);
    for code in [0, 3, 42] {
        let r = report(
            &ns.kmigrate()
                .args([
                    "exec",
                    "-l",
                    "app=demo",
                    "-o",
                    "json",
                    "--",
                    "sh",
                    "-c",
                    &format!("echo out; echo err >&2; exit {code}"),
                ])
                .expect_stderr("out\n")
                .expect_stderr("err\n")
                .status(code),
        );
        assert_eq!(r.remote_exit_code, Some(code));
        assert_eq!(r.argv.as_ref().map(|a| a[0].as_str()), Some("sh"));
    }
    ns.kmigrate()
        .args([
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "printf 'a b\\n'",
        ])
        .expect_stdout("a b\n")
        .status(0);
}

#[test]
fn output_streams_while_the_remote_command_runs() {
    let ns = Ns::with_demo_pod("stream", &[]);
    let mut run = ns
        .kmigrate()
        .args([
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "echo first; sleep 2; echo second",
        ])
        .spawn();
    let start = Instant::now();
    assert_eq!(run.stdout_line(), "first");
    let first = start.elapsed();
    assert_eq!(run.stdout_line(), "second");
    let second = start.elapsed();
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{:#?}", run.seen);
    assert!(
        second - first >= Duration::from_millis(1500),
        "first at {first:?}, second at {second:?}: not streamed"
    );
}
#[test]
fn unfriendly_output_is_streamed_byte_for_byte() {
    let ns = Ns::with_demo_pod("bytes", &[]);
    // Invalid UTF-8, CR/LF mixes, ANSI escapes, then a 1 MiB line with no newline.
    let script = r#"printf '\377\376bad\r\nmixed\rline\n\033[31mred\033[0m\n'; head -c 1048576 /dev/zero | tr '\0' x; printf 'end'"#;
    let mut expected = b"\xff\xfebad\r\nmixed\rline\n\x1b[31mred\x1b[0m\n".to_vec();
    expected.extend(std::iter::repeat_n(b'x', 1 << 20));
    expected.extend_from_slice(b"end");
    let out = ns
        .kmigrate()
        .args(["exec", "-l", "app=demo", "--", "sh", "-c", script])
        .status(0);
    assert_eq!(out.stdout.len(), expected.len());
    assert!(out.stdout == expected, "the bytes differ");
}

/// A release path that does not exist (the intro example's default `/app/bin/demo`): one
/// short kmigrate line naming the cause and `--release`, not the runtime's message with
/// the whole snippet, and not an unknown outcome.
#[test]
fn a_release_that_does_not_exist_is_one_line_naming_the_fix() {
    let ns = Ns::with_demo_pod("norelease", &[]);
    let out = ns
        .kmigrate()
        .args([
            "status",
            "-l",
            "app=demo",
            "--release",
            "/nonexistent/bin/demo",
        ])
        .expect_stderr("Check --release")
        .reject_stderr("without an exit code")
        .reject_stderr("Application.load")
        .status(126);
    let err = String::from_utf8_lossy(&out.stderr);
    let longest = err.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 600, "a line of {longest} characters: {err}");
}

/// `exec -i` passes stdin to the command, and its end of file ends the command, as
/// `kubectl exec -i` does; without `-i` the command reads nothing.
#[test]
fn exec_i_passes_stdin_and_its_end() {
    let ns = Ns::with_demo_pod("stdin", &[]);
    let start = Instant::now();
    ns.kmigrate()
        .args(["exec", "-i", "-l", "app=demo", "--", "sh"])
        .stdin("echo from-stdin\nexit 4\n")
        .expect_stdout("from-stdin\n")
        .status(4);
    ns.kmigrate()
        .args(["exec", "-i", "-l", "app=demo", "--", "wc", "-l"])
        .stdin("a\nb\nc\n")
        .expect_stdout("3")
        .status(0);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

/// A database the app cannot reach: one kmigrate line naming the cause and `doctor`,
/// instead of only an Elixir stack trace; `-v` shows the remote side's own words.
#[test]
fn an_unreachable_database_is_said_in_one_line_naming_doctor() {
    let ns = Ns::with_demo_pod("nodb", &[("PGPORT", "1")]);
    ns.kmigrate()
        .args(["status", "-l", "app=demo"])
        .expect_stderr("kmigrate: the app could not connect to its database (")
        .expect_stderr("doctor`")
        // The raised exception is said in kmigrate's words; DBConnection's log of each
        // failed connect (`... failed to connect: ** (DBConnection.ConnectionError) ...`),
        // the app's own log, stays.
        .reject_stderr("\n** (DBConnection.ConnectionError)")
        .status(1);
    ns.kmigrate()
        .args(["-v", "status", "-l", "app=demo"])
        .expect_stderr("** (DBConnection.ConnectionError)")
        .status(1);
}

/// `exec -it` on a terminal (util-linux `script`): the command has a terminal, and what is
/// typed reaches it in raw mode (the remote terminal handles the line), as `kubectl exec -it`.
#[test]
fn exec_it_gives_the_command_a_terminal() {
    let ns = Ns::with_demo_pod("tty", &[]);
    // The pause before the exit keeps the last line clear of the terminal's teardown, where
    // the last output was lost about one run in six (before and after the stderr queue).
    let line = "test -t 0 && echo is-a-tty; printf 'to continue'; read x; echo \"got $x\"; sleep 0.5; exit 5";
    let (code, screen) = crate::support::type_at_prompt(
        ns.kmigrate()
            .args(["exec", "-i", "-t", "-l", "app=demo", "--", "sh", "-c", line])
            .terminal_command(),
        "hello\r",
        || {},
    );
    assert_eq!(code, 5, "{screen}");
    assert!(screen.contains("is-a-tty"), "{screen}");
    assert!(screen.contains("got hello"), "{screen}");
}

/// `kmigrate console` opens the release's remote shell on the pod's running node, with a
/// terminal: what is typed runs in that node, and leaving the shell (Ctrl-G, q) leaves the
/// node running. The session is recorded as an audit Event.
#[test]
fn console_opens_the_running_nodes_shell_and_leaves_it_running() {
    let ns = Ns::new("console");
    // The container's terminal type: IEx runs a limited shell, and ignores --remsh, on a
    // `dumb` one.
    let live = LiveNode::start(&ns, "console", &[("TERM", "xterm")]);
    let (_, screen) = crate::support::converse(
        ns.kmigrate()
            .args(["console", "-l", "app=demo"])
            .terminal_command(),
        &[
            ("iex(", "IO.puts(\"hello from \" <> to_string(node()))\r"),
            // Ctrl-G, then q: IEx's way out that stops this shell's node only.
            ("hello from ", "\u{7}"),
            ("-->", "q\r"),
        ],
    );
    let alive = live.answers();
    assert!(
        screen.contains(&format!("hello from {}@", live.name)),
        "{screen}"
    );
    assert!(screen.contains("leaves the node running"), "{screen}");
    assert!(alive, "the node still runs after the console: {screen}");
    let evs = crate::audit::events(&ns);
    assert!(
        evs.iter()
            .any(|e| e["metadata"]["annotations"]["kmigrate.io/command"] == "console"),
        "{evs:#?}"
    );
}

/// A remote exit code can be any of kmigrate's own (75 is also "outcome unknown"): the
/// JSON report and a stderr line say whose code it is, and `--remote-failure-code` maps
/// every remote failure to one code that is none of kmigrate's.
#[test]
fn whose_exit_code_it_is_is_said_and_remote_failures_can_be_mapped() {
    let ns = Ns::with_demo_pod("whose-code", &[]);
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    };
    // `exit 75` in the pod, with these flags first: the report's exit code, whose it is
    // and the remote code, after the stderr line that says whose.
    let exit_75 = |flags: &[&str], says: &str, code: i32| {
        let out = ns
            .kmigrate()
            .args(flags)
            .args([
                "exec", "-l", "app=demo", "-o", "json", "--", "sh", "-c", "exit 75",
            ])
            .expect_stderr(says)
            .status(code);
        let r = json(&out);
        (
            r["exit_code"].clone(),
            r["exit_code_source"].clone(),
            r["remote_exit_code"].clone(),
        )
    };
    assert_eq!(
        exit_75(&[], "exit code 75 is the remote command's own", 75),
        (75.into(), "remote".into(), 75.into())
    );
    assert_eq!(
        exit_75(
            &["--remote-failure-code", "3"],
            "exit code 3 stands for the remote command's failure (it exited 75;",
            3
        ),
        (3.into(), "remote".into(), 75.into())
    );
    // Success stays 0, whatever the mapping; kmigrate's own failures keep their codes.
    ns.kmigrate()
        .args([
            "--remote-failure-code",
            "3",
            "exec",
            "-l",
            "app=demo",
            "--",
            "true",
        ])
        .status(0);
    let out = ns
        .kmigrate()
        .args([
            "--remote-failure-code",
            "3",
            "exec",
            "-l",
            "app=nothing",
            "-o",
            "json",
            "--",
            "true",
        ])
        .expect_stderr("exit code 69 is kmigrate's own")
        .status(69);
    assert_eq!(json(&out)["exit_code_source"], "kmigrate");
}
