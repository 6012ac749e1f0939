//! The CLI tier: the built binary run as a user runs it, needing no cluster or other
//! service, so plain `cargo test` runs it. Usage errors, config errors, completions, init.

// Shared by both test targets; each uses only part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod contributing;
mod examples;
mod fake_api;
mod lint;
#[cfg(unix)]
mod plugin;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fake_api::FakeApi;
use crate::support::{kmigrate, repo, scratch_dir, stdout, wait_for};

/// A kubeconfig in `dir` whose one context, `c`, talks to `server` with a token.
fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .expect("write kubeconfig");
    path
}

#[test]
fn version_and_help() {
    kmigrate()
        .args(["--version"])
        .expect_stdout(env!("CARGO_PKG_VERSION"))
        .status(0);
    kmigrate()
        .args(["--help"])
        .expect_stdout("Exit codes:")
        .status(0);
}

#[test]
fn bad_input_is_a_usage_error_before_any_network() {
    // No kubeconfig exists in the scrubbed environment: these fail on validation first.
    kmigrate()
        .args(["pods"])
        .expect_stderr("no pod selector")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app in (a"])
        .expect_stderr("invalid label selector")
        .status(2);
    kmigrate()
        .args(["migrate", "-l", "app=x", "--app", "Bad"])
        .expect_stderr("invalid app name")
        .status(2);
    kmigrate()
        .args([
            "migrate",
            "-l",
            "app=x",
            "--app",
            "a",
            "--repo",
            "A.B; System.halt",
        ])
        .expect_stderr("invalid repo module")
        .status(2);
    kmigrate()
        .args(["rollback", "-l", "app=x", "--app", "a", "--to", "1; x"])
        .expect_stderr("invalid version")
        .status(2);
    kmigrate()
        .args(["rollback", "-l", "app=x", "--app", "a", "--step", "0"])
        .expect_stderr("invalid step")
        .status(2);
    kmigrate()
        .args(["rollback", "-l", "app=x", "--app", "a"])
        .expect_stderr("--step")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app=x", "-n", "Not_A_Namespace"])
        .expect_stderr("invalid namespace")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app=x", "--timeout", "soon"])
        .expect_stderr("invalid duration")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app=x", "-e", "prod"])
        .expect_stderr("needs a kmigrate.toml")
        .status(2);
    let tenants = ["migrate", "-l", "app=x", "--app", "a"];
    kmigrate()
        .args(tenants)
        .args(["--canary", "t1"])
        .expect_stderr("act on tenants: pass --prefix")
        .status(2);
    kmigrate()
        .args(tenants)
        .args(["--prefix", "t1", "--concurrency", "0"])
        .expect_stderr("invalid concurrency")
        .status(2);
    kmigrate()
        .args(tenants)
        .args(["--prefix", "t1", "--canary", "t2"])
        .expect_stderr("canary \"t2\" is not one of the prefixes")
        .status(2);
    kmigrate()
        .args(tenants)
        .args(["--prefixes-from", "  "])
        .expect_stderr("--prefixes-from needs a SQL query")
        .status(2);
}

/// Whose exit code it is: kmigrate's own failures say so on stderr and in the report;
/// `--remote-failure-code` (or `remote_failure_code` in kmigrate.toml) takes no code of
/// kmigrate's own, which would bring the collision back.
#[test]
fn an_exit_code_says_whose_it_is_and_the_remote_mapping_takes_none_of_ours() {
    let out = kmigrate()
        .args(["pods", "-o", "json"])
        .expect_stderr("exit code 2 is kmigrate's own (usage or config error)")
        .status(2);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report");
    assert_eq!(report["exit_code_source"], "kmigrate", "{report:#}");
    for code in ["75", "0", "256", "x"] {
        kmigrate()
            .args(["--remote-failure-code", code, "pods", "-l", "app=x"])
            .expect_stderr("--remote-failure-code")
            .status(2);
    }
    let dir = scratch_dir("remote-code");
    let config = config_file(&dir, "remote_failure_code = 10\n");
    kmigrate()
        .args(["--config", config.to_str().unwrap(), "pods", "-l", "app=x"])
        .expect_stderr("remote_failure_code")
        .status(2);
}

#[test]
fn wait_and_gate_check_their_input_before_any_network() {
    kmigrate()
        .args(["wait", "-l", "app=x"])
        .expect_stderr("which app?")
        .status(2);
    kmigrate()
        .args(["wait", "-l", "app=x", "--app", "a", "--deadline", "soon"])
        .expect_stderr("invalid duration \"soon\"")
        .status(2);
    kmigrate()
        .args(["wait", "--app", "a"])
        .expect_stderr("no pod selector")
        .status(2);
    // The gate needs a Deployment: by name, or through a pod found by label.
    kmigrate()
        .args(["gate", "--app", "a"])
        .expect_stderr("no pod selector")
        .status(2);
    kmigrate()
        .args(["gate", "--app", "a", "--deployment", "Shop_Web"])
        .expect_stderr("invalid deployment name")
        .status(2);
    kmigrate()
        .args(["gate", "-l", "app=x", "--app", "a", "--image", "shop 2"])
        .expect_stderr("invalid image")
        .status(2);
    kmigrate()
        .args([
            "gate",
            "--app",
            "a",
            "--deployment",
            "shop",
            "--deadline",
            "0s",
        ])
        .expect_stderr("invalid duration")
        .status(2);
    // With a Deployment named, no selector is needed: it gets as far as the kubeconfig.
    kmigrate()
        .args(["gate", "--app", "a", "--deployment", "shop", "-o", "json"])
        .reject_stderr("no pod selector")
        .status(2);
    kmigrate()
        .args(["wait", "--help"])
        .expect_stdout("--deadline <DURATION>")
        .expect_stdout("--image <IMAGE>")
        .status(0);
    kmigrate()
        .args(["gate", "--help"])
        .expect_stdout("--patch")
        .status(0);
}

#[test]
fn missing_or_malformed_kubeconfig() {
    let dir = scratch_dir("kubeconfig");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "clusters: [oops").unwrap();
    kmigrate()
        .args(["pods", "-l", "app=x", "--kubeconfig"])
        .args([&bad])
        .expect_stderr("cannot read kubeconfig")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app=x"])
        .env("KUBECONFIG", dir.join("absent.yaml"))
        .expect_stderr("KUBECONFIG")
        .status(2);
    kmigrate()
        .args(["pods", "-l", "app=x"])
        .expect_stderr("no kubeconfig found")
        .status(2);
}

