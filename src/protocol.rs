//! The `kmigrate:*` lines: what the Elixir snippets print and `ecto_output` reads. A line
//! is a tag and its fields, tab-separated. [`TAGS`] is their one definition: the parser
//! takes the tag names and field counts from here.

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
/// A pending migration, as `plan` reads it.
pub const PENDING_TAG: &str = "kmigrate:pending";
/// Part of a migration file.
pub const SOURCE_TAG: &str = "kmigrate:source";
/// The plan hash, as the pod computed it.
pub const PLAN_HASH_TAG: &str = "kmigrate:planhash";
/// Nothing was run: the plan hash is now another.
pub const STALE_TAG: &str = "kmigrate:stale";
/// The end of a round of the schema gate's wait.
pub const WAIT_TAG: &str = "kmigrate:wait";
/// One finding of `doctor`'s probe.
pub const PROBE_TAG: &str = "kmigrate:probe";

/// Every tag, with its fields.
pub const TAGS: &[Tag] = &[
    Tag {
        name: STATUS_TAG,
        forms: &[&["<repo>", "<prefix>", "<up|down>", "<version>", "<name>"]],
        doc: "one migration's state (the prefix is empty without one)",
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
        name: REFUSED_TAG,
        forms: &[&["<reason>"]],
        doc: "nothing was run, for this reason",
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
        name: SOURCE_TAG,
        forms: &[&["<sha256>", "<chunk>", "<chunks>", "<hex>"]],
        doc: "part of a migration file",
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
        ],
        doc: "one finding of `doctor`'s probe",
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

    #[test]
    fn tag_names_are_unique() {
        // The parser matches a tag followed by a tab: `kmigrate:plan` and `kmigrate:planhash`
        // are told apart, two equal names are not.
        for (i, a) in TAGS.iter().enumerate() {
            assert!(a.name.starts_with("kmigrate:"), "{}", a.name);
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
}
