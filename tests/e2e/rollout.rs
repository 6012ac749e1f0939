//! The schema gate in real rollouts on the real node (docs/guide/schema-gate.md): a
//! Deployment of the demo app whose readiness is its live node answering with its repo
//! running, gated by the entry `kmigrate gate --patch` prints, rolled out to the next
//! release (the app image with two more migrations). A watcher samples the pods and the
//! database every second, so a new pod that is Ready before its migrations ran fails
//! the test, whenever it happens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::harness::{Ns, V1, V2, V3, kubectl, kubectl_out};
use crate::real_node::{
    deployment_of, job_migrate, km, next_release_image, node, patch_demo, rollout,
};
use crate::support::{report, wait_for};

/// The next release's two migrations (`migration_sets/next_release`).
const V4: i64 = 20240115120000;
const V5: i64 = 20240116120000;

/// How long the new pod is watched waiting at its gate before anyone migrates.
const HOLD: Duration = Duration::from_secs(20);

/// The app container's readiness: an `rpc` into its live node that fails unless the
/// node answers and runs its repo. Ready then means "serves", not "a process started".
const READINESS: &str = "        readinessProbe:
          exec:
            command: [/app/bin/demo, rpc, 'Process.whereis(Demo.Repo) || raise \"Demo.Repo is not running\"']
          periodSeconds: 3
          timeoutSeconds: 20
";

/// One app pod as the API server has it.
#[derive(Debug, Clone)]
struct AppPod {
    name: String,
    image: String,
    ready: bool,
    /// When its Ready condition last changed, as the API server says (RFC 3339).
    ready_since: String,
    /// The gate's state (`waiting`, `running`, `terminated`, or empty).
    gate: String,
}

/// The app's pods (label app=demo) not being deleted.
fn app_pods(ns: &Ns) -> Vec<AppPod> {
    let list: serde_json::Value =
        serde_json::from_str(&ns.get_pods("app=demo", "json")).expect("pods as JSON");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = p["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready");
            let gate = p["status"]["initContainerStatuses"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == "kmigrate-gate");
            let image = p["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == "app")
                .and_then(|c| c["image"].as_str());
            AppPod {
                name: p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                image: image.unwrap_or_default().to_owned(),
                ready: ready.is_some_and(|c| c["status"] == "True"),
                ready_since: ready
                    .and_then(|c| c["lastTransitionTime"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                gate: gate
                    .and_then(|c| c["state"].as_object())
                    .and_then(|s| s.keys().next().cloned())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// What the watcher saw at one moment: the pods, then the versions applied just after.
#[derive(Debug)]
struct Sample {
    at: Instant,
    pods: Vec<AppPod>,
    applied: Vec<i64>,
}

/// Runs `body` while a thread samples the app's pods, then the database, every second.
fn watched<T>(ns: &Ns, body: impl FnOnce() -> T) -> (T, Vec<Sample>) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                let pods = app_pods(ns);
                let applied = ns.applied();
                samples.push(Sample { at, pods, applied });
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        });
        // Stops the watcher also when `body` panics: the scope joins it before unwinding on.
        let _stop = Stop(&stop);
        let out = body();
        drop(_stop);
        (out, watcher.join().expect("the watcher"))
    })
}

/// Raises its flag when dropped.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The pod of `image` in a sample, if there is one.
fn of_image<'a>(sample: &'a Sample, image: &str) -> Option<&'a AppPod> {
    sample.pods.iter().find(|p| p.image == image)
}

/// The first sample where a pod of `image` was Ready while the database lacked `version`.
fn ready_before<'a>(samples: &'a [Sample], image: &str, version: i64) -> Option<&'a Sample> {
    samples
        .iter()
        .find(|s| of_image(s, image).is_some_and(|p| p.ready) && !s.applied.contains(&version))
}

/// Fails when a pod of `image` was seen Ready while the database lacked `version`.
fn never_ready_before(samples: &[Sample], image: &str, version: i64) {
    if let Some(s) = ready_before(samples, image, version) {
        panic!("a pod of {image} was Ready while schema_migrations lacked {version}: {s:#?}");
    }
}

