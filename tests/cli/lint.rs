//! `kmigrate lint` as a user types it, and the corpus of migrations in tests/lint_corpus,
//! each stating in its first line what lint finds in it.

use std::path::Path;

use crate::support::{kmigrate, repo, report, scratch_dir, stdout};

/// The kinds a corpus file's first line expects (`# kmigrate lint expects: a b`), none for
/// `nothing`.
fn expected(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let first = text.lines().next().unwrap_or_default();
    let kinds = first
        .strip_prefix("# kmigrate lint expects: ")
        .unwrap_or_else(|| panic!("{} does not state what lint finds", path.display()));
    let mut kinds: Vec<String> = kinds.split_whitespace().map(str::to_owned).collect();
    kinds.retain(|k| k != "nothing");
    kinds.sort();
    kinds
}

#[test]
fn every_corpus_file_gets_the_verdict_it_states() {
    let corpus = repo().join("tests/lint_corpus");
    let out = kmigrate()
        .dir(&corpus)
        .args(["lint", "-o", "json", "--fail-on", "never", "."])
        .status(0);
    let files = report(&out).files;
    let on_disk = std::fs::read_dir(&corpus).unwrap().count();
    assert_eq!(files.len(), on_disk, "one entry per file, clean ones too");
    // (refused by default: a destructive finding; warned only; nothing found)
    let mut verdicts = (0, 0, 0);
    for file in &files {
        let unreviewed: Vec<_> = file.findings.iter().filter(|f| !f.assured).collect();
        let mut got: Vec<String> = unreviewed
            .iter()
            .map(|f| f.kind.name().to_owned())
            .collect();
        got.sort();
        assert_eq!(got, expected(&corpus.join(&file.path)), "{}", file.path);
        match (
            unreviewed.iter().any(|f| f.destructive),
            unreviewed.is_empty(),
        ) {
            (true, _) => verdicts.0 += 1,
            (false, false) => verdicts.1 += 1,
            (false, true) => verdicts.2 += 1,
        }
    }
    assert_eq!(verdicts, (18, 27, 11));
    // Every kind has a migration in the corpus that shows it, but the one found against
    // the running code (a file alone cannot show it).
    for kind in kmigrate::migration_plan::kind::Kind::all()
        .filter(|k| *k != kmigrate::migration_plan::kind::Kind::BreaksRunningCode)
    {
        assert!(
            files
                .iter()
                .flat_map(|f| &f.findings)
                .any(|f| f.kind == kind),
            "no corpus file shows {}",
            kind.name()
        );
    }
}

