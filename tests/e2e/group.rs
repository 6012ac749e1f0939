//! Several environments in one command: two namespaces as two environments of one config,
//! run in order, fail-fast or not, one confirmation, one JSON document.

use kmigrate::report::GroupReport;

use crate::audit::events;
use crate::faultproxy::{FaultProxy, apiserver_addr};
use crate::harness::{Ns, V1, V2, V3, local, migration_set, release};
use crate::support::{kmigrate, scratch_dir, stdout};

/// `eu` migrates cleanly; `us` has a failing third migration.
fn two_regions(protect_eu: bool) -> (Ns, Ns, std::path::PathBuf) {
    let eu = Ns::with_demo_pod("grp-eu", &[]);
    let us = Ns::with_demo_pod(
        "grp-us",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("failing"))],
    );
    let dir = scratch_dir("group");
    std::fs::write(
        dir.join("kmigrate.toml"),
        format!(
            "selector = \"app=demo\"\nrelease = \"{}\"\n\n[env.eu]\nnamespace = \"{}\"\nprotected = {protect_eu}\n\n[env.us]\nnamespace = \"{}\"\n\n[groups]\nworld = [\"us\", \"eu\"]\n",
            release(),
            eu.name,
            us.name
        ),
    )
    .unwrap();
    (eu, us, dir)
}

fn group_report(out: &std::process::Output) -> GroupReport {
    serde_json::from_str(&stdout(out)).expect("one JSON document for the group")
}

#[test]
fn environments_run_in_order_and_the_first_failure_stops_the_rest() {
    let (eu, us, dir) = two_regions(false);
    let run = || kmigrate().dir(&dir).env("KUBECONFIG", &local().admin);
    // us first: it fails, so eu does not run; none succeeded: the failure's own code.
    let out = run()
        .args(["-e", "us,eu", "migrate", "-o", "json"])
        .expect_stderr("environment us")
        .status(1);
    let r = group_report(&out);
    let envs: Vec<(&str, bool, &str)> = r
        .environments
        .iter()
        .map(|e| (e.env.as_str(), e.ran, e.report.outcome.as_str()))
        .collect();
    assert_eq!(envs, [("us", true, "failed"), ("eu", false, "not run")]);
    assert_eq!((r.exit_code, r.outcome.as_str()), (1, "failed"));
    assert_eq!(us.applied(), [V1, V2]);
    assert_eq!(eu.applied(), Vec::<i64>::new());
    // The named group, told to go on: us fails again, eu runs; some succeeded: 80.
    let out = run()
        .args([
            "-e",
            "world",
            "--continue-on-error",
            "migrate",
            "-o",
            "json",
        ])
        .status(80);
    let r = group_report(&out);
    assert_eq!(r.outcome, "partial");
    assert_eq!(r.environments[1].report.migrations.len(), 3);
    assert_eq!(eu.applied(), [V1, V2, V3]);
    // Each environment left its own Event, in its own namespace.
    assert_eq!(events(&eu).len(), 1);
    assert_eq!(events(&us).len(), 2);
    // All succeed: 0, with a summary for people.
    run()
        .args(["-e", "eu,us", "rollback", "--step", "1"])
        .expect_stderr("2 of 2 environments succeeded")
        .status(0);
    assert_eq!((eu.applied(), us.applied()), (vec![V1, V2], vec![V1]));
}

#[test]
fn one_protected_environment_makes_the_group_confirm_once_before_anything_runs() {
    let (eu, us, dir) = two_regions(true);
    let run = || kmigrate().dir(&dir).env("KUBECONFIG", &local().admin);
    // No terminal, no --yes: the whole group is refused before any request, as one
    // protected environment is: no plan is read, nothing runs.
    run()
        .args(["-e", "eu,us", "migrate"])
        .expect_stderr("Protected environment (eu: ")
        .expect_stderr("nothing was run in any environment")
        .reject_stderr("Several environments")
        .status(73);
    assert_eq!((eu.applied(), us.applied()), (vec![], vec![]));
    // Its report says refused, as a single environment's does.
    let refused = group_report(
        &run()
            .args(["-e", "eu,us", "migrate", "-o", "json"])
            .status(73),
    );
    assert_eq!(
        (refused.exit_code, refused.outcome.as_str()),
        (73, "refused")
    );
    // A read-only status is not confirmed, as in one protected environment.
    run()
        .args(["-e", "eu,us", "status"])
        .expect_stderr("Several environments, in order:")
        .reject_stderr("is protected")
        .status(0);
    // Several environments are for migrate, rollback and status only.
    run()
        .args(["-e", "eu,us", "exec", "--", "true"])
        .expect_stderr("one environment at a time")
        .status(2);
    // Confirmed: eu applies, us fails at its third; one of two succeeded.
    run()
        .args(["-e", "eu,us", "--yes", "migrate"])
        .expect_stderr("Confirmed by --yes")
        .expect_stderr("1 of 2 environments succeeded")
        .status(80);
    assert_eq!(
        (eu.applied(), us.applied()),
        (vec![V1, V2, V3], vec![V1, V2])
    );
}

/// A Ctrl-C that arrives while one environment finishes (its audit Event held back on the
/// way to the API server) stops the group: the next environment is not run, exit 130.
#[test]
fn a_stop_while_an_environment_finishes_stops_the_group() {
    let (eu, _us, dir) = two_regions(false);
    let other = Ns::with_demo_pod("grp-ap", &[]);
    let config = dir.join("kmigrate.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "[groups]",
            &format!("[env.ap]\nnamespace = \"{}\"\n\n[groups]", other.name),
        ),
    )
    .unwrap();
    let proxy = FaultProxy::start(apiserver_addr());
    let mut run = kmigrate()
        .dir(&dir)
        .env("KUBECONFIG", proxy.kubeconfig())
        .args(["-e", "eu,ap", "migrate"])
        .spawn();
    run.wait_line(&format!("== Migrated {V3}"));
    // The next large request is eu's audit Event (it carries the snippet): held for 8 s.
    proxy.hold_request(4000, std::time::Duration::from_secs(8));
    std::thread::sleep(std::time::Duration::from_secs(2));
    run.signal("INT");
    let (code, _) = run.wait_exit(std::time::Duration::from_secs(60));
    assert_eq!(eu.applied(), [V1, V2, V3], "{:#?}", run.seen);
    assert_eq!(other.applied(), Vec::<i64>::new(), "{:#?}", run.seen);
    assert_eq!(code, 130, "{:#?}", run.seen);
    assert_eq!(proxy.faulted(), 1, "the Event was held: {:#?}", run.seen);
    assert!(
        run.seen
            .iter()
            .any(|l| l.contains("interrupted by SIGINT: the environments after eu were not run")),
        "{:#?}",
        run.seen
    );
}
