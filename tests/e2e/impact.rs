//! What a plan says the migrations touch in the live database: the size of each table a
//! finding locks, scans or rewrites (from the catalog, after a known number of rows and
//! ANALYZE), and the sessions holding locks on it, read without queueing behind them.

use std::process::Command;
use std::time::{Duration, Instant};

use kmigrate::migration_plan::Kind;
use kmigrate::migration_plan::impact::Impact;
use kmigrate::migration_plan::kind::{Effect, LockMode};

use crate::confirm::on_terminal_after;
use crate::harness::{Ns, V1, V2, local, psql};
use crate::support::{report, stdout};
use crate::waits::Holder;

/// `posts` (migrated to V1) with `rows` rows, analyzed.
fn posts_with_rows(ns: &Ns, rows: u32) {
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &V1.to_string()])
        .status(0);
    psql(
        &ns.db,
        &format!(
            "INSERT INTO posts (title, body) SELECT 'title ' || i, repeat('x', 100) FROM generate_series(1, {rows}) i; ANALYZE posts"
        ),
    );
}

#[test]
fn the_plan_sizes_the_tables_it_touches_and_names_who_holds_them() {
    let ns = Ns::with_demo_pod("impact", &[]);
    posts_with_rows(&ns, 1000);

    let out = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo", "-o", "json"])
        .status(0);
    let plan = report(&out).plan.expect("a plan");
    let posts = plan
        .tables
        .iter()
        .find(|t| t.table == "posts")
        .expect("posts sized");
    assert_eq!((posts.schema.as_str(), posts.rows), ("public", Some(1000)));
    assert!(
        posts.bytes > 100_000,
        "1000 rows of 100 bytes and more: {}",
        posts.bytes
    );
    let index = plan.repos[0]
        .migrations
        .iter()
        .find(|m| m.version == V2)
        .and_then(|m| {
            m.findings
                .iter()
                .find(|f| f.kind == Kind::IndexNotConcurrently)
        })
        .expect("V2 builds an index on posts");
    let expected = Impact {
        lock: LockMode::Share,
        effect: Effect::Scan,
        schema: Some("public".into()),
        rows: Some(1000),
        bytes: Some(posts.bytes),
        holders: 0,
    };
    assert_eq!(index.impact, Some(expected));
    assert!(plan.holders.is_empty(), "{:?}", plan.holders);
    let text = stdout(&ns.kmigrate().args(["plan", "-l", "app=demo"]).status(0));
    assert!(
        text.contains("          SHARE on public.posts (~1,000 rows, ")
            && text.contains("), reads every row: blocks every write"),
        "{text}"
    );
    assert!(!text.contains("sessions holding"), "{text}");

    // A session holding ACCESS EXCLUSIVE on posts: the size functions would queue behind
    // it (pg_total_relation_size opens the table), the plan's catalog reads do not.
    let blocker = Holder::hold(
        &ns.db,
        "blocker",
        "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE",
    );
    let pid = blocker.pid();
    let sized = Command::new("psql")
        .envs(local().pg.iter().cloned())
        .args(["-X", "-q", "-d", &ns.db, "-c"])
        .arg("SET lock_timeout = '1s'; SELECT pg_total_relation_size('posts')")
        .output()
        .expect("psql");
    assert!(
        String::from_utf8_lossy(&sized.stderr).contains("canceling statement due to lock timeout"),
        "pg_total_relation_size waits behind it: {sized:?}"
    );
    let started = Instant::now();
    let out = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo", "-o", "json"])
        .status(0);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "the plan queued behind the lock: {took:?}"
    );
    let plan = report(&out).plan.expect("a plan");
    let held = plan
        .holders
        .iter()
        .find(|h| h.application == "blocker")
        .unwrap_or_else(|| panic!("the blocker is named: {:?}", plan.holders));
    assert_eq!(
        (
            held.pid.to_string(),
            held.table.as_str(),
            held.mode.as_str(),
            held.granted,
            held.state.as_str()
        ),
        (
            pid.clone(),
            "posts",
            "AccessExclusiveLock",
            true,
            "idle in transaction"
        )
    );
    assert!(held.query.contains("LOCK TABLE posts"), "{held:?}");
    assert_eq!(
        plan.tables
            .iter()
            .find(|t| t.table == "posts")
            .map(|t| t.rows),
        Some(Some(1000))
    );
    let text = stdout(&ns.kmigrate().args(["plan", "-l", "app=demo"]).status(0));
    for expected in [
        "1 session(s) hold or wait for locks on it now\n",
        "sessions holding or waiting for locks on these tables now:\n",
        &format!("  pid {pid} (application \"blocker\", idle in transaction, transaction open "),
        "holds AccessExclusiveLock on posts; its last statement: LOCK TABLE posts IN ACCESS EXCLUSIVE MODE",
        "no --lock-timeout is set",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

/// In a protected namespace the confirmation names the blocker, and without
/// `--lock-timeout` says the wait has no bound, before anything is typed.
#[test]
fn a_protected_migrate_names_the_blocker_before_the_confirmation() {
    let ns = Ns::with_demo_pod("prod-impact", &[]);
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--to",
            &V1.to_string(),
            "--yes",
        ])
        .status(0);
    psql(&ns.db, "ANALYZE posts");
    let blocker = Holder::hold(&ns.db, "console", "LOCK TABLE posts IN ACCESS SHARE MODE");
    let pid = blocker.pid();
    let migrate = ["migrate", "-l", "app=demo"];
    let (code, screen) = on_terminal_after(&ns, &migrate, "wrong-name\r", || {});
    assert_eq!(code, 73, "{screen}");
    let prompt = screen
        .find("Type the namespace name")
        .unwrap_or_else(|| panic!("{screen}"));
    for expected in [
        format!("{V2}: SHARE on public.posts (~0 rows, "),
        format!("pid {pid} (application \"console\", idle in transaction"),
        "holds AccessShareLock on posts".to_owned(),
        "no --lock-timeout is set: the wait has no bound".to_owned(),
    ] {
        let at = screen
            .find(&expected)
            .unwrap_or_else(|| panic!("{expected:?} not in:\n{screen}"));
        assert!(
            at < prompt,
            "{expected:?} comes before the prompt:\n{screen}"
        );
    }
    let with_timeout = ["migrate", "-l", "app=demo", "--lock-timeout", "5s"];
    let (code, screen) = on_terminal_after(&ns, &with_timeout, "wrong-name\r", || {});
    assert_eq!(code, 73, "{screen}");
    assert!(
        screen.contains("holds AccessShareLock on posts"),
        "{screen}"
    );
    assert!(
        !screen.contains("no --lock-timeout is set"),
        "a lock timeout is set: {screen}"
    );
    assert_eq!(ns.applied(), [V1]);
}

