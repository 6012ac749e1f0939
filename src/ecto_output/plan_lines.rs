//! The lines of the plan snippet, and the refusal of a migrate held to a plan, read and
//! kept within a budget.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::budget::{Budget, MAX_LIST_BYTES};
use crate::ecto_snippet::SOURCE_CHUNK;
use crate::protocol::{
    CODE_TAG, HOLDER_TAG, NEWEST_TAG, PENDING_TAG, PLAN_HASH_TAG, SCHEMA_TAG, SOURCE_TAG,
    STALE_TAG, TABLE_TAG, fields,
};

/// One line of the plan snippet (or of a migrate held to a plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanLine {
    /// `kmigrate:pending\t...`: a pending migration.
    Pending(PendingLine),
    /// `kmigrate:source\t<sha256>\t<chunk>\t<chunks>\t<hex>`: part of a file.
    Source {
        /// SHA-256 of the whole file.
        sha256: String,
        /// Which part.
        chunk: usize,
        /// How many parts.
        chunks: usize,
        /// The part's bytes.
        bytes: Vec<u8>,
    },
    /// `kmigrate:newest\t<repo>\t<prefix>\t<version>`: the newest applied version of a repo
    /// and prefix with older pending migrations.
    Newest {
        /// The repo module.
        repo: String,
        /// The schema prefix, if any.
        prefix: Option<String>,
        /// The newest applied version.
        version: i64,
    },
    /// `kmigrate:table\t...`: a table the pending migrations name, with its size.
    Table(TableSize),
    /// `kmigrate:holder\t...`: a session holding or waiting for a lock on such a table.
    Holder(TableHolder),
    /// `kmigrate:schema\t...`: a field of an Ecto schema of the running code.
    Schema(SchemaField),
    /// `kmigrate:code\tasked\t<n>` (`Ok(n)`) or `kmigrate:code\tfailed\t<why>` (`Err`).
    Code(Result<u64, String>),
    /// `kmigrate:planhash\t<sha256>`: the pod's plan hash.
    Hash(String),
    /// `kmigrate:stale\t<sha256>`: a migrate held to a plan refused; the hash is now this.
    Stale(String),
}

/// A pending migration as the plan snippet prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLine {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// The version.
    pub version: i64,
    /// The name.
    pub name: String,
    /// The module the file defines, if it defines a migration.
    pub module: Option<String>,
    /// Runs in a transaction.
    pub transaction: bool,
    /// Runs under the migration lock.
    pub migration_lock: bool,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// The file, relative to the app's directory.
    pub file: String,
}

/// A table the pending migrations name, as the catalog said when the plan was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSize {
    /// The repo module.
    pub repo: String,
    /// The repo's schema prefix, if any.
    pub prefix: Option<String>,
    /// The table's schema (the prefix, else the session's current schema).
    pub schema: String,
    /// The table.
    pub table: String,
    /// Estimated rows (`pg_class.reltuples`); `None` before its first VACUUM or ANALYZE.
    pub rows: Option<u64>,
    /// Estimated bytes of the table, its TOAST table and their indexes (`relpages` times
    /// the block size, as of the last VACUUM, ANALYZE or CREATE INDEX).
    pub bytes: u64,
}

/// Another session that holds (or waits for) a lock on a table the plan touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableHolder {
    /// The repo module.
    pub repo: String,
    /// The repo's schema prefix, if any.
    pub prefix: Option<String>,
    /// The table.
    pub table: String,
    /// Its backend pid.
    pub pid: i64,
    /// The lock mode (`AccessShareLock`, `RowExclusiveLock`, ...).
    pub mode: String,
    /// Held (`true`), or still waited for: a migration's request queues behind both.
    pub granted: bool,
    /// Its `application_name`.
    pub application: String,
    /// `active`, `idle in transaction`, ...
    pub state: String,
    /// Seconds since its transaction began.
    pub transaction_s: Option<u64>,
    /// The start of its current or last statement, on one line.
    pub query: String,
}

