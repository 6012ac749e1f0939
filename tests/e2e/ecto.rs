//! What kmigrate does with Ecto as ecto_sql really behaves (the fixture follows it): a
//! status that never waits behind a migration, refusals before anything runs, reports that
//! do not depend on the app's Logger, prefixes, extra paths, rpc into a live node.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{LiveNode, Ns, V1, V2, V3, local, migration_set, psql, release};
use crate::support::{report, scratch_dir, stdout};

/// A psql session of its own that holds `pg_advisory_lock(4242)` until dropped: the
/// `gated` migration waits on it in the middle, holding Ecto's migration lock.
pub(crate) struct Gate(Child, String);

impl Gate {
    pub(crate) fn close(db: &str) -> Self {
        let child = Command::new("psql")
            .envs(local().pg.iter().cloned())
            .args([
                "-X",
                "-q",
                "-d",
                db,
                "-c",
                "SELECT pg_advisory_lock(4242)",
                "-c",
                "SELECT pg_sleep(300)",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql");
        let gate = Gate(child, db.to_owned());
        crate::support::wait_for("the gate's lock", Duration::from_secs(20), || {
            psql(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").trim() == "1"
        });
        gate
    }

    /// Wait, up to `within`, for the gated migration's session to wait at this gate.
    pub(crate) fn wait_until_reached(&self, within: Duration) {
        crate::support::wait_for("the migration to reach the gate", within, || {
            at_the_gate(&self.1)
        });
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // The server notices a killed client only when its sleep ends: end the session.
        psql(
            &self.1,
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The gated migration's session, waiting at the gate (in this test's database).
pub(crate) fn at_the_gate(db: &str) -> bool {
    psql(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").trim() == "1"
}

#[test]
fn status_returns_while_a_migration_holds_the_lock_and_says_so() {
    let ns = Ns::with_demo_pod("gated", &[("DEMO_MIGRATIONS_DIR", &migration_set("gated"))]);
    let gate = Gate::close(&ns.db);
    let mut run = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .spawn();
    // The first migration is in; the second waits at the gate, inside Ecto's lock.
    crate::support::wait_for(
        "the migration to reach the gate",
        Duration::from_secs(60),
        || ns.tables().contains(&"gated_a".to_owned()) || at_the_gate(&ns.db),
    );
    let started = Instant::now();
    let out = ns
        .kmigrate()
        .args(["status", "-l", "app=demo", "-o", "json", "--timeout", "30s"])
        .status(0);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "status waited {took:?}");
    let r = report(&out);
    assert_eq!(r.migration_locks.len(), 1, "{:#?}", r.migration_locks);
    let human = ns.kmigrate().args(["status", "-l", "app=demo"]).status(0);
    let said = String::from_utf8_lossy(&human.stderr);
    assert!(said.contains("A migration is running: Ecto's migration lock for Demo.Repo is held by database session"), "{said}");
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 0, "{:#?}", run.seen);
    let versions: Vec<i64> = run.stdout_json()["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [V1, 20240107120000]);
    // Read-only: the status of an empty database creates nothing.
    let fresh = Ns::with_demo_pod("fresh", &[]);
    let r = report(
        &fresh
            .kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    assert_eq!(r.migrations.len(), 3);
    assert!(
        fresh.tables().is_empty(),
        "status created {:?}",
        fresh.tables()
    );
}

/// The file that runs is the one the status named, as Ecto's `migrations_for/1` and
/// `extract_migration_info/1` find it: `V_NAME.exs`, never a `.ex` beside it.
#[test]
fn the_exs_file_runs_never_a_ex_of_the_same_version() {
    let ns = Ns::with_demo_pod(
        "shadowed",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("shadowed"))],
    );
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    assert_eq!(ns.applied(), [V1]);
    let tables = ns.tables();
    assert!(
        tables.contains(&"posts".to_owned()) && !tables.contains(&"shadow_ex".to_owned()),
        "{tables:?}"
    );
}

/// Two files of one version are refused before anything runs, as Ecto's
/// `ensure_no_duplication!/1` refuses them, instead of one running and both being reported.
#[test]
fn two_files_of_one_version_are_refused_before_anything_runs() {
    let ns = Ns::with_demo_pod(
        "duplicated",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("duplicated"))],
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("migration version 20240101120000 is duplicated")
        .expect_stderr("nothing was run")
        .status(2);
    assert!(report(&out).migrations.is_empty());
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert!(
        ns.tables()
            .iter()
            .all(|t| t != "posts" && t != "posts_again")
    );
}

#[test]
fn an_unknown_to_is_refused_before_anything_runs() {
    let ns = Ns::with_demo_pod("unknown-to", &[]);
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--to",
            "20249999999999",
            "-o",
            "json",
        ])
        .expect_stderr("version 20249999999999 is not a migration of Demo.Repo")
        .expect_stderr("nothing was run")
        .reject_stderr("** (RuntimeError)")
        .reject_stderr("erl_eval")
        .status(2);
    assert_eq!(report(&out).migrations.len(), 0);
    assert_eq!(ns.applied(), Vec::<i64>::new());
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    ns.kmigrate()
        .args(["rollback", "-l", "app=demo", "--to", "20240102"])
        .expect_stderr("version 20240102 is not a migration of Demo.Repo")
        .status(2);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // A version that exists works as Ecto's inclusive to:.
    ns.kmigrate()
        .args(["rollback", "-l", "app=demo", "--to", &V2.to_string()])
        .status(0);
    assert_eq!(ns.applied(), [V1]);
}

#[test]
fn rollback_with_several_repos_needs_one_and_reverts_only_there() {
    let ns = Ns::new("two-repos");
    let other = format!("{}_other", ns.db);
    psql("postgres", &format!("CREATE DATABASE {other}"));
    ns.pod(
        "demo-0",
        "app: demo",
        &[
            ("DEMO_ECTO_REPOS", "Demo.Repo,Demo.OtherRepo"),
            ("DEMO_OTHER_PGDATABASE", &other),
        ],
    );
    ns.wait_ready("demo-0");
    let r = report(
        &ns.kmigrate()
            .args(["migrate", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let repos: Vec<String> = r.migrations.iter().filter_map(|m| m.repo.clone()).collect();
    assert!(repos.contains(&"Demo.OtherRepo".to_owned()), "{repos:?}");
    let other_applied = || {
        psql(&other, "SELECT count(*) FROM schema_migrations")
            .trim()
            .to_owned()
    };
    let before = other_applied();
    ns.kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "1"])
        .expect_stderr("choose one with --repo")
        .status(2);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    assert_eq!(other_applied(), before);
    ns.kmigrate()
        .args([
            "rollback",
            "-l",
            "app=demo",
            "--step",
            "1",
            "--repo",
            "Demo.Repo",
        ])
        .expect_stderr("Reverting 1 migration(s) in pod demo-0:\n  20240103120000")
        .status(0);
    assert_eq!(ns.applied(), [V1, V2]);
    assert_eq!(other_applied(), before, "the other repo is untouched");
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {other} WITH (FORCE)"),
    );
}

#[test]
fn the_report_lists_what_was_applied_whatever_the_logger_says() {
    // A production-like Logger at warning: Ecto prints no "== Migrated" line at all.
    let quiet = Ns::with_demo_pod(
        "quiet",
        &[
            ("DEMO_LOG_LEVEL", "warning"),
            ("DEMO_MIGRATIONS_DIR", &migration_set("raising")),
        ],
    );
    let out = quiet
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .status(1);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("== Migrated"));
    let r = report(&out);
    let versions: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1], "the migration before the raise is reported");
    assert_eq!(quiet.applied(), [V1]);
    let evs = crate::audit::events(&quiet);
    assert_eq!(
        evs[0]["metadata"]["annotations"]["kmigrate.io/migrations"],
        V1.to_string()
    );
    // A JSON formatter: Ecto's lines are JSON, the report is the same.
    let json = Ns::with_demo_pod("jsonlog", &[("DEMO_LOG_FORMAT", "json")]);
    let r = report(
        &json
            .kmigrate()
            .args(["migrate", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let versions: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1, V2, V3]);
    assert_eq!(r.migrations[0].name.as_deref(), Some("create_posts"));
}

