//! How the Elixir snippet sent to `<release> eval` (or `rpc`) is built.
//!
//! The snippet calls `Ecto.Migrator` as ecto_sql defines it (`lib/ecto/migrator.ex`), with
//! three choices that keep kmigrate's promises whatever the app's configuration:
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

mod plan;
mod values;

pub use plan::{PENDING_TAG, PLAN_HASH_TAG, PlanHash, SOURCE_CHUNK, SOURCE_TAG, STALE_TAG};
#[cfg(test)]
pub use values::Step;
pub use values::{AppName, MigrationPath, Prefix, Range, RepoModule, RunId, Version};

use crate::cli::Mode;

/// What the snippet asks Ecto to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Run migrations up.
    Migrate(Range),
    /// Run migrations down.
    Rollback(Range),
    /// Print every migration's state, and who holds the migration lock.
    Status,
    /// Print the pending migrations, their files and how Ecto runs them, and the plan hash.
    Plan,
    /// Run migrations up, only if the plan hash is still this one.
    MigratePlanned(Range, PlanHash),
}

/// `kmigrate:status\t<repo>\t<prefix>\t<up|down>\t<version>\t<name>`: one migration's state.
pub const STATUS_TAG: &str = "kmigrate:status";
/// `kmigrate:locked\t<repo>\t<prefix>\t<pid>\t<application>\t<since>`: a holder of Ecto's
/// migration lock.
pub const LOCKED_TAG: &str = "kmigrate:locked";
/// `kmigrate:plan\t<repo>\t<prefix>\t<version>\t<name>`: a migration about to run.
pub const PLAN_TAG: &str = "kmigrate:plan";
/// `kmigrate:ran\t<repo>\t<prefix>\t<v1,v2,...>`: what one `run/4` call applied or reverted.
pub const RAN_TAG: &str = "kmigrate:ran";
/// `kmigrate:refused\t<reason>`: nothing was run, for this reason.
pub const REFUSED_TAG: &str = "kmigrate:refused";

/// `kmigrate:running\t<repo>\t<pid>\t<application>\t<state>\t<seconds>\t<query>`: a
/// database session of another kmigrate migrate or rollback, still there.
pub const RUNNING_TAG: &str = "kmigrate:running";
/// `kmigrate:busy\t<reason>`: nothing was run because another run is still executing.
pub const BUSY_TAG: &str = "kmigrate:busy";
/// `kmigrate:waiting\t<repo>\t<prefix>\t<waited s>\t<lock>\t<mode>\t<pid>\t<application>\t<client>\t<state>\t<state s>\t<query>`:
/// one of the run's sessions waits for a lock that this session holds.
pub const WAITING_TAG: &str = "kmigrate:waiting";
/// `kmigrate:heartbeat\t<seconds>`: the migration is still running, this long.
pub const HEARTBEAT_TAG: &str = "kmigrate:heartbeat";
/// `kmigrate:timeout\t<repo>\t<prefix>\t<version>\t<lock|statement>\t<tx|notx>`: a
/// migration was cancelled by the run's lock or statement timeout.
pub const TIMEOUT_TAG: &str = "kmigrate:timeout";
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
    /// Extra migrations directories, besides each repo's `priv/<repo>/migrations`.
    pub paths: Vec<MigrationPath>,
    /// Log each migration's SQL (`log_migrations_sql: :info`).
    pub log_sql: bool,
    /// The run's database sessions.
    pub session: Session,
}

/// The run's own database sessions: named after the run, bounded by its timeouts.
#[derive(Debug, Clone)]
pub struct Session {
    /// Names the sessions `kmigrate-<migrate|rollback|status>-<run>`, so that later runs
    /// see this one in `pg_stat_activity`.
    pub run: RunId,
    /// Whether the snippet may set the repos' connection parameters: only in a VM of its
    /// own (`eval`); in `rpc` the repo is the live app's pool, which must not change.
    pub named: bool,
    /// PostgreSQL `lock_timeout` for the run's sessions.
    pub lock_timeout: Option<std::time::Duration>,
    /// PostgreSQL `statement_timeout` for the run's sessions.
    pub statement_timeout: Option<std::time::Duration>,
    /// Wait for another run's sessions to end instead of refusing.
    pub wait: bool,
}

