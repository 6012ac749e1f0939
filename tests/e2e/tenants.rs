//! Tenants (schema prefixes) as the fixture's Ecto migrates them into a real PostgreSQL:
//! three tenants where one fails (a table it creates is already there), fail-fast and
//! --continue-on-error, a second run that resumes, canaries first, --prefixes-from with a
//! query, and tenants migrated at once.

use std::time::Duration;

use kmigrate::report::{Report, TenantOutcome};

use crate::ecto::Gate;
use crate::harness::{Ns, migration_set, psql};
use crate::support::{report, wait_for};

const CREATE_NOTES: i64 = 20240301120000;
const ADD_INDEX: i64 = 20240302120000;
const TENANT_GATE: i64 = 20240303120000;

/// A pod migrating the `tenant` set, and schemas `tenant_a`, `tenant_b`, `tenant_c`; in
/// `tenant_b` the `notes` table the first migration creates is already there.
fn three_tenants(tag: &str) -> Ns {
    let ns = Ns::with_demo_pod(tag, &[("DEMO_MIGRATIONS_DIR", &migration_set("tenant"))]);
    for t in ["tenant_a", "tenant_b", "tenant_c"] {
        psql(&ns.db, &format!("CREATE SCHEMA {t}"));
    }
    psql(&ns.db, "CREATE TABLE tenant_b.notes (id int)");
    ns
}

fn outcomes(r: &Report) -> Vec<(&str, TenantOutcome, u64)> {
    r.tenants
        .iter()
        .map(|t| (t.prefix.as_str(), t.outcome, t.migrations))
        .collect()
}

const THREE: [&str; 6] = [
    "--prefix", "tenant_a", "--prefix", "tenant_b", "--prefix", "tenant_c",
];

#[test]
fn one_failing_tenant_stops_the_run_or_not_and_a_second_run_resumes() {
    let ns = three_tenants("tenants");
    let migrate = |more: &[&str]| {
        ns.kmigrate()
            .args(["migrate", "-l", "app=demo"])
            .args(THREE)
            .args(more)
    };

    // Fail-fast: tenant_b stops the run, with Ecto's exit code; tenant_c is not touched.
    let r = report(&migrate(&["-o", "json"]).status(1));
    assert_eq!(
        outcomes(&r),
        [
            ("tenant_a", TenantOutcome::Applied, 2),
            ("tenant_b", TenantOutcome::Failed, 0),
            ("tenant_c", TenantOutcome::NotRun, 0),
        ]
    );
    let b = &r.tenants[1];
    assert_eq!(b.failed_version, Some(CREATE_NOTES));
    let error = b.error.as_deref().unwrap_or_default();
    assert!(
        error.contains(r#"ERROR 42P07 (duplicate_table) relation "notes" already exists"#),
        "{error}"
    );
    assert_eq!(
        (r.outcome.as_str(), r.remote_exit_code),
        ("failed", Some(1))
    );
    assert_eq!(ns.applied_in("tenant_a"), [CREATE_NOTES, ADD_INDEX]);
    assert_eq!(ns.applied_in("tenant_b"), Vec::<i64>::new());
    assert_eq!(ns.applied_in("tenant_c"), Vec::<i64>::new());

    // Continue-on-error: tenant_c is migrated after tenant_b fails; tenant_a, already up,
    // is skipped; the run ends with 79.
    let out = migrate(&["--continue-on-error", "-o", "json"]).status(79);
    let r = report(&out);
    assert_eq!(
        outcomes(&r),
        [
            ("tenant_a", TenantOutcome::UpToDate, 0),
            ("tenant_b", TenantOutcome::Failed, 0),
            ("tenant_c", TenantOutcome::Applied, 2),
        ]
    );
    assert_eq!(r.outcome, "failed");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "kmigrate: tenant tenant_b failed at 20240301120000: (Postgrex.Error) ERROR 42P07"
        ),
        "said as it happens: {said}"
    );
    assert!(
        said.contains("1 of 3 tenants failed or were not run (tenant_b)"),
        "{said}"
    );
    assert_eq!(ns.applied_in("tenant_c"), [CREATE_NOTES, ADD_INDEX]);
    assert_eq!(ns.applied_in("tenant_b"), Vec::<i64>::new());

    // Fixed, run again: only tenant_b has anything to do. In text, every tenant's outcome.
    psql(&ns.db, "DROP TABLE tenant_b.notes");
    let out = migrate(&[]).status(0);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            "kmigrate: tenants: 1 applied, 2 up to date\n  tenant_a  up to date\n  tenant_b  applied 2\n  tenant_c  up to date\n"
        ),
        "{said}"
    );
    assert!(
        said.contains("kmigrate: 2 migrations applied (pod demo-0)"),
        "{said}"
    );
    for t in ["tenant_a", "tenant_b", "tenant_c"] {
        assert_eq!(ns.applied_in(t), [CREATE_NOTES, ADD_INDEX], "{t}");
    }
}