#[test]
fn unreachable_api_server_has_its_own_code() {
    let dir = scratch_dir("unreachable");
    let cfg = dir.join("config");
    // Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    std::fs::write(
        &cfg,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\n\
users:\n- name: u\n  user:\n    token: topsecret-token-value\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    let out = kmigrate()
        .args(["pods", "-l", "app=x", "-o", "json", "-vvv", "--kubeconfig"])
        .args([&cfg])
        .expect_stderr("https://127.0.0.1:9")
        .reject_stderr("topsecret-token-value")
        .status(76);
    assert!(!stdout(&out).contains("topsecret-token-value"));
    let report = crate::support::report(&out);
    assert_eq!((report.outcome.as_str(), report.exit_code), ("error", 76));
}

#[test]
fn rust_log_raises_kmigrate_logs_and_never_the_http_stack() {
    let dir = scratch_dir("rust-log");
    let cfg = dir.join("config");
    std::fs::write(
        &cfg,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\n\
users:\n- name: u\n  user:\n    token: topsecret-token-value\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    kmigrate()
        .env("RUST_LOG", "kmigrate=debug,hyper=trace,kube=trace")
        .args(["pods", "-l", "app=x", "--kubeconfig"])
        .args([&cfg])
        .expect_stderr("list pods in namespace")
        .expect_stderr("ignored: hyper=trace,kube=trace")
        .reject_stderr("topsecret-token-value")
        .reject_stderr("authorization")
        .status(76);
}

#[test]
fn config_errors_name_the_file() {
    let dir = scratch_dir("config");
    std::fs::write(dir.join("kmigrate.toml"), "selectr = \"app=x\"\n").unwrap();
    kmigrate()
        .dir(&dir)
        .args(["pods"])
        .expect_stderr("kmigrate.toml")
        .expect_stderr("selectr")
        .status(2);
    std::fs::write(
        dir.join("kmigrate.toml"),
        "selector = \"app=x\"\n[env.staging]\n",
    )
    .unwrap();
    kmigrate()
        .dir(&dir)
        .args(["pods", "-e", "prd"])
        .expect_stderr("defined: staging")
        .status(2);
}

/// A config file named by KMIGRATE_CONFIG is not shown as a required `--config` in usage
/// errors; `init --help` lists no flag that only matters for a cluster.
#[test]
fn usage_and_help_show_what_the_command_takes() {
    kmigrate()
        .env("KMIGRATE_CONFIG", "/nonexistent/kmigrate.toml")
        .args(["rollback"])
        .expect_stderr("Usage: kmigrate rollback <--to <VERSION>|")
        .reject_stderr("--config")
        .status(2);
    let help = kmigrate().args(["init", "--help"]).status(0);
    let text = stdout(&help);
    assert!(text.contains("--force"), "{text}");
    for global in [
        "--lock-timeout",
        "--namespace",
        "--yes",
        "--prefix",
        "--output",
    ] {
        assert!(!text.contains(global), "{global}: {text}");
    }
    kmigrate()
        .args(["status", "--help"])
        .expect_stdout("--lock-timeout")
        .status(0);
}

/// A hint names the flags that chose the run's target: typed as printed, it reaches the
/// same environment, namespace and pod, not the default one.
#[test]
fn hints_carry_the_flags_that_reach_the_same_target() {
    let dir = scratch_dir("hints");
    std::fs::write(
        dir.join("kmigrate.toml"),
        "selector = \"app=shop\"\napp = \"shop\"\ndefault_env = \"staging\"\n\
         [env.staging]\nnamespace = \"shop\"\n[env.prod]\nnamespace = \"shop-prod\"\n",
    )
    .unwrap();
    kmigrate()
        .dir(&dir)
        .args(["-e", "prod", "migrate", "--plan", "6b8f0c3e9d1a"])
        .expect_stderr("`kmigrate -e prod plan` prints")
        .status(2);
    kmigrate()
        .args([
            "migrate",
            "--plan",
            "6b8f",
            "-n",
            "shop",
            "--context",
            "kind-x",
        ])
        .args(["-l", "app=shop", "--app", "shop"])
        .expect_stderr("`kmigrate --context kind-x -n shop -l app=shop --app shop plan` prints")
        .status(2);
}

/// A committed file cannot switch a safeguard off for everyone: refused before any request.
#[test]
fn a_config_file_cannot_switch_the_lock_or_the_marks_off() {
    let dir = scratch_dir("switches");
    for (text, instead) in [
        (
            "selector = \"app=x\"\napp = \"x\"\nlock = \"off\"\n",
            "KMIGRATE_LOCK=off",
        ),
        (
            "selector = \"app=x\"\napp = \"x\"\nprotection_marks = false\n",
            "KMIGRATE_PROTECTION_MARKS=off",
        ),
    ] {
        std::fs::write(dir.join("kmigrate.toml"), text).unwrap();
        kmigrate()
            .dir(&dir)
            .args(["migrate"])
            .expect_stderr("kmigrate.toml cannot turn")
            .expect_stderr(instead)
            .status(2);
    }
    std::fs::write(
        dir.join("kmigrate.toml"),
        "selector = \"app=x\"\napp = \"x\"\n",
    )
    .unwrap();
    kmigrate()
        .dir(&dir)
        .env("KMIGRATE_LOCK", "of")
        .args(["migrate"])
        .expect_stderr("KMIGRATE_LOCK=\"of\": it is required, best-effort or off")
        .status(2);
}

#[test]
fn init_writes_scaffold_and_prints_role() {
    let dir = scratch_dir("init");
    kmigrate()
        .dir(&dir)
        .args(["init"])
        .expect_stdout("pods/exec")
        .expect_stderr("wrote")
        .status(0);
    assert!(dir.join("kmigrate.toml").is_file());
    kmigrate()
        .dir(&dir)
        .args(["init"])
        .expect_stderr("already exists")
        .expect_stderr("`kmigrate init --rbac`")
        .status(2);
    // The Role again, for a kmigrate.toml that exists: the file stays as edited.
    std::fs::write(dir.join("kmigrate.toml"), "selector = \"app=mine\"\n").unwrap();
    kmigrate()
        .dir(&dir)
        .args(["init", "--rbac"])
        .expect_stdout("pods/exec")
        .reject_stderr("wrote")
        .status(0);
    assert_eq!(
        std::fs::read_to_string(dir.join("kmigrate.toml")).unwrap(),
        "selector = \"app=mine\"\n"
    );
    kmigrate().dir(&dir).args(["init", "--force"]).status(0);
}

#[test]
fn committed_completions_are_fresh() {
    for (shell, file) in [
        ("bash", "kmigrate.bash"),
        ("zsh", "_kmigrate"),
        ("fish", "kmigrate.fish"),
        ("powershell", "_kmigrate.ps1"),
        ("elvish", "kmigrate.elv"),
    ] {
        let out = kmigrate().args(["completions", shell]).status(0);
        let committed =
            std::fs::read_to_string(repo().join("completions").join(file)).unwrap_or_default();
        assert!(
            stdout(&out) == committed,
            "completions/{file} is stale: run scripts/completions and commit the result"
        );
    }
}

#[test]
fn committed_man_pages_are_fresh() {
    let fresh = scratch_dir("man");
    clap_mangen::generate_to(kmigrate::command(), &fresh).expect("write man pages");
    let pages = |dir: &Path| -> std::collections::BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map_while(Result::ok)
                    .map(|e| {
                        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                        (e.file_name().to_string_lossy().into_owned(), text)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (fresh, committed) = (pages(&fresh), pages(&repo().join("man")));
    assert!(
        fresh.keys().eq(committed.keys()),
        "man/ holds {:?}, the CLI makes {:?}: run scripts/manpage and commit the result",
        committed.keys(),
        fresh.keys()
    );
    for (name, text) in &fresh {
        assert!(
            committed.get(name) == Some(text),
            "man/{name} is stale: run scripts/manpage and commit the result"
        );
    }
}

/// A credential plugin that prints a token and fails, with a secret in its kubeconfig env:
/// neither may reach stderr or the JSON report, at any verbosity; the plugin's stderr and
/// exit status do, and the code is the one for credentials.
#[test]
fn a_failing_credential_plugin_leaks_nothing() {
    let dir = scratch_dir("plugin");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        r#"apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:9
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args:
      - -c
      - 'echo "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok-LEAK-123\"}}"; echo plugin failed: login expired >&2; exit 3'
      env:
      - name: VAULT_TOKEN
        value: s.hunter2-SECRET
      interactiveMode: Never
contexts:
- name: c
  context:
    cluster: c
    user: u
"#,
    )
    .unwrap();
    for verbosity in ["-v", "-vvv"] {
        let out = kmigrate()
            .env("KUBECONFIG", &kubeconfig)
            .args([verbosity, "pods", "-l", "app=x", "-o", "json"])
            .expect_stderr("credential plugin failed")
            .expect_stderr("plugin failed: login expired")
            .expect_stderr("exit status: 3")
            .reject_stderr("tok-LEAK")
            .reject_stderr("hunter2")
            .reject_stderr("KUBERNETES_EXEC_INFO")
            .status(77);
        let json = stdout(&out);
        assert!(
            !json.contains("tok-LEAK") && !json.contains("hunter2"),
            "{json}"
        );
        assert!(json.contains("credential plugin failed"), "{json}");
    }
}

/// A kubeconfig that does not parse: the parser's excerpt of the file (which may hold a
/// token) is not shown, only where it failed.
#[test]
fn a_malformed_kubeconfig_is_not_echoed() {
    let dir = scratch_dir("badkc");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: sekret-TOKEN-42\n   broken: [\n",
    )
    .unwrap();
    let out = kmigrate()
        .env("KUBECONFIG", &kubeconfig)
        .args(["pods", "-l", "app=x", "-o", "json"])
        .expect_stderr("cannot read KUBECONFIG")
        .reject_stderr("sekret-TOKEN-42")
        .status(2);
    assert!(!stdout(&out).contains("sekret-TOKEN-42"));
}

/// As kubectl does, a KUBECONFIG entry that does not exist is skipped, not an error.
#[test]
fn a_missing_file_in_kubeconfig_is_skipped() {
    let dir = scratch_dir("kcpath");
    let real = kubeconfig(&dir, "https://127.0.0.1:9");
    let list = format!("{}:{}", dir.join("absent").display(), real.display());
    // It reads the real file and gets as far as the (unreachable) server: 76, not 2.
    kmigrate()
        .env("KUBECONFIG", &list)
        .args(["pods", "-l", "app=x"])
        .expect_stderr("127.0.0.1:9")
        .reject_stderr("cannot read KUBECONFIG")
        .status(76);
}

/// The kubeconfig's namespace is checked like `-n`: a bad one is a usage error that names
/// the context, before any request.
#[test]
fn a_kubeconfig_namespace_is_checked_like_the_flag() {
    let dir = scratch_dir("kcns");
    let cfg = dir.join("config");
    std::fs::write(
        &cfg,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: Shop/../kube-system\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .unwrap();
    kmigrate()
        .env("KUBECONFIG", &cfg)
        .args(["pods", "-l", "app=x"])
        .expect_stderr(
            "invalid namespace of context \"c\" in the kubeconfig: \"Shop/../kube-system\"",
        )
        .status(2);
}

/// A production name known from the flags, no terminal, no --yes: refused at once, before
/// any request (the API server here does not even exist), so no lock is taken.
#[test]
fn a_protected_run_without_yes_is_refused_before_any_request() {
    let kubeconfig = kubeconfig(&scratch_dir("early"), "https://127.0.0.1:9");
    for args in [
        &["migrate", "-n", "shop-prod", "-l", "app=x", "--app", "demo"][..],
        &[
            "--context",
            "PROD",
            "-n",
            "shop",
            "exec",
            "-l",
            "app=x",
            "--",
            "true",
        ][..],
        // A Job-mode status creates a Job with the app's Secrets: confirmed like a migrate.
        &[
            "status",
            "-n",
            "shop-prod",
            "-l",
            "app=x",
            "--app",
            "demo",
            "--image",
            "demo:2",
        ][..],
    ] {
        kmigrate()
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .expect_stderr("Protected environment")
            .expect_stderr("--yes")
            .reject_stderr("127.0.0.1:9")
            .status(73);
    }
}

/// What the kubeconfig says of its current context decides before any request too: its
/// name (an EKS ARN), its cluster, its server's host, its namespace. The API server here
/// does not exist; a run that asked it would end with 76.
#[cfg(unix)]
#[test]
fn a_kubeconfig_that_names_production_refuses_before_any_request() {
    let dir = scratch_dir("early-kubeconfig");
    let write = |name: &str, context: &str, cluster: &str, server: &str, ns: &str| {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: \"{context}\"\nclusters:\n- name: {cluster}\n  cluster:\n    server: {server}\ncontexts:\n- name: \"{context}\"\n  context:\n    cluster: {cluster}\n    user: u\n    namespace: {ns}\nusers:\n- name: u\n  user:\n    token: t\n"
            ),
        )
        .unwrap();
        path
    };
    let eks = "arn:aws:eks:eu-west-1:123456789012:cluster/prod";
    for (cfg, reason) in [
        (write("eks", eks, "c", "https://127.0.0.1:9", "shop"), eks),
        (
            write("cluster", "c", "eks-prod", "https://127.0.0.1:9", "shop"),
            "eks-prod",
        ),
        (
            write("host", "c", "c", "https://api.prod.invalid:9", "shop"),
            "api.prod.invalid",
        ),
        (
            write("ns", "c", "c", "https://127.0.0.1:9", "shop-prod-eu"),
            "shop-prod-eu",
        ),
    ] {
        kmigrate()
            .env("KUBECONFIG", &cfg)
            .args(["migrate", "-l", "app=x", "--app", "demo"])
            .expect_stderr("Protected environment")
            .expect_stderr(reason)
            .expect_stderr("--yes")
            .reject_stderr("cannot reach")
            .status(73);
    }
    // A group whose environment the config marks protected is refused as a whole, before
    // any plan is read.
    let project = scratch_dir("early-group");
    std::fs::write(
        project.join("kmigrate.toml"),
        "app = \"demo\"\nselector = \"app=x\"\n[env.eu]\nnamespace = \"shop\"\n[env.us]\nnamespace = \"shop-us\"\nprotected = true\n",
    )
    .unwrap();
    let plain = kubeconfig(&dir, "https://127.0.0.1:9");
    kmigrate()
        .dir(&project)
        .env("KUBECONFIG", &plain)
        .args(["migrate", "-e", "eu,us"])
        .expect_stderr("us: ")
        .expect_stderr("nothing was run in any environment")
        .reject_stderr("cannot reach")
        .status(73);
}

/// `--plan` and `--allow-destructive` are checked before any request: a hash is 64 hex
/// digits, it applies the whole plan, and it needs the embedded snippet.
#[cfg(unix)]
#[test]
fn plan_flags_are_checked_before_any_network() {
    let hash = "c5a463319391be4c243c6c98c5f953a608ad19268ca1251817ae512aaecb5fd5";
    let migrate = || kmigrate().args(["migrate", "-l", "app=x", "--app", "a"]);
    migrate()
        .args(["--plan", "abc"])
        .expect_stderr("invalid plan hash \"abc\"")
        .status(2);
    migrate()
        .args(["--plan", hash, "--step", "1"])
        .expect_stderr("cannot be used with")
        .status(2);
    migrate()
        .args(["--allow-destructive", "20240101120000,x"])
        .expect_stderr("--allow-destructive: invalid version \"x\"")
        .status(2);
    let dir = scratch_dir("plan-custom");
    config_file(&dir, "migrate_command = [\"/app/bin/migrate\"]\n");
    kmigrate()
        .dir(&dir)
        .args(["migrate", "-l", "app=x", "--plan", hash])
        .expect_stderr("--plan needs the embedded Ecto snippet")
        .status(2);
    kmigrate()
        .args(["plan", "-l", "app=x"])
        .expect_stderr("which app?")
        .status(2);
}

/// A `kmigrate.toml` with a mode that no umask changes.
#[cfg(unix)]
fn config_file(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("kmigrate.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

/// A kmigrate.toml in a parent directory anyone can write to may have been planted there:
/// it is not read (the run goes on without its selector), and the warning names it. Named
/// with --config, the same file is used, with the warning.
#[cfg(unix)]
#[test]
fn a_config_in_a_world_writable_directory_is_ignored() {
    use std::os::unix::fs::PermissionsExt;
    let open = scratch_dir("planted");
    let cwd = open.join("app");
    std::fs::create_dir(&cwd).unwrap();
    let planted = config_file(&open, "selector = \"app=x\"\n");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    kmigrate()
        .dir(&cwd)
        .args(["pods"])
        .expect_stderr(&format!("ignoring config file {}", planted.display()))
        .expect_stderr("world-writable")
        .expect_stderr("no pod selector")
        .status(2);
    kmigrate()
        .dir(&cwd)
        .args(["pods", "--config"])
        .args([&planted])
        .expect_stderr("using it because --config")
        .reject_stderr("no pod selector")
        .expect_stderr("no kubeconfig found")
        .status(2);
}

/// Which config file is used: in the JSON report always (also when the settings then
/// fail, and null when there is none), on stderr with -v.
#[cfg(unix)]
#[test]
fn the_config_used_is_said() {
    let dir = scratch_dir("said");
    let path = config_file(&dir, "selector = \"app=x\"\n");
    let shown = path.display().to_string();
    let out = kmigrate()
        .dir(&dir)
        .args(["pods", "-o", "json"])
        .expect_stderr("no kubeconfig found")
        .reject_stderr("using config")
        .status(2);
    assert_eq!(
        crate::support::report(&out).config.as_deref(),
        Some(&*shown)
    );
    let out = kmigrate()
        .dir(&dir)
        .args(["pods", "-n", "Bad_NS", "-o", "json"])
        .expect_stderr("invalid namespace")
        .status(2);
    assert_eq!(
        crate::support::report(&out).config.as_deref(),
        Some(&*shown)
    );
    kmigrate()
        .dir(&dir)
        .args(["-v", "pods"])
        .expect_stderr(&format!("using config {shown}"))
        .status(2);
    let out = kmigrate()
        .args(["pods", "-l", "app=x", "-o", "json"])
        .status(2);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.get("config"), Some(&serde_json::Value::Null), "{json}");
}

/// On a terminal the config file used is said without -v. (util-linux `script` makes the
/// terminal, as in the end-to-end tests.)
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_config_used_is_said() {
    let dir = scratch_dir("said-tty");
    let path = config_file(&dir, "selector = \"app=x\"\n");
    let on_terminal = kmigrate()
        .dir(&dir)
        .args(["pods"])
        .terminal_command()
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(
        screen.contains(&format!("using config {}", path.display())),
        "{screen}"
    );
    assert!(screen.contains("no kubeconfig found"), "{screen}");
}

/// An API server that accepts connections and never answers: kmigrate waits on it.
fn hung_api_server() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    listener
}

/// Wait until kmigrate has connected to the hung server (and so is waiting on it).
fn wait_for_connection(listener: &TcpListener) -> std::net::TcpStream {
    let mut conn = None;
    wait_for("kmigrate to connect", Duration::from_secs(20), || {
        conn = listener.accept().ok().map(|(c, _)| c);
        conn.is_some()
    });
    // The signal watch is set up in the same poll that starts the request; leave it room.
    std::thread::sleep(Duration::from_millis(300));
    conn.expect("a connection")
}

/// SIGHUP (the terminal or SSH session went away) ends the run as SIGTERM does: with its
/// own exit code and the JSON report, not a silent death; also when the terminal is gone,
/// so that writing the error to stderr fails.
#[test]
fn a_hangup_ends_the_run_with_its_code_and_report() {
    for stderr_gone in [false, true] {
        let server = hung_api_server();
        let dir = scratch_dir("hangup");
        let address = server.local_addr().expect("address");
        let run = kmigrate()
            .env(
                "KUBECONFIG",
                kubeconfig(&dir, &format!("https://{address}")),
            )
            .args(["pods", "-l", "app=x", "-o", "json"]);
        let mut run = if stderr_gone {
            run.spawn_without_stderr()
        } else {
            run.spawn()
        };
        let _held = wait_for_connection(&server);
        run.signal("HUP");
        let (code, _) = run.wait_exit(Duration::from_secs(20));
        assert_eq!(code, 129, "stderr gone: {stderr_gone}; {:#?}", run.seen);
        let report = run.stdout_json();
        assert_eq!(report["outcome"], "interrupted", "{report:#}");
        assert_eq!(report["exit_code"], 129, "{report:#}");
        assert!(
            report["error"]
                .as_str()
                .is_some_and(|e| e.contains("SIGHUP")),
            "{report:#}"
        );
        if !stderr_gone {
            assert!(
                run.seen.iter().any(|l| l.contains("interrupted by SIGHUP")),
                "{:#?}",
                run.seen
            );
        }
    }
}

/// The Deployment `shop` in namespace `shop`, as the API server returns it.
fn shop_deployment() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "shop"}},
            "template": {
                "metadata": {"labels": {"app": "shop"}},
                "spec": {"containers": [{"name": "app", "image": "shop:1"}]}
            }
        }
    })
}

