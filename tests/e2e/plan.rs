//! `kmigrate plan`, `migrate --plan HASH`, and the destructive-change policy, against the
//! fixture release and a real database.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kmigrate::migration_plan::{Kind, MigrationPlan};

use crate::audit::events;
use crate::harness::{Ns, V1, V2, V3, migration_set};
use crate::support::{repo, report, scratch_dir, stdout};

const CREATE_LEGACY: i64 = 20240111120000;
const DROP_LEGACY: i64 = 20240112120000;
const WIDEN_TITLE: i64 = 20240113120000;
const INDEX_BODY: i64 = 20240114120000;

fn plan_of(out: &std::process::Output) -> MigrationPlan {
    report(out).plan.expect("the report has a plan")
}

/// The plan hash as docs/guide/plan-and-policy.md defines it, computed with coreutils' sha256sum from the
/// files in `dir`: one line per (version, name), in order, for `Demo.Repo`.
fn documented_hash(dir: &Path, pending: &[(i64, &str)]) -> String {
    let sha256sum = |data: &[u8]| {
        let mut child = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sha256sum");
        child.stdin.take().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)[..64].to_owned()
    };
    let mut text = "kmigrate-plan-v1\n".to_owned();
    for (v, n) in pending {
        let file = std::fs::read(dir.join(format!("{v}_{n}.exs"))).unwrap();
        text.push_str(&format!("Demo.Repo\t\t{v}\t{n}\t{}\n", sha256sum(&file)));
    }
    sha256sum(text.as_bytes())
}

