//! The plan of a migrate: the pending migrations of each repo (and prefix) as the image
//! ships them, with how Ecto runs each (transaction, migration lock), what the detection
//! rules find in its source, and the hash that `migrate --plan` holds a run to.

pub mod hash;
pub mod impact;
pub mod kind;
pub(crate) mod lexer;
pub mod lint;
pub mod policy;
pub mod rules;

use serde::{Deserialize, Serialize};

use crate::ecto_output::plan_lines::PlanLines;
use crate::ecto_snippet::Range;
pub use rules::{Finding, Kind};

/// The pending migrations and what the rules found in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationPlan {
    /// The plan hash (SHA-256, hex): what `migrate --plan` takes.
    pub hash: String,
    /// Each repo and prefix with pending migrations, in the order they run.
    pub repos: Vec<RepoPlan>,
    /// The tables the findings touch, as the catalog said when the plan was read (not in
    /// the hash: they change between plan and migrate).
    #[serde(default)]
    pub tables: Vec<impact::TableSize>,
    /// Other sessions holding or waiting for a lock on those tables, then.
    #[serde(default)]
    pub holders: Vec<impact::TableHolder>,
    /// Whether the code running now was asked for its Ecto schemas (what
    /// `breaks_running_code` is found against).
    #[serde(default)]
    pub running_code: RunningCode,
}

/// Whether the plan looked at the code running now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunningCode {
    /// Asked: it has this many schemas with a table.
    Asked {
        /// Its schemas with a table.
        schemas: u64,
    },
    /// Not asked (the snippet did not answer): nothing is known about what would break it.
    #[default]
    NotAsked,
    /// The plan was read in a Job of the new image: that is not the code running now.
    NewImage,
    /// Asking failed, for this reason.
    Failed {
        /// Why.
        why: String,
    },
}

impl RunningCode {
    /// For people, when it was not asked: never "compatible" without having looked.
    pub fn unknown(&self) -> Option<String> {
        match self {
            RunningCode::Asked { .. } => None,
            RunningCode::NotAsked => Some(
                "the running code was not asked for its Ecto schemas: whether this plan breaks it is not known".to_owned(),
            ),
            RunningCode::NewImage => Some(
                "the plan was read in a Job of the new image, not in the code running now: whether it breaks the running code is not known".to_owned(),
            ),
            RunningCode::Failed { why } => Some(format!(
                "the running code could not be asked for its Ecto schemas ({why}): whether this plan breaks it is not known"
            )),
        }
    }
}

/// The pending migrations of one repo and prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoPlan {
    /// The repo module.
    pub repo: String,
    /// The schema prefix, if any.
    pub prefix: Option<String>,
    /// Pending migrations, oldest first.
    pub migrations: Vec<PlannedMigration>,
}

/// One pending migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMigration {
    /// Its version.
    pub version: i64,
    /// Its name, from the file name.
    pub name: String,
    /// The module the file defines, as Ecto loads it; `None` when it defines no migration.
    pub module: Option<String>,
    /// The file, relative to the app's directory.
    pub file: String,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// Runs in a transaction (no `@disable_ddl_transaction`).
    pub transaction: bool,
    /// Runs under Ecto's migration lock (no `@disable_migration_lock`).
    pub migration_lock: bool,
    /// Has a destructive finding that is not marked as reviewed.
    pub destructive: bool,
    /// Older than this version, already applied in its repo and prefix: it runs out of
    /// order (and a later `rollback --step` reverts the newer one first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_order_after: Option<i64>,
    /// What the rules found, by line.
    pub findings: Vec<Finding>,
}

impl RepoPlan {
    /// A migration as plans show it: `version name (repo)`, with the prefix when there
    /// is one (as the status-based plans do).
    pub fn line(&self, m: &PlannedMigration) -> String {
        match &self.prefix {
            Some(p) => format!("{} {} ({}, prefix {p})", m.version, m.name, self.repo),
            None => format!("{} {} ({})", m.version, m.name, self.repo),
        }
    }
}