/// Every snippet starts here: load the app, decide repos, prefixes, options and paths,
/// and define `rows` (the lock-free status) and `tag` (a repo and prefix for our lines).
const PRELUDE: &str = r#"app = :@APP@; Application.load(app); Application.ensure_all_started(:ssl); repos = @REPOS@; pfxs = @PREFIXES@; base = [@OPTS@]; extra = @EXTRA@; paths = fn r -> [Ecto.Migrator.migrations_path(r) | Enum.map(extra, &Path.expand(&1, Application.app_dir(app)))] end; source = fn r, p -> if(p, do: "\"" <> p <> "\".", else: "") <> "\"" <> (r.config()[:migration_source] || "schema_migrations") <> "\"" end; rows = fn r, p -> if match?(%{rows: [[v]]} when v in [true, "t"], r.query!("SELECT to_regclass('" <> source.(r, p) <> "') IS NOT NULL")), do: Ecto.Migrator.migrations(r, paths.(r), [migration_lock: false, skip_table_creation: true] ++ if(p, do: [prefix: p], else: [])), else: Enum.sort_by(for(d <- paths.(r), f <- Path.wildcard(Path.join([d, "**", "*.exs"])), {v, "_" <> n} <- [Integer.parse(Path.rootname(Path.basename(f)))], do: {:down, v, n}), &elem(&1, 1)) end; tag = fn r, p -> inspect(r) <> "\t" <> (p || "") end; "#;

/// Name the run's sessions and bound them (only in a VM of its own): Postgrex's
/// `:parameters` go into each repo's config before `with_repo/3` starts it, so the app's
/// own pool never carries them. `others` lists the sessions of other migrate or rollback
/// runs still in the database (`pg_stat_activity`).
const SESSION: &str = r#"me = "@ME@"; params = [@PARAMS@]; if params != [], do: for(r <- repos, do: (oa = r.config()[:otp_app]; cur = Application.get_env(oa, r, []); Application.put_env(oa, r, Keyword.put(cur, :parameters, Keyword.merge(Keyword.get(cur, :parameters, []), params))))); others = fn r -> r.query!("SELECT pid::text, application_name, coalesce(state, ''), coalesce(extract(epoch FROM now() - query_start)::bigint::text, ''), left(regexp_replace(coalesce(query, ''), '[[:space:]]+', ' ', 'g'), 160) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name ~ '^kmigrate-(migrate|rollback)-' AND application_name NOT LIKE '%-@RUN@'").rows end; running = fn r, rows -> for(row <- rows, do: IO.puts("kmigrate:running\t" <> inspect(r) <> "\t" <> Enum.join(row, "\t"))) end; "#;

/// Before a migrate or rollback: another run's sessions still in the database mean that
/// run is still executing (its kmigrate may be gone): refuse, or wait for them to end.
const SETTLE: &str = r#"settle = fn r -> Enum.reduce_while(Stream.repeatedly(fn -> others.(r) end), 0, fn rows, n -> cond do rows == [] -> {:halt, n}; @WAIT@ -> (if rem(n, 6) == 0, do: running.(r, rows)); Process.sleep(5000); {:cont, n + 1}; true -> running.(r, rows); IO.puts("kmigrate:busy\tanother run is still executing in the database of " <> inspect(r)); raise "kmigrate: nothing was run: another run is still executing" end end) end; for repo <- repos, do: {:ok, _, _} = Ecto.Migrator.with_repo(repo, settle); "#;