#[test]
fn versions_this_image_lacks_are_their_own_state() {
    let ns = Ns::with_demo_pod("ahead", &[]);
    ns.pod(
        "old-0",
        "app: old",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("slow"))],
    );
    ns.wait_ready("old-0");
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let out = ns
        .kmigrate()
        .args(["status", "-l", "app=old", "-o", "json"])
        .status(0);
    let r = report(&out);
    let state = |v: i64| {
        r.migrations
            .iter()
            .find(|m| m.version == v)
            .and_then(|m| m.state.clone())
            .unwrap()
    };
    assert_eq!(state(V1), "up");
    assert_eq!(state(V2), "applied-not-in-image");
    assert_eq!(state(20240104120000), "down");
    let human = ns.kmigrate().args(["status", "-l", "app=old"]).status(0);
    assert!(
        stdout(&human).contains("not-in-image 20240102120000"),
        "{}",
        stdout(&human)
    );
    assert!(String::from_utf8_lossy(&human.stderr).contains("2 applied but not in this image"));
    // Reverting from the old image skips what it has no file for, as Ecto does.
    let out = ns
        .kmigrate()
        .args(["rollback", "-l", "app=old", "--step", "1"])
        .status_any();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Reverting 1 migration(s) in pod old-0:\n  20240101120000 create_posts"),
        "{said}"
    );
}