impl MigrationPlan {
    /// Read in a Job of the new image: its schemas are the new code's, not the running
    /// code's, so nothing is said to break it (and nothing is said to be safe).
    pub fn read_in_new_image(&mut self) {
        self.running_code = RunningCode::NewImage;
        for m in self.repos.iter_mut().flat_map(|r| r.migrations.iter_mut()) {
            m.findings.retain(|f| f.kind != Kind::BreaksRunningCode);
            m.destructive = m.findings.iter().any(|f| f.destructive && !f.assured);
        }
    }

    /// Match the plan against the running code's schemas, as that code answered (`lines`)
    /// when it was asked apart from the plan: in Job mode the plan is read in a Job of the
    /// new image, and the code serving traffic is asked in a pod of the Deployment.
    pub fn check_running_code(&mut self, lines: &PlanLines) {
        for m in self.repos.iter_mut().flat_map(|r| r.migrations.iter_mut()) {
            m.findings.retain(|f| f.kind != Kind::BreaksRunningCode);
            m.destructive = m.findings.iter().any(|f| f.destructive && !f.assured);
        }
        self.running_code = against_running_code(&mut self.repos, lines);
    }

    /// The running code's answer when it was asked apart from the plan (Job mode), or why
    /// it could not be asked.
    pub fn asked_apart(&mut self, asked: &Result<PlanLines, String>) {
        match asked {
            Ok(lines) => self.check_running_code(lines),
            Err(why) => self.running_code = RunningCode::Failed { why: why.clone() },
        }
    }

    /// Every pending migration with its repo, in order.
    pub fn migrations(&self) -> impl Iterator<Item = (&RepoPlan, &PlannedMigration)> {
        self.repos
            .iter()
            .flat_map(|r| r.migrations.iter().map(move |m| (r, m)))
    }

    /// What a migrate with this range applies, as Ecto's `pending_all`/`pending_step`/
    /// `pending_to` pick it in each repo (and prefix).
    pub(crate) fn selected(&self, range: Range) -> Vec<(&RepoPlan, &PlannedMigration)> {
        self.repos
            .iter()
            .flat_map(|r| {
                let keep = match range {
                    Range::Step(n) => n.get() as usize,
                    _ => usize::MAX,
                };
                r.migrations
                    .iter()
                    .filter(move |m| match range {
                        Range::To(v) => m.version <= v.get(),
                        Range::ToExclusive(v) => m.version < v.get(),
                        Range::All | Range::Step(_) => true,
                    })
                    .take(keep)
                    .map(move |m| (r, m))
            })
            .collect()
    }

