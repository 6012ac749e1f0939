//! On the real node (`scripts/cluster up --real-node`): kubelet, containerd, runc and CNI
//! run the app image (Debian's Erlang/Elixir and the fixture release) pulled from the local
//! registry, against the real PostgreSQL on the host, reached through the node's bridge.
//! What KWOK can only pretend: a pod deleted mid-exec, a process killed by a signal or by
//! the OOM killer, an image pushed after its Job was created, a failing init container, a
//! second container that never exits.
//!
//! Every test here fails, naming the command that starts it, when the real node is not up.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use crate::ecto::Gate;
use crate::harness::{Ns, V1, V2, V3, kubectl, kubectl_out, local};
use crate::support::{Run, kmigrate, repo, report, wait_for};

/// The release's path inside the app image.
pub const RELEASE: &str = "/app/bin/demo";

/// The real node's members of `cluster.json`.
#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct NodeState {
    pub real_node_name: String,
    pub real_node_taint: String,
    pub real_node_ip: String,
    pub registry: String,
    pub app_image: String,
    pub app_layout: PathBuf,
    pub imgpush: PathBuf,
}

pub fn node() -> &'static NodeState {
    static NODE: OnceLock<NodeState> = OnceLock::new();
    NODE.get_or_init(|| {
        local();
        let dir = std::env::var_os("KMIGRATE_E2E_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".e2e"));
        let text = std::fs::read_to_string(dir.join("cluster.json")).unwrap_or_default();
        let state: NodeState = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "the real node is not running ({e} in {}): start the cluster with `scripts/cluster up --real-node`",
                dir.join("cluster.json").display()
            )
        });
        let ready = kubectl_out(&[
            "get",
            "node",
            &state.real_node_name,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ]);
        assert_eq!(
            ready, "True",
            "node {} is not Ready: restart with `scripts/cluster down` and `scripts/cluster up --real-node`",
            state.real_node_name
        );
        state
    })
}

/// Pod-spec lines (indented for a pod's `spec:`) that put a pod on the real node.
pub fn placement(indent: &str) -> String {
    let n = node();
    format!(
        "{indent}nodeSelector: {{kubernetes.io/hostname: {}}}\n{indent}tolerations: [{{key: {}, operator: Exists}}]\n{indent}automountServiceAccountToken: false\n",
        n.real_node_name, n.real_node_taint
    )
}

/// The container's environment: the namespace's database, on the host through the bridge.
pub fn env_yaml(ns: &Ns, extra: &[(&str, &str)], indent: &str) -> String {
    let n = node();
    let mut envs: Vec<(String, String)> = ns
        .db_env()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "PGHOST" => (k, n.real_node_ip.clone()),
            _ => (k, v),
        })
        .collect();
    envs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    envs.iter()
        .map(|(k, v)| format!("{indent}- {{name: {k}, value: \"{v}\"}}\n"))
        .collect()
}

/// A pod `demo-0` (label `app: demo`) on the real node running the app image's
/// `bin/demo start`, Ready once its VM is up.
pub fn real_pod(ns: &Ns, extra_env: &[(&str, &str)], container_extra: &str) {
    ns.apply(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: demo-0\n  labels: {{app: demo}}\nspec:\n{}  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {}\n    env:\n{}{container_extra}",
        placement("  "),
        node().app_image,
        env_yaml(ns, extra_env, "    "),
    ));
    ns.wait_ready_within("demo-0", Duration::from_secs(120));
}

/// kmigrate as admin in the namespace, with the release's path inside the image.
pub fn km(ns: &Ns) -> Run {
    kmigrate()
        .env("KUBECONFIG", &local().admin)
        .args(["-n", &ns.name, "--release", RELEASE])
}

/// `exec -o json -- sh -c script` in the pod labelled app=demo.
fn exec_sh(ns: &Ns, script: &str) -> Run {
    km(ns).args([
        "exec", "-l", "app=demo", "-o", "json", "--", "sh", "-c", script,
    ])
}

/// `migrate` in a Job of `image`, from the Deployment demo, reported as JSON.
pub fn job_migrate(ns: &Ns, image: &str) -> Run {
    km(ns).args([
        "migrate",
        "--deployment",
        "demo",
        "--image",
        image,
        "--timeout",
        "120s",
        "--yes",
        "-o",
        "json",
    ])
}

