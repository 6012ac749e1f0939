//! The harness: the running local cluster, found through its state folder, and a
//! namespace (with its own database) per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::support::{Run, kmigrate, repo, wait_for};

pub const NODE: &str = "kwok-node-0";
pub const V1: i64 = 20240101120000;
pub const V2: i64 = 20240102120000;
pub const V3: i64 = 20240103120000;

/// The running local cluster, found through its state folder.
pub struct Local {
    pub admin: PathBuf,
    pub alice: PathBuf,
    pub kubectl: PathBuf,
    pub admin_token: String,
    pub pg: Vec<(String, String)>,
    /// The state folder (logs, including the API server's audit log).
    pub state: PathBuf,
}

/// `cluster.json`, written by `scripts/cluster up`. Its members are the variables that
/// `scripts/cluster env` exports; the tests read these few.
#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct ClusterState {
    kubectl: PathBuf,
    admin_kubeconfig: PathBuf,
    alice_kubeconfig: PathBuf,
    admin_token: String,
}

/// `pg.json`, written by `scripts/postgres up`: libpq's variables for the server. Every
/// one reaches psql and the pods, so a new member must be added here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PgState {
    #[serde(rename = "PGHOST")]
    host: String,
    #[serde(rename = "PGPORT")]
    port: String,
    #[serde(rename = "PGUSER")]
    user: String,
}

/// A state file of the running cluster, or `None` when there is none.
fn state<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    let state = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{} is not what scripts/cluster up writes ({e}): restart with `scripts/cluster down` and `scripts/cluster up`",
            path.display()
        )
    });
    Some(state)
}

pub fn local() -> &'static Local {
    static LOCAL: OnceLock<Local> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let dir = std::env::var_os("KMIGRATE_E2E_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".e2e"));
        let cluster = state::<ClusterState>(&dir.join("cluster.json"));
        let pg = state::<PgState>(&dir.join("pg.json"));
        let (Some(cluster), Some(pg)) = (cluster, pg) else {
            panic!(
                "the end-to-end cluster is not running (no state in {}): start it with `scripts/cluster up`, or run everything with `scripts/test`",
                dir.display()
            )
        };
        assert!(
            cluster.admin_kubeconfig.is_file(),
            "the end-to-end cluster is not running (no {}): start it with `scripts/cluster up`, or run everything with `scripts/test`",
            cluster.admin_kubeconfig.display()
        );
        let local = Local {
            admin: cluster.admin_kubeconfig,
            alice: cluster.alice_kubeconfig,
            kubectl: cluster.kubectl,
            admin_token: cluster.admin_token,
            state: dir.clone(),
            pg: vec![
                ("PGHOST".into(), pg.host),
                ("PGPORT".into(), pg.port),
                ("PGUSER".into(), pg.user),
            ],
        };
        let ok = Command::new(&local.kubectl)
            .args(["--kubeconfig"])
            .arg(&local.admin)
            .args(["get", "--raw", "/readyz"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "the end-to-end cluster does not answer: run `scripts/cluster up`"
        );
        local
    })
}

pub fn release() -> String {
    repo()
        .join("tests/fixtures/demo_release/bin/demo")
        .display()
        .to_string()
}

pub fn migration_set(name: &str) -> String {
    repo()
        .join("tests/fixtures/demo_release/migration_sets")
        .join(name)
        .display()
        .to_string()
}

