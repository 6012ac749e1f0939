//! Tenants (schema prefixes) as the fixture's Ecto migrates them into a real PostgreSQL:
//! three tenants where one fails (a table it creates is already there), fail-fast and
//! --continue-on-error, a second run that resumes, canaries first, --prefixes-from with a
//! query, and tenants migrated at once.

use std::time::Duration;

use kmigrate::report::{Report, TenantOutcome};

use crate::ecto::Gate;
use crate::harness::{Ns, V1, V2, V3, migration_set, psql};
use crate::support::{report, wait_for};

const CREATE_NOTES: i64 = 20240301120000;
const ADD_INDEX: i64 = 20240302120000;
const TENANT_GATE: i64 = 20240303120000;

/// A pod of the release as it is, and schemas `tenant_a`, `tenant_b`, `tenant_c`; in
/// `tenant_b` the `notes` table the first tenant migration creates is already there.
fn three_tenants(tag: &str) -> Ns {
    let ns = Ns::with_demo_pod(tag, &[]);
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
    psql(&ns.db, r#"CREATE SCHEMA "tenant""x""#);
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
            (r#""tenant\"x""#, TenantOutcome::Invalid, 0),
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
            r#"kmigrate: --prefixes-from returned "tenant\"x", which is not a valid prefix: skipped"#
        ),
        "{said}"
    );
    assert_eq!(
        psql(
            &ns.db,
            r#"SELECT to_regclass('"tenant""x".schema_migrations') IS NULL"#
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
            "priv/repo/tenant_migrations",
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

#[test]
fn a_tenant_runs_its_own_migrations_never_the_public_schemas() {
    let ns = Ns::with_demo_pod("tenant-paths", &[]);
    psql(&ns.db, "CREATE SCHEMA tenant_a");
    let km = |args: &[&str]| ns.kmigrate().args(args).args(["-l", "app=demo"]);
    // With a prefix, the release's `priv/repo/tenant_migrations` is the default, as
    // Triplex's; the public schema's `priv/repo/migrations` never runs in a tenant.
    let r = report(&km(&["status", "--prefix", "tenant_a", "-o", "json"]).status(0));
    let listed: Vec<i64> = r.migrations.iter().map(|m| m.version).collect();
    assert_eq!(
        listed,
        [CREATE_NOTES, ADD_INDEX],
        "status counts the tenant's only"
    );
    km(&["migrate", "--prefix", "tenant_a"]).status(0);
    assert_eq!(ns.applied_in("tenant_a"), [CREATE_NOTES, ADD_INDEX]);
    let public_in_tenant = "SELECT to_regclass('tenant_a.posts') IS NULL";
    assert_eq!(psql(&ns.db, public_in_tenant).trim(), "t");
    // The public schema keeps its own migrations.
    km(&["migrate"]).status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);

    // A path given replaces the default, as `mix ecto.migrate --migrations-path` does:
    // the README's tenant form runs the tenant folder alone.
    psql(&ns.db, "CREATE SCHEMA tenant_b");
    let tenant_path = ["--migrations-path", "priv/repo/tenant_migrations"];
    km(&["migrate", "--prefix", "tenant_b"])
        .args(tenant_path)
        .status(0);
    assert_eq!(ns.applied_in("tenant_b"), [CREATE_NOTES, ADD_INDEX]);

    // A path that is not a folder is a usage error, as mix's "Could not find migrations
    // directory": never a silent "up to date".
    for command in ["status", "migrate", "plan"] {
        let out = km(&[
            command,
            "--migrations-path",
            "priv/repo/migratoins",
            "-o",
            "json",
        ])
        .status(2);
        let error = report(&out).error.unwrap_or_default();
        assert!(
            error.contains("could not find migrations directory")
                && error.contains("priv/repo/migratoins"),
            "{command}: {error}"
        );
    }

    // Relative paths resolve against the repo's own app (`otp_app`), not the app whose
    // env was read: in an umbrella the two differ. `--app kernel` with `--repo` stands in
    // for the web app of an umbrella whose repo lives in `demo`.
    psql(&ns.db, "CREATE SCHEMA tenant_c");
    km(&[
        "migrate",
        "--app",
        "kernel",
        "--repo",
        "Demo.Repo",
        "--prefix",
        "tenant_c",
    ])
    .args(tenant_path)
    .status(0);
    assert_eq!(ns.applied_in("tenant_c"), [CREATE_NOTES, ADD_INDEX]);
}

#[test]
fn tenants_named_as_triplex_names_them_are_migrated_quoted() {
    let ns = Ns::with_demo_pod("tenant-names", &[]);
    let names = [
        "shop-eu",
        "Tenant_B",
        "0b5a7c1e-3f2d-4c4e-9d8a-6f1e2d3c4b5a",
        "it's",
    ];
    for name in names {
        psql(&ns.db, &format!("CREATE SCHEMA \"{name}\""));
    }
    let km = |args: &[&str]| ns.kmigrate().args(args).args(["-l", "app=demo"]);
    // Given with --prefix: each is a tenant of its own, quoted as Ecto quotes it.
    let r = report(
        &km(&[
            "migrate", "--prefix", names[0], "--prefix", names[1], "-o", "json",
        ])
        .status(0),
    );
    assert_eq!(
        outcomes(&r),
        [
            ("shop-eu", TenantOutcome::Applied, 2),
            ("Tenant_B", TenantOutcome::Applied, 2)
        ]
    );
    // Read by a query, as a Triplex app lists its tenants: the ones left are migrated.
    let query = "SELECT nspname FROM pg_namespace WHERE nspname IN ('shop-eu', 'Tenant_B', '0b5a7c1e-3f2d-4c4e-9d8a-6f1e2d3c4b5a', 'it''s') ORDER BY 1";
    let r = report(&km(&["migrate", "--prefixes-from", query, "-o", "json"]).status(0));
    let mut applied: Vec<&str> = r
        .tenants
        .iter()
        .filter(|t| t.outcome == TenantOutcome::Applied)
        .map(|t| t.prefix.as_str())
        .collect();
    applied.sort();
    assert_eq!(applied, ["0b5a7c1e-3f2d-4c4e-9d8a-6f1e2d3c4b5a", "it's"]);
    for name in names {
        assert_eq!(ns.applied_in(name), [CREATE_NOTES, ADD_INDEX], "{name}");
    }
    // Status reads them, and a rollback reverts in the one named.
    let r = report(&km(&["status", "--prefix", "shop-eu", "-o", "json"]).status(0));
    assert!(
        r.migrations
            .iter()
            .all(|m| m.state.as_deref() == Some("up"))
    );
    assert_eq!(r.migrations.len(), 2);
    km(&["rollback", "--prefix", "it's", "--step", "1", "--yes"]).status(0);
    assert_eq!(ns.applied_in("it's"), [CREATE_NOTES]);
    assert_eq!(ns.applied_in("shop-eu"), [CREATE_NOTES, ADD_INDEX]);
    // A name with a quote is refused before anything is sent, as Ecto's quote_name/1 does.
    let out = km(&["status", "--prefix", "a\"b"]).status(2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid prefix"));
}

#[test]
fn no_tenants_and_no_repos_are_never_success() {
    let ns = three_tenants("no-tenants");
    let typo = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenat_%'";
    let km = |args: &[&str]| ns.kmigrate().args(args).args(["-l", "app=demo"]);
    // A query that returns nothing looks like a typo: status (with --exit-code), plan,
    // migrate and the gate's wait refuse it instead of saying "up to date".
    for command in [
        &["status", "--exit-code"][..],
        &["plan"],
        &["migrate"],
        &["wait", "--deadline", "5s"],
    ] {
        let out = km(command)
            .args(["--prefixes-from", typo, "-o", "json"])
            .status(2);
        let error = report(&out).error.unwrap_or_default();
        assert!(
            error.contains("the --prefixes-from query returned no tenants (0 row(s))"),
            "{command:?}: {error}"
        );
    }
    // Said to be expected, none is nothing to do.
    km(&["migrate", "--prefixes-from", typo, "--allow-no-tenants"]).status(0);
    for t in ["tenant_a", "tenant_b", "tenant_c"] {
        assert_eq!(ns.applied_in(t), Vec::<i64>::new(), "{t}");
    }
    // The flag means nothing without a query.
    km(&["migrate", "--allow-no-tenants"]).status(2);

    // An app with `ecto_repos: []` has nothing kmigrate could read: refused, not "0 pending".
    let empty = Ns::with_demo_pod("no-repos", &[("DEMO_ECTO_REPOS", "[]")]);
    for command in [&["status", "--exit-code"][..], &["migrate"], &["plan"]] {
        let out = empty
            .kmigrate()
            .args(command)
            .args(["-l", "app=demo", "-o", "json"])
            .status(2);
        let error = report(&out).error.unwrap_or_default();
        assert!(
            error.contains(":demo lists no repos in :ecto_repos: name them with --repo"),
            "{command:?}: {error}"
        );
    }
}

#[test]
fn tenants_in_an_app_of_several_repos_name_the_repos_that_have_them() {
    let ns = Ns::with_demo_pod(
        "tenant-repos",
        &[("DEMO_ECTO_REPOS", "Demo.Repo,Demo.OtherRepo")],
    );
    psql(&ns.db, "CREATE SCHEMA tenant_a");
    let km = |args: &[&str]| ns.kmigrate().args(args).args(["-l", "app=demo"]);
    // Which repo has tenants is not guessed: Demo.OtherRepo's audit log would land in
    // every tenant's schema.
    for command in [&["status"][..], &["migrate"]] {
        let out = km(command)
            .args(["--prefix", "tenant_a", "-o", "json"])
            .status(2);
        let error = report(&out).error.unwrap_or_default();
        assert!(
            error.contains("this app has several repos (Demo.Repo, Demo.OtherRepo) and the run has tenants: name the repos that have them with --repo"),
            "{command:?}: {error}"
        );
    }
    assert_eq!(ns.applied_in("tenant_a"), Vec::<i64>::new());
    km(&["migrate", "--prefix", "tenant_a", "--repo", "Demo.Repo"]).status(0);
    assert_eq!(ns.applied_in("tenant_a"), [CREATE_NOTES, ADD_INDEX]);
    let audit_in_tenant = "SELECT to_regclass('tenant_a.audit_log') IS NULL";
    assert_eq!(psql(&ns.db, audit_in_tenant).trim(), "t");
}
