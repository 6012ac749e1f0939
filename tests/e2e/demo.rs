//! The README's main job, walked as a newcomer types it: after `scripts/demo`, every line of
//! the "try next" list it printed, then the README's quick start in a new app folder.
//!
//! Needs `scripts/demo` to have run (feature `demo`; `.ci/run` runs both); without it the
//! test fails, naming the command. It changes only the demo's own namespaces and databases.

use std::path::PathBuf;

use crate::harness::{local, psql};
use crate::support::{Run, repo, scratch_dir, shell, type_at_prompt};

/// The folder `scripts/demo` writes its config and its "try next" list to.
fn demo_dir() -> PathBuf {
    local().state.join("demo")
}

/// What a line must do: its exit code and a text its screen shows.
struct Expect {
    line: &'static str,
    code: i32,
    shows: &'static [&'static str],
}

/// A line of shell, typed with `exports` in effect, on a terminal; the namespace is typed at
/// a protection prompt. Returns the screen.
fn walk(exports: &str, dir: Option<&std::path::Path>, e: &Expect) -> String {
    let mut run: Run = shell(&format!("{exports}\n{}", e.line));
    if let Some(dir) = dir {
        run = run.dir(dir);
    }
    let (code, screen) = type_at_prompt(run.terminal_command(), "demo-prod\r", || {});
    assert_eq!(code, e.code, "`{}` exited {code}:\n{screen}", e.line);
    for text in e.shows {
        assert!(
            screen.contains(text),
            "`{}` did not show {text:?}:\n{screen}",
            e.line
        );
    }
    screen
}

/// The commands of a list, without comments or blank lines.
fn commands(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The expectation for a line of a list; a line the test does not know fails it, so a new
/// line in the list gets checked too.
fn expectation<'a>(table: &'a [Expect], line: &str) -> &'a Expect {
    table
        .iter()
        .find(|e| e.line == line)
        .unwrap_or_else(|| panic!("no expectation for `{line}`: add one to tests/e2e/demo.rs"))
}

#[test]
fn the_demo_then_its_try_next_list_then_the_quick_start() {
    let list = std::fs::read_to_string(demo_dir().join("try-next")).unwrap_or_else(|e| {
        panic!(
            "no {}/try-next ({e}): run `scripts/demo` first",
            demo_dir().display()
        )
    });
    // As scripts/demo leaves them: demo migrated, demo-prod not. The walk changes both, so
    // a second walk needs a second run of the demo (which starts both databases afresh).
    let applied = |db: &str| {
        let count = |sql: &str| psql(db, sql).trim().to_owned();
        count("SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'") == "1"
            && count("SELECT count(*) FROM schema_migrations") != "0"
    };
    assert!(
        applied("demo") && !applied("demo_prod"),
        "the demo's databases are not as scripts/demo leaves them: run `scripts/demo` again"
    );
    let mut lines = commands(&list).into_iter();
    let exports = lines.next().expect("the list starts with its export line");
    assert!(exports.starts_with("export PATH="), "{exports}");

    let try_next = [
        Expect {
            line: "kmigrate status",
            code: 0,
            shows: &["3 migration(s), 0 pending"],
        },
        Expect {
            line: "kmigrate rollback --step 1",
            code: 0,
            shows: &["20240103120000", "1 migration reverted"],
        },
        Expect {
            line: "kmigrate -e prod migrate",
            code: 0,
            shows: &[
                "Protected environment",
                "Type the namespace name (demo-prod) to continue",
                "3 migrations applied (pod demo-",
            ],
        },
        Expect {
            line: "kmigrate -e prod status",
            code: 0,
            shows: &["3 migration(s), 0 pending"],
        },
        Expect {
            line: "kmigrate exec -- sh -c 'echo hello from $(hostname)'",
            code: 0,
            shows: &["hello from"],
        },
        Expect {
            line: "kmigrate pods -o json",
            code: 0,
            shows: &["\"namespace\": \"demo\""],
        },
    ];
    let listed: Vec<&str> = lines.collect();
    for line in &listed {
        walk(exports, None, expectation(&try_next, line));
    }
    assert_eq!(listed.len(), try_next.len(), "every expectation is walked");

    quick_start(exports);
}