/// Job mode's `--dry-run` creates nothing and shows the Job: as YAML for people, and with
/// `-o json` inside the report (`job_manifest`), so that stdout stays exactly one JSON
/// document.
#[test]
fn a_dry_run_shows_the_job_as_yaml_or_inside_the_json_report() {
    let api = FakeApi::start(vec![(
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/shop".to_owned(),
        shop_deployment(),
    )]);
    let kubeconfig = kubeconfig(&scratch_dir("dry-run"), &api.url);
    let dry_run = |json: bool| {
        let format = if json { "json" } else { "text" };
        kmigrate().env("KUBECONFIG", &kubeconfig).args([
            "-n",
            "shop",
            "--app",
            "shop",
            "-o",
            format,
            "migrate",
            "--deployment",
            "shop",
            "--image",
            "shop:2",
            "--dry-run",
        ])
    };
    let out = dry_run(true).status(0);
    let documents: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON only ({e}): {}", stdout(&out)));
    assert_eq!(documents.len(), 1, "{}", stdout(&out));
    let report = &documents[0];
    assert_eq!(report["outcome"], "success", "{report:#}");
    let job = &report["job_manifest"];
    assert_eq!(
        (&job["apiVersion"], &job["kind"]),
        (&"batch/v1".into(), &"Job".into())
    );
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "shop:2", "{job:#}");
    assert!(report["job"].is_null(), "no Job was created: {report:#}");

    let yaml = stdout(&dry_run(false).status(0));
    assert!(
        yaml.starts_with("apiVersion: \"batch/v1\"\nkind: \"Job\"\n"),
        "{yaml}"
    );
    assert_eq!(yaml.matches("apiVersion:").count(), 1, "{yaml}");
    assert!(yaml.contains("image: \"shop:2\""), "{yaml}");
    assert!(
        api.asked()
            .iter()
            .all(|r| r.starts_with("GET ") || r.contains("selfsubjectreviews")),
        "nothing was created: {:?}",
        api.asked()
    );
}

