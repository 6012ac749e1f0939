//! kmigrate as a kubectl plugin, run by the cluster's own kubectl: `kubectl kmigrate ...`
//! finds `kubectl-kmigrate` on PATH, and kubectl's shell completion asks
//! `kubectl_complete-kmigrate` for the plugin's words.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{Ns, local};
use crate::support::{installed_as, report, scratch_dir};

/// Run the cluster's kubectl with `bin` first on PATH, as the admin user, in a scrubbed
/// environment.
fn kubectl_with(bin: &Path, args: &[&str]) -> Output {
    let l = local();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    Command::new(&l.kubectl)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", scratch_dir("home"))
        .env("KUBECONFIG", &l.admin)
        .output()
        .expect("run kubectl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Check a kubectl run's exit code and that its stdout (or stderr) holds `needle`.
fn expect(out: &Output, code: i32, stdout_has: &str, stderr_has: &str) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let show = || format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert_eq!(out.status.code(), Some(code), "{}", show());
    assert!(
        stdout.contains(stdout_has),
        "stdout lacks {stdout_has:?}: {}",
        show()
    );
    assert!(
        stderr.contains(stderr_has),
        "stderr lacks {stderr_has:?}: {}",
        show()
    );
}

#[test]
fn kubectl_runs_the_plugin_under_its_name() {
    let ns = Ns::with_demo_pod("plugin", &[]);
    let bin = installed_as(&["kubectl-kmigrate"]);
    let plugin = |args: &[&str]| {
        let mut all = vec!["kmigrate"];
        all.extend_from_slice(args);
        kubectl_with(&bin, &all)
    };

    let listed = kubectl_with(&bin, &["plugin", "list", "--name-only"]);
    expect(&listed, 0, "kubectl-kmigrate\n", "");

    expect(
        &plugin(&["-n", &ns.name, "pods", "-l", "app=demo"]),
        0,
        "demo-0",
        "",
    );
    let json = plugin(&["-n", &ns.name, "pods", "-l", "app=demo", "-o", "json"]);
    expect(&json, 0, "", "");
    assert_eq!(report(&json).pod.as_deref(), Some("demo-0"));
    let usage = "Usage: kubectl kmigrate [OPTIONS] <COMMAND>";
    expect(&plugin(&["--help"]), 0, usage, "");

    // kubectl passes the plugin's exit code and stderr through: a usage error and an
    // advice line both name what the user typed.
    let usage = "Usage: kubectl kmigrate migrate [OPTIONS]";
    expect(&plugin(&["migrate", "--no-such-flag"]), 2, "", usage);
    let run = "kmigrate-demo-20260101000000-abcd";
    let advice = format!("`kubectl kmigrate -n {} runs` lists them", ns.name);
    expect(&plugin(&["-n", &ns.name, "logs", run]), 69, "", &advice);
}

#[test]
fn kubectl_completes_the_plugin_through_kubectl_complete() {
    let bin = installed_as(&["kubectl-kmigrate", "kubectl_complete-kmigrate"]);
    // What kubectl's completion scripts run on <TAB>: `kubectl kmigrate mi<TAB>`.
    let out = kubectl_with(&bin, &["__complete", "kmigrate", "mi"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines, ["migrate\tRun pending migrations", ":4"], "{said}");

    let out = kubectl_with(
        &bin,
        &["__complete", "kmigrate", "-n", "shop", "status", "--exit"],
    );
    let said = text(&out.stdout);
    assert!(said.starts_with("--exit-code\t"), "{said}");
    assert!(said.ends_with(":4\n"), "{said}");

    // Without the completion executable kubectl offers files, as for any plugin.
    let bare = installed_as(&["kubectl-kmigrate"]);
    let out = kubectl_with(&bare, &["__complete", "kmigrate", "mi"]);
    let said = text(&out.stdout);
    assert!(!said.contains("migrate"), "{said}");
}