#[test]
fn lint_walks_from_a_clean_folder_to_a_refused_pull_request() {
    let app = scratch_dir("lint");
    let migrations = app.join("priv/repo/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    // No migrations yet: said, as a usage error.
    kmigrate()
        .dir(&app)
        .args(["lint"])
        .expect_stderr("no migrations in")
        .status(2);
    std::fs::write(
        migrations.join("20240101000000_create_posts.exs"),
        "defmodule Shop.Repo.Migrations.CreatePosts do\n  use Ecto.Migration\n\n  def change do\n    create table(:posts) do\n      add :title, :string\n    end\n  end\nend\n",
    )
    .unwrap();
    kmigrate()
        .dir(&app)
        .args(["lint"])
        .expect_stdout("priv/repo/migrations/20240101000000_create_posts.exs: ok")
        .expect_stderr("0 finding(s) in 1 file(s)")
        .status(0);

    std::fs::write(
        migrations.join("20240201000000_drop_title.exs"),
        "defmodule Shop.Repo.Migrations.DropTitle do\n  use Ecto.Migration\n\n  def change do\n    alter table(:posts) do\n      remove :title\n    end\n\n    create index(:posts, [:inserted_at])\n  end\nend\n",
    )
    .unwrap();
    let out = kmigrate()
        .dir(&app)
        .args(["lint"])
        .expect_stdout("priv/repo/migrations/20240201000000_drop_title.exs:6: DESTRUCTIVE column_removed: removes a column: remove :title")
        .expect_stdout("    fix: remove the field from the Ecto schema")
        .expect_stdout(":9: warning index_not_concurrently")
        .expect_stderr("1 finding(s) at --fail-on destructive or above")
        .status(83);
    assert!(stdout(&out).starts_with("priv/repo/migrations/20240101000000_create_posts.exs: ok\n"));

    let out = kmigrate().dir(&app).args(["lint", "-o", "json"]).status(83);
    let doc = report(&out);
    assert_eq!((doc.command.as_str(), doc.exit_code), ("lint", 83));
    let paths: Vec<&str> = doc.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "priv/repo/migrations/20240101000000_create_posts.exs",
            "priv/repo/migrations/20240201000000_drop_title.exs"
        ]
    );
    assert!(doc.files[0].findings.is_empty());
    let removed = &doc.files[1].findings[0];
    assert_eq!(
        (removed.line, removed.destructive, removed.assured),
        (6, true, false)
    );
    assert!(removed.fix.contains("Ecto schema"), "{}", removed.fix);
    let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = raw["files"][1]["findings"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["assured", "destructive", "fix", "kind", "line", "message"]
    );

    // One file, a stricter level, none, annotations.
    let one = "priv/repo/migrations/20240101000000_create_posts.exs";
    kmigrate().dir(&app).args(["lint", one]).status(0);
    kmigrate()
        .dir(&app)
        .args(["lint", "--fail-on", "never"])
        .status(0);
    let index_only = app.join("index.exs");
    std::fs::write(
        &index_only,
        "def change do\n  create index(:posts, [:title])\nend\n",
    )
    .unwrap();
    kmigrate().dir(&app).args(["lint", "index.exs"]).status(0);
    kmigrate()
        .dir(&app)
        .args(["lint", "--fail-on", "warning", "index.exs"])
        .expect_stdout("index.exs:2: error index_not_concurrently")
        .status(83);
    kmigrate()
        .dir(&app)
        .args(["lint", "--github"])
        .expect_stdout("::error file=priv/repo/migrations/20240201000000_drop_title.exs,line=6,title=kmigrate column_removed::removes a column")
        .expect_stdout("::warning file=priv/repo/migrations/20240201000000_drop_title.exs,line=9,")
        .status(83);

    // Mistakes are usage errors, before anything is read.
    kmigrate()
        .dir(&app)
        .args(["lint", "--github", "-o", "json"])
        .expect_stderr("--github prints workflow commands")
        .status(2);
    kmigrate()
        .dir(&app)
        .args(["lint", "nope.exs"])
        .expect_stderr("nope.exs: no such file or folder")
        .status(2);
}

#[test]
fn lint_without_a_path_reads_tenant_and_umbrella_migrations() {
    let umbrella = scratch_dir("lint-umbrella");
    let drop = "def change do\n  drop table(:legacy)\nend\n";
    let create = "def change do\n  create table(:tags)\nend\n";
    for (folder, name, source) in [
        ("priv/repo/tenant_migrations", "1_drop_legacy.exs", drop),
        (
            "apps/shop/priv/repo/migrations",
            "1_create_tags.exs",
            create,
        ),
        (
            "apps/shop/priv/repo/tenant_migrations",
            "2_drop_legacy.exs",
            drop,
        ),
        ("apps/shop/priv/repo/seeds", "3_seed.exs", drop),
    ] {
        let dir = umbrella.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), source).unwrap();
    }
    let out = kmigrate()
        .dir(&umbrella)
        .args(["lint"])
        .expect_stdout("priv/repo/tenant_migrations/1_drop_legacy.exs:2: DESTRUCTIVE table_dropped")
        .expect_stdout("apps/shop/priv/repo/migrations/1_create_tags.exs: ok")
        .expect_stdout(
            "apps/shop/priv/repo/tenant_migrations/2_drop_legacy.exs:2: DESTRUCTIVE table_dropped",
        )
        .expect_stderr("2 finding(s) in 3 file(s)")
        .status(83);
    assert!(!stdout(&out).contains("seeds"), "{}", stdout(&out));

    // From the child app's directory, only its own.
    let out = kmigrate()
        .dir(&umbrella.join("apps/shop"))
        .args(["lint", "-o", "json"])
        .status(83);
    let paths: Vec<String> = report(&out).files.into_iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        [
            "priv/repo/migrations/1_create_tags.exs",
            "priv/repo/tenant_migrations/2_drop_legacy.exs"
        ]
    );

    let empty = scratch_dir("lint-empty-umbrella");
    std::fs::create_dir_all(empty.join("apps/shop/priv/repo/seeds")).unwrap();
    kmigrate()
        .dir(&empty)
        .args(["lint"])
        .expect_stderr("apps/*/priv/*/tenant_migrations")
        .status(2);
}