/// A Job-mode `status` in a protected environment creates a Job that runs the app's image
/// with its Secrets: it is confirmed like a migrate (here the namespace's mark, learnt
/// after connecting, protects it), but takes no lock.
#[test]
fn a_job_mode_status_is_confirmed_where_protected_and_takes_no_lock() {
    let marked = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"kmigrate.io/protected": "true"}}});
    let api = FakeApi::start(vec![
        ("GET", "/api/v1/namespaces/shop".to_owned(), marked),
        (
            "GET",
            "/apis/apps/v1/namespaces/shop/deployments/shop".to_owned(),
            shop_deployment(),
        ),
    ]);
    let kubeconfig = kubeconfig(&scratch_dir("job-status"), &api.url);
    let status = || {
        kmigrate().env("KUBECONFIG", &kubeconfig).args([
            "-n",
            "shop",
            "--app",
            "shop",
            "status",
            "--deployment",
            "shop",
            "--image",
            "shop:2",
        ])
    };
    let creates = |asked: &[String]| {
        asked
            .iter()
            .filter(|r| *r == "POST /apis/batch/v1/namespaces/shop/jobs")
            .count()
    };
    status()
        .expect_stderr("Protected environment")
        .expect_stderr("image:     shop:2")
        .expect_stderr("--yes")
        .status(73);
    assert_eq!(creates(&api.asked()), 0, "{:?}", api.asked());

    // Confirmed by --yes, the Job is created (the fake API then refuses it).
    status()
        .args(["--yes"])
        .expect_stderr("Confirmed by --yes.")
        .status_any();
    assert_eq!(creates(&api.asked()), 1, "{:?}", api.asked());
    assert!(
        !api.asked().iter().any(|r| r.contains("/leases")),
        "a status takes no lock: {:?}",
        api.asked()
    );
}

