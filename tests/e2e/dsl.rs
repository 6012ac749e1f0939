//! Migrations written with the Ecto migration DSL (`create table`, `alter table` with
//! `add`/`modify`/`remove`/`references`/`timestamps`, `create index` with `concurrently`,
//! `create constraint`, `rename`, `drop constraint`), run by kmigrate end to end: the fixture
//! turns them into the SQL `Ecto.Adapters.Postgres.Connection` generates and reverses
//! `change/0` on rollback as `Ecto.Migration.Runner` does (`migration_sets/dsl`).

use kmigrate::ecto_output::Direction;
use kmigrate::migration_plan::Kind;

use crate::harness::{Ns, migration_set, psql};
use crate::support::report;

const CREATE_AUTHORS: i64 = 20240501120000;
const CREATE_ARTICLES: i64 = 20240502120000;
const ALTER_ARTICLES: i64 = 20240503120000;
const INDEX_CONCURRENTLY: i64 = 20240504120000;
const RENAME_AUTHORS: i64 = 20240505120000;
const REPLACE_CHECK: i64 = 20240506120000;
const ALL: [i64; 6] = [
    CREATE_AUTHORS,
    CREATE_ARTICLES,
    ALTER_ARTICLES,
    INDEX_CONCURRENTLY,
    RENAME_AUTHORS,
    REPLACE_CHECK,
];

