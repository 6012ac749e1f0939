//! How the Elixir snippet sent to `<release> eval` (or `rpc`) is built.
//!
//! The Elixir is in `elixir/*.exs`, read as it is written there; kmigrate writes only the
//! bindings above it ([`bindings`]), from validated values. It calls `Ecto.Migrator` as
//! ecto_sql defines it (`lib/ecto/migrator.ex`), with three choices that keep kmigrate's
//! promises whatever the app's configuration:
//! - The status is read with `migrations/3` and `migration_lock: false,
//!   skip_table_creation: true` (ecto_sql ≥ 3.6.1): it neither waits behind a running
//!   migration's lock nor creates the table. On a database without the table every
//!   migration file is pending, listed as `extract_migration_info/1` names them.
//! - Who holds Ecto's migration lock (the `LOCK TABLE ... IN SHARE UPDATE EXCLUSIVE MODE`
//!   of `Ecto.Adapters.Postgres.lock_for_migrations/3`, or its advisory lock keyed by
//!   `:erlang.phash2({:ecto, prefix, repo})`) is read from `pg_locks`.
//! - Migrate and rollback first read the status of every repo and prefix, refuse what
//!   cannot be right (an unknown `--to`, a rollback over several repos) before anything
//!   runs, print the plan, then run one migration at a time with `run/4` and `to:`,
//!   printing a tagged line after each. What was applied is then known from kmigrate's
//!   own lines, not from Ecto's Logger output (which the app's level, formatter and, in
//!   `rpc` mode, the live node's own log decide), also when a later migration raises.

mod bindings;
mod elixir;
mod plan;
mod probe;
mod values;
mod versions;
mod wait;

pub use plan::{PlanHash, SOURCE_CHUNK};
#[cfg(test)]
pub use values::Step;
pub use values::{
    AppName, Concurrency, MigrationPath, Mode, Prefix, Range, RepoModule, RunId, TenantQuery,
    Version,
};

use bindings::{Bindings, Literal};
pub use versions::{ECTO_SQL_FLOORS, Floor, floor};

/// Every Elixir file, by name, for the tests that read them all.
#[cfg(test)]
pub(crate) use elixir::ALL as ELIXIR_FILES;

/// What the snippet asks Ecto to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Run migrations up.
    Migrate(Range),
    /// Run migrations down.
    Rollback(Range),
    /// Run exactly these migrations down, newest first, as a preview showed them (and a
    /// person confirmed them); if any is no longer applied, run nothing.
    RollbackExactly(Vec<Version>),
    /// Print every migration's state, and who holds the migration lock.
    Status,
    /// Wait, reading like `Status`, until nothing is pending or this deadline passed.
    Wait(std::time::Duration),
    /// Print the pending migrations, their files and how Ecto runs them, and the plan hash.
    Plan,
    /// Run migrations up, only if the plan hash is still this one.
    MigratePlanned(Range, PlanHash),
}

/// What a migrate or rollback is told to select: a range, as Ecto's `run/4` takes one,
/// or the exact versions a preview showed.
#[derive(Clone, Copy)]
enum Select<'a> {
    Range(Range),
    Exactly(&'a [Version]),
}

/// Seconds between heartbeats.
pub const HEARTBEAT_SECONDS: u64 = 20;

/// The name `migrations/3` gives a version in the database without a file.
pub const FILE_NOT_FOUND: &str = "** FILE NOT FOUND **";

/// The validated values a snippet is built from.
#[derive(Debug, Clone)]
pub struct Snippet {
    /// The OTP app to load (in an umbrella, the app whose env lists the repos).
    pub app: AppName,
    /// Explicit repos; empty means the app's `:ecto_repos`.
    pub repos: Vec<RepoModule>,
    /// Schema prefixes; empty means none (the default schema).
    pub prefixes: Vec<Prefix>,
    /// Migrations directories that replace each repo's default (`--migrations-path`).
    pub paths: Vec<MigrationPath>,
    /// Log each migration's SQL (`log_migrations_sql: :info`, `log_sql:` before ecto_sql 3.7.1).
    pub log_sql: bool,
    /// The run's database sessions.
    pub session: Session,
    /// Where the prefixes come from besides `prefixes`, and how they are run.
    pub tenants: Tenants,
}

/// Tenants (schema prefixes): where they come from, and how a migrate goes through them.
#[derive(Debug, Clone, Default)]
pub struct Tenants {
    /// `--prefixes-from`: the prefixes are the names this query returns (instead of
    /// `prefixes`), each checked in the snippet as [`Prefix::parse`] checks a flag's.
    pub query: Option<TenantQuery>,
    /// `--allow-no-tenants`: a query that returns no names is nothing to do, not a refusal.
    pub allow_none: bool,
    /// `--canary`: migrated first, one at a time; a failure there stops the run.
    pub canaries: Vec<Prefix>,
    /// `--concurrency`: tenants migrated at once after the canaries.
    pub concurrency: Concurrency,
    /// `--continue-on-error`: a failing tenant does not stop the others.
    pub keep_going: bool,
}

/// The run's own database sessions: named after the run, bounded by its timeouts.
#[derive(Debug, Clone)]
pub struct Session {
    /// Names the sessions `kmigrate-<migrate|rollback|status>-<run>`, so that later runs
    /// see this one in `pg_stat_activity`.
    pub run: RunId,
    /// Whether the snippet runs in a VM of its own (`eval`): only there may it set the repos'
    /// connection parameters (in `rpc` the repo is the live app's pool, which must not
    /// change) or load migration files before a confirmation.
    pub named: bool,
    /// PostgreSQL `lock_timeout` for the run's sessions.
    pub lock_timeout: Option<std::time::Duration>,
    /// PostgreSQL `statement_timeout` for the run's sessions.
    pub statement_timeout: Option<std::time::Duration>,
    /// Wait for another run's sessions to end instead of refusing.
    pub wait: bool,
}

