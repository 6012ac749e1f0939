//! The single-runner lock: one run at a time, --wait, expired leases.

use std::time::Duration;

use crate::ecto::Gate;
use crate::harness::{
    Ns, V1, V2, V3, kubectl, kubectl_out, lease_field, local, migration_set, steal_lease,
};
use crate::job::{Extra, job_deployment};
use crate::support::{kmigrate, report, wait_for};

#[test]
fn concurrent_migrations_run_once_and_wait_runs_after() {
    // The first run waits at the gate, holding the lock, until the test opens it.
    let ns = Ns::with_demo_pod("lock", &[("DEMO_MIGRATIONS_DIR", &migration_set("gated"))]);
    let gate = Gate::close(&ns.db);
    let mut first = ns.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    gate.wait_until_reached(Duration::from_secs(30));
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("another run holds the lock kmigrate-demo")
        .expect_stderr("admin@")
        .expect_stderr("or pass --wait to wait for it to end")
        .status(74);
    assert_eq!(report(&out).exit_code, 74);
    // A second run with --wait starts once the first is done, and finds nothing to do.
    let mut waited = ns
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
        .spawn();
    waited.wait_line("waiting for the lock kmigrate-demo");
    drop(gate);
    let (code, _) = first.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{:#?}", first.seen);
    let (code, _) = waited.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{:#?}", waited.seen);
    let r = waited.stdout_json();
    assert_eq!(
        r["migrations"],
        serde_json::json!([]),
        "the waiting run found work: {r}"
    );
    assert_eq!(r["lock"], "kmigrate-demo", "{r}");
    assert_eq!(ns.applied(), [V1, 20240107120000]);
}

#[test]
fn an_expired_lease_is_taken_over_and_a_live_one_is_not() {
    let ns = Ns::with_demo_pod("lease", &[]);
    let lease = |renewed: &str, seconds: u32| {
        format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: kmigrate-demo\nspec:\n  holderIdentity: ghost@crashed pid 1\n  leaseDurationSeconds: {seconds}\n  acquireTime: \"{renewed}\"\n  renewTime: \"{renewed}\"\n"
        )
    };
    let now = k8s_openapi::jiff::Timestamp::now();
    let fresh = now.strftime("%Y-%m-%dT%H:%M:%S.000000Z").to_string();
    ns.apply(&lease(&fresh, 30));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("ghost@crashed pid 1")
        .status(74);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let stale = (now - std::time::Duration::from_secs(120))
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string();
    kubectl(&["-n", &ns.name, "delete", "lease", "kmigrate-demo"]);
    // Stale by its timestamps: watched for its whole duration (3 s here) on our own clock,
    // unchanged, before it is taken over.
    ns.apply(&lease(&stale, 3));
    let started = std::time::Instant::now();
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("looks abandoned")
        .expect_stderr("taking over the expired lock kmigrate-demo from ghost@crashed pid 1")
        .status(0);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "taken over without watching it"
    );
    assert_eq!(ns.applied(), [V1, V2, V3]);
    let left = kubectl_out(&["-n", &ns.name, "get", "lease", "--no-headers", "-o", "name"]);
    assert!(left.is_empty(), "released after the run: {left}");
}