#[test]
fn prefixes_extra_paths_and_sql_logging() {
    let ns = Ns::with_demo_pod("tenant", &[]);
    psql(&ns.db, "CREATE SCHEMA tenant_a");
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--prefix",
            "tenant_a",
            "--log-sql",
            "-o",
            "json",
        ])
        .status(0);
    let r = report(&out);
    assert!(
        r.migrations
            .iter()
            .all(|m| m.prefix.as_deref() == Some("tenant_a")),
        "{:#?}",
        r.migrations
    );
    assert_eq!(r.migrations.len(), 2);
    let logged = String::from_utf8_lossy(&out.stderr);
    assert!(logged.contains("CREATE"), "the SQL is logged: {logged}");
    assert_eq!(
        psql(&ns.db, "SELECT count(*) FROM tenant_a.schema_migrations").trim(),
        "2"
    );
    assert_eq!(
        psql(
            &ns.db,
            "SELECT to_regclass('public.schema_migrations') IS NULL"
        )
        .trim(),
        "t"
    );
    // Another migrations directory, given with the repo's own: given paths replace the
    // default, as mix's do.
    let extra = Ns::with_demo_pod("extra", &[]);
    let r = report(
        &extra
            .kmigrate()
            .args([
                "migrate",
                "-l",
                "app=demo",
                "-o",
                "json",
                "--migrations-path",
                "priv/repo/migrations",
                "--migrations-path",
                &migration_set("extra"),
            ])
            .status(0),
    );
    let versions: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1, V2, V3, 20240110120000]);
}

#[test]
fn an_umbrella_release_names_the_app_that_owns_the_repos() {
    let ns = Ns::with_demo_pod("umbrella", &[]);
    // The release script is called `shop_umbrella`; the repos live in the `demo` app.
    let dir = scratch_dir("umbrella");
    let script = dir.join("shop_umbrella");
    std::os::unix::fs::symlink(release(), &script).unwrap();
    // By default the app is the script's name, which has no repos: a failure, nothing run.
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--release"])
        .args([&script])
        .status_any();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(ns.applied(), Vec::<i64>::new());
    let r = report(
        &ns.kmigrate()
            .args([
                "migrate",
                "-l",
                "app=demo",
                "--app",
                "demo",
                "-o",
                "json",
                "--release",
            ])
            .args([&script])
            .status(0),
    );
    assert_eq!(r.migrations.len(), 3);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn rpc_mode_shows_each_migration_from_the_live_node() {
    let ns = Ns::new("rpc");
    let live = LiveNode::start(&ns, "rpc", &[]);
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--mode", "rpc", "-o", "json"])
        .status_any();
    drop(live);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions: Vec<i64> = report(&out).migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V1, V2, V3]);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // With distribution off, rpc cannot reach the node: a clear failure, nothing applied.
    let off = Ns::with_demo_pod("rpc-off", &[("RELEASE_DISTRIBUTION", "none")]);
    let out = off
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--mode", "rpc"])
        .status_any();
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(off.applied(), Vec::<i64>::new());
    // Said in kmigrate's words, with the fix; the release's own line only with -v.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kmigrate: --mode rpc found no running node of the release in the pod")
            && err.contains("use --mode eval")
            && !err.contains("--rpc-eval"),
        "{err}"
    );
    off.kmigrate()
        .args(["-v", "status", "-l", "app=demo", "--mode", "rpc"])
        .expect_stderr("--rpc-eval")
        .status(1);
}

/// In `rpc` the plan (the preview of a protected migrate too) runs inside the live app: it
/// loads no migration there, before anyone confirmed, and still reads how each runs (in a
/// transaction, under the lock) from its source (security N17).
#[test]
fn an_rpc_plan_loads_nothing_into_the_live_node() {
    let ns = Ns::new("rpcplan");
    let dir = migration_set("nontx");
    let live = LiveNode::start(&ns, "rpcplan", &[("DEMO_MIGRATIONS_DIR", &dir)]);
    let out = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo", "--mode", "rpc", "-o", "json"])
        .expect_stderr("nothing was loaded into the live app")
        .status(0);
    let plan = report(&out).plan.expect("the plan");
    let how: Vec<(i64, Option<String>, bool, bool)> = plan
        .migrations()
        .map(|(_, m)| (m.version, m.module.clone(), m.transaction, m.migration_lock))
        .collect();
    let module = |m: &str| Some(format!("Demo.Repo.Migrations.{m}"));
    assert_eq!(
        how,
        [
            (V1, module("CreatePosts"), true, true),
            (
                20240105120000,
                module("IndexPostsConcurrently"),
                false,
                false
            )
        ]
    );
    for m in ["CreatePosts", "IndexPostsConcurrently"] {
        assert_eq!(
            live.rpc(&format!(
                "IO.puts(inspect(:code.is_loaded(Demo.Repo.Migrations.{m})))"
            )),
            "false",
            "{m} was loaded into the live node"
        );
    }
    assert_eq!(ns.applied(), Vec::<i64>::new());
}

