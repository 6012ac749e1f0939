//! The audit trail: an Event for every run.

use std::time::Duration;

use crate::harness::{Ns, V1, V2, kubectl_out, local, migration_set};
use crate::support::{scratch_dir, wait_for};

/// The kmigrate Events of a namespace, as (annotations, type, regarding name).
pub fn events(ns: &Ns) -> Vec<serde_json::Value> {
    let json = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "events.v1.events.k8s.io",
        "-l",
        "app.kubernetes.io/managed-by=kmigrate",
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_run_leaves_an_audit_event() {
    let ns = Ns::with_demo_pod(
        "audit",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("failing"))],
    );
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(1);
    ns.kmigrate()
        .args([
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "true SECRET-ARG",
        ])
        .status(0);
    let evs = events(&ns);
    assert_eq!(evs.len(), 2, "{evs:#?}");
    let by = |cmd: &str| {
        evs.iter()
            .find(|e| e["metadata"]["annotations"]["kmigrate.io/command"] == cmd)
            .unwrap()
            .clone()
    };
    let failed = by("migrate");
    let ann = &failed["metadata"]["annotations"];
    assert_eq!(ann["kmigrate.io/user"], "admin");
    assert_eq!(ann["kmigrate.io/exit-code"], "1");
    assert_eq!(ann["kmigrate.io/migrations"], format!("{V1},{V2}"));
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["regarding"]["name"], "demo-0");
    assert!(
        failed["note"]
            .as_str()
            .unwrap()
            .contains("admin ran kmigrate migrate: failed with exit code 1")
    );
    let ok = by("exec");
    assert_eq!(ok["metadata"]["annotations"]["kmigrate.io/exit-code"], "0");
    // What people type after `exec --` is not written where `view` can read it.
    let note = ok["note"].as_str().unwrap();
    assert!(!note.contains("SECRET-ARG"), "{note}");
    assert!(
        note.contains("sh (arguments not recorded; argv sha256 "),
        "{note}"
    );
    assert!(
        !ok["metadata"]["annotations"]["kmigrate.io/argv"]
            .as_str()
            .unwrap()
            .contains("SECRET-ARG")
    );
    // kmigrate's own snippet is recorded in full, beyond the note's 1000 characters.
    let argv = failed["metadata"]["annotations"]["kmigrate.io/argv"]
        .as_str()
        .unwrap();
    assert!(
        argv.len() > 1000 && argv.contains("Ecto.Migrator"),
        "{argv}"
    );
    assert!(argv.ends_with("kmigrate:end\", [])'"), "{argv}");
    assert_eq!(ok["type"], "Normal");
}

/// The requests kmigrate made in `ns`, from the API server's audit log, as
/// "verb resource[/subresource]".
fn requests_in(ns: &Ns) -> Vec<String> {
    let log = std::fs::read_to_string(local().state.join("logs").join("audit.log")).unwrap();
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["objectRef"]["namespace"] == ns.name.as_str()
                && e["userAgent"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("kmigrate/"))
        })
        .map(|e| {
            let r = &e["objectRef"];
            match r["subresource"].as_str() {
                Some(sub) => format!(
                    "{} {}/{sub}",
                    e["verb"].as_str().unwrap(),
                    r["resource"].as_str().unwrap()
                ),
                None => format!(
                    "{} {}",
                    e["verb"].as_str().unwrap(),
                    r["resource"].as_str().unwrap()
                ),
            }
        })
        .collect()
}

#[test]
fn with_audit_marks_and_lock_off_exec_lists_and_execs_and_says_so() {
    let ns = Ns::with_demo_pod("bare", &[]);
    let dir = scratch_dir("bare-config");
    let config = dir.join("kmigrate.toml");
    std::fs::write(&config, "audit = false\n").unwrap();
    let exec = ["exec", "-l", "app=demo", "--", "true"];
    ns.kmigrate()
        .env("KMIGRATE_CONFIG", &config)
        .env("KMIGRATE_LOCK", "off")
        .env("KMIGRATE_PROTECTION_MARKS", "off")
        .args(exec)
        .expect_stderr("audit Events off (audit = false)")
        .expect_stderr("KMIGRATE_PROTECTION_MARKS=off turns the cluster's protection marks off")
        .expect_stderr("KMIGRATE_LOCK=off: this run takes no single-runner lock")
        .status(0);
    // The exec (a WebSocket upgrade, so verb get) is logged when its stream ends, which may
    // be after kmigrate exits.
    wait_for("the exec in the audit log", Duration::from_secs(10), || {
        requests_in(&ns).iter().any(|r| r == "get pods/exec")
    });
    assert_eq!(requests_in(&ns), ["list pods", "get pods/exec"]);
    assert!(events(&ns).is_empty(), "no audit Event: {:#?}", events(&ns));
    // With the defaults, the marks are read and the run leaves its Event.
    ns.kmigrate().args(exec).status(0);
    wait_for("the Event", Duration::from_secs(10), || {
        events(&ns).len() == 1
    });
    let all = requests_in(&ns);
    assert!(all.contains(&"get configmaps".to_owned()), "{all:?}");
    assert!(all.contains(&"get namespaces".to_owned()), "{all:?}");
    assert!(all.contains(&"create events".to_owned()), "{all:?}");
}
