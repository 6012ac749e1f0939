//! `kmigrate doctor`: the first run's checks, in order, each with its fix; a check whose
//! prerequisite failed is skipped, naming it. Reads only: the probe starts the app's repos
//! to send `SELECT 1`, and nothing is locked, migrated or recorded.

use anyhow::Result;
use k8s_openapi::api::core::v1::Pod;

use super::{Ctx, Identity};
use crate::access;
use crate::connection::{Connection, classify};
use crate::doctor::needs::{self, EXEC_CHECK, Group, Missing, PODS};
use crate::doctor::{Checks, MIN_ECTO_SQL, Status, at_least, render};
use crate::error::{Error, exit_code_of};
use crate::init_container;
use crate::job;
use crate::output::Purpose;
use crate::settings::Ecto;
use crate::target::{self, PodTarget};

/// Run `doctor`.
pub async fn doctor(ctx: &mut Ctx) -> Result<()> {
    let mut checks = Checks::default();
    run(ctx, &mut checks).await;
    let list = checks.into_list();
    if !ctx.ui.json {
        ctx.ui.data(&render(&list));
    }
    let failed: Vec<&str> = list
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name.as_str())
        .collect();
    let result = if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::CheckFailed(format!(
            "{} check(s) failed: {}",
            failed.len(),
            failed.join(", ")
        ))
        .into())
    };
    ctx.report.checks = list;
    result
}

async fn run(ctx: &mut Ctx, checks: &mut Checks) {
    let reached = match kubeconfig(ctx, checks).await {
        Some((conn, ns)) => api(&conn, checks).await.then_some((conn, ns)),
        None => {
            checks.ready("api", &["kubeconfig"]);
            None
        }
    };
    let Some((conn, ns)) = reached else {
        // Everything else needs the API: each is listed, skipped, naming why.
        checks.ready("user", &["api"]);
        for g in needs::groups(&ctx.settings, "") {
            checks.ready(g.check, &["api"]);
        }
        pod(ctx, None, checks);
        in_pod(ctx, None, checks).await;
        protection(ctx, None, checks);
        return;
    };
    let groups = needs::groups(&ctx.settings, &ns);
    let spinner = ctx.ui.spinner("asking the API server");
    let (id, answers, found) = tokio::join!(
        super::identify(&ctx.settings, &conn, &ns),
        futures::future::join_all(groups.iter().map(|g| ask(&conn, &ns, g))),
        target::candidates_in(&conn, &ns, &ctx.settings.pods),
    );
    spinner.finish_and_clear();
    user(&id, checks);
    for (g, answers) in groups.iter().zip(answers) {
        permissions(g, &answers, &ns, checks);
    }
    let chosen = found.as_ref().ok().and_then(|f| {
        let name = &f.choice.chosen()?.name;
        f.pods.get(name).cloned()
    });
    let t = pod(ctx, Some(found), checks);
    if let Some(t) = &t {
        ctx.report.pod = Some(t.pod.clone());
        ctx.report.container = Some(t.container.clone());
    }
    gate(ctx, &conn, &ns, chosen.as_ref(), checks).await;
    in_pod(ctx, t.as_ref(), checks).await;
    protection(ctx, Some(id), checks);
}

/// The schema gate of the app's Deployment (`--deployment`, else the chosen pod's), when it
/// has one: it must run the app container's image. No check without a Deployment or a gate.
async fn gate(ctx: &Ctx, conn: &Connection, ns: &str, pod: Option<&Pod>, checks: &mut Checks) {
    let named = ctx
        .settings
        .job
        .as_ref()
        .and_then(|j| j.deployment.as_deref());
    if named.is_none() && pod.is_none() {
        return;
    }
    let Ok(deploy) = job::find_deployment(conn, ns, named, pod).await else {
        return;
    };
    let container = ctx.settings.pods.container.as_deref();
    let gates = init_container::gates(&deploy);
    let (Some(first), Ok(app)) = (gates.first(), job::app_container(&deploy, container)) else {
        return;
    };
    match init_container::image_mismatch(&deploy, container) {
        Some((what, fix)) => checks.warn("gate", what, fix),
        None => checks.pass(
            "gate",
            format!(
                "init container {} of Deployment {} waits for the migrations of {}, the image of its container {}",
                first.name,
                deploy.metadata.name.as_deref().unwrap_or_default(),
                app.image.as_deref().unwrap_or_default(),
                app.name
            ),
        ),
    }
}

