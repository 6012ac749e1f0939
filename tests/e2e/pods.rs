//! Which pod and container are chosen, and how the choice is explained.

use std::time::Duration;

use crate::harness::{NODE, Ns, kubectl, kubectl_out};
use crate::support::{report, stdout, wait_for};

/// A pod that stays where a test puts it: bound to a node no agent serves, its status set by hand.
fn static_pod(ns: &Ns, name: &str, labels: &str, phase: &str, ready: bool, finalizer: bool) {
    let finalizers = if finalizer {
        "\n  finalizers: [kmigrate.test/hold]"
    } else {
        ""
    };
    ns.apply(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{{labels}}}{finalizers}\nspec:\n  nodeName: no-such-node\n  containers:\n  - name: app\n    image: demo:1\n"
    ));
    let status = format!(
        r#"{{"status":{{"phase":"{phase}","conditions":[{{"type":"Ready","status":"{}","lastTransitionTime":"2026-01-01T00:00:00Z"}}]}}}}"#,
        if ready { "True" } else { "False" }
    );
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "pod",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &status,
    ]);
}

#[test]
fn pods_explains_the_choice_among_ready_unready_and_terminating() {
    let ns = Ns::new("pods");
    ns.pod("good", "app: demo", &[]);
    static_pod(&ns, "pending", "app: demo", "Pending", false, false);
    static_pod(&ns, "unready", "app: demo", "Running", false, false);
    static_pod(&ns, "leaving", "app: demo", "Running", true, true);
    static_pod(&ns, "other-app", "app: other", "Running", true, false);
    kubectl(&["-n", &ns.name, "delete", "pod", "leaving", "--wait=false"]);
    ns.wait_ready("good");
    let out = ns
        .kmigrate()
        .args(["pods", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&out);
    let reason = |n: &str| {
        r.pods
            .iter()
            .find(|p| p.name == n)
            .and_then(|p| p.reason.clone())
            .unwrap_or_default()
    };
    assert_eq!(r.pod.as_deref(), Some("good"));
    assert_eq!(
        r.pods.len(),
        4,
        "the selector is applied by the server: {:?}",
        r.pods
    );
    assert!(r.pods[0].chosen && r.pods[0].name == "good");
    assert_eq!(reason("pending"), "not running (phase Pending)");
    assert_eq!(reason("unready"), "not ready");
    assert_eq!(reason("leaving"), "terminating");
    let human = ns
        .kmigrate()
        .args(["pods", "-l", "app in (demo)"])
        .status(0);
    assert!(
        stdout(&human).lines().any(|l| l.starts_with("* good")),
        "{}",
        stdout(&human)
    );
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "pod",
        "leaving",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
}

#[test]
fn newest_replicaset_wins_during_a_rollout() {
    let ns = Ns::new("rollout");
    let deployment = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  replicas: 1\n  minReadySeconds: 3600\n  progressDeadlineSeconds: 7200\n\
\u{20}\u{20}strategy:\n    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}\n  selector:\n    matchLabels: {{app: demo}}\n\
\u{20}\u{20}template:\n    metadata:\n      labels: {{app: demo}}\n    spec:\n      containers:\n      - name: app\n        image: {image}\n"
        )
    };
    ns.apply(&deployment("demo:1"));
    let ready_pods = || {
        ns.get_pods(
            "app=demo",
            "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.name}{\"\\n\"}{end}",
        )
        .lines()
        .count()
    };
    wait_for("first pod running", Duration::from_secs(60), || {
        ready_pods() == 1
    });
    ns.apply(&deployment("demo:2"));
    wait_for("both ReplicaSets running", Duration::from_secs(60), || {
        ready_pods() == 2
    });
    let new_rs = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "rs",
        "-l",
        "app=demo",
        "-o",
        "jsonpath={range .items[?(@.metadata.annotations.deployment\\.kubernetes\\.io/revision==\"2\")]}{.metadata.name}{end}",
    ]);
    assert!(!new_rs.is_empty());
    wait_for("both pods ready", Duration::from_secs(60), || {
        let r = report(
            &ns.kmigrate()
                .args(["pods", "-l", "app=demo", "-o", "json"])
                .status(0),
        );
        r.pods.iter().all(|p| p.ready)
    });
    let r = report(
        &ns.kmigrate()
            .args(["pods", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let chosen = r.pods.iter().find(|p| p.chosen).expect("a chosen pod");
    assert_eq!(chosen.replicaset.as_deref(), Some(new_rs.as_str()));
    assert_eq!(chosen.revision, Some(2));
    let old = r.pods.iter().find(|p| !p.chosen).expect("the old pod");
    assert_eq!(
        old.reason.as_deref(),
        Some("older ReplicaSet (revision 1; newest is 2)")
    );
}

#[test]
fn container_from_annotation_or_flag() {
    let ns = Ns::new("containers");
    let pod = |name: &str, annotation: &str| {
        ns.apply(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\n  annotations: {{{annotation}}}\nspec:\n  nodeName: {NODE}\n\
\u{20}\u{20}containers:\n  - name: sidecar\n    image: proxy:1\n  - name: app\n    image: demo:1\n"
        ));
        let mut envs = String::new();
        for c in ["sidecar", "app"] {
            envs.push_str(&format!("  - containers: [{c}]\n    local:\n      envs:\n      - name: WHICH\n        value: {c}\n"));
        }
        ns.apply(&format!("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Exec\nmetadata:\n  name: {name}\nspec:\n  execs:\n{envs}"));
        ns.wait_ready(name);
    };
    pod("annotated", "kubectl.kubernetes.io/default-container: app");
    pod("plain", "");
    let which = ["exec", "--", "sh", "-c", "echo container=$WHICH"];
    ns.kmigrate()
        .args(["-l", "app=annotated"])
        .args(which)
        .expect_stdout("container=app")
        .status(0);
    ns.kmigrate()
        .args(["-l", "app=plain"])
        .args(which)
        .expect_stdout("container=sidecar")
        .expect_stderr("Defaulted container \"sidecar\" out of: sidecar, app")
        .status(0);
    ns.kmigrate()
        .args(["-l", "app=plain", "-c", "app"])
        .args(which)
        .expect_stdout("container=app")
        .status(0);
    ns.kmigrate()
        .args(["-l", "app=plain", "-c", "web"])
        .args(which)
        .expect_stderr("no container \"web\"")
        .status(69);
}
#[test]
fn no_matching_pod_names_the_selector() {
    let ns = Ns::new("nopod");
    let out = ns
        .kmigrate()
        .args(["exec", "-l", "app=ghost", "-o", "json", "--", "true"])
        .expect_stderr("selector \"app=ghost\"")
        .expect_stderr(&format!("namespace \"{}\"", ns.name))
        .status(69);
    assert_eq!(report(&out).exit_code, 69);
}

/// Two Deployments share `app=shop` (web and worker): kmigrate names both with their pods
/// instead of choosing one silently, and a protected namespace refuses to guess.
#[test]
fn a_selector_over_two_deployments_names_them_and_protected_does_not_guess() {
    let ns = Ns::new("workloads");
    for name in ["web", "worker"] {
        ns.apply(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 1\n\
\u{20}\u{20}selector:\n    matchLabels: {{app: shop, component: {name}}}\n\
\u{20}\u{20}template:\n    metadata:\n      labels: {{app: shop, component: {name}}}\n    spec:\n      containers:\n      - name: app\n        image: demo:1\n"
        ));
    }
    wait_for("both pods ready", Duration::from_secs(60), || {
        let r = report(
            &ns.kmigrate()
                .args(["pods", "-l", "app=shop", "-o", "json"])
                .status_any(),
        );
        r.pods.len() == 2 && r.pods.iter().all(|p| p.ready)
    });
    ns.kmigrate()
        .args(["pods", "-l", "app=shop"])
        .expect_stderr("selector \"app=shop\" matches pods of several workloads: Deployment ")
        .expect_stderr("Deployment web (pod web-")
        .expect_stderr("Deployment worker (pod worker-")
        .status(0);
    kubectl(&["label", "namespace", &ns.name, "kmigrate.io/protected=true"]);
    ns.kmigrate()
        .args(["exec", "-l", "app=shop", "--yes", "--", "true"])
        .expect_stderr("so kmigrate does not guess")
        .status(2);
    ns.kmigrate()
        .args(["pods", "-l", "app=shop,component=web"])
        .reject_stderr("several workloads")
        .status(0);
}
