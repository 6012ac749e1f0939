//! The schema gate: `wait` against the real database, and the `gate` init container
//! accepted by the API server and run as KWOK runs exec'd commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Ns, V1, V2, V3, kubectl, kubectl_out, release};
use crate::job::{Extra, job_deployment, job_logs};
use crate::support::{repo, report, scratch_dir, stdout, wait_for};

const MISSING: [&str; 3] = [
    "20240101120000 create_posts",
    "20240102120000 add_title_index",
    "20240103120000 create_comments",
];

#[test]
fn wait_at_its_deadline_exits_10_listing_what_is_missing() {
    let ns = Ns::with_demo_pod("waitdl", &[]);
    let start = Instant::now();
    let out = ns
        .kmigrate()
        .args(["wait", "-l", "app=demo", "--deadline", "3s"])
        .expect_stderr("Still missing after 0s: 3 migration(s)")
        .expect_stderr(&format!("  Demo.Repo: {}", MISSING.join(", ")))
        .expect_stderr("error: the deadline passed after 3s: the database still lacks 3 migration(s) of pod demo-0's image")
        .expect_stderr(&format!(
            "Run `kmigrate -n {} -l app=demo --release {} migrate`",
            ns.name,
            release()
        ))
        .status(10);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let r = report(
        &ns.kmigrate()
            .args(["wait", "-l", "app=demo", "--deadline", "1s", "-o", "json"])
            .status(10),
    );
    assert_eq!(
        (r.command.as_str(), r.outcome.as_str(), r.remote_exit_code),
        ("wait", "pending", Some(10))
    );
    let missing: Vec<(i64, Option<&str>)> = r
        .migrations
        .iter()
        .map(|m| (m.version, m.state.as_deref()))
        .collect();
    assert_eq!(
        missing,
        [(V1, Some("down")), (V2, Some("down")), (V3, Some("down"))]
    );
    // Read-only: not even the table was created.
    assert!(ns.applied().is_empty() && ns.tables().is_empty());
}