/// `kubectl set image` of the app container and, if given, of the gate.
fn set_image(ns: &Ns, app: &str, gate: Option<&str>) {
    let app = format!("app={app}");
    let gate = gate.map(|g| format!("kmigrate-gate={g}"));
    let mut args = vec!["-n", &ns.name, "set", "image", "deployment/demo", &app];
    args.extend(gate.as_deref());
    kubectl(&args);
}

/// The seconds of an RFC 3339 time with a `Z` (as the API server writes them) since the epoch.
fn epoch_secs(rfc3339: &str) -> u64 {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", rfc3339, "+%s"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a time: {rfc3339:?}"))
}

/// The demo app on the real node, one replica with the readiness probe, migrated, then
/// gated by `kmigrate gate --patch` (with `gate_args`) and rolled out again; returns the
/// namespace and the one pod, Ready past its gate.
fn gated_app(tag: &str, gate_args: &[&str]) -> (Ns, String) {
    let ns = Ns::new(tag);
    deployment_of(&ns, &node().app_image, "", 1, READINESS);
    rollout(&ns);
    km(&ns)
        .args(["migrate", "-l", "app=demo", "--yes"])
        .status(0);
    let patch = km(&ns)
        .args(["gate", "--deployment", "demo", "--patch"])
        .args(gate_args)
        .expect_stderr("kubectl -n")
        .status(0);
    patch_demo(&ns, &patch.stdout);
    rollout(&ns);
    let pods = app_pods(&ns);
    assert!(
        matches!(pods.as_slice(), [p] if p.ready && p.gate == "terminated"),
        "one Ready pod that passed its gate: {pods:?}"
    );
    let old = pods[0].name.clone();
    (ns, old)
}

/// `migrate` of `image` in a Job (Job mode), which leaves the gate out.
fn gated_job_migrate(ns: &Ns, image: &str) -> kmigrate::report::Report {
    let out = job_migrate(ns, image)
        .expect_stderr("The Job leaves out init container kmigrate-gate (the schema gate")
        .status(0);
    let r = report(&out);
    assert_eq!(r.outcome, "success", "{r:?}");
    r
}

/// The name of the pod of `image` once it is Ready, polled every 100 ms.
fn wait_ready_pod(ns: &Ns, image: &str, within: Duration) -> AppPod {
    let mut found = None;
    wait_for(&format!("a Ready pod of {image}"), within, || {
        found = app_pods(ns)
            .into_iter()
            .find(|p| p.image == image && p.ready);
        found.is_some()
    });
    found.expect("found")
}

