//! What a migrate or rollback did, for the report and for people.

use super::Ctx;
use crate::ecto_output::{Direction, Event};
use crate::report::Migration;

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