/// While migrations run: a heartbeat every 20 s, and (when the sessions are named) which
/// lock a session of this run has waited on for 3 s or more, and who holds it. A process
/// of its own, on a connection of its own (hence `pool_size: 3` for the run's repo: the
/// migration lock and the migration hold the other two); it never takes the run down.
const WATCH: &str = r##"watch = fn r, p -> parent = self(); spawn(fn -> ref = Process.monitor(parent); loop = fn loop, n -> receive do :stop -> :ok; {:DOWN, ^ref, _, _, _} -> :ok after 1000 -> n = n + 1; if rem(n, @BEAT@) == 0, do: IO.puts("kmigrate:heartbeat\t#{n}"); if me != "" and rem(n, 5) == 3, do: (try do for(row <- r.query!("SELECT extract(epoch FROM now() - w.query_start)::bigint::text, coalesce(l.relation::regclass::text, l.locktype), l.mode, b.pid::text, coalesce(b.application_name, ''), coalesce(host(b.client_addr), 'local'), coalesce(b.state, ''), coalesce(extract(epoch FROM now() - b.state_change)::bigint::text, ''), left(regexp_replace(coalesce(b.query, ''), '[[:space:]]+', ' ', 'g'), 120) FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) JOIN pg_stat_activity b ON b.pid = bp.pid WHERE w.application_name = '" <> me <> "' AND w.wait_event_type = 'Lock' AND w.query_start < now() - interval '3 seconds'").rows, do: IO.puts("kmigrate:waiting\t" <> tag.(r, p) <> "\t" <> Enum.join(row, "\t"))) catch _, _ -> :ok end); loop.(loop, n) end end; loop.(loop, 0) end) end; notx = fn r, v -> if Enum.any?(paths.(r), fn d -> Enum.any?(Path.wildcard(Path.join([d, "**", "#{v}_*.exs"])), &(File.read!(&1) =~ ~r/@disable_ddl_transaction\s+true/)) end), do: "notx", else: "tx" end; timed_out = fn e, r, p, v -> kind = case e do %{postgres: %{code: :lock_not_available}} -> "lock"; %{postgres: %{code: :query_canceled, message: m}} -> if(m =~ "statement timeout", do: "statement"); _ -> nil end; if kind, do: IO.puts("kmigrate:timeout\t" <> tag.(r, p) <> "\t#{v}\t" <> kind <> "\t" <> notx.(r, v)) end; "##;

/// `status`: every migration, and who holds the migration lock.
const STATUS: &str = r#"locks = fn r, p -> key = :erlang.phash2({:ecto, p, r}); r.query!("SELECT l.pid, coalesce(a.application_name, ''), coalesce(to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS'), '') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.granted AND l.pid <> pg_backend_pid() AND ((l.locktype = 'relation' AND l.mode = 'ShareUpdateExclusiveLock' AND l.relation = to_regclass('" <> source.(r, p) <> "')) OR (l.locktype = 'advisory' AND l.classid = 0 AND l.objid = #{key} AND l.objsubid = 1))").rows end; for p <- pfxs, repo <- repos do {:ok, {ms, held, busy}, _} = Ecto.Migrator.with_repo(repo, fn r -> {rows.(r, p), locks.(r, p), others.(r)} end); for {s, v, n} <- ms, do: IO.puts("kmigrate:status\t" <> tag.(repo, p) <> "\t#{s}\t#{v}\t#{n}"); for h <- held, do: IO.puts("kmigrate:locked\t" <> tag.(repo, p) <> "\t" <> Enum.map_join(h, "\t", &to_string/1)); running.(repo, busy) end"#;

