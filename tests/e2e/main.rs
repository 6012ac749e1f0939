//! End-to-end tests against the local control plane (`scripts/cluster up`): a real
//! kube-apiserver with etcd and RBAC, KWOK running exec'd commands as local processes,
//! the fixture release's real Elixir VM, and a real PostgreSQL.
//!
//! Built only with `--features e2e` (`scripts/test` turns it on); without a running
//! cluster every test fails, naming the command that starts it.

mod faultproxy;
// Shared by both test targets; each uses only part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kmigrate::ecto_output::Direction;

use crate::faultproxy::FaultProxy;
use crate::support::{Run, env_file, kmigrate, repo, report, stdout, wait_for};

const NODE: &str = "kwok-node-0";
const V1: i64 = 20240101120000;
const V2: i64 = 20240102120000;
const V3: i64 = 20240103120000;

/// The running local cluster, found through its state folder.
struct Local {
    admin: PathBuf,
    alice: PathBuf,
    kubectl: String,
    admin_token: String,
    pg: Vec<(String, String)>,
}

fn local() -> &'static Local {
    static LOCAL: OnceLock<Local> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let dir = std::env::var_os("KMIGRATE_E2E_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join(".e2e"));
        let cluster = env_file(&dir.join("cluster.env"));
        let pg = env_file(&dir.join("pg.env"));
        let admin = dir.join("admin.kubeconfig");
        assert!(
            admin.is_file() && !pg.is_empty() && cluster.contains_key("KUBECTL"),
            "the end-to-end cluster is not running (no state in {}): start it with `scripts/cluster up`, or run everything with `scripts/test`",
            dir.display()
        );
        let local = Local {
            alice: dir.join("alice.kubeconfig"),
            admin,
            kubectl: cluster["KUBECTL"].clone(),
            admin_token: cluster.get("ADMIN_TOKEN").cloned().unwrap_or_default(),
            pg: pg.into_iter().filter(|(k, _)| k.starts_with("PG")).collect(),
        };
        let ok = Command::new(&local.kubectl)
            .args(["--kubeconfig"])
            .arg(&local.admin)
            .args(["get", "--raw", "/readyz"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "the end-to-end cluster does not answer: run `scripts/cluster up`");
        local
    })
}

fn release() -> String {
    repo()
        .join("tests/fixtures/demo_release/bin/demo")
        .display()
        .to_string()
}

fn migration_set(name: &str) -> String {
    repo()
        .join("tests/fixtures/demo_release/migration_sets")
        .join(name)
        .display()
        .to_string()
}

/// A namespace (and database) of one test's own; deleted afterwards.
struct Ns {
    name: String,
    db: String,
}

impl Ns {
    fn new(tag: &str) -> Self {
        let l = local();
        let name = format!("{tag}-{:08x}", random_u32());
        kubectl(&["create", "namespace", &name]);
        let db = format!("t_{}", name.replace('-', "_"));
        psql("postgres", &format!("CREATE DATABASE {db}"));
        assert!(!l.pg.is_empty());
        Self { name, db }
    }

    /// A namespace with one Running, Ready pod `demo-0` labelled `app: demo`.
    fn with_demo_pod(tag: &str, extra_env: &[(&str, &str)]) -> Self {
        let ns = Self::new(tag);
        ns.pod("demo-0", "app: demo", extra_env);
        ns.wait_ready("demo-0");
        ns
    }

