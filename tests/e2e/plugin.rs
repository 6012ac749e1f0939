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

#[test]
fn kubectl_runs_the_plugin_under_its_name() {
    let ns = Ns::with_demo_pod("plugin", &[]);
    let bin = installed_as(&["kubectl-kmigrate"]);

    let listed = kubectl_with(&bin, &["plugin", "list", "--name-only"]);
    assert!(
        text(&listed.stdout)
            .lines()
            .any(|l| l == "kubectl-kmigrate"),
        "kubectl does not see the plugin: {}{}",
        text(&listed.stdout),
        text(&listed.stderr)
    );

    let out = kubectl_with(
        &bin,
        &["kmigrate", "-n", &ns.name, "pods", "-l", "app=demo"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("demo-0"),
        "{}",
        text(&out.stdout)
    );
    let out = kubectl_with(
        &bin,
        &[
            "kmigrate", "-n", &ns.name, "pods", "-l", "app=demo", "-o", "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(report(&out).pod.as_deref(), Some("demo-0"));

    let help = kubectl_with(&bin, &["kmigrate", "--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", text(&help.stderr));
    assert!(
        text(&help.stdout).contains("Usage: kubectl kmigrate [OPTIONS] <COMMAND>"),
        "{}",
        text(&help.stdout)
    );

    // kubectl passes the plugin's exit code and stderr through: a usage error and an
    // advice line both name what the user typed.
    let usage = kubectl_with(&bin, &["kmigrate", "migrate", "--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage.stderr));
    assert!(
        text(&usage.stderr).contains("Usage: kubectl kmigrate migrate [OPTIONS]"),
        "{}",
        text(&usage.stderr)
    );
    let missing = kubectl_with(
        &bin,
        &[
            "kmigrate",
            "-n",
            &ns.name,
            "logs",
            "kmigrate-demo-20260101000000-abcd",
        ],
    );
    assert_eq!(missing.status.code(), Some(69), "{}", text(&missing.stderr));
    assert!(
        text(&missing.stderr).contains("`kubectl kmigrate runs` lists them"),
        "{}",
        text(&missing.stderr)
    );
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
