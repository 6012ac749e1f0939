//! How Ecto's output is read: its migration log lines and the tagged lines our snippets print.

mod budget;
pub use budget::MAX_LIST_BYTES;
pub mod failure;
pub(crate) mod findings;
pub mod plan_lines;

use serde::Serialize;

pub use findings::{Findings, RanMigration, TenantSeen, WaitRound};

use crate::ecto_snippet::FILE_NOT_FOUND;
use crate::protocol::{
    BUSY_TAG, CHANGED_TAG, END_TAG, HEARTBEAT_TAG, INVALID_INDEX_TAG, INVALID_TAG, LOCKED_TAG,
    OLDER_TAG, PLAN_TAG, PROBE_TAG, RAN_TAG, REFUSED_TAG, RUNNING_TAG, SESSION_TAG, SKIPPED_TAG,
    STATUS_TAG, TENANT_TAG, TIMEOUT_TAG, WAIT_TAG, WAITING_TAG, fields,
};

/// Which way a migration ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Applied.
    Up,
    /// Reverted.
    Down,
}

/// Something worth knowing that a remote output line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `== Running 20240101120000 MyApp.Repo.Migrations.CreatePosts.change/0 forward`
    Running {
        /// The migration version.
        version: i64,
        /// The migration module, without the function.
        module: String,
        /// `forward` is up, `backward` is down.
        direction: Direction,
    },
    /// `== Migrated 20240101120000 in 0.1s`
    Migrated {
        /// The migration version.
        version: i64,
    },
    /// `Migrations already up` (or `down`): nothing to run.
    NothingToDo,
    /// `kmigrate:status\t<repo>\t<prefix>\t<up|down>\t<version>\t<name>`
    Status(StatusRow),
    /// `kmigrate:locked\t<repo>\t<prefix>\t<pid>\t<application>\t<since>`
    Locked(LockHolder),
    /// `kmigrate:plan\t<repo>\t<prefix>\t<version>\t<name>`: about to run.
    Plan {
        /// The repo module.
        repo: String,
        /// The schema prefix, if any.
        prefix: Option<String>,
        /// The migration version.
        version: i64,
        /// The migration name.
        name: String,
    },
    /// `kmigrate:ran\t<repo>\t<prefix>\t<v1,v2,...>`
    Ran {
        /// The repo module.
        repo: String,
        /// The schema prefix, if any.
        prefix: Option<String>,
        /// The versions Ecto reported as run.
        versions: Vec<i64>,
    },
    /// `kmigrate:refused\t<reason>`: the snippet ran nothing, for this reason.
    Refused(String),
    /// `kmigrate:changed\t<v1,v2,...>`: a rollback ran nothing, because of the versions it
    /// was to revert only these are applied now.
    Changed(String),
    /// `kmigrate:end`: the snippet reached its last line.
    End,
    /// `kmigrate:running\t...`: a session of another migrate or rollback run.
    OtherRun(OtherRun),
    /// `kmigrate:busy\t<reason>`: nothing ran, another run is still executing.
    Busy(String),
    /// `kmigrate:session\t...`, or a connection error of PgBouncer's "unsupported startup
    /// parameter": the run's sessions do not carry its parameters.
    Session(SessionProblem),
    /// `kmigrate:invalidindex\t...`: an index PostgreSQL marks invalid.
    InvalidIndex(InvalidIndex),
    /// `kmigrate:waiting\t...`: a session of this run waits for a lock.
    Waiting(LockWait),
    /// `kmigrate:heartbeat\t<seconds>`: the migration still runs.
    Heartbeat {
        /// Seconds since the migrations started.
        seconds: u64,
    },
    /// `kmigrate:timeout\t...`: a migration was cancelled by the run's timeout.
    TimedOut(TimedOut),
    /// `kmigrate:wait\t<state>\t<seconds>`: the end of a round of the wait snippet; the
    /// `Status` events since the previous round are what is missing or ahead.
    Wait {
        /// Still waiting, or how the wait ended.
        state: WaitState,
        /// Seconds waited so far.
        waited_s: u64,
    },
    /// `kmigrate:tenant\t<prefix>\t<state>...`: a tenant's part of the run.
    Tenant {
        /// The tenant's prefix.
        prefix: String,
        /// What the line says of it.
        state: TenantState,
    },
    /// `kmigrate:invalid\t<name>`: a name from `--prefixes-from` that is not a prefix.
    InvalidTenant(String),
    /// `kmigrate:probe\t<what>\t<fields...>`: one finding of `doctor`'s probe.
    Probe(Vec<String>),
    /// A line of the plan snippet, or a migrate held to a plan that refused.
    MigrationPlan(plan_lines::PlanLine),
    /// DBConnection's log of a connection PostgreSQL refused for a connection limit.
    ConnectionRefused(Refusal),
    /// `kmigrate:older\t<feature>\t<ecto_sql version>\t<floor>`: the run does without a
    /// feature its ecto_sql is too old for.
    Older(OlderEctoSql),
    /// `kmigrate:skipped\t<repo>\t<adapter>`: a repo that is not PostgreSQL, left out.
    Skipped(SkippedRepo),
}

