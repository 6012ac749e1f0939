//! Faults: a TCP fault proxy between kmigrate and the API server, and signals.

use std::time::{Duration, Instant};

use kmigrate::ecto_output::Direction;

use crate::ecto::{Gate, at_the_gate};
use crate::faultproxy::{FaultProxy, apiserver_addr};
use crate::harness::{Ns, kubectl_out, lease_field, migration_set, release};
use crate::support::{kmigrate, report, wait_for};

#[test]
fn unreachable_api_server_fails_fast() {
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.refuse(true);
    let kubeconfig = proxy.kubeconfig();
    let start = Instant::now();
    kmigrate()
        .env("KUBECONFIG", &kubeconfig)
        .args(["pods", "-n", "default", "-l", "app=x"])
        .expect_stderr(&format!("https://{}", proxy.addr))
        .status(76);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn latency_is_tolerated_and_timeout_is_honoured() {
    let ns = Ns::with_demo_pod("latency", &[]);
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.set_latency(Duration::from_millis(300));
    let kubeconfig = proxy.kubeconfig();
    kmigrate()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "-n",
            &ns.name,
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "echo slow but fine",
        ])
        .expect_stdout("slow but fine")
        .status(0);
    let start = Instant::now();
    kmigrate()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "-n",
            &ns.name,
            "exec",
            "--timeout",
            "4s",
            "-l",
            "app=demo",
            "--",
            "sleep",
            "30",
        ])
        .expect_stderr("timed out after 4s")
        .expect_stderr(&format!("`kmigrate -n {} -l app=demo status`", ns.name))
        .status(124);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(8),
        "took {took:?}"
    );
}

/// Whether a migration that creates two tables is all there or not there at all.
fn migration_is_atomic(ns: &Ns, version: i64, [a, b]: [&str; 2]) -> bool {
    let row = ns.applied().contains(&version);
    let tables = ns.tables();
    let a = tables.contains(&a.to_owned());
    let b = tables.contains(&b.to_owned());
    assert!(
        row == a && a == b,
        "half-applied: row {row}, slow_a {a}, slow_b {b}"
    );
    row
}

#[test]
fn connection_cut_mid_migration_reports_unknown_and_leaves_no_half_migration() {
    let ns = Ns::with_demo_pod("cut", &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))]);
    let proxy = FaultProxy::start(apiserver_addr());
    let kubeconfig = proxy.kubeconfig();
    let mut run = ns
        .kmigrate()
        .env("KUBECONFIG", &kubeconfig)
        .args(["-vv", "migrate", "-l", "app=demo"])
        .spawn();
    run.wait_line("SELECT pg_sleep(2)");
    proxy.cut_all();
    let (code, took) = run.wait_exit(Duration::from_secs(20));
    let text = run.seen.join("\n");
    assert_eq!(code, 75, "{text}");
    assert!(took < Duration::from_secs(5), "took {took:?} to notice");
    let on_target = format!(
        "kmigrate -n {} -l app=demo --release {}",
        ns.name,
        release()
    );
    assert!(text.contains(&format!("`{on_target} status`")), "{text}");
    assert!(text.contains("The lock kmigrate-demo stays held"), "{text}");
    // Let the remote side settle, then check: the slow migration is whole or absent.
    std::thread::sleep(Duration::from_secs(4));
    migration_is_atomic(&ns, 20240104120000, ["slow_a", "slow_b"]);
    let status = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let slow = status
        .migrations
        .iter()
        .find(|m| m.version == 20240104120000)
        .unwrap();
    assert_eq!(
        slow.direction == Direction::Up,
        migration_is_atomic(&ns, 20240104120000, ["slow_a", "slow_b"])
    );
}

/// The API server stays out of reach for a few seconds after the connection is lost: the
/// lock is still kept for the unknown outcome (tried again within the lease's life), not
/// left to expire under a migration that may still run.
#[test]
fn the_lock_is_kept_when_the_api_server_comes_back_within_the_lease() {
    let ns = Ns::with_demo_pod("keep", &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))]);
    let proxy = std::sync::Arc::new(FaultProxy::start(apiserver_addr()));
    let mut run = ns
        .kmigrate()
        .env("KUBECONFIG", proxy.kubeconfig())
        .args(["migrate", "-l", "app=demo"])
        .spawn();
    run.wait_line("SELECT pg_sleep(2)");
    proxy.refuse(true);
    proxy.cut_all();
    let back = {
        let proxy = proxy.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(4));
            proxy.refuse(false);
        })
    };
    let (code, _) = run.wait_exit(Duration::from_secs(40));
    back.join().unwrap();
    let text = run.seen.join("\n");
    assert_eq!(code, 75, "{text}");
    assert!(text.contains("The lock kmigrate-demo stays held"), "{text}");
    assert_eq!(
        lease_field(&ns.name, "{.metadata.annotations.kmigrate\\.io/state}"),
        "unknown",
        "{text}"
    );
}

