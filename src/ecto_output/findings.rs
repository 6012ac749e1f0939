//! What remote output said, kept small: flags, and the lists that plans, tables and the
//! report need, each item once and each list within a budget, so that a chatty or hostile
//! pod cannot make kmigrate hold (or scan again and again) all it printed.

use std::collections::{BTreeMap, BTreeSet};

use super::budget::{Budget, MAX_LIST_BYTES};
use super::{
    Direction, Event, InvalidIndex, LockHolder, LockWait, OtherRun, StatusRow, TenantState,
    TimedOut, WaitState,
};

/// Items in the order first seen, each once, while they fit.
#[derive(Debug, Clone, PartialEq)]
struct Unique<T> {
    items: Vec<T>,
    seen: BTreeSet<T>,
    budget: Budget,
}

impl<T> Default for Unique<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            seen: BTreeSet::new(),
            budget: Budget::default(),
        }
    }
}

impl<T: Ord + Clone> Unique<T> {
    /// Keep `item`, whose text takes `text` bytes, unless it was seen or does not fit.
    fn add(&mut self, item: T, text: usize) {
        // Held twice: in order, and in the set that spots repeats.
        let bytes = 2 * (std::mem::size_of::<T>() + text);
        if !self.seen.contains(&item) && self.budget.admit(bytes) {
            self.seen.insert(item.clone());
            self.items.push(item);
        }
    }
}

/// The first text seen for each key, while it fits.
#[derive(Debug, Clone, PartialEq)]
struct FirstOf<K> {
    map: BTreeMap<K, String>,
    budget: Budget,
}

impl<K> Default for FirstOf<K> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            budget: Budget::default(),
        }
    }
}

impl<K: Ord> FirstOf<K> {
    fn add(&mut self, key: K, text: String) {
        let bytes = std::mem::size_of::<(K, String)>() + text.len();
        if !self.map.contains_key(&key) && self.budget.admit(bytes) {
            self.map.insert(key, text);
        }
    }
}

/// One migration that a tagged line reported run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RanMigration {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The migration version.
    pub version: i64,
}

fn text_of(prefix: Option<&String>) -> usize {
    prefix.map_or(0, String::len)
}

/// What the snippet said of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSeen {
    /// The tenant's prefix.
    pub prefix: String,
    /// Migrations planned for it, from its `pending` line.
    pub pending: Option<u64>,
    /// How its part ended (`done`, `failed`, `not-run`), when a line said so.
    pub end: Option<TenantState>,
}

/// The tenants in the order first seen (the snippet says each one's plan before anything
/// runs, in run order), each once, while they fit.
#[derive(Debug, Clone, Default, PartialEq)]
struct TenantLog {
    seen: Vec<TenantSeen>,
    at: BTreeMap<String, usize>,
    budget: Budget,
}

impl TenantLog {
    fn add(&mut self, prefix: String, state: TenantState) {
        let i = match self.at.get(&prefix) {
            Some(&i) => i,
            None => {
                let bytes = 2 * prefix.len() + std::mem::size_of::<TenantSeen>();
                if !self.budget.admit(bytes) {
                    return;
                }
                self.at.insert(prefix.clone(), self.seen.len());
                self.seen.push(TenantSeen {
                    prefix,
                    pending: None,
                    end: None,
                });
                self.seen.len() - 1
            }
        };
        let t = &mut self.seen[i];
        match state {
            TenantState::Pending(n) => t.pending = Some(n),
            TenantState::Failed { version, error } => {
                // One line of at most 400 characters from the snippet; a pod that says
                // more is cut, not kept.
                let error = error.chars().take(400).collect();
                t.end.get_or_insert(TenantState::Failed { version, error });
            }
            end => {
                t.end.get_or_insert(end);
            }
        }
    }
}

/// What remote output said, as far as kmigrate needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    rows: Unique<StatusRow>,
    locks: Unique<LockHolder>,
    ran: Unique<RanMigration>,
    migrated: Unique<i64>,
    names: FirstOf<i64>,
    modules: FirstOf<(i64, Direction)>,
    refused: Option<String>,
    changed: Option<String>,
    ended: bool,
    others: BTreeMap<i64, OtherRun>,
    busy: Option<String>,
    session: Vec<super::SessionProblem>,
    waits: BTreeMap<(i64, String), LockWait>,
    timed_out: Option<TimedOut>,
    heartbeat: Option<u64>,
    round: Vec<StatusRow>,
    last_round: Option<WaitRound>,
    tenants: TenantLog,
    invalid: Unique<String>,
    invalid_indexes: Unique<InvalidIndex>,
    planned: bool,
    tagged: bool,
    nothing_to_do: bool,
    probe: Vec<Vec<String>>,
    migration_plan: super::plan_lines::PlanLines,
    refusal: Option<super::Refusal>,
    older: Unique<super::OlderEctoSql>,
    skipped: Unique<super::SkippedRepo>,
}

/// Most session problems kept: a few parameters per repo.
const MAX_SESSION_PROBLEMS: usize = 16;

/// Most probe lines kept: one per repo and a few more.
const MAX_PROBE_LINES: usize = 64;