/// A concurrent index build that failed leaves its index behind, invalid: `status` names
/// it, with the statement that drops it, in text and JSON; once dropped it is gone from
/// both (#27 item 5).
#[test]
fn status_names_an_invalid_index_left_by_a_failed_concurrent_build() {
    let ns = Ns::with_demo_pod("invalidix", &[]);
    failed_concurrent_build(&ns.db);
    let out = ns
        .kmigrate()
        .args(["status", "-l", "app=demo"])
        .expect_stderr("index public.dup_x_index on dup (Demo.Repo) is invalid")
        .expect_stderr("`DROP INDEX CONCURRENTLY public.dup_x_index;`")
        .status(0);
    drop(out);
    let r = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let named: Vec<(&str, &str, &str)> = r
        .invalid_indexes
        .iter()
        .map(|i| (i.schema.as_str(), i.index.as_str(), i.table.as_str()))
        .collect();
    assert_eq!(named, [("public", "dup_x_index", "dup")]);
    psql(&ns.db, "DROP INDEX CONCURRENTLY public.dup_x_index");
    let r = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    assert!(r.invalid_indexes.is_empty());
}

/// `public.dup_x_index` on `dup`, left invalid by a concurrent build that failed.
fn failed_concurrent_build(db: &str) {
    psql(
        db,
        "CREATE TABLE dup (x int); INSERT INTO dup VALUES (1), (1)",
    );
    // A unique index over duplicates fails after its build began: PostgreSQL keeps it,
    // marked invalid, as it does when a statement timeout cancels one.
    let failed = Command::new("psql")
        .envs(local().pg.iter().cloned())
        .args(["-X", "-q", "-d", db, "-c"])
        .arg("CREATE UNIQUE INDEX CONCURRENTLY dup_x_index ON dup (x)")
        .output()
        .unwrap();
    assert!(!failed.status.success(), "the build must fail");
}

/// `doctor` names the invalid indexes of each repo's database as a warning, with the
/// statement that drops each; once dropped, the check passes (#27 item 5).
#[test]
fn doctor_warns_of_an_invalid_index_with_the_statement_that_drops_it() {
    let ns = Ns::with_demo_pod("invalidixdoc", &[]);
    failed_concurrent_build(&ns.db);
    let indexes = || {
        let r = report(
            &ns.kmigrate()
                .args(["doctor", "-l", "app=demo", "-o", "json"])
                .status(0),
        );
        r.checks
            .into_iter()
            .find(|c| c.name == "indexes")
            .expect("the indexes check")
    };
    let c = indexes();
    assert_eq!(c.status, kmigrate::doctor::Status::Warn, "{c:?}");
    assert!(
        c.detail.contains("public.dup_x_index on dup (Demo.Repo)"),
        "{c:?}"
    );
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("`DROP INDEX CONCURRENTLY public.dup_x_index;`")),
        "{c:?}"
    );
    let text = stdout(&ns.kmigrate().args(["doctor", "-l", "app=demo"]).status(0));
    assert!(text.contains("[warn] indexes"), "{text}");
    psql(&ns.db, "DROP INDEX CONCURRENTLY public.dup_x_index");
    let c = indexes();
    assert_eq!(
        (c.status, c.detail.as_str()),
        (kmigrate::doctor::Status::Pass, "no index marked invalid")
    );
}

/// A `@disable_ddl_transaction` migration whose concurrent index build fails leaves the
/// index invalid: the failed migrate names it, with the statement that drops it, on stderr
/// and in JSON (#27 item 5).
#[test]
fn a_failed_concurrent_index_build_names_the_invalid_index_it_left() {
    let ns = Ns::with_demo_pod(
        "invalidrun",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("invalid_index"))],
    );
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .expect_stderr("index public.posts_title_unique on posts (Demo.Repo) is invalid")
        .expect_stderr("`DROP INDEX CONCURRENTLY public.posts_title_unique;`")
        .status(1);
    let r = report(&out);
    let named: Vec<&str> = r.invalid_indexes.iter().map(|i| i.index.as_str()).collect();
    assert_eq!(named, ["posts_title_unique"]);
    assert_eq!(ns.applied(), [V1]);
}
