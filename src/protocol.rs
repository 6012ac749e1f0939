//! The `kmigrate:*` lines: what the Elixir snippets print (`src/ecto_snippet/elixir/`) and
//! `ecto_output` reads. A line is a tag and its fields, tab-separated. [`TAGS`] is their one
//! definition: the parser takes the tag names from here, and the tests below hold the
//! Elixir files to it (every tag they print is listed, every tag listed is printed, and
//! each line has the fields of one of its forms).

/// One kind of line.
#[derive(Debug)]
pub struct Tag {
    /// The tag, first on the line.
    pub name: &'static str,
    /// Its fields in order, one list per form the line takes. `<name>` is a value, a bare
    /// word is printed as it is, and a last field ending in `...` repeats (zero or more).
    pub forms: &'static [&'static [&'static str]],
    /// What the line says.
    pub doc: &'static str,
}

/// One migration's state.
pub const STATUS_TAG: &str = "kmigrate:status";
/// A holder of Ecto's migration lock.
pub const LOCKED_TAG: &str = "kmigrate:locked";
/// A migration about to run.
pub const PLAN_TAG: &str = "kmigrate:plan";
/// What one `run/4` call applied or reverted.
pub const RAN_TAG: &str = "kmigrate:ran";
/// Nothing was run, for this reason.
pub const REFUSED_TAG: &str = "kmigrate:refused";
/// A database session of another kmigrate migrate or rollback, still there.
pub const RUNNING_TAG: &str = "kmigrate:running";
/// Nothing was run because another run is still executing.
pub const BUSY_TAG: &str = "kmigrate:busy";
/// Nothing was run: the run's sessions do not carry its parameters (PgBouncer).
pub const SESSION_TAG: &str = "kmigrate:session";
/// One of the run's sessions waits for a lock that another session holds.
pub const WAITING_TAG: &str = "kmigrate:waiting";
/// The migration is still running.
pub const HEARTBEAT_TAG: &str = "kmigrate:heartbeat";
/// A migration was cancelled by the run's lock or statement timeout.
pub const TIMEOUT_TAG: &str = "kmigrate:timeout";
/// A tenant's part of the run.
pub const TENANT_TAG: &str = "kmigrate:tenant";
/// A schema name from `--prefixes-from` that is not a valid prefix.
pub const INVALID_TAG: &str = "kmigrate:invalid";
/// An index PostgreSQL marks invalid (a concurrent build that failed or still runs).
pub const INVALID_INDEX_TAG: &str = "kmigrate:invalidindex";
/// A pending migration, as `plan` reads it.
pub const PENDING_TAG: &str = "kmigrate:pending";
/// The newest applied version of a repo and prefix that has older pending migrations.
pub const NEWEST_TAG: &str = "kmigrate:newest";
/// Part of a migration file.
pub const SOURCE_TAG: &str = "kmigrate:source";
/// A table the pending migrations name, with its size from the catalog.
pub const TABLE_TAG: &str = "kmigrate:table";
/// A session holding (or waiting for) a lock on such a table.
pub const HOLDER_TAG: &str = "kmigrate:holder";
/// A field of an Ecto schema of the running code, with its table and column.
pub const SCHEMA_TAG: &str = "kmigrate:schema";
/// The running code was asked for its schemas: how many it has.
pub const CODE_TAG: &str = "kmigrate:code";
/// The plan hash, as the pod computed it.
pub const PLAN_HASH_TAG: &str = "kmigrate:planhash";
/// Nothing was run: the plan hash is now another.
pub const STALE_TAG: &str = "kmigrate:stale";
/// Nothing was run: the migrations a rollback was to revert are not all applied now.
pub const CHANGED_TAG: &str = "kmigrate:changed";
/// The end of a round of the schema gate's wait.
pub const WAIT_TAG: &str = "kmigrate:wait";
/// The last line of every snippet's answer: without it the answer is incomplete.
pub const END_TAG: &str = "kmigrate:end";
/// One finding of `doctor`'s probe.
pub const PROBE_TAG: &str = "kmigrate:probe";
/// The release's ecto_sql is older than a feature of kmigrate's needs.
pub const OLDER_TAG: &str = "kmigrate:older";
/// A repo whose adapter is not PostgreSQL, left out of the read.
pub const SKIPPED_TAG: &str = "kmigrate:skipped";

/// Every tag, with its fields.
pub const TAGS: &[Tag] = &[
    Tag {
        name: STATUS_TAG,
        forms: &[&["<repo>", "<prefix>", "<up|down>", "<version>", "<name>"]],
        doc: "one migration's state (the prefix is empty without one)",
    },
    Tag {
        name: INVALID_INDEX_TAG,
        forms: &[&["<repo>", "<prefix>", "<schema>", "<index>", "<table>"]],
        doc: "an index marked invalid in that repo and prefix: a concurrent build that failed (or still runs)",
    },
    Tag {
        name: OLDER_TAG,
        forms: &[&["<feature>", "<ecto_sql version>", "<version it needs>"]],
        doc: "the release's ecto_sql is older than this feature of the run needs (src/ecto_snippet/versions.rs \
              names each); the run does without it as that table says",
    },
    Tag {
        name: SKIPPED_TAG,
        forms: &[&["<repo>", "<adapter>"]],
        doc: "a repo whose `__adapter__()` is not `Ecto.Adapters.Postgres`: left out of the read",
    },
    Tag {
        name: LOCKED_TAG,
        forms: &[&["<repo>", "<prefix>", "<pid>", "<application>", "<since>"]],
        doc: "a holder of Ecto's migration lock of that repo and prefix",
    },
    Tag {
        name: PLAN_TAG,
        forms: &[&["<repo>", "<prefix>", "<version>", "<name>"]],
        doc: "a migration about to run",
    },
    Tag {
        name: RAN_TAG,
        forms: &[&["<repo>", "<prefix>", "<v1,v2,...>"]],
        doc: "what one `run/4` call applied or reverted",
    },
    Tag {
        name: END_TAG,
        forms: &[&[]],
        doc: "the snippet's last line: an answer without it was cut short, and its outcome is unknown",
    },
    Tag {
        name: REFUSED_TAG,
        forms: &[&["<reason>"]],
        doc: "nothing was run, for this reason",
    },
    Tag {
        name: CHANGED_TAG,
        forms: &[&["<v1,v2,...>"]],
        doc: "nothing was run: of the versions a rollback was to revert, only these are applied now",
    },
    Tag {
        name: RUNNING_TAG,
        forms: &[&[
            "<repo>",
            "<pid>",
            "<application>",
            "<state>",
            "<seconds>",
            "<query>",
        ]],
        doc: "a database session of another kmigrate migrate or rollback, still there",
    },
    Tag {
        name: BUSY_TAG,
        forms: &[&["<reason>"]],
        doc: "nothing was run because another run is still executing",
    },
    Tag {
        name: SESSION_TAG,
        forms: &[
            &["<repo>", "refused", "<parameter>"],
            &["<repo>", "unset", "<parameter>", "<asked>", "<in force>"],
        ],
        doc: "nothing was run: the database (a pooler) refused a session parameter of the run, or took it and did not apply it",
    },
    Tag {
        name: WAITING_TAG,
        forms: &[&[
            "<repo>",
            "<prefix>",
            "<waited s>",
            "<lock>",
            "<mode>",
            "<pid>",
            "<application>",
            "<client>",
            "<state>",
            "<state s>",
            "<query>",
        ]],
        doc: "one of the run's sessions waits for a lock that this session (pid) holds",
    },
    Tag {
        name: HEARTBEAT_TAG,
        forms: &[&["<seconds>"]],
        doc: "the migration is still running, this long",
    },
    Tag {
        name: TIMEOUT_TAG,
        forms: &[&[
            "<repo>",
            "<prefix>",
            "<version>",
            "<lock|statement>",
            "<tx|notx>",
        ]],
        doc: "a migration was cancelled by the run's lock or statement timeout",
    },
    Tag {
        name: TENANT_TAG,
        forms: &[
            &["<prefix>", "pending", "<n>"],
            &["<prefix>", "done"],
            &["<prefix>", "failed", "<version>", "<error>"],
            &["<prefix>", "not-run"],
        ],
        doc: "a tenant's part of the run: before anything runs, n migrations to apply (0 when \
              it is up to date); then done, failed (the version is empty when the failure came \
              before one), or not run (stopped before it)",
    },
    Tag {
        name: INVALID_TAG,
        forms: &[&["<name, as Elixir's inspect shows it>"]],
        doc: "a schema name returned by the `--prefixes-from` query that is not a valid \
              prefix; it is not run",
    },
    Tag {
        name: PENDING_TAG,
        forms: &[&[
            "<repo>",
            "<prefix>",
            "<version>",
            "<name>",
            "<module>",
            "<tx|notx>",
            "<lock|nolock>",
            "<sha256>",
            "<file>",
        ]],
        doc: "a pending migration, with how Ecto runs it and its file",
    },
    Tag {
        name: NEWEST_TAG,
        forms: &[&["<repo>", "<prefix>", "<version>"]],
        doc: "the newest applied version of a repo and prefix that has pending migrations older \
              than it (they run out of order)",
    },
    Tag {
        name: SOURCE_TAG,
        forms: &[&["<sha256>", "<chunk>", "<chunks>", "<hex>"]],
        doc: "part of a migration file",
    },
    Tag {
        name: TABLE_TAG,
        forms: &[&[
            "<repo>", "<prefix>", "<schema>", "<table>", "<rows>", "<bytes>",
        ]],
        doc: "a table of the repo's schema (the prefix, else the current schema) that the pending \
              migrations name: its estimated rows (`pg_class.reltuples`, -1 before the first \
              ANALYZE) and bytes (table, TOAST and indexes, from `relpages`)",
    },
    Tag {
        name: HOLDER_TAG,
        forms: &[&[
            "<repo>",
            "<prefix>",
            "<table>",
            "<pid>",
            "<mode>",
            "<granted|waiting>",
            "<application>",
            "<state>",
            "<transaction s>",
            "<query>",
        ]],
        doc: "another session that holds, or waits for, a lock on such a table now",
    },
    Tag {
        name: SCHEMA_TAG,
        forms: &[&["<module>", "<source>", "<prefix>", "<field>", "<column>"]],
        doc: "a field of an Ecto schema of the running code (`__schema__(:fields)`), its table \
              (`:source`), `@schema_prefix` (empty without one) and column (`:field_source`)",
    },
    Tag {
        name: CODE_TAG,
        forms: &[&["asked", "<schemas>"], &["failed", "<why>"]],
        doc: "the running code was asked for its schemas, and has this many with a table; or \
              asking failed, for this reason",
    },
    Tag {
        name: PLAN_HASH_TAG,
        forms: &[&["<sha256>"]],
        doc: "the plan hash, as the pod computed it",
    },
    Tag {
        name: STALE_TAG,
        forms: &[&["<sha256>"]],
        doc: "nothing was run: the plan hash is now this",
    },
    Tag {
        name: WAIT_TAG,
        forms: &[&["<waiting|ready|deadline>", "<seconds waited>"]],
        doc: "the end of a round of `kmigrate:status` lines (what is missing or ahead)",
    },
    Tag {
        name: PROBE_TAG,
        forms: &[
            &["app", "ok"],
            &["app", "error", "<why>"],
            &["ecto_sql", "<version or empty>"],
            &["repos", "<repo>..."],
            &["db", "<repo>", "ok"],
            &["db", "<repo>", "error", "<why>"],
            &["adapter", "<repo>", "<adapter>"],
            &["invalidindex", "<repo>", "<schema>", "<index>", "<table>"],
            &["session", "<repo>", "ok"],
            &["session", "<repo>", "refused", "<parameter>"],
            &[
                "session",
                "<repo>",
                "unset",
                "<parameter>",
                "<asked>",
                "<in force>",
            ],
            &["session", "<repo>", "error", "<why>"],
            &[
                "pooler",
                "<repo>",
                "<server port>",
                "<repo port>",
                "<migration lock>",
            ],
        ],
        doc: "one finding of `doctor`'s probe (the adapter only of a repo that is not PostgreSQL, \
              which is then not asked `SELECT 1`)",
    },
];

/// The most fields a line of `tag` has (0 for a tag not listed): the parser splits a line
/// into that many, so that the last field keeps any tab of its own.
pub fn fields(tag: &str) -> usize {
    TAGS.iter()
        .filter(|t| t.name == tag)
        .flat_map(|t| t.forms.iter().map(|f| f.len()))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::ELIXIR_FILES;
    use crate::migration_plan::lexer::{Lexed, lex};

    /// A line printed in an Elixir file: `say.("kmigrate:...", [fields])`.
    #[derive(Debug)]
    struct Site {
        file: &'static str,
        tag: String,
        /// Each field: `Some(text)` for a plain string literal, else `None`.
        fields: Vec<Option<String>>,
        /// The list ends in `| more`.
        open: bool,
    }

    /// Every `say.(tag, [...])` in `source`; panics on a tag literal anywhere else.
    fn sites(file: &'static str, source: &str) -> Vec<Site> {
        let lexed = lex(source);
        lexed
            .strings
            .iter()
            .filter(|s| tag_name(&s.text))
            .map(|s| {
                let before = &source[..s.start];
                assert!(
                    before.ends_with("say.("),
                    "{file}: {} is not printed with say.(tag, fields)",
                    s.text
                );
                let after = &lexed.code[s.end..];
                let open = after
                    .strip_prefix(", [")
                    .unwrap_or_else(|| panic!("{file}: {} has no list of fields", s.text));
                let start = s.end + 3;
                let (fields, open_tail) =
                    list_fields(source, &lexed, start, start + list_end(open));
                Site {
                    file,
                    tag: s.text.clone(),
                    fields,
                    open: open_tail,
                }
            })
            .collect()
    }

    fn tag_name(text: &str) -> bool {
        text.strip_prefix("kmigrate:")
            .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_lowercase()))
    }

    /// Where the list that `code` is inside of closes, relative to `code`.
    fn list_end(code: &str) -> usize {
        let mut depth = 0;
        for (i, c) in code.char_indices() {
            match c {
                '[' | '(' | '{' => depth += 1,
                ']' | ')' | '}' if depth == 0 => return i,
                ']' | ')' | '}' => depth -= 1,
                _ => {}
            }
        }
        panic!("unclosed list")
    }

    /// The top-level elements of `source[start..end]`, and whether a `|` tail ends them.
    fn list_fields(
        source: &str,
        lexed: &Lexed,
        start: usize,
        end: usize,
    ) -> (Vec<Option<String>>, bool) {
        let code = &lexed.code[start..end];
        let (mut depth, mut from, mut out) = (0, 0, Vec::new());
        let element = |from: usize, to: usize| {
            let text = source[start + from..start + to].trim();
            let plain = text.len() >= 2
                && text.starts_with('"')
                && text.ends_with('"')
                && !text[1..text.len() - 1].contains(['"', '#', '\\']);
            plain.then(|| text[1..text.len() - 1].to_owned())
        };
        for (i, c) in code.char_indices() {
            match c {
                '[' | '(' | '{' => depth += 1,
                ']' | ')' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(element(from, i));
                    from = i + 1;
                }
                '|' if depth == 0 && !operator(code, i) => {
                    out.push(element(from, i));
                    return (out, true);
                }
                _ => {}
            }
        }
        if !code.trim().is_empty() {
            out.push(element(from, end - start));
        }
        (out, false)
    }

    /// Whether the `|` at `i` belongs to `||` or `|>` rather than ending a list.
    fn operator(code: &str, i: usize) -> bool {
        code[i + 1..].starts_with(['|', '>']) || code[..i].ends_with('|')
    }

    /// Whether a site can be this form of its tag.
    fn fits(site: &Site, form: &[&str]) -> bool {
        let repeats = form.last().is_some_and(|f| f.ends_with("..."));
        let fixed = if repeats { form.len() - 1 } else { form.len() };
        let count_fits = match (site.open, repeats) {
            (false, false) => site.fields.len() == fixed,
            (false, true) => site.fields.len() >= fixed,
            (true, _) => repeats || form.len() > site.fields.len(),
        };
        count_fits
            && site
                .fields
                .iter()
                .zip(form)
                .all(|(field, spec)| spec.starts_with('<') || field.as_deref() == Some(*spec))
    }

    fn all_sites() -> Vec<Site> {
        ELIXIR_FILES
            .iter()
            .flat_map(|(file, source)| sites(file, source))
            .collect()
    }

    #[test]
    fn every_tag_printed_is_listed_with_the_fields_of_one_of_its_forms() {
        let sites = all_sites();
        assert!(sites.len() >= 25, "{sites:?}");
        for site in &sites {
            let tag = TAGS
                .iter()
                .find(|t| t.name == site.tag)
                .unwrap_or_else(|| panic!("{}: {} is not in protocol::TAGS", site.file, site.tag));
            assert!(
                tag.forms.iter().any(|form| fits(site, form)),
                "{}: {} printed with fields {:?} (open: {}), not one of {:?}",
                site.file,
                site.tag,
                site.fields,
                site.open,
                tag.forms
            );
        }
    }

    #[test]
    fn every_tag_listed_is_printed_in_each_of_its_forms() {
        let sites = all_sites();
        for tag in TAGS {
            for form in tag.forms {
                assert!(
                    sites.iter().any(|s| s.tag == tag.name && fits(s, form)),
                    "{} {form:?} is printed by no Elixir file",
                    tag.name
                );
            }
        }
    }

    #[test]
    fn tag_names_are_unique() {
        // The parser matches a tag followed by a tab: `kmigrate:plan` and `kmigrate:planhash`
        // are told apart, two equal names are not.
        for (i, a) in TAGS.iter().enumerate() {
            assert!(tag_name(a.name), "{}", a.name);
            assert!(TAGS[i + 1..].iter().all(|b| a.name != b.name), "{}", a.name);
        }
    }

    #[test]
    fn the_parser_splits_into_the_fields_of_the_longest_form() {
        assert_eq!(fields(STATUS_TAG), 5);
        assert_eq!(fields(WAITING_TAG), 11);
        assert_eq!(fields(TENANT_TAG), 4);
        assert_eq!(fields(PENDING_TAG), 9);
        assert_eq!(fields("kmigrate:nothing"), 0);
    }

    #[test]
    fn the_field_reader_sees_literals_tails_and_nesting() {
        let src = r#"say.("kmigrate:x", ["db", f(a, [b, c]), "x#{y}" | more])"#;
        let site = &sites("t", src)[0];
        assert_eq!(site.fields, [Some("db".to_owned()), None, None]);
        assert!(site.open);
        let src = r#"say.("kmigrate:x", [a || "", b])"#;
        let site = &sites("t", src)[0];
        assert_eq!(site.fields.len(), 2);
        assert!(!site.open);
    }
}