#[test]
fn migrate_status_rollback_in_a_real_container() {
    let ns = Ns::new("real-migrate");
    real_pod(&ns, &[], "");
    let status = |code| {
        report(
            &km(&ns)
                .args(["status", "-l", "app=demo", "-o", "json", "--exit-code"])
                .status(code),
        )
    };
    let before = status(10);
    assert_eq!(before.outcome, "pending");
    let r = report(
        &km(&ns)
            .args(["migrate", "-l", "app=demo", "-o", "json"])
            .expect_stderr("== Migrated 20240103120000")
            .status(0),
    );
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code, r.pod.as_deref()),
        ("success", Some(0), Some("demo-0"))
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V1, V2, V3]
    );
    assert_eq!(ns.applied(), [V1, V2, V3]);
    assert_eq!(status(0).outcome, "success");
    let back = report(
        &km(&ns)
            .args([
                "rollback", "-l", "app=demo", "--step", "2", "--yes", "-o", "json",
            ])
            .status(0),
    );
    assert_eq!(
        back.migrations
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        [V3, V2]
    );
    assert_eq!(ns.applied(), [V1]);
}

/// The remote process killed with SIGKILL: the exec ends with 137 and kmigrate passes it on.
#[test]
fn kill_9_of_the_remote_process_exits_137() {
    let ns = Ns::new("real-kill");
    real_pod(&ns, &[], "");
    let mut run = exec_sh(
        &ns,
        "echo $$ > /tmp/victim; echo started >&2; exec sleep 600",
    )
    .spawn();
    run.wait_line("started");
    kubectl(&[
        "-n",
        &ns.name,
        "exec",
        "demo-0",
        "--",
        "sh",
        "-c",
        "kill -9 $(cat /tmp/victim)",
    ]);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 137, "{:#?}", run.seen);
    let r = run.stdout_json();
    assert_eq!(
        (&r["outcome"], &r["exit_code"], &r["remote_exit_code"]),
        (&"failed".into(), &137.into(), &137.into()),
        "{r}"
    );
}

/// The pod deleted while a migration runs: the kubelet stops the container, and the
/// exec'd VM dies with it by SIGKILL, so the exec reports 137, which kmigrate names. The
/// migration waits at the gate (no timing: the kubelet's grace period and its sync can take
/// longer than any sleep under load), so its transaction never commits: only the migration
/// before it stays.
#[test]
fn pod_deleted_during_a_running_migration_exits_137() {
    let ns = Ns::new("real-delete");
    real_pod(
        &ns,
        &[("DEMO_MIGRATIONS_DIR", "/app/migration_sets/gated")],
        "",
    );
    let gate = Gate::close(&ns.db);
    let mut run = km(&ns).args(["migrate", "-l", "app=demo", "--yes"]).spawn();
    gate.wait_until_reached(Duration::from_secs(60));
    kubectl(&[
        "-n",
        &ns.name,
        "delete",
        "pod",
        "demo-0",
        "--grace-period=1",
        "--wait=false",
    ]);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 137, "{:#?}", run.seen);
    assert!(
        run.seen.iter().any(|l| l.contains(
            "the remote command failed with exit code 137, killed by SIGKILL: out of memory, `kill -9`, or the pod was deleted or evicted (pod demo-0); 1 migration(s) applied before that"
        )),
        "{:#?}",
        run.seen
    );
    // The server sees the killed client once the gate opens and it answers the waiting
    // statement: the session ends and its transaction rolls back.
    drop(gate);
    wait_for(
        "the killed session's transaction to end",
        Duration::from_secs(30),
        || !ns.tables().contains(&"gated_a".to_owned()),
    );
    assert_eq!(ns.applied(), [V1]);
}

/// A container over its memory limit: the OOM killer ends the remote process, 137.
#[test]
fn oom_killed_remote_process_exits_137() {
    let ns = Ns::new("real-oom");
    real_pod(
        &ns,
        &[],
        "    resources: {limits: {memory: 256Mi}, requests: {memory: 256Mi}}\n",
    );
    let out = exec_sh(&ns, "echo filling; head -c 1G /dev/zero | tail > /dev/null")
        .expect_stderr("filling")
        .status(137);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.exit_code, r.remote_exit_code),
        ("failed", 137, Some(137))
    );
    // It was the OOM killer (the container's memory cgroup counts its kills), and only
    // the exec'd process died: the container goes on.
    let oom = kubectl_out(&[
        "-n",
        &ns.name,
        "exec",
        "demo-0",
        "--",
        "cat",
        "/sys/fs/cgroup/memory/memory.oom_control",
    ]);
    assert!(oom.contains("oom_kill 1"), "{oom}");
    ns.wait_ready_within("demo-0", Duration::from_secs(120));
}

