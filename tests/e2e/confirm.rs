//! Protected namespaces: refused without --yes, typed confirmation on a terminal.

use std::process::Stdio;
use std::time::Duration;

use crate::harness::{Ns, V1, V2, V3, kubectl};
use crate::support::report;

#[test]
fn protected_namespace_needs_yes_without_a_terminal() {
    let ns = Ns::with_demo_pod("prod-shop", &[]);
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("Protected environment")
        .expect_stderr("--yes")
        .status(73);
    assert_eq!(report(&out).outcome, "refused");
    assert!(report(&out).protected);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    ns.kmigrate()
        .args(["exec", "-l", "app=demo", "--", "true"])
        .status(73);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--yes"])
        .expect_stderr("Confirmed by --yes")
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

/// Run kmigrate on a pseudo-terminal (util-linux `script`), typing `typed` at the prompt.
fn on_terminal(ns: &Ns, args: &[&str], typed: &str) -> (i32, String) {
    let mut child = ns
        .kmigrate()
        .args(args)
        .terminal_command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let typed = typed.to_owned();
    let mut out = child.stdout.take().unwrap();
    // Type only once the prompt is on the screen, as a person would.
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

#[test]
fn typed_confirmation_on_a_terminal() {
    let ns = Ns::with_demo_pod("prod-pay", &[]);
    let (code, screen) = on_terminal(&ns, &["migrate", "-l", "app=demo"], "wrong-name\r");
    assert_eq!(code, 73, "{screen}");
    assert!(screen.contains("pending migrations to apply"), "{screen}");
    assert!(screen.contains("20240101120000"), "{screen}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let (code, screen) = on_terminal(
        &ns,
        &["migrate", "-l", "app=demo"],
        &format!("{}\r", ns.name),
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
}
#[test]
fn a_namespace_marked_protected_asks_like_production() {
    let ns = Ns::new("marked");
    kubectl(&["label", "namespace", &ns.name, "kmigrate.io/protected=true"]);
    ns.pod("demo-0", "app: demo", &[]);
    ns.wait_ready("demo-0");
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("kmigrate.io/protected=true")
        .status(73);
    assert!(report(&out).protected);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--yes"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}
