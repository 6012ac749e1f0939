//! examples/ as the tools of their formats see them: the Helm chart rendered by helm and
//! dry-run by the API server (server side) in a namespace, with Helm's hook annotations and
//! with Argo CD's; the GitHub workflow checked by actionlint (with shellcheck on its `run`
//! scripts); the GitLab pipeline's scripts by shellcheck. helm and actionlint are built by
//! `scripts/tools build` (scripts/test runs it), shellcheck is Debian's (scripts/deps);
//! a missing one fails the test, naming what installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::harness::{Ns, local};
use crate::support::{kmigrate, repo, report, scratch_dir, stdout};

/// The binary `scripts/tools` built for `name`, or a failure that says how to build it.
fn tool(name: &str) -> PathBuf {
    let out = Command::new(repo().join("scripts/tools"))
        .args(["path", name])
        .output()
        .expect("run scripts/tools");
    // scripts/tools says which is missing and how to build it.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn shellcheck() -> PathBuf {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("shellcheck"))
        .find(|p| p.is_file());
    found.expect("shellcheck is missing: run `scripts/deps` (or apt-get install shellcheck)")
}

/// Run `program` with `args` (and `input` on stdin); its output, whatever its exit.
fn run(program: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        std::io::Write::write_all(&mut stdin, input.as_bytes()).expect("write stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("wait")
}

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CHART: &str = "examples/helm";

/// `helm template shop examples/helm` in `ns` with the values files and `--set`s given.
fn helm_template(ns: &Ns, values: &[&Path], sets: &[&str]) -> Output {
    let chart = repo().join(CHART);
    let mut args = vec![
        "template".to_owned(),
        "shop".into(),
        chart.display().to_string(),
        "--namespace".into(),
        ns.name.clone(),
    ];
    for v in values {
        args.extend(["--values".into(), v.display().to_string()]);
    }
    for s in sets {
        args.extend(["--set".into(), (*s).to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&tool("helm"), &args, None)
}

/// The objects of `yaml` as the API server would store them: `kubectl apply
/// --dry-run=server`, which runs admission and validation and stores nothing.
fn server_dry_run(ns: &Ns, yaml: &str) -> Vec<Value> {
    let l = local();
    let admin = l.admin.display().to_string();
    let out = ok(
        "kubectl apply --dry-run=server",
        run(
            &l.kubectl,
            &[
                "--kubeconfig",
                &admin,
                "-n",
                &ns.name,
                "apply",
                "--dry-run=server",
                "-o",
                "json",
                "-f",
                "-",
            ],
            Some(yaml),
        ),
    );
    let doc: Value = serde_json::from_str(&out).expect("kubectl's JSON");
    match doc["kind"].as_str() {
        Some("List") => doc["items"].as_array().expect("items").clone(),
        _ => vec![doc],
    }
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among {objects:#?}"))
}

/// The test's values: the app's image is the demo's, its database is the namespace's.
fn test_values(ns: &Ns) -> PathBuf {
    let env: Vec<Value> = ns
        .db_env()
        .into_iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect();
    let values = serde_json::json!({
        "image": {"repository": "demo", "tag": "1"},
        "replicas": 1,
        "app": {"env": env},
    });
    let file = scratch_dir("helm").join("test-values.json");
    std::fs::write(&file, values.to_string()).unwrap();
    file
}

/// The Deployment installed without the gate, and the command `kmigrate gate` prints for
/// it, kept as values.yaml says: `{gate: {command: ...}}`. Returns the gate `kmigrate gate`
/// printed, and the values file.
fn installed_with_gate_values(ns: &Ns, values: &Path) -> (Value, PathBuf) {
    let first = ok(
        "helm template (no gate, no hook)",
        helm_template(
            ns,
            &[values],
            &["gate.enabled=false", "migrate.enabled=false"],
        ),
    );
    ns.apply(&first);
    let gate = report(
        &ns.kmigrate()
            .args([
                "gate",
                "--deployment",
                "shop",
                "--app",
                "demo",
                "-o",
                "json",
            ])
            .status(0),
    )
    .gate
    .expect("the gate in the report");
    let file = scratch_dir("helm").join("gate-values.json");
    std::fs::write(
        &file,
        serde_json::json!({"gate": {"command": gate["command"]}}).to_string(),
    )
    .unwrap();
    (gate, file)
}

/// The ServiceAccount, Role and RoleBinding (first) and the Job (then) of the migration.
fn hook_objects(objects: &[Value]) -> [(&Value, &str); 4] {
    [
        (object(objects, "ServiceAccount", "shop-kmigrate"), "-1"),
        (object(objects, "Role", "shop-kmigrate"), "-1"),
        (object(objects, "RoleBinding", "shop-kmigrate"), "-1"),
        (object(objects, "Job", "shop-kmigrate-migrate"), "0"),
    ]
}

#[test]
fn the_helm_chart_carries_the_gate_kmigrate_prints_and_the_api_server_accepts_it() {
    let ns = Ns::new("ex-helm");
    let values = test_values(&ns);
    let (gate, gate_values) = installed_with_gate_values(&ns, &values);

    let rendered = ok(
        "helm template",
        helm_template(&ns, &[&values, &gate_values], &[]),
    );
    let objects = server_dry_run(&ns, &rendered);
    let pod = &object(&objects, "Deployment", "shop")["spec"]["template"]["spec"];
    // Every field `kmigrate gate` printed is the chart's, as the server stores it.
    let init = &pod["initContainers"][0];
    for (field, value) in gate.as_object().expect("the gate is an object") {
        assert_eq!(&init[field], value, "initContainers[0].{field}");
    }
    assert_eq!(init["image"], pod["containers"][0]["image"]);
    assert_eq!(init["image"], "demo:1");

    for (o, weight) in hook_objects(&objects) {
        let a = &o["metadata"]["annotations"];
        assert_eq!(a["helm.sh/hook"], "pre-upgrade", "{o}");
        assert_eq!(a["helm.sh/hook-weight"], weight, "{o}");
        assert_eq!(
            a["helm.sh/hook-delete-policy"], "before-hook-creation",
            "{o}"
        );
    }
    // The hook's identity has exactly kmigrate's Role (what `kmigrate init` prints).
    let text = std::fs::read_to_string(repo().join("rbac/kmigrate.yaml")).unwrap();
    let shipped: Vec<Value> = serde_saphyr::from_multiple(&text).expect("rbac/kmigrate.yaml");
    assert_eq!(
        object(&objects, "Role", "shop-kmigrate")["rules"],
        shipped[0]["rules"]
    );
    let binding = object(&objects, "RoleBinding", "shop-kmigrate");
    assert_eq!(binding["subjects"][0]["name"], "shop-kmigrate");
    assert_eq!(binding["subjects"][0]["namespace"], ns.name.as_str());

    // The hook's command line, run here against this cluster with --dry-run, once the gated
    // Deployment is installed (as an upgrade finds it): kmigrate accepts it, finds the
    // Deployment, and builds the Job of the new image without the gate.
    ns.apply(&ok(
        "helm template (gate, no hook)",
        helm_template(&ns, &[&values, &gate_values], &["migrate.enabled=false"]),
    ));
    let job = object(&objects, "Job", "shop-kmigrate-migrate");
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"], serde_json::json!(["kmigrate"]));
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.contains(&"--yes") && args.contains(&"--output=json"),
        "{args:?}"
    );
    let out = kmigrate()
        .env("KUBECONFIG", &local().admin)
        .args(&args)
        .args(["--dry-run"])
        .status(0);
    let manifest = report(&out).job_manifest.expect("the Job in the report");
    let spec = &manifest["spec"]["template"]["spec"];
    assert_eq!(spec["containers"][0]["image"], "demo:1");
    assert!(spec["initContainers"].is_null(), "{manifest}");
    assert_eq!(
        manifest["metadata"]["annotations"]["kmigrate.io/left-out-init-containers"],
        "kmigrate-gate"
    );
    assert!(ns.applied().is_empty(), "--dry-run ran nothing");

    // The chart refuses what would deploy a broken gate or unknown hooks.
    let refused = helm_template(&ns, &[&values], &[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("gate.command is empty"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let refused = helm_template(&ns, &[&values, &gate_values], &["migrate.hooks=flux"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("use helm or argocd"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn the_argocd_variant_is_the_same_manifests_with_presync_hooks() {
    let ns = Ns::new("ex-argocd");
    let values = test_values(&ns);
    let (_, gate_values) = installed_with_gate_values(&ns, &values);
    let argocd = repo().join("examples/argocd/values.yaml");

    let helm = server_dry_run(
        &ns,
        &ok(
            "helm template",
            helm_template(&ns, &[&values, &gate_values], &[]),
        ),
    );
    let objects = server_dry_run(
        &ns,
        &ok(
            "helm template (argocd)",
            helm_template(&ns, &[&values, &argocd, &gate_values], &[]),
        ),
    );
    let spec = |objects: &[Value]| object(objects, "Deployment", "shop")["spec"].clone();
    assert_eq!(spec(&objects), spec(&helm));
    for (o, wave) in hook_objects(&objects) {
        let a = o["metadata"]["annotations"]
            .as_object()
            .expect("annotations");
        assert_eq!(a["argocd.argoproj.io/hook"], "PreSync", "{o}");
        assert_eq!(a["argocd.argoproj.io/sync-wave"], wave, "{o}");
        assert_eq!(
            a["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation",
            "{o}"
        );
        assert!(
            !a.keys().any(|k| k.starts_with("helm.sh/")),
            "Argo CD maps Helm's hooks too; one set only: {o}"
        );
    }
    // The same Job (the server gives each dry-run Job a selector of its own).
    let job = |objects: &[Value]| {
        object(objects, "Job", "shop-kmigrate-migrate")["spec"]["template"]["spec"].clone()
    };
    assert_eq!(job(&objects), job(&helm));

    // The Application renders this chart with these values, as the test did.
    let text = std::fs::read_to_string(repo().join("examples/argocd/application.yaml")).unwrap();
    let app: Value = serde_saphyr::from_str(&text).expect("application.yaml");
    assert_eq!(app["kind"], "Application");
    let source = &app["spec"]["source"];
    assert_eq!(source["path"], CHART);
    let first = source["helm"]["valueFiles"][0].as_str().unwrap();
    assert_eq!(
        repo().join(CHART).join(first).canonicalize().unwrap(),
        argocd.canonicalize().unwrap()
    );
}

#[test]
fn actionlint_and_shellcheck_pass_the_github_workflow() {
    let (actionlint, shellcheck) = (tool("actionlint"), shellcheck());
    let shellcheck_flag = format!("-shellcheck={}", shellcheck.display());
    let lint = |file: &Path| {
        run(
            &actionlint,
            &["-no-color", &shellcheck_flag, &file.display().to_string()],
            None,
        )
    };
    let workflow = repo().join("examples/github-actions/migrations.yml");
    ok("actionlint", lint(&workflow));

    // Both see what they are meant to: a job that needs one that is not there, and an
    // unquoted variable in a run script.
    let text = std::fs::read_to_string(&workflow).unwrap();
    let broken = scratch_dir("actionlint").join("broken.yml");
    for (from, to, finding) in [
        ("needs: plan\n", "needs: plann\n", "needs"),
        (
            "> \"$RUNNER_TEMP/kubeconfig\"",
            "> $RUNNER_TEMP/kubeconfig",
            "SC2086",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
        let out = lint(&broken);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        assert!(stdout(&out).contains(finding), "{}", stdout(&out));
    }
}

/// No linter of GitLab's own works offline (GitLab checks a pipeline on its server): its
/// structure is checked in tests/cli/examples.rs; here each job's scripts, as the runner's
/// shell runs them, go through shellcheck.
#[test]
fn shellcheck_passes_the_gitlab_pipelines_scripts() {
    let shellcheck = shellcheck();
    let text = std::fs::read_to_string(repo().join("examples/gitlab-ci/.gitlab-ci.yml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
    let mut checked = 0;
    for (job, spec) in doc.as_object().unwrap() {
        let Some(lines) = spec["script"].as_array() else {
            continue;
        };
        let script: String = std::iter::once("#!/bin/sh\nset -e\n".to_owned())
            .chain(lines.iter().map(|l| format!("{}\n", l.as_str().unwrap())))
            .collect();
        ok(
            &format!("shellcheck of job {job}'s script:\n{script}"),
            run(&shellcheck, &["-s", "sh", "-"], Some(&script)),
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked} jobs");
    let out = run(
        &shellcheck,
        &["-s", "sh", "-"],
        Some("#!/bin/sh\nkmigrate plan --image $IMAGE\n"),
    );
    assert_eq!(out.status.code(), Some(1), "shellcheck must see SC2086");
}