/// Which kubeconfig, context and server; the namespace.
async fn kubeconfig(ctx: &mut Ctx, checks: &mut Checks) -> Option<(Connection, String)> {
    match super::connect_namespace(ctx).await {
        Ok((conn, ns)) => {
            checks.pass(
                "kubeconfig",
                format!(
                    "{}, context {}, server {}, namespace {ns}",
                    conn.kubeconfig, conn.context, conn.server
                ),
            );
            Some((conn, ns))
        }
        Err(e) => {
            checks.fail(
                "kubeconfig",
                format!("{e:#}"),
                "pass --kubeconfig and --context (`kubectl config get-contexts` lists them), or set KUBECONFIG",
            );
            None
        }
    }
}

/// The API server answers `/version`.
async fn api(conn: &Connection, checks: &mut Checks) -> bool {
    match conn.client.apiserver_version().await {
        Ok(v) => {
            checks.pass(
                "api",
                format!("Kubernetes {} at {}", v.git_version, conn.server),
            );
            true
        }
        Err(e) => {
            let err = classify(e, "get /version", conn);
            let fix = if exit_code_of(&err) == crate::error::code::FORBIDDEN {
                "log in again or refresh the kubeconfig's credentials (`kubectl version` shows the same)"
            } else {
                "check that the server is reachable from here (VPN, proxy, firewall) and that the context points at the right cluster"
            };
            checks.fail("api", format!("{err:#}"), fix);
            false
        }
    }
}

fn user(id: &Identity, checks: &mut Checks) {
    match &id.user {
        Some(u) => checks.pass("user", format!("the API server knows you as {u}")),
        None => checks.warn(
            "user",
            "the API server did not say who you are (SelfSubjectReview)".to_owned(),
            "`kubectl auth whoami` shows the same; runs are recorded as an unknown user",
        ),
    }
}

/// Each permission of the group: allowed, denied, or unknown (`None`).
async fn ask(conn: &Connection, ns: &str, g: &Group<'_>) -> Vec<Option<bool>> {
    futures::future::join_all(g.wanted.iter().map(|p| access::allowed(conn, ns, p))).await
}

fn permissions(g: &Group<'_>, answers: &[Option<bool>], ns: &str, checks: &mut Checks) {
    let shown = |want: Option<bool>| -> Vec<String> {
        g.wanted
            .iter()
            .zip(answers)
            .filter(|(_, a)| **a == want)
            .map(|(p, _)| p.shown())
            .collect()
    };
    let (denied, unknown) = (shown(Some(false)), shown(None));
    if !denied.is_empty() {
        let fix = needs::fix(g, &denied, ns);
        let detail = format!("to {}, missing: {}", g.what, denied.join(", "));
        match g.missing {
            Missing::Fails => checks.fail(g.check, detail, fix),
            Missing::Degrades(so) => checks.warn(g.check, format!("{detail} ({so})"), fix),
        }
    } else if !unknown.is_empty() {
        checks.warn(
            g.check,
            format!(
                "could not ask the API server about {} (SelfSubjectAccessReview failed)",
                unknown.join(", ")
            ),
            "`kubectl auth can-i` answers the same question; run with -v for the error",
        );
    } else {
        let all: Vec<String> = g.wanted.iter().map(|p| p.shown()).collect();
        checks.pass(g.check, all.join(", "));
    }
}

