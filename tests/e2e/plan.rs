//! `kmigrate plan` against the fixture release and a real database.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kmigrate::migration_plan::{Kind, MigrationPlan};

use crate::harness::{Ns, V1, migration_set};
use crate::support::{report, stdout};

const CREATE_LEGACY: i64 = 20240111120000;
const DROP_LEGACY: i64 = 20240112120000;
const WIDEN_TITLE: i64 = 20240113120000;
const INDEX_BODY: i64 = 20240114120000;

fn plan_of(out: &std::process::Output) -> MigrationPlan {
    report(out).plan.expect("the report has a plan")
}

/// The plan hash as the README defines it, computed with coreutils' sha256sum from the
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
        .expect_stderr("5 pending migration(s), destructive: 20240112120000\n")
        .status(0);
    let text = stdout(&out);
    for expected in [
        "Demo.Repo\n  20240101120000 create_posts  Demo.Repo.Migrations.CreatePosts\n",
        "  20240112120000 drop_legacy  Demo.Repo.Migrations.DropLegacy\n",
        "      in a transaction, under the migration lock\n      DESTRUCTIVE: drops a table (table_dropped), line 7: DROP TABLE legacy\n",
        "      reviewed: changes a column's type (column_type_changed), line 9: ALTER TABLE posts ALTER COLUMN title TYPE varchar(500)\n",
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
        "the pod hashes as the README says"
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
    assert_eq!(
        kinds(3),
        [
            (Kind::ColumnTypeChanged, true),
            (Kind::RawSqlExecuted, true)
        ]
    );
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
    assert_ne!(rest.hash, hash);
    assert_eq!(ns.applied(), [V1, CREATE_LEGACY], "plan changed nothing");
}