/// Job mode with an image tag that does not exist yet: the pod is in image-pull back-off,
/// then the tag is pushed and the Job runs; kmigrate follows it to its exit code.
#[test]
fn job_with_an_image_pushed_after_the_job_was_created() {
    let ns = Ns::new("real-late");
    let n = node();
    deployment(&ns, &n.app_image, "");
    let late = format!("{}/kmigrate/app:late-{}", n.registry, ns.name);
    let mut run = km(&ns)
        .args([
            "migrate",
            "--deployment",
            "demo",
            "--image",
            &late,
            "--timeout",
            "170s",
            "--start-grace",
            "150s",
            "--yes",
            "-o",
            "json",
        ])
        .spawn();
    run.wait_line("Created Job");
    wait_for("image pull back-off", Duration::from_secs(60), || {
        let reasons = ns.get_pods(
            "kmigrate.io/run",
            "jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}",
        );
        reasons.contains("Err") || reasons.contains("BackOff")
    });
    let pushed = Command::new(&n.imgpush)
        .arg("push")
        .arg(&n.app_layout)
        .arg(&late)
        .status()
        .unwrap();
    assert!(pushed.success());
    let (code, _) = run.wait_exit(Duration::from_secs(200));
    assert_eq!(code, 0, "{:#?}", run.seen);
    let r = run.stdout_json();
    assert_eq!(r["outcome"], "success", "{r}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // The real pull failure was shown while kmigrate waited, and not taken for the end.
    assert!(
        run.seen
            .iter()
            .any(|l| l.starts_with("The Job's pod is waiting: ErrImagePull")
                && l.contains(&late)
                && l.contains("not found")),
        "{:#?}",
        run.seen
    );
    assert!(
        !run.seen.iter().any(|l| l.contains("never")),
        "reported as never started: {:#?}",
        run.seen
    );
    assert!(
        run.seen
            .iter()
            .any(|l| l.contains("== Migrated 20240103120000"))
    );
}

/// A Job pod whose init container fails: 71, with the init container's state.
#[test]
fn job_with_a_failing_init_container_exits_71() {
    let ns = Ns::new("real-init");
    let n = node();
    deployment(
        &ns,
        &n.app_image,
        &format!(
            "      initContainers:\n      - name: wait-db\n        image: {}\n        command: [sh, -c, 'echo no database >&2; exit 3']\n",
            n.app_image
        ),
    );
    let out = job_migrate(&ns, &n.app_image).status(71);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.exit_code, r.remote_exit_code),
        ("error", 71, None)
    );
    let error = r.error.unwrap_or_default();
    assert!(
        error.contains("never ran")
            && error.contains("init container wait-db exited with code 3 (Error)"),
        "{error}"
    );
    assert_eq!(ns.applied(), Vec::<i64>::new());
}

/// A Job pod with a second container that never exits, injected when the pod is created
/// (as a mesh's webhook does; here a MutatingAdmissionPolicy) and listed first: the exit
/// code is the app container's, although the pod (and the Job) stay active.
#[test]
fn job_with_an_injected_sidecar_that_never_exits_reports_the_app_exit_code() {
    let ns = Ns::new("real-sidecar");
    let n = node();
    let _policy = inject_sidecar(&ns, &n.app_image);
    deployment(&ns, &n.app_image, "");
    let out = job_migrate(&ns, &n.app_image).status(0);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.exit_code, r.remote_exit_code),
        ("success", 0, Some(0))
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V1, V2, V3]
    );
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // The sidecar, first in the pod, keeps it (and so the Job) running.
    let job = r.job.expect("the run name");
    let states = ns.get_pods(&format!("kmigrate.io/run={job}"), "jsonpath={.items[0].spec.containers[0].name} {range .items[0].status.containerStatuses[*]}{.name}={.state.terminated.exitCode}{.state.running.startedAt};{end}");
    assert!(states.starts_with("aaa-sidecar "), "{states}");
    assert!(
        states.contains(";app=0;") || states.contains(" app=0;"),
        "{states}"
    );
    assert!(!states.contains("aaa-sidecar=;"), "{states}");
}

/// A cluster-wide policy (deleted on drop) that adds a never-ending container in front of
/// the containers of every Job pod kmigrate creates in `ns`.
fn inject_sidecar(ns: &Ns, image: &str) -> Deleted {
    let name = format!("sidecar-{}", ns.name);
    ns.apply(&format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  matchConstraints:
    resourceRules:
    - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}
  matchConditions:
  - name: kmigrate-run
    expression: "has(object.metadata.labels) && 'kmigrate.io/run' in object.metadata.labels"
  failurePolicy: Fail
  reinvocationPolicy: Never
  mutations:
  - patchType: JSONPatch
    jsonPatch:
      expression: >-
        [JSONPatch{{op: "add", path: "/spec/containers/0", value: Object.spec.containers{{name: "aaa-sidecar", image: "{image}", command: ["sleep", "infinity"]}}}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  matchResources:
    namespaceSelector:
      matchLabels: {{kubernetes.io/metadata.name: {ns}}}
"#,
        ns = ns.name
    ));
    let deleted = Deleted(vec![
        format!("mutatingadmissionpolicybinding/{name}"),
        format!("mutatingadmissionpolicy/{name}"),
    ]);
    // The API server picks policies up asynchronously: wait until a pod would get it.
    let probe = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"probe\",\"labels\":{{\"kmigrate.io/run\":\"probe\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"app\",\"image\":\"{image}\"}}]}}}}"
    );
    let file = crate::support::scratch_dir("policy").join("probe.json");
    std::fs::write(&file, probe).unwrap();
    wait_for("the sidecar policy", Duration::from_secs(30), || {
        kubectl_out(&[
            "-n",
            &ns.name,
            "create",
            "--dry-run=server",
            "-f",
            &file.display().to_string(),
            "-o",
            "jsonpath={.spec.containers[0].name}",
        ]) == "aaa-sidecar"
    });
    deleted
}

