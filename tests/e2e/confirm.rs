//! Protected namespaces: refused without --yes, typed confirmation on a terminal.

use std::time::Duration;

use crate::harness::{Ns, V1, V2, V3, kubectl, kubectl_out, psql, steal_lease};
use crate::support::{report, type_at_prompt};

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
fn on_terminal(ns: &Ns, args: &[&str], typed: &str) -> (i32, String) {
    on_terminal_after(ns, args, typed, || {})
}

/// As [`on_terminal`], running `meanwhile` while the prompt is on the screen, as a person
/// reading the plan for a while.
pub fn on_terminal_after(
    ns: &Ns,
    args: &[&str],
    typed: &str,
    meanwhile: impl FnOnce() + Send + 'static,
) -> (i32, String) {
    type_at_prompt(
        ns.kmigrate().args(args).terminal_command(),
        typed,
        meanwhile,
    )
}

#[test]
fn typed_confirmation_on_a_terminal() {
    let ns = Ns::with_demo_pod("prod-pay", &[]);
    let (code, screen) = on_terminal(&ns, &["migrate", "-l", "app=demo"], "wrong-name\r");
    assert_eq!(code, 73, "{screen}");
    assert!(screen.contains("pending migrations to apply"), "{screen}");
    assert!(screen.contains("20240101120000"), "{screen}");
    // What is decided on is next to the prompt; the snippet is not on the screen.
    assert!(
        screen.contains(&format!("namespace: {}", ns.name)),
        "{screen}"
    );
    assert!(screen.contains("pod:       demo-0"), "{screen}");
    assert!(
        screen.contains("with kmigrate's Ecto snippet ("),
        "{screen}"
    );
    assert!(!screen.contains("Application.load"), "{screen}");
    let hash_line = screen
        .lines()
        .find(|l| l.trim_start().starts_with("plan "))
        .unwrap_or_else(|| panic!("no plan hash: {screen}"));
    assert_eq!(hash_line.trim().len(), "plan ".len() + 64, "{hash_line}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let (code, screen) = on_terminal(
        &ns,
        &["migrate", "-l", "app=demo"],
        &format!("{}\r", ns.name),
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
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

/// The time the lock was last renewed, as the API server has it.
fn renewed(ns: &str) -> String {
    kubectl_out(&[
        "-n",
        ns,
        "get",
        "lease",
        "kmigrate-demo",
        "-o",
        "jsonpath={.spec.renewTime}",
    ])
}

#[test]
fn the_lock_is_renewed_while_a_person_reads_the_plan() {
    let ns = Ns::with_demo_pod("prod-read", &[]);
    let name = ns.name.clone();
    let other = ns.kmigrate().args(["migrate", "-l", "app=demo", "--yes"]);
    let (code, screen) = on_terminal_after(
        &ns,
        &["migrate", "-l", "app=demo"],
        &format!("{name}\r"),
        move || {
            let first = renewed(&name);
            // Longer than the lease's 30 s: only renewals keep it.
            std::thread::sleep(Duration::from_secs(35));
            let later = renewed(&name);
            assert!(
                later > first,
                "not renewed during the prompt: {first} -> {later}"
            );
            other
                .expect_stderr("another run holds the lock kmigrate-demo")
                .status(74);
        },
    );
    assert_eq!(code, 0, "{screen}");
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn a_plan_that_changed_behind_the_prompt_is_not_run() {
    let ns = Ns::with_demo_pod("prod-plan", &[]);
    let db = ns.db.clone();
    let (code, screen) = on_terminal_after(
        &ns,
        &["migrate", "-l", "app=demo"],
        &format!("{}\r", ns.name),
        move || {
            // Someone outside kmigrate applies the first migration meanwhile (the status
            // read did not create the table: it is read-only, as Ecto's with
            // skip_table_creation).
            psql(
                &db,
                &format!(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, inserted_at timestamp(0)); \
                     INSERT INTO schema_migrations (version, inserted_at) VALUES ({V1}, now())"
                ),
            );
        },
    );
    assert_eq!(code, 72, "{screen}");
    // The run is held to the plan shown: the snippet checks it right before it runs.
    assert!(
        screen.contains("changed after the plan was read"),
        "{screen}"
    );
    assert_eq!(ns.applied(), [V1], "nothing was run after the check");
}

#[test]
fn a_lock_lost_during_the_prompt_stops_the_run_before_it_starts() {
    let ns = Ns::with_demo_pod("prod-lost", &[]);
    let name = ns.name.clone();
    let (code, screen) = on_terminal_after(
        &ns,
        &["migrate", "-l", "app=demo"],
        &format!("{name}\r"),
        move || {
            steal_lease(&name);
            // The next renewal (every 10 s) notices.
            std::thread::sleep(Duration::from_secs(12));
        },
    );
    assert_eq!(code, 74, "{screen}");
    assert!(
        screen.contains("lost the lock kmigrate-demo before the command started"),
        "{screen}"
    );
    assert!(screen.contains("intruder"), "{screen}");
    assert_eq!(ns.applied(), Vec::<i64>::new());
}
