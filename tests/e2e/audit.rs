//! The audit trail: an Event for every run.

use crate::harness::{Ns, V1, V2, kubectl_out, migration_set};

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
    // kmigrate's own snippet is recorded in full.
    assert!(failed["note"].as_str().unwrap().contains("Ecto.Migrator"));
    assert_eq!(ok["type"], "Normal");
}