impl Snippet {
    /// The Elixir code for an operation: its bindings, then its files, folded.
    pub fn elixir(&self, op: Operation) -> String {
        let (bindings, files) = self.parts(op);
        sent(bindings, &files)
    }

    /// The bindings the prelude reads: the app, its repos, prefixes, paths and whether the
    /// run has tenants.
    fn prelude_bindings(&self) -> Bindings {
        let mut b = Bindings::default();
        b.bind("app", Literal::atom(&self.app))
            .bind("named_repos", modules(&self.repos))
            .bind(
                "prefixes",
                if self.prefixes.is_empty() {
                    // One pass, on the default schema.
                    Literal::list([Literal::code("nil")])
                } else {
                    strings(&self.prefixes)
                },
            )
            .bind(
                "paths",
                Literal::list(self.paths.iter().map(|p| Literal::string(p.as_str()))),
            )
            .bind(
                "tenant_run",
                Literal::bool(!self.prefixes.is_empty() || self.tenants.query.is_some()),
            )
            .bind("ecto_sql_floors", versions::binding());
        b
    }

    /// The running code's Ecto schemas alone (the prelude and `code.exs`): in Job mode the
    /// plan is read in a Job of the new image, and the code serving traffic now is asked
    /// in a pod of its own.
    pub fn schemas_argv(&self, release: &str, mode: Mode) -> Vec<String> {
        let files = [elixir::PRELUDE, elixir::CODE, elixir::END];
        vec![
            release.to_owned(),
            verb(mode).to_owned(),
            sent(self.prelude_bindings(), &files),
        ]
    }

    /// The bindings and the files of an operation, in the order they run.
    fn parts(&self, op: Operation) -> (Bindings, Vec<&'static str>) {
        let mut b = self.prelude_bindings();
        let mut files = vec![elixir::PRELUDE];
        let verb = match op {
            Operation::Status => Some("status"),
            Operation::Migrate(_) | Operation::MigratePlanned(..) => Some("migrate"),
            Operation::Rollback(_) | Operation::RollbackExactly(_) => Some("rollback"),
            // The wait snippet is pasted into Deployments by `gate`: it names no session
            // and looks for no other run, so the same gate is the same text every time
            // (another text would start a rollout).
            Operation::Wait(_) => None,
            Operation::Plan => Some("plan"),
        };
        if let Some(verb) = verb {
            b.bind("heartbeat_s", Literal::int(HEARTBEAT_SECONDS));
            self.session(&mut b, verb);
            files.extend([elixir::PULSE, elixir::SESSION_CHECK, elixir::SESSION]);
        }
        if let Some(query) = &self.tenants.query {
            b.bind("tenant_query_hex", Literal::string(&query.hex()))
                .bind("allow_no_tenants", Literal::bool(self.tenants.allow_none));
            files.push(elixir::TENANTS);
        }
        match op {
            Operation::Status => files.extend([elixir::LOCKS, elixir::STATUS]),
            Operation::Migrate(range) => {
                self.change(&mut b, &mut files, Select::Range(range), true, None);
            }
            // A rollback acts on one tenant: canaries, concurrency and continue-on-error
            // are a migrate's.
            Operation::Rollback(range) => {
                self.change(&mut b, &mut files, Select::Range(range), false, None);
            }
            Operation::RollbackExactly(versions) => {
                self.change(&mut b, &mut files, Select::Exactly(&versions), false, None);
            }
            Operation::MigratePlanned(range, hash) => {
                self.change(&mut b, &mut files, Select::Range(range), true, Some(hash));
            }
            Operation::Wait(deadline) => wait::add(&mut b, &mut files, deadline),
            Operation::Plan => plan::add(&mut b, &mut files, self.session.named),
        }
        files.push(elixir::END);
        (b, files)
    }

    /// The name of the run's sessions, `kmigrate-<verb>-<run id>`.
    fn session_name(&self, verb: &str) -> String {
        format!("kmigrate-{verb}-{}", self.session.run.as_str())
    }

    /// The session bindings: names and parameters in a VM of its own, none in `rpc`.
    fn session(&self, b: &mut Bindings, verb: &str) {
        b.bind("session_parameters", self.session_parameters(verb, None))
            .bind("run_id", Literal::string(self.session.run.as_str()));
    }

    /// Postgrex's `:parameters` of the run's sessions (none in `rpc`): the name, and the
    /// timeouts, or `lock_timeout` when there is none (doctor asks whether one would apply).
    fn session_parameters(&self, verb: &str, lock_timeout: Option<std::time::Duration>) -> Literal {
        let s = &self.session;
        let mut params = Vec::new();
        if s.named {
            params.push((
                "application_name",
                Literal::string(&self.session_name(verb)),
            ));
            let ms = |d: std::time::Duration| Literal::string(&d.as_millis().max(1).to_string());
            if let Some(d) = s
                .lock_timeout
                .or(lock_timeout.filter(|_| s.statement_timeout.is_none()))
            {
                params.push(("lock_timeout", ms(d)));
            }
            if let Some(d) = s.statement_timeout {
                params.push(("statement_timeout", ms(d)));
            }
        }
        Literal::keyword(params)
    }

