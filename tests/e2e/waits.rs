//! What a migration waits on, bounded and said: the lock timeout, who holds the lock, the
//! heartbeat of a long migration, and a run still executing in the database after its
//! kmigrate went away.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kmigrate::ecto_output::{Direction, TimeoutKind};

use crate::ecto::Gate;
use crate::harness::{Ns, V1, V2, V3, local, migration_set, psql};
use crate::support::{report, wait_for};

/// A psql session named `app`, idle in a transaction that took `lock` (as a forgotten
/// console session would); ended when dropped.
pub(crate) struct Holder {
    child: Child,
    db: String,
    app: &'static str,
}

impl Holder {
    pub(crate) fn hold(db: &str, app: &'static str, lock: &str) -> Self {
        let mut child = Command::new("psql")
            .envs(local().pg.iter().cloned())
            .env("PGAPPNAME", app)
            .args(["-X", "-q", "-d", db])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql");
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(format!("BEGIN;\n{lock};\n").as_bytes())
            .unwrap();
        let holder = Holder {
            child,
            db: db.to_owned(),
            app,
        };
        wait_for(
            &format!("the {app}'s lock"),
            Duration::from_secs(20),
            || holder.sessions("count(*)", "AND state = 'idle in transaction'") == "1",
        );
        holder
    }

    /// `what` of this session's rows in `pg_stat_activity`, in this test's database.
    fn sessions(&self, what: &str, and: &str) -> String {
        psql(
            &self.db,
            &format!(
                "SELECT {what} FROM pg_stat_activity WHERE application_name = '{}' AND datname = current_database() {and}",
                self.app
            ),
        )
        .trim()
        .to_owned()
    }

    /// Run `sql` in the held transaction, after what it holds.
    fn then(&mut self, sql: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{sql};\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    pub(crate) fn pid(&self) -> String {
        self.sessions("pid", "")
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.sessions("pg_terminate_backend(pid)", "");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_blocked_migration_names_its_blocker_and_ends_at_the_lock_timeout() {
    let ns = Ns::with_demo_pod("lockwait", &[]);
    blocked_until_the_lock_timeout(&ns);
    // Only the migration's own sessions carried the limit: the database's stays unset.
    assert_eq!(psql(&ns.db, "SHOW lock_timeout").trim(), "0");
}

/// V1 applied, then `posts` held by a session named `blocker`: a migrate with
/// `--lock-timeout 12s` names its blocker while it waits, ends with 78 at the timeout having
/// committed nothing of V2, and once the blocker is gone the same run applies the rest.
pub(crate) fn blocked_until_the_lock_timeout(ns: &Ns) {
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    let blocker = Holder::hold(
        &ns.db,
        "blocker",
        "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE",
    );
    let pid = blocker.pid();
    let started = std::time::Instant::now();
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--lock-timeout",
            "12s",
            "-o",
            "json",
        ])
        .expect_stderr(&format!("held by pid {pid} (application \"blocker\""))
        .expect_stderr("idle in transaction")
        .expect_stderr("on posts")
        .expect_stderr("nothing of it was committed")
        .status(78);
    assert!(started.elapsed() >= Duration::from_secs(12));
    let r = report(&out);
    let t = r.timed_out.expect("the cancelled migration");
    assert_eq!(
        (t.version, t.kind, t.in_transaction),
        (V2, TimeoutKind::Lock, true)
    );
    assert!(
        r.lock_waits
            .iter()
            .any(|w| w.holder_application == "blocker" && w.lock == "posts"),
        "{:#?}",
        r.lock_waits
    );
    assert_eq!(r.outcome, "failed");
    // Nothing of the cancelled migration, and the one before it stays.
    assert_eq!(ns.applied(), [V1]);
    assert_eq!(
        psql(
            &ns.db,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'posts' AND indexname <> 'posts_pkey'"
        )
        .trim(),
        "0"
    );
    drop(blocker);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--lock-timeout", "12s"])
        .status(0);
    assert_eq!(ns.applied().len(), 3);
}

/// A console session holding Ecto's own migration lock (the table lock of
/// `lock_for_migrations/3`), idle in its transaction: a migrate says who holds it before it
/// starts, waits, and with a lock timeout ends with 78 having run nothing.
#[test]
fn a_held_migration_lock_is_named_before_the_run_waits_on_it() {
    let ns = Ns::with_demo_pod("heldlock", &[]);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    let console = Holder::hold(
        &ns.db,
        "console",
        "LOCK TABLE schema_migrations IN SHARE UPDATE EXCLUSIVE MODE",
    );
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--lock-timeout",
            "5s",
            "-o",
            "json",
        ])
        .expect_stderr("Ecto's migration lock for Demo.Repo is held by database session")
        .expect_stderr("(application \"console\"")
        .expect_stderr("nothing of it was committed")
        .status(78);
    let r = report(&out);
    assert_eq!(r.timed_out.map(|t| t.kind), Some(TimeoutKind::Lock));
    assert_eq!(ns.applied(), [V1]);
    drop(console);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    assert_eq!(ns.applied().len(), 3);
}

