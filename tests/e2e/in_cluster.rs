//! kmigrate inside the cluster, as a CI runner or a GitOps hook runs it: its own image
//! (`scripts/cluster kmigrate-image`), a Job on the real node under a ServiceAccount bound
//! to exactly the Role of `rbac/kmigrate.yaml`, in-cluster config (no kubeconfig: the
//! pod's token, CA and KUBERNETES_SERVICE_HOST), migrating the demo app of its namespace.

use std::process::Command;
use std::time::Duration;

use crate::audit::events;
use crate::harness::{Ns, V1, V2, V3, kubectl_out};
use crate::real_node::{RELEASE, node, real_pod};
use crate::support::{repo, wait_for};

/// The ServiceAccount the Job runs as.
const SA: &str = "migrator";

/// kmigrate's image, built from the binary under test and pushed to the node's registry.
fn kmigrate_image() -> String {
    let dir = crate::harness::local().state.clone();
    let out = Command::new(repo().join("scripts/cluster"))
        .args(["kmigrate-image", env!("CARGO_BIN_EXE_kmigrate")])
        .env("KMIGRATE_E2E_DIR", dir)
        .output()
        .expect("scripts/cluster kmigrate-image");
    assert!(
        out.status.success(),
        "scripts/cluster kmigrate-image: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `rbac/kmigrate.yaml` as shipped, with only its RoleBinding's subject changed: the
/// ServiceAccount SA of the namespace.
fn shipped_role_for_the_service_account(ns: &Ns) -> String {
    let shipped = std::fs::read_to_string(repo().join("rbac/kmigrate.yaml")).unwrap();
    let subject = "  - kind: User\n    name: REPLACE-WITH-USER        # or kind: Group, or a ServiceAccount for CI\n    apiGroup: rbac.authorization.k8s.io\n";
    assert!(shipped.contains(subject), "the shipped subject changed");
    shipped.replace(
        subject,
        &format!(
            "  - kind: ServiceAccount\n    name: {SA}\n    namespace: {}\n",
            ns.name
        ),
    )
}

#[test]
fn kmigrate_in_a_job_with_the_shipped_role_migrates_and_names_its_service_account() {
    let ns = Ns::new("real-incluster");
    let n = node();
    real_pod(&ns, &[], "");
    let image = kmigrate_image();
    ns.apply(&format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {SA}}}\n---\n{}",
        shipped_role_for_the_service_account(&ns)
    ));
    // No -n: in-cluster config's namespace is the ServiceAccount's. No kubeconfig anywhere.
    ns.apply(&format!(
        r"apiVersion: batch/v1
kind: Job
metadata: {{name: kmigrate}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: {SA}
      automountServiceAccountToken: true
      nodeSelector: {{kubernetes.io/hostname: {node}}}
      tolerations: [{{key: {taint}, operator: Exists}}]
      containers:
      - name: kmigrate
        image: {image}
        args: [migrate, -l, app=demo, --release, {RELEASE}, --yes, -o, json]
",
        node = n.real_node_name,
        taint = n.real_node_taint,
    ));
    let state = || {
        kubectl_out(&[
            "-n",
            &ns.name,
            "get",
            "job",
            "kmigrate",
            "-o",
            "jsonpath={.status.succeeded}/{.status.failed}",
        ])
    };
    let logs = || kubectl_out(&["-n", &ns.name, "logs", "job/kmigrate"]);
    wait_for("the Job to end", Duration::from_secs(120), || {
        state() != "/"
    });
    assert_eq!(state(), "1/", "the Job failed: {}", logs());
    let out = logs();
    // The log holds stderr too: the report is the last thing printed, from `{` to `}`.
    let report: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "{")
        .take_while(|l| *l != "}")
        .chain(["}"])
        .collect();
    let doc: serde_json::Value = serde_json::from_str(&report.join("\n"))
        .unwrap_or_else(|e| panic!("no JSON report in the Job's log ({e}): {out}"));
    assert_eq!(
        (&doc["outcome"], &doc["pod"], &doc["exit_code"]),
        (&"success".into(), &"demo-0".into(), &0.into()),
        "{out}"
    );
    assert_eq!(ns.applied(), [V1, V2, V3]);
    let user = format!("system:serviceaccount:{}:{SA}", ns.name);
    let evs = events(&ns);
    assert!(
        evs.iter().any(|e| {
            let ann = &e["metadata"]["annotations"];
            ann["kmigrate.io/command"] == "migrate"
                && ann["kmigrate.io/user"] == user.as_str()
                && ann["kmigrate.io/exit-code"] == "0"
        }),
        "an audit Event of the migrate by {user}: {evs:#?}"
    );
}