/// The pod that would be chosen and why, then its container.
fn pod(
    ctx: &Ctx,
    found: Option<Result<target::Candidates>>,
    checks: &mut Checks,
) -> Option<PodTarget> {
    if !checks.ready("pod", &["api", PODS]) {
        checks.ready("container", &["pod"]);
        return None;
    }
    // No candidates only without the API, which the check above stopped at.
    let found = found?;
    let fix = format!(
        "check -n, -l (or --pod) against `kubectl get pods --show-labels`; `{} pods` explains the choice",
        crate::program_name::on_target()
    );
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            checks.fail("pod", format!("{e:#}"), fix);
            checks.ready("container", &["pod"]);
            return None;
        }
    };
    let why = match found.choice.chosen() {
        Some(c) => {
            let others: Vec<String> = found
                .choice
                .verdicts
                .iter()
                .filter_map(|(o, r)| r.as_ref().map(|r| format!("{} ({r})", o.name)))
                .collect();
            let rs = c
                .replicaset
                .as_ref()
                .map(|rs| match found.revisions.get(rs) {
                    Some(info) => format!(", ReplicaSet {rs} revision {}", info.revision),
                    None => format!(", ReplicaSet {rs}"),
                })
                .unwrap_or_default();
            let mut why = format!(
                "{} in namespace {}: running and ready{rs}; {} pod(s) matched",
                c.name,
                found.namespace,
                found.choice.verdicts.len()
            );
            if !others.is_empty() {
                why.push_str(&format!("; not chosen: {}", others.join(", ")));
            }
            Some(why)
        }
        None => None,
    };
    let mut notes = Vec::new();
    let picked = target::pick(found, &ctx.settings.pods, &mut notes);
    let Some(why) = why else {
        let e = picked.err().map(|e| format!("{e:#}")).unwrap_or_default();
        checks.fail("pod", e, fix);
        checks.ready("container", &["pod"]);
        return None;
    };
    checks.pass("pod", why);
    match picked {
        Ok(t) => {
            let mut detail = t.container.clone();
            if !notes.is_empty() {
                detail.push_str(&format!(" ({})", notes.join("; ")));
            }
            checks.pass("container", detail);
            Some(t)
        }
        Err(e) => {
            checks.fail(
                "container",
                format!("{e:#}"),
                "pass -c with the app's container, or set container in kmigrate.toml",
            );
            None
        }
    }
}

/// The release runs in the container; then the probe: the app, its repos, the database,
/// ecto_sql.
/// A check that needs the pod is skipped without it (its own check failed or was skipped).
async fn in_pod(ctx: &Ctx, t: Option<&PodTarget>, checks: &mut Checks) {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return;
    };
    if checks.ready("release", &["container", EXEC_CHECK])
        && let Some(t) = t
    {
        release(ctx, t, &ecto, checks).await;
    }
    if checks.ready("app", &["release"])
        && let Some(t) = t
    {
        let mut out = ctx.ui.streamer(Purpose::Probe);
        let ran = ctx.exec_quietly(t, &ecto.probe_argv(), &mut out).await;
        let lines = refusals_named(out.findings.probe(), out.findings.session_problems());
        probe(&ecto, ran, &lines, &out.captured(), checks);
    } else {
        for (name, need) in [
            ("repos", "app"),
            ("database", "repos"),
            ("indexes", "database"),
            ("ecto_sql", "app"),
            ("session", "database"),
        ] {
            checks.ready(name, &[need]);
        }
    }
}

/// `<release> version`: the script is there, executable, and a release.
async fn release(ctx: &Ctx, t: &PodTarget, ecto: &Ecto, checks: &mut Checks) {
    let argv = vec![ecto.release.clone(), "version".to_owned()];
    let mut out = ctx.ui.streamer(Purpose::Probe);
    let ran = ctx.exec_quietly(t, &argv, &mut out).await;
    let said = out.captured().join(" / ");
    let fix = "pass --release with the release script's path in the image (e.g. /app/bin/my_app), or set release in kmigrate.toml";
    match ran {
        Ok(0) => {
            checks.pass(
                "release",
                format!("`{} version` says {said:?}", ecto.release),
            );
        }
        Ok(code) => {
            checks.fail(
                "release",
                format!("`{} version` exited {code}: {said}", ecto.release),
                fix,
            );
        }
        Err(e) => {
            let fix = if exit_code_of(&e) == crate::error::code::FORBIDDEN {
                format!(
                    "apply the Role `{} init --rbac` prints (it grants create and get pods/exec)",
                    crate::program_name::get()
                )
            } else {
                fix.to_owned()
            };
            checks.fail(
                "release",
                format!(
                    "cannot run `{} version` in container {}: {e:#}",
                    ecto.release, t.container
                ),
                fix,
            );
        }
    }
}