/// A field of an Ecto schema of the code the plan ran in, as `__schema__/2` gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaField {
    /// The schema module.
    pub module: String,
    /// Its table (`__schema__(:source)`).
    pub source: String,
    /// Its `@schema_prefix`, if any.
    pub prefix: Option<String>,
    /// The field.
    pub field: String,
    /// Its column (`__schema__(:field_source, field)`).
    pub column: String,
}

impl TableHolder {
    /// For people: which session, in which state, for how long, doing what.
    pub fn describe(&self) -> String {
        let app = if self.application.is_empty() {
            "no application_name".to_owned()
        } else {
            format!("application {:?}", self.application)
        };
        let since = self
            .transaction_s
            .map(|s| format!(", transaction open {s} s"))
            .unwrap_or_default();
        let held = if self.granted { "holds" } else { "waits for" };
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("; its last statement: {}", self.query)
        };
        format!(
            "pid {} ({app}, {}{since}) {held} {} on {}{query}",
            self.pid, self.state, self.mode, self.table
        )
    }
}

fn tagged<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.strip_prefix(tag)?.strip_prefix('\t')
}

fn sha256_hex(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Read one line (tags and ANSI already handled by the caller), if it is a plan line.
pub fn parse(line: &str) -> Option<PlanLine> {
    if let Some(rest) = tagged(line, PENDING_TAG) {
        let f: Vec<&str> = rest.splitn(fields(PENDING_TAG), '\t').collect();
        let [repo, prefix, version, name, module, tx, lock, sha256, file] = f[..] else {
            return None;
        };
        let flag = |v: &str, yes: &str, no: &str| match v {
            _ if v == yes => Some(true),
            _ if v == no => Some(false),
            _ => None,
        };
        return Some(PlanLine::Pending(PendingLine {
            repo: repo.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            version: version.parse().ok()?,
            name: name.to_owned(),
            module: (!module.is_empty()).then(|| module.to_owned()),
            transaction: flag(tx, "tx", "notx")?,
            migration_lock: flag(lock, "lock", "nolock")?,
            sha256: sha256_hex(sha256)?,
            file: file.to_owned(),
        }));
    }
    if let Some(rest) = tagged(line, SOURCE_TAG) {
        let f: Vec<&str> = rest.splitn(fields(SOURCE_TAG), '\t').collect();
        let [sha256, chunk, chunks, hex] = f[..] else {
            return None;
        };
        let bytes = unhex(hex)?;
        let (chunk, chunks): (usize, usize) = (chunk.parse().ok()?, chunks.parse().ok()?);
        if chunk >= chunks || bytes.len() > SOURCE_CHUNK {
            return None;
        }
        return Some(PlanLine::Source {
            sha256: sha256_hex(sha256)?,
            chunk,
            chunks,
            bytes,
        });
    }
    if let Some(rest) = tagged(line, NEWEST_TAG) {
        let f: Vec<&str> = rest.splitn(fields(NEWEST_TAG), '\t').collect();
        let [repo, prefix, version] = f[..] else {
            return None;
        };
        return Some(PlanLine::Newest {
            repo: repo.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            version: version.trim().parse().ok()?,
        });
    }
    if let Some(rest) = tagged(line, TABLE_TAG) {
        let f: Vec<&str> = rest.splitn(fields(TABLE_TAG), '\t').collect();
        let [repo, prefix, schema, table, rows, bytes] = f[..] else {
            return None;
        };
        let rows: i64 = rows.parse().ok()?;
        return Some(PlanLine::Table(TableSize {
            repo: repo.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            schema: schema.to_owned(),
            table: table.to_owned(),
            rows: u64::try_from(rows).ok(),
            bytes: bytes.trim().parse().ok()?,
        }));
    }
    if let Some(rest) = tagged(line, HOLDER_TAG) {
        let f: Vec<&str> = rest.splitn(fields(HOLDER_TAG), '\t').collect();
        let [
            repo,
            prefix,
            table,
            pid,
            mode,
            granted,
            application,
            state,
            seconds,
            query,
        ] = f[..]
        else {
            return None;
        };
        return Some(PlanLine::Holder(TableHolder {
            repo: repo.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            table: table.to_owned(),
            pid: pid.parse().ok()?,
            mode: mode.to_owned(),
            granted: match granted {
                "granted" => true,
                "waiting" => false,
                _ => return None,
            },
            application: application.to_owned(),
            state: state.to_owned(),
            transaction_s: seconds.parse().ok(),
            query: query.to_owned(),
        }));
    }
    if let Some(rest) = tagged(line, SCHEMA_TAG) {
        let f: Vec<&str> = rest.splitn(fields(SCHEMA_TAG), '\t').collect();
        let [module, source, prefix, field, column] = f[..] else {
            return None;
        };
        return Some(PlanLine::Schema(SchemaField {
            module: module.to_owned(),
            source: source.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            field: field.to_owned(),
            column: column.to_owned(),
        }));
    }
    if let Some(rest) = tagged(line, CODE_TAG) {
        return match rest.split_once('\t')? {
            ("asked", n) => Some(PlanLine::Code(Ok(n.trim().parse().ok()?))),
            ("failed", why) => Some(PlanLine::Code(Err(why.to_owned()))),
            _ => None,
        };
    }
    if let Some(rest) = tagged(line, PLAN_HASH_TAG) {
        return sha256_hex(rest.trim()).map(PlanLine::Hash);
    }
    if let Some(rest) = tagged(line, STALE_TAG) {
        return sha256_hex(rest.trim()).map(PlanLine::Stale);
    }
    None
}

/// What the plan lines said, within [`MAX_LIST_BYTES`]: a plan that did not fit is no plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanLines {
    pending: Vec<PendingLine>,
    newest: Vec<(String, Option<String>, i64)>,
    tables: Vec<TableSize>,
    holders: Vec<TableHolder>,
    schemas: Vec<SchemaField>,
    code: Option<Result<u64, String>>,
    sources: BTreeMap<String, Vec<Option<Vec<u8>>>>,
    hash: Option<String>,
    stale: Option<String>,
    budget: Budget,
}