/// `migrate` and `rollback`: read, check, plan, then one `run/4` per migration.
const CHANGE: &str = r#"@SETTLE@refuse = fn why -> IO.puts("kmigrate:refused\t" <> why); raise "kmigrate: nothing was run: " <> why end; plans = for p <- pfxs, repo <- repos do {:ok, ms, _} = Ecto.Migrator.with_repo(repo, &rows.(&1, p)); {repo, p, ms} end; @CHECKS@@PIN@ todo = for {repo, p, ms} <- plans do {repo, p, @SELECT@} end; for {repo, p, vs} <- todo, {v, n} <- vs, do: IO.puts("kmigrate:plan\t" <> tag.(repo, p) <> "\t#{v}\t#{n}"); for {repo, p, vs} <- todo, vs != [] do {:ok, _, _} = Ecto.Migrator.with_repo(repo, fn r -> w = watch.(r, p); try do for {v, _} <- vs do ran = try do Ecto.Migrator.run(r, paths.(r), @DIRECTION@, [to: v] ++ base ++ if(p, do: [prefix: p], else: [])) rescue e -> timed_out.(e, r, p, v); reraise e, __STACKTRACE__ end; IO.puts("kmigrate:ran\t" <> tag.(r, p) <> "\t" <> Enum.join(ran, ",")) end after send(w, :stop) end end, pool_size: 3) end"#;

/// `--to V` must name a migration of the chosen repos: Ecto's `pending_to/4` is a
/// `take_while`, so a typo would silently run everything up to (or down from) it.
const CHECK_TO: &str = r#"unless Enum.any?(plans, fn {_, _, ms} -> Enum.any?(ms, fn {_, v, _} -> v == @V@ end) end), do: refuse.("version @V@ is not a migration of " <> Enum.map_join(repos, ", ", &inspect/1)); "#;

/// A rollback reverts per repo: with several, `step`/`to` would revert in each of them.
const CHECK_ONE_REPO: &str = r#"if length(repos) * length(pfxs) > 1, do: refuse.("a rollback acts on one repo (and prefix) at a time, and this app has " <> Enum.map_join(repos, ", ", &inspect/1) <> ": choose one with --repo"); "#;

impl Snippet {
    /// The Elixir code for an operation, on one line.
    pub fn elixir(&self, op: Operation) -> String {
        let (body, verb) = match op {
            Operation::Status => (STATUS.to_owned(), "status"),
            Operation::Migrate(range) => (change(range, true), "migrate"),
            Operation::Rollback(range) => (change(range, false), "rollback"),
            Operation::Plan => (plan::body(), "plan"),
            Operation::MigratePlanned(range, hash) => {
                (plan::pinned(&change(range, true), &hash), "migrate")
            }
        };
        let settle = SETTLE.replace("@WAIT@", if self.session.wait { "true" } else { "false" });
        let body = body
            .replace("@SETTLE@", &(settle + WATCH))
            .replace("@PIN@", "")
            .replace("@BEAT@", &HEARTBEAT_SECONDS.to_string());
        self.prelude() + &self.session(verb) + &body
    }

    /// The session part: names and parameters in a VM of its own, none in `rpc`.
    fn session(&self, verb: &str) -> String {
        let s = &self.session;
        let me = format!("kmigrate-{verb}-{}", s.run.as_str());
        let mut params = Vec::new();
        if s.named {
            params.push(format!("application_name: \"{me}\""));
            let ms = |d: std::time::Duration| d.as_millis().max(1).to_string();
            if let Some(d) = s.lock_timeout {
                params.push(format!("lock_timeout: \"{}\"", ms(d)));
            }
            if let Some(d) = s.statement_timeout {
                params.push(format!("statement_timeout: \"{}\"", ms(d)));
            }
        }
        SESSION
            .replace("@ME@", if s.named { &me } else { "" })
            .replace("@PARAMS@", &params.join(", "))
            .replace("@RUN@", s.run.as_str())
    }

    fn prelude(&self) -> String {
        let repos = if self.repos.is_empty() {
            "Application.fetch_env!(app, :ecto_repos)".to_owned()
        } else {
            list(self.repos.iter().map(|r| r.as_str().to_owned()))
        };
        let prefixes = if self.prefixes.is_empty() {
            "[nil]".to_owned()
        } else {
            list(self.prefixes.iter().map(|p| format!("\"{}\"", p.as_str())))
        };
        let extra = list(self.paths.iter().map(|p| format!("\"{}\"", p.as_str())));
        let opts = if self.log_sql {
            "log_migrations_sql: :info"
        } else {
            ""
        };
        PRELUDE
            .replace("@APP@", self.app.as_str())
            .replace("@REPOS@", &repos)
            .replace("@PREFIXES@", &prefixes)
            .replace("@OPTS@", opts)
            .replace("@EXTRA@", &extra)
    }