/// Cluster-scoped objects a test made, deleted when it ends.
struct Deleted(Vec<String>);

impl Drop for Deleted {
    fn drop(&mut self) {
        for what in &self.0 {
            let _ = Command::new(&local().kubectl)
                .arg("--kubeconfig")
                .arg(&local().admin)
                .args(["delete", what, "--ignore-not-found"])
                .output();
        }
    }
}

/// A Deployment on the real node whose template Job mode copies, with no pods; `init` is
/// its `initContainers:` list, if any.
fn deployment(ns: &Ns, image: &str, init: &str) {
    deployment_of(ns, image, init, 0, "");
}

/// A Deployment on the real node with `replicas` pods, rolled out one new pod at a time
/// while every old one keeps serving (`maxSurge: 1, maxUnavailable: 0`); `app_extra` are
/// more lines of its app container (indented for it).
pub fn deployment_of(ns: &Ns, image: &str, init: &str, replicas: u32, app_extra: &str) {
    let yaml = format!(
        r"apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: {replicas}
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  selector:
    matchLabels: {{app: demo}}
  template:
    metadata:
      labels: {{app: demo}}
    spec:
{placement}      terminationGracePeriodSeconds: 2
{init}      containers:
      - name: app
        image: {image}
        env:
{env}{app_extra}",
        placement = placement("      "),
        env = env_yaml(ns, &[], "        "),
    );
    ns.apply(&yaml);
}

/// `kubectl rollout status` of the Deployment demo, up to 150 s.
pub fn rollout(ns: &Ns) {
    kubectl(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/demo",
        "--timeout=150s",
    ]);
}

/// `kubectl patch deployment demo` with `patch` (what `kmigrate gate --patch` printed).
pub fn patch_demo(ns: &Ns, patch: &[u8]) {
    let file = crate::support::scratch_dir("gate").join("gate-patch.yaml");
    std::fs::write(&file, patch).unwrap();
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "deployment",
        "demo",
        "--patch-file",
        &file.display().to_string(),
    ]);
}

