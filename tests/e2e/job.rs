//! Job mode: migrations from a new image, in a Job copied from the Deployment.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::audit::events;
use crate::harness::{NODE, Ns, V1, kubectl_out, local, release};
use crate::support::{report, stdout, wait_for};

/// What a test adds to the pod template of [`job_deployment`].
#[derive(Default)]
pub struct Extra<'a> {
    /// More labels, as `key: value` pairs separated by commas.
    pub labels: &'a str,
    /// More annotations, the same way.
    pub annotations: &'a str,
    /// More lines of the pod spec, each indented by six spaces and ending in a newline.
    pub spec: &'a str,
}

/// A Deployment whose pod template the Job copies; `exit` is the code KWOK ends the Job's
/// pod with (see tests/cluster/kwok-stages-kmigrate.yaml).
pub fn job_deployment(ns: &Ns, name: &str, exit: &str, replicas: u32, extra: Extra) {
    let labels = [format!("app: {name}, team: data"), extra.labels.to_owned()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let annotations = [
        format!("kmigrate.test/exit-code: \"{exit}\""),
        extra.annotations.to_owned(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let lines = [
        "apiVersion: apps/v1".to_owned(),
        "kind: Deployment".to_owned(),
        "metadata:".to_owned(),
        format!("  name: {name}"),
        "spec:".to_owned(),
        format!("  replicas: {replicas}"),
        "  selector:".to_owned(),
        format!("    matchLabels: {{app: {name}}}"),
        "  template:".to_owned(),
        "    metadata:".to_owned(),
        format!("      labels: {{{labels}}}"),
        format!("      annotations: {{{annotations}}}"),
        "    spec:".to_owned(),
        format!("{}      serviceAccountName: default", extra.spec),
        "      containers:".to_owned(),
        "      - name: app".to_owned(),
        "        image: demo:1".to_owned(),
        "        env: [{name: DATABASE_URL, value: \"ecto://db/demo\"}]".to_owned(),
        "        ports: [{containerPort: 4000}]".to_owned(),
        "        readinessProbe: {tcpSocket: {port: 4000}}".to_owned(),
    ];
    ns.apply(&(lines.join("\n") + "\n"));
}

/// Serve `lines` as the container log of every pod in the namespace.
pub fn job_logs(ns: &Ns, lines: &[&str]) {
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

pub fn job_json(ns: &Ns, name: &str) -> serde_json::Value {
    serde_json::from_str(&kubectl_out(&[
        "-n", &ns.name, "get", "job", name, "-o", "json",
    ]))
    .unwrap()
}

#[test]
fn job_mode_runs_the_new_image_and_follows_it() {
    let ns = Ns::new("job");
    job_deployment(&ns, "demo", "0", 1, Extra::default());
    job_logs(
        &ns,
        &[
            "12:00:00.000 [info] == Running 20240101120000 Demo.Repo.Migrations.CreatePosts.up/0",
            "12:00:00.100 [info] == Migrated 20240101120000 in 0.1s",
            "kmigrate:ran\tDemo.Repo\t20240101120000",
            "kmigrate:end",
        ],
    );
    wait_for("the app pod", Duration::from_secs(60), || {
        ns.get_pods("app=demo", "name").lines().count() == 1
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
    assert_eq!(
        r.container.as_deref(),
        job["spec"]["template"]["spec"]["containers"][0]["name"].as_str(),
        "the report names the Job's container"
    );
    assert!(r.container.is_some());
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
    let node = ns.get_pods(
        &format!("kmigrate.io/run={name}"),
        "jsonpath={.items[0].spec.nodeName}",
    );
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
    job_deployment(&ns, "failing", "3", 0, Extra::default());
    job_deployment(
        &ns,
        "stuck",
        "0",
        0,
        Extra {
            spec: "      nodeSelector: {nowhere: \"true\"}\n",
            ..Extra::default()
        },
    );
    job_logs(&ns, &["** (Postgrex.Error) ERROR 42P01 (undefined_table)"]);
    // The container's exit code reaches the caller.
    ns.kmigrate()
        .args(["migrate", "--deployment", "failing", "--image", "demo:2"])
        .expect_stdout("Postgrex.Error")
        .status(3);
    // A pod that cannot be scheduled is reported with the scheduler's reason, in bounded
    // time, and its Job is deleted, so that it cannot start when a node turns up.
    let start = Instant::now();
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "--deployment",
            "stuck",
            "--image",
            "demo:2",
            "--timeout",
            "8s",
            "-o",
            "json",
        ])
        .expect_stderr("Unschedulable")
        .expect_stderr("was deleted")
        .reject_stderr("keeps running")
        .status(71);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "took {:?}",
        start.elapsed()
    );
    let stuck = report(&out).job.expect("the run name");
    let jobs = kubectl_out(&["-n", &ns.name, "get", "jobs", "-o", "name"]);
    assert!(!jobs.contains(&stuck), "{jobs}");
    // Ctrl-C leaves the Job running and says how to follow it again.
    let mut run = ns
        .kmigrate()
        .args(["migrate", "--deployment", "failing", "--image", "demo:3"])
        .spawn();
    let created = run.wait_line("Created Job");
    let name = created.split_whitespace().nth(2).unwrap().to_owned();
    run.signal("INT");
    let (code, _) = run.wait_exit(Duration::from_secs(10));
    assert_eq!(code, 130, "{:#?}", run.seen);
    assert!(
        run.seen
            .iter()
            .any(|l| l.contains(&format!("kmigrate -n {} ", ns.name))
                && l.contains(&format!(" logs {name}`"))),
        "{:#?}",
        run.seen
    );
    assert_eq!(job_json(&ns, &name)["metadata"]["name"], name.as_str());
    // The lock went to the Job, which may still migrate: the next run sees who holds it.
    assert_eq!(
        crate::harness::lease_field(&ns.name, "{.spec.holderIdentity}"),
        format!("job/{name}")
    );
}