const REMOVE_LEGACY: i64 = 20240116120000;
const REMOVE_TITLE: i64 = 20240117120000;

/// The running code (the demo app, whose `Demo.Post` maps `posts.title`) is asked for its
/// schemas: removing `posts.title` is named as breaking it and refused in a protected
/// namespace; removing a column no schema maps is destructive only, and runs when allowed.
#[test]
fn a_removal_the_running_schema_still_maps_is_named_and_refused() {
    let dir = crate::harness::migration_set("breaking");
    let ns = Ns::with_demo_pod("prod-breaks", &[("DEMO_MIGRATIONS_DIR", &dir)]);
    // posts exists before the plan: a change to a table the plan creates breaks nothing.
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--yes",
            "--to",
            &V1.to_string(),
        ])
        .status(0);
    let out = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo", "-o", "json"])
        .status(0);
    let plan = report(&out).plan.expect("a plan");
    assert!(
        matches!(plan.running_code, kmigrate::migration_plan::RunningCode::Asked { schemas } if schemas >= 3),
        "{:?}",
        plan.running_code
    );
    let kinds = |v: i64| -> Vec<(Kind, String)> {
        plan.migrations()
            .filter(|(_, m)| m.version == v)
            .flat_map(|(_, m)| m.findings.iter().map(|f| (f.kind, f.text.clone())))
            .collect()
    };
    assert!(
        kinds(REMOVE_LEGACY)
            .iter()
            .all(|(k, _)| *k != Kind::BreaksRunningCode),
        "{:?}",
        kinds(REMOVE_LEGACY)
    );
    assert!(
        kinds(REMOVE_TITLE).contains(&(
            Kind::BreaksRunningCode,
            "Demo.Post maps posts.title (field :title)".to_owned()
        )),
        "{:?}",
        kinds(REMOVE_TITLE)
    );

    // The column no schema maps: allowed as destructive, it runs.
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--yes",
            "--to",
            &REMOVE_LEGACY.to_string(),
            "--allow-destructive",
            &REMOVE_LEGACY.to_string(),
        ])
        .status(0);
    // The column Demo.Post maps: refused, naming the schema, field and column, also with
    // --allow-destructive for it: breaking the running code has an allow of its own.
    let title = REMOVE_TITLE.to_string();
    for allow in [&[][..], &["--allow-destructive", &title][..]] {
        ns.kmigrate()
            .args(["migrate", "-l", "app=demo", "--yes"])
            .args(allow)
            .expect_stderr("break the code running now")
            .expect_stderr("Demo.Post maps posts.title (field :title)")
            .expect_stderr(&format!("--allow-breaking {REMOVE_TITLE}"))
            .status(73);
    }
    assert_eq!(ns.applied().last(), Some(&REMOVE_LEGACY));
    assert_eq!(
        psql(
            &ns.db,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'posts' AND column_name = 'title'"
        )
        .trim(),
        "1"
    );
    // Both allowed: it runs.
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--yes",
            "--allow-destructive",
            &title,
            "--allow-breaking",
            &title,
        ])
        .status(0);
    assert_eq!(ns.applied().last(), Some(&REMOVE_TITLE));
}