/// A rollback reverts the versions it showed or nothing: while it waits on Ecto's migration
/// lock, the holder reverts the newest version itself. Selected again under the lock,
/// `step: 1` would then revert the one below it, which nobody was shown.
#[test]
fn a_rollback_that_waited_on_the_lock_reverts_only_what_it_showed() {
    let ns = Ns::with_demo_pod("heldback", &[]);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let mut console = Holder::hold(
        &ns.db,
        "console",
        "LOCK TABLE schema_migrations IN SHARE UPDATE EXCLUSIVE MODE",
    );
    let mut run = ns
        .kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "1", "--yes"])
        .spawn();
    run.wait_line(&format!("{V3}"));
    wait_for(
        "the rollback to wait on the lock",
        Duration::from_secs(30),
        || {
            psql(
            &ns.db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .trim()
            == "1"
        },
    );
    console.then(&format!(
        "DROP TABLE comments; DELETE FROM schema_migrations WHERE version = {V3}; COMMIT"
    ));
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(ns.applied(), [V1, V2], "{code}: {:#?}", run.seen);
    // What it was shown is down already: nothing was reverted, and it says so.
    assert_eq!(code, 0, "{:#?}", run.seen);
    assert!(
        run.seen
            .contains(&"kmigrate: 0 migrations reverted (pod demo-0)".to_owned()),
        "{:#?}",
        run.seen
    );
}

/// A rollback with `--yes` is held to its preview: the moment the preview is on the screen,
/// another session reverts the newest version. A run that selected `step: 1` again in a
/// second remote command (its VM takes a second to boot) would revert the one below it.
#[test]
fn a_rollback_with_yes_reverts_only_what_its_preview_showed() {
    let ns = Ns::with_demo_pod("yesback", &[]);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let mut run = ns
        .kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "1", "--yes"])
        .spawn();
    run.wait_line(&format!("{V3} create_comments"));
    psql(
        &ns.db,
        &format!(
            "BEGIN; DROP TABLE IF EXISTS comments; DELETE FROM schema_migrations WHERE version = {V3}; COMMIT"
        ),
    );
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(ns.applied(), [V1, V2], "{:#?}", run.seen);
    // The run found what it was shown no longer applied, and ran nothing (psql is done long
    // before the run's VM has booted).
    assert_eq!(code, 72, "{:#?}", run.seen);
    assert!(
        run.seen.iter().any(|l| l.contains(
            "changed after they were shown: of those, still applied: none; nothing was run"
        )),
        "{:#?}",
        run.seen
    );
}