/// `root/<path>` tarred, as a layer to push, owned by root.
fn layer_of(root: &std::path::Path, path: &str) -> PathBuf {
    let layer = root.join("layer.tar");
    let tarred = Command::new("tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(root)
        .arg("-cf")
        .arg(&layer)
        .arg(path)
        .status()
        .unwrap();
    assert!(tarred.success());
    layer
}

/// The app image with `migration_sets/next_release` added to `priv/repo/migrations`, pushed
/// as a new tag: the next release of the app, as a rollout brings it.
pub fn next_release_image(ns: &Ns) -> String {
    release_image(ns, "next_release", "next")
}

/// The app image with `migration_sets/<set>` added to `priv/repo/migrations`, pushed as the
/// tag `<tag>-<namespace>`.
pub fn release_image(ns: &Ns, set: &str, tag: &str) -> String {
    release_image_on(ns, &node().app_image, set, tag)
}

/// `base` with `migration_sets/<set>` added to `priv/repo/migrations`, pushed as the tag
/// `<tag>-<namespace>`.
fn release_image_on(ns: &Ns, base: &str, set: &str, tag: &str) -> String {
    let set = PathBuf::from(crate::harness::migration_set(set));
    let files = std::fs::read_dir(&set)
        .unwrap()
        .map(|file| {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            (
                format!("priv/repo/migrations/{name}"),
                std::fs::read(&file).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    extended_image(ns, base, tag, &files)
}

/// `base` with `files` (paths under the release, `/app`) added in one layer, pushed as the
/// tag `<tag>-<namespace>`.
fn extended_image(ns: &Ns, base: &str, tag: &str, files: &[(String, Vec<u8>)]) -> String {
    let n = node();
    let root = crate::support::scratch_dir(tag);
    for (path, bytes) in files {
        let at = root.join("app").join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, bytes).unwrap();
    }
    let layer = layer_of(&root, "app");
    let image = format!("{}/kmigrate/app:{tag}-{}", n.registry, ns.name);
    let pushed = Command::new(&n.imgpush)
        .args(["extend", base, &image])
        .arg(&layer)
        .status()
        .unwrap();
    assert!(pushed.success(), "imgpush extend");
    image
}

/// A protected `migrate --image` (Job mode, the path for new releases) is held to the plan
/// and the destructive-change policy as a migrate in a pod is: the plan is read first in a
/// read-only Job of the new image; a destructive migration is refused (73) without
/// `--allow-destructive` and nothing runs; with it, the migrate Job runs held to the plan.
#[test]
fn a_protected_job_mode_migrate_reads_its_plan_first_and_runs_a_destructive_one_only_when_allowed()
{
    const DROP_LEGACY: i64 = 20240112120000;
    let ns = Ns::new("prod-real-drop");
    let n = node();
    deployment(&ns, &n.app_image, "");
    let image = release_image(&ns, "destructive", "drop");
    let t0 = std::time::Instant::now();
    let out = job_migrate(&ns, &image)
        .expect_stderr(
            "20240112120000 drop_legacy (Demo.Repo): drops a table (line 7: DROP TABLE legacy)",
        )
        .expect_stderr("re-run with --allow-destructive 20240112120000")
        .status(73);
    let refused = t0.elapsed();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.protected),
        ("refused", true),
        "{doc}"
    );
    assert_eq!(r.job, None, "no migrate Job was created: {doc}");
    assert!(r.plan.is_some_and(|p| p.migrations().count() == 7), "{doc}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let plan_job = doc["plan_job"]
        .as_str()
        .expect("the plan Job's name")
        .to_owned();
    let jobs = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "jobs",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.kmigrate\\.io/command};{end}",
    ]);
    assert_eq!(jobs, format!("{plan_job}=plan;"), "only the plan Job ran");

    let t1 = std::time::Instant::now();
    let out = job_migrate(&ns, &image)
        .args(["--allow-destructive", &DROP_LEGACY.to_string()])
        .expect_stderr("20240112120000 drop_legacy (Demo.Repo)  DESTRUCTIVE: drops a table")
        .status(0);
    let allowed = t1.elapsed();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = report(&out);
    assert_eq!(r.outcome, "success", "{doc}");
    assert_eq!(r.destructive_allowed, [DROP_LEGACY]);
    assert_eq!(
        ns.applied(),
        [
            V1,
            V2,
            V3,
            20240111120000,
            DROP_LEGACY,
            20240113120000,
            20240114120000
        ]
    );
    assert!(!ns.tables().contains(&"legacy".to_owned()));
    // The migrate Job ran the snippet held to the hash of the plan its plan Job read.
    let hash = r.plan.expect("the plan").hash;
    let held = format!("planned_hash = \"{hash}\"");
    assert!(
        r.argv.unwrap_or_default().iter().any(|a| a.contains(&held)),
        "{doc}"
    );
    let (job, plan_job) = (r.job.expect("the migrate Job"), doc["plan_job"].as_str());
    assert!(plan_job.is_some_and(|p| p != job), "{doc}");
    eprintln!(
        "protected Job-mode migrate: refused after {:.1} s, allowed and applied in {:.1} s",
        refused.as_secs_f64(),
        allowed.as_secs_f64()
    );
}

/// A Job's log stream cut while the migration runs is read again from where it stopped:
/// the outcome comes from the whole log, each line once, never from the part before the
/// cut (security N10). A refusal after the Job has ended does not say the Job keeps
/// running.
#[test]
fn a_job_log_stream_cut_mid_migration_is_read_again_from_where_it_stopped() {
    const SLOW: i64 = 20240104120000;
    let ns = Ns::new("real-logcut");
    deployment(&ns, &node().app_image, "");
    let image = release_image(&ns, "slow", "slow");
    let proxy = crate::faultproxy::FaultProxy::start(crate::faultproxy::apiserver_addr());
    let mut run = job_migrate(&ns, &image)
        .env("KUBECONFIG", proxy.kubeconfig())
        .spawn();
    run.wait_line("SELECT pg_sleep(2)");
    proxy.cut_all();
    let (code, _) = run.wait_exit(Duration::from_secs(90));
    let text = run.seen.join("\n");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("The Job's log stream broke (")
            && text.contains("reading it again from where it stopped (attempt 1 of 5)"),
        "{text}"
    );
    assert_eq!(text.matches("CREATE TABLE slow_a").count(), 1, "{text}");
    assert_eq!(text.matches("CREATE TABLE slow_b").count(), 1, "{text}");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout.join("\n")).unwrap();
    let ran: Vec<i64> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["version"].as_i64())
        .collect();
    assert_eq!(ran, [V1, V2, V3, SLOW], "{doc}");
    assert_eq!(ns.applied(), [V1, V2, V3, SLOW]);

    // The migrate Job refuses a plan that is not the current one and ends: it is not
    // running any more, and nothing says it is.
    job_migrate(&ns, &image)
        .args(["--plan", &"0".repeat(64)])
        .expect_stderr("nothing was run")
        .reject_stderr("keeps running")
        .status(82);
}