/// Without `app`, a lock is named after the workload of the chosen pod, however the pod is
/// found: `unlock` looks for `kmigrate-shop`, the Deployment's, with `-l app=shop`,
/// `-l app=shop,tier=web` or `--pod`, never for a name made from the selector's text.
#[test]
fn without_app_the_lock_is_named_after_the_pods_deployment() {
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "shop-7d9f8-x2k4q", "namespace": "shop",
            "labels": {"app": "shop", "tier": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "shop-7d9f8", "uid": "rs", "controller": true}]},
        "spec": {"containers": [{"name": "app", "image": "shop:1"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    });
    let list = |items: serde_json::Value| serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items});
    let replicaset = serde_json::json!({"metadata": {"name": "shop-7d9f8",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop",
            "uid": "d", "controller": true}]}});
    let api = FakeApi::start(vec![
        (
            "GET",
            "/api/v1/namespaces/shop/pods".to_owned(),
            list(serde_json::json!([pod.clone()])),
        ),
        (
            "GET",
            "/api/v1/namespaces/shop/pods/shop-7d9f8-x2k4q".to_owned(),
            pod,
        ),
        (
            "GET",
            "/apis/apps/v1/namespaces/shop/replicasets".to_owned(),
            list(serde_json::json!([replicaset])),
        ),
    ]);
    let kubeconfig = kubeconfig(&scratch_dir("lock-name"), &api.url);
    for find in [
        &["-l", "app=shop"][..],
        &["-l", "app=shop,tier=web"],
        &["--pod", "shop-7d9f8-x2k4q"],
    ] {
        let out = kmigrate()
            .env("KUBECONFIG", &kubeconfig)
            .args(["-n", "shop", "-o", "json", "unlock"])
            .args(find)
            .expect_stderr("No lock kmigrate-shop is held in namespace shop")
            .status(0);
        let report = crate::support::report(&out);
        assert_eq!(report.lock.as_deref(), Some("kmigrate-shop"), "{find:?}");
    }
    assert!(
        api.asked()
            .iter()
            .any(|r| r == "GET /apis/coordination.k8s.io/v1/namespaces/shop/leases/kmigrate-shop"),
        "{:?}",
        api.asked()
    );
}