/// Most status rows of one wait round kept (a round lists what is missing or ahead).
const MAX_ROUND_ROWS: usize = 100_000;

/// The end of a round of the wait snippet.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitRound {
    /// Still waiting, or how the wait ended.
    pub state: WaitState,
    /// Seconds waited so far.
    pub waited_s: u64,
    /// The rows printed in the round: what was missing, or ahead of the image.
    pub rows: Vec<StatusRow>,
}

/// Most sessions and lock waits kept: a few are what anyone reads.
const MAX_SESSIONS: usize = 64;

/// Keep the latest report under `key`, while there is room for new keys.
fn keep_latest<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, value: V) {
    if map.len() < MAX_SESSIONS || map.contains_key(&key) {
        map.insert(key, value);
    }
}

impl Findings {
    /// Take in one recognised line.
    pub fn add(&mut self, event: Event) {
        match event {
            Event::Running {
                version,
                module,
                direction,
            } => self.modules.add((version, direction), module),
            Event::Migrated { version } => self.migrated.add(version, 0),
            Event::NothingToDo => self.nothing_to_do = true,
            Event::Status(row) => {
                // The wait snippet prints a round of rows each poll: the round is kept
                // apart (bounded like the list), the list keeps each row once.
                if self.round.len() < MAX_ROUND_ROWS {
                    self.round.push(row.clone());
                }
                let text = row.repo.len() + text_of(row.prefix.as_ref()) + row.name.len();
                self.rows.add(row, text);
            }
            Event::Locked(l) => {
                let text =
                    l.repo.len() + text_of(l.prefix.as_ref()) + l.application.len() + l.since.len();
                self.locks.add(l, text);
            }
            Event::Plan { version, name, .. } => {
                self.planned = true;
                self.tagged = true;
                self.names.add(version, name);
            }
            Event::Ran {
                repo,
                prefix,
                versions,
            } => {
                self.tagged = true;
                let text = repo.len() + text_of(prefix.as_ref());
                for version in versions {
                    let ran = RanMigration {
                        repo: repo.clone(),
                        prefix: prefix.clone(),
                        version,
                    };
                    self.ran.add(ran, text);
                }
            }
            Event::Changed(now) => {
                self.changed.get_or_insert(now);
            }
            Event::Refused(why) => {
                self.refused.get_or_insert(why);
            }
            Event::End => self.ended = true,
            Event::OtherRun(o) => keep_latest(&mut self.others, o.pid, o),
            Event::Busy(why) => {
                self.busy.get_or_insert(why);
            }
            Event::Session(p) => {
                // Each connection a driver retries says it again: once each is enough.
                let known = self
                    .session
                    .iter()
                    .any(|q| q.parameter == p.parameter && q.unset == p.unset);
                if !known && self.session.len() < MAX_SESSION_PROBLEMS {
                    self.session.push(p);
                }
            }
            Event::Waiting(w) => keep_latest(&mut self.waits, (w.holder_pid, w.lock.clone()), w),
            Event::TimedOut(t) => {
                self.timed_out.get_or_insert(t);
            }
            Event::Heartbeat { seconds } => self.heartbeat = Some(seconds),
            Event::Wait { state, waited_s } => {
                self.last_round = Some(WaitRound {
                    state,
                    waited_s,
                    rows: std::mem::take(&mut self.round),
                });
            }
            Event::Tenant { prefix, state } => self.tenants.add(prefix, state),
            Event::InvalidTenant(name) => {
                let text = name.len();
                self.invalid.add(name, text);
            }
            Event::InvalidIndex(i) => {
                let text = i.repo.len() + i.schema.len() + i.index.len() + i.table.len();
                self.invalid_indexes.add(i, text);
            }
            Event::Probe(fields) => {
                if self.probe.len() < MAX_PROBE_LINES {
                    self.probe.push(fields);
                }
            }
            Event::MigrationPlan(l) => self.migration_plan.add(l),
            Event::ConnectionRefused(r) => {
                self.refusal.get_or_insert(r);
            }
            Event::Older(o) => {
                let text = o.feature.len() + o.ecto_sql.len() + o.needs.len();
                self.older.add(o, text);
            }
            Event::Skipped(r) => {
                let text = r.repo.len() + r.adapter.len();
                self.skipped.add(r, text);
            }
        }
    }

    /// Whether the driver logged a connection refused for a reason kmigrate names at the
    /// end: a startup parameter PgBouncer does not track, or a connection limit.
    pub fn refused_connection(&self) -> bool {
        self.refusal.is_some() || self.session.iter().any(|p| p.repo.is_none())
    }

    /// The first connection PostgreSQL refused for a connection limit, if any.
    pub fn connection_refused(&self) -> Option<&super::Refusal> {
        self.refusal.as_ref()
    }

    /// Features the release's ecto_sql is too old for, which the run did without.
    pub fn older_ecto_sql(&self) -> &[super::OlderEctoSql] {
        &self.older.items
    }

    /// Repos left out because their adapter is not PostgreSQL.
    pub fn skipped_repos(&self) -> &[super::SkippedRepo] {
        &self.skipped.items
    }

