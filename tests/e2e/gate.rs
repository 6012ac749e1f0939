//! The schema gate: `wait` against the real database.

use std::time::{Duration, Instant};

use crate::harness::{Ns, V1, V2, V3};
use crate::job::{Extra, job_deployment, job_logs};
use crate::support::{repo, report, scratch_dir, stdout};

const MISSING: [&str; 3] = [
    "20240101120000 create_posts",
    "20240102120000 add_title_index",
    "20240103120000 create_comments",
];

#[test]
fn wait_at_its_deadline_exits_10_listing_what_is_missing() {
    let ns = Ns::with_demo_pod("waitdl", &[]);
    let start = Instant::now();
    let out = ns
        .kmigrate()
        .args(["wait", "-l", "app=demo", "--deadline", "3s"])
        .expect_stderr("Still missing after 0s: 3 migration(s)")
        .expect_stderr(&format!("  Demo.Repo: {}", MISSING.join(", ")))
        .expect_stderr("error: the deadline passed after 3s: the database still lacks 3 migration(s) of pod demo-0's image")
        .expect_stderr("Run `kmigrate migrate`")
        .status(10);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let r = report(
        &ns.kmigrate()
            .args(["wait", "-l", "app=demo", "--deadline", "1s", "-o", "json"])
            .status(10),
    );
    assert_eq!(
        (r.command.as_str(), r.outcome.as_str(), r.remote_exit_code),
        ("wait", "pending", Some(10))
    );
    let missing: Vec<(i64, Option<&str>)> = r
        .migrations
        .iter()
        .map(|m| (m.version, m.state.as_deref()))
        .collect();
    assert_eq!(
        missing,
        [(V1, Some("down")), (V2, Some("down")), (V3, Some("down"))]
    );
    // Read-only: not even the table was created.
    assert!(ns.applied().is_empty() && ns.tables().is_empty());
}

#[test]
fn wait_returns_soon_after_migrate_from_another_process() {
    let ns = Ns::with_demo_pod("waitok", &[]);
    // An older image (only the first migration's file) runs in another pod.
    let old = scratch_dir("old-image");
    let posts = "20240101120000_create_posts.exs";
    std::fs::copy(
        repo()
            .join("tests/fixtures/demo_release/priv/repo/migrations")
            .join(posts),
        old.join(posts),
    )
    .unwrap();
    ns.pod(
        "old-0",
        "app: old",
        &[("DEMO_MIGRATIONS_DIR", old.to_str().unwrap())],
    );
    ns.wait_ready("old-0");

    let mut waiting = ns
        .kmigrate()
        .args(["wait", "-l", "app=demo", "--deadline", "2m"])
        .spawn();
    waiting.wait_line("Still missing after 0s: 3 migration(s)");
    ns.kmigrate().args(["migrate", "-l", "app=demo"]).status(0);
    let migrated = Instant::now();
    let (code, _) = waiting.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{:#?}", waiting.seen);
    assert!(
        migrated.elapsed() < Duration::from_secs(8),
        "wait returned {:?} after the migration",
        migrated.elapsed()
    );
    assert!(
        waiting
            .seen
            .iter()
            .any(|l| l.contains("Schema ready after") && l.contains("pod demo-0's image")),
        "{:#?}",
        waiting.seen
    );

    // The database is ahead of the old image: that does not block, and is said.
    let out = ns
        .kmigrate()
        .args(["wait", "-l", "app=old", "--deadline", "5s", "-o", "json"])
        .expect_stderr("The database is ahead of this image: 2 applied migration(s) have no file in it, which does not block the gate:\n  Demo.Repo: 20240102120000, 20240103120000")
        .status(0);
    let r = report(&out);
    assert_eq!(r.outcome, "success");
    assert!(
        r.migrations
            .iter()
            .all(|m| m.state.as_deref() == Some("applied-not-in-image")),
        "{:?}",
        r.migrations
    );
    assert_eq!(r.migrations.len(), 2);
}

#[test]
fn wait_in_a_job_reads_the_jobs_output() {
    let ns = Ns::new("waitjob");
    job_deployment(&ns, "demo", "10", 0, Extra::default());
    job_logs(
        &ns,
        &[
            "kmigrate:status\tDemo.Repo\t\tdown\t20240103120000\tcreate_comments",
            "kmigrate:wait\twaiting\t0",
            "kmigrate:status\tDemo.Repo\t\tdown\t20240103120000\tcreate_comments",
            "kmigrate:wait\tdeadline\t3",
        ],
    );
    let out = ns
        .kmigrate()
        .args([
            "wait",
            "--deployment",
            "demo",
            "--image",
            "demo:2",
            "--deadline",
            "3s",
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
        .expect_stderr("Created Job")
        .expect_stderr(
            "Still missing after 0s: 1 migration(s)\n  Demo.Repo: 20240103120000 create_comments",
        )
        .expect_stderr("still lacks 1 migration(s) of Job kmigrate-demo-")
        .status(10);
    let r = report(&out);
    assert_eq!((r.outcome.as_str(), r.migrations.len()), ("pending", 1));
    let job = crate::job::job_json(&ns, &r.job.expect("the run name"));
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "demo:2");
    assert_eq!(job["metadata"]["labels"]["kmigrate.io/command"], "wait");
    let snippet = c["args"][1].as_str().unwrap();
    assert!(
        snippet.contains("t >= 3000 ->") && snippet.contains("exit({:shutdown, 10})"),
        "{snippet}"
    );
}