#[test]
fn the_plan_of_the_fixture_in_text_and_json() {
    let dir = migration_set("destructive");
    let ns = Ns::with_demo_pod("plan", &[("DEMO_MIGRATIONS_DIR", &dir)]);
    let out = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo"])
        .expect_stderr("5 pending migration(s), destructive: 20240112120000; a protected environment runs them only with --allow-destructive 20240112120000")
        .status(0);
    let text = stdout(&out);
    for expected in [
        "Demo.Repo\n  20240101120000 create_posts  Demo.Repo.Migrations.CreatePosts\n",
        "  20240112120000 drop_legacy  Demo.Repo.Migrations.DropLegacy\n",
        "      in a transaction, under the migration lock\n      DESTRUCTIVE: drops a table (table_dropped), line 7: DROP TABLE legacy\n",
        "          fix: deploy code that no longer reads or writes the table first; drop it in a later release\n",
        // posts is created earlier in this plan: changing a column of a table nobody uses
        // yet is no danger (the rest of the plan, below, sees it once posts exists).
        "      reviewed: runs raw SQL (raw_sql_executed), line 9: execute \"ALTER TABLE posts ALTER COLUMN title TYPE varchar(500)\"",
        "  20240114120000 index_posts_body  Demo.Repo.Migrations.IndexPostsBody\n",
        "      no transaction (@disable_ddl_transaction), no migration lock (@disable_migration_lock)\n",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        !text.contains("index_not_concurrently"),
        "CONCURRENTLY: {text}"
    );
    let hash = text
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("plan "))
        .expect("the hash comes last")
        .to_owned();
    assert_eq!(
        hash,
        documented_hash(
            Path::new(&dir),
            &[
                (V1, "create_posts"),
                (CREATE_LEGACY, "create_legacy"),
                (DROP_LEGACY, "drop_legacy"),
                (WIDEN_TITLE, "widen_title"),
                (INDEX_BODY, "index_posts_body")
            ]
        ),
        "the pod hashes as the guide says"
    );

    let json = ns
        .kmigrate()
        .args(["plan", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&json);
    assert_eq!(
        (r.command.as_str(), r.outcome.as_str()),
        ("plan", "success")
    );
    let plan = r.plan.unwrap();
    assert_eq!(plan.hash, hash);
    assert_eq!(plan.repos.len(), 1);
    let m = &plan.repos[0].migrations;
    let summary: Vec<(i64, bool, bool, bool)> = m
        .iter()
        .map(|m| (m.version, m.transaction, m.migration_lock, m.destructive))
        .collect();
    assert_eq!(
        summary,
        [
            (V1, true, true, false),
            (CREATE_LEGACY, true, true, false),
            (DROP_LEGACY, true, true, true),
            (WIDEN_TITLE, true, true, false),
            (INDEX_BODY, false, false, false),
        ]
    );
    assert_eq!(
        m[2].module.as_deref(),
        Some("Demo.Repo.Migrations.DropLegacy")
    );
    assert_eq!(m[2].file, format!("{dir}/20240112120000_drop_legacy.exs"));
    let kinds = |i: usize| -> Vec<(Kind, bool)> {
        m[i].findings.iter().map(|f| (f.kind, f.assured)).collect()
    };
    assert_eq!(
        kinds(2),
        [(Kind::TableDropped, false), (Kind::RawSqlExecuted, false)]
    );
    assert_eq!(kinds(3), [(Kind::RawSqlExecuted, true)]);
    assert_eq!(m[2].findings[0].table.as_deref(), Some("legacy"));

    // Once some are applied, the plan is the rest, with another hash.
    ns.kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--to",
            &CREATE_LEGACY.to_string(),
        ])
        .status(0);
    let rest = plan_of(
        &ns.kmigrate()
            .args(["plan", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let versions: Vec<i64> = rest.migrations().map(|(_, m)| m.version).collect();
    assert_eq!(versions, [DROP_LEGACY, WIDEN_TITLE, INDEX_BODY]);
    let widen: Vec<(Kind, bool)> = rest
        .migrations()
        .find(|(_, m)| m.version == WIDEN_TITLE)
        .map(|(_, m)| m.findings.iter().map(|f| (f.kind, f.assured)).collect())
        .unwrap();
    assert_eq!(
        widen,
        [
            (Kind::ColumnTypeChanged, true),
            (Kind::RawSqlExecuted, true)
        ],
        "posts exists now: its type change is seen, and reviewed"
    );
    assert_ne!(rest.hash, hash);
    assert_eq!(ns.applied(), [V1, CREATE_LEGACY], "plan changed nothing");
}

/// A copy of a migrations folder, which a test may edit.
fn copy_of(src: &Path) -> std::path::PathBuf {
    let dir = scratch_dir("migrations");
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_plan_that_went_stale_runs_nothing_and_the_approved_one_runs() {
    let dir = copy_of(&repo().join("tests/fixtures/demo_release/priv/repo/migrations"));
    let ns = Ns::with_demo_pod("stale", &[("DEMO_MIGRATIONS_DIR", dir.to_str().unwrap())]);
    let plan = || {
        plan_of(
            &ns.kmigrate()
                .args(["plan", "-l", "app=demo", "-o", "json"])
                .status(0),
        )
        .hash
    };
    let approved = plan();

    // A file changed since the plan was made: refused in the run itself, nothing run.
    let edited = dir.join(format!("{V2}_add_title_index.exs"));
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("# reviewed later\n");
    std::fs::write(&edited, text).unwrap();
    let out = ns
        .kmigrate()
        .args([
            "migrate", "-l", "app=demo", "--plan", &approved, "-o", "json",
        ])
        .expect_stderr(&format!("not those of plan {approved}"))
        .status(82);
    let r = report(&out);
    assert_eq!((r.outcome.as_str(), r.exit_code), ("refused", 82));
    assert!(r.migrations.is_empty());
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert!(!ns.tables().contains(&"posts".to_owned()), "nothing ran");

    // The pending set changed since the plan was made (one was applied): refused too.
    let approved = plan();
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--step", "1"])
        .status(0);
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--plan", &approved])
        .expect_stderr("nothing was run")
        .status(82);
    assert_eq!(ns.applied(), [V1]);

    // The plan as it is now runs, all of it.
    let approved = plan();
    let out = ns
        .kmigrate()
        .args([
            "migrate", "-l", "app=demo", "--plan", &approved, "-o", "json",
        ])
        .status(0);
    let versions: Vec<i64> = report(&out).migrations.iter().map(|m| m.version).collect();
    assert_eq!(versions, [V2, V3]);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

#[test]
fn a_protected_namespace_runs_a_destructive_migration_only_when_allowed() {
    let ns = Ns::with_demo_pod(
        "prod-drop",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("destructive"))],
    );
    // Refused before anything runs, naming the migration and why.
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--yes", "-o", "json"])
        .expect_stderr(
            "20240112120000 drop_legacy (Demo.Repo): drops a table (line 7: DROP TABLE legacy)",
        )
        .expect_stderr("re-run with --allow-destructive 20240112120000")
        .reject_stderr("widen_title (Demo.Repo)")
        .status(73);
    let r = report(&out);
    assert_eq!((r.outcome.as_str(), r.protected), ("refused", true));
    assert!(r.plan.is_some_and(|p| p.migrations().count() == 5));
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert!(events(&ns).is_empty(), "nothing started, nothing to record");

    // Reading the plan asks nothing, even here; applying it with the allow runs it all.
    let approved = plan_of(
        &ns.kmigrate()
            .args(["plan", "-l", "app=demo", "-o", "json"])
            .status(0),
    )
    .hash;
    let allow = DROP_LEGACY.to_string();
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--yes",
            "--plan",
            &approved,
            "--allow-destructive",
            &allow,
            "-o",
            "json",
        ])
        .expect_stderr("20240112120000 drop_legacy (Demo.Repo)  DESTRUCTIVE: drops a table")
        .status(0);
    let r = report(&out);
    assert_eq!(r.destructive_allowed, [DROP_LEGACY]);
    assert_eq!(
        ns.applied(),
        [V1, CREATE_LEGACY, DROP_LEGACY, WIDEN_TITLE, INDEX_BODY]
    );
    assert!(!ns.tables().contains(&"legacy".to_owned()));
    let evs = events(&ns);
    assert_eq!(evs.len(), 1, "{evs:#?}");
    let ann = &evs[0]["metadata"]["annotations"];
    assert_eq!(ann["kmigrate.io/destructive-allowed"], allow.as_str());
    assert!(
        evs[0]["note"]
            .as_str()
            .unwrap()
            .contains("destructive migrations allowed: 20240112120000"),
        "{evs:#?}"
    );
}