#[test]
fn wait_returns_soon_after_migrate_from_another_process() {
    let ns = Ns::with_demo_pod("waitok", &[]);
    // An older image (only the first migration's file) runs in another pod.
    let old = scratch_dir("old-image");
    let posts = "20240101120000_create_posts.exs";
    std::fs::copy(
        repo()
            .join("tests/fixtures/demo_release/priv/repo/migrations")
            .join(posts),
        old.join(posts),
    )
    .unwrap();
    ns.pod(
        "old-0",
        "app: old",
        &[("DEMO_MIGRATIONS_DIR", old.to_str().unwrap())],
    );
    ns.wait_ready("old-0");

    let mut waiting = ns
        .kmigrate()
        .args(["wait", "-l", "app=demo", "--deadline", "2m"])
        .spawn();
    waiting.wait_line("Still missing after 0s: 3 migration(s)");
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let migrated = Instant::now();
    let (code, _) = waiting.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{:#?}", waiting.seen);
    assert!(
        migrated.elapsed() < Duration::from_secs(8),
        "wait returned {:?} after the migration",
        migrated.elapsed()
    );
    assert!(
        waiting
            .seen
            .iter()
            .any(|l| l.contains("Schema ready after") && l.contains("pod demo-0's image")),
        "{:#?}",
        waiting.seen
    );

    // The database is ahead of the old image: that does not block, and is said.
    let out = ns
        .kmigrate()
        .args(["wait", "-l", "app=old", "--deadline", "5s", "-o", "json"])
        .expect_stderr("The database is ahead of this image: 2 applied migration(s) have no file in it, which does not block the gate:\n  Demo.Repo: 20240102120000, 20240103120000")
        .status(0);
    let r = report(&out);
    assert_eq!(r.outcome, "success");
    assert!(
        r.migrations
            .iter()
            .all(|m| m.state.as_deref() == Some("applied-not-in-image")),
        "{:?}",
        r.migrations
    );
    assert_eq!(r.migrations.len(), 2);
}

#[test]
fn wait_in_a_job_reads_the_jobs_output() {
    let ns = Ns::new("waitjob");
    job_deployment(&ns, "demo", "10", 0, Extra::default());
    job_logs(
        &ns,
        &[
            "kmigrate:status\tDemo.Repo\t\tdown\t20240103120000\tcreate_comments",
            "kmigrate:wait\twaiting\t0",
            "kmigrate:status\tDemo.Repo\t\tdown\t20240103120000\tcreate_comments",
            "kmigrate:wait\tdeadline\t3",
        ],
    );
    let out = ns
        .kmigrate()
        .args([
            "wait",
            "--deployment",
            "demo",
            "--image",
            "demo:2",
            "--deadline",
            "3s",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("Created Job")
        .expect_stderr(
            "Still missing after 0s: 1 migration(s)\n  Demo.Repo: 20240103120000 create_comments",
        )
        .expect_stderr("still lacks 1 migration(s) of Job kmigrate-demo-")
        .status(10);
    let r = report(&out);
    assert_eq!((r.outcome.as_str(), r.migrations.len()), ("pending", 1));
    let job = crate::job::job_json(&ns, &r.job.expect("the run name"));
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "demo:2");
    assert_eq!(job["metadata"]["labels"]["kmigrate.io/command"], "wait");
    let snippet = c["args"][1].as_str().unwrap();
    assert!(
        snippet.contains("deadline_ms = 3000\n")
            && snippet.contains("elapsed >= deadline_ms ->")
            && snippet.contains("pending_exit_code = 10\n")
            && snippet.contains("exit({:shutdown, pending_exit_code})"),
        "{snippet}"
    );
}

/// A Deployment whose app container reaches the test's database through its `env`
/// (libpq's variables, as the fixture release reads them), with a volume mount and a
/// security context, and `init` as its initContainers (YAML lines, already indented).
fn app_deployment(ns: &Ns, name: &str, init: &str) {
    let env: String = ns
        .db_env()
        .iter()
        .map(|(k, v)| format!("        - {{name: {k}, value: \"{v}\"}}\n"))
        .collect();
    ns.apply(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      volumes: [{{name: scratch, emptyDir: {{}}}}]\n{init}      containers:\n      - name: app\n        image: demo:1\n        env:\n{env}        volumeMounts: [{{name: scratch, mountPath: /scratch}}]\n        securityContext: {{allowPrivilegeEscalation: false}}\n"
    ));
}

fn deployment_json(ns: &Ns, name: &str) -> serde_json::Value {
    serde_json::from_str(&kubectl_out(&[
        "-n",
        &ns.name,
        "get",
        "deployment",
        name,
        "-o",
        "json",
    ]))
    .unwrap()
}

#[test]
fn the_gate_is_accepted_by_the_api_server_and_blocks_until_migrate() {
    let ns = Ns::with_demo_pod("gate", &[]);
    app_deployment(&ns, "shop", "");
    let gate_args = ["gate", "--deployment", "shop", "--deadline", "90s"];

    // The entry, pasted under initContainers, is applied as it is printed.
    let entry = stdout(
        &ns.kmigrate()
            .args(gate_args)
            .expect_stderr("Paste it under spec.template.spec.initContainers of Deployment shop.")
            .expect_stderr("kubectl set image deployment/shop app=IMAGE kmigrate-gate=IMAGE")
            .status(0),
    );
    assert!(entry.starts_with("- command:\n"), "{entry}");
    let indented: String = entry.lines().map(|l| format!("      {l}\n")).collect();
    app_deployment(&ns, "pasted", &format!("      initContainers:\n{indented}"));
    let pasted = deployment_json(&ns, "pasted");
    let gate = &pasted["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(gate["name"], "kmigrate-gate");
    assert_eq!(gate["image"], "demo:1");
    assert_eq!(gate["command"][0], release());
    assert_eq!(gate["command"][1], "eval");
    assert_eq!(gate["volumeMounts"][0]["mountPath"], "/scratch");
    assert_eq!(gate["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(gate["resources"]["limits"]["memory"], "256Mi");
    // The ReplicaSet's pod passed the API server's pod validation with it.
    wait_for(
        "the pasted Deployment's pod",
        Duration::from_secs(60),
        || {
            ns.get_pods(
                "app=pasted",
                "jsonpath={.items[0].spec.initContainers[0].name}",
            ) == "kmigrate-gate"
        },
    );

    // The patch adds it to the Deployment that has none; -o json carries it as an object.
    let patch = stdout(&ns.kmigrate().args(gate_args).args(["--patch"]).status(0));
    let file = scratch_dir("gate").join("patch.yaml");
    std::fs::write(&file, &patch).unwrap();
    kubectl(&[
        "-n",
        &ns.name,
        "patch",
        "deployment",
        "shop",
        "--patch-file",
        file.to_str().unwrap(),
    ]);
    let patched = deployment_json(&ns, "shop");
    assert_eq!(
        patched["spec"]["template"]["spec"]["initContainers"],
        pasted["spec"]["template"]["spec"]["initContainers"]
    );
    let r = report(
        &ns.kmigrate()
            .args(gate_args)
            .args(["--image", "demo:2", "-o", "json"])
            .status(0),
    );
    let gate_json = r.gate.expect("the gate in the report");
    assert_eq!(
        (gate_json["name"].as_str(), gate_json["image"].as_str()),
        (Some("kmigrate-gate"), Some("demo:2"))
    );
    assert!(
        ns.applied().is_empty(),
        "gate reads the Deployment and nothing else"
    );

    // The entry's command, run as KWOK runs exec'd commands (a local process with a
    // minimal environment, here plus the entry's env), waits until `migrate` ran.
    let log_file = scratch_dir("gate").join("gate.log");
    let mut cmd = Command::new(gate["command"][0].as_str().unwrap());
    cmd.args(
        gate["command"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .map(|a| a.as_str().unwrap()),
    )
    .env_clear()
    .envs(
        ["PATH", "HOME", "LANG", "TMPDIR"]
            .iter()
            .filter_map(|k| Some((*k, std::env::var_os(k)?))),
    )
    .envs(gate["env"].as_array().unwrap().iter().map(|e| {
        (
            e["name"].as_str().unwrap().to_owned(),
            e["value"].as_str().unwrap().to_owned(),
        )
    }))
    .stdout(Stdio::from(std::fs::File::create(&log_file).unwrap()))
    .stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("run the gate's command");
    let log = || std::fs::read_to_string(&log_file).unwrap_or_default();
    wait_for("the gate's first round", Duration::from_secs(30), || {
        log().contains("kmigrate:wait\twaiting\t0\n")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the gate must block while migrations are missing: {}",
        log()
    );
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let migrated = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            migrated.elapsed() < Duration::from_secs(15),
            "the gate did not end after the migration: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("kmigrate:wait\tready\t"), "{log}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

/// Every Job-mode command, `--dry-run`'s YAML too, leaves the Deployment's gate out (found by
/// what it runs, here under another name) and keeps its other init containers; a gate on
/// another image than the app is warned about, by Job mode and by `doctor`.
#[test]
fn job_mode_leaves_the_gate_out_and_warns_about_its_image() {
    let ns = Ns::with_demo_pod("gate-job", &[]);
    app_deployment(&ns, "shop", "");
    let mut gate: serde_json::Value = serde_json::from_str(&stdout(
        &ns.kmigrate()
            .args(["gate", "--deployment", "shop", "-o", "json"])
            .status(0),
    ))
    .map(|r: serde_json::Value| r["gate"].clone())
    .unwrap();
    gate["name"] = "schema-wait".into();
    gate["image"] = "demo:0".into();
    let inits = format!(
        "      initContainers:\n      - {{name: wait-db, image: demo:1, command: [\"true\"]}}\n      - {gate}\n"
    );
    app_deployment(&ns, "shop", &inits);
    let warning = "warning: the schema gate schema-wait of Deployment shop runs image demo:0, \
                   but its container app runs demo:1";
    let left_out = "The Job leaves out init container schema-wait (the schema gate";
    for command in [
        &["migrate"][..],
        &["rollback", "--step", "1"],
        &["status"],
        &["wait"],
        &["plan"],
    ] {
        let out = ns
            .kmigrate()
            .args(command)
            .args(["--deployment", "shop", "--image", "demo:2", "--dry-run"])
            .args(["-o", "json"])
            .expect_stderr(left_out)
            .expect_stderr(warning)
            .status(0);
        let job = report(&out).job_manifest.expect("the Job in the report");
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(
            pod["initContainers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["wait-db"],
            "{command:?}: {job}"
        );
        assert_eq!(
            job["metadata"]["annotations"]["kmigrate.io/left-out-init-containers"], "schema-wait",
            "{command:?}"
        );
    }
    let yaml = stdout(
        &ns.kmigrate()
            .args([
                "migrate",
                "--deployment",
                "shop",
                "--image",
                "demo:2",
                "--dry-run",
            ])
            .status(0),
    );
    assert!(yaml.contains("wait-db"), "{yaml}");
    assert_eq!(
        yaml.matches("schema-wait").count(),
        1,
        "only the annotation names it: {yaml}"
    );

    // doctor finds the Deployment through the chosen pod.
    wait_for("the shop pod", Duration::from_secs(60), || {
        ns.get_pods("app=shop", "name").lines().count() == 1
    });
    let doctor = ns
        .kmigrate()
        .args(["doctor", "-l", "app=shop"])
        .status_any();
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("[warn] gate") && text.contains("runs image demo:0"),
        "{text}"
    );
    assert!(text.contains("kubectl set image deployment/shop app=IMAGE schema-wait=IMAGE"));
}

/// A credential the Deployment holds as a literal env value (a database URL with its
/// password) never reaches what kmigrate prints: the gate, which people save to files and
/// paste into manifests, is refused, naming the variable; a Job-mode dry run shows the Job
/// with the value masked (security N12).
#[test]
fn a_literal_credential_in_the_deployment_is_never_printed() {
    const SECRET: &str = "s3cret-9f2c";
    let ns = Ns::with_demo_pod("gatesecret", &[]);
    ns.apply(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {{app: shop}}\n  template:\n    metadata:\n      labels: {{app: shop}}\n    spec:\n      containers:\n      - name: app\n        image: demo:1\n        env:\n        - {{name: DATABASE_URL, value: \"ecto://demo:{SECRET}@db/demo\"}}\n        - {{name: POOL_SIZE, value: \"10\"}}\n"
    ));
    let outputs = [
        ns.kmigrate()
            .args(["gate", "--deployment", "shop"])
            .expect_stderr("env DATABASE_URL holds a credential as a literal value")
            .expect_stderr("Move it into a Secret")
            .status(73),
        ns.kmigrate()
            .args(["gate", "--deployment", "shop", "--patch", "-o", "json"])
            .status(73),
        ns.kmigrate()
            .args([
                "migrate",
                "--deployment",
                "shop",
                "--image",
                "demo:2",
                "--dry-run",
            ])
            .expect_stdout("(a credential, not shown: the Deployment's own value is used)")
            .expect_stdout("value: \"10\"")
            .status(0),
        ns.kmigrate()
            .args([
                "migrate",
                "--deployment",
                "shop",
                "--image",
                "demo:2",
                "--dry-run",
                "-o",
                "json",
            ])
            .status(0),
    ];
    for out in &outputs {
        let all = [&out.stdout[..], &out.stderr[..]].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(SECRET),
            "{}",
            String::from_utf8_lossy(&all)
        );
    }
}
