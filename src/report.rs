//! The JSON document printed with `-o json`: one per run, on stdout, at the end.

use serde::{Deserialize, Serialize};

use crate::ecto_output::{Direction, StatusRow};

/// Version of the JSON schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// What happened, for machines. Documented in docs/reference/json.md.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The subcommand: migrate, rollback, status, pods, exec.
    pub command: String,
    /// `success`, `failed` (remote non-zero), `unknown`, `refused`, `error`, `pending`.
    pub outcome: String,
    /// kmigrate's own exit code for this run.
    pub exit_code: u8,
    /// Whose code `exit_code` is: `kmigrate` (one of its own, 0 included) or `remote` (the
    /// remote command failed: its code, or the one `--remote-failure-code` maps it to).
    pub exit_code_source: String,
    /// The remote command's exit code, when it reported one.
    pub remote_exit_code: Option<i32>,
    /// The error message, when the run failed for a reason of kmigrate's own.
    pub error: Option<String>,
    /// The config file read (as `--config` gave it, or where it was found), if any.
    pub config: Option<String>,
    /// kubeconfig context used.
    pub context: Option<String>,
    /// Namespace used.
    pub namespace: Option<String>,
    /// Pod chosen.
    pub pod: Option<String>,
    /// Container chosen.
    pub container: Option<String>,
    /// The exact remote argv.
    pub argv: Option<Vec<String>>,
    /// The Kubernetes user, when the server said (SelfSubjectReview).
    pub user: Option<String>,
    /// The Job of a Job-mode run (its run name), if any.
    pub job: Option<String>,
    /// Job mode, a protected migrate: the read-only Job that read the plan first.
    pub plan_job: Option<String>,
    /// Job mode with `--dry-run`: the Job that would be created, as the API takes it.
    pub job_manifest: Option<serde_json::Value>,
    /// The Lease held while the command ran, if any.
    pub lock: Option<String>,
    /// Why the lock was lost while the command ran, if it was.
    pub lock_lost: Option<String>,
    /// The lock was kept after the run (outcome unknown, or handed to the Job).
    pub lock_kept: bool,
    /// Whether the environment counted as protected.
    pub protected: bool,
    /// Protection marks that could not be checked (the user may not read them), with why.
    pub protection_unchecked: Vec<String>,
    /// Wall-clock time of the whole run in milliseconds.
    pub duration_ms: u64,
    /// Migrations applied or reverted (migrate, rollback), every migration (status), or
    /// what was missing or ahead when the wait ended (wait).
    pub migrations: Vec<Migration>,
    /// Database sessions of other migrate or rollback runs still there (migrate, rollback,
    /// status).
    pub other_runs: Vec<crate::ecto_output::OtherRun>,
    /// Indexes PostgreSQL marks invalid (status).
    pub invalid_indexes: Vec<crate::ecto_output::InvalidIndex>,
    /// Repos left out because their adapter is not PostgreSQL (status, plan).
    #[serde(default)]
    pub skipped_repos: Vec<crate::ecto_output::SkippedRepo>,
    /// Features the release's ecto_sql is too old for, which the run did without.
    #[serde(default)]
    pub older_ecto_sql: Vec<crate::ecto_output::OlderEctoSql>,
    /// Locks the run's sessions waited on for 3 s or more, and who held them.
    pub lock_waits: Vec<crate::ecto_output::LockWait>,
    /// The migration cancelled by `--lock-timeout` or `--statement-timeout`, if one was.
    pub timed_out: Option<crate::ecto_output::TimedOut>,
    /// Migrate with prefixes: each tenant's outcome, in run order (canaries first).
    pub tenants: Vec<Tenant>,
    /// Sessions holding Ecto's migration lock when the status was read (status command).
    pub migration_locks: Vec<crate::ecto_output::LockHolder>,
    /// Candidate pods (pods command).
    pub pods: Vec<PodReport>,
    /// Job-mode runs (runs command).
    pub runs: Vec<crate::job::RunInfo>,
    /// The init container (or with `--patch` the patch) to add to the Deployment (gate
    /// command).
    pub gate: Option<serde_json::Value>,
    /// The checks, in order (doctor command).
    pub checks: Vec<crate::doctor::Check>,
    /// The plan read (plan command, and a migrate in a protected environment).
    pub plan: Option<crate::migration_plan::MigrationPlan>,
    /// Destructive migrations a protected migrate allowed (`--allow-destructive` or typed).
    pub destructive_allowed: Vec<i64>,
    /// The migration files checked, each with its findings (lint command).
    pub files: Vec<crate::migration_plan::lint::LintedFile>,
}

/// The one document of several environments run in one command (`-e a,b` or a group).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The subcommand.
    pub command: String,
    /// `success` (all), `partial` (some), else the first failure's outcome (none).
    pub outcome: String,
    /// kmigrate's exit code.
    pub exit_code: u8,
    /// Whose code `exit_code` is: `kmigrate`, or `remote` when it is an environment's
    /// remote failure (none succeeded, and the first failure was the remote command's).
    pub exit_code_source: String,
    /// The error that stopped the group before any environment ran, if one did.
    pub error: Option<String>,
    /// Wall-clock time of the whole command in milliseconds.
    pub duration_ms: u64,
    /// Each environment, in the order run.
    pub environments: Vec<EnvReport>,
}