fn signal_mid_run(signal: &str, expected: i32) {
    // The gated migration waits until the gate opens: the signal lands mid-run however
    // slow the machine is.
    let ns = Ns::with_demo_pod(
        &format!("sig{}", signal.to_lowercase()),
        &[("DEMO_MIGRATIONS_DIR", &migration_set("gated"))],
    );
    let gate = Gate::close(&ns.db);
    let mut run = ns.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    gate.wait_until_reached(Duration::from_secs(30));
    let lease = lease_field(&ns.name, "{.spec.holderIdentity}");
    assert!(
        lease.contains("pid"),
        "the lock is held while migrating: {lease:?}"
    );
    run.signal(signal);
    let (code, took) = run.wait_exit(Duration::from_secs(10));
    let text = run.seen.join("\n");
    assert_eq!(code, expected, "{text}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        text.contains(&format!("interrupted by SIG{signal}"))
            && text.contains("may still be running"),
        "{text}"
    );
    // The remote may still be running: the lock stays, marked with the pod.
    let state = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "lease",
        "kmigrate-demo",
        "-o",
        "jsonpath={.metadata.annotations.kmigrate\\.io/state} {.metadata.annotations.kmigrate\\.io/pod}",
    ]);
    assert_eq!(state, "unknown demo-0", "the lock was not kept: {text}");
    // Every hint reaches this namespace, with the flags the run was given.
    let on_target = format!(
        "kmigrate -n {} -l app=demo --release {}",
        ns.name,
        release()
    );
    assert!(text.contains(&format!("`{on_target} unlock`")), "{text}");
    assert!(text.contains(&format!("`{on_target} status`")), "{text}");
    // The next run is refused with the real cause, not a lost connection.
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr(&format!("ended (interrupted by SIG{signal}) in pod demo-0"))
        .expect_stderr("its outcome is unknown")
        .expect_stderr("The pod is still there")
        .expect_stderr(&format!("`{on_target} unlock`"))
        .reject_stderr("lost its connection")
        .status(74);
    // Without a terminal, unlock asks for --yes; with it, the lock goes.
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo"])
        .expect_stderr("Clear the lock")
        .expect_stderr("demo-0")
        .expect_stderr("The pod is still there")
        .expect_stderr("holds Ecto's migration lock for Demo.Repo")
        .status(73);
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo", "--yes"])
        .expect_stderr("Cleared the lock kmigrate-demo")
        .status(0);
    let left = kubectl_out(&["-n", &ns.name, "get", "lease", "--no-headers", "-o", "name"]);
    assert!(left.is_empty(), "unlock left the lease: {left}");
    // Opened, the gate lets the remote run end either way; never half of it.
    drop(gate);
    wait_for(
        "the gated migration to end",
        Duration::from_secs(30),
        || !at_the_gate(&ns.db) && !ns.in_transaction(),
    );
    migration_is_atomic(&ns, 20240107120000, ["gated_a", "gated_b"]);
}

#[test]
fn sigint_mid_run_exits_130_and_keeps_the_lock_until_unlocked() {
    signal_mid_run("INT", 130);
}

#[test]
fn sigterm_mid_run_exits_143_and_keeps_the_lock_until_unlocked() {
    signal_mid_run("TERM", 143);
}

/// A status whose remote command goes silent (a release that hangs before it prints
/// anything, a connection that died without a reset) ends at the 120 s idle limit with 75
/// and says that nothing was changed, instead of hanging until someone presses Ctrl-C.
#[test]
fn a_silent_status_ends_at_the_idle_limit() {
    let ns = Ns::with_demo_pod("silent-status", &[]);
    let dir = crate::support::scratch_dir("silent-release");
    let silent = dir.join("silent");
    std::fs::write(&silent, "#!/bin/sh\nexec sleep 100000\n").unwrap();
    std::fs::set_permissions(&silent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut run = kmigrate()
        .env("KUBECONFIG", &crate::harness::local().admin)
        .args(["-n", &ns.name, "--release", silent.to_str().unwrap()])
        .args(["--app", "demo", "status", "-l", "app=demo"])
        .spawn();
    let (code, took) = run.wait_exit(Duration::from_secs(200));
    assert_eq!(code, 75, "{:#?}", run.seen);
    assert!(
        took >= Duration::from_secs(120) && took < Duration::from_secs(160),
        "took {took:?}"
    );
    assert!(
        run.seen
            .iter()
            .any(|l| l.contains("nothing from the pod for 120 s")
                && l.contains("nothing was changed and no lock is kept: run it again")),
        "{:#?}",
        run.seen
    );
}