    fn apply(&self, yaml: &str) {
        let l = local();
        let mut child = Command::new(&l.kubectl)
            .arg("--kubeconfig")
            .arg(&l.admin)
            .args(["-n", &self.name, "apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), yaml.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kubectl apply failed: {}\n{yaml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A pod on the KWOK node; KWOK makes it Running and Ready. Exec'd commands get the
    /// database settings through a per-pod KWOK Exec object.
    fn pod(&self, name: &str, labels: &str, extra_env: &[(&str, &str)]) {
        self.apply(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{{labels}}}\nspec:\n  nodeName: {NODE}\n  containers:\n  - name: app\n    image: demo:1\n"
        ));
        self.exec_env(name, extra_env);
    }

    fn exec_env(&self, pod: &str, extra_env: &[(&str, &str)]) {
        let mut envs = local().pg.clone();
        envs.push(("PGDATABASE".into(), self.db.clone()));
        envs.extend(
            extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let envs: String = envs
            .iter()
            .map(|(k, v)| format!("      - name: {k}\n        value: \"{v}\"\n"))
            .collect();
        self.apply(&format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Exec\nmetadata:\n  name: {pod}\nspec:\n  execs:\n  - local:\n      envs:\n{envs}"
        ));
    }

    fn wait_ready(&self, pod: &str) {
        wait_for(&format!("pod {pod} ready"), Duration::from_secs(60), || {
            kubectl_out(&[
                "-n",
                &self.name,
                "get",
                "pod",
                pod,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ]) == "True"
        });
    }

    /// kmigrate pointed at this namespace as admin.
    fn kmigrate(&self) -> Run {
        kmigrate().env("KUBECONFIG", &local().admin).args([
            "-n",
            &self.name,
            "--release",
            &release(),
        ])
    }

    fn applied(&self) -> Vec<i64> {
        if psql(&self.db, "SELECT to_regclass('schema_migrations') IS NULL").trim() == "t" {
            return Vec::new();
        }
        psql(
            &self.db,
            "SELECT version FROM schema_migrations ORDER BY version",
        )
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
    }

    fn tables(&self) -> Vec<String> {
        psql(
            &self.db,
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let l = local();
        let _ = Command::new(&l.kubectl)
            .arg("--kubeconfig")
            .arg(&l.admin)
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .output();
        let _ = Command::new("psql")
            .envs(l.pg.iter().cloned())
            .args([
                "-X",
                "-q",
                "-d",
                "postgres",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
            ])
            .output();
    }
}

/// Random enough for unique names: std's hasher keys are random per instance.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish() as u32
}

fn kubectl_out(args: &[&str]) -> String {
    let l = local();
    let out = Command::new(&l.kubectl)
        .arg("--kubeconfig")
        .arg(&l.admin)
        .args(args)
        .output()
        .expect("kubectl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn kubectl(args: &[&str]) {
    let l = local();
    let out = Command::new(&l.kubectl)
        .arg("--kubeconfig")
        .arg(&l.admin)
        .args(args)
        .output()
        .expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .envs(local().pg.iter().cloned())
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            db,
            "-c",
            sql,
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
        kubectl_out(&[
            "-n",
            &ns.name,
            "get",
            "pods",
            "-l",
            "app=demo",
            "-o",
            "jsonpath={range .items[?(@.status.phase==\"Running\")]}{.metadata.name}{\"\\n\"}{end}",
        ])
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
fn migrate_applies_then_reports_already_up() {
    let ns = Ns::with_demo_pod("migrate", &[]);
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("success", Some(0))
    );
    let versions: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1, V2, V3]);
    assert!(
        r.migrations
            .iter()
            .all(|m| m.direction == Direction::Up && m.repo.as_deref() == Some("Demo.Repo"))
    );
    assert_eq!(r.pod.as_deref(), Some("demo-0"));
    assert_eq!(ns.applied(), [V1, V2, V3]);
    assert!(ns.tables().contains(&"comments".to_owned()));
    // Remote output went to stderr, keeping stdout one JSON document.
    assert!(String::from_utf8_lossy(&out.stderr).contains("== Migrated 20240103120000"));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stdout("Migrations already up")
        .expect_stderr("nothing to do")
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn failing_migration_passes_exit_code_and_leaves_no_trace() {
    let ns = Ns::with_demo_pod(
        "failing",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("failing"))],
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("** (")
        .status(1);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("failed", Some(1))
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V1, V2]
    );
    assert_eq!(
        ns.applied(),
        [V1, V2],
        "the failing migration must leave nothing behind"
    );
}

#[test]
fn rollback_by_step_and_to_and_status_gate() {
    let ns = Ns::with_demo_pod("rollback", &[]);
    let status = |code| {
        report(
            &ns.kmigrate()
                .args(["status", "-l", "app=demo", "-o", "json", "--exit-code"])
                .status(code),
        )
    };
    let before = status(10);
    assert_eq!(before.outcome, "pending");
    assert!(
        before
            .migrations
            .iter()
            .all(|m| m.direction == Direction::Down)
    );
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let human = ns.kmigrate().args(["status", "-l", "app=demo"]).status(0);
    assert!(
        stdout(&human).contains("up     20240103120000"),
        "{}",
        stdout(&human)
    );
    assert!(
        status(0)
            .migrations
            .iter()
            .all(|m| m.direction == Direction::Up)
    );

    let out = ns
        .kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "1"])
        .expect_stderr("Reverting 1 migration(s)")
        .expect_stderr("20240103120000")
        .status(0);
    drop(out);
    assert_eq!(ns.applied(), [V1, V2]);
    let r = report(
        &ns.kmigrate()
            .args([
                "rollback",
                "-l",
                "app=demo",
                "--to",
                &V1.to_string(),
                "-o",
                "json",
            ])
            .status(0),
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V2, V1]
    );
    assert!(r.migrations.iter().all(|m| m.direction == Direction::Down));
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert!(!ns.tables().contains(&"posts".to_owned()));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--step", "2"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2]);
}