#[test]
fn prefixes_from_a_query_with_a_canary_first() {
    let ns = three_tenants("tenants-query");
    psql(&ns.db, "DROP TABLE tenant_b.notes");
    // Not tenants by the query's pattern, and not a valid prefix.
    psql(&ns.db, "CREATE SCHEMA other");
    psql(&ns.db, r#"CREATE SCHEMA "Tenant_X""#);
    let query = "SELECT nspname FROM pg_namespace WHERE nspname ILIKE 'tenant%' ORDER BY 1";
    let migrate = |more: &[&str]| {
        ns.kmigrate()
            .args(["migrate", "-l", "app=demo", "--prefixes-from", query])
            .args(more)
    };

    // A canary that is not one of the tenants: refused, nothing run.
    let out = migrate(&["--canary", "tenant_z", "-o", "json"]).status(2);
    let r = report(&out);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("canary tenant_z is not one of the 3 tenants of this run"),
        "{:?}",
        r.error
    );
    assert_eq!(ns.applied_in("tenant_c"), Vec::<i64>::new());

    // The canary goes first, then the others in the query's order; the invalid name is
    // said, not run, and makes the run end with 79 although every tenant succeeded.
    let out = migrate(&["--canary", "tenant_c", "-o", "json"]).status(79);
    let r = report(&out);
    assert_eq!(
        outcomes(&r),
        [
            ("tenant_c", TenantOutcome::Applied, 2),
            ("tenant_a", TenantOutcome::Applied, 2),
            ("tenant_b", TenantOutcome::Applied, 2),
            (r#""Tenant_X""#, TenantOutcome::Invalid, 0),
        ]
    );
    let order: Vec<(&str, i64)> = r
        .migrations
        .iter()
        .map(|m| (m.prefix.as_deref().unwrap_or_default(), m.version))
        .collect();
    assert_eq!(
        order,
        [
            ("tenant_c", CREATE_NOTES),
            ("tenant_c", ADD_INDEX),
            ("tenant_a", CREATE_NOTES),
            ("tenant_a", ADD_INDEX),
            ("tenant_b", CREATE_NOTES),
            ("tenant_b", ADD_INDEX),
        ],
        "as they ran"
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(
            r#"kmigrate: --prefixes-from returned "Tenant_X", which is not a valid prefix: skipped"#
        ),
        "{said}"
    );
    assert_eq!(
        psql(
            &ns.db,
            r#"SELECT to_regclass('"Tenant_X".schema_migrations') IS NULL"#
        )
        .trim(),
        "t",
        "the invalid name was not run"
    );
    assert_eq!(ns.applied_in("other"), Vec::<i64>::new());

    // status reads the same tenants.
    let r = report(
        &ns.kmigrate()
            .args([
                "status",
                "-l",
                "app=demo",
                "--prefixes-from",
                query,
                "-o",
                "json",
            ])
            .status(0),
    );
    let mut prefixes: Vec<&str> = r
        .migrations
        .iter()
        .filter_map(|m| m.prefix.as_deref())
        .collect();
    prefixes.dedup();
    assert_eq!(prefixes, ["tenant_a", "tenant_b", "tenant_c"]);
    assert!(
        r.migrations
            .iter()
            .all(|m| m.state.as_deref() == Some("up"))
    );

    // The query runs read-only: one that writes is refused, and nothing runs.
    psql(&ns.db, "CREATE TABLE marker (id int)");
    psql(&ns.db, "CREATE SCHEMA tenant_d");
    let writes = "WITH w AS (INSERT INTO public.marker VALUES (1) RETURNING 'tenant_d'::text) SELECT * FROM w";
    let out = ns
        .kmigrate()
        .args([
            "migrate",
            "-l",
            "app=demo",
            "--prefixes-from",
            writes,
            "-o",
            "json",
        ])
        .status(2);
    let error = report(&out).error.unwrap_or_default();
    assert!(
        error.contains("the --prefixes-from query failed: ERROR 25006 (read_only_sql_transaction)"),
        "{error}"
    );
    assert_eq!(psql(&ns.db, "SELECT count(*) FROM marker").trim(), "0");
    assert_eq!(ns.applied_in("tenant_d"), Vec::<i64>::new());
}

#[test]
fn tenants_at_once_wait_together_on_a_pool_big_enough() {
    let ns = three_tenants("tenants-at-once");
    psql(&ns.db, "DROP TABLE tenant_b.notes");
    let gate = Gate::close(&ns.db);
    let mut run = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--concurrency", "3"])
        .args(THREE)
        .args([
            "--migrations-path",
            &migration_set("tenant_gate"),
            "-o",
            "json",
        ])
        .spawn();
    // All three wait at the gate at once, each holding Ecto's migration lock and its
    // migration's connection: six, and the watcher's. A pool any smaller would leave one
    // in DBConnection's queue until it is dropped.
    let waiting = format!(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = '{}' AND l.locktype = 'advisory' AND l.objid = 4242 AND NOT l.granted",
        ns.db
    );
    wait_for("three tenants at the gate", Duration::from_secs(90), || {
        psql(&ns.db, &waiting).trim() == "3"
    });
    // The shared watcher names the holder while they wait; queries meanwhile are served.
    run.wait_line("kmigrate: waiting");
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(90));
    assert_eq!(code, 0, "{:#?}", run.seen);
    let r: Report = serde_json::from_value(run.stdout_json()).expect("a report");
    for t in &r.tenants {
        assert_eq!(
            (t.outcome, t.migrations),
            (TenantOutcome::Applied, 3),
            "{t:?}"
        );
    }
    assert_eq!(r.tenants.len(), 3);
    assert!(!r.lock_waits.is_empty());
    assert!(
        !run.seen.iter().any(|l| l.contains("redefining module")),
        "each migration is compiled once: {:#?}",
        run.seen
    );
    for t in ["tenant_a", "tenant_b", "tenant_c"] {
        assert_eq!(
            ns.applied_in(t),
            [CREATE_NOTES, ADD_INDEX, TENANT_GATE],
            "{t}"
        );
    }
}
