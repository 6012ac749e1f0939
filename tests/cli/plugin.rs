//! Installed as `kubectl-kmigrate`, kmigrate is a kubectl plugin: help, usage errors,
//! `--version`, completions and advice say `kubectl kmigrate`, the name the user typed.
//! As `kubectl_complete-kmigrate` it answers kubectl's shell completion.

use crate::fake_api::FakeApi;
use crate::kubeconfig;
use crate::support::{kmigrate, kmigrate_as, scratch_dir, stdout};

#[test]
fn help_usage_and_version_name_the_plugin() {
    let out = kmigrate_as("kubectl-kmigrate")
        .args(["--help"])
        .expect_stdout("Usage: kubectl kmigrate [OPTIONS] <COMMAND>")
        .status(0);
    assert!(
        !stdout(&out).contains("kubectl-kmigrate"),
        "{}",
        stdout(&out)
    );
    kmigrate_as("kubectl-kmigrate")
        .args(["migrate", "--help"])
        .expect_stdout("Usage: kubectl kmigrate migrate [OPTIONS]")
        .status(0);
    kmigrate_as("kubectl-kmigrate")
        .args(["--version"])
        .expect_stdout(&format!("kubectl kmigrate {}", env!("CARGO_PKG_VERSION")))
        .status(0);
    // A usage error is clap's: its usage line too.
    kmigrate_as("kubectl-kmigrate")
        .args(["migrate", "--no-such-flag"])
        .expect_stderr("Usage: kubectl kmigrate migrate [OPTIONS]")
        .reject_stderr("kubectl-kmigrate")
        .status(2);
    kmigrate_as("kubectl-kmigrate")
        .expect_stderr("Usage: kubectl kmigrate [OPTIONS] <COMMAND>")
        .status(2);
    // Under its own name nothing changes.
    kmigrate()
        .args(["migrate", "--no-such-flag"])
        .expect_stderr("Usage: kmigrate migrate [OPTIONS]")
        .reject_stderr("kubectl")
        .status(2);
}

#[test]
fn advice_names_the_plugin() {
    kmigrate_as("kubectl-kmigrate")
        .args(["logs", "Not_A_Run"])
        .expect_stderr("`kubectl kmigrate runs` lists them")
        .status(2);
    kmigrate_as("kubectl-kmigrate")
        .args(["-e", "prod", "pods"])
        .expect_stderr("see `kubectl kmigrate init`")
        .status(2);
    kmigrate()
        .args(["logs", "Not_A_Run"])
        .expect_stderr("; `kmigrate runs` lists them")
        .reject_stderr("kubectl kmigrate")
        .status(2);
    // After a request: the run is not found (the fake API answers 404), and the advice is
    // what to type next.
    let api = FakeApi::start(Vec::new());
    let dir = scratch_dir("plugin-logs");
    kmigrate_as("kubectl-kmigrate")
        .env("KUBECONFIG", kubeconfig(&dir, &api.url))
        .args(["-n", "shop", "logs", "kmigrate-shop-20260101000000-abcd"])
        .expect_stderr("`kubectl kmigrate -n shop runs` lists them")
        .status(69);
    assert_eq!(
        api.asked(),
        ["GET /apis/batch/v1/namespaces/shop/jobs/kmigrate-shop-20260101000000-abcd"]
    );
}

#[test]
fn completions_are_for_the_command_typed_and_point_kubectl_users_on() {
    let out = kmigrate_as("kubectl-kmigrate")
        .args(["completions", "bash"])
        .expect_stderr("kubectl_complete-kmigrate")
        .status(0);
    let script = stdout(&out);
    assert!(
        script.contains("-o bashdefault -o default kubectl-kmigrate\n"),
        "{script}"
    );
    // Never a script that would take over `kubectl`'s own completion.
    assert!(!script.contains("kubectl kmigrate"), "{script}");
    let fish = kmigrate_as("kubectl-kmigrate")
        .args(["completions", "fish"])
        .status(0);
    assert!(stdout(&fish).contains("complete -c kubectl-kmigrate"));
}

#[test]
fn kubectl_complete_answers_as_cobra_does() {
    let out = kmigrate_as("kubectl_complete-kmigrate")
        .args(["mi"])
        .status(0);
    assert_eq!(stdout(&out), "migrate\tRun pending migrations\n:4\n");
    let out = kmigrate_as("kubectl_complete-kmigrate")
        .args(["-n", "shop", "status", "-o", ""])
        .status(0);
    assert_eq!(
        stdout(&out),
        "text\tPlain text for people\njson\tOne JSON document on stdout; remote output goes to stderr\n:4\n"
    );
    // A path is left to the shell's file completion (directive 0).
    let out = kmigrate_as("kubectl_complete-kmigrate")
        .args(["--kubeconfig", ""])
        .status(0);
    assert_eq!(stdout(&out), ":0\n");
}