/// A lease whose timestamps look stale but that keeps changing (its holder renews it on a
/// clock behind ours) is held: the run is refused once it has changed for two lease
/// durations, never watched for as long as the holder lives.
#[test]
fn a_stale_looking_lease_that_keeps_changing_is_held_not_watched_forever() {
    let ns = Ns::with_demo_pod("skewed", &[]);
    let stale = (k8s_openapi::jiff::Timestamp::now() - std::time::Duration::from_secs(120))
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string();
    ns.apply(&format!(
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: kmigrate-demo\nspec:\n  holderIdentity: skewed@elsewhere pid 2\n  leaseDurationSeconds: 3\n  acquireTime: \"{stale}\"\n  renewTime: \"{stale}\"\n"
    ));
    // The holder: a change a second, for 20 s.
    let name = ns.name.clone();
    let holder = std::thread::spawn(move || {
        for i in 0..20 {
            kubectl(&[
                "-n",
                &name,
                "annotate",
                "--overwrite",
                "lease",
                "kmigrate-demo",
                &format!("renewals={i}"),
            ]);
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let started = std::time::Instant::now();
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("skewed@elsewhere pid 2")
        .expect_stderr("kept changing")
        .status(74);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "watched for {took:?}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    holder.join().unwrap();
}

/// `unlock --yes` clears a lock whose holder looks gone; one renewed within its duration
/// (its run may still be going) takes `--force` as well.
#[test]
fn a_live_lock_is_cleared_only_with_force() {
    let ns = Ns::with_demo_pod("livelock", &[]);
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string();
    ns.apply(&format!(
        "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: kmigrate-demo\nspec:\n  holderIdentity: busy@elsewhere pid 3\n  leaseDurationSeconds: 30\n  acquireTime: \"{now}\"\n  renewTime: \"{now}\"\n"
    ));
    let lease = || kubectl_out(&["-n", &ns.name, "get", "lease", "--no-headers", "-o", "name"]);
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo", "--yes"])
        .expect_stderr("the lock kmigrate-demo looks live")
        .expect_stderr("unlock --force")
        .status(73);
    assert!(lease().contains("kmigrate-demo"), "nothing was cleared");
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo", "--yes", "--force"])
        .expect_stderr("Cleared the lock kmigrate-demo (held by busy@elsewhere pid 3)")
        .status(0);
    assert!(lease().is_empty(), "{}", lease());
}

#[test]
fn a_lock_taken_away_during_the_run_is_reported_not_silent() {
    let ns = Ns::with_demo_pod("lost", &[]);
    let dir = crate::support::scratch_dir("lost");
    let config = dir.join("kmigrate.toml");
    // Longer than one renewal period (10 s), so the renewer sees the intruder.
    std::fs::write(
        &config,
        "migrate_command = [\"sh\", \"-c\", \"echo started; sleep 14; echo done\"]\n",
    )
    .unwrap();
    let mut run = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json", "--config"])
        .args([&config])
        .spawn();
    run.wait_line("started");
    steal_lease(&ns.name);
    let (code, _) = run.wait_exit(Duration::from_secs(40));
    let text = run.seen.join("\n");
    assert_eq!(code, 0, "the command finished: {text}");
    assert!(
        text.contains("the lock kmigrate-demo was lost while the command ran"),
        "{text}"
    );
    let json = run.stdout_json();
    assert!(
        json["lock_lost"]
            .as_str()
            .is_some_and(|w| w.contains("intruder")),
        "{json:#}"
    );
    // The intruder's lease is not ours to delete.
    let holder = lease_field(&ns.name, "{.spec.holderIdentity}");
    assert_eq!(holder, "intruder");
    let evs = crate::audit::events(&ns);
    assert!(
        evs.iter()
            .any(|e| e["metadata"]["annotations"]["kmigrate.io/lock-lost"]
                .as_str()
                .is_some_and(|w| w.contains("intruder"))),
        "{evs:#?}"
    );
}

/// Without `app` (a custom command's lock), the lock is named after the Deployment of the
/// chosen pod, whichever way the pod is found: the ReplicaSet is read from the real API
/// server by name. `unlock` looks for it the same way.
#[test]
fn without_app_the_lock_is_named_after_the_deployment() {
    let ns = Ns::new("lockname");
    job_deployment(&ns, "shop", "0", 1, Extra::default());
    let unlock = |find: &[&str]| {
        kmigrate()
            .env("KUBECONFIG", &local().admin)
            .args(["-n", &ns.name, "-o", "json", "unlock"])
            .args(find)
    };
    wait_for("a ready pod of shop", Duration::from_secs(60), || {
        unlock(&["-l", "app=shop"]).status_any().status.success()
    });
    let pod = ns.get_pods("app=shop", "name");
    let pod = pod.trim().trim_start_matches("pod/");
    for find in [
        &["-l", "app=shop"][..],
        &["-l", "app=shop,team=data"],
        &["--pod", pod],
    ] {
        let out = unlock(find)
            .expect_stderr("No lock kmigrate-shop is held")
            .status(0);
        assert_eq!(
            report(&out).lock.as_deref(),
            Some("kmigrate-shop"),
            "{find:?}"
        );
    }
}