/// A variant of the fixture release, as a release built from other code or deps looks: a
/// copy of `bin/` and `lib/` (its `priv/` linked) under target/e2e-releases/`name`, with
/// the files of `variants/<overlay>` added to it and `edits` (a path in the release, its
/// text) written over it. Returns its release script. The name is the test's own: the copy
/// is made afresh each time, and the release compiles once per content (bin/demo's cache).
pub fn variant_release(name: &str, overlays: &[&str], edits: &[(&str, String)]) -> String {
    let fixture = repo().join("tests/fixtures/demo_release");
    let root = repo().join("target/e2e-releases").join(name);
    let _ = std::fs::remove_dir_all(&root);
    copy_tree(&fixture.join("bin"), &root.join("bin"));
    copy_tree(&fixture.join("lib"), &root.join("lib"));
    for overlay in overlays {
        copy_tree(&fixture.join("variants").join(overlay), &root);
    }
    std::os::unix::fs::symlink(fixture.join("priv"), root.join("priv")).expect("link priv");
    for (path, text) in edits {
        std::fs::write(root.join(path), text).expect("write a variant's file");
    }
    root.join("bin/demo").display().to_string()
}

/// A fixture file's text, to edit for a variant release.
pub fn fixture_file(path: &str) -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/demo_release").join(path))
        .expect("a fixture file")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a variant's folder");
    for entry in std::fs::read_dir(from).expect("read a fixture folder") {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a fixture file");
        }
    }
}

/// A namespace (and database) of one test's own; deleted afterwards.
pub struct Ns {
    pub name: String,
    pub db: String,
}

impl Ns {
    pub fn new(tag: &str) -> Self {
        let l = local();
        let name = format!("{tag}-{:08x}", random_u32());
        kubectl(&["create", "namespace", &name]);
        let db = format!("t_{}", name.replace('-', "_"));
        psql("postgres", &format!("CREATE DATABASE {db}"));
        assert!(!l.pg.is_empty());
        Self { name, db }
    }

    /// A namespace with one Running, Ready pod `demo-0` labelled `app: demo`.
    pub fn with_demo_pod(tag: &str, extra_env: &[(&str, &str)]) -> Self {
        let ns = Self::new(tag);
        ns.pod("demo-0", "app: demo", extra_env);
        ns.wait_ready("demo-0");
        ns
    }