impl PlanLines {
    /// Take in one plan line.
    pub fn add(&mut self, line: PlanLine) {
        match line {
            PlanLine::Pending(p) => {
                let size = std::mem::size_of::<PendingLine>()
                    + p.repo.len()
                    + p.name.len()
                    + p.file.len()
                    + p.module.as_ref().map_or(0, String::len)
                    + p.prefix.as_ref().map_or(0, String::len)
                    + p.sha256.len();
                if self.budget.admit(size) {
                    self.pending.push(p);
                }
            }
            PlanLine::Source {
                sha256,
                chunk,
                chunks,
                bytes,
            } => {
                let size = bytes.len() + std::mem::size_of::<Option<Vec<u8>>>();
                if !self.budget.admit(size) {
                    return;
                }
                let parts = self
                    .sources
                    .entry(sha256)
                    .or_insert_with(|| vec![None; chunks]);
                if parts.len() == chunks {
                    parts[chunk].get_or_insert(bytes);
                }
            }
            PlanLine::Newest {
                repo,
                prefix,
                version,
            } => {
                let size = std::mem::size_of::<(String, Option<String>, i64)>()
                    + repo.len()
                    + prefix.as_ref().map_or(0, String::len);
                if self.budget.admit(size) {
                    self.newest.push((repo, prefix, version));
                }
            }
            PlanLine::Table(t) => {
                let size = std::mem::size_of::<TableSize>()
                    + t.repo.len()
                    + t.schema.len()
                    + t.table.len();
                if self.budget.admit(size) {
                    self.tables.push(t);
                }
            }
            PlanLine::Holder(h) => {
                let size = std::mem::size_of::<TableHolder>()
                    + h.repo.len()
                    + h.table.len()
                    + h.mode.len()
                    + h.application.len()
                    + h.state.len()
                    + h.query.len();
                if self.budget.admit(size) {
                    self.holders.push(h);
                }
            }
            PlanLine::Schema(f) => {
                let size = std::mem::size_of::<SchemaField>()
                    + f.module.len()
                    + f.source.len()
                    + f.field.len()
                    + f.column.len();
                if self.budget.admit(size) {
                    self.schemas.push(f);
                }
            }
            PlanLine::Code(c) => {
                self.code.get_or_insert(c);
            }
            PlanLine::Hash(h) => {
                self.hash.get_or_insert(h);
            }
            PlanLine::Stale(h) => {
                self.stale.get_or_insert(h);
            }
        }
    }

