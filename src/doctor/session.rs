//! `doctor`'s `session` check, from the probe's `session` and `pooler` lines: whether
//! sessions opened as a run opens them carry its name and timeouts to PostgreSQL, and
//! whether a pooler (PgBouncer) sits in between.

use super::{Checks, Status};

/// What makes the run's timeouts reach PostgreSQL behind PgBouncer.
pub const FIX: &str = "connect the migration to PostgreSQL directly, or set the timeouts on the server for the role \
    that migrates (ALTER ROLE ... IN DATABASE ... SET lock_timeout = '5s') with lock_timeout,statement_timeout \
    (options for libpq) in PgBouncer's ignore_startup_parameters, and pass the same --lock-timeout; see \
    docs/guide/pgbouncer.md";

/// Read the probe's lines into the `session` check. `timeouts` says whether the run has
/// timeouts configured: without them a timeout that does not reach PostgreSQL is a
/// warning (`--lock-timeout` would be refused), not a failure.
pub fn check(lines: &[Vec<String>], rpc: bool, timeouts: bool, checks: &mut Checks) {
    const NAME: &str = "session";
    if rpc {
        checks.add(
            NAME,
            Status::Skip,
            "--mode rpc: the run uses the app's own pool, which carries no parameter of the run"
                .to_owned(),
            None,
        );
        return;
    }
    if !checks.ready(NAME, &["database"]) {
        return;
    }
    let of = |what: &str| -> Vec<&[String]> {
        lines
            .iter()
            .filter(|l| l.first().is_some_and(|w| w == what))
            .map(|l| &l[1..])
            .collect()
    };
    let sessions = of("session");
    let mut problems = Vec::new();
    let mut errors = Vec::new();
    let mut names_lost = false;
    for l in &sessions {
        let field = |i: usize| l.get(i).map_or("", String::as_str);
        match field(1) {
            "refused" => problems.push(format!(
                "{}: PgBouncer (or another pooler) refused the startup parameter {} (\"unsupported startup parameter\")",
                field(0),
                field(2)
            )),
            "unset" => {
                names_lost |= field(2) == "application_name";
                let in_force = if field(4).is_empty() { "nothing" } else { field(4) };
                problems.push(format!(
                    "{}: {} = {} was taken but {in_force} is in force (a pooler dropped it: ignore_startup_parameters)",
                    field(0),
                    field(2),
                    field(3)
                ));
            }
            "ok" => {}
            _ => errors.push(format!("{}: {}", field(0), l.get(2..).map_or(String::new(), |w| w.join(" ")))),
        }
    }
    if sessions.is_empty() {
        checks.warn(
            NAME,
            "the probe said nothing about the run's sessions".to_owned(),
            "run `kmigrate doctor -v` to see the probe's output",
        );
    } else if !errors.is_empty() {
        checks.fail(
            NAME,
            format!(
                "a session opened as a run opens it failed: {}",
                errors.join("; ")
            ),
            FIX,
        );
    } else if !problems.is_empty() {
        let detail = problems.join("; ");
        if timeouts || names_lost {
            checks.fail(
                NAME,
                format!("{detail}: a run would stop with exit 84"),
                FIX,
            );
        } else {
            checks.warn(
                NAME,
                format!("{detail}: runs without --lock-timeout/--statement-timeout work, runs with them stop (exit 84)"),
                FIX,
            );
        }
    } else {
        let poolers = of("pooler");
        let through: Vec<String> = poolers
            .iter()
            .map(|l| {
                format!(
                    "{}: the server answers on port {}, the repo connects to {}",
                    l.first().map_or("", String::as_str),
                    l.get(1).map_or("", String::as_str),
                    l.get(2).map_or("", String::as_str)
                )
            })
            .collect();
        let advisory = poolers
            .iter()
            .any(|l| l.get(3).is_some_and(|lock| lock == ":pg_advisory_lock"));
        if advisory {
            checks.warn(
                NAME,
                format!(
                    "a pooler sits in between ({}) and the repo uses migration_lock: :pg_advisory_lock, a session lock \
                     that PgBouncer's transaction pooling does not keep (it is taken on one server session and \
                     released on another, or never)",
                    through.join("; ")
                ),
                "connect the migration to PostgreSQL directly, or give it a pool in pool_mode = session, or use \
                 migration_lock: :table_lock",
            );
        } else if through.is_empty() {
            checks.pass(
                NAME,
                "the run's name and timeouts are in force on its sessions".to_owned(),
            );
        } else {
            checks.pass(
                NAME,
                format!(
                    "through a pooler ({}): the run's name and timeouts are in force on its sessions",
                    through.join("; ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&[&str]], rpc: bool, timeouts: bool) -> (Status, String, Option<String>) {
        let lines: Vec<Vec<String>> = lines
            .iter()
            .map(|l| l.iter().map(|f| (*f).to_owned()).collect())
            .collect();
        let mut checks = Checks::default();
        checks.pass("database", String::new());
        check(&lines, rpc, timeouts, &mut checks);
        let c = checks.into_list().pop().unwrap();
        assert_eq!(c.name, "session");
        (c.status, c.detail, c.fix)
    }

    #[test]
    fn a_refused_timeout_fails_when_the_run_has_one_and_warns_when_it_has_none() {
        let refused: &[&[&str]] = &[&["session", "Demo.Repo", "refused", "lock_timeout"]];
        let (status, detail, fix) = run(refused, false, true);
        assert_eq!(status, Status::Fail);
        assert!(
            detail.contains("refused the startup parameter lock_timeout"),
            "{detail}"
        );
        assert!(fix.unwrap().contains("ignore_startup_parameters"));
        assert_eq!(run(refused, false, false).0, Status::Warn);
    }

    #[test]
    fn a_dropped_timeout_or_name_is_said_with_what_is_in_force() {
        let dropped: &[&[&str]] =
            &[&["session", "Demo.Repo", "unset", "lock_timeout", "4321", "0"]];
        let (status, detail, _) = run(dropped, false, true);
        assert_eq!(status, Status::Fail);
        assert!(
            detail.contains("lock_timeout = 4321 was taken but 0 is in force"),
            "{detail}"
        );
        let nameless: &[&[&str]] = &[&[
            "session",
            "Demo.Repo",
            "unset",
            "application_name",
            "kmigrate-doctor-x",
            "",
        ]];
        assert_eq!(run(nameless, false, false).0, Status::Fail);
    }

    #[test]
    fn a_pooler_is_named_and_the_advisory_lock_behind_it_warned_of() {
        let ok: &[&[&str]] = &[
            &["session", "Demo.Repo", "ok"],
            &["pooler", "Demo.Repo", "5432", "6432", ":table_lock"],
        ];
        let (status, detail, _) = run(ok, false, true);
        assert_eq!(status, Status::Pass);
        assert!(
            detail.contains("the server answers on port 5432, the repo connects to 6432"),
            "{detail}"
        );
        let advisory: &[&[&str]] = &[
            &["session", "Demo.Repo", "ok"],
            &["pooler", "Demo.Repo", "5432", "6432", ":pg_advisory_lock"],
        ];
        let (status, detail, _) = run(advisory, false, false);
        assert_eq!(status, Status::Warn);
        assert!(detail.contains(":pg_advisory_lock"), "{detail}");
        assert_eq!(
            run(&[&["session", "Demo.Repo", "ok"]], false, false).0,
            Status::Pass
        );
        assert_eq!(run(&[], true, false).0, Status::Skip);
    }
}