/// A Job-mode pod serves no traffic while it runs: the Service that selects the app (by the
/// Deployment's selector) has no endpoint for it, and one that selects another label of the
/// template lists it only as not ready; the pod is never Ready (its readiness gate), yet
/// kmigrate follows it to the end.
#[test]
fn a_job_mode_pod_gets_no_service_traffic_while_it_runs() {
    let ns = Ns::new("real-no-traffic");
    let n = node();
    ns.apply(&format!(
        r"apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: 0
  selector:
    matchLabels: {{app: demo}}
  template:
    metadata:
      labels: {{app: demo, tier: web}}
    spec:
{placement}      terminationGracePeriodSeconds: 2
      containers:
      - name: app
        image: {image}
        env:
{env}",
        placement = placement("      "),
        image = n.app_image,
        env = env_yaml(
            &ns,
            &[("DEMO_MIGRATIONS_DIR", "/app/migration_sets/gated")],
            "        "
        ),
    ));
    for (name, selector) in [("demo", "app: demo"), ("web", "tier: web")] {
        ns.apply(&format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{{selector}}}\n  ports: [{{port: 80, targetPort: 4000}}]\n"
        ));
    }
    let gate = Gate::close(&ns.db);
    let mut run = km(&ns)
        .args([
            "migrate",
            "--deployment",
            "demo",
            "--image",
            &n.app_image,
            "--timeout",
            "300s",
            "--yes",
        ])
        .spawn();
    gate.wait_until_reached(Duration::from_secs(120));
    let pod: serde_json::Value =
        serde_json::from_str(&ns.get_pods("kmigrate.io/run", "json")).expect("pods as JSON");
    let pod = &pod["items"][0];
    let name = pod["metadata"]["name"]
        .as_str()
        .expect("the Job's pod")
        .to_owned();
    assert_eq!(
        pod["metadata"]["labels"]["app"],
        serde_json::Value::Null,
        "{pod:#}"
    );
    assert_eq!(pod["metadata"]["labels"]["tier"], "web", "{pod:#}");
    // Running, its migration waiting at the gate: the endpoint controllers have had time.
    std::thread::sleep(Duration::from_secs(5));
    let ready = |p: &serde_json::Value| {
        p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    };
    let now: serde_json::Value =
        serde_json::from_str(&ns.get_pods("kmigrate.io/run", "json")).expect("pods as JSON");
    assert_eq!(now["items"][0]["status"]["phase"], "Running", "{now:#}");
    assert!(!ready(&now["items"][0]), "{now:#}");
    // The endpoints of the pod in each Service's EndpointSlices, with their readiness.
    let endpoints = |service: &str| -> Vec<bool> {
        let slices: serde_json::Value = serde_json::from_str(&kubectl_out(&[
            "-n",
            &ns.name,
            "get",
            "endpointslices",
            "-l",
            &format!("kubernetes.io/service-name={service}"),
            "-o",
            "json",
        ]))
        .expect("EndpointSlices as JSON");
        slices["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
            .filter(|e| e["targetRef"]["name"] == name.as_str())
            .map(|e| e["conditions"]["ready"] == true)
            .collect()
    };
    assert_eq!(
        endpoints("demo"),
        Vec::<bool>::new(),
        "selected by the app's Service"
    );
    assert_eq!(
        endpoints("web"),
        [false],
        "the Service on tier=web lists the pod, as not ready"
    );
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(120));
    assert_eq!(code, 0, "{:#?}", run.seen);
    assert_eq!(ns.applied(), [V1, 20240107120000]);
}

