//! The connections a run opens, against a real PostgreSQL and the fixture's pool, which
//! opens every connection of a repo's pool when the repo starts, as DBConnection does: a
//! tenant run at `--concurrency 8` stays within the number docs/guide/tenants.md states; a
//! role's `CONNECTION LIMIT` that refuses some of them is said, with exit 85; a
//! `--prefixes-from` query slower than DBConnection's default 15 s `:timeout` still works.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kmigrate::report::{Report, TenantOutcome};

use crate::ecto::Gate;
use crate::harness::{Ns, local, migration_set, psql};
use crate::support::{Run, report, wait_for};

/// `tenant_01` .. `tenant_NN` in the namespace's database, owned by `owner` when given.
fn tenants(ns: &Ns, count: usize, owner: Option<&str>) -> Vec<String> {
    (1..=count)
        .map(|i| {
            let name = format!("tenant_{i:02}");
            let by = owner
                .map(|o| format!(" AUTHORIZATION {o}"))
                .unwrap_or_default();
            psql(&ns.db, &format!("CREATE SCHEMA {name}{by}"));
            name
        })
        .collect()
}

/// A migrate of these tenants, `concurrency` at a time, whose last migration waits at the
/// gate (`Gate`); JSON out.
fn gated_migrate(ns: &Ns, names: &[String], concurrency: &str) -> Run {
    ns.kmigrate()
        .args(["migrate", "-l", "app=demo", "--concurrency", concurrency])
        .args(names.iter().flat_map(|n| ["--prefix", n.as_str()]))
        .args([
            "--migrations-path",
            "priv/repo/tenant_migrations",
            "--migrations-path",
            &migration_set("tenant_gate"),
            "-o",
            "json",
        ])
}

/// Samples, every 10 ms until stopped, the sessions of the run's migrate (its
/// `application_name` is `kmigrate-migrate-<run id>`) in `db`, keeping the most seen: one
/// psql session repeating the count (`\watch`), each in a transaction (a fresh snapshot of
/// `pg_stat_activity`) of its own.
struct Peak {
    psql: Child,
    stdin: ChildStdin,
    peak: Arc<AtomicU32>,
    samples: Arc<AtomicU32>,
}

