//! `kmigrate migrate`: run pending migrations.

use anyhow::Result;

use super::{
    Ctx, Plan, confirm, facts, find_target, pass_through, read_status, run_remote, take_lock,
};
use crate::cli::MigrateArgs;
use crate::ecto_output::{Direction, Event, pending};
use crate::ecto_snippet::{Action, Target};
use crate::error::usage;
use crate::output::Streamer;
use crate::report::Migration;

/// Run `migrate`.
pub async fn run(args: &MigrateArgs, ctx: &mut Ctx) -> Result<u8> {
    let target = Target::from_flags(args.to.as_deref(), args.step.as_deref())
        .map_err(usage)?
        .unwrap_or(Target::All);
    let argv = match (&ctx.settings.migrate_command, &ctx.settings.ecto) {
        (Some(custom), _) => custom.clone(),
        (None, Some(ecto)) => ecto
            .snippet
            .argv(&ecto.release, ecto.mode, Action::Migrate(target)),
        (None, None) => return Err(usage("no migrate command configured")),
    };
    if ctx.settings.job.is_some() {
        let (code, _) = super::job_run::run(ctx, argv, super::job_run::Kind::Migrate).await?;
        return Ok(pass_through(code));
    }
    let t = find_target(ctx).await?;
    take_lock(ctx, &t.conn, &t.namespace).await?;
    let mut total = None;
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        let changes = if ctx.ui.can_prompt && !ctx.settings.yes && ctx.settings.ecto.is_some() {
            let rows = read_status(ctx, &t).await?;
            let todo: Vec<String> = pending(&rows)
                .iter()
                .filter(|r| match target {
                    Target::All => true,
                    Target::To(v) => r.version <= v.get(),
                    Target::Step(_) => true,
                })
                .map(|r| format!("{} {} ({})", r.version, r.name, r.repo))
                .collect();
            let todo = match target {
                Target::Step(n) => todo.into_iter().take(n.get() as usize).collect(),
                _ => todo,
            };
            total = Some(todo.len() as u64);
            Some(("pending migrations to apply", todo))
        } else {
            None
        };
        confirm(
            ctx,
            Plan {
                namespace: &t.namespace,
                facts: facts(&t),
                argv: &argv,
                reason: &reason,
                changes,
            },
        )?;
    }
    let bar = ctx.ui.migration_bar(total);
    let mut out = Streamer::new(bar, ctx.ui.json, true).hide_tags();
    let code = run_remote(ctx, &t, &argv, &mut out).await?;
    record(ctx, &out.events, Direction::Up);
    summarize(ctx, code, &out.events, "applied");
    Ok(pass_through(code))
}

/// Put the migrations that ran into the report: Ecto's own list of versions when the
/// snippet printed it, else the `== Migrated` lines (a failed run prints no list).
pub(super) fn record(ctx: &mut Ctx, events: &[Event], direction: Direction) {
    let name_of = |version: i64| {
        events.iter().find_map(|e| match e {
            Event::Running {
                version: v,
                module,
                direction: d,
            } if *v == version && *d == direction => Some(module.clone()),
            _ => None,
        })
    };
    let from_tags: Vec<Migration> = events
        .iter()
        .filter_map(|e| match e {
            Event::Ran { repo, versions } => Some(versions.iter().map(move |v| (repo, *v))),
            _ => None,
        })
        .flatten()
        .map(|(repo, version)| Migration {
            repo: Some(repo.clone()),
            version,
            name: name_of(version),
            direction,
        })
        .collect();
    ctx.report.migrations = if events.iter().any(|e| matches!(e, Event::Ran { .. })) {
        from_tags
    } else {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Migrated { version } => Some(Migration {
                    repo: None,
                    version: *version,
                    name: name_of(*version),
                    direction,
                }),
                _ => None,
            })
            .collect()
    };
}

/// One line for people on stderr.
pub(super) fn summarize(ctx: &Ctx, code: i32, events: &[Event], verb: &str) {
    if ctx.ui.json {
        return;
    }
    let n = ctx.report.migrations.len();
    let pod = ctx.report.pod.as_deref().unwrap_or("?");
    if code == 0 {
        if n == 0 && events.iter().any(|e| matches!(e, Event::NothingToDo)) {
            ctx.ui.note(&format!(
                "kmigrate: nothing to do, migrations already up (pod {pod})"
            ));
        } else {
            let s = if n == 1 { "" } else { "s" };
            ctx.ui
                .note(&format!("kmigrate: {n} migration{s} {verb} (pod {pod})"));
        }
    } else {
        ctx.ui.note(&format!(
            "kmigrate: the remote command failed with exit code {code} (pod {pod}); {n} migration(s) {verb} before that"
        ));
    }
}