/// A connection PostgreSQL refused for a connection limit (SQLSTATE 53300), as DBConnection
/// logs it before it tries again: `Postgrex.Protocol (#PID<0.215.0>) failed to connect: **
/// (Postgrex.Error) FATAL 53300 (too_many_connections) too many connections for role "app"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Which limit refused it.
    pub limit: ConnectionLimit,
    /// The server's message.
    pub message: String,
}

/// The limits behind SQLSTATE 53300 (PostgreSQL's postinit.c and postmaster.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionLimit {
    /// `too many connections for role "x"`: the role's `CONNECTION LIMIT`.
    Role(String),
    /// `too many connections for database "x"`: the database's `CONNECTION LIMIT`.
    Database(String),
    /// `sorry, too many clients already`, or the last slots reserved for superusers or
    /// `pg_use_reserved_connections`: the server's `max_connections`.
    Server,
    /// A message in another language (`lc_messages`): the code alone says a limit.
    Unnamed,
}

impl Refusal {
    /// Reads DBConnection's log line of a refused connection; None for any other line.
    pub fn parse(line: &str) -> Option<Refusal> {
        // Postgrex.Error's message: severity, SQLSTATE, its name, the server's text.
        let (_, rest) = line.split_once("FATAL 53300 ")?;
        let message = rest
            .strip_prefix("(too_many_connections) ")
            .unwrap_or(rest)
            .trim();
        let named = |what: &str| {
            message
                .strip_prefix(what)
                .map(|name| name.trim_matches('"').to_owned())
        };
        let limit = if let Some(role) = named("too many connections for role ") {
            ConnectionLimit::Role(role)
        } else if let Some(db) = named("too many connections for database ") {
            ConnectionLimit::Database(db)
        } else if message.starts_with("sorry, too many clients already")
            || message.starts_with("remaining connection slots are reserved")
        {
            ConnectionLimit::Server
        } else {
            ConnectionLimit::Unnamed
        };
        Some(Refusal {
            limit,
            message: message.to_owned(),
        })
    }

    /// For people: which limit, and how it is raised.
    pub fn describe(&self) -> String {
        let quoted = &self.message;
        match &self.limit {
            ConnectionLimit::Role(role) => format!(
                "the role's CONNECTION LIMIT refused a connection ({quoted}); raise it: ALTER ROLE {} CONNECTION LIMIT n",
                ident(role)
            ),
            ConnectionLimit::Database(db) => format!(
                "the database's CONNECTION LIMIT refused a connection ({quoted}); raise it: ALTER DATABASE {} CONNECTION LIMIT n",
                ident(db)
            ),
            ConnectionLimit::Server => format!(
                "the server's max_connections refused a connection ({quoted}); raise max_connections, or free connections (other apps' pools)"
            ),
            ConnectionLimit::Unnamed => format!(
                "PostgreSQL refused a connection for a connection limit (SQLSTATE 53300: {quoted}): the role's or the database's CONNECTION LIMIT, or max_connections"
            ),
        }
    }
}

/// A feature the release's ecto_sql is too old for (src/ecto_snippet/versions.rs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct OlderEctoSql {
    /// The feature's name (`prefix_lock`).
    pub feature: String,
    /// The release's ecto_sql version.
    pub ecto_sql: String,
    /// The version the feature came with.
    pub needs: String,
}

impl OlderEctoSql {
    /// For people: what the run does without it.
    pub fn describe(&self) -> String {
        match crate::ecto_snippet::floor(&self.feature) {
            Some(f) => f.describe(&self.ecto_sql),
            None => format!(
                "ecto_sql {} is older than {}, which {} needs",
                self.ecto_sql, self.needs, self.feature
            ),
        }
    }
}

/// A name as SQL writes an identifier: quoted unless plain lower-case.
fn ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A repo whose adapter is not PostgreSQL: kmigrate reads and runs PostgreSQL repos only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct SkippedRepo {
    /// The repo module.
    pub repo: String,
    /// Its `__adapter__()`, e.g. `Ecto.Adapters.SQLite3`.
    pub adapter: String,
}

impl SkippedRepo {
    /// For people: which repo, and why it was left out.
    pub fn describe(&self) -> String {
        format!(
            "{} uses {}, not Ecto.Adapters.Postgres: left out (kmigrate reads and runs PostgreSQL repos only)",
            self.repo, self.adapter
        )
    }
}

/// A parameter of the run's sessions that does not reach PostgreSQL (PgBouncer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionProblem {
    /// The repo, when the snippet named it (a driver's log line does not).
    pub repo: Option<String>,
    /// The parameter, e.g. `lock_timeout` (`options` for libpq's `PGOPTIONS`).
    pub parameter: String,
    /// Refused at connection, or taken and not applied: what was asked and what is in
    /// force (in `pg_settings` units: milliseconds for the timeouts).
    pub unset: Option<(String, String)>,
}

/// What a `kmigrate:tenant` line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantState {
    /// Before anything runs: this many migrations to apply (0: already up).
    Pending(u64),
    /// Every planned migration of the tenant was applied.
    Done,
    /// A migration of the tenant failed.
    Failed {
        /// The migration that failed, when the failure came in one.
        version: Option<i64>,
        /// The error, on one line.
        error: String,
    },
    /// The run stopped before this tenant.
    NotRun,
}