/// Rows of a catalog query, one per line.
fn rows(ns: &Ns, sql: &str) -> Vec<String> {
    psql(&ns.db, sql)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `name type[ NOT NULL][ DEFAULT expr]` for each column of `table`, by name.
fn columns(ns: &Ns, table: &str) -> Vec<String> {
    rows(
        ns,
        &format!(
            "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
             || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
             || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attname"
        ),
    )
}

fn constraints(ns: &Ns, table: &str) -> Vec<String> {
    rows(
        ns,
        &format!(
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = '{table}'::regclass ORDER BY conname"
        ),
    )
}

fn indexes(ns: &Ns) -> Vec<String> {
    rows(
        ns,
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname <> 'schema_migrations_pkey' ORDER BY indexname",
    )
}

#[test]
fn dsl_migrations_plan_migrate_and_roll_back_end_to_end() {
    let ns = Ns::with_demo_pod("dsl", &[("DEMO_MIGRATIONS_DIR", &migration_set("dsl"))]);

    // The plan reads the DSL: the concurrent index runs without transaction and lock, and
    // the alter's modify/remove/rename are findings.
    let plan = report(
        &ns.kmigrate()
            .args(["plan", "-l", "app=demo", "-o", "json"])
            .status(0),
    )
    .plan
    .expect("a plan");
    let planned = &plan.repos[0].migrations;
    assert_eq!(planned.iter().map(|m| m.version).collect::<Vec<_>>(), ALL);
    let concurrently = &planned[3];
    assert!(
        !concurrently.transaction && !concurrently.migration_lock,
        "{concurrently:#?}"
    );
    // articles is created earlier in this plan: altering a table nobody uses yet is no
    // finding. Where it exists already (a second database, migrated to create_articles),
    // the alter's modify/remove/rename are.
    assert_eq!(planned[2].findings, [], "{:#?}", planned[2]);
    let later = Ns::with_demo_pod(
        "dsl-later",
        &[("DEMO_MIGRATIONS_DIR", &migration_set("dsl"))],
    );
    later
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "--to", &ALL[1].to_string()])
        .status(0);
    let rest = report(
        &later
            .kmigrate()
            .args(["plan", "-l", "app=demo", "-o", "json"])
            .status(0),
    )
    .plan
    .expect("a plan");
    let alter = &rest.repos[0].migrations[0];
    assert_eq!(alter.version, ALL[2]);
    let kinds: Vec<Kind> = alter.findings.iter().map(|f| f.kind).collect();
    // string to text is binary-coercible: a warning, not a type change that rewrites.
    for kind in [
        Kind::ColumnTypeCoercible,
        Kind::ColumnRemoved,
        Kind::ColumnRenamed,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} not in {alter:#?}");
    }

    // migrate: all six, each logged as Ecto.Migration.Runner logs its commands.
    let out = ns
        .kmigrate()
        .args(["migrate", "-l", "app=demo", "-o", "json"])
        .status(0);
    let r = report(&out);
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        ALL
    );
    assert!(r.migrations.iter().all(|m| m.direction == Direction::Up));
    let said = String::from_utf8_lossy(&out.stderr);
    for line in [
        "[info] create table authors",
        "[info] create index authors_email_index",
        "[info] create table articles",
        "[info] create check constraint views_must_not_be_negative on table articles",
        "[info] alter table articles",
        "[info] rename column body to content on table articles",
        "[info] create index articles_lower_title_index",
        "[info] rename table authors to writers",
        "[info] drop constraint views_must_not_be_negative from table articles",
    ] {
        assert!(said.contains(line), "no {line:?} in:\n{said}");
    }
    assert!(!said.contains("warning"), "{said}");
    assert_eq!(ns.applied(), ALL);
    assert_eq!(ns.tables(), ["articles", "schema_migrations", "writers"]);
    assert_eq!(
        columns(&ns, "articles"),
        [
            "author_id bigint NOT NULL",
            "content text",
            "editor_id bigint",
            "id bigint NOT NULL DEFAULT nextval('articles_id_seq'::regclass)",
            "inserted_at timestamp(0) without time zone NOT NULL",
            "metadata jsonb DEFAULT '{}'::jsonb",
            "published_at timestamp(0) without time zone",
            "title text NOT NULL DEFAULT 'Untitled'::character varying",
            "updated_at timestamp(0) without time zone NOT NULL",
            "uuid uuid DEFAULT gen_random_uuid()",
            "views integer DEFAULT 0",
        ]
    );
    assert_eq!(
        constraints(&ns, "articles"),
        [
            "articles_author_id_fkey FOREIGN KEY (author_id) REFERENCES writers(id) ON DELETE CASCADE",
            "articles_editor_id_fkey FOREIGN KEY (editor_id) REFERENCES writers(id) ON DELETE SET NULL",
            "articles_pkey PRIMARY KEY (id)",
            "views_in_range CHECK (((views >= 0) AND (views <= 1000000)))",
        ]
    );
    assert_eq!(
        indexes(&ns),
        [
            "articles_author_id_index",
            "articles_author_id_published_at_index",
            "articles_lower_title_index",
            "articles_pkey",
            "authors_pkey",
            "writers_email_index",
        ]
    );

    // rollback of the last two: down/0 of the check, then the renames reversed.
    let out = ns
        .kmigrate()
        .args(["rollback", "-l", "app=demo", "--step", "2", "-o", "json"])
        .status(0);
    let r = report(&out);
    assert_eq!(
        r.migrations.iter().map(|m| m.version).collect::<Vec<_>>(),
        [REPLACE_CHECK, RENAME_AUTHORS]
    );
    assert!(r.migrations.iter().all(|m| m.direction == Direction::Down));
    let said = String::from_utf8_lossy(&out.stderr);
    for line in [
        "[info] rename index writers_email_index to authors_email_index",
        "[info] rename table writers to authors",
    ] {
        assert!(said.contains(line), "no {line:?} in:\n{said}");
    }
    assert_eq!(ns.applied(), ALL[..4]);
    assert_eq!(ns.tables(), ["articles", "authors", "schema_migrations"]);
    assert_eq!(
        constraints(&ns, "articles"),
        [
            "articles_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors(id) ON DELETE CASCADE",
            "articles_editor_id_fkey FOREIGN KEY (editor_id) REFERENCES authors(id) ON DELETE SET NULL",
            "articles_pkey PRIMARY KEY (id)",
            "views_must_not_be_negative CHECK ((views >= 0))",
        ]
    );

    // rollback of the rest, down to the first: concurrent indexes dropped concurrently, the
    // alter reversed, the tables dropped.
    let out = ns
        .kmigrate()
        .args([
            "rollback",
            "-l",
            "app=demo",
            "--to",
            &CREATE_AUTHORS.to_string(),
            "-o",
            "json",
        ])
        .status(0);
    let said = String::from_utf8_lossy(&out.stderr);
    for line in [
        "[info] drop index articles_lower_title_index",
        "[info] drop table articles",
        "[info] drop index authors_email_index",
        "[info] drop table authors",
    ] {
        assert!(said.contains(line), "no {line:?} in:\n{said}");
    }
    assert_eq!(ns.applied(), Vec::<i64>::new());
    assert_eq!(ns.tables(), ["schema_migrations"]);
    assert!(indexes(&ns).is_empty(), "{:?}", indexes(&ns));
}
