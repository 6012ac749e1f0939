//! What each finding touches in the live database: the lock its statement takes and what
//! it does to the rows (from its kind), the size of its table, and the sessions holding or
//! waiting for locks on that table when the plan was read (from the catalog, impact.exs).
//! None of it is in the plan hash: sizes and sessions change between plan and migrate,
//! the migrations do not.

use serde::{Deserialize, Serialize};

use super::kind::{Effect, LockMode};
use super::{Finding, RepoPlan};
pub use crate::ecto_output::plan_lines::{TableHolder, TableSize};

/// What one finding touches: its lock, and its table's size when the catalog has the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// The lock the statement takes on its table.
    pub lock: LockMode,
    /// Whether it rewrites the table, reads every row, or changes the catalog only.
    pub effect: Effect,
    /// The table's schema, when the catalog has the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Estimated rows; `None` when unknown (no such table yet, or never analyzed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Estimated bytes of the table with its TOAST table and indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// How many other sessions held or waited for a lock on the table.
    #[serde(default)]
    pub holders: usize,
}

/// The impact of a finding of `repo`, from its kind and the catalog's lines.
pub(super) fn of(
    f: &Finding,
    repo: &RepoPlan,
    tables: &[TableSize],
    holders: &[TableHolder],
) -> Option<Impact> {
    let lock = f.kind.table_lock()?;
    let size = f.table.as_deref().and_then(|t| {
        tables
            .iter()
            .find(|s| s.repo == repo.repo && s.prefix == repo.prefix && s.table == t)
    });
    Some(Impact {
        lock: lock.mode,
        effect: lock.effect,
        schema: size.map(|s| s.schema.clone()),
        rows: size.and_then(|s| s.rows),
        bytes: size.map(|s| s.bytes),
        holders: size.map_or(0, |s| holders.iter().filter(|h| same_table(h, s)).count()),
    })
}

/// Whether a holder's lock is on this table.
pub fn same_table(h: &TableHolder, t: &TableSize) -> bool {
    h.repo == t.repo && h.prefix == t.prefix && h.table == t.table
}

/// For people, what a plan will wait behind: each session holding or waiting for a lock
/// on a table its findings touch, and what that means; the advice to bound the wait when
/// `lock_timeout` is not set. Empty when no session holds such a lock.
pub fn waits_behind(plan: &super::MigrationPlan, lock_timeout: bool) -> Vec<String> {
    if plan.holders.is_empty() {
        return Vec::new();
    }
    let mut out = vec!["sessions holding or waiting for locks on these tables now:".to_owned()];
    out.extend(plan.holders.iter().map(|h| format!("  {}", h.describe())));
    let exclusive = plan
        .migrations()
        .flat_map(|(_, m)| &m.findings)
        .filter_map(|f| f.impact.as_ref())
        .any(|i| i.lock == LockMode::AccessExclusive && i.schema.is_some());
    out.push(if exclusive {
        "  the migration waits behind them, and while its ACCESS EXCLUSIVE request waits, every later query of the table queues behind it".to_owned()
    } else {
        "  the migration waits behind them, and while its lock request waits, every later conflicting query of the table queues behind it".to_owned()
    });
    if !lock_timeout {
        out.push("  no --lock-timeout is set: the wait has no bound; set one (e.g. --lock-timeout 5s) so the migration gives up instead of stalling the app".to_owned());
    }
    out
}

/// What a finding touches, for people: `ACCESS EXCLUSIVE on public.posts (~1,000 rows,
/// 160.0 KiB), rewrites the table: blocks every query of the table, reads included`.
pub fn describe(i: &Impact, table: Option<&str>) -> String {
    let on = match (&i.schema, table) {
        (Some(schema), Some(t)) => {
            let size = i.bytes.map(bytes).unwrap_or_default();
            format!("{schema}.{t} ({}, {size})", rows(i.rows))
        }
        (None, Some(t)) => format!("{t} (not in the catalog: no size)"),
        (_, None) => "its table".to_owned(),
    };
    let holders = match i.holders {
        0 => String::new(),
        n => format!("; {n} session(s) hold or wait for locks on it now"),
    };
    format!(
        "{} on {on}, {}: {}{holders}",
        i.lock.sql(),
        i.effect.describe(),
        i.lock.blocks()
    )
}

/// Bytes for people: `512 B`, `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Rows for people: `~1,000,000 rows`, or that the table was never analyzed.
pub fn rows(n: Option<u64>) -> String {
    match n {
        None => "rows unknown (never analyzed)".to_owned(),
        Some(n) => {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            format!("~{out} rows")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rows_read_well() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(150 * 1024 * 1024), "150.0 MiB");
        assert_eq!(rows(Some(1_000_000)), "~1,000,000 rows");
        assert_eq!(rows(Some(999)), "~999 rows");
        assert_eq!(rows(None), "rows unknown (never analyzed)");
    }
}
