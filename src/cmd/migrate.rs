//! `kmigrate migrate`: run pending migrations.

use anyhow::Result;

use super::outcome::{change_in_job, settle};
use super::{Confirmation, Ctx, find_and_lock, guard};
use crate::ecto_output::Direction;
use crate::ecto_snippet::{Operation, PlanHash};
use crate::output::Purpose;
use crate::settings::Change;
use crate::target::PodTarget;

/// Run `migrate`: in a Job, or in a running pod.
pub async fn migrate(ctx: &mut Ctx, change: &Change) -> Result<()> {
    if ctx.settings.job.is_some() {
        return change_in_job(ctx, change, Direction::Up).await;
    }
    let t = find_and_lock(ctx).await?;
    apply(ctx, &t, change).await
}

/// In a protected environment: read the plan (when someone can confirm), apply the
/// destructive-change policy, confirm, and hold the run to the plan shown. Then run,
/// record, summarise.
async fn apply(ctx: &mut Ctx, t: &PodTarget, change: &Change) -> Result<()> {
    let mut total = None;
    let mut argv = change.argv.clone();
    // Several environments confirmed together, before any of them ran: the plan shown for
    // this one then, which its run is held to.
    let grouped = ctx.confirmation != Confirmation::Ask;
    let shown = match &ctx.confirmation {
        Confirmation::Confirmed(shown) => shown.plan.clone(),
        Confirmation::Ask => None,
    };
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        let reviewed = if (ctx.ui.can_prompt || ctx.settings.yes || grouped) && !change.custom {
            let plan = match shown {
                Some(plan) => plan,
                None => ctx.read_plan(t).await?,
            };
            Some(guard::review(ctx, change, plan)?)
        } else {
            None
        };
        if let Some(r) = &reviewed {
            total = Some(r.lines.len() as u64);
            argv.clone_from(&r.argv);
        }
        if !grouped {
            let changes = reviewed.as_ref().map(guard::Reviewed::changes);
            ctx.confirm_in_pod(t, &argv, &reason, changes).await?;
        }
        if let Some(r) = &reviewed {
            guard::allow_typed(ctx, r).await?;
        }
    } else if let (Some(plan), Some(ecto)) = (shown, &ctx.settings.ecto) {
        // Not protected itself, but shown and confirmed with the group: held to it too.
        let hash = PlanHash::parse(&plan.hash).map_err(anyhow::Error::msg)?;
        total = Some(plan.selected(change.range).len() as u64);
        argv = ecto.argv(Operation::MigratePlanned(change.range, hash));
    }
    let mut out = ctx.ui.streamer(Purpose::Migrations { total });
    if !change.custom {
        // The snippet beats every 20 s while migrations run: a silence much longer than
        // that is a connection gone half-open, not a slow migration.
        out.expect_heartbeats();
        out.announce_locks();
        if ctx.settings.wait {
            out.announce_other_runs();
        }
    }
    ctx.note_unnamed_sessions(change.custom);
    let code = ctx.exec(t, &argv, &mut out).await?;
    settle(ctx, code, &out.findings, Direction::Up, change.custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::error::Outcome;
    use crate::error::{Error, code};
    use crate::migration_plan::tests::{plan_hash, plan_output};
    use crate::remote_exec::fake::Reply;
    use crate::report::TenantOutcome;

    const RAN_2_3: &str = "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 forward\n\
                           12:00:00.100 [info] == Migrated 2 in 0.1s\n\
                           12:00:00.200 [info] == Running 3 Shop.Repo.Migrations.Three.change/0 forward\n\
                           12:00:00.300 [info] == Migrated 3 in 0.1s\n\
                           kmigrate:plan\tShop.Repo\t\t2\ttwo\n\
                           kmigrate:plan\tShop.Repo\t\t3\tthree\n\
                           kmigrate:ran\tShop.Repo\t\t2\n\
                           kmigrate:ran\tShop.Repo\t\t3\n";

    /// A run that a later one could not see in `pg_stat_activity` says so before it runs:
    /// in `rpc` and for a custom command, never in `eval` (security N16).
    #[tokio::test]
    async fn a_run_whose_sessions_carry_no_name_says_so() {
        for (args, custom, said) in [
            (
                &["migrate", "--mode", "rpc"][..],
                false,
                Some("in rpc the database sessions"),
            ),
            (&["migrate"][..], true, Some("a custom command's")),
            (&["migrate"][..], false, None),
        ] {
            let mut h = Harness::new(args, vec![Reply::answer(RAN_2_3, 0)], false);
            let mut c = h.change();
            // A custom command comes from kmigrate.toml (`migrate_command`).
            c.custom = custom;
            let r = apply(&mut h.ctx, &pod(), &c).await;
            assert_eq!(h.conclude(&r).exit_code, 0, "{args:?}: {}", h.stderr());
            let note = "cannot see this one in pg_stat_activity";
            match said {
                Some(what) => assert!(
                    h.stderr().contains(what) && h.stderr().contains(note),
                    "{args:?}: {}",
                    h.stderr()
                ),
                None => assert!(!h.stderr().contains(note), "{}", h.stderr()),
            }
        }
    }

    #[tokio::test]
    async fn unprotected_migrate_runs_once_and_reports_what_ecto_ran() {
        let mut h = Harness::new(&["migrate"], vec![Reply::answer(RAN_2_3, 0)], false);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert_eq!(h.calls(), std::slice::from_ref(&c.argv));
        let versions: Vec<i64> = h.ctx.report.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 3]);
        assert_eq!(
            h.ctx.report.migrations[0].name.as_deref(),
            Some("two"),
            "named as the plan named it, whatever Ecto's Logger prints"
        );
        assert!(
            h.stderr()
                .contains("kmigrate: 2 migrations applied (pod web-1)"),
            "{}",
            h.stderr()
        );
        assert!(!h.stdout().contains("kmigrate:ran"), "tags stay hidden");
        assert!(h.stdout().contains("== Migrated 3"));
    }

    #[tokio::test]
    async fn a_migrate_cut_short_is_unknown_and_says_what_it_saw() {
        let mut h = Harness::new(&["migrate"], vec![Reply::exit(RAN_2_3, 0)], false);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::UNKNOWN, Outcome::Unknown)
        );
        assert!(!h.stderr().contains("nothing to do"), "{}", h.stderr());
        let versions: Vec<i64> = h.ctx.report.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 3], "what the lines said ran is kept");
    }

    #[tokio::test]
    async fn a_migration_cancelled_by_the_lock_timeout_has_its_own_code_and_says_what_stayed() {
        let out = "kmigrate:plan\tShop.Repo\t\t2\ttwo\n\
kmigrate:plan\tShop.Repo\t\t3\tthree\n\
kmigrate:ran\tShop.Repo\t\t2\n\
kmigrate:waiting\tShop.Repo\t\t7\tposts\tAccessExclusiveLock\t4242\tpsql\t10.0.0.5\tidle in transaction\t720\tLOCK TABLE posts\n\
kmigrate:timeout\tShop.Repo\t\t3\tlock\ttx\n";
        let mut h = Harness::new(
            &["migrate", "--lock-timeout", "10s"],
            vec![Reply::answer(out, 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (78, Outcome::Failed));
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("migration 3 three (Shop.Repo) waited longer than the lock timeout (10s)"),
            "{msg}"
        );
        assert!(msg.contains("nothing of it was committed"), "{msg}");
        assert!(msg.contains("applied before it in this run: 2"), "{msg}");
        let shown = h.stderr();
        assert!(
            shown.contains(
                "kmigrate: waiting 7 s for AccessExclusiveLock on posts (Shop.Repo), \
                held by pid 4242 (application \"psql\", client 10.0.0.5, idle in transaction \
                for 12 min); its last statement: LOCK TABLE posts"
            ),
            "{shown}"
        );
        assert_eq!(h.ctx.report.lock_waits.len(), 1);
        assert_eq!(h.ctx.report.timed_out.as_ref().map(|t| t.version), Some(3));
    }

    #[tokio::test]
    async fn another_run_still_in_the_database_refuses_as_the_lock_does() {
        let out = "kmigrate:running\tShop.Repo\t77\tkmigrate-migrate-0f0f0f0f\tactive\t95\tALTER TABLE posts ADD COLUMN x int\n\
kmigrate:busy\tanother run is still executing in the database of Shop.Repo\n";
        let mut h = Harness::new(&["migrate"], vec![Reply::answer(out, 1)], false);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 74);
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("pid 77 kmigrate-migrate-0f0f0f0f (active for 95 s): ALTER TABLE posts"),
            "{msg}"
        );
        assert!(msg.contains("--wait"), "{msg}");
        assert_eq!(h.ctx.report.other_runs[0].pid, 77);
        assert!(h.ctx.report.migrations.is_empty());
    }

    const SAFE: &str = "def change do\n  execute \"CREATE TABLE t (id int)\"\nend\n";
    const DROPS: &str = "def up do\n  execute \"DROP TABLE legacy\"\nend\n";
    const REVIEWED: &str =
        "@safety_assured true\ndef change do\n  rename table(:a), to: table(:b)\nend\n";

    fn plan(pending: &[(i64, &str, &str)]) -> Reply {
        Reply::answer(&plan_output(pending), 0)
    }

    fn protected(args: &[&str], replies: Vec<Reply>, terminal: bool) -> Harness {
        let mut h = Harness::new(args, replies, terminal);
        h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
        h
    }

    #[tokio::test]
    async fn protected_migrate_previews_asks_and_runs_the_plan_it_showed() {
        let pending = [(2, "two", SAFE), (3, "three", SAFE)];
        let mut h = protected(
            &["migrate", "--step", "1"],
            vec![plan(&pending), Reply::answer(RAN_2_3, 0)],
            true,
        );
        h.answer(&["shop-prod"]);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        r.as_ref().unwrap();
        assert_eq!(h.prompts(), 1);
        assert_eq!(h.calls().len(), 2, "the plan, then the migration");
        assert!(h.calls()[0][2].contains("kmigrate:pending"));
        assert!(
            !h.calls()[0][2].contains("Ecto.Migrator.run("),
            "the preview only reads"
        );
        let hash = plan_hash(&pending);
        let run = &h.calls()[1][2];
        assert!(
            run.contains(&format!("planned_hash = \"{hash}\"\n"))
                && run
                    .contains("now = plan_hash.(pending_files.(plans))\nif now != planned_hash do"),
            "the run is held to the plan shown: {run}"
        );
        let shown = h.stderr();
        assert!(
            shown.contains(&format!(
                "pending migrations to apply:\n    2 two (Shop.Repo)  warning: runs raw SQL\n  plan {hash}\n"
            )),
            "the findings and the hash, last before the prompt: {shown}"
        );
        assert!(
            !shown.contains("3 three"),
            "--step 1 shows one migration: {shown}"
        );
        assert!(h.ctx.report.protected);
        assert_eq!(
            h.ctx.report.plan.as_ref().map(|p| p.hash.as_str()),
            Some(hash.as_str())
        );
    }

    /// What a person decides on is next to the prompt: where, which migrations with what
    /// the rules found, the plan hash; the Ecto snippet (thousands of characters) only
    /// with `-v`.
    #[tokio::test]
    async fn the_confirmation_shows_where_and_what_and_the_snippet_only_with_verbose() {
        let pending = [(2, "two", DROPS)];
        for verbose in [false, true] {
            let mut h = protected(
                &["migrate"],
                vec![plan(&pending), Reply::answer(RAN_2_3, 0)],
                true,
            );
            h.ctx.ui.verbose = verbose;
            h.answer(&["shop-prod", "2"]);
            let c = h.change();
            apply(&mut h.ctx, &pod(), &c).await.unwrap();
            let shown = h.stderr();
            let head = shown.split("destructive migrations in").next().unwrap();
            for fact in [
                "context:   kind-dev",
                "namespace: shop-prod",
                "pod:       web-1",
                "2 two (Shop.Repo)  DESTRUCTIVE: drops a table  warning: runs raw SQL",
            ] {
                assert!(head.contains(fact), "{fact}: {head}");
            }
            assert!(
                head.trim_end()
                    .ends_with(&format!("  plan {}", plan_hash(&pending))),
                "{head}"
            );
            assert!(h.calls()[1][2].contains("Ecto.Migrator"));
            assert_eq!(head.contains("Ecto.Migrator"), verbose, "{head}");
            if !verbose {
                assert!(
                    head.contains("command:   /app/bin/shop eval with kmigrate's Ecto snippet ("),
                    "{head}"
                );
                assert!(head.len() < 1000, "{} characters: {head}", head.len());
            }
        }
    }

    #[tokio::test]
    async fn a_migrate_confirmed_with_a_group_is_held_to_the_plan_the_group_showed() {
        let pending = [(2, "two", SAFE), (3, "three", SAFE)];
        let hash = plan_hash(&pending);
        // The plan the group's preview read, through the same parser.
        let reader = Harness::new(&["plan"], vec![plan(&pending)], false);
        let shown = reader.ctx.read_plan(&pod()).await.unwrap();
        for protected_env in [true, false] {
            let mut h = Harness::new(&["migrate"], vec![Reply::answer(RAN_2_3, 0)], false);
            if protected_env {
                h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
            }
            h.ctx.confirmation = Confirmation::Confirmed(crate::cmd::Shown {
                lines: Some(vec![
                    "2 two (Shop.Repo)".into(),
                    "3 three (Shop.Repo)".into(),
                ]),
                plan: Some(shown.clone()),
            });
            let c = h.change();
            let r = apply(&mut h.ctx, &pod(), &c).await;
            r.as_ref().unwrap();
            // No second read, no prompt: the run itself carries the hash shown.
            assert_eq!((h.calls().len(), h.prompts()), (1, 0), "{protected_env}");
            assert!(
                h.calls()[0][2].contains(&format!("planned_hash = \"{hash}\"\n")),
                "{protected_env}: {}",
                h.calls()[0][2]
            );
        }
    }

    #[tokio::test]
    async fn a_plan_that_changed_behind_the_prompt_is_not_run() {
        let pending = [(2, "two", SAFE), (3, "three", SAFE)];
        let now = plan_hash(&pending[1..]);
        let mut h = protected(
            &["migrate"],
            vec![
                plan(&pending),
                Reply::answer(&format!("kmigrate:stale\t{now}\n"), 1),
            ],
            true,
        );
        h.answer(&["shop-prod"]);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(end.exit_code, code::PLAN_CHANGED);
        let msg = format!("{:#}", r.unwrap_err());
        assert!(
            msg.contains(&format!(
                "changed after the plan was read (they now hash to {now}); nothing was run"
            )),
            "{msg}"
        );
        assert!(h.ctx.report.migrations.is_empty(), "nothing ran");
    }

    #[tokio::test]
    async fn a_wrong_name_refuses_and_runs_nothing() {
        let mut h = protected(&["migrate"], vec![plan(&[(2, "two", SAFE)])], true);
        h.answer(&["shop"]);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::REFUSED);
        assert_eq!(h.calls().len(), 1, "only the read-only preview ran");
        assert_eq!(h.ctx.report.remote_exit_code, None);
    }

    #[tokio::test]
    async fn a_destructive_migration_without_an_allow_is_refused_before_anything_runs() {
        let pending = [
            (2, "two", SAFE),
            (3, "drop_legacy", DROPS),
            (4, "rename", REVIEWED),
        ];
        let mut h = protected(
            &["migrate", "--yes", "-o", "json"],
            vec![plan(&pending)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::REFUSED, Outcome::Refused)
        );
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("3 drop_legacy (Shop.Repo): drops a table (line 2: DROP TABLE legacy)"),
            "{msg}"
        );
        assert!(msg.contains("re-run with --allow-destructive 3"), "{msg}");
        assert!(
            !msg.contains("rename"),
            "4 is marked @safety_assured: {msg}"
        );
        assert_eq!(h.calls().len(), 1, "only the plan was read");
        assert!(h.ctx.report.plan.is_some(), "the report says why");
        assert!(h.ctx.report.destructive_allowed.is_empty());
    }

    #[tokio::test]
    async fn allowed_by_flag_it_runs_and_the_allow_is_recorded() {
        let pending = [(2, "two", SAFE), (3, "drop_legacy", DROPS)];
        let mut h = protected(
            &["migrate", "--yes", "--allow-destructive", "3,7"],
            vec![plan(&pending), Reply::answer(RAN_2_3, 0)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        r.as_ref().unwrap();
        assert_eq!(h.ctx.report.destructive_allowed, [3]);
        let shown = h.stderr();
        assert!(
            shown.contains("3 drop_legacy (Shop.Repo)  DESTRUCTIVE: drops a table"),
            "the plan shows it: {shown}"
        );
        assert!(
            shown.contains("--allow-destructive 7 names no destructive migration"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn on_a_terminal_the_versions_are_typed_after_the_namespace() {
        let pending = [(2, "two", SAFE), (3, "drop_legacy", DROPS)];
        for (typed, expected) in [("3", 0), ("2,3", code::REFUSED)] {
            let mut h = protected(
                &["migrate"],
                vec![plan(&pending), Reply::answer(RAN_2_3, 0)],
                true,
            );
            h.answer(&["shop-prod", typed]);
            let c = h.change();
            let r = apply(&mut h.ctx, &pod(), &c).await;
            assert_eq!(h.conclude(&r).exit_code, expected, "typed {typed:?}");
            assert_eq!(h.prompts(), 2);
            let prompts = h.captured.lock().unwrap().prompts.clone();
            assert_eq!(
                prompts[1],
                "Type their versions (3) to allow them and continue"
            );
            if expected == 0 {
                assert_eq!(h.ctx.report.destructive_allowed, [3]);
                assert_eq!(h.calls().len(), 2);
            } else {
                assert_eq!(h.calls().len(), 1, "nothing ran");
                assert!(h.ctx.report.destructive_allowed.is_empty());
            }
        }
    }

    #[tokio::test]
    async fn an_approved_plan_is_checked_before_and_during_the_run() {
        let pending = [(2, "two", SAFE), (3, "three", SAFE)];
        let approved = plan_hash(&pending);
        // Protected: the preview already tells, and nothing else runs.
        let mut h = protected(
            &["migrate", "--yes", "--plan", &approved],
            vec![plan(&pending[..1])],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::PLAN_STALE);
        assert_eq!(h.calls().len(), 1);
        // Protected, same plan: it runs, held to it.
        let mut h = protected(
            &["migrate", "--yes", "--plan", &approved],
            vec![plan(&pending), Reply::answer(RAN_2_3, 0)],
            false,
        );
        let c = h.change();
        apply(&mut h.ctx, &pod(), &c).await.unwrap();
        assert!(h.calls()[1][2].contains(&approved));
        // Unprotected: no preview, the snippet checks it in the run itself.
        let now = plan_hash(&pending[1..]);
        let mut h = Harness::new(
            &["migrate", "--plan", &approved.to_uppercase()],
            vec![Reply::answer(&format!("kmigrate:stale\t{now}\n"), 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::PLAN_STALE, Outcome::Refused)
        );
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains(&format!(
                "not those of plan {approved} (they now hash to {now}); nothing was run"
            )),
            "{msg}"
        );
        assert_eq!(h.calls().len(), 1);
        let run = &h.calls()[0][2];
        assert!(run.contains(&format!("planned_hash = \"{approved}\"\n")));
        assert!(run.contains("if now != planned_hash do"));
    }

    #[tokio::test]
    async fn protected_without_terminal_is_refused_before_any_exec() {
        let mut h = Harness::new(&["migrate"], vec![], false);
        h.ctx.protection = Some("context matches".into());
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::REFUSED);
        assert!(h.calls().is_empty());
        assert_eq!(h.prompts(), 0);
    }

    #[tokio::test]
    async fn a_failing_migration_passes_its_code_and_lists_what_ran_before() {
        let out = "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 forward\n\
                   12:00:00.100 [info] == Migrated 2 in 0.1s\n\
                   12:00:00.200 [info] == Running 3 Shop.Repo.Migrations.Three.change/0 forward\n\
                   ** (Postgrex.Error) boom\n";
        let mut h = Harness::new(&["migrate"], vec![Reply::answer(out, 1)], false);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (1, Outcome::Failed));
        let versions: Vec<i64> = h.ctx.report.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [2]);
        assert!(
            h.stderr().contains("failed with exit code 1"),
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn a_remote_command_killed_by_sigkill_says_so() {
        let out = "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 forward\n\
                   12:00:00.100 [info] == Migrated 2 in 0.1s\n\
                   12:00:00.200 [info] == Running 3 Shop.Repo.Migrations.Three.change/0 forward\n";
        let mut h = Harness::new(&["migrate"], vec![Reply::answer(out, 137)], false);
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (137, Outcome::Failed));
        assert!(
            h.stderr().contains(
                "failed with exit code 137, killed by SIGKILL: out of memory, `kill -9`, or the pod was deleted or evicted (pod"
            ),
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn a_lost_connection_is_unknown_not_failure() {
        let mut h = Harness::new(
            &["migrate", "-o", "json"],
            vec![Reply::fail(
                "12:00:00.000 [info] == Running 2 Shop.Repo.Migrations.Two.change/0 forward\n",
                Error::Unknown("connection reset".into()).into(),
            )],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::UNKNOWN, Outcome::Unknown)
        );
        assert_eq!(h.ctx.report.remote_exit_code, None);
        assert!(
            h.stdout().is_empty(),
            "with -o json remote stdout goes to stderr"
        );
    }

    /// Three tenants of the `tenant` migration set, as the snippet reports them: `a` and `c`
    /// with two migrations each, `b` failing at its first; `ends` says how each ended.
    fn three_tenants(b: &str, c: &str) -> String {
        format!(
            "kmigrate:plan\tShop.Repo\ttenant_a\t1\tcreate_notes\n\
kmigrate:plan\tShop.Repo\ttenant_a\t2\tadd_notes_index\n\
kmigrate:plan\tShop.Repo\ttenant_b\t1\tcreate_notes\n\
kmigrate:plan\tShop.Repo\ttenant_b\t2\tadd_notes_index\n\
kmigrate:plan\tShop.Repo\ttenant_c\t1\tcreate_notes\n\
kmigrate:plan\tShop.Repo\ttenant_c\t2\tadd_notes_index\n\
kmigrate:tenant\ttenant_a\tpending\t2\n\
kmigrate:tenant\ttenant_b\tpending\t2\n\
kmigrate:tenant\ttenant_c\tpending\t2\n\
kmigrate:ran\tShop.Repo\ttenant_a\t1\n\
kmigrate:ran\tShop.Repo\ttenant_a\t2\n\
kmigrate:tenant\ttenant_a\tdone\n\
{b}{c}"
        )
    }

    const B_FAILS: &str = "kmigrate:tenant\ttenant_b\tfailed\t1\t(Postgrex.Error) ERROR 42P07 (duplicate_table) relation \"notes\" already exists\n";
    const C_RAN: &str = "kmigrate:ran\tShop.Repo\ttenant_c\t1\n\
kmigrate:ran\tShop.Repo\ttenant_c\t2\n\
kmigrate:tenant\ttenant_c\tdone\n";

    fn outcomes(h: &Harness) -> Vec<(String, TenantOutcome, u64)> {
        h.ctx
            .report
            .tenants
            .iter()
            .map(|t| (t.prefix.clone(), t.outcome, t.migrations))
            .collect()
    }

    const PREFIXES: [&str; 6] = [
        "--prefix", "tenant_a", "--prefix", "tenant_b", "--prefix", "tenant_c",
    ];

    #[tokio::test]
    async fn fail_fast_stops_at_the_first_failing_tenant_and_passes_its_code() {
        let out = three_tenants(B_FAILS, "kmigrate:tenant\ttenant_c\tnot-run\n");
        let mut h = Harness::new(
            &[&["migrate"][..], &PREFIXES].concat(),
            vec![Reply::answer(&out, 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!((end.exit_code, end.outcome), (1, Outcome::Failed), "{r:?}");
        assert_eq!(
            outcomes(&h),
            [
                ("tenant_a".into(), TenantOutcome::Applied, 2),
                ("tenant_b".into(), TenantOutcome::Failed, 0),
                ("tenant_c".into(), TenantOutcome::NotRun, 0),
            ]
        );
        let b = &h.ctx.report.tenants[1];
        assert_eq!(b.failed_version, Some(1));
        assert!(b.error.as_deref().unwrap().contains("42P07"), "{b:?}");
        assert_eq!(
            h.ctx.report.tenants[2].error.as_deref(),
            Some("the run stopped when tenant tenant_b failed")
        );
        let shown = h.stderr();
        assert!(
            shown.contains("kmigrate: tenant tenant_b failed at 1: (Postgrex.Error) ERROR 42P07"),
            "said as it happens: {shown}"
        );
        assert!(
            shown.contains("kmigrate: tenants: 1 applied, 1 failed, 1 not run\n  tenant_a  applied 2\n  tenant_b  failed at 1: (Postgrex.Error)"),
            "{shown}"
        );
        assert!(
            shown.contains("  tenant_c  not run: the run stopped when tenant tenant_b failed\n"),
            "{shown}"
        );
        assert!(
            !shown.contains("kmigrate:tenant"),
            "tags stay hidden: {shown}"
        );
    }

    #[tokio::test]
    async fn continue_on_error_runs_every_tenant_and_ends_with_its_own_code() {
        let out = three_tenants(B_FAILS, C_RAN);
        let mut h = Harness::new(
            &[
                &["migrate", "--continue-on-error", "-o", "json"][..],
                &PREFIXES,
            ]
            .concat(),
            vec![Reply::answer(&out, 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::TENANTS_FAILED, Outcome::Failed)
        );
        assert_eq!(h.ctx.report.remote_exit_code, Some(1));
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains(
                "1 of 3 tenants failed or were not run (tenant_b); every other tenant was migrated"
            ),
            "{msg}"
        );
        assert_eq!(
            outcomes(&h),
            [
                ("tenant_a".into(), TenantOutcome::Applied, 2),
                ("tenant_b".into(), TenantOutcome::Failed, 0),
                ("tenant_c".into(), TenantOutcome::Applied, 2),
            ]
        );
        let versions: Vec<(Option<&str>, i64)> = h
            .ctx
            .report
            .migrations
            .iter()
            .map(|m| (m.prefix.as_deref(), m.version))
            .collect();
        assert_eq!(
            versions,
            [
                (Some("tenant_a"), 1),
                (Some("tenant_a"), 2),
                (Some("tenant_c"), 1),
                (Some("tenant_c"), 2)
            ]
        );
        // JSON: the tenants as documented, read back.
        let json = serde_json::to_value(&h.ctx.report).unwrap();
        assert_eq!(json["tenants"][1]["outcome"], "failed");
        assert_eq!(json["tenants"][1]["failed_version"], 1);
        assert_eq!(json["tenants"][0]["outcome"], "applied");
        assert_eq!(json["tenants"][0]["migrations"], 2);
        let back: crate::report::Report = serde_json::from_value(json).unwrap();
        assert_eq!(back.tenants, h.ctx.report.tenants);
    }

    #[tokio::test]
    async fn continue_on_error_that_all_succeed_exits_0_and_tenants_already_up_are_skipped() {
        let out = "kmigrate:plan\tShop.Repo\ttenant_b\t2\tadd_notes_index\n\
kmigrate:tenant\ttenant_a\tpending\t0\n\
kmigrate:tenant\ttenant_b\tpending\t1\n\
kmigrate:ran\tShop.Repo\ttenant_b\t2\n\
kmigrate:tenant\ttenant_b\tdone\n";
        let mut h = Harness::new(
            &[
                "migrate",
                "--continue-on-error",
                "--prefix",
                "tenant_a",
                "--prefix",
                "tenant_b",
            ],
            vec![Reply::answer(out, 0)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert_eq!(
            outcomes(&h),
            [
                ("tenant_a".into(), TenantOutcome::UpToDate, 0),
                ("tenant_b".into(), TenantOutcome::Applied, 1),
            ]
        );
        let shown = h.stderr();
        assert!(
            shown.contains("kmigrate: tenants: 1 applied, 1 up to date\n  tenant_a  up to date\n  tenant_b  applied 1\n"),
            "{shown}"
        );
        assert!(
            shown.contains("kmigrate: 1 migration applied (pod web-1)"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_failed_canary_stops_the_run_even_with_continue_on_error() {
        let out = "kmigrate:plan\tShop.Repo\ttenant_c\t1\tcreate_notes\n\
kmigrate:plan\tShop.Repo\ttenant_a\t1\tcreate_notes\n\
kmigrate:tenant\ttenant_c\tpending\t1\n\
kmigrate:tenant\ttenant_a\tpending\t1\n\
kmigrate:tenant\ttenant_c\tfailed\t1\t(RuntimeError) data check failed\n\
kmigrate:tenant\ttenant_a\tnot-run\n";
        let mut h = Harness::new(
            &[
                "migrate",
                "--continue-on-error",
                "--canary",
                "tenant_c",
                "--prefix",
                "tenant_a",
                "--prefix",
                "tenant_c",
            ],
            vec![Reply::answer(out, 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, 1, "the canary's code, not 79");
        assert_eq!(
            outcomes(&h),
            [
                ("tenant_c".into(), TenantOutcome::Failed, 0),
                ("tenant_a".into(), TenantOutcome::NotRun, 0),
            ]
        );
    }

    #[tokio::test]
    async fn names_the_query_returned_that_are_not_prefixes_are_not_run_and_end_with_79() {
        let out = "kmigrate:invalid\t\"Tenant_X\"\n\
kmigrate:invalid\t\"tenant_nl\\n\"\n\
kmigrate:tenant\ttenant_a\tpending\t0\n";
        let mut h = Harness::new(
            &[
                "migrate",
                "--prefixes-from",
                "SELECT nspname FROM pg_namespace",
            ],
            vec![Reply::answer(out, 0)],
            false,
        );
        let c = h.change();
        assert!(
            c.argv[2].contains("tenant_query_hex = \"53454C45")
                && c.argv[2].contains("Base.decode16!(tenant_query_hex)"),
            "the query as hex"
        );
        let r = apply(&mut h.ctx, &pod(), &c).await;
        let end = h.conclude(&r);
        assert_eq!(
            (end.exit_code, end.outcome),
            (code::TENANTS_FAILED, Outcome::Failed)
        );
        assert_eq!(
            outcomes(&h),
            [
                ("tenant_a".into(), TenantOutcome::UpToDate, 0),
                ("\"Tenant_X\"".into(), TenantOutcome::Invalid, 0),
                ("\"tenant_nl\\n\"".into(), TenantOutcome::Invalid, 0),
            ]
        );
        assert!(
            h.stderr()
                .contains("kmigrate: --prefixes-from returned \"Tenant_X\", which is not a valid prefix: skipped"),
            "{}",
            h.stderr()
        );
    }

    #[tokio::test]
    async fn a_failing_tenant_query_is_a_usage_error_and_nothing_runs() {
        let out = "kmigrate:refused\tthe --prefixes-from query failed: ERROR 42601 (syntax_error) syntax error at or near \"SELEC\"\n";
        let mut h = Harness::new(
            &["migrate", "--prefixes-from", "SELEC nspname"],
            vec![Reply::answer(out, 1)],
            false,
        );
        let c = h.change();
        let r = apply(&mut h.ctx, &pod(), &c).await;
        assert_eq!(h.conclude(&r).exit_code, code::USAGE);
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("the --prefixes-from query failed: ERROR 42601"),
            "{msg}"
        );
        assert!(msg.contains("nothing was run"), "{msg}");
    }
}