/// A database session of another kmigrate migrate or rollback, seen in `pg_stat_activity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OtherRun {
    /// The repo whose database it is in.
    pub repo: String,
    /// Its backend pid.
    pub pid: i64,
    /// Its `application_name` (`kmigrate-migrate-<run>`).
    pub application: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// Seconds since its current (or last) statement started.
    pub seconds: Option<u64>,
    /// The start of that statement.
    pub query: String,
}

/// An index PostgreSQL marks invalid (`pg_index.indisvalid` false): a concurrent build that
/// failed or was cancelled, which `IF NOT EXISTS` then keeps for ever, or one still running.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct InvalidIndex {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The PostgreSQL schema the index is in, as SQL writes it (quoted where it must be).
    pub schema: String,
    /// The index.
    pub index: String,
    /// Its table.
    pub table: String,
}

impl InvalidIndex {
    /// For people: which index, and what to do.
    pub fn describe(&self) -> String {
        format!(
            "index {schema}.{index} on {table} ({repo}) is invalid: a CREATE INDEX CONCURRENTLY \
             that failed or was cancelled left it (or one still runs). PostgreSQL maintains it \
             on every write and never uses it, and IF NOT EXISTS keeps it: drop it with \
             `{drop}`, then migrate again",
            schema = self.schema,
            index = quoted(&self.index),
            table = self.table,
            repo = self.repo,
            drop = self.drop_statement(),
        )
    }

    /// The statement that removes it: `DROP INDEX CONCURRENTLY schema.index;`.
    pub fn drop_statement(&self) -> String {
        format!(
            "DROP INDEX CONCURRENTLY {}.{};",
            self.schema,
            quoted(&self.index)
        )
    }
}

/// An SQL identifier as it must be written: quoted unless plain lower case.
fn quoted(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A session of this run waiting for a lock, and the session holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LockWait {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// How long the statement has waited, in seconds.
    pub waited_s: u64,
    /// The locked object: a table, or the lock type.
    pub lock: String,
    /// The lock mode asked for (`AccessExclusiveLock`).
    pub mode: String,
    /// The holder's backend pid.
    pub holder_pid: i64,
    /// The holder's `application_name`.
    pub holder_application: String,
    /// The holder's client address, or `local`.
    pub holder_client: String,
    /// The holder's state (`idle in transaction`).
    pub holder_state: String,
    /// How long the holder has been in that state, in seconds.
    pub holder_state_s: Option<u64>,
    /// The start of the holder's current or last statement.
    pub holder_query: String,
}

impl OtherRun {
    /// For people: which session, doing what, for how long.
    pub fn describe(&self) -> String {
        let since = self
            .seconds
            .map(|s| format!(" for {} s", s))
            .unwrap_or_default();
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!(": {}", self.query)
        };
        format!(
            "pid {} {} ({}{since}){query}",
            self.pid, self.application, self.state
        )
    }
}

impl LockWait {
    /// For people: what waits, on what, held by whom, doing what.
    pub fn describe(&self) -> String {
        let held = match self.holder_state_s {
            Some(s) if s >= 60 => format!("{} for {} min", self.holder_state, s / 60),
            Some(s) => format!("{} for {s} s", self.holder_state),
            None => self.holder_state.clone(),
        };
        let app = if self.holder_application.is_empty() {
            "no application_name".to_owned()
        } else {
            format!("application {:?}", self.holder_application)
        };
        let query = if self.holder_query.is_empty() {
            String::new()
        } else {
            format!("; its last statement: {}", self.holder_query)
        };
        format!(
            "waiting {} s for {} on {} ({}), held by pid {} ({app}, client {}, {held}){query}",
            self.waited_s, self.mode, self.lock, self.repo, self.holder_pid, self.holder_client,
        )
    }
}

/// Which of the run's timeouts cancelled a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutKind {
    /// `lock_timeout`.
    Lock,
    /// `statement_timeout`.
    Statement,
}

/// A migration cancelled by the run's lock or statement timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TimedOut {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The migration version.
    pub version: i64,
    /// Which timeout.
    pub kind: TimeoutKind,
    /// Whether the migration ran in a transaction (then nothing of it was committed).
    pub in_transaction: bool,
}

/// Where the wait snippet is, at the end of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitState {
    /// Migrations are missing; it goes on polling.
    Waiting,
    /// Nothing is missing: it exits 0.
    Ready,
    /// The deadline passed with migrations missing: it exits with the pending code.
    Deadline,
}

/// A session holding Ecto's migration lock: a migration is running.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct LockHolder {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The PostgreSQL backend's pid.
    pub pid: i64,
    /// Its `application_name`.
    pub application: String,
    /// When its transaction started (database time).
    pub since: String,
}

/// One migration's state as `Ecto.Migrator.migrations/1` reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct StatusRow {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// `up` when applied.
    pub status: Direction,
    /// The migration version.
    pub version: i64,
    /// The migration name (`** FILE NOT FOUND **` when applied but missing).
    pub name: String,
}