/// Read the probe's lines into the app, repos, database and ecto_sql checks.
/// DBConnection opens a repo's pool as it starts and only logs a connection the server
/// refuses: the probe's session then ends in a queue drop, while the driver's log line
/// named the startup parameter PgBouncer refused. That name is the session's answer.
fn refusals_named(
    lines: &[Vec<String>],
    problems: &[crate::ecto_output::SessionProblem],
) -> Vec<Vec<String>> {
    let logged = problems
        .iter()
        .find(|p| p.repo.is_none() && p.unset.is_none());
    lines
        .iter()
        .map(|l| match (l.as_slice(), logged) {
            ([tag, repo, error, ..], Some(p)) if tag == "session" && error == "error" => vec![
                tag.clone(),
                repo.clone(),
                "refused".to_owned(),
                p.parameter.clone(),
            ],
            _ => l.clone(),
        })
        .collect()
}

fn probe(
    ecto: &Ecto,
    ran: Result<i32>,
    lines: &[Vec<String>],
    tail: &[String],
    checks: &mut Checks,
) {
    let app = ecto.snippet.app.as_str();
    let find = |what: &str| lines.iter().find(|l| l.first().is_some_and(|w| w == what));
    let how_it_ended = match &ran {
        Ok(code) => format!("the probe exited {code}"),
        Err(e) => format!("the probe failed: {e:#}"),
    };
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!("; its last output: {}", tail.join(" / "))
    };
    match find("app").map(|l| l[1..].to_vec()) {
        Some(l) if l.first().is_some_and(|s| s == "ok") => {
            checks.pass("app", format!(":{app} loads ({} mode)", crate::ecto_snippet::verb(ecto.mode)));
        }
        Some(l) => checks.fail(
            "app",
            format!(
                ":{app} does not load: {}",
                l.get(1..).map_or_else(String::new, |w| w.join(" "))
            ),
            "pass --app with the OTP application that lists the repos (in an umbrella, the child app)",
        ),
        None => checks.fail(
            "app",
            format!("the probe said nothing about :{app} ({how_it_ended}{tail})"),
            "check that the release starts: `kubectl exec POD -- RELEASE eval 'IO.puts(:ok)'`",
        ),
    }
    let field = |l: &Vec<String>, i: usize| l.get(i).cloned().unwrap_or_default();
    let all = |what: &str| -> Vec<&Vec<String>> {
        lines
            .iter()
            .filter(|l| l.first().is_some_and(|w| w == what))
            .collect()
    };
    // Repos that are not PostgreSQL: named with their adapter, left out of what follows.
    let others: Vec<crate::ecto_output::SkippedRepo> = all("adapter")
        .iter()
        .map(|l| crate::ecto_output::SkippedRepo {
            repo: field(l, 1),
            adapter: field(l, 2),
        })
        .collect();
    if checks.ready("repos", &["app"]) {
        match find("repos") {
            Some(l) if l.len() > 1 && !others.is_empty() => {
                let left: Vec<String> = others.iter().map(|o| o.describe()).collect();
                checks.warn(
                    "repos",
                    format!("{}; {}", l[1..].join(", "), left.join("; ")),
                    "migrate and roll back those repos another way (the release's own \
                     `Ecto.Migrator.run/4`); a migrate or rollback with them among its repos is \
                     refused: name the PostgreSQL repos with --repo",
                );
            }
            Some(l) if l.len() > 1 => checks.pass("repos", l[1..].join(", ")),
            _ => checks.fail(
                "repos",
                format!(":{app} lists no :ecto_repos"),
                "pass --app with the app whose config sets :ecto_repos, or --repo MyApp.Repo",
            ),
        }
    }
    if checks.ready("database", &["repos"]) {
        let dbs: Vec<&Vec<String>> = lines
            .iter()
            .filter(|l| l.first().is_some_and(|w| w == "db"))
            .collect();
        let bad: Vec<String> = dbs
            .iter()
            .filter(|l| l.get(2).is_none_or(|s| s != "ok"))
            .map(|l| {
                let repo = l.get(1).map_or("", String::as_str);
                let why = l.get(3..).map_or_else(String::new, |w| w.join(" "));
                format!("{repo}: {why}")
            })
            .collect();
        if dbs.is_empty() && !others.is_empty() {
            checks.fail(
                "database",
                "no repo uses PostgreSQL".to_owned(),
                "kmigrate reads and runs PostgreSQL repos only",
            );
        } else if dbs.is_empty() {
            checks.fail(
                "database",
                format!("no repo answered ({how_it_ended}{tail})"),
                "check the repo's database settings in the pod's environment",
            );
        } else if bad.is_empty() {
            let repos: Vec<&str> = dbs
                .iter()
                .filter_map(|l| l.get(1))
                .map(String::as_str)
                .collect();
            checks.pass("database", format!("SELECT 1 through {}", repos.join(", ")));
        } else {
            checks.fail(
                "database",
                bad.join("; "),
                "check the repo's database URL, credentials and network policy from the pod (the app's runtime config)",
            );
        }
    }
    if checks.ready("indexes", &["database"]) {
        let invalid: Vec<crate::ecto_output::InvalidIndex> = all("invalidindex")
            .iter()
            .map(|l| crate::ecto_output::InvalidIndex {
                repo: field(l, 1),
                prefix: None,
                schema: field(l, 2),
                index: field(l, 3),
                table: field(l, 4),
            })
            .collect();
        if invalid.is_empty() {
            checks.pass("indexes", "no index marked invalid".to_owned());
        } else {
            let named: Vec<String> = invalid
                .iter()
                .map(|i| format!("{}.{} on {} ({})", i.schema, i.index, i.table, i.repo))
                .collect();
            let drops: Vec<String> = invalid.iter().map(|i| i.drop_statement()).collect();
            checks.warn(
                "indexes",
                format!(
                    "invalid (a CREATE INDEX CONCURRENTLY that failed or was cancelled, or one \
                     still building; PostgreSQL maintains it on every write and never uses it, \
                     and IF NOT EXISTS keeps it): {}",
                    named.join(", ")
                ),
                format!(
                    "when no build is running, drop each with `{}`, then migrate again",
                    drops.join(" ")
                ),
            );
        }
    }
    if checks.ready("ecto_sql", &["app"]) {
        let min = format!("{}.{}.{}", MIN_ECTO_SQL.0, MIN_ECTO_SQL.1, MIN_ECTO_SQL.2);
        let fix = format!(
            "upgrade ecto_sql to {min} or later: kmigrate reads the status with migration_lock: false, skip_table_creation: true"
        );
        match find("ecto_sql")
            .and_then(|l| l.get(1))
            .filter(|v| !v.is_empty())
        {
            None => checks.fail("ecto_sql", "ecto_sql is not in the release".to_owned(), fix),
            Some(v) => match at_least(v, MIN_ECTO_SQL) {
                Some(true) => ecto_sql_features(v, &min, checks),
                Some(false) => checks.fail("ecto_sql", format!("{v} is older than {min}"), fix),
                None => checks.warn(
                    "ecto_sql",
                    format!("cannot read the version {v:?}"),
                    format!("make sure it is {min} or later"),
                ),
            },
        }
    }
    let s = &ecto.snippet.session;
    crate::doctor::session::check(
        lines,
        !s.named,
        s.lock_timeout.is_some() || s.statement_timeout.is_some(),
        checks,
    );
}

