//! `kmigrate plan`: the pending migrations of each repo (and prefix) as the image ships
//! them, how Ecto runs each, what in them is risky, and the hash `migrate --plan` takes.

use anyhow::Result;

use super::{Ctx, run_reading};
use crate::ecto_output::Findings;
use crate::ecto_snippet::Operation;
use crate::error::usage;
use crate::migration_plan::{MigrationPlan, PlannedMigration, impact};
use crate::output::Purpose;

/// Run `plan`: in a Job (the new image's plan), or in a running pod.
pub async fn plan(ctx: &mut Ctx) -> Result<()> {
    let Some(ecto) = ctx.settings.ecto.clone() else {
        return Err(usage(
            "plan needs the app name (--app, --release or kmigrate.toml)",
        ));
    };
    let argv = ecto.argv(Operation::Plan);
    let out = ctx.ui.streamer(Purpose::Status);
    // A failed snippet (or Job) passes its exit code through; a dry run has no plan.
    match run_reading(ctx, &argv, out, |_, _| {}).await? {
        Some(ran) => {
            super::answered(&ran.out.findings, ran.code, "nothing was read")?;
            ctx.note_plan_in_live_node();
            if ran.code == 0 {
                show(ctx, &ran.out.findings)?;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

/// Put the plan in the report, and for people: every migration with its flags and
/// findings (each with its fix, as `lint` shows it) on stdout, the hash last.
fn show(ctx: &mut Ctx, findings: &Findings) -> Result<()> {
    ctx.report.skipped_repos = findings.skipped_repos().to_vec();
    ctx.report.older_ecto_sql = findings.older_ecto_sql().to_vec();
    let mut plan =
        MigrationPlan::from_lines(findings.migration_plan()).map_err(anyhow::Error::msg)?;
    if ctx.settings.job.is_some() {
        plan.read_in_new_image();
        if let Some(asked) = &ctx.running_code {
            plan.asked_apart(asked);
        }
    }
    if !ctx.ui.json {
        let lock_timeout = ctx
            .settings
            .ecto
            .as_ref()
            .is_some_and(|e| e.snippet.session.lock_timeout.is_some());
        ctx.ui.data(&text(&plan, lock_timeout));
        let mut destructive: Vec<i64> = plan
            .migrations()
            .filter(|(_, m)| m.destructive)
            .map(|(_, m)| m.version)
            .collect();
        destructive.sort_unstable();
        destructive.dedup();
        let n = plan.migrations().count();
        let mut summary = format!("{n} pending migration(s)");
        if !destructive.is_empty() {
            let versions: Vec<String> = destructive.iter().map(ToString::to_string).collect();
            summary.push_str(&format!(
                ", destructive: {}; a protected environment runs them only with --allow-destructive {}",
                versions.join(", "),
                versions.join(",")
            ));
        }
        ctx.ui.note(&summary);
    }
    ctx.report.plan = Some(plan);
    Ok(())
}

/// The plan for people.
pub(super) fn text(plan: &MigrationPlan, lock_timeout: bool) -> String {
    let mut out = String::new();
    for r in &plan.repos {
        match &r.prefix {
            Some(p) => out.push_str(&format!("{} (prefix {p})\n", r.repo)),
            None => out.push_str(&format!("{}\n", r.repo)),
        }
        for m in &r.migrations {
            migration(&mut out, m);
        }
    }
    if plan.repos.is_empty() {
        out.push_str("no pending migrations\n");
    }
    if let Some(unknown) = plan.running_code.unknown() {
        out.push_str(&format!("{unknown}\n"));
    }
    for l in impact::waits_behind(plan, lock_timeout) {
        out.push_str(&format!("{l}\n"));
    }
    out.push_str(&format!("plan {}\n", plan.hash));
    out
}

fn migration(out: &mut String, m: &PlannedMigration) {
    let module = m.module.as_deref().unwrap_or("(defines no Ecto.Migration)");
    out.push_str(&format!("  {} {}  {module}\n", m.version, m.name));
    out.push_str(&format!("      {}\n", m.file));
    let tx = if m.transaction {
        "in a transaction"
    } else {
        "no transaction (@disable_ddl_transaction)"
    };
    let lock = if m.migration_lock {
        "under the migration lock"
    } else {
        "no migration lock (@disable_migration_lock)"
    };
    out.push_str(&format!("      {tx}, {lock}\n"));
    if let Some(newest) = m.out_of_order_after {
        out.push_str(&format!(
            "      out of order: older than {newest}, already applied; a later rollback --step reverts {newest} first\n"
        ));
    }
    for f in &m.findings {
        let mark = match (f.destructive, f.assured) {
            (_, true) => "reviewed",
            (true, false) => "DESTRUCTIVE",
            (false, false) => "warning",
        };
        out.push_str(&format!(
            "      {mark}: {} ({}), line {}: {}\n          fix: {}\n",
            f.kind.describe(),
            f.kind.name(),
            f.line,
            f.text,
            f.kind.fix()
        ));
        if let Some(i) = &f.impact {
            out.push_str(&format!(
                "          {}\n",
                impact::describe(i, f.table.as_deref())
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::migration_plan::impact::Impact;
    use crate::migration_plan::kind::{Effect, LockMode};
    use crate::migration_plan::tests::{plan_hash, plan_output};
    use crate::migration_plan::{Kind, RunningCode};
    use crate::remote_exec::fake::Reply;

    const INDEX: &str = "def change do\n  create index(:posts, [:title])\nend\n";
    const DROPS: &str = "def up do\n  execute \"DROP TABLE legacy\"\nend\n";

    async fn run(h: &mut Harness) -> anyhow::Result<()> {
        let argv = h.ctx.settings.ecto.as_ref().unwrap().argv(Operation::Plan);
        let mut out = h.ctx.ui.streamer(Purpose::Status);
        h.ctx.exec(&pod(), &argv, &mut out).await?;
        show(&mut h.ctx, &out.findings)
    }

    /// A migration whose file name holds an escape sequence: the plan is read (the pod's
    /// hash and kmigrate's agree) and shown escaped, never obeyed by the terminal.
    #[tokio::test]
    async fn a_name_with_an_escape_sequence_is_planned_and_shown_escaped() {
        let pending = [(2, "red\u{1b}[31mname", INDEX)];
        let mut h = Harness::new(
            &["plan"],
            vec![Reply::answer(&plan_output(&pending), 0)],
            false,
        );
        run(&mut h).await.unwrap();
        assert!(h.stdout().contains("red\\u{1b}[31mname"), "{}", h.stdout());
        assert!(!h.stdout().contains('\u{1b}') && !h.stderr().contains('\u{1b}'));
        let plan = h.ctx.report.plan.as_ref().unwrap();
        assert_eq!(plan.repos[0].migrations[0].name, "red\u{1b}[31mname");
    }

    #[tokio::test]
    async fn the_plan_lists_flags_and_findings_and_ends_with_its_hash() {
        let pending = [(2, "add_index", INDEX), (3, "drop_legacy", DROPS)];
        let mut h = Harness::new(
            &["plan"],
            vec![Reply::answer(&plan_output(&pending), 0)],
            false,
        );
        run(&mut h).await.unwrap();
        let hash = plan_hash(&pending);
        let expected = format!(
            "Shop.Repo
  2 add_index  Shop.Repo.Migrations.M2
      priv/repo/migrations/2_add_index.exs
      in a transaction, under the migration lock
      warning: creates or drops an index without CONCURRENTLY (index_not_concurrently), line 2: create index(:posts, [:title])
          fix: pass `concurrently: true` with `@disable_ddl_transaction true` and `@disable_migration_lock true`, alone in its migration
          SHARE on posts (not in the catalog: no size), reads every row: blocks every write to the table, not reads
  3 drop_legacy  Shop.Repo.Migrations.M3
      priv/repo/migrations/3_drop_legacy.exs
      in a transaction, under the migration lock
      DESTRUCTIVE: drops a table (table_dropped), line 2: DROP TABLE legacy
          fix: deploy code that no longer reads or writes the table first; drop it in a later release
          ACCESS EXCLUSIVE on legacy (not in the catalog: no size), changes the catalog only: blocks every query of the table, reads included
      warning: runs raw SQL (raw_sql_executed), line 2: execute \"DROP TABLE legacy\"
          fix: review the SQL; the rules read SQL literals only
plan {hash}
"
        );
        assert_eq!(h.stdout(), expected);
        assert!(
            h.stderr().contains("2 pending migration(s), destructive: 3; a protected environment runs them only with --allow-destructive 3"),
            "{}",
            h.stderr()
        );
        let plan = h.ctx.report.plan.as_ref().unwrap();
        assert_eq!(plan.hash, hash);
        assert!(!plan.repos[0].migrations[0].destructive);
        assert!(plan.repos[0].migrations[1].destructive);
    }

    /// The catalog's lines give each finding its table's size and the plan its lock
    /// holders, with the advice to set a lock timeout; they are not in the hash.
    #[tokio::test]
    async fn sizes_and_lock_holders_are_shown_and_not_hashed() {
        let pending = [(2, "add_index", INDEX), (3, "drop_legacy", DROPS)];
        let catalog = "kmigrate:table\tShop.Repo\t\tpublic\tposts\t1000000\t157286400\n\
            kmigrate:table\tShop.Repo\t\tpublic\tcomments\t5\t8192\n\
            kmigrate:holder\tShop.Repo\t\tposts\t4242\tAccessShareLock\tgranted\tconsole\tidle in transaction\t312\tSELECT count(*) FROM posts\n\
            kmigrate:holder\tShop.Repo\t\tcomments\t4243\tAccessShareLock\tgranted\tother\tactive\t1\tSELECT 1\n";
        let out = format!("{catalog}{}", plan_output(&pending));
        let mut h = Harness::new(&["plan", "-o", "json"], vec![Reply::answer(&out, 0)], false);
        run(&mut h).await.unwrap();
        let plan = h.ctx.report.plan.clone().unwrap();
        assert_eq!(
            plan.hash,
            plan_hash(&pending),
            "sizes and sessions are not hashed"
        );
        let i = plan.repos[0].migrations[0].findings[0].impact.clone();
        let expected = Impact {
            lock: LockMode::Share,
            effect: Effect::Scan,
            schema: Some("public".into()),
            rows: Some(1_000_000),
            bytes: Some(157_286_400),
            holders: 1,
        };
        assert_eq!(i, Some(expected));
        let legacy = plan.repos[0].migrations[1].findings[0]
            .impact
            .clone()
            .unwrap();
        assert_eq!(
            (legacy.lock.sql(), legacy.schema),
            ("ACCESS EXCLUSIVE", None)
        );
        // Only what a finding touches: comments is named by no finding.
        let tables: Vec<&str> = plan.tables.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(tables, ["posts"]);
        assert_eq!(
            plan.holders.iter().map(|h| h.pid).collect::<Vec<_>>(),
            [4242]
        );
        let value = serde_json::to_value(&h.ctx.report).unwrap();
        let json = &value["plan"]["repos"][0]["migrations"][0]["findings"][0]["impact"];
        assert_eq!(json["lock"], "SHARE");
        assert_eq!(json["effect"], "scan");
        assert_eq!(json["rows"], 1_000_000);
        assert_eq!(value["plan"]["holders"][0]["application"], "console");
        let shown = text(&plan, false);
        assert!(
            shown.contains(concat!(
                "          SHARE on public.posts (~1,000,000 rows, 150.0 MiB), reads every row: ",
                "blocks every write to the table, not reads; 1 session(s) hold or wait for locks on it now\n"
            )),
            "{shown}"
        );
        assert!(
            shown.contains(concat!(
                "sessions holding or waiting for locks on these tables now:\n  pid 4242 (application \"console\", ",
                "idle in transaction, transaction open 312 s) holds AccessShareLock on posts; its last statement: SELECT count(*) FROM posts\n"
            )),
            "{shown}"
        );
        assert!(shown.contains("no --lock-timeout is set"), "{shown}");
        assert!(!text(&plan, true).contains("no --lock-timeout is set"));
    }

    /// A column the running code's schema maps, removed: its own destructive finding,
    /// naming the schema, field and column; without the code's answer, the plan says it
    /// did not look, never that nothing breaks.
    #[tokio::test]
    async fn a_removal_the_running_schema_still_maps_breaks_it() {
        const REMOVE: &str =
            "def change do\n  alter table(:posts) do\n    remove :title\n  end\nend\n";
        let pending = [(4, "remove_title", REMOVE)];
        let schema = "kmigrate:schema\tShop.Post\tposts\t\tid\tid\nkmigrate:schema\tShop.Post\tposts\t\theadline\ttitle\n";
        let out =
            plan_output(&pending).replace("kmigrate:code\tasked\t0", "kmigrate:code\tasked\t1");
        let mut h = Harness::new(
            &["plan"],
            vec![Reply::answer(&format!("{schema}{out}"), 0)],
            false,
        );
        run(&mut h).await.unwrap();
        let plan = h.ctx.report.plan.clone().unwrap();
        let kinds: Vec<Kind> = plan.repos[0].migrations[0]
            .findings
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(kinds, [Kind::ColumnRemoved, Kind::BreaksRunningCode]);
        assert_eq!(plan.running_code, RunningCode::Asked { schemas: 1 });
        assert!(
            h.stdout().contains(concat!(
                "      DESTRUCTIVE: breaks the code running now: an Ecto schema still maps what it changes ",
                "(breaks_running_code), line 3: Shop.Post maps posts.title (field :headline)\n"
            )),
            "{}",
            h.stdout()
        );
        assert_eq!(
            plan.hash,
            plan_hash(&pending),
            "the running code is not in the hash"
        );
        // The same plan without the code's answer: not looked at, and said so.
        let unasked = plan_output(&pending).replace("kmigrate:code\tasked\t0\n", "");
        let mut h = Harness::new(
            &["plan"],
            vec![Reply::answer(&format!("{schema}{unasked}"), 0)],
            false,
        );
        run(&mut h).await.unwrap();
        let plan = h.ctx.report.plan.clone().unwrap();
        assert_eq!(plan.running_code, RunningCode::NotAsked);
        assert!(
            plan.repos[0].migrations[0]
                .findings
                .iter()
                .all(|f| f.kind != Kind::BreaksRunningCode)
        );
        assert!(
            h.stdout().contains("the running code was not asked for its Ecto schemas: whether this plan breaks it is not known\n"),
            "{}",
            h.stdout()
        );
    }

    #[tokio::test]
    async fn a_pending_migration_older_than_the_newest_applied_is_out_of_order() {
        let pending = [(2, "add_index", INDEX), (5, "later", INDEX)];
        let out = format!("kmigrate:newest\tShop.Repo\t\t4\n{}", plan_output(&pending));
        let mut h = Harness::new(&["plan"], vec![Reply::answer(&out, 0)], false);
        run(&mut h).await.unwrap();
        assert!(
            h.stdout().contains("under the migration lock\n      out of order: older than 4, already applied; a later rollback --step reverts 4 first\n"),
            "{}",
            h.stdout()
        );
        assert_eq!(
            h.stdout().matches("out of order").count(),
            1,
            "5 is newer than 4"
        );
        let plan = h.ctx.report.plan.as_ref().unwrap();
        let after: Vec<Option<i64>> = plan.repos[0]
            .migrations
            .iter()
            .map(|m| m.out_of_order_after)
            .collect();
        assert_eq!(after, [Some(4), None]);
        assert_eq!(
            plan.hash,
            plan_hash(&pending),
            "the newest version is not in the hash"
        );
    }

    #[tokio::test]
    async fn nothing_pending_still_has_a_hash_and_json_has_the_plan_object() {
        let mut h = Harness::new(
            &["plan", "-o", "json"],
            vec![Reply::answer(&plan_output(&[]), 0)],
            false,
        );
        run(&mut h).await.unwrap();
        assert!(h.stdout().is_empty(), "the report carries it");
        let value = serde_json::to_value(&h.ctx.report).unwrap();
        assert_eq!(value["plan"]["hash"], plan_hash(&[]));
        assert_eq!(value["plan"]["repos"], serde_json::json!([]));
        assert_eq!(
            text(
                &MigrationPlan {
                    hash: "h".into(),
                    repos: vec![],
                    tables: vec![],
                    holders: vec![],
                    running_code: crate::migration_plan::RunningCode::Asked { schemas: 0 },
                },
                false
            ),
            "no pending migrations\nplan h\n"
        );
    }

    #[tokio::test]
    async fn a_plan_whose_lines_disagree_with_its_hash_is_not_shown() {
        let out =
            plan_output(&[(2, "add_index", INDEX)]).replace("\t2\tadd_index\t", "\t3\tadd_index\t");
        let mut h = Harness::new(&["plan"], vec![Reply::answer(&out, 0)], false);
        let err = run(&mut h).await.unwrap_err().to_string();
        assert!(err.contains("the plan is not used"), "{err}");
        assert!(h.stdout().is_empty());
    }
}