/// Read one line of remote output (without its line ending).
pub fn parse_line(raw: &[u8]) -> Option<Event> {
    let text = String::from_utf8_lossy(raw);
    let trimmed = text.trim_end_matches(['\r', '\n']);
    // Only Logger's lines are coloured. Our tagged lines carry names as the files spell
    // them: a name with an escape sequence must hash as the pod hashed it (it is escaped
    // where it is shown).
    let line = if trimmed.starts_with("kmigrate:") {
        std::borrow::Cow::Borrowed(trimmed)
    } else {
        strip_ansi(trimmed)
    };
    if let Some(rest) = tagged(&line, STATUS_TAG) {
        return parse_status(rest).map(Event::Status);
    }
    if let Some(rest) = tagged(&line, RAN_TAG) {
        let mut parts = rest.splitn(fields(RAN_TAG), '\t');
        let (repo, prefix, list) = (parts.next()?, parts.next()?, parts.next()?);
        let versions = list
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<i64>, _>>()
            .ok()?;
        return Some(Event::Ran {
            repo: repo.to_owned(),
            prefix: prefix_of(prefix),
            versions,
        });
    }
    if let Some(rest) = tagged(&line, PLAN_TAG) {
        let mut parts = rest.splitn(fields(PLAN_TAG), '\t');
        let (repo, prefix) = (parts.next()?, parts.next()?);
        return Some(Event::Plan {
            repo: repo.to_owned(),
            prefix: prefix_of(prefix),
            version: parts.next()?.parse().ok()?,
            name: parts.next()?.to_owned(),
        });
    }
    if let Some(rest) = tagged(&line, LOCKED_TAG) {
        let mut parts = rest.splitn(fields(LOCKED_TAG), '\t');
        let (repo, prefix) = (parts.next()?, parts.next()?);
        return Some(Event::Locked(LockHolder {
            repo: repo.to_owned(),
            prefix: prefix_of(prefix),
            pid: parts.next()?.parse().ok()?,
            application: parts.next()?.to_owned(),
            since: parts.next().unwrap_or_default().to_owned(),
        }));
    }
    if line == END_TAG {
        return Some(Event::End);
    }
    if let Some(rest) = tagged(&line, REFUSED_TAG) {
        return Some(Event::Refused(rest.to_owned()));
    }
    if let Some(rest) = tagged(&line, CHANGED_TAG) {
        return Some(Event::Changed(rest.to_owned()));
    }
    if let Some(rest) = tagged(&line, BUSY_TAG) {
        return Some(Event::Busy(rest.to_owned()));
    }
    if let Some(rest) = tagged(&line, HEARTBEAT_TAG) {
        return Some(Event::Heartbeat {
            seconds: rest.trim().parse().ok()?,
        });
    }
    if let Some(rest) = tagged(&line, RUNNING_TAG) {
        let mut parts = rest.splitn(fields(RUNNING_TAG), '\t');
        return Some(Event::OtherRun(OtherRun {
            repo: parts.next()?.to_owned(),
            pid: parts.next()?.parse().ok()?,
            application: parts.next()?.to_owned(),
            state: parts.next()?.to_owned(),
            seconds: parts.next()?.parse().ok(),
            query: parts.next().unwrap_or_default().to_owned(),
        }));
    }
    if let Some(rest) = tagged(&line, SESSION_TAG) {
        let mut parts = rest.splitn(fields(SESSION_TAG), '\t');
        let (repo, kind, parameter) = (parts.next()?, parts.next()?, parts.next()?);
        let unset = match kind {
            "refused" => None,
            "unset" => Some((parts.next()?.to_owned(), parts.next()?.to_owned())),
            _ => return None,
        };
        return Some(Event::Session(SessionProblem {
            repo: Some(repo.to_owned()),
            parameter: parameter.to_owned(),
            unset,
        }));
    }
    if let Some(rest) = tagged(&line, INVALID_INDEX_TAG) {
        let mut parts = rest.splitn(fields(INVALID_INDEX_TAG), '\t');
        return Some(Event::InvalidIndex(InvalidIndex {
            repo: parts.next()?.to_owned(),
            prefix: prefix_of(parts.next()?),
            schema: parts.next()?.to_owned(),
            index: parts.next()?.to_owned(),
            table: parts.next()?.to_owned(),
        }));
    }
    if let Some(rest) = tagged(&line, WAITING_TAG) {
        let mut parts = rest.splitn(fields(WAITING_TAG), '\t');
        let (repo, prefix) = (parts.next()?, parts.next()?);
        return Some(Event::Waiting(LockWait {
            repo: repo.to_owned(),
            prefix: prefix_of(prefix),
            waited_s: parts.next()?.parse().ok()?,
            lock: parts.next()?.to_owned(),
            mode: parts.next()?.to_owned(),
            holder_pid: parts.next()?.parse().ok()?,
            holder_application: parts.next()?.to_owned(),
            holder_client: parts.next()?.to_owned(),
            holder_state: parts.next()?.to_owned(),
            holder_state_s: parts.next()?.parse().ok(),
            holder_query: parts.next().unwrap_or_default().to_owned(),
        }));
    }
    if let Some(rest) = tagged(&line, TIMEOUT_TAG) {
        let mut parts = rest.splitn(fields(TIMEOUT_TAG), '\t');
        let (repo, prefix) = (parts.next()?, parts.next()?);
        return Some(Event::TimedOut(TimedOut {
            repo: repo.to_owned(),
            prefix: prefix_of(prefix),
            version: parts.next()?.parse().ok()?,
            kind: match parts.next()? {
                "lock" => TimeoutKind::Lock,
                "statement" => TimeoutKind::Statement,
                _ => return None,
            },
            in_transaction: parts.next()? == "tx",
        }));
    }
    if let Some(l) = plan_lines::parse(&line) {
        return Some(Event::MigrationPlan(l));
    }
    if let Some(rest) = tagged(&line, OLDER_TAG) {
        let mut parts = rest.splitn(fields(OLDER_TAG), '\t');
        return Some(Event::Older(OlderEctoSql {
            feature: parts.next()?.to_owned(),
            ecto_sql: parts.next()?.to_owned(),
            needs: parts.next()?.to_owned(),
        }));
    }
    if let Some(rest) = tagged(&line, SKIPPED_TAG) {
        let mut parts = rest.splitn(fields(SKIPPED_TAG), '\t');
        return Some(Event::Skipped(SkippedRepo {
            repo: parts.next()?.to_owned(),
            adapter: parts.next()?.to_owned(),
        }));
    }
    if let Some(rest) = tagged(&line, PROBE_TAG) {
        // A repo's start error may name its URL, password included (Ecto.InvalidURLError).
        return Some(Event::Probe(
            rest.split('\t')
                .map(crate::text::without_url_passwords)
                .collect(),
        ));
    }
    if let Some(rest) = tagged(&line, WAIT_TAG) {
        let (state, waited) = rest.split_once('\t')?;
        let state = match state {
            "waiting" => WaitState::Waiting,
            "ready" => WaitState::Ready,
            "deadline" => WaitState::Deadline,
            _ => return None,
        };
        return Some(Event::Wait {
            state,
            waited_s: waited.parse().ok()?,
        });
    }
    if let Some(rest) = tagged(&line, TENANT_TAG) {
        return parse_tenant(rest);
    }
    if let Some(rest) = tagged(&line, INVALID_TAG) {
        return Some(Event::InvalidTenant(rest.to_owned()));
    }
    // PgBouncer's refusal, as Postgrex logs each failed connection ("failed to connect: **
    // (Postgrex.Error) FATAL 08P01 (protocol_violation) unsupported startup parameter:
    // lock_timeout") while the run's queries wait for one, or as libpq says it.
    if let Some(idx) = line.find(STARTUP_REFUSED) {
        let parameter = line[idx + STARTUP_REFUSED.len()..]
            .trim_start_matches(':')
            .split_whitespace()
            .next()?;
        return Some(Event::Session(SessionProblem {
            repo: None,
            parameter: parameter.to_owned(),
            unset: None,
        }));
    }
    if let Some(idx) = line.find("== Running ") {
        let mut words = line[idx + "== Running ".len()..].split_whitespace();
        let version = words.next()?.parse().ok()?;
        let function = words.next()?;
        let (module, operation) = function.rsplit_once('.')?;
        // Recent ecto_sql prints a direction only for change/0; older versions print
        // `forward` for up/0 and down/0 too, so the operation decides first.
        let direction = match (operation, words.next()) {
            ("up/0", _) => Direction::Up,
            ("down/0", _) => Direction::Down,
            ("change/0", Some("forward")) => Direction::Up,
            ("change/0", Some("backward")) => Direction::Down,
            _ => return None,
        };
        return Some(Event::Running {
            version,
            module: module.to_owned(),
            direction,
        });
    }
    if let Some(idx) = line.find("== Migrated ") {
        let mut words = line[idx + "== Migrated ".len()..].split_whitespace();
        let version = words.next()?.parse().ok()?;
        return (words.next() == Some("in")).then_some(Event::Migrated { version });
    }
    let trimmed = line.trim_end();
    if trimmed.ends_with("Migrations already up") || trimmed.ends_with("Migrations already down") {
        return Some(Event::NothingToDo);
    }
    Refusal::parse(&line).map(Event::ConnectionRefused)
}