#[test]
fn doctor_without_a_reachable_api_fails_there_and_skips_the_rest() {
    use kmigrate::doctor::Status;
    let dir = scratch_dir("doctor");
    let cfg = kubeconfig(&dir, "https://127.0.0.1:9");
    let out = kmigrate()
        .args([
            "doctor",
            "-l",
            "app=x",
            "--app",
            "demo",
            "-o",
            "json",
            "--kubeconfig",
        ])
        .args([&cfg])
        .expect_stderr("check(s) failed: api")
        .status(81);
    let r = crate::support::report(&out);
    assert_eq!(
        (r.command.as_str(), r.outcome.as_str()),
        ("doctor", "failed")
    );
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(&names[..3], ["kubeconfig", "api", "user"]);
    assert_eq!(names.last(), Some(&"protection"));
    assert_eq!(r.checks[0].status, Status::Pass);
    assert!(r.checks[0].detail.contains(&cfg.display().to_string()));
    assert_eq!(r.checks[1].status, Status::Fail);
    assert!(
        r.checks[1].detail.contains("https://127.0.0.1:9"),
        "{:?}",
        r.checks[1]
    );
    assert!(r.checks[1].fix.is_some());
    for c in &r.checks[2..] {
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert_eq!(c.detail, "needs api, which failed");
    }
    // Without -o json: a mark per check on stdout, the fix under the failure.
    let out = kmigrate()
        .args(["doctor", "-l", "app=x", "--app", "demo", "--kubeconfig"])
        .args([&cfg])
        .status(81);
    let text = stdout(&out);
    assert!(text.starts_with("[ ok ] kubeconfig"), "{text}");
    assert!(
        text.contains("[FAIL] api") && text.contains("fix: check that the server is reachable"),
        "{text}"
    );
    assert!(text.contains("[skip] database"), "{text}");
}