    /// The probe's lines, each as its fields after the tag, in order.
    pub fn probe(&self) -> &[Vec<String>] {
        &self.probe
    }

    /// The last round of the wait snippet, with the rows printed in it (what was missing
    /// or ahead); `None` before the first round ended.
    pub fn last_wait_round(&self) -> Option<&WaitRound> {
        self.last_round.as_ref()
    }

    /// The tenants the snippet reported, in run order (canaries first).
    pub fn tenants(&self) -> &[TenantSeen] {
        &self.tenants.seen
    }

    /// Names from `--prefixes-from` that are not valid prefixes (not run), as the snippet
    /// showed them (Elixir's `inspect`).
    pub fn invalid_tenants(&self) -> &[String] {
        &self.invalid.items
    }

    /// Indexes PostgreSQL marks invalid, as the status snippet found them.
    pub fn invalid_indexes(&self) -> &[InvalidIndex] {
        &self.invalid_indexes.items
    }

    /// What the plan snippet (or a migrate held to a plan) printed.
    pub fn migration_plan(&self) -> &super::plan_lines::PlanLines {
        &self.migration_plan
    }

    /// Sessions of other migrate or rollback runs seen in the database, by pid.
    pub fn other_runs(&self) -> Vec<&OtherRun> {
        self.others.values().collect()
    }

    /// The run's session parameters that did not reach PostgreSQL (PgBouncer), each once.
    pub fn session_problems(&self) -> &[super::SessionProblem] {
        &self.session
    }

    /// The snippet ran nothing because another run was still executing.
    pub fn busy(&self) -> Option<&str> {
        self.busy.as_deref()
    }

    /// Lock waits of this run, the latest report of each holder and lock.
    pub fn waits(&self) -> Vec<&LockWait> {
        self.waits.values().collect()
    }

    /// The migration cancelled by the run's lock or statement timeout, if one was.
    pub fn timed_out(&self) -> Option<&TimedOut> {
        self.timed_out.as_ref()
    }

    /// Seconds of the last heartbeat.
    pub fn heartbeat(&self) -> Option<u64> {
        self.heartbeat
    }

    /// Every status row, in order; an error when there were more than kmigrate keeps (a
    /// plan or a gate must not be made from part of them).
    pub fn status(&self) -> Result<&[StatusRow], String> {
        match self.rows.budget.left_out {
            0 => Ok(&self.rows.items),
            n => Err(format!(
                "the status listed more migrations than kmigrate keeps ({} MiB of rows; {n} more left out)",
                MAX_LIST_BYTES >> 20
            )),
        }
    }

    /// The sessions holding Ecto's migration lock.
    pub fn locks(&self) -> &[LockHolder] {
        &self.locks.items
    }

    /// The migrations the snippet's tagged lines reported run, in order.
    pub fn ran(&self) -> &[RanMigration] {
        &self.ran.items
    }

    /// The versions Ecto's log reported migrated, in order (what a custom command ran).
    pub fn migrated(&self) -> &[i64] {
        &self.migrated.items
    }

    /// The name the snippet's plan gave a version.
    pub fn planned_name(&self, version: i64) -> Option<&str> {
        self.names.map.get(&version).map(String::as_str)
    }

    /// The module Ecto's log named for a version run in this direction.
    pub fn module(&self, version: i64, direction: Direction) -> Option<&str> {
        self.modules
            .map
            .get(&(version, direction))
            .map(String::as_str)
    }

    /// Whether the snippet said its last line (`kmigrate:end`): an answer without it was
    /// cut short, whatever the exit code.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The snippet's refusal, if it refused (it then ran nothing).
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// A rollback that ran nothing because what it was to revert changed: the versions of
    /// those still applied, as the snippet listed them.
    pub fn changed(&self) -> Option<&str> {
        self.changed.as_deref()
    }

    /// The snippet printed a plan: it had something to run.
    pub fn planned(&self) -> bool {
        self.planned
    }

    /// Any of the snippet's plan or ran lines was seen.
    pub fn tagged(&self) -> bool {
        self.tagged
    }

    /// Ecto said there was nothing to do.
    pub fn nothing_to_do(&self) -> bool {
        self.nothing_to_do
    }

    /// Migrations (run, migrated, or their names) left out for want of room.
    pub fn migrations_left_out(&self) -> u64 {
        self.ran.budget.left_out
            + self.migrated.budget.left_out
            + self.names.budget.left_out
            + self.modules.budget.left_out
    }

    /// Tenants (and invalid names) left out for want of room.
    pub fn tenants_left_out(&self) -> u64 {
        self.tenants.budget.left_out + self.invalid.budget.left_out
    }

    /// Bytes held by every list together.
    #[cfg(test)]
    pub fn kept_bytes(&self) -> usize {
        [
            &self.rows.budget,
            &self.locks.budget,
            &self.ran.budget,
            &self.migrated.budget,
            &self.names.budget,
            &self.modules.budget,
            &self.tenants.budget,
            &self.invalid.budget,
            &self.invalid_indexes.budget,
            &self.older.budget,
            &self.skipped.budget,
        ]
        .iter()
        .map(|b| b.bytes)
        .sum()
    }
}