/// One environment of a group: its name, whether it ran, and its own report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EnvReport {
    /// The environment's name in `kmigrate.toml`.
    pub env: String,
    /// Whether its command ran (false: an earlier one failed, fail-fast).
    pub ran: bool,
    /// Its report, as a single run's.
    #[serde(flatten)]
    pub report: Report,
}

/// One migration in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Migration {
    /// The repo module, when known.
    pub repo: Option<String>,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The migration version.
    pub version: i64,
    /// The migration's name (from its file name).
    pub name: Option<String>,
    /// `up` or `down`: the direction run, or for status the current state.
    pub direction: Direction,
    /// For status: `up`, `down`, or `applied-not-in-image` (in the database, but this
    /// image has no file for it).
    pub state: Option<String>,
    /// For status: pending, but older than this version already applied in its repo and
    /// prefix (it runs out of order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_order_after: Option<i64>,
}

impl From<&StatusRow> for Migration {
    fn from(r: &StatusRow) -> Self {
        let state = if r.not_in_image() {
            "applied-not-in-image"
        } else if r.status == Direction::Up {
            "up"
        } else {
            "down"
        };
        Self {
            repo: Some(r.repo.clone()),
            prefix: r.prefix.clone(),
            version: r.version,
            name: Some(r.name.clone()),
            direction: r.status,
            state: Some(state.to_owned()),
            out_of_order_after: None,
        }
    }
}

/// How one tenant's part of a migrate ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TenantOutcome {
    /// Nothing was pending: skipped.
    UpToDate,
    /// Every pending migration was applied.
    Applied,
    /// A migration failed (those before it stay applied).
    Failed,
    /// The run stopped before it (fail-fast, or a canary failed).
    NotRun,
    /// A name `--prefixes-from` returned that is not a valid prefix: not run.
    Invalid,
    /// The run ended without saying (the connection was lost, or the snippet stopped).
    Unknown,
}

impl TenantOutcome {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            TenantOutcome::UpToDate => "up to date",
            TenantOutcome::Applied => "applied",
            TenantOutcome::Failed => "failed",
            TenantOutcome::NotRun => "not run",
            TenantOutcome::Invalid => "invalid",
            TenantOutcome::Unknown => "unknown",
        }
    }
}

/// One tenant (schema prefix) of a migrate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tenant {
    /// The prefix; for `invalid`, the name as the snippet showed it (Elixir's `inspect`).
    pub prefix: String,
    /// How its part ended.
    pub outcome: TenantOutcome,
    /// Migrations applied in it by this run (listed in `migrations` with this prefix).
    pub migrations: u64,
    /// The failed migration's version, when known.
    pub failed_version: Option<i64>,
    /// Why it failed or was not run.
    pub error: Option<String>,
}

/// One candidate pod in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PodReport {
    /// Pod name.
    pub name: String,
    /// Pod phase.
    pub phase: String,
    /// Ready condition.
    pub ready: bool,
    /// The pod kmigrate would use.
    pub chosen: bool,
    /// Why not, for the others.
    pub reason: Option<String>,
    /// Owning ReplicaSet.
    pub replicaset: Option<String>,
    /// The ReplicaSet's deployment revision, when read.
    pub revision: Option<u64>,
}

impl Report {
    /// A report for `command`, to be filled in as the run goes.
    pub fn new(command: &str) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            command: command.to_owned(),
            exit_code_source: crate::error::CodeSource::Kmigrate.as_str().to_owned(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeSet;

    /// The top-level keys of a document as it is serialised.
    fn keys(document: impl Serialize) -> BTreeSet<String> {
        let value = serde_json::to_value(document).expect("a document serialises");
        value
            .as_object()
            .expect("a document is an object")
            .keys()
            .cloned()
            .collect()
    }

    /// The fields a table of docs/reference/json.md names under `heading`: the backquoted
    /// names in the first cell of each row, in order.
    fn documented(heading: &str) -> Vec<String> {
        let reference = include_str!("../docs/reference/json.md");
        let section = reference
            .split(&format!("\n{heading}\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_else(|| panic!("docs/reference/json.md has a {heading:?} section"));
        section
            .lines()
            .filter(|line| line.starts_with("| `"))
            .filter_map(|row| row.split('|').nth(1))
            .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_owned))
            .collect()
    }

    /// The reference is the schema's documentation: its tables name every field of both
    /// documents, each once, and no field the documents do not have.
    #[test]
    fn every_field_is_documented_in_the_reference() {
        let one_run = keys(Report::new("pods"));
        let mut several = keys(GroupReport::default());
        // An environment's own fields; the rest of it is one run's document, flattened.
        several.extend(keys(EnvReport::default()).difference(&one_run).cloned());
        for (heading, fields) in [
            ("## One run", one_run),
            ("## Several environments", several),
        ] {
            let named = documented(heading);
            let unique: BTreeSet<String> = named.iter().cloned().collect();
            assert_eq!(
                unique.len(),
                named.len(),
                "docs/reference/json.md's {heading:?} table names a field twice: {named:?}"
            );
            let missing: Vec<&String> = fields.difference(&unique).collect();
            let unknown: Vec<&String> = unique.difference(&fields).collect();
            assert!(
                missing.is_empty() && unknown.is_empty(),
                "docs/reference/json.md's {heading:?} table lacks {missing:?}, and names {unknown:?}, which the document does not have"
            );
        }
    }
}