    /// The pending migrations, in order; an error when the plan did not fit.
    pub fn pending(&self) -> Result<&[PendingLine], String> {
        match self.budget.left_out {
            0 => Ok(&self.pending),
            n => Err(format!(
                "the plan is larger than kmigrate keeps ({} MiB; {n} lines left out)",
                MAX_LIST_BYTES >> 20
            )),
        }
    }

    /// A file's bytes, when every part of it arrived.
    pub fn source(&self, sha256: &str) -> Option<Vec<u8>> {
        let parts = self.sources.get(sha256)?;
        parts.iter().try_fold(Vec::new(), |mut all, part| {
            all.extend_from_slice(part.as_ref()?);
            Some(all)
        })
    }

    /// The newest applied version of a repo and prefix, when it has pending migrations
    /// older than it.
    pub fn newest(&self, repo: &str, prefix: Option<&str>) -> Option<i64> {
        self.newest
            .iter()
            .find(|(r, p, _)| r == repo && p.as_deref() == prefix)
            .map(|(_, _, v)| *v)
    }

    /// The tables the pending migrations name, with their sizes.
    pub fn tables(&self) -> &[TableSize] {
        &self.tables
    }

    /// The sessions holding or waiting for locks on those tables.
    pub fn holders(&self) -> &[TableHolder] {
        &self.holders
    }

    /// The fields of the running code's schemas.
    pub fn schemas(&self) -> &[SchemaField] {
        &self.schemas
    }

    /// Whether the running code was asked for its schemas: how many it has, or why asking
    /// failed; `None` when it did not answer (or some of its fields were left out).
    pub fn code(&self) -> Option<Result<u64, String>> {
        match (&self.code, self.budget.left_out) {
            (Some(Ok(_)), 1..) => Some(Err("its answer was larger than kmigrate keeps".to_owned())),
            (c, _) => c.clone(),
        }
    }