/// Ecto's advisory lock (`migration_lock: :pg_advisory_lock`) is keyed by prefix and repo
/// only, so two databases of one server (staging and production) use the same key: the
/// holder is named in the database that holds it, never in the other.
#[test]
fn an_advisory_lock_is_named_only_in_its_own_database() {
    let env = [
        ("DEMO_MIGRATIONS_DIR", migration_set("gated")),
        ("DEMO_MIGRATION_LOCK", "pg_advisory_lock".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let prod = Ns::with_demo_pod("advprod", &env);
    let staging = Ns::with_demo_pod("advstg", &env);
    let gate = Gate::close(&prod.db);
    let mut run = prod.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    wait_for(
        "the migration to reach the gate",
        Duration::from_secs(60),
        || crate::ecto::at_the_gate(&prod.db),
    );
    let locks = |ns: &Ns| {
        report(
            &ns.kmigrate()
                .args(["status", "-l", "app=demo", "-o", "json"])
                .status(0),
        )
        .migration_locks
        .len()
    };
    assert_eq!(locks(&prod), 1, "the migrating database names its lock");
    assert_eq!(
        locks(&staging),
        0,
        "the other database has no migration running"
    );
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{:#?}", run.seen);
}

/// The snippet beats from its first step, not only while a migration runs: a status read
/// that waits (here on a session holding `schema_migrations`; with thousands of tenants,
/// on the reads themselves) says it is alive, so kmigrate never takes the silence for a
/// lost connection.
#[test]
fn the_run_beats_while_it_reads_the_status_before_any_migration() {
    let ns = Ns::with_demo_pod("pulse", &[]);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    let console = Holder::hold(
        &ns.db,
        "console",
        "LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE",
    );
    let mut run = ns.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    run.wait_line("kmigrate: still preparing the run (status, locks), 20 s");
    drop(console);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{:#?}", run.seen);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

/// A repo that keeps its versions and migration lock in a `:migration_repo` (another
/// database here, as `Ecto.Migration.SchemaMigration.get_repo_and_source/2` reads them):
/// status, plan and migrate read the versions there, and a holder of that lock is named.
#[test]
fn a_migration_repo_holds_the_versions_and_the_lock_and_kmigrate_reads_them_there() {
    let ns = Ns::new("migrepo");
    let versions = format!("{}_versions", ns.db);
    psql("postgres", &format!("CREATE DATABASE {versions}"));
    ns.pod(
        "demo-0",
        "app: demo",
        &[
            ("DEMO_MIGRATION_REPO", "Demo.OtherRepo"),
            ("DEMO_OTHER_PGDATABASE", &versions),
        ],
    );
    ns.wait_ready("demo-0");
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    let applied = || {
        psql(
            &versions,
            "SELECT version FROM schema_migrations ORDER BY 1",
        )
    };
    assert_eq!(applied().trim(), V1.to_string());
    assert!(
        !ns.tables().contains(&"schema_migrations".to_owned()),
        "{:?}",
        ns.tables()
    );
    // Before: the versions were looked for in the repo's own database, so every file read
    // as pending and a second migrate would run V1 again.
    let status = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json", "--exit-code"])
            .status(10),
    );
    let states: Vec<(i64, Direction)> = status
        .migrations
        .iter()
        .map(|m| (m.version, m.direction))
        .collect();
    assert_eq!(
        states,
        [
            (V1, Direction::Up),
            (V2, Direction::Down),
            (V3, Direction::Down)
        ]
    );
    let console = Holder::hold(
        &versions,
        "console",
        "LOCK TABLE schema_migrations IN SHARE UPDATE EXCLUSIVE MODE",
    );
    ns.kmigrate()
        .args(["status", "-l", "app=demo"])
        .expect_stderr(&format!(
            "Ecto's migration lock for Demo.Repo is held by database session {}",
            console.pid()
        ))
        .status(0);
    drop(console);
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    assert_eq!(applied().lines().count(), 3);
    ns.kmigrate()
        .args(["status", "-l", "app=demo", "--exit-code"])
        .status(0);
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {versions} WITH (FORCE)"),
    );
}

#[test]
fn a_long_migration_beats_and_a_run_left_behind_is_seen_by_the_next() {
    let ns = Ns::with_demo_pod("beats", &[("DEMO_MIGRATIONS_DIR", &migration_set("gated"))]);
    let gate = Gate::close(&ns.db);
    let mut run = ns.kmigrate().args(["migrate", "-l", "app=demo"]).spawn();
    gate.wait_until_reached(Duration::from_secs(60));
    // A silent migration is said to be alive every 20 s, with what it is on.
    run.wait_line("kmigrate: still on 20240107120000 Demo.Repo.Migrations.WaitForGate, 20 s");
    // Its kmigrate goes away (a laptop closed); the migration goes on in the database.
    run.signal("KILL");
    let _ = run.wait_exit(Duration::from_secs(10));
    let session = psql(
        &ns.db,
        "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'kmigrate-migrate-%' AND wait_event_type = 'Lock' AND datname = current_database()",
    );
    assert!(
        session.trim().starts_with("kmigrate-migrate-"),
        "the run's sessions are named after it: {session:?}"
    );
    // Its lease was renewed moments ago: `--yes` alone does not clear it, `--force` does.
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo", "--yes"])
        .expect_stderr("a migration still runs")
        .status(73);
    ns.kmigrate()
        .args(["unlock", "-l", "app=demo", "--yes", "--force"])
        .status(0);
    // The next run sees it, says what it does, and refuses to start a second one.
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("another run is still executing")
        .expect_stderr(session.trim())
        .expect_stderr("--wait")
        .status(74);
    let r = report(&out);
    assert!(
        r.other_runs
            .iter()
            .any(|o| o.application == session.trim() && o.state == "active"),
        "{:#?}",
        r.other_runs
    );
    let status = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    assert!(!status.other_runs.is_empty(), "{status:#?}");
    // Told to wait, it starts once the other run is over.
    let mut waiting = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--wait"])
        .spawn();
    waiting.wait_line("kmigrate-migrate-");
    drop(gate);
    let (code, _) = waiting.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{}", waiting.seen.join("\n"));
    assert_eq!(ns.applied(), [V1, 20240107120000]);
}