/// In Job mode the plan is read in a Job of the new image, and the code serving traffic now
/// is asked for its Ecto schemas in a pod of the Deployment, through the same exec: a column
/// removal that code still maps is named, and in a protected namespace refused even when
/// allowed as destructive; once the code without the field is rolled out, the same removal
/// runs (#26 items 3, 4).
#[test]
fn a_job_mode_plan_asks_the_running_code_and_refuses_what_breaks_it() {
    const REMOVE_LEGACY: i64 = 20240116120000;
    const REMOVE_TITLE: i64 = 20240117120000;
    let ns = Ns::new("prod-real-breaks");
    deployment_of(&ns, &node().app_image, "", 1, "");
    rollout(&ns);
    // posts exists before the plan, created through the running pod.
    km(&ns)
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--yes",
            "--to",
            &V1.to_string(),
        ])
        .status(0);
    let image = release_image(&ns, "breaking", "breaking");
    let out = km(&ns)
        // A plan Job in a protected namespace runs the image with the app's Secrets:
        // confirmed like any Job.
        .args([
            "plan",
            "--deployment",
            "demo",
            "--image",
            &image,
            "--yes",
            "-o",
            "json",
        ])
        .expect_stderr("Asked the code running now for its Ecto schemas, in pod demo-")
        .status(0);
    let plan = report(&out).plan.expect("the plan");
    assert!(
        matches!(
            plan.running_code,
            kmigrate::migration_plan::RunningCode::Asked { schemas } if schemas >= 3
        ),
        "{:?}",
        plan.running_code
    );
    let breaks: Vec<(i64, String)> = plan
        .migrations()
        .flat_map(|(_, m)| m.findings.iter().map(move |f| (m.version, f)))
        .filter(|(_, f)| f.kind == kmigrate::migration_plan::Kind::BreaksRunningCode)
        .map(|(v, f)| (v, f.text.clone()))
        .collect();
    assert_eq!(
        breaks,
        [(
            REMOVE_TITLE,
            "Demo.Post maps posts.title (field :title)".to_owned()
        )]
    );
    let destructive = format!("{REMOVE_LEGACY},{REMOVE_TITLE}");
    job_migrate(&ns, &image)
        .args(["--allow-destructive", &destructive])
        .expect_stderr("Demo.Post maps posts.title (field :title)")
        .expect_stderr(&format!("--allow-breaking {REMOVE_TITLE}"))
        .status(73);
    assert_eq!(ns.applied(), [V1], "nothing ran");

    // The safe recipe: the code without the field first (a rollout of a release whose
    // Demo.Post maps title no more), then the release that removes the column: nothing
    // breaks the code running now, and the removal runs, allowed as destructive only.
    let schemas = std::fs::read_to_string(
        crate::support::repo().join("tests/fixtures/demo_release/lib/demo/schemas.ex"),
    )
    .unwrap();
    let post = schemas.split("defmodule Demo.Comment").next().unwrap();
    let without = post.replace("    field(:title, :string)\n", "");
    assert_ne!(without, post, "Demo.Post maps title in the fixture");
    let code_first = extended_image(
        &ns,
        &node().app_image,
        "without-title",
        &[(
            "lib/demo/schemas.ex".to_owned(),
            schemas.replacen(post, &without, 1).into_bytes(),
        )],
    );
    kubectl(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "deployment/demo",
        &format!("app={code_first}"),
    ]);
    rollout(&ns);
    let next = release_image_on(&ns, &code_first, "breaking", "breaking-next");
    job_migrate(&ns, &next)
        .args(["--allow-destructive", &destructive])
        .expect_stderr("Asked the code running now for its Ecto schemas")
        .reject_stderr("Demo.Post maps posts.title")
        .status(0);
    assert_eq!(
        ns.applied(),
        [V1, V2, V3, 20240115120000, REMOVE_LEGACY, REMOVE_TITLE]
    );
}

