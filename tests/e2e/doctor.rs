//! `kmigrate doctor`: every check passes for the admin; a user without exec or lease
//! rights is told which check failed, what is missing and how to fix it.

use std::time::Duration;

use kmigrate::doctor::{Check, Status};

use crate::harness::{Ns, local, release};
use crate::rbac::shipped_role_for_alice;
use crate::support::{kmigrate, report, stdout, wait_for};

const ORDER: [&str; 20] = [
    "kubeconfig",
    "api",
    "user",
    "rbac:pods",
    "rbac:exec",
    "rbac:lock",
    "rbac:audit",
    "rbac:replicasets",
    "rbac:namespace",
    "rbac:configmap",
    "pod",
    "container",
    "release",
    "app",
    "repos",
    "database",
    "indexes",
    "ecto_sql",
    "session",
    "protection",
];

pub(crate) fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
}

#[test]
fn doctor_passes_every_check_for_the_admin() {
    let ns = Ns::with_demo_pod("doctor", &[]);
    let out = ns
        .kmigrate()
        .args(["doctor", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&out);
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ORDER);
    for c in &r.checks {
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.fix, None, "{c:?}");
    }
    assert_eq!(r.pod.as_deref(), Some("demo-0"));
    assert!(
        check(&r.checks, "pod")
            .detail
            .starts_with("demo-0 in namespace")
    );
    assert!(check(&r.checks, "release").detail.contains("demo 0.1.0"));
    assert!(check(&r.checks, "repos").detail.contains("Demo.Repo"));
    assert!(
        check(&r.checks, "database")
            .detail
            .contains("SELECT 1 through")
    );
    assert!(check(&r.checks, "user").detail.contains("admin"));
    // Text for people: a mark per check on stdout, nothing failed.
    let out = ns.kmigrate().args(["doctor", "-l", "app=demo"]).status(0);
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("[ ok ]")).count(),
        ORDER.len(),
        "{text}"
    );
    // Reading only: nothing was migrated, no table created.
    assert!(ns.tables().is_empty(), "{:?}", ns.tables());
}

#[test]
fn doctor_names_missing_exec_or_lease_rights_and_skips_what_needs_them() {
    let ns = Ns::with_demo_pod("doctor-rbac", &[]);
    let alice = || {
        kmigrate().env("KUBECONFIG", &local().alice).args([
            "-n",
            &ns.name,
            "--release",
            &release(),
            "-l",
            "app=demo",
        ])
    };
    // The shipped Role without its pods/exec rule (block 2).
    shipped_role_for_alice(&ns, Some(2));
    wait_for("alice may list pods", Duration::from_secs(20), || {
        alice().args(["pods"]).status_any().status.success()
    });
    let out = alice()
        .args(["doctor", "-o", "json"])
        .expect_stderr("check(s) failed: rbac:exec")
        .status(81);
    let r = report(&out);
    assert_eq!(r.outcome, "failed");
    let exec = check(&r.checks, "rbac:exec");
    assert_eq!(exec.status, Status::Fail, "{exec:?}");
    assert!(exec.detail.contains("create pods/exec"), "{exec:?}");
    assert!(
        exec.fix.as_deref().unwrap().contains("kmigrate init"),
        "{exec:?}"
    );
    assert_eq!(check(&r.checks, "pod").status, Status::Pass);
    assert_eq!(check(&r.checks, "container").status, Status::Pass);
    for later in ["release", "app", "repos", "database", "indexes", "ecto_sql"] {
        let c = check(&r.checks, later);
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert_eq!(c.detail, "needs rbac:exec, which failed");
    }
    // The shipped Role cannot read the namespace: a warning, not a failure.
    assert_eq!(check(&r.checks, "rbac:namespace").status, Status::Warn);
    assert_eq!(check(&r.checks, "protection").status, Status::Warn);
    assert_eq!(
        check(&r.checks, "user").detail,
        "the API server knows you as alice"
    );

    // The shipped Role without its leases rule (block 4): the lock check fails with the
    // fix, and everything in the pod still runs.
    shipped_role_for_alice(&ns, Some(4));
    let mut last = None;
    wait_for("the Role without leases", Duration::from_secs(20), || {
        let out = alice().args(["doctor", "-o", "json"]).status_any();
        let done = report(&out)
            .checks
            .iter()
            .any(|c| c.name == "rbac:lock" && c.status == Status::Fail);
        last = Some(out);
        done
    });
    let out = last.unwrap();
    assert_eq!(out.status.code(), Some(81));
    let r = report(&out);
    let lock = check(&r.checks, "rbac:lock");
    assert!(
        lock.detail.contains("get leases.coordination.k8s.io")
            && lock.detail.contains("create leases.coordination.k8s.io"),
        "{lock:?}"
    );
    let fix = lock.fix.as_deref().unwrap();
    assert!(
        fix.contains("kmigrate init") && fix.contains("KMIGRATE_LOCK=off"),
        "{fix}"
    );
    for fine in [
        "rbac:exec",
        "release",
        "app",
        "repos",
        "database",
        "ecto_sql",
    ] {
        assert_eq!(check(&r.checks, fine).status, Status::Pass, "{fine}");
    }
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(failed, ["rbac:lock"]);
}
