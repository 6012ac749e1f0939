//! Server-side settings of production databases, set on the test's own database (or its
//! sessions) as a DBA would: `idle_in_transaction_session_timeout`, a non-English
//! `lc_messages`, and maintenance that takes the lock Ecto's migration lock takes (#27
//! item 4).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kmigrate::ecto_output::TimeoutKind;

use crate::harness::{LiveNode, Ns, V1, local, migration_set, psql};
use crate::support::{report, wait_for};
use crate::waits::Holder;

/// The migration of the `slow` set that sleeps 2 s in its transaction.
const SLOW: i64 = 20240104120000;

/// The database ends sessions idle in a transaction for 1.5 s: Ecto's table-lock session is
/// one for the whole of a 2 s migration.
fn end_idle_transactions(db: &str) {
    psql(
        "postgres",
        &format!("ALTER DATABASE {db} SET idle_in_transaction_session_timeout = '1500ms'"),
    );
}

/// With `idle_in_transaction_session_timeout` set on the database, a migration longer than
/// it runs to its end: the run's own sessions turn it off for themselves, the database's
/// setting stays.
#[test]
fn a_migration_longer_than_the_idle_transaction_timeout_runs_to_its_end() {
    let ns = Ns::with_demo_pod(
        "idlexact",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))],
    );
    end_idle_transactions(&ns.db);
    let r = report(
        &ns.kmigrate()
            .args(["migrate", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let ran: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(ran, [V1, SLOW]);
    assert_eq!(ns.applied(), [V1, SLOW]);
    assert_eq!(
        psql(&ns.db, "SHOW idle_in_transaction_session_timeout").trim(),
        "1500ms"
    );
}

/// Where the `session_source` migration's connection got its idle timeout, and its value.
fn idle_timeout_source(with_database_setting: bool) -> String {
    let ns = Ns::with_demo_pod(
        "idlesrc",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("session_source"))],
    );
    if with_database_setting {
        end_idle_transactions(&ns.db);
    }
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    psql(
        &ns.db,
        "SELECT source || ' ' || setting FROM session_source",
    )
    .trim()
    .to_owned()
}

/// The run's sessions carry the idle timeout as a startup parameter only where the server
/// sets one: elsewhere PgBouncer would refuse a parameter it does not know, for nothing.
#[test]
fn the_idle_timeout_is_turned_off_only_where_the_server_sets_one() {
    assert_eq!(idle_timeout_source(false), "default 0");
    assert_eq!(idle_timeout_source(true), "client 0");
}

/// In `rpc` the live app's pool is not kmigrate's to change: the server ends the lock
/// session after the migration committed, and Ecto raises. The run fails, and says what the
/// migrations table holds: the migration is applied.
#[test]
fn a_migration_committed_before_its_lock_session_was_ended_is_reported_applied() {
    let ns = Ns::new("idlerpc");
    end_idle_transactions(&ns.db);
    let live = LiveNode::start(
        &ns,
        "idlerpc",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))],
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--mode", "rpc", "-o", "json"])
        .status_any();
    drop(live);
    assert_ne!(out.status.code(), Some(0));
    let ran: Vec<i64> = report(&out).migrations.iter().map(|m| m.version).collect();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(ran, [V1, SLOW], "{said}");
    assert!(
        said.contains(&format!(
            "note: migration {SLOW} took effect (Demo.Repo's migrations table says so); the error below came after it"
        )),
        "{said}"
    );
    assert_eq!(ns.applied(), [V1, SLOW]);
}

/// A server that speaks German says "storniere Anfrage wegen Zeitüberschreitung der
/// Anfrage": the statement timeout is read from SQLSTATE 57014 and the run's own limit, not
/// from English words, and ends with 78.
#[test]
fn a_statement_timeout_is_read_whatever_the_servers_language() {
    let ns = Ns::with_demo_pod("lcmsg", &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))]);
    psql(
        "postgres",
        &format!("ALTER DATABASE {} SET lc_messages = 'de_DE.UTF-8'", ns.db),
    );
    let german = Command::new("psql")
        .envs(local().pg.iter().cloned())
        .args(["-X", "-q", "-d", &ns.db, "-c", "SELECT 1/0"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&german.stderr).contains("FEHLER"),
        "the server must speak German (scripts/postgres up makes the de_DE.UTF-8 locale): {german:?}"
    );
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--statement-timeout",
            "1s",
            "-o",
            "json",
        ])
        .expect_stderr("ran a statement longer than the statement timeout")
        .status(78);
    let t = report(&out).timed_out.expect("the cancelled migration");
    assert_eq!(
        (t.version, t.kind, t.in_transaction),
        (SLOW, TimeoutKind::Statement, true)
    );
    assert_eq!(ns.applied(), [V1]);
}