    /// The pod's plan hash.
    pub fn hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    /// A migrate held to a plan refused: the plan hash it found instead.
    pub fn stale(&self) -> Option<&str> {
        self.stale.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";

    #[test]
    fn lines_are_read_and_sources_put_back_together() {
        let pending = format!(
            "kmigrate:pending\tDemo.Repo\ttenant_a\t20240101120000\tcreate_posts\tDemo.Repo.Migrations.CreatePosts\tnotx\tlock\t{SHA}\tpriv/repo/migrations/20240101120000_create_posts.exs"
        );
        let Some(PlanLine::Pending(p)) = parse(&pending) else {
            panic!("not read: {pending}");
        };
        assert_eq!(
            (
                p.prefix.as_deref(),
                p.version,
                p.transaction,
                p.migration_lock
            ),
            (Some("tenant_a"), 20240101120000, false, true)
        );
        let mut lines = PlanLines::default();
        lines.add(PlanLine::Pending(p));
        for l in [
            format!("kmigrate:source\t{SHA}\t1\t2\t6263"),
            format!("kmigrate:source\t{SHA}\t0\t2\t61"),
            format!("kmigrate:planhash\t{}", SHA.to_ascii_uppercase()),
        ] {
            lines.add(parse(&l).unwrap());
        }
        assert_eq!(lines.source(SHA).as_deref(), Some(&b"abc"[..]));
        assert_eq!(lines.hash(), Some(SHA));
        assert_eq!(lines.pending().unwrap().len(), 1);
        assert_eq!(lines.stale(), None);
        lines.add(parse("kmigrate:newest\tDemo.Repo\ttenant_a\t20240103120000").unwrap());
        assert_eq!(
            lines.newest("Demo.Repo", Some("tenant_a")),
            Some(20240103120000)
        );
        assert_eq!(lines.newest("Demo.Repo", None), None);
        lines.add(parse(&format!("kmigrate:stale\t{SHA}")).unwrap());
        assert_eq!(lines.stale(), Some(SHA));
    }

    #[test]
    fn table_sizes_and_lock_holders_are_read() {
        let Some(PlanLine::Table(t)) =
            parse("kmigrate:table\tDemo.Repo\t\tpublic\tposts\t1000\t196608")
        else {
            panic!("not read");
        };
        assert_eq!(
            (t.prefix, t.schema.as_str(), t.rows, t.bytes),
            (None, "public", Some(1000), 196608)
        );
        let Some(PlanLine::Table(t)) = parse("kmigrate:table\tDemo.Repo\tt1\tt1\tposts\t-1\t0")
        else {
            panic!("not read");
        };
        assert_eq!(
            (t.prefix.as_deref(), t.rows),
            (Some("t1"), None),
            "never analyzed"
        );
        let line = "kmigrate:holder\tDemo.Repo\t\tposts\t42\tAccessExclusiveLock\tgranted\tblocker\tidle in transaction\t17\tLOCK TABLE posts\tIN x";
        let Some(PlanLine::Holder(h)) = parse(line) else {
            panic!("not read");
        };
        assert_eq!(
            (
                h.pid,
                h.granted,
                h.application.as_str(),
                h.transaction_s,
                h.query.as_str()
            ),
            (42, true, "blocker", Some(17), "LOCK TABLE posts\tIN x")
        );
        for bad in [
            "kmigrate:table\tR\t\tpublic\tposts\tmany\t0",
            "kmigrate:holder\tR\t\tposts\t42\tm\tmaybe\ta\ts\t1\tq",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_running_code_s_schemas_are_read() {
        let Some(PlanLine::Schema(f)) =
            parse("kmigrate:schema\tDemo.Comment\tcomments\t\ttext\tbody")
        else {
            panic!("not read");
        };
        assert_eq!(
            (
                f.module.as_str(),
                f.prefix,
                f.field.as_str(),
                f.column.as_str()
            ),
            ("Demo.Comment", None, "text", "body")
        );
        assert_eq!(
            parse("kmigrate:code\tasked\t3"),
            Some(PlanLine::Code(Ok(3)))
        );
        assert_eq!(
            parse("kmigrate:code\tfailed\tboom"),
            Some(PlanLine::Code(Err("boom".into())))
        );
        assert_eq!(parse("kmigrate:code\tmaybe\t3"), None);
        let mut lines = PlanLines::default();
        assert_eq!(lines.code(), None, "not asked");
        lines.add(PlanLine::Code(Ok(3)));
        assert_eq!(lines.code(), Some(Ok(3)));
    }

    #[test]
    fn a_missing_part_is_no_source_and_bad_lines_are_not_read() {
        let mut lines = PlanLines::default();
        lines.add(parse(&format!("kmigrate:source\t{SHA}\t0\t2\t61")).unwrap());
        assert_eq!(lines.source(SHA), None);
        for bad in [
            format!("kmigrate:source\t{SHA}\t2\t2\t61"),
            format!("kmigrate:source\t{SHA}\t0\t1\t6"),
            format!("kmigrate:source\t{SHA}\t0\t1\tzz"),
            "kmigrate:source\tnothex\t0\t1\t61".to_owned(),
            format!("kmigrate:pending\tR\t\t1\tn\tM\tmaybe\tlock\t{SHA}\tf"),
            format!("kmigrate:pending\tR\t\tx\tn\tM\ttx\tlock\t{SHA}\tf"),
            "kmigrate:planhash\tshort".to_owned(),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_plan_larger_than_the_budget_is_refused() {
        let mut lines = PlanLines::default();
        let part = "61".repeat(SOURCE_CHUNK);
        for i in 0..(MAX_LIST_BYTES / SOURCE_CHUNK + 2) {
            let sha = format!("{i:064x}");
            lines.add(parse(&format!("kmigrate:source\t{sha}\t0\t1\t{part}")).unwrap());
        }
        let p = format!("kmigrate:pending\tR\t\t1\tn\t\ttx\tlock\t{SHA}\tf");
        lines.add(parse(&p).unwrap());
        let err = lines.pending().unwrap_err();
        assert!(err.contains("larger than kmigrate keeps"), "{err}");
    }
}
