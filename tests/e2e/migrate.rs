//! migrate, rollback and status against a real database.

use kmigrate::ecto_output::Direction;

use crate::harness::{Ns, V1, V2, V3, migration_set, psql};
use crate::support::{report, stdout};

#[test]
fn migrate_applies_then_reports_already_up() {
    let ns = Ns::with_demo_pod("migrate", &[]);
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("success", Some(0))
    );
    let versions: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1, V2, V3]);
    assert!(
        r.migrations
            .iter()
            .all(|m| m.direction == Direction::Up && m.repo.as_deref() == Some("Demo.Repo"))
    );
    assert_eq!(r.pod.as_deref(), Some("demo-0"));
    assert_eq!(ns.applied(), [V1, V2, V3]);
    assert!(ns.tables().contains(&"comments".to_owned()));
    // Remote output went to stderr, keeping stdout one JSON document.
    assert!(String::from_utf8_lossy(&out.stderr).contains("== Migrated 20240103120000"));
    // Nothing pending: the snippet runs nothing at all, so nothing is locked or logged.
    let again = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr("nothing to do, migrations already up")
        .status(0);
    assert!(!stdout(&again).contains("== Running"), "{}", stdout(&again));
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn failing_migration_passes_exit_code_and_leaves_no_trace() {
    let ns = Ns::with_demo_pod(
        "failing",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("failing"))],
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("** (")
        .status(1);
    let r = report(&out);
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("failed", Some(1))
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V1, V2]
    );
    assert_eq!(
        ns.applied(),
        [V1, V2],
        "the failing migration must leave nothing behind"
    );
}

#[test]
fn rollback_by_step_and_to_and_status_gate() {
    let ns = Ns::with_demo_pod("rollback", &[]);
    let status = |code| {
        report(
            &ns.kmigrate()
                .args(["status", "-l", "app=demo", "-o", "json", "--exit-code"])
                .status(code),
        )
    };
    let before = status(10);
    assert_eq!(before.outcome, "pending");
    assert!(
        before
            .migrations
            .iter()
            .all(|m| m.direction == Direction::Down)
    );
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let human = ns.kmigrate().args(["status", "-l", "app=demo"]).status(0);
    assert!(
        stdout(&human).contains("up           20240103120000"),
        "{}",
        stdout(&human)
    );
    assert!(
        status(0)
            .migrations
            .iter()
            .all(|m| m.direction == Direction::Up)
    );

    let out = ns
        .kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "1"])
        .expect_stderr("Reverting 1 migration(s)")
        .expect_stderr("20240103120000")
        .status(0);
    drop(out);
    assert_eq!(ns.applied(), [V1, V2]);
    let r = report(
        &ns.kmigrate()
            .args([
                "rollback",
                "-l",
                "app=demo",
                "--to",
                &V1.to_string(),
                "-o",
                "json",
            ])
            .status(0),
    );
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [V2, V1]
    );
    assert!(r.migrations.iter().all(|m| m.direction == Direction::Down));
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert!(!ns.tables().contains(&"posts".to_owned()));
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--step", "2"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2]);
}

/// A migration merged late (older than the newest applied one) is named out of order by
/// status and plan before it runs; `--to-exclusive` stops before a version, as Ecto's
/// `to_exclusive:` does, going up and going down.
#[test]
fn an_out_of_order_migration_is_said_and_to_exclusive_stops_before_its_version() {
    let ns = Ns::with_demo_pod("outoforder", &[]);
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--to-exclusive",
            &V2.to_string(),
        ])
        .expect_stdout("== Migrated 20240101120000")
        .status(0);
    assert_eq!(ns.applied(), [V1], "to_exclusive: V2 stops before V2");
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    // V2 as if its branch were merged after V3 had run.
    psql(
        &ns.db,
        &format!(
            "DROP INDEX posts_title_index; DELETE FROM schema_migrations WHERE version = {V2}"
        ),
    );
    let status = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let after: Vec<(i64, Option<i64>)> = status
        .migrations
        .iter()
        .map(|m| (m.version, m.out_of_order_after))
        .collect();
    assert_eq!(after, [(V1, None), (V2, Some(V3)), (V3, None)]);
    ns.kmigrate()
        .args(["status", "-l", "app=demo"])
        .expect_stderr(&format!(
            "{V2} (Demo.Repo) is pending but older than {V3}, already applied: a migrate runs it out of order"
        ))
        .status(0);
    ns.kmigrate()
        .args(["plan", "-l", "app=demo"])
        .expect_stdout(&format!(
            "out of order: older than {V3}, already applied; a later rollback --step reverts {V3} first"
        ))
        .status(0);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // Down: --to-exclusive keeps the version it names, and it must exist.
    ns.kmigrate()
        .args(["rollback", "-l", "app=demo", "--to-exclusive", "20240102"])
        .expect_stderr("version 20240102 is not a migration of Demo.Repo")
        .status(2);
    ns.kmigrate()
        .args([
            "rollback",
            "-l",
            "app=demo",
            "--to-exclusive",
            &V1.to_string(),
        ])
        .status(0);
    assert_eq!(ns.applied(), [V1]);
}
