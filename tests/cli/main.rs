//! The CLI tier: the built binary run as a user runs it, needing no cluster or other
//! service, so plain `cargo test` runs it. Usage errors, config errors, completions, init.

// Shared by both test targets; each uses only part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use crate::support::{kmigrate, repo, scratch_dir, stdout};

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
        .status(2);
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
    let real = dir.join("config");
    std::fs::write(
        &real,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .unwrap();
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
    let dir = scratch_dir("early");
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .unwrap();
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