impl Peak {
    fn sample(db: &str) -> Self {
        let mut psql = Command::new("psql")
            .envs(local().pg.iter().cloned())
            .args(["-X", "-q", "-A", "-t", "-d", "postgres"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql");
        let watch = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND application_name LIKE 'kmigrate-migrate-%' \\watch 0.01\n"
        );
        // Kept open until the end: psql ends at the end of its input.
        let mut stdin = psql.stdin.take().expect("piped");
        stdin.write_all(watch.as_bytes()).expect("psql's stdin");
        let (peak, samples) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let (p, n) = (peak.clone(), samples.clone());
        let out = psql.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(count) = line.trim().parse::<u32>() {
                    p.fetch_max(count, Ordering::SeqCst);
                    n.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Self {
            psql,
            stdin,
            peak,
            samples,
        }
    }

    fn now(&self) -> u32 {
        self.peak.load(Ordering::SeqCst)
    }

    /// The peak, and how many samples were taken.
    fn end(mut self) -> (u32, u32) {
        let _ = self.psql.kill();
        let _ = self.psql.wait();
        let seen = (self.now(), self.samples.load(Ordering::SeqCst));
        drop(self.stdin);
        seen
    }
}

/// A login role of the test's own, dropped at the end (after the namespace's database).
struct Role(String);

impl Role {
    fn new(tag: &str, limit: u32) -> Self {
        let name = format!("{tag}_{:06x}", rand_suffix());
        psql(
            "postgres",
            &format!("CREATE ROLE {name} LOGIN CONNECTION LIMIT {limit}"),
        );
        Role(name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .envs(local().pg.iter().cloned())
            .args(["-X", "-q", "-d", "postgres", "-c"])
            .arg(format!("DROP ROLE IF EXISTS {}", self.0))
            .output();
    }
}

fn rand_suffix() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos() ^ std::process::id()
}

/// The number docs/guide/tenants.md (Connections) states for a migrate of one repo:
/// `2 × --concurrency + 1`.
const AT_CONCURRENCY_8: u32 = 17;

#[test]
fn a_tenant_run_at_concurrency_8_stays_within_the_connections_the_guide_states() {
    let ns = Ns::with_demo_pod("conns-peak", &[]);
    let names = tenants(&ns, 12, None);
    let gate = Gate::close(&ns.db);
    let peak = Peak::sample(&ns.db);
    let mut run = gated_migrate(&ns, &names, "8").spawn();
    // Eight tenants at the gate at once: each holds Ecto's migration lock and its
    // migration's connection.
    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted \
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    wait_for(
        "eight tenants at the gate",
        Duration::from_secs(120),
        || psql(&ns.db, waiting).trim() == "8",
    );
    // The pool opened all its connections when the run's repo started.
    wait_for("the whole pool open", Duration::from_secs(20), || {
        peak.now() >= AT_CONCURRENCY_8
    });
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(180));
    let (most, samples) = peak.end();
    assert_eq!(code, 0, "{:#?}", run.seen);
    let r: Report = serde_json::from_value(run.stdout_json()).expect("a report");
    assert_eq!(r.tenants.len(), 12);
    assert!(
        r.tenants
            .iter()
            .all(|t| (t.outcome, t.migrations) == (TenantOutcome::Applied, 3)),
        "{:?}",
        r.tenants
    );
    eprintln!("connections: peak {most} over {samples} samples (stated: {AT_CONCURRENCY_8})");
    assert!(
        most <= AT_CONCURRENCY_8,
        "the run opened {most} connections at once; docs/guide/tenants.md states {AT_CONCURRENCY_8}"
    );
}

#[test]
fn a_role_connection_limit_that_refuses_connections_is_named_with_exit_85() {
    let role = Role::new("conns_small", 5);
    let ns = Ns::with_demo_pod("conns-limit", &[("PGUSER", role.0.as_str())]);
    psql(
        &ns.db,
        &format!("GRANT ALL ON DATABASE {} TO {}", ns.db, role.0),
    );
    let names = tenants(&ns, 8, Some(&role.0));
    let gate = Gate::close(&ns.db);
    // 17 connections asked for, 5 allowed: at most two tenants reach the gate with both of
    // theirs; the others wait in DBConnection's queue and are dropped.
    let mut run = gated_migrate(&ns, &names, "8").spawn();
    // A tenant's checkout dropped: its tenant fails or, when it was the migration's Task
    // (linked to the tenant, as in Ecto), the VM ends.
    run.wait_line("dropped from queue");
    drop(gate);
    let (code, _) = run.wait_exit(Duration::from_secs(180));
    let said = run.seen.join("\n");
    assert_eq!(code, 85, "{said}");
    let r: Report = serde_json::from_value(run.stdout_json()).expect("a report");
    let error = r.error.unwrap_or_default();
    for part in [
        format!(
            "PostgreSQL refused some of its connections: the role's CONNECTION LIMIT refused a connection (too many connections for role \"{}\"); raise it: ALTER ROLE {} CONNECTION LIMIT n",
            role.0, role.0
        ),
        "This run opens up to 17 connections at once for each repo with migrations to run (2 × --concurrency 8 + 1); allow that many or lower --concurrency".to_owned(),
    ] {
        assert!(error.contains(&part), "{error}\nwants: {part}");
    }
    assert!(
        !r.tenants
            .iter()
            .all(|t| t.outcome == TenantOutcome::Applied),
        "{:?}",
        r.tenants
    );
    // A second run within the limit finishes the job: what was applied is skipped.
    let out = gated_migrate(&ns, &names, "1").status(0);
    let r = report(&out);
    assert_eq!(r.tenants.len(), 8);
    for t in &names {
        assert_eq!(ns.applied_in(t).len(), 3, "{t}");
    }
}

#[test]
fn a_prefixes_from_query_slower_than_dbconnections_15_s_timeout_works() {
    let ns = Ns::with_demo_pod("conns-slowq", &[]);
    let names = tenants(&ns, 2, None);
    let query =
        "SELECT nspname FROM pg_namespace, pg_sleep(16) WHERE nspname LIKE 'tenant\\_%' ORDER BY 1";
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--prefixes-from", query])
        .args([
            "--migrations-path",
            "priv/repo/tenant_migrations",
            "-o",
            "json",
        ])
        .status(0);
    let r = report(&out);
    let prefixes: Vec<&str> = r.tenants.iter().map(|t| t.prefix.as_str()).collect();
    assert_eq!(prefixes, names);
    for t in &names {
        assert_eq!(ns.applied_in(t).len(), 2, "{t}");
    }
    // status reads the same tenants through the same query.
    let r = report(
        &ns.kmigrate()
            .args(["status", "-l", "app=demo", "--prefixes-from", query])
            .args([
                "--migrations-path",
                "priv/repo/tenant_migrations",
                "-o",
                "json",
            ])
            .status(0),
    );
    assert_eq!(r.migrations.len(), 4, "{:?}", r.migrations);
}