/// The recommended pipeline, end to end: a rollout of an image with two new migrations,
/// the new pod held at its gate (not Ready) while the old one stays Ready, `migrate
/// --image` in Job mode (the Job leaves the gate out, or it would wait for its own
/// migrations), then the new pod Ready and the rollout complete. Fails if the new pod
/// is ever Ready before the database holds its migrations.
#[test]
fn a_gated_rollout_waits_for_the_job_mode_migration_then_completes() {
    let (ns, old) = gated_app("real-rollout", &[]);
    let next = next_release_image(&ns);
    let ((timeline, new, migration_began), samples) = watched(&ns, || {
        let t0 = Instant::now();
        set_image(&ns, &next, Some(&next));
        let mut new = String::new();
        wait_for("the new pod's gate waits", Duration::from_secs(120), || {
            let Some(p) = app_pods(&ns)
                .into_iter()
                .find(|p| p.image == next && p.gate == "running")
            else {
                return false;
            };
            new = p.name;
            kubectl_out(&["-n", &ns.name, "logs", &new, "-c", "kmigrate-gate"])
                .contains("kmigrate:wait\twaiting")
        });
        let gate_waiting = t0.elapsed();
        std::thread::sleep(HOLD);
        let migration_began = SystemTime::now();
        let migrating = t0.elapsed();
        let r = gated_job_migrate(&ns, &next);
        let migrated = t0.elapsed();
        assert_eq!(ns.applied(), [V1, V2, V3, V4, V5]);
        let job = r.job.expect("the Job's name");
        let spec: serde_json::Value = serde_json::from_str(&kubectl_out(&[
            "-n", &ns.name, "get", "job", &job, "-o", "json",
        ]))
        .unwrap();
        assert_eq!(
            spec["metadata"]["annotations"]["kmigrate.io/left-out-init-containers"],
            "kmigrate-gate"
        );
        assert!(spec["spec"]["template"]["spec"]["initContainers"].is_null());
        let ready = wait_ready_pod(&ns, &next, Duration::from_secs(90));
        assert_eq!(ready.name, new);
        let ready_at = t0.elapsed();
        rollout(&ns);
        let done = t0.elapsed();
        (
            [gate_waiting, migrating, migrated, ready_at, done],
            ready,
            migration_began,
        )
    });
    let [gate_waiting, migrating, migrated, ready_at, done] = timeline;

    // While it waited, before the migration began: the old pod Ready at every sample, the
    // new one never, its gate running.
    let t_migrate = samples[0].at + migrating;
    let held: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at >= samples[0].at + gate_waiting && s.at < t_migrate)
        .collect();
    assert!(held.len() >= 10, "{} samples while held", held.len());
    for s in &held {
        let old_ready = s.pods.iter().any(|p| p.name == old && p.ready);
        let waiting = of_image(s, &next).is_some_and(|p| !p.ready && p.gate == "running");
        assert!(old_ready && waiting, "old {old} Ready, new waiting: {s:#?}");
    }
    never_ready_before(&samples, &next, V5);
    // The Ready condition itself (between samples too) turned True after the migration began.
    let began = migration_began
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        epoch_secs(&new.ready_since) >= began,
        "Ready since {}, before the migration began",
        new.ready_since
    );
    let pods = app_pods(&ns);
    assert!(
        matches!(pods.as_slice(), [p] if p.name == new.name && p.ready),
        "only the new pod, Ready: {pods:?}"
    );
    eprintln!(
        "gated rollout: gate waiting {:.1} s after `kubectl set image`; old pod Ready and new \
         pod held for {:.1} s ({} samples); migration {:.1} s to {:.1} s; new pod Ready {:.1} s \
         after the migration ended; rollout complete at {:.1} s",
        gate_waiting.as_secs_f64(),
        (migrating - gate_waiting).as_secs_f64(),
        held.len(),
        migrating.as_secs_f64(),
        migrated.as_secs_f64(),
        (ready_at - migrated).as_secs_f64(),
        done.as_secs_f64()
    );
}