/// The app image with `script` as its ENTRYPOINT (`/app/entrypoint.sh`), its CMD kept
/// (`bin/demo start`), pushed as the tag `<tag>-<namespace>`. Built from the layers and the
/// config of the app image's OCI layout (`imgpush extend` keeps a config as it is).
fn image_with_entrypoint(ns: &Ns, script: &str, tag: &str) -> String {
    let n = node();
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        n.app_layout.join("blobs/sha256").join(hex)
    };
    let json = |path: PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    };
    let index = json(n.app_layout.join("index.json"));
    let manifest = json(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    let config = json(blob(manifest["config"]["digest"].as_str().unwrap()))["config"].clone();
    let root = crate::support::scratch_dir(tag);
    let at = root.join("app/entrypoint.sh");
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(&at, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755)).unwrap();
    let layer = layer_of(&root, "app/entrypoint.sh");
    let layout = root.join("layout");
    let mut build = Command::new(&n.imgpush);
    build
        .arg("build")
        .arg(&layout)
        .args(["--entrypoint", r#"["/app/entrypoint.sh"]"#])
        .args(["--cmd", &config["Cmd"].to_string()])
        .args(["--workdir", config["WorkingDir"].as_str().unwrap_or("/")]);
    for env in config["Env"].as_array().into_iter().flatten() {
        build.args(["--env", env.as_str().unwrap()]);
    }
    for l in manifest["layers"].as_array().unwrap() {
        build.arg(blob(l["digest"].as_str().unwrap()));
    }
    assert!(
        build.arg(&layer).status().unwrap().success(),
        "imgpush build"
    );
    let image = format!("{}/kmigrate/app:{tag}-{}", n.registry, ns.name);
    let pushed = Command::new(&n.imgpush)
        .arg("push")
        .arg(&layout)
        .arg(&image)
        .status()
        .unwrap();
    assert!(pushed.success(), "imgpush push");
    let _ = std::fs::remove_dir_all(&layout);
    image
}

/// An image whose ENTRYPOINT exports the database settings and a secret, then `exec "$@"`
/// (an `entrypoint.sh`, as vault-env or doppler do), under a Deployment whose env has none
/// of them. Job mode replaces that ENTRYPOINT by default: the migration cannot reach the
/// database, nothing is applied, and kmigrate points to `--entrypoint keep`. With it, the
/// Job runs under the ENTRYPOINT and migrates; the gate `kmigrate gate --entrypoint keep`
/// prints passes in a real rollout. The entrypoint's values never reach kmigrate's output.
#[test]
fn an_image_entrypoint_that_exports_the_database_settings_is_kept_in_job_mode_and_the_gate() {
    let ns = Ns::new("real-entrypoint");
    let secret = format!("s3cret-{}", ns.name);
    let exports: String = env_yaml(&ns, &[], "")
        .lines()
        .map(|l| {
            let (k, v) = l
                .trim_start_matches("- {name: ")
                .trim_end_matches("\"}")
                .split_once(", value: \"")
                .unwrap();
            format!("export {k}='{v}'\n")
        })
        .collect();
    let script = format!(
        "#!/bin/sh\n# What a secrets wrapper does: the settings come from here, not from the pod spec.\n\
         {exports}export PGPASSWORD='{secret}' DEMO_SECRET_KEY_BASE='{secret}'\nexec \"$@\"\n"
    );
    assert!(script.contains("export PGHOST=") && script.contains("export PGDATABASE="));
    let image = image_with_entrypoint(&ns, &script, "entrypoint");
    ns.apply(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec:\n  replicas: 1\n  \
         selector:\n    matchLabels: {{app: demo}}\n  template:\n    metadata:\n      labels: {{app: demo}}\n    \
         spec:\n{}      terminationGracePeriodSeconds: 2\n      containers:\n      - name: app\n        \
         image: {image}\n        env:\n        - {{name: DEMO_LOG_LEVEL, value: info}}\n",
        placement("      ")
    ));
    rollout(&ns);
    let never_secret = |out: &std::process::Output| {
        for text in [&out.stdout, &out.stderr] {
            assert!(
                !String::from_utf8_lossy(text).contains(&secret),
                "the entrypoint's secret reached kmigrate's output"
            );
        }
    };

    // The default, as before this change: `command` replaces the ENTRYPOINT.
    let out = job_migrate(&ns, &image).status_any();
    never_secret(&out);
    let r = report(&out);
    assert_ne!(r.exit_code, 0, "{r:?}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not connect to its database")
            && stderr.contains("unless --entrypoint keep"),
        "{stderr}"
    );

    let out = job_migrate(&ns, &image)
        .args(["--entrypoint", "keep"])
        .status(0);
    never_secret(&out);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("success", Some(0))
    );
    assert_eq!(ns.applied(), [V1, V2, V3]);

    // The gate, as before this change: its `command` replaces the ENTRYPOINT, and its run
    // fails in the new pod, which never starts; the old pod keeps running.
    let gate_patch = |entrypoint: &str, note: &str| {
        let out = km(&ns)
            .args(["gate", "--deployment", "demo", "--patch", "-o", "json"])
            .args(["--entrypoint", entrypoint])
            .expect_stderr(note)
            .status(0);
        never_secret(&out);
        report(&out).gate.expect("the patch")
    };
    let replaced = gate_patch("replace", "Its `command` replaces the image's ENTRYPOINT");
    patch_demo(&ns, replaced.to_string().as_bytes());
    let failed = "jsonpath={.items[*].status.initContainerStatuses[?(@.name==\"kmigrate-gate\")].lastState.terminated.exitCode}";
    wait_for(
        "the replaced gate's run failed",
        Duration::from_secs(120),
        || {
            let codes = ns.get_pods("app=demo", failed);
            codes.split_whitespace().any(|c| c != "0")
        },
    );

    // Kept, through the same `kubectl patch`: the command of the gate above is removed.
    let patch = gate_patch("keep", "It runs under the app's entrypoint");
    let gate = &patch["spec"]["template"]["spec"]["initContainers"][0];
    assert!(gate["command"].is_null(), "{gate}");
    assert_eq!(gate["args"][0], RELEASE, "{gate}");
    let t0 = std::time::Instant::now();
    patch_demo(&ns, patch.to_string().as_bytes());
    rollout(&ns);
    let passed = "jsonpath={.items[*].status.initContainerStatuses[?(@.name==\"kmigrate-gate\")].state.terminated.exitCode}";
    // The pods of the failed gate may still be terminating.
    wait_for(
        "one pod, past the gate kept under the ENTRYPOINT",
        Duration::from_secs(60),
        || ns.get_pods("app=demo", passed).trim() == "0",
    );
    let template = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "deployment",
        "demo",
        "-o",
        "jsonpath={.spec.template.spec.initContainers[0]}",
    ]);
    let entry: serde_json::Value = serde_json::from_str(&template).unwrap();
    assert!(entry["command"].is_null(), "{entry}");
    eprintln!(
        "entrypoint kept: the gated rollout completed {:.1} s after the patch",
        t0.elapsed().as_secs_f64()
    );
}