/// How PgBouncer refuses a startup parameter it neither tracks nor ignores.
const STARTUP_REFUSED: &str = "unsupported startup parameter";

/// The rest of a line that starts with `tag` and a tab.
fn tagged<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.strip_prefix(tag)?.strip_prefix('\t')
}

fn prefix_of(field: &str) -> Option<String> {
    (!field.is_empty()).then(|| field.to_owned())
}

fn parse_tenant(rest: &str) -> Option<Event> {
    let mut parts = rest.splitn(fields(TENANT_TAG), '\t');
    let prefix = parts.next().filter(|p| !p.is_empty())?.to_owned();
    let state = match parts.next()? {
        "pending" => TenantState::Pending(parts.next()?.parse().ok()?),
        "done" => TenantState::Done,
        "not-run" => TenantState::NotRun,
        "failed" => TenantState::Failed {
            version: parts.next()?.parse().ok(),
            error: parts.next().unwrap_or_default().to_owned(),
        },
        _ => return None,
    };
    Some(Event::Tenant { prefix, state })
}

fn parse_status(rest: &str) -> Option<StatusRow> {
    let mut parts = rest.splitn(fields(STATUS_TAG), '\t');
    let repo = parts.next()?.to_owned();
    let prefix = prefix_of(parts.next()?);
    let status = match parts.next()? {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return None,
    };
    let version = parts.next()?.parse().ok()?;
    let name = parts.next()?.to_owned();
    Some(StatusRow {
        repo,
        prefix,
        status,
        version,
        name,
    })
}