    /// The remote argv: `<release> eval|rpc <snippet>`.
    pub fn argv(&self, release: &str, mode: Mode, op: Operation) -> Vec<String> {
        let verb = match mode {
            Mode::Eval => "eval",
            Mode::Rpc => "rpc",
        };
        vec![release.to_owned(), verb.to_owned(), self.elixir(op)]
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// The body of a migrate (`up`) or rollback: the checks, which migrations the range
/// selects from each repo's status (`ms`, sorted by version), and the direction.
fn change(range: Range, up: bool) -> String {
    let mut checks = String::new();
    if !up {
        checks.push_str(CHECK_ONE_REPO);
    }
    if let Range::To(v) = range {
        checks.push_str(&CHECK_TO.replace("@V@", &v.to_string()));
    }
    // Follows Ecto.Migrator's pending_all/pending_step/pending_to: up takes pending files
    // oldest first; down takes applied versions that have a file, newest first.
    let pending = r#"for({:down, v, n} <- ms, do: {v, n})"#;
    let applied =
        r#"Enum.reverse(for({:up, v, n} <- ms, n != "** FILE NOT FOUND **", do: {v, n}))"#;
    let select = match (range, up) {
        (Range::All, true) => pending.to_owned(),
        (Range::Step(n), true) => format!("Enum.take({pending}, {})", n.get()),
        (Range::To(v), true) => format!("for({{:down, v, n}} <- ms, v <= {v}, do: {{v, n}})"),
        (Range::All, false) => applied.to_owned(),
        (Range::Step(n), false) => format!("Enum.take({applied}, {})", n.get()),
        (Range::To(v), false) => format!(
            r#"Enum.reverse(for({{:up, v, n}} <- ms, n != "** FILE NOT FOUND **", v >= {v}, do: {{v, n}}))"#
        ),
    };
    CHANGE
        .replace("@CHECKS@", &checks)
        .replace("@SELECT@", &select)
        .replace("@DIRECTION@", if up { ":up" } else { ":down" })
}

/// The app name a release path implies: `/app/bin/my_app` gives `my_app`.
pub fn app_from_release(release: &str) -> Option<&str> {
    release.rsplit('/').next().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn demo() -> Snippet {
        Snippet {
            app: AppName::parse("demo").unwrap(),
            repos: vec![],
            prefixes: vec![],
            paths: vec![],
            log_sql: false,
            session: session(),
        }
    }

    /// A run's sessions in eval mode, with no limits.
    pub(super) fn session() -> Session {
        Session {
            run: RunId::parse("ab12cd34").unwrap(),
            named: true,
            lock_timeout: None,
            statement_timeout: None,
            wait: false,
        }
    }

    #[test]
    fn status_reads_without_the_lock_or_creating_the_table() {
        let code = demo().elixir(Operation::Status);
        assert!(
            code.starts_with("app = :demo; Application.load(app);"),
            "{code}"
        );
        assert!(code.contains("repos = Application.fetch_env!(app, :ecto_repos);"));
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("Ecto.Migrator.migrations(r, paths.(r),"));
        assert!(code.contains("kmigrate:status\\t"));
        assert!(code.contains("pg_locks"));
        assert!(code.contains(":erlang.phash2({:ecto, p, r})"));
        assert!(!code.contains("Ecto.Migrator.run("));
    }

    #[test]
    fn migrate_plans_then_runs_one_migration_at_a_time() {
        let code = demo().elixir(Operation::Migrate(Range::All));
        assert!(code.contains("todo = for {repo, p, ms} <- plans do {repo, p, for({:down, v, n} <- ms, do: {v, n})} end;"), "{code}");
        assert!(code.contains("Ecto.Migrator.run(r, paths.(r), :up, [to: v] ++ base"));
        assert!(code.contains("kmigrate:plan\\t"));
        assert!(code.contains("kmigrate:ran\\t"));
        assert!(!code.contains("a rollback acts on one repo"));
        let step = demo().elixir(Operation::Migrate(Range::Step(Step::parse("2").unwrap())));
        assert!(step.contains("Enum.take(for({:down, v, n} <- ms, do: {v, n}), 2)"));
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
        };
        let code = s.elixir(Operation::Rollback(Range::To(Version::from(20240102))));
        assert!(code.contains("repos = [Shop.Repo];"));
        assert!(code.contains("pfxs = [\"tenant_a\"];"));
        assert!(code.contains("extra = [\"priv/repo/data\"];"));
        assert!(code.contains("base = [log_migrations_sql: :info];"));
        assert!(
            code.contains("v == 20240102 end) end), do: refuse."),
            "{code}"
        );
        assert!(code.contains("a rollback acts on one repo"));
        assert!(code.contains("n != \"** FILE NOT FOUND **\", v >= 20240102"));
        assert!(code.contains(":down, [to: v]"));
    }