#[test]
fn exec_passes_remote_exit_codes_through() {
    let ns = Ns::with_demo_pod("exec", &[]);
    for code in [0, 3, 42] {
        let r = report(
            &ns.kmigrate()
                .args([
                    "exec",
                    "-l",
                    "app=demo",
                    "-o",
                    "json",
                    "--",
                    "sh",
                    "-c",
                    &format!("echo out; echo err >&2; exit {code}"),
                ])
                .expect_stderr("out\n")
                .expect_stderr("err\n")
                .status(code),
        );
        assert_eq!(r.remote_exit_code, Some(code));
        assert_eq!(r.argv.as_ref().map(|a| a[0].as_str()), Some("sh"));
    }
    ns.kmigrate()
        .args([
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "printf 'a b\\n'",
        ])
        .expect_stdout("a b\n")
        .status(0);
}

#[test]
fn output_streams_while_the_remote_command_runs() {
    let ns = Ns::with_demo_pod("stream", &[]);
    let l = local();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmigrate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", &l.admin)
        .args([
            "-n",
            &ns.name,
            "exec",
            "-l",
            "app=demo",
            "--",
            "sh",
            "-c",
            "echo first; sleep 2; echo second",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let start = Instant::now();
    assert_eq!(lines.next().unwrap().unwrap(), "first");
    let first = start.elapsed();
    assert_eq!(lines.next().unwrap().unwrap(), "second");
    let second = start.elapsed();
    assert!(child.wait().unwrap().success());
    assert!(
        second - first >= Duration::from_millis(1500),
        "first at {first:?}, second at {second:?}: not streamed"
    );
}

#[test]
fn protected_namespace_needs_yes_without_a_terminal() {
    let ns = Ns::with_demo_pod("prod-shop", &[]);
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("Protected environment")
        .expect_stderr("--yes")
        .status(73);
    assert_eq!(report(&out).outcome, "refused");
    assert!(report(&out).protected);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    ns.kmigrate()
        .args(["exec", "-l", "app=demo", "--", "true"])
        .status(73);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--yes"])
        .expect_stderr("Confirmed by --yes")
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

/// Run kmigrate on a pseudo-terminal (util-linux `script`), typing `typed` at the prompt.
fn on_terminal(ns: &Ns, args: &str, typed: &str) -> (i32, String) {
    let l = local();
    let cmd = format!(
        "'{}' -n {} --release '{}' {args}",
        env!("CARGO_BIN_EXE_kmigrate"),
        ns.name,
        release()
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", &l.admin)
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let typed = typed.to_owned();
    let mut out = child.stdout.take().unwrap();
    // Type only once the prompt is on the screen, as a person would.
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut sent = false;
        loop {
            let n = std::io::Read::read(&mut out, &mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if !sent && String::from_utf8_lossy(&seen).contains("to continue") {
                std::thread::sleep(Duration::from_millis(200));
                let _ = std::io::Write::write_all(&mut stdin, typed.as_bytes());
                let _ = std::io::Write::flush(&mut stdin);
                sent = true;
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let status = child.wait().unwrap();
    let screen = reader.join().unwrap();
    (status.code().unwrap_or(-1), screen)
}

#[test]
fn typed_confirmation_on_a_terminal() {
    let ns = Ns::with_demo_pod("prod-pay", &[]);
    let (code, screen) = on_terminal(&ns, "migrate -l app=demo", "wrong-name\r");
    assert_eq!(code, 73, "{screen}");
    assert!(screen.contains("pending migrations to apply"), "{screen}");
    assert!(screen.contains("20240101120000"), "{screen}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let (code, screen) = on_terminal(&ns, "migrate -l app=demo", &format!("{}\r", ns.name));
    assert_eq!(code, 0, "{screen}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn restricted_user_gets_permission_denied() {
    let ns = Ns::with_demo_pod("rbac", &[]);
    let alice = || {
        kmigrate()
            .env("KUBECONFIG", &local().alice)
            .args(["-n", &ns.name])
    };
    alice()
        .args(["pods", "-l", "app=demo"])
        .expect_stderr("permission denied")
        .expect_stderr("cannot list resource \"pods\"")
        .status(77);
    ns.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: read-pods\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: alice-read\nsubjects:\n- kind: User\n  name: alice\n  apiGroup: rbac.authorization.k8s.io\n\
roleRef:\n  kind: Role\n  name: read-pods\n  apiGroup: rbac.authorization.k8s.io\n",
    );
    wait_for("alice can list pods", Duration::from_secs(20), || {
        Command::new(env!("CARGO_BIN_EXE_kmigrate"))
            .env_clear()
            .env("KUBECONFIG", &local().alice)
            .args(["-n", &ns.name, "pods", "-l", "app=demo"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let out = alice()
        .args(["exec", "-l", "app=demo", "-o", "json", "--", "true"])
        .expect_stderr("pods/exec")
        .expect_stderr("kmigrate init")
        .status(77);
    assert_eq!(report(&out).pod.as_deref(), Some("demo-0"));
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

// ---- Faults: a TCP fault proxy between kmigrate and the API server, and signals. ----

/// A copy of the admin kubeconfig that talks to the API server through `proxy`.
fn kubeconfig_via(proxy: &FaultProxy) -> PathBuf {
    let text = std::fs::read_to_string(&local().admin).unwrap();
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("server in admin kubeconfig")
        .trim()
        .to_owned();
    let path = crate::support::scratch_dir("proxy").join("kubeconfig");
    std::fs::write(
        &path,
        text.replace(&server, &format!("https://{}", proxy.addr)),
    )
    .unwrap();
    path
}

fn apiserver_addr() -> std::net::SocketAddr {
    let text = std::fs::read_to_string(&local().admin).unwrap();
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .unwrap()
        .trim()
        .to_owned();
    server.parse().expect("the API server address is ip:port")
}

/// Start kmigrate; returns the child and a channel of its stdout and stderr lines.
fn spawn(
    args: &[&str],
    kubeconfig: &std::path::Path,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmigrate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx2.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Collect stderr lines until one contains `needle`; panics after 60 s.
fn wait_line(rx: &std::sync::mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(_) => panic!("never saw {needle:?} in the output; saw: {seen:#?}"),
        }
    }
}

fn wait_exit(
    child: &mut std::process::Child,
    within: Duration,
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
) -> (i32, Duration) {
    let start = Instant::now();
    loop {
        seen.extend(rx.try_iter());
        if let Some(status) = child.try_wait().unwrap() {
            std::thread::sleep(Duration::from_millis(100));
            seen.extend(rx.try_iter());
            return (status.code().unwrap_or(-1), start.elapsed());
        }
        if start.elapsed() > within {
            let _ = child.kill();
            panic!("kmigrate did not exit within {within:?}; output: {seen:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn unreachable_api_server_fails_fast() {
    let proxy = FaultProxy::start(apiserver_addr());
    proxy.refuse(true);
    let kubeconfig = kubeconfig_via(&proxy);
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
    let kubeconfig = kubeconfig_via(&proxy);
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
        .expect_stderr("kmigrate status")
        .status(124);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(8),
        "took {took:?}"
    );
}

/// Whether the slow migration is all there or not there at all.
fn slow_migration_is_atomic(ns: &Ns) -> bool {
    let row = ns.applied().contains(&20240104120000);
    let tables = ns.tables();
    let a = tables.contains(&"slow_a".to_owned());
    let b = tables.contains(&"slow_b".to_owned());
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
    let kubeconfig = kubeconfig_via(&proxy);
    let release = release();
    let (mut child, rx) = spawn(
        &[
            "-vv",
            "-n",
            &ns.name,
            "--release",
            &release,
            "migrate",
            "-l",
            "app=demo",
        ],
        &kubeconfig,
    );
    let mut seen = Vec::new();
    wait_line(&rx, "SELECT pg_sleep(2)", &mut seen);
    proxy.cut_all();
    let (code, took) = wait_exit(&mut child, Duration::from_secs(20), &rx, &mut seen);
    let text = seen.join("\n");
    assert_eq!(code, 75, "{text}");
    assert!(took < Duration::from_secs(5), "took {took:?} to notice");
    assert!(text.contains("kmigrate status"), "{text}");
    // Let the remote side settle, then check: the slow migration is whole or absent.
    std::thread::sleep(Duration::from_secs(4));
    slow_migration_is_atomic(&ns);
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
        slow_migration_is_atomic(&ns)
    );
}

fn signal_mid_run(signal: &str, expected: i32) {
    let ns = Ns::with_demo_pod(
        &format!("sig{}", signal.to_lowercase()),
        &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))],
    );
    let release = release();
    let (mut child, rx) = spawn(
        &[
            "-n",
            &ns.name,
            "--release",
            &release,
            "migrate",
            "-l",
            "app=demo",
        ],
        &local().admin,
    );
    let mut seen = Vec::new();
    wait_line(&rx, "SELECT pg_sleep(2)", &mut seen);
    let lease = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "lease",
        "kmigrate-demo",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(
        lease.contains("pid"),
        "the lock is held while migrating: {lease:?}"
    );
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let (code, took) = wait_exit(&mut child, Duration::from_secs(10), &rx, &mut seen);
    let text = seen.join("\n");
    assert_eq!(code, expected, "{text}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        text.contains(&format!("interrupted by SIG{signal}"))
            && text.contains("may still be running"),
        "{text}"
    );
    let left = kubectl_out(&["-n", &ns.name, "get", "lease", "--no-headers", "-o", "name"]);
    assert!(left.is_empty(), "the lock was not released: {left}");
    std::thread::sleep(Duration::from_secs(4));
    slow_migration_is_atomic(&ns);
}

#[test]
fn sigint_mid_run_exits_130_and_releases_the_lock() {
    signal_mid_run("INT", 130);
}

#[test]
fn sigterm_mid_run_exits_143_and_releases_the_lock() {
    signal_mid_run("TERM", 143);
}

// ---- Safety and accountability: lock, audit Events, RBAC, secrets. ----

#[test]
fn concurrent_migrations_run_once_and_wait_runs_after() {
    let ns = Ns::with_demo_pod("lock", &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))]);
    let release = release();
    let args = [
        "-n",
        ns.name.as_str(),
        "--release",
        release.as_str(),
        "migrate",
        "-l",
        "app=demo",
    ];
    let (mut first, rx) = spawn(&args, &local().admin);
    let mut seen = Vec::new();
    wait_line(&rx, "SELECT pg_sleep(2)", &mut seen);
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
    let (code, _) = wait_exit(&mut first, Duration::from_secs(30), &rx, &mut seen);
    assert_eq!(code, 0, "{seen:#?}");
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

/// The kmigrate Events of a namespace, as (annotations, type, regarding name).
fn events(ns: &Ns) -> Vec<serde_json::Value> {
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
        .args(["exec", "-l", "app=demo", "--", "true"])
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
    assert_eq!(ok["type"], "Normal");
}

#[test]
fn no_token_reaches_the_output_at_any_verbosity() {
    let ns = Ns::with_demo_pod("secrets", &[]);
    let l = local();
    assert!(l.admin_token.len() > 16);
    let dir = crate::support::scratch_dir("plugin");
    let plugin = dir.join("credential-plugin");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            l.admin_token
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let admin = std::fs::read_to_string(&l.admin).unwrap();
    let token_line = admin
        .lines()
        .find(|line| line.trim_start().starts_with("token:"))
        .unwrap();
    let exec_user = format!(
        "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never",
        plugin.display()
    );
    let plugin_config = dir.join("kubeconfig");
    std::fs::write(
        &plugin_config,
        admin.replace(token_line.trim_start(), &exec_user),
    )
    .unwrap();
    assert!(
        !std::fs::read_to_string(&plugin_config)
            .unwrap()
            .contains(&l.admin_token)
    );
    for config in [&plugin_config, &l.admin] {
        for args in [
            vec!["-vvv", "migrate", "-l", "app=demo"],
            vec!["-vvv", "exec", "-l", "app=demo", "-o", "json", "--", "true"],
            vec!["-vvv", "pods", "-l", "app=demo"],
        ] {
            let out = ns
                .kmigrate()
                .env("KUBECONFIG", config)
                .args(&args)
                .status(0);
            let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
            assert!(
                !all.contains(&l.admin_token),
                "the token leaked with {args:?} and {}",
                config.display()
            );
            assert!(
                all.contains("DEBUG") || all.contains("TRACE") || all.contains("INFO"),
                "no logs at -vvv"
            );
        }
    }
}

/// The shipped Role, bound to alice, with the `skip`-th rule left out.
fn shipped_role_for_alice(ns: &Ns, skip: Option<usize>) {
    let text = std::fs::read_to_string(repo().join("rbac/kmigrate.yaml")).unwrap();
    let (head, rest) = text.split_once("\nrules:\n").unwrap();
    let (rules, tail) = rest.split_once("\n---\n").unwrap();
    let blocks: Vec<&str> = rules.split("\n  - apiGroups").collect();
    let kept: Vec<String> = blocks
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(i, b)| {
            if i == 0 {
                (*b).to_owned()
            } else {
                format!("  - apiGroups{b}")
            }
        })
        .collect();
    let role = format!(
        "{head}\nrules:\n{}\n---\n{}",
        kept.join("\n"),
        tail.replace("REPLACE-WITH-USER", "alice")
    );
    ns.apply(&role);
}

#[test]
fn the_shipped_role_is_enough_and_each_required_rule_is_needed() {
    let ns = Ns::with_demo_pod("role", &[]);
    let dir = crate::support::scratch_dir("role");
    std::fs::write(
        dir.join("kmigrate.toml"),
        format!(
            "selector = \"app=demo\"\nnamespace = \"{}\"\nrelease = \"{}\"\nlock = \"required\"\n",
            ns.name,
            release()
        ),
    )
    .unwrap();
    let alice = || kmigrate().dir(&dir).env("KUBECONFIG", &local().alice);
    shipped_role_for_alice(&ns, None);
    wait_for("alice's Role", Duration::from_secs(20), || {
        Command::new(env!("CARGO_BIN_EXE_kmigrate"))
            .current_dir(&dir)
            .env_clear()
            .env("KUBECONFIG", &local().alice)
            .args(["pods"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    alice().args(["status"]).status(0);
    alice().args(["migrate"]).status(0);
    alice().args(["rollback", "--step", "1"]).status(0);
    alice().args(["exec", "--", "true"]).status(0);
    let r = report(&alice().args(["migrate", "-o", "json"]).status(0));
    assert_eq!(r.lock.as_deref(), Some("kmigrate-demo"));
    assert_eq!(r.user.as_deref(), Some("alice"));
    // Blocks in file order: the comment before the first rule, then pods, pods/exec,
    // replicasets (optional), leases, events (optional).
    for (skip, denied) in [(1, "\"pods\""), (2, "\"pods/exec\""), (4, "\"leases\"")] {
        shipped_role_for_alice(&ns, Some(skip));
        let mut last = None;
        wait_for(
            &format!("the Role without rule {skip}"),
            Duration::from_secs(20),
            || {
                let out = alice().args(["migrate"]).status_any();
                let hit = out.status.code() == Some(77);
                last = Some(out);
                hit
            },
        );
        let out = last.unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("permission denied") && err.contains(denied),
            "rule {skip}: {err}"
        );
    }
}

// ---- Job mode: migrations from a new image, in a Job copied from the Deployment. ----

/// A Deployment whose pod template the Job copies; `exit` is the code KWOK ends the Job's
/// pod with (see tests/cluster/kwok-stages-kmigrate.yaml).
fn job_deployment(ns: &Ns, name: &str, exit: &str, replicas: u32, node_selector: &str) {
    ns.apply(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n\
\u{20}\u{20}template:\n    metadata:\n      labels: {{app: {name}, team: data}}\n      annotations: {{kmigrate.test/exit-code: \"{exit}\"}}\n    spec:\n{node_selector}\
\u{20}\u{20}\u{20}\u{20}\u{20}\u{20}serviceAccountName: default\n      containers:\n      - name: app\n        image: demo:1\n        env: [{{name: DATABASE_URL, value: \"ecto://db/demo\"}}]\n\
\u{20}\u{20}\u{20}\u{20}\u{20}\u{20}\u{20}\u{20}ports: [{{containerPort: 4000}}]\n        readinessProbe: {{tcpSocket: {{port: 4000}}}}\n"
    ));
}

/// Serve `lines` as the container log of every pod in the namespace.
fn job_logs(ns: &Ns, lines: &[&str]) {
    let file = crate::support::scratch_dir("logs").join("container.log");
    let text: String = lines
        .iter()
        .map(|l| format!("2026-01-01T00:00:00.000000000Z stdout F {l}\n"))
        .collect();
    std::fs::write(&file, text).unwrap();
    ns.apply(&format!(
        "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata:\n  name: logs-{}\nspec:\n  selector:\n    matchNamespaces: [{}]\n  logs:\n  - logsFile: {}\n    follow: false\n",
        ns.name,
        ns.name,
        file.display()
    ));
}

fn job_json(ns: &Ns, name: &str) -> serde_json::Value {
    serde_json::from_str(&kubectl_out(&[
        "-n", &ns.name, "get", "job", name, "-o", "json",
    ]))
    .unwrap()
}

#[test]
fn job_mode_runs_the_new_image_and_follows_it() {
    let ns = Ns::new("job");
    job_deployment(&ns, "demo", "0", 1, "");
    job_logs(
        &ns,
        &[
            "12:00:00.000 [info] == Running 20240101120000 Demo.Repo.Migrations.CreatePosts.up/0",
            "12:00:00.100 [info] == Migrated 20240101120000 in 0.1s",
            "kmigrate:ran\tDemo.Repo\t20240101120000",
        ],
    );
    wait_for("the app pod", Duration::from_secs(60), || {
        kubectl_out(&[
            "-n", &ns.name, "get", "pods", "-l", "app=demo", "-o", "name",
        ])
        .lines()
        .count()
            == 1
    });
    // --dry-run prints a Job the server accepts, and creates nothing.
    let dry = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--image",
            "demo:2",
            "--dry-run",
        ])
        .status(0);
    let yaml = stdout(&dry);
    let l = local();
    let mut check = Command::new(&l.kubectl)
        .arg("--kubeconfig")
        .arg(&l.admin)
        .args([
            "-n",
            &ns.name,
            "create",
            "--dry-run=server",
            "-o",
            "name",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(check.stdin.as_mut().unwrap(), yaml.as_bytes()).unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "{}\n{yaml}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(
        kubectl_out(&["-n", &ns.name, "get", "jobs", "-o", "name"]),
        ""
    );

    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--image",
            "demo:2",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("Created Job")
        .status(0);
    let r = report(&out);
    let name = r.job.clone().expect("the run name");
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V1]
    );
    let job = job_json(&ns, &name);
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 60);
    assert!(job["spec"]["ttlSecondsAfterFinished"].as_i64().unwrap() > 0);
    assert_eq!(job["metadata"]["annotations"]["kmigrate.io/user"], "admin");
    let tpl = &job["spec"]["template"];
    assert_eq!(tpl["spec"]["restartPolicy"], "Never");
    assert_eq!(tpl["spec"]["serviceAccountName"], "default");
    assert!(
        tpl["metadata"]["labels"]["app"].is_null(),
        "the Service selector label must go"
    );
    assert_eq!(tpl["metadata"]["labels"]["team"], "data");
    let c = &tpl["spec"]["containers"][0];
    assert_eq!(c["image"], "demo:2");
    assert_eq!(c["command"][0], release());
    assert_eq!(c["args"][0], "eval");
    assert!(c["readinessProbe"].is_null() && c["ports"].is_null());
    assert_eq!(c["env"][0]["name"], "DATABASE_URL");
    let node = kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "pods",
        "-l",
        &format!("kmigrate.io/run={name}"),
        "-o",
        "jsonpath={.items[0].spec.nodeName}",
    ]);
    assert_eq!(node, NODE);

    let audit = events(&ns);
    assert!(
        audit
            .iter()
            .any(|e| e["regarding"]["kind"] == "Job" && e["regarding"]["name"] == name.as_str()),
        "{audit:#?}"
    );
    let runs = report(&ns.kmigrate().args(["runs", "-o", "json"]).status(0));
    let run = runs
        .runs
        .iter()
        .find(|r| r.name == name)
        .expect("runs lists the Job");
    assert_eq!(
        (
            run.outcome.as_str(),
            run.image.as_deref(),
            run.user.as_deref()
        ),
        ("succeeded", Some("demo:2"), Some("admin"))
    );
    ns.kmigrate()
        .args(["logs", &name])
        .expect_stdout("== Migrated 20240101120000")
        .status(0);
    ns.kmigrate()
        .args(["logs", "no-such-run"])
        .expect_stderr("no run \"no-such-run\"")
        .status(69);
}

#[test]
fn job_mode_failures_and_interruptions() {
    let ns = Ns::new("jobfail");
    job_deployment(&ns, "failing", "3", 0, "");
    job_deployment(
        &ns,
        "stuck",
        "0",
        0,
        "      nodeSelector: {nowhere: \"true\"}\n",
    );
    job_logs(&ns, &["** (Postgrex.Error) ERROR 42P01 (undefined_table)"]);
    // The container's exit code reaches the caller.
    ns.kmigrate()
        .args(["migrate", "--deployment", "failing", "--image", "demo:2"])
        .expect_stdout("Postgrex.Error")
        .status(3);
    // A pod that cannot be scheduled is reported with the scheduler's reason, in bounded time.
    let start = Instant::now();
    ns.kmigrate()
        .args([
            "migrate",
            "--deployment",
            "stuck",
            "--image",
            "demo:2",
            "--timeout",
            "8s",
        ])
        .expect_stderr("Unschedulable")
        .expect_stderr("kmigrate logs")
        .status(71);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "took {:?}",
        start.elapsed()
    );
    // Ctrl-C leaves the Job running and says how to follow it again.
    let release = release();
    let (mut child, rx) = spawn(
        &[
            "-n",
            &ns.name,
            "--release",
            &release,
            "migrate",
            "--deployment",
            "failing",
            "--image",
            "demo:3",
        ],
        &local().admin,
    );
    let mut seen = Vec::new();
    wait_line(&rx, "Created Job", &mut seen);
    let name = seen
        .last()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let (code, _) = wait_exit(&mut child, Duration::from_secs(10), &rx, &mut seen);
    assert_eq!(code, 130, "{seen:#?}");
    assert!(
        seen.iter()
            .any(|l| l.contains(&format!("kmigrate logs {name}"))),
        "{seen:#?}"
    );
    assert_eq!(job_json(&ns, &name)["metadata"]["name"], name.as_str());
}

// ---- Bad input and unfriendly output. ----

#[test]
fn unfriendly_output_is_streamed_byte_for_byte() {
    let ns = Ns::with_demo_pod("bytes", &[]);
    // Invalid UTF-8, CR/LF mixes, ANSI escapes, then a 1 MiB line with no newline.
    let script = r#"printf '\377\376bad\r\nmixed\rline\n\033[31mred\033[0m\n'; head -c 1048576 /dev/zero | tr '\0' x; printf 'end'"#;
    let mut expected = b"\xff\xfebad\r\nmixed\rline\n\x1b[31mred\x1b[0m\n".to_vec();
    expected.extend(std::iter::repeat_n(b'x', 1 << 20));
    expected.extend_from_slice(b"end");
    let out = ns
        .kmigrate()
        .args(["exec", "-l", "app=demo", "--", "sh", "-c", script])
        .status(0);
    assert_eq!(out.stdout.len(), expected.len());
    assert!(out.stdout == expected, "the bytes differ");
}

#[test]
fn bad_credentials_and_trust_get_one_clear_line() {
    let ns = Ns::new("creds");
    let admin = std::fs::read_to_string(&local().admin).unwrap();
    let dir = crate::support::scratch_dir("creds");
    // A token the server does not know.
    let token_line = admin
        .lines()
        .find(|l| l.trim_start().starts_with("token:"))
        .unwrap()
        .trim_start()
        .to_owned();
    let expired = dir.join("expired");
    std::fs::write(
        &expired,
        admin.replace(
            &token_line,
            "token: 0000000000000000000000000000000000000000",
        ),
    )
    .unwrap();
    kmigrate()
        .env("KUBECONFIG", &expired)
        .args(["-n", &ns.name, "pods", "-l", "app=demo"])
        .expect_stderr("rejected the credentials")
        .status(77);
    // A CA that did not sign the server's certificate.
    let ca_line = admin
        .lines()
        .find(|l| l.trim_start().starts_with("certificate-authority-data:"))
        .unwrap()
        .trim_start()
        .to_owned();
    let other_ca = std::fs::read_dir("/etc/ssl/certs")
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "pem"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .expect("a CA certificate in /etc/ssl/certs");
    let encoded = base64(&other_ca);
    let wrong_ca = dir.join("wrong-ca");
    std::fs::write(
        &wrong_ca,
        admin.replace(&ca_line, &format!("certificate-authority-data: {encoded}")),
    )
    .unwrap();
    let out = kmigrate()
        .env("KUBECONFIG", &wrong_ca)
        .args(["-n", &ns.name, "pods", "-l", "app=demo"])
        .expect_stderr("cannot reach the Kubernetes API")
        .status(76);
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("certificate") || err.contains("issuer"),
        "{err}"
    );
    // Conflicting flags.
    kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", "1", "--step", "1"])
        .expect_stderr("cannot be used with")
        .status(2);
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_namespace_marked_protected_asks_like_production() {
    let ns = Ns::new("marked");
    kubectl(&["label", "namespace", &ns.name, "kmigrate.io/protected=true"]);
    ns.pod("demo-0", "app: demo", &[]);
    ns.wait_ready("demo-0");
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("kmigrate.io/protected=true")
        .status(73);
    assert!(report(&out).protected);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--yes"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}