/// `psql` running `sql` in `db` until it ends or is killed.
fn session(db: &str, app: &str, sql: &str) -> Child {
    Command::new("psql")
        .envs(local().pg.iter().cloned())
        .env("PGAPPNAME", app)
        .args(["-X", "-q", "-d", db, "-c", sql])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The application names of the sessions holding `ShareUpdateExclusiveLock` on
/// `schema_migrations`, sorted.
fn share_update_holders(db: &str) -> String {
    psql(
        db,
        "SELECT string_agg(a.application_name, ',' ORDER BY a.application_name) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.granted AND l.mode = 'ShareUpdateExclusiveLock' AND l.relation = 'schema_migrations'::regclass",
    )
    .trim()
    .to_owned()
}

/// What `status` says holds Ecto's migration lock: the application names, and whether it
/// says a migration is running.
fn lock_holders_said(ns: &Ns) -> (Vec<String>, bool) {
    let r = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let human = ns.kmigrate().args(["status", "-l", "app=demo"]).status(0);
    (
        r.migration_locks
            .iter()
            .map(|h| h.application.clone())
            .collect(),
        String::from_utf8_lossy(&human.stderr).contains("A migration is running"),
    )
}

/// `ANALYZE` in a long transaction and a `CREATE INDEX CONCURRENTLY` waiting for an old
/// snapshot hold `ShareUpdateExclusiveLock` on `schema_migrations`, as Ecto's lock does:
/// `status` calls neither a running migration, and still names a session that took Ecto's
/// own `LOCK TABLE`.
#[test]
fn maintenance_on_the_migrations_table_is_no_running_migration() {
    let ns = Ns::with_demo_pod("maint", &[]);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let analyze = Holder::hold(&ns.db, "analyze", "ANALYZE schema_migrations");
    assert_eq!(share_update_holders(&ns.db), "analyze");
    assert_eq!(lock_holders_said(&ns), (vec![], false));
    drop(analyze);
    // A snapshot older than the build: the concurrent build waits for it, holding its lock.
    let snapshot = Holder::hold(
        &ns.db,
        "snapshot",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT 1",
    );
    let mut build = session(
        &ns.db,
        "build",
        "CREATE INDEX CONCURRENTLY schema_migrations_inserted_at ON schema_migrations (inserted_at)",
    );
    wait_for(
        "the concurrent build's lock",
        Duration::from_secs(20),
        || share_update_holders(&ns.db) == "build",
    );
    assert_eq!(lock_holders_said(&ns), (vec![], false));
    drop(snapshot);
    let _ = build.wait();
    let console = Holder::hold(
        &ns.db,
        "console",
        "LOCK TABLE schema_migrations IN SHARE UPDATE EXCLUSIVE MODE",
    );
    assert_eq!(lock_holders_said(&ns), (vec!["console".to_owned()], true));
    drop(console);
}

/// A real autovacuum of `schema_migrations`, slowed by the table's own settings so that it
/// is still at work when `status` reads: its lock is no running migration. The launcher
/// visits a database once per `autovacuum_naptime` (1 min by default).
#[test]
fn autovacuum_of_the_migrations_table_is_no_running_migration() {
    let ns = Ns::with_demo_pod("autovac", &[]);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    psql(
        &ns.db,
        "ALTER TABLE schema_migrations SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)",
    );
    // Dead rows over some hundred pages: at one page per 100 ms the worker takes a while.
    psql(
        &ns.db,
        "INSERT INTO schema_migrations (version, inserted_at) SELECT g, now() FROM generate_series(1, 50000) g",
    );
    psql(
        &ns.db,
        "DELETE FROM schema_migrations WHERE version <= 50000",
    );
    let vacuuming = || {
        psql(
            &ns.db,
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.backend_type = 'autovacuum worker' AND l.granted AND l.mode = 'ShareUpdateExclusiveLock' AND l.relation = 'schema_migrations'::regclass",
        )
        .trim()
            == "1"
    };
    wait_for(
        "autovacuum on schema_migrations",
        Duration::from_secs(150),
        vacuuming,
    );
    assert_eq!(lock_holders_said(&ns), (vec![], false));
    assert!(
        vacuuming(),
        "the worker must still be at work after the status reads"
    );
}