    /// The plan the snippet's lines describe: every source checked against its hash, the
    /// rules applied, and the pod's plan hash checked against kmigrate's.
    pub fn from_lines(lines: &PlanLines) -> Result<Self, String> {
        let pending = lines.pending()?;
        let pod = lines
            .hash()
            .ok_or("the plan ended without its hash (did the snippet finish?)")?;
        let ours = hash::plan_hash(pending.iter().map(|p| hash::Entry {
            repo: &p.repo,
            prefix: p.prefix.as_deref(),
            version: p.version,
            name: &p.name,
            sha256: &p.sha256,
        }));
        if ours != pod {
            return Err(format!(
                "the pod computed plan hash {pod}, kmigrate {ours} from the same lines; the plan is not used"
            ));
        }
        let mut repos: Vec<(RepoPlan, Vec<String>)> = Vec::new();
        for p in pending {
            let source = lines.source(&p.sha256).ok_or_else(|| {
                format!(
                    "the source of migration {} did not arrive whole; the plan is not used",
                    p.version
                )
            })?;
            if hash::sha256(&source) != p.sha256 {
                return Err(format!(
                    "the source of migration {} does not match its SHA-256; the plan is not used",
                    p.version
                ));
            }
            let flags = rules::Flags {
                transaction: p.transaction,
                migration_lock: p.migration_lock,
            };
            let analysis = rules::analyze_with(&String::from_utf8_lossy(&source), flags);
            let at = match repos
                .iter()
                .position(|(r, _)| r.repo == p.repo && r.prefix == p.prefix)
            {
                Some(at) => at,
                None => {
                    repos.push((
                        RepoPlan {
                            repo: p.repo.clone(),
                            prefix: p.prefix.clone(),
                            migrations: Vec::new(),
                        },
                        Vec::new(),
                    ));
                    repos.len() - 1
                }
            };
            let (repo, created) = &mut repos[at];
            // A table an earlier migration of this plan creates is empty, and unknown to
            // the running code, when this one runs.
            let findings: Vec<Finding> = analysis
                .findings
                .into_iter()
                .filter(|f| !rules::on_new_table(f.kind, f.table.as_deref(), created))
                .collect();
            created.extend(analysis.creates);
            repo.migrations.push(PlannedMigration {
                version: p.version,
                name: p.name.clone(),
                module: p.module.clone(),
                file: p.file.clone(),
                sha256: p.sha256.clone(),
                transaction: p.transaction,
                migration_lock: p.migration_lock,
                destructive: findings.iter().any(|f| f.destructive && !f.assured),
                out_of_order_after: lines
                    .newest(&p.repo, p.prefix.as_deref())
                    .filter(|&newest| p.version < newest),
                findings,
            });
        }
        let mut repos: Vec<RepoPlan> = repos.into_iter().map(|(r, _)| r).collect();
        let running_code = against_running_code(&mut repos, lines);
        let mut touched: Vec<impact::TableSize> = Vec::new();
        for r in &mut repos {
            let shown = r.clone();
            for f in r.migrations.iter_mut().flat_map(|m| m.findings.iter_mut()) {
                f.impact = impact::of(f, &shown, lines.tables(), lines.holders());
                let table = lines.tables().iter().find(|t| {
                    f.impact.as_ref().is_some_and(|i| i.schema.is_some())
                        && t.repo == r.repo
                        && t.prefix == r.prefix
                        && Some(t.table.as_str()) == f.table.as_deref()
                });
                if let Some(t) = table.filter(|t| !touched.contains(t)) {
                    touched.push(t.clone());
                }
            }
        }
        let holders = lines
            .holders()
            .iter()
            .filter(|h| touched.iter().any(|t| impact::same_table(h, t)))
            .cloned()
            .collect();
        Ok(Self {
            hash: ours,
            repos,
            tables: touched,
            holders,
            running_code,
        })
    }
}