    /// A migrate (`up`) or rollback, held to `pin` when given: settle, read, check, plan
    /// and run, going through the tenants as `self.tenants` says (a rollback ignores it).
    fn change(
        &self,
        b: &mut Bindings,
        files: &mut Vec<&'static str>,
        select: Select<'_>,
        up: bool,
        pin: Option<PlanHash>,
    ) {
        let tenants = if up {
            self.tenants.clone()
        } else {
            Tenants::default()
        };
        // The watcher looks for lock waits of the sessions it can name: none in `rpc`.
        let name = if self.session.named {
            self.session_name(if up { "migrate" } else { "rollback" })
        } else {
            String::new()
        };
        b.bind("session_name", Literal::string(&name))
            .bind("wait_for_other_runs", Literal::bool(self.session.wait));
        files.extend([
            elixir::LOCKS,
            elixir::SETTLE,
            elixir::WATCH,
            elixir::CHANGE_READ,
        ]);
        if !up {
            files.push(elixir::CHECK_ONE_REPO);
        }
        if !tenants.canaries.is_empty() {
            files.push(elixir::CHECK_CANARY);
        }
        if let Select::Range(Range::To(_) | Range::ToExclusive(_)) = select {
            files.push(elixir::CHECK_TO);
        }
        if let Some(hash) = pin {
            b.bind("planned_hash", Literal::string(&hash.to_string()));
            files.extend([elixir::PLAN_FILES, elixir::PLAN_PIN]);
        }
        let direction = if up { ":up" } else { ":down" };
        let range = match select {
            Select::Range(Range::All) => Literal::code(":all"),
            Select::Range(Range::Step(n)) => {
                Literal::tuple([Literal::code(":step"), Literal::int(n.get())])
            }
            Select::Range(Range::To(v)) => {
                Literal::tuple([Literal::code(":to"), Literal::int(v.get())])
            }
            Select::Range(Range::ToExclusive(v)) => {
                Literal::tuple([Literal::code(":to_exclusive"), Literal::int(v.get())])
            }
            Select::Exactly(versions) => Literal::tuple([
                Literal::code(":exactly"),
                Literal::list(versions.iter().map(|v| Literal::int(v.get()))),
            ]),
        };
        b.bind("direction", Literal::code(direction))
            .bind("range", range)
            .bind("log_sql", Literal::bool(self.log_sql))
            .bind("canaries", strings(&tenants.canaries))
            .bind("concurrency", Literal::int(tenants.concurrency.get()))
            .bind("keep_going", Literal::bool(tenants.keep_going))
            .bind("pool_size", Literal::int(pool_size(tenants.concurrency)));
        files.extend([elixir::CHANGE_PLAN, elixir::CHANGE_RUN]);
    }

    /// The remote argv: `<release> eval|rpc <snippet>`.
    pub fn argv(&self, release: &str, mode: Mode, op: Operation) -> Vec<String> {
        vec![release.to_owned(), verb(mode).to_owned(), self.elixir(op)]
    }
}

/// A snippet as it is sent: the bindings, then the files folded.
fn sent(bindings: Bindings, files: &[&str]) -> String {
    let mut code = bindings.into_code() + &elixir::fold(files);
    code.truncate(code.trim_end().len());
    code
}

/// The release command a mode runs snippets with.
pub fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Eval => "eval",
        Mode::Rpc => "rpc",
    }
}

/// The repos as a list of modules.
fn modules(repos: &[RepoModule]) -> Literal {
    Literal::list(repos.iter().map(Literal::module))
}

/// The prefixes as a list of strings.
fn strings(prefixes: &[Prefix]) -> Literal {
    Literal::list(prefixes.iter().map(|p| Literal::string(p.as_str())))
}

/// The pool a migrate or rollback starts each repo with: per tenant running at once, one
/// connection holds Ecto's migration lock (`lock_for_migrations/3` keeps it for the whole
/// migration) and one runs the migration (`async_migrate_maybe_in_transaction/7`'s Task);
/// one more serves the watcher's queries. Ecto refuses a pool of 1, and DBConnection makes
/// a caller that finds no free connection wait, then drops it: a pool too small fails
/// migrations, not only slows them.
pub fn pool_size(concurrency: Concurrency) -> u32 {
    2 * concurrency.get() + 1
}