impl StatusRow {
    /// Applied in the database, but this image has no file for it (`migrations/3` names
    /// such versions `** FILE NOT FOUND **`): the database is ahead of the image.
    pub fn not_in_image(&self) -> bool {
        self.status == Direction::Up && self.name == FILE_NOT_FOUND
    }
}

/// Remove ANSI escape sequences (Logger colours) so matching sees plain text.
fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out.into()
}

/// The rows of each repo and prefix, in the order the repos first appear.
pub fn by_repo<'a>(rows: impl IntoIterator<Item = &'a StatusRow>) -> Vec<Vec<&'a StatusRow>> {
    let mut groups: Vec<Vec<&StatusRow>> = Vec::new();
    for r in rows {
        match groups
            .iter_mut()
            .find(|g| g[0].repo == r.repo && g[0].prefix == r.prefix)
        {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

impl StatusRow {
    /// The row as a plan shows it: `version name (repo)`, with the prefix when there is one.
    pub fn plan_line(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{} {} ({}, prefix {p})", self.version, self.name, self.repo),
            None => format!("{} {} ({})", self.version, self.name, self.repo),
        }
    }
}

/// Pending migrations per the status rows, oldest first.
pub fn pending<'a>(rows: impl IntoIterator<Item = &'a StatusRow>) -> Vec<&'a StatusRow> {
    let mut out: Vec<&StatusRow> = rows
        .into_iter()
        .filter(|r| r.status == Direction::Down)
        .collect();
    out.sort_by_key(|r| r.version);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snippet's `kmigrate:session` lines and PgBouncer's refusal as a driver says it
    /// (Postgrex's log line, libpq's error) are one finding per parameter.
    #[test]
    fn session_parameters_that_do_not_reach_postgresql_are_read_once_each() {
        let lines: [&[u8]; 5] = [
            b"kmigrate:session\tDemo.Repo\tunset\tlock_timeout\t5000\t0\n",
            b"kmigrate:session\tDemo.Repo\trefused\toptions\n",
            b"12:00:01.123 [error] Postgrex.Protocol (#PID<0.215.0>) failed to connect: ** (Postgrex.Error) \
              FATAL 08P01 (protocol_violation) unsupported startup parameter: lock_timeout",
            b"12:00:02.456 [error] Postgrex.Protocol (#PID<0.216.0>) failed to connect: ** (Postgrex.Error) \
              FATAL 08P01 (protocol_violation) unsupported startup parameter: lock_timeout",
            b"** (DBConnection.ConnectionError) psql failed: connection to server at \"127.0.0.1\", port 6432 failed: \
              FATAL:  unsupported startup parameter: options",
        ];
        let mut f = Findings::default();
        for line in lines {
            f.add(parse_line(line).expect("read"));
        }
        let p = |repo: Option<&str>, parameter: &str, unset: Option<(&str, &str)>| SessionProblem {
            repo: repo.map(str::to_owned),
            parameter: parameter.to_owned(),
            unset: unset.map(|(a, b)| (a.to_owned(), b.to_owned())),
        };
        assert_eq!(
            f.session_problems(),
            [
                p(Some("Demo.Repo"), "lock_timeout", Some(("5000", "0"))),
                p(Some("Demo.Repo"), "options", None),
                p(None, "lock_timeout", None),
            ]
        );
        assert_eq!(parse_line(b"kmigrate:session\tDemo.Repo\tlost\tx"), None);
    }

    /// An invalid index is read with its repo and prefix, kept once, and said with the
    /// statement that drops it (names quoted where SQL needs it).
    #[test]
    fn an_invalid_index_is_read_and_said_with_its_fix() {
        let line = b"kmigrate:invalidindex\tDemo.Repo\t\tpublic\tposts_Title_index\tposts\n";
        let Some(Event::InvalidIndex(i)) = parse_line(line) else {
            panic!("not read");
        };
        assert_eq!(
            (i.repo.as_str(), i.prefix.as_deref(), i.index.as_str()),
            ("Demo.Repo", None, "posts_Title_index")
        );
        assert!(
            i.describe()
                .contains("`DROP INDEX CONCURRENTLY public.\"posts_Title_index\";`"),
            "{}",
            i.describe()
        );
        let mut f = Findings::default();
        f.add(Event::InvalidIndex(i.clone()));
        f.add(Event::InvalidIndex(i.clone()));
        assert_eq!(f.invalid_indexes(), [i]);
    }

    #[test]
    fn running_lines_with_logger_prefix() {
        let line = b"14:39:01.123 [info] == Running 20240101120000 Demo.Repo.Migrations.CreatePosts.change/0 forward";
        assert_eq!(
            parse_line(line),
            Some(Event::Running {
                version: 20240101120000,
                module: "Demo.Repo.Migrations.CreatePosts".into(),
                direction: Direction::Up
            })
        );
        let back = b"== Running 20240102120000 Demo.Repo.Migrations.AddIndex.down/0 backward\r";
        assert!(matches!(
            parse_line(back),
            Some(Event::Running {
                direction: Direction::Down,
                ..
            })
        ));
    }

    #[test]
    fn a_probe_never_carries_a_url_password() {
        let line = b"kmigrate:probe\tdb\tDemo.Repo\terror\tinvalid url ecto://shop:hunter2@db/shop";
        assert_eq!(
            parse_line(line),
            Some(Event::Probe(vec![
                "db".into(),
                "Demo.Repo".into(),
                "error".into(),
                "invalid url ecto://shop:***@db/shop".into()
            ]))
        );
    }

    #[test]
    fn migrated_and_already_up() {
        assert_eq!(
            parse_line(b"14:39:01.130 [info] == Migrated 20240101120000 in 0.0s"),
            Some(Event::Migrated {
                version: 20240101120000
            })
        );
        assert_eq!(
            parse_line(b"14:39:01.130 [info] Migrations already up"),
            Some(Event::NothingToDo)
        );
        assert_eq!(
            parse_line(b"\x1b[22m14:39:01.130 [info] Migrations already up\x1b[0m"),
            Some(Event::NothingToDo)
        );
    }

    #[test]
    fn tagged_lines() {
        assert_eq!(
            parse_line(
                b"kmigrate:status\tDemo.Repo\t\tdown\t20240103120000\tcreate comments\twith tab"
            ),
            Some(Event::Status(StatusRow {
                repo: "Demo.Repo".into(),
                prefix: None,
                status: Direction::Down,
                version: 20240103120000,
                name: "create comments\twith tab".into()
            }))
        );
        assert_eq!(
            parse_line(b"kmigrate:ran\tDemo.Repo\ttenant_a\t1,2"),
            Some(Event::Ran {
                repo: "Demo.Repo".into(),
                prefix: Some("tenant_a".into()),
                versions: vec![1, 2]
            })
        );
        assert_eq!(
            parse_line(b"kmigrate:ran\tDemo.Repo\t\t"),
            Some(Event::Ran {
                repo: "Demo.Repo".into(),
                prefix: None,
                versions: vec![]
            })
        );
        assert_eq!(
            parse_line(b"kmigrate:plan\tDemo.Repo\t\t7\tadd_index"),
            Some(Event::Plan {
                repo: "Demo.Repo".into(),
                prefix: None,
                version: 7,
                name: "add_index".into()
            })
        );
        assert_eq!(
            parse_line(b"kmigrate:locked\tDemo.Repo\t\t4242\tdemo-web\t2026-11-27 21:00:00"),
            Some(Event::Locked(LockHolder {
                repo: "Demo.Repo".into(),
                prefix: None,
                pid: 4242,
                application: "demo-web".into(),
                since: "2026-11-27 21:00:00".into()
            }))
        );
        assert_eq!(
            parse_line(b"kmigrate:refused\tversion 9 is not a migration of Demo.Repo"),
            Some(Event::Refused(
                "version 9 is not a migration of Demo.Repo".into()
            ))
        );
        let tenant = |line: &[u8]| match parse_line(line) {
            Some(Event::Tenant { prefix, state }) => Some((prefix, state)),
            _ => None,
        };
        assert_eq!(
            tenant(b"kmigrate:tenant\ttenant_a\tpending\t2"),
            Some(("tenant_a".into(), TenantState::Pending(2)))
        );
        assert_eq!(
            tenant(b"kmigrate:tenant\ttenant_a\tdone"),
            Some(("tenant_a".into(), TenantState::Done))
        );
        assert_eq!(
            tenant(b"kmigrate:tenant\ttenant_b\tfailed\t20240301120000\t(Postgrex.Error) ERROR 42P07 (duplicate_table) relation \"notes\" already exists"),
            Some((
                "tenant_b".into(),
                TenantState::Failed {
                    version: Some(20240301120000),
                    error: "(Postgrex.Error) ERROR 42P07 (duplicate_table) relation \"notes\" already exists".into()
                }
            ))
        );
        assert_eq!(
            tenant(b"kmigrate:tenant\ttenant_b\tfailed\t\t(RuntimeError) boom"),
            Some((
                "tenant_b".into(),
                TenantState::Failed {
                    version: None,
                    error: "(RuntimeError) boom".into()
                }
            ))
        );
        assert_eq!(
            tenant(b"kmigrate:tenant\ttenant_c\tnot-run"),
            Some(("tenant_c".into(), TenantState::NotRun))
        );
        assert_eq!(
            parse_line(b"kmigrate:invalid\t\"Tenant\\n\""),
            Some(Event::InvalidTenant("\"Tenant\\n\"".into()))
        );
        let missing = parse_line(b"kmigrate:status\tDemo.Repo\t\tup\t5\t** FILE NOT FOUND **");
        assert!(matches!(missing, Some(Event::Status(r)) if r.not_in_image()));
        assert_eq!(
            parse_line(b"kmigrate:wait\tdeadline\t600"),
            Some(Event::Wait {
                state: WaitState::Deadline,
                waited_s: 600
            })
        );
    }

    #[test]
    fn a_refused_connection_names_its_limit() {
        let role = r#"01:16:59.375 [error] Postgrex.Protocol (#PID<0.99.0>) failed to connect: ** (Postgrex.Error) FATAL 53300 (too_many_connections) too many connections for role "App-User""#;
        let Some(Event::ConnectionRefused(r)) = parse_line(role.as_bytes()) else {
            panic!("not read: {role}");
        };
        assert_eq!(r.limit, ConnectionLimit::Role("App-User".to_owned()));
        assert!(
            r.describe()
                .contains(r#"raise it: ALTER ROLE "App-User" CONNECTION LIMIT n"#),
            "{}",
            r.describe()
        );
        let server = "[error] Postgrex.Protocol (#PID<0.1.0>) failed to connect: ** (Postgrex.Error) FATAL 53300 (too_many_connections) sorry, too many clients already";
        let Some(Event::ConnectionRefused(r)) = parse_line(server.as_bytes()) else {
            panic!("not read: {server}");
        };
        assert_eq!(r.limit, ConnectionLimit::Server);
        assert!(r.describe().contains("raise max_connections"));
        let db = r#"x failed to connect: ** (Postgrex.Error) FATAL 53300 (too_many_connections) too many connections for database "shop""#;
        let Some(Event::ConnectionRefused(r)) = parse_line(db.as_bytes()) else {
            panic!("not read: {db}");
        };
        assert!(
            r.describe()
                .contains("ALTER DATABASE shop CONNECTION LIMIT n")
        );
        // lc_messages in another language: the code alone.
        let german = "x failed to connect: ** (Postgrex.Error) FATAL 53300 (too_many_connections) zu viele Verbindungen für Rolle »app«";
        let Some(Event::ConnectionRefused(r)) = parse_line(german.as_bytes()) else {
            panic!("not read: {german}");
        };
        assert_eq!(r.limit, ConnectionLimit::Unnamed);
        // A version that holds the digits is not a refusal.
        assert_eq!(
            parse_line(b"== Running 20240101053300 Shop.Repo.Migrations.A.change/0 forward")
                .map(|e| matches!(e, Event::ConnectionRefused(_))),
            Some(false)
        );
    }

    #[test]
    fn an_older_ecto_sql_and_a_skipped_repo_are_read_and_said() {
        let Some(Event::Older(o)) = parse_line(b"kmigrate:older\tprefix_lock\t3.7.0\t3.7.1") else {
            panic!("not read")
        };
        assert_eq!(
            (o.feature.as_str(), o.ecto_sql.as_str(), o.needs.as_str()),
            ("prefix_lock", "3.7.0", "3.7.1")
        );
        assert!(
            o.describe().starts_with(
                "ecto_sql 3.7.0 is older than 3.7.1, which brought a migration lock per prefix"
            ),
            "{}",
            o.describe()
        );
        let unknown = OlderEctoSql {
            feature: "later".into(),
            ecto_sql: "3.9.0".into(),
            needs: "4.0.0".into(),
        };
        assert_eq!(
            unknown.describe(),
            "ecto_sql 3.9.0 is older than 4.0.0, which later needs"
        );
        assert_eq!(
            parse_line(b"kmigrate:skipped\tShop.Cache\tEcto.Adapters.SQLite3"),
            Some(Event::Skipped(SkippedRepo {
                repo: "Shop.Cache".into(),
                adapter: "Ecto.Adapters.SQLite3".into()
            }))
        );
        assert_eq!(parse_line(b"kmigrate:older\tprefix_lock\t3.7.0"), None);
        assert_eq!(parse_line(b"kmigrate:skipped\tShop.Cache"), None);
    }

    #[test]
    fn noise_is_ignored() {
        for line in [
            &b""[..],
            b"== Running",
            b"== Running abc Foo.change/0 forward",
            b"== Running 1 Foo.change/0 sideways",
            b"== Running 1 Foo.change/0",
            b"== Running 1 Foo.other/0 forward",
            b"== Migrated 1 at noon",
            b"kmigrate:status\tDemo.Repo\t\tmaybe\t1\tx",
            b"kmigrate:ran\tDemo.Repo\t\t1,x",
            b"kmigrate:plan\tDemo.Repo\t\tx\tn",
            b"kmigrate:locked\tDemo.Repo\t\tpid\tapp",
            b"kmigrate:wait\tsoon\t1",
            b"kmigrate:wait\tready\tx",
            b"kmigrate:wait\tready",
            b"kmigrate:tenant\t\tdone",
            b"kmigrate:tenant\ttenant_a\tpending\tmany",
            b"kmigrate:tenant\ttenant_a\tsideways",
            b"\xff\xfe\x00 binary",
            b"execute \"CREATE TABLE posts\"",
        ] {
            assert_eq!(
                parse_line(line),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn pending_sorts_down_rows() {
        let row = |status, version| StatusRow {
            repo: "R".into(),
            prefix: None,
            status,
            version,
            name: "n".into(),
        };
        let rows = vec![
            row(Direction::Down, 3),
            row(Direction::Up, 1),
            row(Direction::Down, 2),
        ];
        let versions: Vec<i64> = pending(&rows).iter().map(|r| r.version).collect();
        assert_eq!(versions, [2, 3]);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn arbitrary_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&line);
        }

        /// Lines shaped like Ecto's are read back exactly.
        #[test]
        fn ecto_lines_round_trip(version in 0i64..99_999_999_999_999, module in "[A-Z][a-z]{1,8}(\\.[A-Z][a-z]{1,8}){0,3}", prefix in "[0-9:. ]{0,14}(\\[info\\] )?") {
            let line = format!("{prefix}== Running {version} {module}.change/0 backward");
            prop_assert_eq!(parse_line(line.as_bytes()), Some(Event::Running { version, module, direction: Direction::Down }));
            let line = format!("{prefix}== Migrated {version} in 12.3s");
            prop_assert_eq!(parse_line(line.as_bytes()), Some(Event::Migrated { version }));
        }
    }
}