/// What the running code answered (`lines`); when it was asked, each destructive finding
/// that breaks one of its schemas is joined by a `breaks_running_code` finding.
fn against_running_code(repos: &mut [RepoPlan], lines: &PlanLines) -> RunningCode {
    let running_code = match lines.code() {
        Some(Ok(schemas)) => RunningCode::Asked { schemas },
        Some(Err(why)) => RunningCode::Failed { why },
        None => RunningCode::NotAsked,
    };
    if matches!(running_code, RunningCode::Asked { .. }) {
        for r in repos {
            for m in &mut r.migrations {
                let breaks = rules::breaks_running_code::against(
                    &m.findings,
                    r.prefix.as_deref(),
                    lines.schemas(),
                );
                m.destructive |= !breaks.is_empty();
                m.findings.extend(breaks);
                m.findings.sort_by_key(|f| (f.line, f.kind));
            }
        }
    }
    running_code
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pending migration of `Demo.Repo` named `m<version>` whose source is `source`.
    pub fn migration(version: i64, source: &str) -> PlannedMigration {
        let findings = rules::analyze(source).findings;
        PlannedMigration {
            version,
            name: format!("m{version}"),
            module: Some(format!("Demo.Repo.Migrations.M{version}")),
            file: format!("priv/repo/migrations/{version}_m{version}.exs"),
            sha256: hash::sha256(source.as_bytes()),
            transaction: true,
            migration_lock: true,
            destructive: findings.iter().any(|f| f.destructive && !f.assured),
            out_of_order_after: None,
            findings,
        }
    }

    /// What the plan snippet prints for these pending migrations of `Shop.Repo`:
    /// (version, name, source), each run as `__migration__/0` says of its attributes.
    pub fn plan_output(pending: &[(i64, &str, &str)]) -> String {
        let mut out = String::new();
        for (v, n, source) in pending {
            let sha = hash::sha256(source.as_bytes());
            let flags = rules::Flags::of_source(source);
            let tx = if flags.transaction { "tx" } else { "notx" };
            let lock = if flags.migration_lock {
                "lock"
            } else {
                "nolock"
            };
            out.push_str(&format!(
                "kmigrate:pending\tShop.Repo\t\t{v}\t{n}\tShop.Repo.Migrations.M{v}\t{tx}\t{lock}\t{sha}\tpriv/repo/migrations/{v}_{n}.exs\n"
            ));
            let hex: String = source.bytes().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("kmigrate:source\t{sha}\t0\t1\t{hex}\n"));
        }
        out.push_str(&format!("kmigrate:planhash\t{}\n", plan_hash(pending)));
        out.push_str("kmigrate:code\tasked\t0\n");
        out
    }

    /// The plan hash of these pending migrations of `Shop.Repo`.
    pub fn plan_hash(pending: &[(i64, &str, &str)]) -> String {
        let shas: Vec<String> = pending
            .iter()
            .map(|(_, _, s)| hash::sha256(s.as_bytes()))
            .collect();
        hash::plan_hash(
            pending
                .iter()
                .zip(&shas)
                .map(|((v, n, _), sha)| hash::Entry {
                    repo: "Shop.Repo",
                    prefix: None,
                    version: *v,
                    name: n,
                    sha256: sha,
                }),
        )
    }

    /// The plan read back from [`plan_output`].
    fn read(output: &str) -> Result<MigrationPlan, String> {
        let mut lines = PlanLines::default();
        for l in output.lines() {
            lines.add(crate::ecto_output::plan_lines::parse(l).expect("a plan line"));
        }
        MigrationPlan::from_lines(&lines)
    }

    /// In Job mode the plan comes from a Job of the new image and the running code's
    /// answer from a pod of the Deployment: matched afterwards, as if read together; a new
    /// answer replaces an earlier one.
    #[test]
    fn the_running_code_asked_apart_is_matched_against_the_plan() {
        let remove = "def change do\n  alter table(:posts) do\n    remove :title\n  end\nend\n";
        let mut plan = read(&plan_output(&[(4, "remove_title", remove)])).unwrap();
        plan.read_in_new_image();
        assert_eq!(plan.running_code, RunningCode::NewImage);
        let answer = |text: &str| {
            let mut lines = PlanLines::default();
            for l in text.lines() {
                lines.add(crate::ecto_output::plan_lines::parse(l).expect("a plan line"));
            }
            lines
        };
        let maps = answer(
            "kmigrate:schema\tShop.Post\tposts\t\theadline\ttitle\nkmigrate:code\tasked\t1\n",
        );
        for _ in 0..2 {
            plan.check_running_code(&maps);
            let kinds: Vec<Kind> = plan.repos[0].migrations[0]
                .findings
                .iter()
                .map(|f| f.kind)
                .collect();
            assert_eq!(kinds, [Kind::ColumnRemoved, Kind::BreaksRunningCode]);
            assert_eq!(plan.running_code, RunningCode::Asked { schemas: 1 });
        }
        plan.check_running_code(&answer("kmigrate:code\tasked\t0\n"));
        let kinds: Vec<Kind> = plan.repos[0].migrations[0]
            .findings
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(kinds, [Kind::ColumnRemoved], "the field left the schema");
        // Not asked (no pod to ask): said why, never that nothing breaks.
        plan.asked_apart(&Err("the Deployment has no pod".to_owned()));
        assert!(
            plan.running_code
                .unknown()
                .is_some_and(|s| s.contains("the Deployment has no pod")),
            "{:?}",
            plan.running_code
        );
    }

    #[test]
    fn a_table_created_earlier_in_the_plan_is_new_when_it_is_indexed() {
        let create = "def up do\n  execute \"CREATE TABLE tags (id int, name text)\"\nend\n";
        let index = "def change do\n  create index(:tags, [:name])\n  create index(:posts, [:tag_id])\nend\n";
        let not_null = "def change do\n  alter table(:tags) do\n    add :slug, :text, null: false\n  end\nend\n";
        let plan = read(&plan_output(&[
            (1, "tags", create),
            (2, "index", index),
            (3, "slug", not_null),
        ]))
        .unwrap();
        let tables: Vec<Vec<Option<&str>>> = plan
            .migrations()
            .map(|(_, m)| m.findings.iter().map(|f| f.table.as_deref()).collect())
            .collect();
        assert_eq!(
            tables,
            [vec![None], vec![Some("posts")], vec![]],
            "only posts already exists"
        );
        assert!(plan.migrations().all(|(_, m)| !m.destructive));
        // Without the table's creation in the plan, both count.
        let plan = read(&plan_output(&[(2, "index", index), (3, "slug", not_null)])).unwrap();
        let kinds: Vec<Vec<Kind>> = plan
            .migrations()
            .map(|(_, m)| m.findings.iter().map(|f| f.kind).collect())
            .collect();
        assert_eq!(
            kinds,
            [
                vec![Kind::IndexNotConcurrently, Kind::IndexNotConcurrently],
                vec![Kind::NotNullAdded]
            ]
        );
        assert!(plan.repos[0].migrations[1].destructive);
    }

    #[test]
    fn a_plan_is_used_only_when_every_part_checks_out() {
        let src = "def up do\n  execute \"SELECT 1\"\nend\n";
        let good = plan_output(&[(1, "one", src)]);
        assert!(read(&good).is_ok());
        let lost = good
            .lines()
            .filter(|l| !l.starts_with("kmigrate:source"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(read(&lost).unwrap_err().contains("did not arrive whole"));
        let other = plan_output(&[(1, "one", "x")]);
        let swapped: String = good
            .lines()
            .filter(|l| !l.starts_with("kmigrate:source"))
            .chain(other.lines().filter(|l| l.starts_with("kmigrate:source")))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(read(&swapped).unwrap_err().contains("did not arrive whole"));
        let no_hash: String = good
            .lines()
            .filter(|l| !l.starts_with("kmigrate:planhash"))
            .collect();
        assert!(read(&no_hash).unwrap_err().contains("without its hash"));
    }

    #[test]
    fn selection_follows_ecto_ranges() {
        use crate::ecto_snippet::{Step, Version};
        let plan = MigrationPlan {
            hash: String::new(),
            tables: vec![],
            holders: vec![],
            running_code: RunningCode::NotAsked,
            repos: vec![repo(vec![
                migration(1, ""),
                migration(2, ""),
                migration(3, ""),
            ])],
        };
        let versions = |range| -> Vec<i64> {
            plan.selected(range)
                .iter()
                .map(|(_, m)| m.version)
                .collect()
        };
        assert_eq!(versions(Range::All), [1, 2, 3]);
        assert_eq!(versions(Range::Step(Step::parse("2").unwrap())), [1, 2]);
        assert_eq!(versions(Range::To(Version::from(2))), [1, 2]);
        assert_eq!(versions(Range::ToExclusive(Version::from(2))), [1]);
    }

    /// `Demo.Repo` without a prefix, with these migrations.
    pub fn repo(migrations: Vec<PlannedMigration>) -> RepoPlan {
        RepoPlan {
            repo: "Demo.Repo".into(),
            prefix: None,
            migrations,
        }
    }

    /// `plan` (and so a protected `migrate`) and `lint` find the same in every file of the
    /// corpus, each migration alone in its plan.
    #[test]
    fn plan_and_lint_find_the_same_in_every_corpus_file() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus");
        let mut checked = 0;
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let plan = read(&plan_output(&[(1, "m", &source)])).unwrap();
            let planned: Vec<(Kind, u32, bool)> = plan.repos[0].migrations[0]
                .findings
                .iter()
                .map(|f| (f.kind, f.line, f.assured))
                .collect();
            let linted: Vec<(Kind, u32, bool)> = super::lint::lint_source("m.exs", &source)
                .findings
                .iter()
                .map(|f| (f.kind, f.line, f.assured))
                .collect();
            assert_eq!(planned, linted, "{}", path.display());
            checked += usize::from(!linted.is_empty());
        }
        assert!(checked > 30, "the corpus has findings to compare");
    }
}
