//! What a migrate or rollback did, for the report and for people.

use super::Ctx;
use crate::ecto_output::{Direction, Event};
use crate::report::Migration;

/// Put the migrations that ran into the report: the versions of the snippet's tagged
/// lines (printed after each migration, so also those before a failure), named as the
/// plan named them; without tags (a custom command), Ecto's `== Migrated` lines.
/// After a migrate or rollback: the snippet's refusal becomes a usage error (nothing ran);
/// otherwise what ran goes into the report and a line for people.
pub(super) fn settle(
    ctx: &mut Ctx,
    code: i32,
    events: &[Event],
    direction: Direction,
    custom: bool,
) -> anyhow::Result<()> {
    if let Some(why) = refusal(events) {
        return Err(crate::error::usage(format!("{why}; nothing was run")));
    }
    record(ctx, events, direction);
    let verb = match direction {
        Direction::Up => "applied",
        Direction::Down => "reverted",
    };
    summarize(ctx, code, events, verb, custom);
    Ok(())
}

fn record(ctx: &mut Ctx, events: &[Event], direction: Direction) {
    let planned = |version: i64| {
        events.iter().find_map(|e| match e {
            Event::Plan {
                version: v, name, ..
            } if *v == version => Some(name.clone()),
            _ => None,
        })
    };
    let module = |version: i64| {
        events.iter().find_map(|e| match e {
            Event::Running {
                version: v,
                module,
                direction: d,
            } if *v == version && *d == direction => Some(module.clone()),
            _ => None,
        })
    };
    let tagged: Vec<Migration> = events
        .iter()
        .filter_map(|e| match e {
            Event::Ran {
                repo,
                prefix,
                versions,
            } => Some(versions.iter().map(move |v| (repo, prefix, *v))),
            _ => None,
        })
        .flatten()
        .map(|(repo, prefix, version)| Migration {
            repo: Some(repo.clone()),
            prefix: prefix.clone(),
            version,
            name: planned(version).or_else(|| module(version)),
            direction,
            state: None,
        })
        .collect();
    let any_tags = events
        .iter()
        .any(|e| matches!(e, Event::Ran { .. } | Event::Plan { .. }));
    ctx.report.migrations = if any_tags {
        tagged
    } else {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Migrated { version } => Some(Migration {
                    repo: None,
                    prefix: None,
                    version: *version,
                    name: module(*version),
                    direction,
                    state: None,
                }),
                _ => None,
            })
            .collect()
    };
}

/// The snippet's refusal, if it refused (it then ran nothing).
fn refusal(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::Refused(why) => Some(why.clone()),
        _ => None,
    })
}

/// One line for people on stderr.
/// `custom` says the command was the configured one, not the snippet (which plans).
fn summarize(ctx: &Ctx, code: i32, events: &[Event], verb: &str, custom: bool) {
    if ctx.ui.json {
        return;
    }
    let n = ctx.report.migrations.len();
    let pod = ctx.report.pod.as_deref().unwrap_or("?");
    if code == 0 {
        let nothing = if custom {
            events.iter().any(|e| matches!(e, Event::NothingToDo))
        } else {
            !events.iter().any(|e| matches!(e, Event::Plan { .. }))
        };
        if n == 0 && nothing {
            let state = if verb == "applied" {
                ", migrations already up"
            } else {
                ""
            };
            ctx.ui
                .note(&format!("kmigrate: nothing to do{state} (pod {pod})"));
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