/// The README's quick start, in a new app folder: `kmigrate init`, the edit it asks for
/// (selector, app, release, environments), then every other line as written.
fn quick_start(exports: &str) {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("the README has a quick start");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the quick start has a sh block");
    let lines = commands(block);
    let app = scratch_dir("quick-start");
    // An app's folder holds its migrations, where `kmigrate lint` reads them: the demo's.
    let migrations = app.join("priv/repo/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let source = repo().join("tests/fixtures/demo_release/priv/repo/migrations");
    for file in std::fs::read_dir(source).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, migrations.join(file.file_name().unwrap())).unwrap();
    }
    // The demo's own config is not the newcomer's: only the folder's kmigrate.toml counts.
    let exports = format!("{exports}\nunset KMIGRATE_CONFIG");
    let (init, rest) = lines.split_first().expect("lines");
    walk(
        &exports,
        Some(&app),
        &Expect {
            line: "kmigrate init",
            code: 0,
            shows: &["kind: Role"],
        },
    );
    assert_eq!(*init, "kmigrate init");
    let (edit, rest) = rest.split_first().expect("the edit line");
    assert_eq!(*edit, "$EDITOR kmigrate.toml");
    edit_scaffold(&app.join("kmigrate.toml"));

    let table = [
        Expect {
            line: "kmigrate pods",
            code: 0,
            shows: &["namespace demo, selector \"app=demo\": 2 pod(s)"],
        },
        // The try-next list left the demo one migration behind.
        Expect {
            line: "kmigrate status",
            code: 0,
            shows: &["3 migration(s), 1 pending"],
        },
        Expect {
            line: "kmigrate plan",
            code: 0,
            shows: &["20240103120000 create_comments", "1 pending migration(s)"],
        },
        Expect {
            line: "kmigrate lint",
            code: 0,
            shows: &[
                "priv/repo/migrations/20240103120000_create_comments.exs:5: warning raw_sql_executed",
                "5 finding(s) in 3 file(s), none at --fail-on destructive or above",
            ],
        },
        Expect {
            line: "kmigrate migrate",
            code: 0,
            shows: &["1 migration applied (pod demo-"],
        },
        Expect {
            line: "kmigrate -e prod migrate",
            code: 0,
            shows: &["nothing to do"],
        },
        Expect {
            line: "kmigrate -e prod rollback --step 1",
            code: 0,
            shows: &[
                "Type the namespace name (demo-prod) to continue",
                "1 migration reverted",
            ],
        },
    ];
    for line in rest {
        walk(&exports, Some(&app), expectation(&table, line));
    }
    assert_eq!(rest.len(), table.len(), "every expectation is walked");
}

/// The edit the quick start asks for, made to the scaffold as a person would: this app's
/// selector, app name and release path, and the two environments' context and namespace.
/// Fails when the scaffold no longer has the lines it edits.
fn edit_scaffold(path: &std::path::Path) {
    let context = crate::harness::kubectl_out(&["config", "current-context"]);
    let release = repo().join("tests/fixtures/demo_release/bin/demo");
    let mut text = std::fs::read_to_string(path).unwrap();
    for (from, to) in [
        (
            "selector = \"app=my_app\"",
            "selector = \"app=demo\"".to_owned(),
        ),
        ("app = \"my_app\"", "app = \"demo\"".to_owned()),
        (
            "release = \"/app/bin/my_app\"",
            format!("release = \"{}\"", release.display()),
        ),
        ("context = \"staging\"", format!("context = \"{context}\"")),
        (
            "namespace = \"my-app-staging\"",
            "namespace = \"demo\"".to_owned(),
        ),
        (
            "context = \"production\"",
            format!("context = \"{context}\""),
        ),
        (
            "namespace = \"my-app\"",
            "namespace = \"demo-prod\"".to_owned(),
        ),
    ] {
        assert!(text.contains(from), "the scaffold lost `{from}`:\n{text}");
        text = text.replacen(from, &to, 1);
    }
    std::fs::write(path, text).unwrap();
}
