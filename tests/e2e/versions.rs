//! The release's ecto_sql version and its repos' adapters (#27 item 7), with variants of
//! the fixture release built as a release of other code or deps looks: an ecto_sql.app of
//! another version (the stand-in then behaves as that ecto_sql did where kmigrate depends
//! on it), and an app whose `:ecto_repos` holds an SQLite3 repo besides its PostgreSQL one.

use std::process::{Command, Stdio};
use std::time::Duration;

use kmigrate::doctor::Status;

use crate::doctor::check;
use crate::harness::{Ns, V1, V2, V3, fixture_file, local, psql, variant_release};
use crate::support::{report, wait_for};

const CREATE_NOTES: i64 = 20240301120000;
const ADD_INDEX: i64 = 20240302120000;

/// The fixture release with ecto_sql `vsn`, under a name of the test's own.
fn with_ecto_sql(name: &str, vsn: &str) -> String {
    let app = fixture_file("lib/ecto_sql.app");
    let edited = app.replace("{vsn, \"3.14.0\"}", &format!("{{vsn, \"{vsn}\"}}"));
    assert_ne!(app, edited, "the fixture's ecto_sql.app names its version");
    variant_release(name, &[], &[("lib/ecto_sql.app", edited)])
}

/// `doctor` names, for ecto_sql 3.7.0, each feature it lacks and what a run does instead
/// (a warning: the run works); the fixture's own 3.14.0 has them all.
#[test]
fn doctor_names_each_feature_an_older_ecto_sql_lacks() {
    let release = with_ecto_sql("doctor-ecto-sql-3.7.0", "3.7.0");
    let ns = Ns::with_demo_pod("ectosql-doctor", &[]);
    let r = report(
        &ns.kmigrate_with(&release)
            .args(["doctor", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let e = check(&r.checks, "ecto_sql");
    assert_eq!(e.status, Status::Warn, "{e:?}");
    for said in [
        "3.7.0 (at least 3.6.1); ",
        "before 3.7.1, no a migration lock per prefix",
        "a migrate with tenants refuses --concurrency above 1",
        "--log-sql is passed as `log_sql:`",
        "before 3.9.0, no `migration_lock: :pg_advisory_lock`",
    ] {
        assert!(e.detail.contains(said), "{said}: {e:?}");
    }
    assert_eq!(
        e.fix.as_deref(),
        Some("upgrade ecto_sql to 3.9.0 or later to have every feature")
    );
    let r = report(
        &ns.kmigrate()
            .args(["doctor", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let e = check(&r.checks, "ecto_sql");
    assert_eq!(
        (e.status, e.detail.as_str()),
        (
            Status::Pass,
            "3.14.0 (at least 3.6.1, and every feature's version)"
        )
    );
}

/// On ecto_sql 3.7.0 every tenant locks the default schema's `schema_migrations`: tenants
/// at once are refused before anything runs; one at a time they run, the run says what it
/// does without, and `--log-sql` reaches Ecto under 3.7.0's own option name (`log_sql:`).
#[test]
fn an_older_ecto_sql_refuses_tenants_at_once_and_logs_sql_by_its_own_option() {
    let release = with_ecto_sql("tenants-ecto-sql-3.7.0", "3.7.0");
    let ns = Ns::with_demo_pod("ectosql-tenants", &[]);
    for t in ["tenant_a", "tenant_b"] {
        psql(&ns.db, &format!("CREATE SCHEMA {t}"));
    }
    let tenants = ["--prefix", "tenant_a", "--prefix", "tenant_b"];
    // The public schema first, as an app migrates it: 3.7.0 locks its table for tenants.
    ns.kmigrate_with(&release)
        .args(["migrate", "-l", "app=demo"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);

    ns.kmigrate_with(&release)
        .args(["migrate", "-l", "app=demo", "--concurrency", "2"])
        .args(tenants)
        .expect_stderr("ecto_sql 3.7.0 takes one migration lock for every tenant")
        .expect_stderr("run with --concurrency 1, or upgrade ecto_sql; nothing was run")
        .status(2);
    assert!(ns.applied_in("tenant_a").is_empty());
    assert!(ns.applied_in("tenant_b").is_empty());

    let out = ns
        .kmigrate_with(&release)
        .args(["migrate", "-l", "app=demo", "--log-sql", "-o", "json"])
        .args(tenants)
        .expect_stderr("kmigrate: ecto_sql 3.7.0 is older than 3.7.1, which brought a migration lock per prefix")
        .expect_stderr("QUERY OK")
        .expect_stderr("CREATE TABLE \"tenant_a\".notes")
        .status(0);
    let r = report(&out);
    let older: Vec<(&str, &str, &str)> = r
        .older_ecto_sql
        .iter()
        .map(|o| (o.feature.as_str(), o.ecto_sql.as_str(), o.needs.as_str()))
        .collect();
    assert_eq!(older, [("prefix_lock", "3.7.0", "3.7.1")]);
    for t in ["tenant_a", "tenant_b"] {
        assert_eq!(ns.applied_in(t), [CREATE_NOTES, ADD_INDEX], "{t}");
    }
}

/// On ecto_sql 3.7.0 a migration of any prefix holds `LOCK TABLE "schema_migrations"`
/// (the default schema's): `status` of a tenant reads the holder there, and says why; the
/// same session is no holder of a tenant's lock on 3.14.0, which locks per prefix.
#[test]
fn an_older_ecto_sql_s_lock_holder_is_read_on_the_default_schema_s_table() {
    let release = with_ecto_sql("holder-ecto-sql-3.7.0", "3.7.0");
    let ns = Ns::with_demo_pod("ectosql-holder", &[]);
    psql(
        &ns.db,
        "CREATE SCHEMA tenant_a; CREATE TABLE schema_migrations (version bigint PRIMARY KEY, inserted_at timestamp)",
    );
    // What ecto_sql 3.7.0's lock_for_migrations/3 holds while a tenant migrates.
    let mut holder = Command::new("psql")
        .envs(local().pg.iter().cloned())
        .env("PGAPPNAME", "old-ecto-migrator")
        .args(["-X", "-q", "-d", &ns.db, "-c"])
        .arg("BEGIN; LOCK TABLE \"schema_migrations\" IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("psql");
    let held = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                WHERE a.application_name = 'old-ecto-migrator' AND l.granted AND l.locktype = 'relation' \
                AND l.relation = 'public.schema_migrations'::regclass";
    wait_for("the old lock", Duration::from_secs(20), || {
        psql(&ns.db, held).trim() == "1"
    });
    let status = |release: &str| {
        report(
            &ns.kmigrate_with(release)
                .args([
                    "status", "-l", "app=demo", "--prefix", "tenant_a", "-o", "json",
                ])
                .status(0),
        )
    };
    let r = status(&release);
    let holders: Vec<(Option<&str>, &str)> = r
        .migration_locks
        .iter()
        .map(|l| (l.prefix.as_deref(), l.application.as_str()))
        .collect();
    assert_eq!(holders, [(Some("tenant_a"), "old-ecto-migrator")]);
    assert_eq!(r.older_ecto_sql.len(), 1, "{:?}", r.older_ecto_sql);
    assert_eq!(r.older_ecto_sql[0].feature, "prefix_lock");
    let r = status(&crate::harness::release());
    assert!(r.migration_locks.is_empty(), "{:?}", r.migration_locks);
    assert!(r.older_ecto_sql.is_empty());
    psql(
        &ns.db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'old-ecto-migrator'",
    );
    let _ = holder.kill();
    let _ = holder.wait();
}

/// An app whose `:ecto_repos` holds an SQLite3 repo (`Demo.LiteRepo`, `__adapter__()`
/// `Ecto.Adapters.SQLite3`) besides its PostgreSQL one: `status`, `plan` and `doctor` read
/// the PostgreSQL repo and name the other with its adapter; `migrate` refuses it before
/// anything runs, and runs the PostgreSQL repo when `--repo` names it.
#[test]
fn a_repo_that_is_not_postgresql_is_left_out_of_reads_and_refused_by_migrate() {
    let app = fixture_file("lib/demo.app");
    let edited = app.replace(
        "{ecto_repos, ['Elixir.Demo.Repo']}",
        "{ecto_repos, ['Elixir.Demo.Repo', 'Elixir.Demo.LiteRepo']}",
    );
    assert_ne!(app, edited);
    let release = variant_release("sqlite-repo", &["sqlite_repo"], &[("lib/demo.app", edited)]);
    let ns = Ns::with_demo_pod("adapter", &[]);
    let left_out = "Demo.LiteRepo uses Ecto.Adapters.SQLite3, not Ecto.Adapters.Postgres: left out";

    let r = report(
        &ns.kmigrate_with(&release)
            .args(["status", "-l", "app=demo", "-o", "json"])
            .expect_stderr(left_out)
            .status(0),
    );
    let skipped: Vec<(&str, &str)> = r
        .skipped_repos
        .iter()
        .map(|s| (s.repo.as_str(), s.adapter.as_str()))
        .collect();
    assert_eq!(skipped, [("Demo.LiteRepo", "Ecto.Adapters.SQLite3")]);
    let read: Vec<(&str, i64)> = r
        .migrations
        .iter()
        .map(|m| (m.repo.as_deref().unwrap_or_default(), m.version))
        .collect();
    assert_eq!(
        read,
        [("Demo.Repo", V1), ("Demo.Repo", V2), ("Demo.Repo", V3)]
    );

    let r = report(
        &ns.kmigrate_with(&release)
            .args(["plan", "-l", "app=demo", "-o", "json"])
            .expect_stderr(left_out)
            .status(0),
    );
    assert_eq!(r.skipped_repos.len(), 1, "{:?}", r.skipped_repos);
    let plan = r.plan.expect("the plan");
    let repos: Vec<&str> = plan.repos.iter().map(|p| p.repo.as_str()).collect();
    assert_eq!(repos, ["Demo.Repo"]);

    let r = report(
        &ns.kmigrate_with(&release)
            .args(["doctor", "-l", "app=demo", "-o", "json"])
            .status(0),
    );
    let repos = check(&r.checks, "repos");
    assert_eq!(repos.status, Status::Warn, "{repos:?}");
    assert!(repos.detail.contains(left_out), "{repos:?}");
    assert_eq!(
        check(&r.checks, "database").detail,
        "SELECT 1 through Demo.Repo"
    );

    ns.kmigrate_with(&release)
        .args(["migrate", "-l", "app=demo"])
        .expect_stderr(
            "Demo.LiteRepo uses Ecto.Adapters.SQLite3, not Ecto.Adapters.Postgres: kmigrate migrates PostgreSQL repos only; \
             name the repos to run with --repo (Demo.Repo); nothing was run",
        )
        .status(2);
    assert!(ns.applied().is_empty());
    ns.kmigrate_with(&release)
        .args(["migrate", "-l", "app=demo", "--repo", "Demo.Repo"])
        .status(0);
    assert_eq!(ns.applied(), [V1, V2, V3]);
    // The schema gate's wait reads the PostgreSQL repo; a rollback refuses as migrate does.
    ns.kmigrate_with(&release)
        .args(["wait", "-l", "app=demo", "--deadline", "30s"])
        .expect_stderr(left_out)
        .status(0);
    ns.kmigrate_with(&release)
        .args(["rollback", "-l", "app=demo", "--step", "1", "--yes"])
        .expect_stderr("Demo.LiteRepo uses Ecto.Adapters.SQLite3, not Ecto.Adapters.Postgres: kmigrate migrates PostgreSQL repos only")
        .status(2);
    assert_eq!(ns.applied(), [V1, V2, V3]);
}

/// A repo configured with `migration_lock: :pg_advisory_lock` on ecto_sql 3.8.3 gets the
/// table lock (the advisory lock came with 3.9.0): the run says so; on 3.14.0 it does not.
#[test]
fn an_advisory_lock_config_on_an_older_ecto_sql_is_said_to_take_the_table_lock() {
    let release = with_ecto_sql("advisory-ecto-sql-3.8.3", "3.8.3");
    let ns = Ns::with_demo_pod(
        "ectosql-advisory",
        &[("DEMO_MIGRATION_LOCK", "pg_advisory_lock")],
    );
    let r = report(
        &ns.kmigrate_with(&release)
            .args(["migrate", "-l", "app=demo", "--step", "1", "-o", "json"])
            .expect_stderr(
                "kmigrate: ecto_sql 3.8.3 is older than 3.9.0, which brought `migration_lock: :pg_advisory_lock`",
            )
            .expect_stderr("Ecto takes the table lock whatever the repo's :migration_lock says")
            .status(0),
    );
    let older: Vec<&str> = r
        .older_ecto_sql
        .iter()
        .map(|o| o.feature.as_str())
        .collect();
    assert_eq!(older, ["advisory_lock"]);
    assert_eq!(ns.applied(), [V1]);
    let r = report(
        &ns.kmigrate()
            .args(["migrate", "-l", "app=demo", "-o", "json"])
            .reject_stderr("is older than")
            .status(0),
    );
    assert!(r.older_ecto_sql.is_empty());
    assert_eq!(ns.applied(), [V1, V2, V3]);
}
