//! Through PgBouncer (Debian's, transaction pooling, started by scripts/pgbouncer with
//! PostgreSQL): a migrate, a `--lock-timeout` run that PgBouncer refuses or silently drops
//! (exit 84, nothing run), one whose timeout the server applies (cancelled at it, exit 78,
//! its blocker named), and `doctor`'s session check. The pod's repo connects to PgBouncer;
//! the test's own psql and the lock holder connect to PostgreSQL directly.

use kmigrate::doctor::Status;
use serde::Deserialize;

use crate::harness::{Ns, V1, local, psql};
use crate::support::report;

/// `pgbouncer.json`, written by `scripts/pgbouncer up` (which scripts/postgres up runs).
#[derive(Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct Bouncers {
    /// PgBouncer's defaults for startup parameters: it refuses those it does not track.
    kmigrate_pgbouncer_port: String,
    /// `ignore_startup_parameters = options,lock_timeout,statement_timeout`.
    kmigrate_pgbouncer_ignoring_port: String,
}

fn bouncers() -> Bouncers {
    let path = local().state.join("pgbouncer.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "PgBouncer is not running (no {}: {e}): start it with `scripts/cluster up` (or `scripts/pgbouncer up`)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("pgbouncer.json as scripts/pgbouncer writes it")
}

/// A migrate with a lock timeout.
const WITH_TIMEOUT: [&str; 5] = ["migrate", "-l", "app=demo", "--lock-timeout", "5s"];

/// The server's `lock_timeout` for the sessions of database `db` (option 2 of the guide),
/// before PgBouncer opens a server session to it: open ones keep what they started with.
fn server_lock_timeout(db: &str, value: &str) {
    psql(
        "postgres",
        &format!("ALTER DATABASE {db} SET lock_timeout = '{value}'"),
    );
}

/// A namespace whose pod `demo-0` reaches its database through PgBouncer on `port`.
fn through(tag: &str, port: &str) -> Ns {
    Ns::with_demo_pod(tag, &[("PGPORT", port)])
}

/// Two runs in a row: PgBouncer's pooled server sessions keep the name of the last client
/// they served (kmigrate-migrate-<the first run>), idle; the second run must not take them
/// for a run still executing.
#[test]
fn migrates_through_pgbouncer_apply_everything() {
    let ns = through("pgb-migrate", &bouncers().kmigrate_pgbouncer_port);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    let left = psql(
        &ns.db,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'kmigrate-migrate-%' AND state = 'idle'",
    );
    assert_ne!(
        left.trim(),
        "0",
        "PgBouncer keeps the run's server sessions, named"
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .status(0);
    assert_eq!(report(&out).outcome, "success");
    assert_eq!(ns.applied().len(), 3);
    ns.kmigrate()
        .args(["status", "-l", "app=demo", "--exit-code"])
        .status(0);
}

/// PgBouncer refuses the timeout as a startup parameter ("unsupported startup parameter"):
/// not a connection storm ending in "could not connect", but exit 84 naming what to set.
#[test]
fn a_timeout_pgbouncer_refuses_stops_the_run_with_84_and_the_fix() {
    let ns = through("pgb-refused", &bouncers().kmigrate_pgbouncer_port);
    let out = ns
        .kmigrate()
        .args(WITH_TIMEOUT)
        .args(["-o", "json"])
        .expect_stderr("refused the session parameter lock_timeout")
        .expect_stderr("unsupported startup parameter")
        .expect_stderr("nothing was run")
        .expect_stderr("docs/guide/pgbouncer.md")
        .reject_stderr("could not connect")
        .status(84);
    assert_eq!(report(&out).outcome, "error");
    assert!(ns.applied().is_empty(), "{:?}", ns.applied());
}

/// Listed in `ignore_startup_parameters`, the timeout is taken and never applied: a run
/// that believed it would wait without bound. kmigrate reads it on the run's session and
/// refuses.
#[test]
fn a_timeout_pgbouncer_drops_is_seen_on_the_session_and_nothing_runs() {
    let ns = through("pgb-dropped", &bouncers().kmigrate_pgbouncer_ignoring_port);
    ns.kmigrate()
        .args(WITH_TIMEOUT)
        .args(["--statement-timeout", "1m"])
        .expect_stderr("took lock_timeout = 5000 but 0 is in force")
        .expect_stderr("statement_timeout = 60000 but 0 is in force")
        .expect_stderr("ignore_startup_parameters")
        .expect_stderr("nothing was run")
        .status(84);
    assert!(ns.applied().is_empty(), "{:?}", ns.applied());
    // Without timeouts the same PgBouncer runs it: the sessions' name is tracked.
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    assert_eq!(ns.applied().len(), 3);
}

/// The documented way behind PgBouncer 1.18: the server gives the migrating sessions their
/// timeout (here the test database's default), PgBouncer ignores the startup parameter,
/// and kmigrate checks that what it asked for is in force. The blocked migration is then
/// cancelled at the timeout (78), its blocker named while it waits.
#[test]
fn through_pgbouncer_a_blocked_migration_names_its_blocker_and_ends_at_the_lock_timeout() {
    let ns = through("pgb-lockwait", &bouncers().kmigrate_pgbouncer_ignoring_port);
    server_lock_timeout(&ns.db, "12s");
    crate::waits::blocked_until_the_lock_timeout(&ns);
}

fn session_check(ns: &Ns, extra: &[&str], code: i32) -> kmigrate::doctor::Check {
    let out = ns
        .kmigrate()
        .args(["doctor", "-l", "app=demo", "-o", "json"])
        .args(extra)
        .status(code);
    report(&out)
        .checks
        .into_iter()
        .find(|c| c.name == "session")
        .expect("doctor's session check")
}

/// `doctor` opens sessions as a run does and says whether the timeouts reach PostgreSQL,
/// and that a pooler sits in between, with the fix.
#[test]
fn doctor_says_whether_the_timeouts_reach_postgresql_through_pgbouncer() {
    let b = bouncers();
    let refusing = through("pgb-doctor", &b.kmigrate_pgbouncer_port);
    // No timeout configured: a warning (runs without one work); with one, a failure.
    let c = session_check(&refusing, &[], 0);
    assert_eq!(c.status, Status::Warn, "{c:?}");
    assert!(c.detail.contains("refused the startup parameter"), "{c:?}");
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("ignore_startup_parameters")),
        "{c:?}"
    );
    let c = session_check(&refusing, &["--lock-timeout", "5s"], 81);
    assert_eq!(c.status, Status::Fail, "{c:?}");
    let ignoring = through("pgb-doctor-drop", &b.kmigrate_pgbouncer_ignoring_port);
    // The server gives the database's sessions a lock_timeout: another one asked for is not
    // in force.
    server_lock_timeout(&ignoring.db, "5s");
    let c = session_check(&ignoring, &["--lock-timeout", "9s"], 81);
    assert_eq!(c.status, Status::Fail, "{c:?}");
    assert!(
        c.detail
            .contains("lock_timeout = 9000 was taken but 5000 is in force"),
        "{c:?}"
    );
    // The one the server applies is: in force, and the pooler is named by its ports.
    let c = session_check(&ignoring, &["--lock-timeout", "5s"], 0);
    assert_eq!(c.status, Status::Pass, "{c:?}");
    let server_port = &local().pg.iter().find(|(k, _)| k == "PGPORT").unwrap().1;
    assert!(
        c.detail.contains(&format!(
            "the server answers on port {server_port}, the repo connects to {}",
            b.kmigrate_pgbouncer_ignoring_port
        )),
        "{c:?}"
    );
    // Ecto's advisory migration lock behind the pooler: a session lock that transaction
    // pooling does not keep, warned of with the fix.
    let advisory = Ns::with_demo_pod(
        "pgb-doctor-adv",
        &[
            ("PGPORT", &b.kmigrate_pgbouncer_ignoring_port),
            ("DEMO_MIGRATION_LOCK", "pg_advisory_lock"),
        ],
    );
    server_lock_timeout(&advisory.db, "5s");
    let c = session_check(&advisory, &["--lock-timeout", "5s"], 0);
    assert_eq!(c.status, Status::Warn, "{c:?}");
    assert!(
        c.detail.contains("migration_lock: :pg_advisory_lock"),
        "{c:?}"
    );
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("pool_mode = session")),
        "{c:?}"
    );
}