/// The app name a release path implies: `/app/bin/my_app` gives `my_app`.
pub fn app_from_release(release: &str) -> Option<&str> {
    release.rsplit('/').next().filter(|s| !s.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The demo app's snippet values, for other test modules.
    pub(super) fn demo_snippet() -> Snippet {
        demo()
    }

    pub(super) fn demo() -> Snippet {
        Snippet {
            app: AppName::parse("demo").unwrap(),
            repos: vec![],
            prefixes: vec![],
            paths: vec![],
            log_sql: false,
            session: session(),
            tenants: Tenants::default(),
        }
    }

    /// The app `shop` with these repos and prefixes (none: the app's and the default).
    pub(crate) fn shop(repos: &[&str], prefixes: &[&str]) -> Snippet {
        Snippet {
            app: AppName::parse("shop").unwrap(),
            repos: repos
                .iter()
                .map(|r| RepoModule::parse(r).unwrap())
                .collect(),
            prefixes: prefixes.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
            paths: vec![],
            log_sql: false,
            session: session(),
            tenants: Default::default(),
        }
    }

    /// A run's sessions in eval mode, with no limits.
    pub(crate) fn session() -> Session {
        Session {
            run: RunId::parse("ab12cd34").unwrap(),
            named: true,
            lock_timeout: None,
            statement_timeout: None,
            wait: false,
        }
    }

    /// The code on one line, without the spaces just inside brackets: a fragment reads the
    /// same however `mix format` broke its lines.
    pub(crate) fn flat(code: &str) -> String {
        let line = code
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        [("( ", "("), (" )", ")"), ("[ ", "["), (" ]", "]")]
            .iter()
            .fold(line, |s, (from, to)| s.replace(from, to))
    }

    /// An operation's bindings, and the code after them.
    pub(crate) fn split(s: &Snippet, op: Operation) -> (String, String) {
        let code = s.elixir(op.clone());
        let bindings = s.parts(op).0.into_code();
        assert!(code.starts_with(&bindings), "{code}");
        let body = code[bindings.len()..].to_owned();
        (bindings, body)
    }

    #[test]
    fn status_reads_without_the_lock_or_creating_the_table() {
        let (bindings, body) = split(&demo(), Operation::Status);
        assert!(bindings.starts_with("app = :demo\n"), "{bindings}");
        assert!(body.starts_with("Application.load(app)\n"), "{body}");
        assert!(bindings.contains("named_repos = []\n"));
        assert!(body.contains(
            "repos = if named_repos == [], do: Application.fetch_env!(app, :ecto_repos), else: named_repos\n"
        ));
        let code = flat(&body);
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("Ecto.Migrator.migrations(repo, migration_paths.(repo),"));
        assert!(code.contains(r#"say.("kmigrate:status", ["#));
        assert!(code.contains("pg_locks"));
        assert!(code.contains(":erlang.phash2({:ecto, prefix, holder})"));
        assert!(!code.contains("Ecto.Migrator.run("));
    }

    /// Every snippet kmigrate follows by exec beats from its first step (right after the
    /// app is loaded): a status, plan, migrate or rollback that prints nothing for the idle
    /// limit is a lost connection, not a slow read. The wait snippet is left as it is (the
    /// gate pastes it into Deployments): its rounds are its beat.
    #[test]
    fn status_plan_migrate_and_rollback_beat_from_their_first_step() {
        for op in [
            Operation::Status,
            Operation::Plan,
            Operation::Migrate(Range::All),
            Operation::Rollback(Range::Step(Step::parse("1").unwrap())),
        ] {
            let (bindings, body) = split(&demo(), op.clone());
            assert!(
                bindings.contains("heartbeat_s = 20\n"),
                "{op:?}: {bindings}"
            );
            let code = flat(&body);
            assert!(
                comes_before(
                    &code,
                    r#"say.("kmigrate:heartbeat", [seconds + heartbeat_s])"#,
                    "Ecto.Migrator.with_repo("
                ),
                "{op:?}: {code}"
            );
        }
        let (_, wait) = split(&demo(), Operation::Wait(std::time::Duration::from_secs(60)));
        assert!(!wait.contains("kmigrate:heartbeat"));
    }

    /// Whether `first` is in `code`, before `then`.
    fn comes_before(code: &str, first: &str, then: &str) -> bool {
        matches!((code.find(first), code.find(then)), (Some(a), Some(b)) if a < b)
    }

    #[test]
    fn migrate_plans_then_runs_one_migration_at_a_time() {
        let (bindings, body) = split(&demo(), Operation::Migrate(Range::All));
        assert!(
            bindings.contains("direction = :up\nrange = :all\n"),
            "{bindings}"
        );
        let code = flat(&body);
        assert!(code.contains("pending = fn rows -> for {:down, v, n} <- rows, do: {v, n} end"));
        assert!(code.contains("{:up, :all} -> pending.(rows)"));
        assert!(code.contains(
            "todo = for {repo, prefix, rows} <- plans, do: {repo, prefix, select.(rows)}"
        ));
        assert!(code.contains(
            "Ecto.Migrator.run(repo, [modules[{repo, version}]], direction, [to: version] ++ run_options"
        ));
        // Each file compiled once, before anything runs: the `.exs` the status named.
        assert!(code.contains(r##"Path.join([dir, "**", "#{version}_*.exs"])"##));
        assert!(code.contains(r##"Path.basename(file) == "#{version}_#{name}.exs""##));
        assert!(!code.contains("{ex,exs}"), "never a .ex");
        // Duplicates refused before anything runs, as ensure_no_duplication!/1 does.
        assert!(comes_before(
            &code,
            "migration version #{version} is duplicated",
            "Code.compile_file(file)"
        ));
        let at = |s: &str| code.find(s).unwrap_or_else(|| panic!("no {s:?} in {code}"));
        assert!(at("Code.compile_file(file)") < at("modules = Map.new("));
        assert!(at("modules = Map.new(") < at("with_repo(repo, fn _ -> inner.() end"));
        assert!(at("with_repo(repo, fn _ -> inner.() end") < at("results = run_in_repos.()"));
        assert!(code.contains(r#"say.("kmigrate:plan", ["#));
        assert!(code.contains(r#"say.("kmigrate:ran", ["#));
        assert!(!code.contains("a rollback acts on one repo"));
        let step = Operation::Migrate(Range::Step(Step::parse("2").unwrap()));
        let (bindings, body) = split(&demo(), step);
        assert!(bindings.contains("direction = :up\nrange = {:step, 2}\n"));
        assert!(flat(&body).contains("{:up, {:step, count}} -> Enum.take(pending.(rows), count)"));
    }

    #[test]
    fn to_must_exist_and_rollback_wants_one_repo() {
        let s = Snippet {
            app: AppName::parse("shop").unwrap(),
            repos: vec![RepoModule::parse("Shop.Repo").unwrap()],
            prefixes: vec![Prefix::parse("tenant_a").unwrap()],
            paths: vec![MigrationPath::parse("priv/repo/data").unwrap()],
            log_sql: true,
            session: session(),
            tenants: Tenants::default(),
        };
        let op = Operation::Rollback(Range::To(Version::from(20240102)));
        let (bindings, body) = split(&s, op);
        assert!(bindings.contains("named_repos = [Shop.Repo]\n"));
        assert!(bindings.contains("prefixes = [\"tenant_a\"]\n"));
        assert!(bindings.contains("paths = [\"priv/repo/data\"]\n"));
        assert!(bindings.contains("log_sql = true\n"));
        assert!(bindings.contains("direction = :down\nrange = {:to, 20240102}\n"));
        let code = flat(&body);
        assert!(code.contains("{_, to} = range"));
        assert!(
            code.contains(r#"v == to end) end) do refuse.("version #{to} is not a migration of ""#),
            "{code}"
        );
        assert!(code.contains("a rollback acts on one repo"));
        assert!(code.contains(
            r#"{:down, {:to, to}} -> Enum.reverse(for {:up, v, n} <- rows, n != "** FILE NOT FOUND **", v >= to, do: {v, n})"#
        ));
        assert!(code.contains("direction, [to: version]"));
        // Each check comes after the status is read, and before the plan is said.
        let at = |s: &str| code.find(s).unwrap_or_else(|| panic!("no {s:?} in {code}"));
        assert!(at("plans = for") < at("a rollback acts on one repo"));
        assert!(at("a rollback acts on one repo") < at("{_, to} = range"));
        assert!(at("{_, to} = range") < at("todo = for"));
    }

    #[test]
    fn the_run_names_and_bounds_its_own_sessions_in_eval_only() {
        let mut s = demo();
        s.session.lock_timeout = Some(std::time::Duration::from_secs(2));
        s.session.statement_timeout = Some(std::time::Duration::from_millis(1500));
        let (bindings, body) = split(&s, Operation::Migrate(Range::All));
        assert!(
            bindings.contains(r#"session_parameters = [application_name: "kmigrate-migrate-ab12cd34", lock_timeout: "2000", statement_timeout: "1500"]"#),
            "{bindings}"
        );
        let code = flat(&body);
        assert!(
            code.contains(
                "merged = Keyword.merge(Keyword.get(config, :parameters, []), parameters)"
            )
        );
        assert!(code.contains("Keyword.put(config, :parameters, merged)"));
        assert!(code.contains(
            "for repo <- Enum.uniq(repos ++ Enum.map(repos, versions_repo)) do put_parameters.(repo, session_parameters) end"
        ));
        assert!(bindings.contains("run_id = \"ab12cd34\"\n"));
        assert!(code.contains("application_name NOT LIKE '%-#{run_id}'"));
        // Behind PgBouncer an idle server session keeps an ended run's name.
        assert!(code.contains("AND (state IS DISTINCT FROM 'idle' OR pid IN"));
        // Before anything runs, the run's session shows its parameters are in force.
        assert!(code.contains("session_check = fn repo, parameters ->"));
        assert!(code.contains("check_session.(r) keep_idle_lock.(r) settle.(r)"));
        // The watcher has a connection of its own; a timeout is tagged, then re-raised.
        assert!(bindings.contains("pool_size = 3\n"));
        assert!(code.contains("with_repo(repo, fn _ -> inner.() end, pool_size: pool_size)"));
        assert!(code.contains("rescue e -> tag_timeout.(e, repo, prefix, version) "));
        // Outside a transaction, the invalid indexes a failed build left are said first.
        assert!(code.contains(
            r#"if transaction_mode.(repo, version) == "notx" do try do print_invalid_indexes.(repo, prefix, invalid_indexes.(repo, prefix)) catch _, _ -> :ok end end reraise e, __STACKTRACE__"#
        ));
        assert!(bindings.contains("heartbeat_s = 20\n"));
        assert!(code.contains("rem(seconds, heartbeat_s) == 0"));
        // kmigrate's own reads are not cut by DBConnection's default 15 s `:timeout`; the
        // watcher's has 60 s, well within the 120 s of silence kmigrate allows.
        assert!(code.contains(
            "AND w.query_start < now() - interval '3 seconds'\", [], timeout: 60_000).rows"
        ));
        assert!(code.contains("AND l.objsubid = 1))\", [], timeout: :infinity).rows"));
        assert!(code.contains(
            "(SELECT pid FROM pg_locks WHERE locktype = 'advisory'))\", [], timeout: :infinity).rows"
        ));
        // Before it starts, who holds Ecto's migration lock (the run will wait for it).
        assert!(code.contains(
            "{:ok, holders, _} = Ecto.Migrator.with_repo(repo, &lock_holders.(&1, prefix)) print_lock_holders.(repo, prefix, holders)"
        ));
        assert!(code.contains(r#"say.("kmigrate:locked", ["#));
        assert!(code.contains(
            "%MatchError{term: {:error, %{postgres: %{code: :lock_not_available}}}} -> \"lock\""
        ));
        // Without --wait another run's sessions refuse; with it, the snippet waits.
        assert!(bindings.contains("wait_for_other_runs = false\n"));
        assert!(code.contains("cond do rows == [] -> {:halt, polls} wait_for_other_runs ->"));
        s.session.wait = true;
        let (waits, _) = split(&s, Operation::Migrate(Range::All));
        assert!(waits.contains("wait_for_other_runs = true\n"));
        // In rpc the repo is the live app's pool: nothing is set on it.
        s.session.named = false;
        let (rpc, _) = split(&s, Operation::Rollback(Range::All));
        assert!(
            rpc.contains("session_parameters = []\n") && rpc.contains("session_name = \"\"\n"),
            "{rpc}"
        );
        let status = demo().elixir(Operation::Status);
        assert!(status.contains(r#"application_name: "kmigrate-status-ab12cd34""#));
        // The gate's text must not change from one call to the next.
        let wait = Operation::Wait(std::time::Duration::from_secs(60));
        assert!(!demo().elixir(wait).contains("ab12cd34"));
        assert!(status.contains("other_runs.(r)"));
        assert!(!status.contains("watch.("));
    }

    fn tenants(canaries: &[&str], concurrency: &str, keep_going: bool) -> Snippet {
        let mut s = demo();
        s.prefixes = ["tenant_a", "tenant_b", "tenant_c"]
            .iter()
            .map(|p| Prefix::parse(p).unwrap())
            .collect();
        s.tenants = Tenants {
            query: None,
            allow_none: false,
            canaries: canaries.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
            concurrency: Concurrency::parse(concurrency).unwrap(),
            keep_going,
        };
        s
    }

    #[test]
    fn tenants_run_one_at_a_time_by_default_and_stop_at_the_first_failure() {
        let (bindings, body) = split(&tenants(&[], "1", false), Operation::Migrate(Range::All));
        assert!(bindings.contains(r#"prefixes = ["tenant_a", "tenant_b", "tenant_c"]"#));
        let code = flat(&body);
        // Each repo is started once to read every tenant's status.
        assert!(code.contains(
            "Map.new(repos, fn repo -> {:ok, by_prefix, _} = Ecto.Migrator.with_repo(repo, fn r -> Map.new(prefixes, &{&1, status_rows.(r, &1)}) end) {repo, by_prefix} end)"
        ), "{code}");
        // Every tenant's plan is said before anything runs, then its end.
        assert!(code.contains(r#"say.("kmigrate:tenant", [prefix, "pending", count])"#));
        assert!(code.contains(r#"say.("kmigrate:tenant", [prefix, "done"])"#));
        assert!(code.contains("version = Process.get(:kmigrate_v)"));
        assert!(code.contains(
            r#"say.("kmigrate:tenant", [prefix, "failed", version, String.slice(reason, 0, 400)])"#
        ));
        assert!(code.contains(r#"say.("kmigrate:tenant", [prefix, "not-run"])"#));
        // Fail-fast: a failure stops the tenants not started yet.
        assert!(bindings.contains("keep_going = false\n"));
        assert!(
            code.contains("if not keep_going or prefix in canaries, do: :atomics.put(halt, 1, 1)")
        );
        assert!(bindings.contains("canaries = []\n"));
        assert!(!code.contains("is not one of the"), "no canary, no check");
        // One at a time: the pool of one migration (lock + migration) and the watcher.
        assert!(bindings.contains("concurrency = 1\n"));
        assert!(code.contains("if concurrency < 2 or length(rest) < 2 do"));
        assert!(bindings.contains("pool_size = 3\n"));
        assert!(code.contains("with_repo(repo, fn _ -> inner.() end, pool_size: pool_size)"));
        // The first failure is raised again at the end: Ecto's exit code.
        assert!(
            code.ends_with(":erlang.raise(kind, error, stacktrace) end say.(\"kmigrate:end\", [])"),
            "{code}"
        );
        // Each migration's line is tagged as before.
        assert!(code.contains(
            r#"say.("kmigrate:ran", [inspect(repo), prefix || "", Enum.join(ran, ",")])"#
        ));
    }

    #[test]
    fn canaries_go_first_alone_and_their_failure_stops_everything() {
        let (bindings, body) = split(
            &tenants(&["tenant_c"], "3", true),
            Operation::Migrate(Range::All),
        );
        assert!(bindings.contains("canaries = [\"tenant_c\"]\n"));
        let code = flat(&body);
        // Checked before anything runs, with the plan's other checks.
        let check = code
            .find(r#"for canary <- canaries, canary not in prefixes do refuse.("canary ""#)
            .expect("canary check");
        let plan = code.find("kmigrate:plan").expect("plan");
        let run = code.find("Ecto.Migrator.run(").expect("run");
        assert!(check < plan && plan < run);
        // Run first, one at a time (solo), then the rest.
        assert!(code.contains("prefixes = canaries ++ (prefixes -- canaries)"));
        let first = code
            .find("canary_results = Enum.map(canaries, &migrate_tenant.(&1, true))")
            .expect("canaries first");
        assert!(first < code.find("rest_results =").expect("then the rest"));
        assert!(code.contains("canary_results ++ rest_results"));
        // Continue-on-error, but never past a failed canary.
        assert!(bindings.contains("keep_going = true\n"));
        assert!(
            code.contains("if not keep_going or prefix in canaries, do: :atomics.put(halt, 1, 1)")
        );
    }

    #[test]
    fn concurrency_runs_tenants_in_tasks_with_a_pool_for_all_of_them() {
        let (bindings, body) = split(&tenants(&[], "4", false), Operation::Migrate(Range::All));
        let code = flat(&body);
        assert!(bindings.contains("concurrency = 4\n"));
        assert!(code.contains(
            "Task.async_stream(rest, &migrate_tenant.(&1, false), max_concurrency: concurrency, ordered: false, timeout: :infinity)"
        ), "{code}");
        assert!(bindings.contains(&format!(
            "pool_size = {}\n",
            pool_size(Concurrency::parse("4").unwrap())
        )));
        assert_eq!(pool_size(Concurrency::parse("4").unwrap()), 9);
        assert_eq!(
            pool_size(Concurrency::ONE),
            3,
            "the watcher's third connection"
        );
        // Tenants at once share a watcher per repo; alone, each has its own.
        assert!(code.contains("watchers = Enum.map(busy, &watch.(&1, nil))"));
        assert!(code.contains("watcher = if(solo, do: watch.(repo, prefix))"));
        // A rollback is one tenant: none of this applies to it.
        let mut s = tenants(&["tenant_a"], "4", true);
        s.prefixes.truncate(1);
        let (back, _) = split(&s, Operation::Rollback(Range::All));
        assert!(back.contains("canaries = []\n") && back.contains("pool_size = 3\n"));
        assert!(back.contains("keep_going = false\n") && back.contains("concurrency = 1\n"));
    }

    #[test]
    fn prefixes_from_a_query_are_read_only_and_checked_one_by_one() {
        let mut s = demo();
        s.tenants.query = Some(TenantQuery::parse("SELECT nspname FROM pg_namespace").unwrap());
        for op in [Operation::Status, Operation::Migrate(Range::All)] {
            let (bindings, body) = split(&s, op);
            assert!(
                bindings.contains("tenant_query_hex = \"53454C454354"),
                "{bindings}"
            );
            let code = flat(&body);
            // Read-only, and without DBConnection's default 15 s checkout timeout.
            let read = code
                .find(concat!(
                    r#"repo.query!("SET TRANSACTION READ ONLY", [], timeout: :infinity) "#,
                    "repo.query!(Base.decode16!(tenant_query_hex), [], timeout: :infinity).rows ",
                    "end, timeout: :infinity"
                ))
                .expect("the query, read-only");
            // Before anything reads the prefixes.
            let kept = code
                .find("prefixes = tenant_rows |>")
                .expect("prefixes replaced");
            let first_use = code.find("for prefix <- prefixes").expect("prefixes used");
            assert!(read < kept && kept < first_use, "{code}");
            assert!(code.contains(r#"name =~ ~r/["\x{0}-\x{1F}\x{7F}-\x{9F}]/u"#));
            assert!(code.contains("byte_size(name) in 1..63"));
            assert!(code.contains(r#"say.("kmigrate:invalid", [inspect(name)])"#));
            assert!(code.contains(
                r#"say.("kmigrate:refused", ["the --prefixes-from query failed: " <> reason])"#
            ));
        }
        assert!(!demo().elixir(Operation::Status).contains("decode16"));
    }

    /// Every operation, with and without the options that change its files.
    pub(crate) fn every_operation() -> Vec<(&'static str, Snippet, Operation)> {
        let mut all = tenants(&["tenant_a"], "4", true);
        all.tenants.query = Some(TenantQuery::parse("SELECT 'tenant_a'").unwrap());
        all.repos = vec![RepoModule::parse("Shop.Repo").unwrap()];
        all.paths = vec![MigrationPath::parse("priv/repo/data").unwrap()];
        all.log_sql = true;
        all.session.lock_timeout = Some(std::time::Duration::from_secs(5));
        all.session.statement_timeout = Some(std::time::Duration::from_secs(600));
        all.session.wait = true;
        let mut rpc = demo();
        rpc.session.named = false;
        let hash = PlanHash::parse(&"ab".repeat(32)).unwrap();
        let to = Range::To(Version::from(20240102120000));
        let step = Range::Step(Step::parse("2").unwrap());
        vec![
            ("status", demo(), Operation::Status),
            ("status_every_option", all.clone(), Operation::Status),
            ("migrate", demo(), Operation::Migrate(Range::All)),
            ("migrate_rpc", rpc.clone(), Operation::Migrate(Range::All)),
            ("migrate_every_option", all.clone(), Operation::Migrate(to)),
            (
                "migrate_planned",
                all.clone(),
                Operation::MigratePlanned(to, hash),
            ),
            ("rollback", demo(), Operation::Rollback(step)),
            (
                "rollback_exactly",
                demo(),
                Operation::RollbackExactly(vec![
                    Version::from(20240103120000),
                    Version::from(20240102120000),
                ]),
            ),
            (
                "rollback_every_option",
                all.clone(),
                Operation::Rollback(to),
            ),
            ("plan", demo(), Operation::Plan),
            ("plan_every_option", all.clone(), Operation::Plan),
            (
                "wait",
                demo(),
                Operation::Wait(std::time::Duration::from_secs(300)),
            ),
            (
                "wait_every_option",
                all,
                Operation::Wait(std::time::Duration::from_secs(1)),
            ),
        ]
    }

    #[test]
    fn every_binding_is_a_literal_read_by_the_code() {
        for (name, s, op) in every_operation() {
            let (bindings, body) = split(&s, op);
            for line in bindings.lines() {
                let (var, value) = line.split_once(" = ").expect("name = literal");
                assert!(
                    !value.is_empty() && !value.contains(" = "),
                    "{name}: {line}"
                );
                let read = body.match_indices(var).any(|(i, _)| {
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !word(body[..i].chars().next_back())
                        && !word(body[i + var.len()..].chars().next())
                });
                assert!(read, "{name}: {var} is bound but never read");
            }
        }
    }

    #[test]
    fn what_is_sent_has_no_comments_or_indentation() {
        for (name, s, op) in every_operation() {
            let code = s.elixir(op);
            assert!(!code.ends_with('\n'), "{name}");
            for line in code.lines() {
                assert!(
                    !line.is_empty() && !line.starts_with([' ', '#']),
                    "{name}: {line:?}"
                );
            }
        }
    }

    /// Writes each operation's snippet, as sent (`<name>.exs`) and before folding
    /// (`<name>.unfolded.exs`), and the protocol's tags with their field counts
    /// (`protocol.txt`), into `$KMIGRATE_SNIPPETS_DIR`: the demo_release fixture's tests
    /// compile and run them (tests/fixtures/demo_release/test/snippet_source_test.exs).
    #[test]
    #[ignore = "run by the demo_release fixture's tests, which compile what it writes"]
    fn write_snippets() {
        let dir = std::env::var_os("KMIGRATE_SNIPPETS_DIR").expect("KMIGRATE_SNIPPETS_DIR");
        let dir = std::path::Path::new(&dir);
        let mut written = Vec::new();
        for (name, s, op) in every_operation() {
            let (bindings, files) = s.parts(op.clone());
            let unfolded = bindings.into_code() + &files.join("\n");
            std::fs::write(dir.join(format!("{name}.exs")), s.elixir(op)).unwrap();
            std::fs::write(dir.join(format!("{name}.unfolded.exs")), unfolded).unwrap();
            written.push(name);
        }
        let probes = [("probe", shop(&["Shop.Repo"], &[])), ("probe_demo", demo())];
        for (name, s) in probes {
            let (bindings, files) = s.probe_parts();
            let unfolded = bindings.into_code() + &files.join("\n");
            std::fs::write(dir.join(format!("{name}.exs")), s.probe()).unwrap();
            std::fs::write(dir.join(format!("{name}.unfolded.exs")), unfolded).unwrap();
            written.push(name);
        }
        assert_eq!(written.len(), every_operation().len() + 2);
        // Each tag with the field counts of its forms (`n+`: n or more).
        let protocol: String = crate::protocol::TAGS
            .iter()
            .map(|t| {
                let counts = t.forms.iter().map(|f| match f.last() {
                    Some(last) if last.ends_with("...") => format!("{}+", f.len() - 1),
                    _ => f.len().to_string(),
                });
                format!("{}\t{}\n", t.name, counts.collect::<Vec<_>>().join("\t"))
            })
            .collect();
        std::fs::write(dir.join("protocol.txt"), protocol).unwrap();
    }

    #[test]
    fn argv_has_no_shell() {
        let argv = demo().argv("/app/bin/demo", Mode::Rpc, Operation::Status);
        assert_eq!(argv.len(), 3);
        assert_eq!(&argv[..2], ["/app/bin/demo", "rpc"]);
    }

    #[test]
    fn app_from_release_path() {
        assert_eq!(app_from_release("/app/bin/my_app"), Some("my_app"));
        assert_eq!(app_from_release("bin/demo"), Some("demo"));
        assert_eq!(app_from_release("/app/bin/"), None);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The snippet's shape does not depend on the values: only the identifiers change.
        #[test]
        fn snippet_structure_is_fixed(app in "[a-z][a-z0-9_]{0,20}", repo in "[A-Z][A-Za-z0-9_]{0,10}(\\.[A-Z][A-Za-z0-9_]{0,10}){0,3}", prefix in "[a-z_][a-z0-9_]{0,20}", step in 1u32..1000) {
            let build = |app: &str, repo: &str, prefix: &str, step: u32| Snippet {
                app: AppName::parse(app).unwrap(),
                repos: vec![RepoModule::parse(repo).unwrap()],
                prefixes: vec![Prefix::parse(prefix).unwrap()],
                paths: vec![],
                log_sql: false,
                session: super::tests::session(),
                tenants: Tenants::default(),
            }
            .elixir(Operation::Rollback(Range::Step(Step::parse(&step.to_string()).unwrap())));
            let skeleton = |code: String, app: &str, repo: &str, prefix: &str, step: u32| code
                .replacen(&format!("app = :{app}\n"), "app = :APP\n", 1)
                .replacen(&format!("named_repos = [{repo}]\n"), "named_repos = [REPO]\n", 1)
                .replacen(&format!("prefixes = [\"{prefix}\"]\n"), "prefixes = [PREFIX]\n", 1)
                .replacen(&format!("range = {{:step, {step}}}\n"), "range = {:step, N}\n", 1);
            prop_assert_eq!(
                skeleton(build(&app, &repo, &prefix, step), &app, &repo, &prefix, step),
                skeleton(build("a", "R", "p", 1), "a", "R", "p", 1)
            );
        }

        /// Whatever a `--prefixes-from` query holds (quotes, `#{...}`, backslashes, newlines,
        /// any Unicode), it reaches the snippet only as hexadecimal digits inside one string
        /// literal: the snippet is the same code with other digits, and the digits decode
        /// back to the query.
        #[test]
        fn a_tenant_query_cannot_inject_elixir(query in "\\PC{1,200}|[\"#{}\\\\\n\r\t ;'a-z]{1,60}") {
            prop_assume!(TenantQuery::parse(&query).is_ok());
            let build = |q: &str| {
                let mut s = super::tests::demo_snippet();
                s.tenants.query = Some(TenantQuery::parse(q).unwrap());
                s.elixir(Operation::Migrate(Range::All))
            };
            let code = build(&query);
            let (before, rest) = code.split_once("tenant_query_hex = \"").expect("one literal");
            let (digits, after) = rest.split_once('"').expect("closed");
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
            let decoded: Vec<u8> = (0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
                .collect();
            prop_assert_eq!(String::from_utf8(decoded).unwrap(), query);
            let other = build("SELECT 1");
            let (b2, r2) = other.split_once("tenant_query_hex = \"").unwrap();
            let (_, a2) = r2.split_once('"').unwrap();
            prop_assert_eq!(before, b2);
            prop_assert_eq!(after, a2);
        }
    }
}
