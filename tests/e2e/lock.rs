//! The single-runner lock: one run at a time, --wait, expired leases.

use std::time::Duration;

use crate::harness::{Ns, V1, V2, V3, kubectl, kubectl_out, migration_set};
use crate::support::report;

#[test]
fn concurrent_migrations_run_once_and_wait_runs_after() {
    let ns = Ns::with_demo_pod("lock", &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))]);
    let mut first = ns.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    first.wait_line("SELECT pg_sleep(2)");
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("another run holds the lock kmigrate-demo")
        .expect_stderr("admin@")
        .status(74);
    assert_eq!(report(&out).exit_code, 74);
    // A second run with --wait starts once the first is done, and finds nothing to do.
    let waited = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--wait",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("waiting for the lock kmigrate-demo")
        .status(0);
    let (code, _) = first.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{:#?}", first.seen);
    let r = report(&waited);
    assert!(
        r.migrations.is_empty(),
        "the waiting run found work: {:?}",
        r.migrations
    );
    assert_eq!(r.lock.as_deref(), Some("kmigrate-demo"));
    assert_eq!(ns.applied(), [V1, 20240104120000]);
}

#[test]
fn an_expired_lease_is_taken_over_and_a_live_one_is_not() {
    let ns = Ns::with_demo_pod("lease", &[]);
    let lease = |renewed: &str| {
        format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: kmigrate-demo\nspec:\n  holderIdentity: ghost@crashed pid 1\n  leaseDurationSeconds: 30\n  acquireTime: \"{renewed}\"\n  renewTime: \"{renewed}\"\n"
        )
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    let fresh = now.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string();
    ns.apply(&lease(&fresh));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("ghost@crashed pid 1")
        .status(74);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let stale = (now - std::time::Duration::from_secs(120))
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string();
    kubectl(&["-n", &ns.name, "delete", "lease", "kmigrate-demo"]);
    ns.apply(&lease(&stale));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("taking over the expired lock kmigrate-demo from ghost@crashed pid 1")
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    let left = kubectl_out(&["-n", &ns.name, "get", "lease", "--no-headers", "-o", "name"]);
    assert!(left.is_empty(), "released after the run: {left}");
}