/// A gate whose `--deadline` passes exits 10: the pod shows `Init:Error`, then the kubelet
/// runs the gate again with back-off, while the old pod keeps serving; once the migration
/// ran, the next run of the gate passes and the rollout completes.
#[test]
fn a_gate_past_its_deadline_backs_off_and_the_rollout_resumes_once_migrated() {
    let (ns, old) = gated_app("real-deadline", &["--deadline", "5s"]);
    let next = next_release_image(&ns);
    let (timeline, samples) = watched(&ns, || {
        let t0 = Instant::now();
        set_image(&ns, &next, Some(&next));
        // The pod's status as `kubectl get` shows it, until it shows the gate failed.
        let mut new = String::new();
        let mut shown = Vec::<String>::new();
        wait_for(
            "Init:Error or Init:CrashLoopBackOff",
            Duration::from_secs(90),
            || {
                let Some(p) = app_pods(&ns).into_iter().find(|p| p.image == next) else {
                    return false;
                };
                new = p.name;
                let line = kubectl_out(&["-n", &ns.name, "get", "pod", &new, "--no-headers"]);
                let column = line
                    .split_whitespace()
                    .nth(2)
                    .unwrap_or_default()
                    .to_owned();
                if shown.last() != Some(&column) {
                    shown.push(column.clone());
                }
                matches!(column.as_str(), "Init:Error" | "Init:CrashLoopBackOff")
            },
        );
        let failed = t0.elapsed();
        let gate = app_pods(&ns)
            .into_iter()
            .find(|p| p.name == new)
            .expect("the new pod");
        let exit = kubectl_out(&[
            "-n",
            &ns.name,
            "get",
            "pod",
            &new,
            "-o",
            "jsonpath={.status.initContainerStatuses[0].state.terminated.exitCode}{.status.initContainerStatuses[0].lastState.terminated.exitCode}",
        ]);
        assert!(
            exit.starts_with("10"),
            "the gate exits 10: {exit:?} {gate:?}"
        );
        // The failed run's log says what is missing (the kubelet serves the last run's log
        // while the container waits to restart).
        let log = [&[][..], &["--previous"][..]]
            .iter()
            .map(|more| {
                let mut args = vec!["-n", &ns.name, "logs", &new, "-c", "kmigrate-gate"];
                args.extend_from_slice(more);
                kubectl_out(&args)
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            log.contains("kmigrate:status") && log.contains(&V5.to_string()),
            "the gate's log names what is missing: {log}"
        );
        let migrating = t0.elapsed();
        gated_job_migrate(&ns, &next);
        let migrated = t0.elapsed();
        wait_ready_pod(&ns, &next, Duration::from_secs(90));
        let ready = t0.elapsed();
        rollout(&ns);
        ([failed, migrating, migrated, ready], shown)
    });
    let ([failed, migrating, migrated, ready], shown) = timeline;
    let t_migrate = samples[0].at + migrating;
    for s in samples.iter().filter(|s| s.at < t_migrate) {
        assert!(
            s.pods.iter().any(|p| p.name == old && p.ready),
            "the old pod {old} Ready until the migration: {s:#?}"
        );
    }
    never_ready_before(&samples, &next, V5);
    eprintln!(
        "gate past its deadline (5s): the new pod showed {} by {:.1} s after `kubectl set image`; \
         migration {:.1} s to {:.1} s; new pod Ready {:.1} s after the migration ended (the kubelet's back-off)",
        shown.join(" > "),
        failed.as_secs_f64(),
        migrating.as_secs_f64(),
        migrated.as_secs_f64(),
        (ready - migrated).as_secs_f64()
    );
}

/// The guide's warning, shown: a gate left on the old image checks the old image's
/// migrations, which are applied, so the new pod starts and turns Ready at once without
/// its migrations (which the watcher of the gated rollout catches); Job mode then names
/// the mismatch.
#[test]
fn a_gate_left_on_the_old_image_lets_new_pods_through_at_once() {
    let (ns, _) = gated_app("real-old-gate", &[]);
    let next = next_release_image(&ns);
    let ((ready, at), samples) = watched(&ns, || {
        let t0 = Instant::now();
        set_image(&ns, &next, None);
        let ready = wait_ready_pod(&ns, &next, Duration::from_secs(90));
        let at = t0.elapsed();
        // One more sample of the Ready pod before the watcher stops.
        std::thread::sleep(Duration::from_secs(2));
        (ready, at)
    });
    assert_eq!(
        ns.applied(),
        [V1, V2, V3],
        "the new pod {} is Ready without its migrations",
        ready.name
    );
    // The check the gated rollout is held to catches this one.
    assert!(
        ready_before(&samples, &next, V5).is_some(),
        "not caught: {samples:#?}"
    );
    rollout(&ns);
    let old_image = &node().app_image;
    job_migrate(&ns, &next)
        .expect_stderr(&format!(
            "warning: the schema gate kmigrate-gate of Deployment demo runs image {old_image}, but its container app runs {next}"
        ))
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3, V4, V5]);
    eprintln!(
        "gate on the old image: the new pod Ready {:.1} s after `kubectl set image`, with its \
         migrations missing",
        at.as_secs_f64()
    );
}
