//! Job mode reports what happened, no more: a pod that cannot start yet is waited for,
//! then deleted; the app container's exit code is read by name; a pod that failed before
//! the app ran ends the run; a create whose answer is lost is settled by name.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::faultproxy::{FaultProxy, apiserver_addr};
use crate::harness::{Ns, kubectl, kubectl_out, local};
use crate::job::{Extra, job_deployment, job_json, job_logs};
use crate::support::{report, wait_for};

const MIGRATED: [&str; 4] = [
    "12:00:00.000 [info] == Running 20240101120000 Demo.Repo.Migrations.CreatePosts.up/0",
    "12:00:00.100 [info] == Migrated 20240101120000 in 0.1s",
    "kmigrate:ran\tDemo.Repo\t20240101120000",
    "kmigrate:end",
];

/// A Deployment whose Job's pod stays in image-pull back-off until a test relabels it
/// (see `kmigrate-image-pull-backoff` in tests/cluster/kwok-stages-kmigrate.yaml).
fn held_deployment(ns: &Ns, name: &str) {
    job_deployment(
        ns,
        name,
        "0",
        0,
        Extra {
            labels: "kmigrate.test/image: missing",
            ..Extra::default()
        },
    );
}

/// The run's pods that are not being deleted.
fn live_pods(ns: &Ns, run: &str) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&ns.get_pods(&format!("kmigrate.io/run={run}"), "json")).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn an_image_that_arrives_within_the_start_grace_runs() {
    let ns = Ns::new("late");
    held_deployment(&ns, "late");
    job_logs(&ns, &MIGRATED);
    let mut run = ns
        .kmigrate()
        .args([
            "migrate",
            "--deployment",
            "late",
            "--image",
            "demo:2",
            "--start-grace",
            "90s",
            "--timeout",
            "120s",
        ])
        .spawn();
    run.wait_line("ImagePullBackOff: Back-off pulling image demo:2");
    // The image is pushed: the pod is no longer held back.
    kubectl(&[
        "-n",
        &ns.name,
        "label",
        "pods",
        "-l",
        "kmigrate.test/image=missing",
        "kmigrate.test/image=pushed",
        "--overwrite",
    ]);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    let text = run.seen.join("\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("== Migrated 20240101120000"), "{text}");
}

#[test]
fn an_image_that_never_arrives_exits_71_and_its_job_is_gone() {
    let ns = Ns::new("never");
    held_deployment(&ns, "never");
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "--deployment",
            "never",
            "--image",
            "demo:404",
            "--start-grace",
            "3s",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("The Job's pod is waiting: ImagePullBackOff")
        .expect_stderr("Back-off pulling image demo:404")
        .expect_stderr("was deleted")
        .status(71);
    let name = report(&out).job.expect("the run name");
    assert_eq!(
        kubectl_out(&["-n", &ns.name, "get", "jobs", "-o", "name"]),
        "",
        "the Job could start later"
    );
    assert_eq!(
        live_pods(&ns, &name),
        Vec::<String>::new(),
        "a pod could start later"
    );
    wait_for("the pod to be gone", Duration::from_secs(30), || {
        ns.get_pods(&format!("kmigrate.io/run={name}"), "name")
            .is_empty()
    });
}

#[test]
fn a_failed_init_container_ends_the_run_and_is_named() {
    let ns = Ns::new("initfail");
    job_deployment(
        &ns,
        "initfail",
        "0",
        0,
        Extra {
            annotations: "kmigrate.test/init-fails: \"true\"",
            spec: "      initContainers: [{name: wait-for-db, image: \"busybox:1\"}]\n",
            ..Extra::default()
        },
    );
    // --timeout is only a safety net: the run must end on its own, not with 124.
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "--deployment",
            "initfail",
            "--image",
            "demo:2",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("init container wait-for-db exited with code 1 (Error)")
        .expect_stderr("container app waiting (PodInitializing)")
        .status(71);
    let r = report(&out);
    assert_eq!(r.remote_exit_code, None);
    // The Job failed by itself (backoffLimit 0): it stays, for `kmigrate runs`.
    let name = r.job.expect("the run name");
    assert_eq!(job_json(&ns, &name)["metadata"]["name"], name.as_str());
}

/// A MutatingAdmissionPolicy that injects a regular container `aaa-sidecar` first into
/// every Job pod of one namespace, as service meshes do; removed when dropped.
struct SidecarInjection {
    name: String,
}

impl SidecarInjection {
    fn new(ns: &Ns) -> Self {
        let name = format!("kmigrate-sidecar-{}", ns.name);
        ns.apply(&format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata:
  name: {name}
spec:
  failurePolicy: Fail
  reinvocationPolicy: Never
  matchConstraints:
    resourceRules:
    - apiGroups: [\"\"]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [pods]
  matchConditions:
  - name: job-pods
    expression: \"has(object.metadata.labels) && 'kmigrate.io/run' in object.metadata.labels\"
  mutations:
  - patchType: JSONPatch
    jsonPatch:
      expression: >
        [JSONPatch{{op: \"add\", path: \"/spec/containers/0\",
          value: Object.spec.containers{{name: \"aaa-sidecar\", image: \"proxy:1\"}}}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata:
  name: {name}
spec:
  policyName: {name}
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: {ns}
",
            ns = ns.name
        ));
        let injection = Self { name };
        wait_for("the sidecar injection", Duration::from_secs(30), || {
            injected(ns).contains("aaa-sidecar")
        });
        injection
    }
}

/// The containers of a Job pod as admission leaves them (server-side dry run).
fn injected(ns: &Ns) -> String {
    let l = local();
    let mut child = Command::new(&l.kubectl)
        .arg("--kubeconfig")
        .arg(&l.admin)
        .args([
            "-n",
            &ns.name,
            "create",
            "--dry-run=server",
            "-o",
            "jsonpath={.spec.containers[*].name}",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: probe, labels: {kmigrate.io/run: probe}}\nspec: {containers: [{name: app, image: demo:1}]}\n",
    )
    .unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}

impl Drop for SidecarInjection {
    fn drop(&mut self) {
        for kind in ["mutatingadmissionpolicybinding", "mutatingadmissionpolicy"] {
            let _ = kubectl_out(&["delete", kind, &self.name, "--ignore-not-found"]);
        }
    }
}

#[test]
fn an_injected_sidecar_sorted_first_does_not_hide_the_exit_code() {
    let ns = Ns::new("sidecar");
    let _injection = SidecarInjection::new(&ns);
    job_deployment(
        &ns,
        "meshed",
        "3",
        0,
        Extra {
            annotations: "kmigrate.test/keeps-running: aaa-sidecar",
            ..Extra::default()
        },
    );
    job_logs(&ns, &["** (Postgrex.Error) ERROR 42P01 (undefined_table)"]);
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "--deployment",
            "meshed",
            "--image",
            "demo:2",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("Postgrex.Error")
        .status(3);
    let name = report(&out).job.expect("the run name");
    let pod = ns.get_pods(
        &format!("kmigrate.io/run={name}"),
        "jsonpath={.items[0].status.containerStatuses[*].name}",
    );
    assert_eq!(pod, "aaa-sidecar app", "the sidecar sorts first");
}

#[test]
fn logs_of_a_job_whose_pod_is_gone_end_with_what_is_known() {
    let ns = Ns::new("gone");
    job_deployment(&ns, "ok", "0", 0, Extra::default());
    job_deployment(&ns, "failing", "3", 0, Extra::default());
    job_logs(&ns, &MIGRATED);
    let mut runs = Vec::new();
    for (deployment, code) in [("ok", 0), ("failing", 3)] {
        let out = ns
            .kmigrate()
            .args([
                "migrate",
                "--deployment",
                deployment,
                "--image",
                "demo:2",
                "-o",
                "json",
            ])
            .status(code);
        runs.push(report(&out).job.expect("the run name"));
    }
    for run in &runs {
        kubectl(&[
            "-n",
            &ns.name,
            "delete",
            "pods",
            "-l",
            &format!("kmigrate.io/run={run}"),
            "--wait=true",
        ]);
    }
    // --timeout is only a safety net: neither may wait for a pod that is gone.
    ns.kmigrate()
        .args(["logs", &runs[0], "--timeout", "30s"])
        .expect_stderr("completed (exit code 0); its pod, and so its log, is gone")
        .status(0);
    ns.kmigrate()
        .args(["logs", &runs[1], "--timeout", "30s"])
        .expect_stderr("its pod is gone, so the exit code is unknown")
        .status(75);
}

/// The size of one piece of a Job's create request, as the proxy sees it; other requests
/// (reads, the Lease, the review of who the user is) are far smaller.
const JOB_CREATE_BYTES: usize = 1500;

#[test]
fn a_job_create_whose_answer_is_lost_is_found_by_name_and_followed() {
    let ns = Ns::new("lostanswer");
    job_deployment(&ns, "cut", "3", 0, Extra::default());
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.lose_answer_to_request(JOB_CREATE_BYTES);
    let out = ns
        .kmigrate()
        .env("KUBECONFIG", proxy.kubeconfig())
        .args([
            "migrate",
            "--deployment",
            "cut",
            "--image",
            "demo:2",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("The answer to creating Job")
        .expect_stderr("but the Job exists; following it")
        .status(3);
    assert_eq!(proxy.faulted(), 1, "the proxy had the create");
    let name = report(&out).job.expect("the run name");
    assert_eq!(job_json(&ns, &name)["metadata"]["name"], name.as_str());
}

#[test]
fn a_job_create_that_never_arrived_is_nothing_ran() {
    let ns = Ns::new("lostrequest");
    job_deployment(&ns, "cut", "3", 0, Extra::default());
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.drop_request(JOB_CREATE_BYTES);
    let out = ns
        .kmigrate()
        .env("KUBECONFIG", proxy.kubeconfig())
        .args([
            "migrate",
            "--deployment",
            "cut",
            "--image",
            "demo:2",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("so nothing ran")
        .reject_stderr("keeps running")
        .status(76);
    assert_eq!(proxy.faulted(), 1, "the proxy had the create");
    assert_eq!(report(&out).job, None);
    assert_eq!(
        kubectl_out(&["-n", &ns.name, "get", "jobs", "-o", "name"]),
        ""
    );
}

#[test]
fn a_timeout_while_the_create_is_in_flight_says_the_job_may_exist() {
    let ns = Ns::new("inflight");
    job_deployment(&ns, "slow", "0", 0, Extra::default());
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.hold_request(JOB_CREATE_BYTES, Duration::from_secs(8));
    let out = ns
        .kmigrate()
        .env("KUBECONFIG", proxy.kubeconfig())
        .args([
            "migrate",
            "--deployment",
            "slow",
            "--image",
            "demo:2",
            "--timeout",
            "4s",
            "-o",
            "json",
        ])
        .expect_stderr("timed out after 4s")
        .expect_stderr(" logs kmigrate-")
        .status(124);
    assert_eq!(proxy.faulted(), 1, "the proxy had the create");
    let name = report(&out).job.expect("the run name");
    // And indeed the create lands once the proxy lets it through.
    wait_for("the Job", Duration::from_secs(30), || {
        kubectl_out(&["-n", &ns.name, "get", "jobs", "-o", "name"]).contains(&name)
    });
}