/// A supported ecto_sql: each feature that came later than `version` (src/ecto_snippet/
/// versions.rs) is named, with what a run does without it.
fn ecto_sql_features(version: &str, min: &str, checks: &mut Checks) {
    let older: Vec<&crate::ecto_snippet::Floor> = crate::ecto_snippet::ECTO_SQL_FLOORS
        .iter()
        .filter(|f| at_least(version, f.version) == Some(false))
        .collect();
    match older.last() {
        None => checks.pass(
            "ecto_sql",
            format!("{version} (at least {min}, and every feature's version)"),
        ),
        Some(newest) => {
            let lost: Vec<String> = older
                .iter()
                .map(|f| format!("before {}, no {}: {}", f.version_text(), f.what, f.instead))
                .collect();
            checks.warn(
                "ecto_sql",
                format!("{version} (at least {min}); {}", lost.join("; ")),
                format!(
                    "upgrade ecto_sql to {} or later to have every feature",
                    newest.version_text()
                ),
            );
        }
    }
}

/// Whether the environment is protected and why; which marks could not be checked.
fn protection(ctx: &mut Ctx, id: Option<Identity>, checks: &mut Checks) {
    if !checks.ready("protection", &["api"]) {
        return;
    }
    let Some(id) = id else {
        return;
    };
    let said = match &id.protection {
        Some(why) => format!("protected: {why} (runs that change the database ask first)"),
        None => "not protected: no config, name pattern or mark says so".to_owned(),
    };
    ctx.report.protected = id.protection.is_some();
    if id.unchecked.is_empty() {
        checks.pass("protection", said);
    } else {
        checks.warn(
            "protection",
            format!("{said}; not checked: {}", id.unchecked.join("; ")),
            "grant the reads of the marks (see rbac:namespace and rbac:configmap), or protect the environment in kmigrate.toml",
        );
    }
    ctx.report.protection_unchecked = id.unchecked;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&[&str]]) -> Vec<Vec<String>> {
        text.iter()
            .map(|l| l.iter().map(|f| (*f).to_owned()).collect())
            .collect()
    }

    fn read(ran: Result<i32>, said: &[&[&str]]) -> Vec<crate::doctor::Check> {
        let ecto = crate::cmd::testing::settings(&["doctor"]).ecto.unwrap();
        let mut checks = Checks::default();
        checks.pass("release", String::new());
        probe(&ecto, ran, &lines(said), &["boom".to_owned()], &mut checks);
        checks.into_list().split_off(1)
    }

    fn statuses(checks: &[crate::doctor::Check]) -> Vec<(&str, Status)> {
        checks.iter().map(|c| (c.name.as_str(), c.status)).collect()
    }

    #[test]
    fn a_healthy_probe_passes_each_check() {
        let c = read(
            Ok(0),
            &[
                &["app", "ok"],
                &["ecto_sql", "3.12.5"],
                &["repos", "Shop.Repo", "Shop.Audit"],
                &["db", "Shop.Repo", "ok"],
                &["db", "Shop.Audit", "ok"],
                &["session", "Shop.Repo", "ok"],
                &["session", "Shop.Audit", "ok"],
            ],
        );
        assert_eq!(
            statuses(&c),
            [
                ("app", Status::Pass),
                ("repos", Status::Pass),
                ("database", Status::Pass),
                ("indexes", Status::Pass),
                ("ecto_sql", Status::Pass),
                ("session", Status::Pass)
            ]
        );
        assert_eq!(c[1].detail, "Shop.Repo, Shop.Audit");
        assert_eq!(c[2].detail, "SELECT 1 through Shop.Repo, Shop.Audit");
    }

    #[test]
    fn an_unreachable_database_and_an_old_ecto_sql_fail() {
        let c = read(
            Ok(0),
            &[
                &["app", "ok"],
                &["ecto_sql", "3.5.4"],
                &["repos", "Shop.Repo"],
                &["db", "Shop.Repo", "error", "connection refused"],
            ],
        );
        assert_eq!(c[2].status, Status::Fail);
        assert_eq!(c[2].detail, "Shop.Repo: connection refused");
        assert_eq!(c[3].status, Status::Skip, "{:?}", c[3]);
        assert_eq!(c[4].status, Status::Fail);
        assert!(
            c[4].detail.contains("3.5.4 is older than 3.6.1"),
            "{:?}",
            c[4]
        );
    }

    #[test]
    fn an_ecto_sql_older_than_a_feature_warns_naming_each_one_lost() {
        let c = read(
            Ok(0),
            &[
                &["app", "ok"],
                &["ecto_sql", "3.7.0"],
                &["repos", "Shop.Repo"],
                &["db", "Shop.Repo", "ok"],
            ],
        );
        let e = &c[4];
        assert_eq!((e.name.as_str(), e.status), ("ecto_sql", Status::Warn));
        for said in [
            "before 3.7.1, no a migration lock per prefix",
            "refuses --concurrency above 1",
            "before 3.7.1, no `run/4`'s `log_migrations_sql:`",
            "before 3.9.0, no `migration_lock: :pg_advisory_lock`",
        ] {
            assert!(e.detail.contains(said), "{said}: {e:?}");
        }
        assert_eq!(
            e.fix.as_deref(),
            Some("upgrade ecto_sql to 3.9.0 or later to have every feature")
        );
        for (v, lost) in [("3.8.2", 1), ("3.9.0-rc.1", 1), ("3.9.0", 0), ("3.14.0", 0)] {
            let c = read(
                Ok(0),
                &[
                    &["app", "ok"],
                    &["ecto_sql", v],
                    &["repos", "R"],
                    &["db", "R", "ok"],
                ],
            );
            assert_eq!(
                c[4].detail.matches("before ").count(),
                lost,
                "{v}: {:?}",
                c[4]
            );
        }
    }

    #[test]
    fn a_session_dropped_from_the_queue_after_a_logged_refusal_is_that_refusal() {
        let lines = vec![
            vec!["db".to_owned(), "Shop.Repo".to_owned(), "ok".to_owned()],
            vec![
                "session".to_owned(),
                "Shop.Repo".to_owned(),
                "error".to_owned(),
                "connection not available and request was dropped from queue".to_owned(),
            ],
        ];
        let logged = crate::ecto_output::SessionProblem {
            repo: None,
            parameter: "lock_timeout".to_owned(),
            unset: None,
        };
        let named = super::refusals_named(&lines, std::slice::from_ref(&logged));
        assert_eq!(named[0], lines[0]);
        assert_eq!(
            named[1],
            ["session", "Shop.Repo", "refused", "lock_timeout"]
        );
        assert_eq!(super::refusals_named(&lines, &[]), lines);
    }

    #[test]
    fn a_repo_of_another_adapter_and_invalid_indexes_warn() {
        let c = read(
            Ok(0),
            &[
                &["app", "ok"],
                &["ecto_sql", "3.14.0"],
                &["repos", "Shop.Repo", "Shop.Cache"],
                &["db", "Shop.Repo", "ok"],
                &[
                    "invalidindex",
                    "Shop.Repo",
                    "public",
                    "posts_title_index",
                    "posts",
                ],
                &["adapter", "Shop.Cache", "Ecto.Adapters.SQLite3"],
                &["session", "Shop.Repo", "ok"],
            ],
        );
        assert_eq!(
            statuses(&c),
            [
                ("app", Status::Pass),
                ("repos", Status::Warn),
                ("database", Status::Pass),
                ("indexes", Status::Warn),
                ("ecto_sql", Status::Pass),
                ("session", Status::Pass)
            ]
        );
        assert!(
            c[1].detail
                .contains("Shop.Cache uses Ecto.Adapters.SQLite3, not Ecto.Adapters.Postgres"),
            "{:?}",
            c[1]
        );
        assert_eq!(c[2].detail, "SELECT 1 through Shop.Repo");
        assert!(
            c[3].detail
                .contains("public.posts_title_index on posts (Shop.Repo)"),
            "{:?}",
            c[3]
        );
        assert!(
            c[3].fix
                .as_deref()
                .unwrap()
                .contains("`DROP INDEX CONCURRENTLY public.posts_title_index;`"),
            "{:?}",
            c[3]
        );
        let only = read(
            Ok(0),
            &[
                &["app", "ok"],
                &["repos", "C"],
                &["adapter", "C", "Ecto.Adapters.MyXQL"],
                &["ecto_sql", "3.14.0"],
            ],
        );
        assert_eq!(only[2].status, Status::Fail, "{:?}", only[2]);
        assert_eq!(only[2].detail, "no repo uses PostgreSQL");
    }

    #[test]
    fn an_app_that_does_not_load_skips_what_needs_it() {
        let c = read(
            Ok(1),
            &[&["app", "error", "{:error, {~c\"no such file\"}}"]],
        );
        assert_eq!(c[0].status, Status::Fail);
        assert!(c[0].detail.contains("does not load: {:error"), "{:?}", c[0]);
        for later in &c[1..] {
            assert_eq!(later.status, Status::Skip, "{later:?}");
            assert_eq!(later.detail, "needs app, which failed");
        }
    }

    #[test]
    fn a_silent_or_malformed_probe_fails_without_panicking() {
        let c = read(Ok(1), &[]);
        assert_eq!(c[0].status, Status::Fail);
        assert!(
            c[0].detail.contains("exited 1; its last output: boom"),
            "{:?}",
            c[0]
        );
        let c = read(Ok(0), &[&["app"], &["db"], &["repos"], &["ecto_sql"]]);
        assert_eq!(
            statuses(&c),
            [
                ("app", Status::Fail),
                ("repos", Status::Skip),
                ("database", Status::Skip),
                ("indexes", Status::Skip),
                ("ecto_sql", Status::Skip),
                ("session", Status::Skip)
            ]
        );
        let c = read(
            Ok(0),
            &[&["app", "ok"], &["repos", "R"], &["db"], &["ecto_sql"]],
        );
        assert_eq!(c[2].status, Status::Fail, "{:?}", c[2]);
        assert_eq!(c[4].status, Status::Fail, "{:?}", c[4]);
    }
}