    #[test]
    fn the_run_names_and_bounds_its_own_sessions_in_eval_only() {
        let mut s = demo();
        s.session.lock_timeout = Some(std::time::Duration::from_secs(2));
        s.session.statement_timeout = Some(std::time::Duration::from_millis(1500));
        let code = s.elixir(Operation::Migrate(Range::All));
        assert!(
            code.contains(r#"params = [application_name: "kmigrate-migrate-ab12cd34", lock_timeout: "2000", statement_timeout: "1500"];"#),
            "{code}"
        );
        assert!(code.contains("Keyword.put(cur, :parameters, Keyword.merge("));
        assert!(code.contains("application_name NOT LIKE '%-ab12cd34'"));
        // The watcher has a connection of its own; a timeout is tagged, then re-raised.
        assert!(code.contains("end, pool_size: 3) end"), "{code}");
        assert!(code.contains("rescue e -> timed_out.(e, r, p, v); reraise e, __STACKTRACE__"));
        assert!(code.contains("rem(n, 20) == 0"));
        // Without --wait another run's sessions refuse; with it, the snippet waits.
        assert!(code.contains("cond do rows == [] -> {:halt, n}; false ->"));
        s.session.wait = true;
        assert!(
            s.elixir(Operation::Migrate(Range::All))
                .contains("cond do rows == [] -> {:halt, n}; true ->")
        );
        // In rpc the repo is the live app's pool: nothing is set on it.
        s.session.named = false;
        let rpc = s.elixir(Operation::Rollback(Range::All));
        assert!(rpc.contains(r#"me = ""; params = [];"#), "{rpc}");
        let status = demo().elixir(Operation::Status);
        assert!(status.contains(r#"application_name: "kmigrate-status-ab12cd34""#));
        assert!(status.contains("others.(r)"));
        assert!(!status.contains("watch.("));
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
            }
            .elixir(Operation::Rollback(Range::Step(Step::parse(&step.to_string()).unwrap())));
            let skeleton = |code: String, app: &str, repo: &str, prefix: &str, step: u32| code
                .replacen(&format!(":{app};"), ":APP;", 1)
                .replacen(&format!("[{repo}]"), "[REPO]", 1)
                .replacen(&format!("[\"{prefix}\"]"), "[PREFIX]", 1)
                .replacen(&format!(", {step})}} end;"), ", N)} end;", 1);
            prop_assert_eq!(
                skeleton(build(&app, &repo, &prefix, step), &app, &repo, &prefix, step),
                skeleton(build("a", "R", "p", 1), "a", "R", "p", 1)
            );
        }
    }
}