    pub fn apply(&self, yaml: &str) {
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
    pub fn pod(&self, name: &str, labels: &str, extra_env: &[(&str, &str)]) {
        self.apply(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{{labels}}}\nspec:\n  nodeName: {NODE}\n  containers:\n  - name: app\n    image: demo:1\n"
        ));
        self.exec_env(name, extra_env);
    }

    /// libpq's variables for this namespace's database, as the pods' commands get them.
    pub fn db_env(&self) -> Vec<(String, String)> {
        let mut envs = local().pg.clone();
        envs.push(("PGDATABASE".into(), self.db.clone()));
        envs
    }

    fn exec_env(&self, pod: &str, extra_env: &[(&str, &str)]) {
        let mut envs = self.db_env();
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

    pub fn wait_ready(&self, pod: &str) {
        self.wait_ready_within(pod, Duration::from_secs(60));
    }

    /// Wait until `pod` is Ready (a real node's pull and start take longer than KWOK's).
    pub fn wait_ready_within(&self, pod: &str, limit: Duration) {
        wait_for(&format!("pod {pod} ready"), limit, || {
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

    /// `kubectl get pods -l selector -o output` in this namespace.
    pub fn get_pods(&self, selector: &str, output: &str) -> String {
        kubectl_out(&[
            "-n", &self.name, "get", "pods", "-l", selector, "-o", output,
        ])
    }

    /// kmigrate pointed at this namespace as admin.
    pub fn kmigrate(&self) -> Run {
        kmigrate().env("KUBECONFIG", &local().admin).args([
            "-n",
            &self.name,
            "--release",
            &release(),
        ])
    }

    /// kmigrate pointed at this namespace as admin, with another release script.
    pub fn kmigrate_with(&self, release: &str) -> Run {
        kmigrate()
            .env("KUBECONFIG", &local().admin)
            .args(["-n", &self.name, "--release", release])
    }

    pub fn applied(&self) -> Vec<i64> {
        self.applied_in("public")
    }

    /// The versions in `schema`'s `schema_migrations` (none when it has no table); the
    /// schema name is quoted, so `shop-eu` and `Tenant_B` are themselves.
    pub fn applied_in(&self, schema: &str) -> Vec<i64> {
        let table = format!("\"{schema}\".schema_migrations");
        let exists = format!(
            "SELECT to_regclass('{}') IS NULL",
            table.replace('\'', "''")
        );
        if psql(&self.db, &exists).trim() == "t" {
            return Vec::new();
        }
        psql(
            &self.db,
            &format!("SELECT version FROM {table} ORDER BY version"),
        )
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
    }

    /// Whether another session in this namespace's database has a transaction open.
    pub fn in_transaction(&self) -> bool {
        psql(
            &self.db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
        )
        .trim()
            != "0"
    }

    pub fn tables(&self) -> Vec<String> {
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

pub fn kubectl_out(args: &[&str]) -> String {
    let l = local();
    let out = Command::new(&l.kubectl)
        .arg("--kubeconfig")
        .arg(&l.admin)
        .args(args)
        .output()
        .expect("kubectl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn kubectl(args: &[&str]) {
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

pub fn psql(db: &str, sql: &str) -> String {
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

/// A field of the demo app's lock (`kmigrate-demo`) in namespace `ns`, by JSONPath.
pub fn lease_field(ns: &str, jsonpath: &str) -> String {
    kubectl_out(&[
        "-n",
        ns,
        "get",
        "lease",
        "kmigrate-demo",
        "-o",
        &format!("jsonpath={jsonpath}"),
    ])
}

/// Another holder takes the demo app's lock, as a run that ignored it would.
pub fn steal_lease(ns: &str) {
    kubectl(&[
        "-n",
        ns,
        "patch",
        "lease",
        "kmigrate-demo",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"holderIdentity":"intruder"}}"#,
    ]);
}

/// A running node of the demo release (`bin/demo daemon`) behind the pod `demo-0` of `ns`,
/// as a live app pod has one: `rpc` and `remote` reach it. Stopped when dropped, also when
/// a test fails half-way.
pub struct LiveNode {
    /// The node's name (`RELEASE_NODE`).
    pub name: String,
    env: Vec<(String, String)>,
}

impl LiveNode {
    /// Create the pod (with `pod_env` added to the node's settings), start the node and
    /// wait until it answers.
    pub fn start(ns: &Ns, tag: &str, pod_env: &[(&str, &str)]) -> Self {
        let name = format!("{tag}_{}", std::process::id());
        let state = crate::support::scratch_dir(tag);
        let env = vec![
            ("RELEASE_NODE".to_owned(), name.clone()),
            ("DEMO_STATE_DIR".to_owned(), state.display().to_string()),
        ];
        let mut env = env;
        // The node reads the pod's settings too (the migrations folder, a terminal).
        env.extend(
            pod_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let in_pod: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ns.pod("demo-0", "app: demo", &in_pod);
        ns.wait_ready("demo-0");
        let node = Self { name, env };
        let mut pg = local().pg.clone();
        pg.push(("PGDATABASE".into(), ns.db.clone()));
        let ok = node.release("daemon").envs(pg).status().unwrap();
        assert!(ok.success());
        // `daemon` returns before the node is up (as a release's does): wait until it answers.
        wait_for("the live node", Duration::from_secs(60), || node.answers());
        node
    }

    /// The release's `command`, with this node's settings.
    fn release(&self, command: &str) -> Command {
        let mut c = Command::new(release());
        c.arg(command).envs(self.env.iter().cloned());
        c
    }

    /// What `expr` prints when evaluated in the running node (`bin/demo rpc`).
    pub fn rpc(&self, expr: &str) -> String {
        let out = self.release("rpc").arg(expr).output().unwrap();
        assert!(out.status.success(), "rpc {expr}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Whether the node runs and answers (`bin/demo pid`).
    pub fn answers(&self) -> bool {
        self.release("pid")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for LiveNode {
    fn drop(&mut self) {
        let _ = self.release("stop").status();
    }
}
