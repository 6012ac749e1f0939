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
mod probe;
mod values;
mod wait;

pub use plan::{PlanHash, SOURCE_CHUNK};
#[cfg(test)]
pub use values::Step;
pub use values::{
    AppName, Concurrency, MigrationPath, Prefix, Range, RepoModule, RunId, TenantQuery, Version,
};

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
    /// Wait, reading like `Status`, until nothing is pending or this deadline passed.
    Wait(std::time::Duration),
    /// Print the pending migrations, their files and how Ecto runs them, and the plan hash.
    Plan,
    /// Run migrations up, only if the plan hash is still this one.
    MigratePlanned(Range, PlanHash),
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
    /// Extra migrations directories, besides each repo's `priv/<repo>/migrations`.
    pub paths: Vec<MigrationPath>,
    /// Log each migration's SQL (`log_migrations_sql: :info`).
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
/// A cancelled statement is tagged before it is re-raised: a `Postgrex.Error` with
/// `:lock_not_available` or a statement-timeout `:query_canceled`, or, when the wait was for
/// Ecto's own migration lock, the `MatchError` around it (`Ecto.Adapters.Postgres`
/// `lock_for_migrations/3` matches `{:ok, _} = Ecto.Adapters.SQL.query(...)`).
const WATCH: &str = r##"watch = fn r, p -> parent = self(); spawn(fn -> ref = Process.monitor(parent); loop = fn loop, n -> receive do :stop -> :ok; {:DOWN, ^ref, _, _, _} -> :ok after 1000 -> n = n + 1; if rem(n, @BEAT@) == 0, do: IO.puts("kmigrate:heartbeat\t#{n}"); if me != "" and rem(n, 5) == 3, do: (try do for(row <- r.query!("SELECT extract(epoch FROM now() - w.query_start)::bigint::text, coalesce(l.relation::regclass::text, l.locktype), l.mode, b.pid::text, coalesce(b.application_name, ''), coalesce(host(b.client_addr), 'local'), coalesce(b.state, ''), coalesce(extract(epoch FROM now() - b.state_change)::bigint::text, ''), left(regexp_replace(coalesce(b.query, ''), '[[:space:]]+', ' ', 'g'), 120) FROM pg_stat_activity w JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) JOIN pg_stat_activity b ON b.pid = bp.pid WHERE w.application_name = '" <> me <> "' AND w.wait_event_type = 'Lock' AND w.query_start < now() - interval '3 seconds'").rows, do: IO.puts("kmigrate:waiting\t" <> tag.(r, p) <> "\t" <> Enum.join(row, "\t"))) catch _, _ -> :ok end); loop.(loop, n) end end; loop.(loop, 0) end) end; notx = fn r, v -> if Enum.any?(paths.(r), fn d -> Enum.any?(Path.wildcard(Path.join([d, "**", "#{v}_*.exs"])), &(File.read!(&1) =~ ~r/@disable_ddl_transaction\s+true/)) end), do: "notx", else: "tx" end; timed_out = fn e, r, p, v -> kind = case e do %{postgres: %{code: :lock_not_available}} -> "lock"; %MatchError{term: {:error, %{postgres: %{code: :lock_not_available}}}} -> "lock"; %{postgres: %{code: :query_canceled, message: m}} -> if(m =~ "statement timeout", do: "statement"); _ -> nil end; if kind, do: IO.puts("kmigrate:timeout\t" <> tag.(r, p) <> "\t#{v}\t" <> kind <> "\t" <> notx.(r, v)) end; "##;

/// `--prefixes-from`: the prefixes are the names the query returns, read on the first repo
/// in a read-only transaction. The query arrives as hexadecimal digits, never as Elixir
/// text. A name is kept only if it passes the rule `Prefix::parse` applies to `--prefix`
/// (`\A`/`\z`: `$` would let a trailing newline through); the others are reported, not run.
const TENANTS: &str = r#"pfxs = (try do {:ok, rows, _} = Ecto.Migrator.with_repo(hd(repos), fn r -> {:ok, rows} = r.transaction(fn -> r.query!("SET TRANSACTION READ ONLY"); r.query!(Base.decode16!("@SQL@")).rows end); rows end); rows rescue e -> IO.puts("kmigrate:refused\tthe --prefixes-from query failed: " <> String.replace(Exception.message(e), ~r/\s+/, " ")); reraise e, __STACKTRACE__ end) |> Enum.map(&List.first/1) |> Enum.uniq() |> Enum.filter(fn n -> ok = is_binary(n) and byte_size(n) <= 63 and n =~ ~r/\A[a-z_][a-z0-9_]*\z/; unless ok, do: IO.puts("kmigrate:invalid\t" <> inspect(n)); ok end); "#;

/// Who holds Ecto's migration lock of a repo and prefix: the `LOCK TABLE ... IN SHARE
/// UPDATE EXCLUSIVE MODE` of `Ecto.Adapters.Postgres.lock_for_migrations/3`, or its advisory
/// lock keyed by `:erlang.phash2({:ecto, prefix, repo})`, read from `pg_locks`.
const LOCKS: &str = r#"locks = fn r, p -> key = :erlang.phash2({:ecto, p, r}); r.query!("SELECT l.pid, coalesce(a.application_name, ''), coalesce(to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS'), '') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.granted AND l.pid <> pg_backend_pid() AND ((l.locktype = 'relation' AND l.mode = 'ShareUpdateExclusiveLock' AND l.relation = to_regclass('" <> source.(r, p) <> "')) OR (l.locktype = 'advisory' AND l.classid = 0 AND l.objid = #{key} AND l.objsubid = 1))").rows end; "#;

/// `status`: every migration, and who holds the migration lock.
const STATUS: &str = r#"for p <- pfxs, repo <- repos do {:ok, {ms, held, busy}, _} = Ecto.Migrator.with_repo(repo, fn r -> {rows.(r, p), locks.(r, p), others.(r)} end); for {s, v, n} <- ms, do: IO.puts("kmigrate:status\t" <> tag.(repo, p) <> "\t#{s}\t#{v}\t#{n}"); for h <- held, do: IO.puts("kmigrate:locked\t" <> tag.(repo, p) <> "\t" <> Enum.map_join(h, "\t", &to_string/1)); running.(repo, busy) end"#;

/// `migrate` and `rollback`: read, check, plan, then one `run/4` per migration. Each repo is
/// started once to read every prefix's status: a start per tenant would keep the pod
/// silent for minutes with many tenants, and kmigrate takes a long silence for a lost
/// connection.
const CHANGE: &str = r#"@SETTLE@refuse = fn why -> IO.puts("kmigrate:refused\t" <> why); raise "kmigrate: nothing was run: " <> why end; got = Map.new(repos, fn repo -> {:ok, x, _} = Ecto.Migrator.with_repo(repo, fn r -> Map.new(pfxs, &{&1, rows.(r, &1)}) end); {repo, x} end); plans = for p <- pfxs, repo <- repos, do: {repo, p, got[repo][p]}; @CHECKS@@PIN@ todo = for {repo, p, ms} <- plans do {repo, p, @SELECT@} end; for {repo, p, vs} <- todo, {v, n} <- vs, do: IO.puts("kmigrate:plan\t" <> tag.(repo, p) <> "\t#{v}\t#{n}"); for {repo, p, vs} <- todo, vs != [] do {:ok, held, _} = Ecto.Migrator.with_repo(repo, &locks.(&1, p)); for h <- held, do: IO.puts("kmigrate:locked\t" <> tag.(repo, p) <> "\t" <> Enum.map_join(h, "\t", &to_string/1)) end; @RUN@"#;

/// `--to V` must name a migration of the chosen repos: Ecto's `pending_to/4` is a
/// `take_while`, so a typo would silently run everything up to (or down from) it.
const CHECK_TO: &str = r#"unless Enum.any?(plans, fn {_, _, ms} -> Enum.any?(ms, fn {_, v, _} -> v == @V@ end) end), do: refuse.("version @V@ is not a migration of " <> Enum.map_join(repos, ", ", &inspect/1)); "#;

/// `--canary` must name tenants of this run: a typo would otherwise run no canary at all.
const CHECK_CANARY: &str = r#"for c <- @CANARY@, c not in pfxs, do: refuse.("canary " <> c <> " is not one of the #{length(pfxs)} tenants of this run"); "#;

/// Run what was planned, tenant by tenant (a tenant is a prefix, across every repo; without
/// prefixes there is one, `nil`). Each migration file is compiled once, here, and run as
/// `{version, module}` (Ecto's `run/4` takes either): Ecto would compile the file at every
/// `run/4`, and two tenants compiling the same module at once fail ("cannot define module
/// ... because it is currently being defined"); one after the other they print "redefining
/// module". The repos are started once, with a pool for `@CONC@` tenants at a time.
/// Canaries go first, one at a time; then the rest, `@CONC@` at a time (Tasks). A tenant's
/// failure is caught, tagged, and stops the tenants not started yet unless `@KEEP_GOING@`
/// (a canary's always does); running ones finish. At the end the first failure is raised
/// again (the others printed first), so the exit code is the one Ecto's raise gives. With
/// one tenant at a time each has its own watcher (its waits carry its prefix); tenants at
/// once share one per repo.
const RUN: &str = r##"halt = :atomics.new(1, []); canary = @CANARY@; pfxs = canary ++ (pfxs -- canary); work = fn p -> for({repo, ^p, vs} <- todo, vs != [], do: {repo, vs}) end; load = fn r, v -> f = hd(for d <- paths.(r), f <- Path.wildcard(Path.join([d, "**", "#{v}_*.{ex,exs}"])), do: f); {v, Enum.find(Enum.map(Code.compile_file(f), &elem(&1, 0)), &function_exported?(&1, :__migration__, 0)) || raise("file " <> f <> " does not define an Ecto.Migration")} end; mods = Map.new(for({repo, _, vs} <- todo, {v, _} <- vs, uniq: true, do: {repo, v}), fn {r, v} -> {{r, v}, load.(r, v)} end); for p <- pfxs, p, do: IO.puts("kmigrate:tenant\t" <> p <> "\tpending\t#{Enum.sum(for {_, vs} <- work.(p), do: length(vs))}"); one = fn p, solo -> ws = work.(p); cond do ws == [] -> :ok; :atomics.get(halt, 1) == 1 -> if(p, do: IO.puts("kmigrate:tenant\t" <> p <> "\tnot-run")); :ok; true -> Process.delete(:kmigrate_v); try do for {r, vs} <- ws do w = if(solo, do: watch.(r, p)); try do for {v, _} <- vs do Process.put(:kmigrate_v, v); ran = try do Ecto.Migrator.run(r, [mods[{r, v}]], @DIRECTION@, [to: v] ++ base ++ if(p, do: [prefix: p], else: [])) rescue e -> timed_out.(e, r, p, v); reraise e, __STACKTRACE__ end; IO.puts("kmigrate:ran\t" <> tag.(r, p) <> "\t" <> Enum.join(ran, ",")) end after if w, do: send(w, :stop) end end; if p, do: IO.puts("kmigrate:tenant\t" <> p <> "\tdone"); :ok catch k, e -> st = __STACKTRACE__; if p, do: IO.puts("kmigrate:tenant\t" <> p <> "\tfailed\t#{Process.get(:kmigrate_v)}\t" <> String.slice(String.replace(String.trim_leading(Exception.format_banner(k, e, st), "** "), ~r/\s+/, " "), 0, 400)); if not @KEEP_GOING@ or p in canary, do: :atomics.put(halt, 1, 1); {k, e, st} end end end; rest = pfxs -- canary; busy = Enum.uniq(for {repo, _, vs} <- todo, vs != [], do: repo); results = Enum.reduce(Enum.reverse(busy), fn -> Enum.map(canary, &one.(&1, true)) ++ if(@CONC@ < 2 or length(rest) < 2, do: Enum.map(rest, &one.(&1, true)), else: (ws = Enum.map(busy, &watch.(&1, nil)); try do Enum.map(Task.async_stream(rest, &one.(&1, false), max_concurrency: @CONC@, ordered: false, timeout: :infinity), fn {:ok, x} -> x end) after Enum.each(ws, &send(&1, :stop)) end)) end, fn repo, inner -> fn -> {:ok, x, _} = Ecto.Migrator.with_repo(repo, fn _ -> inner.() end, pool_size: @POOL@); x end end).(); case for({_, _, _} = f <- results, do: f) do [] -> :ok; [{k, e, st} | more] -> for({k2, e2, st2} <- more, do: IO.puts(:stderr, Exception.format(k2, e2, st2))); :erlang.raise(k, e, st) end"##;

/// A rollback reverts per repo: with several, `step`/`to` would revert in each of them.
const CHECK_ONE_REPO: &str = r#"if length(repos) * length(pfxs) > 1, do: refuse.("a rollback acts on one repo (and prefix) at a time, and this app has " <> Enum.map_join(repos, ", ", &inspect/1) <> ": choose one with --repo"); "#;

impl Snippet {
    /// The Elixir code for an operation, on one line.
    pub fn elixir(&self, op: Operation) -> String {
        let (body, verb) = match op {
            Operation::Status => (LOCKS.to_owned() + STATUS, "status"),
            Operation::Migrate(range) => (change(range, true, &self.tenants), "migrate"),
            // A rollback acts on one tenant: canaries, concurrency and continue-on-error
            // are a migrate's.
            Operation::Rollback(range) => (change(range, false, &Tenants::default()), "rollback"),
            Operation::Wait(deadline) => (wait::body(deadline), "wait"),
            Operation::Plan => (plan::body(), "plan"),
            Operation::MigratePlanned(range, hash) => (
                plan::pinned(&change(range, true, &self.tenants), &hash),
                "migrate",
            ),
        };
        let settle = SETTLE.replace("@WAIT@", if self.session.wait { "true" } else { "false" });
        let body = body
            .replace("@SETTLE@", &(LOCKS.to_owned() + &settle + WATCH))
            .replace("@PIN@", "")
            .replace("@BEAT@", &HEARTBEAT_SECONDS.to_string());
        // The wait snippet is pasted into Deployments by `gate`: it names no session and
        // looks for no other run, so the same gate is the same text every time (another
        // text would start a rollout).
        let session = if matches!(op, Operation::Wait(_)) {
            String::new()
        } else {
            self.session(verb, self.session.named)
        };
        self.prelude() + &session + &self.tenant_query() + &body
    }

    /// The prefixes from `--prefixes-from`, when given.
    fn tenant_query(&self) -> String {
        self.tenants
            .query
            .as_ref()
            .map_or_else(String::new, |q| TENANTS.replace("@SQL@", &q.hex()))
    }

    /// The session part: names and parameters in a VM of its own, none in `rpc`.
    fn session(&self, verb: &str, named: bool) -> String {
        let s = &self.session;
        let me = format!("kmigrate-{verb}-{}", s.run.as_str());
        let mut params = Vec::new();
        if named {
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
            .replace("@ME@", if named { &me } else { "" })
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
        vec![release.to_owned(), verb(mode).to_owned(), self.elixir(op)]
    }
}

/// The release command a mode runs snippets with.
pub fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Eval => "eval",
        Mode::Rpc => "rpc",
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
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

/// The body of a migrate (`up`) or rollback: the checks, which migrations the range
/// selects from each repo's status (`ms`, sorted by version), the direction, and how the
/// tenants are gone through.
fn change(range: Range, up: bool, tenants: &Tenants) -> String {
    let mut checks = String::new();
    if !up {
        checks.push_str(CHECK_ONE_REPO);
    }
    if !tenants.canaries.is_empty() {
        checks.push_str(CHECK_CANARY);
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
    let canaries = list(
        tenants
            .canaries
            .iter()
            .map(|p| format!("\"{}\"", p.as_str())),
    );
    let run = RUN
        .replace(
            "@KEEP_GOING@",
            if tenants.keep_going { "true" } else { "false" },
        )
        .replace("@CONC@", &tenants.concurrency.get().to_string())
        .replace("@POOL@", &pool_size(tenants.concurrency).to_string());
    CHANGE
        .replace("@RUN@", &run)
        .replace("@CHECKS@", &checks)
        .replace("@CANARY@", &canaries)
        .replace("@SELECT@", &select)
        .replace("@DIRECTION@", if up { ":up" } else { ":down" })
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
        assert!(code.contains("Ecto.Migrator.run(r, [mods[{r, v}]], :up, [to: v] ++ base"));
        // Each file compiled once, before anything runs.
        assert!(code.contains(r##"Path.join([d, "**", "#{v}_*.{ex,exs}"])"##));
        assert!(
            code.find("Code.compile_file(f)") < code.find("with_repo(repo, fn _ -> inner.() end")
        );
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
            tenants: Tenants::default(),
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
        assert!(code.contains("pool_size: 3); x end end).()"), "{code}");
        assert!(code.contains("rescue e -> timed_out.(e, r, p, v); reraise e, __STACKTRACE__"));
        assert!(code.contains("rem(n, 20) == 0"));
        // Before it starts, who holds Ecto's migration lock (the run will wait for it).
        assert!(code.contains("Ecto.Migrator.with_repo(repo, &locks.(&1, p)); for h <- held, do: IO.puts(\"kmigrate:locked\\t\""));
        assert!(code.contains(
            "%MatchError{term: {:error, %{postgres: %{code: :lock_not_available}}}} -> \"lock\""
        ));
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
        // The gate's text must not change from one call to the next.
        let wait = Operation::Wait(std::time::Duration::from_secs(60));
        assert!(!demo().elixir(wait).contains("ab12cd34"));
        assert!(status.contains("others.(r)"));
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
            canaries: canaries.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
            concurrency: Concurrency::parse(concurrency).unwrap(),
            keep_going,
        };
        s
    }

    #[test]
    fn tenants_run_one_at_a_time_by_default_and_stop_at_the_first_failure() {
        let code = tenants(&[], "1", false).elixir(Operation::Migrate(Range::All));
        assert!(code.contains(r#"pfxs = ["tenant_a", "tenant_b", "tenant_c"];"#));
        // Each repo is started once to read every tenant's status.
        assert!(code.contains(
            "got = Map.new(repos, fn repo -> {:ok, x, _} = Ecto.Migrator.with_repo(repo, fn r -> Map.new(pfxs, &{&1, rows.(r, &1)}) end); {repo, x} end);"
        ));
        // Every tenant's plan is said before anything runs, then its end.
        assert!(
            code.contains(r#"IO.puts("kmigrate:tenant\t" <> p <> "\tpending\t"#),
            "{code}"
        );
        assert!(code.contains(r#"<> "\tdone")"#));
        assert!(code.contains(r#"<> "\tfailed\t#{Process.get(:kmigrate_v)}\t""#));
        assert!(code.contains(r#"<> "\tnot-run")"#));
        // Fail-fast: a failure stops the tenants not started yet.
        assert!(code.contains("if not false or p in canary, do: :atomics.put(halt, 1, 1)"));
        assert!(code.contains("canary = [];"));
        assert!(!code.contains("is not one of the"), "no canary, no check");
        // One at a time: the pool of one migration (lock + migration) and the watcher.
        assert!(code.contains("if(1 < 2 or length(rest) < 2"));
        assert!(code.contains("pool_size: 3); x end end).()"), "{code}");
        // The first failure is raised again at the end: Ecto's exit code.
        assert!(code.ends_with(":erlang.raise(k, e, st) end"), "{code}");
        // Each migration's line is tagged as before.
        assert!(code.contains(r#"IO.puts("kmigrate:ran\t" <> tag.(r, p)"#));
    }

    #[test]
    fn canaries_go_first_alone_and_their_failure_stops_everything() {
        let code = tenants(&["tenant_c"], "3", true).elixir(Operation::Migrate(Range::All));
        // Checked before anything runs, with the plan's other checks.
        let check = code
            .find(r#"for c <- ["tenant_c"], c not in pfxs, do: refuse.("canary ""#)
            .expect("canary check");
        let plan = code.find("kmigrate:plan").expect("plan");
        let run = code.find("Ecto.Migrator.run(").expect("run");
        assert!(check < plan && plan < run);
        // Run first, one at a time (solo), then the rest.
        assert!(code.contains(r#"canary = ["tenant_c"]; pfxs = canary ++ (pfxs -- canary);"#));
        assert!(code.contains("Enum.map(canary, &one.(&1, true)) ++ if("));
        // Continue-on-error, but never past a failed canary.
        assert!(code.contains("if not true or p in canary, do: :atomics.put(halt, 1, 1)"));
    }

    #[test]
    fn concurrency_runs_tenants_in_tasks_with_a_pool_for_all_of_them() {
        let code = tenants(&[], "4", false).elixir(Operation::Migrate(Range::All));
        assert!(code.contains(
            "Task.async_stream(rest, &one.(&1, false), max_concurrency: 4, ordered: false, timeout: :infinity)"
        ));
        assert!(code.contains(&format!(
            "pool_size: {}); x end end).()",
            pool_size(Concurrency::parse("4").unwrap())
        )));
        assert_eq!(pool_size(Concurrency::parse("4").unwrap()), 9);
        assert_eq!(
            pool_size(Concurrency::ONE),
            3,
            "the watcher's third connection"
        );
        // Tenants at once share a watcher per repo; alone, each has its own.
        assert!(code.contains("ws = Enum.map(busy, &watch.(&1, nil))"));
        assert!(code.contains("w = if(solo, do: watch.(r, p))"));
        // A rollback is one tenant: none of this applies to it.
        let mut s = tenants(&["tenant_a"], "4", true);
        s.prefixes.truncate(1);
        let back = s.elixir(Operation::Rollback(Range::All));
        assert!(back.contains("canary = [];") && back.contains("pool_size: 3)"));
        assert!(back.contains("if not false or p in canary"));
    }

    #[test]
    fn prefixes_from_a_query_are_read_only_and_checked_one_by_one() {
        let mut s = demo();
        s.tenants.query = Some(TenantQuery::parse("SELECT nspname FROM pg_namespace").unwrap());
        for op in [Operation::Status, Operation::Migrate(Range::All)] {
            let code = s.elixir(op);
            let read = code.find(r#"r.query!("SET TRANSACTION READ ONLY"); r.query!(Base.decode16!("53454C454354"#).expect("the query, read-only");
            // Before anything reads the prefixes.
            let first_use = code.find("for p <- pfxs").expect("pfxs used");
            assert!(read < first_use, "{code}");
            assert!(code.contains(r#"n =~ ~r/\A[a-z_][a-z0-9_]*\z/"#));
            assert!(code.contains("byte_size(n) <= 63"));
            assert!(code.contains(r#"IO.puts("kmigrate:invalid\t" <> inspect(n))"#));
            assert!(code.contains("kmigrate:refused\\tthe --prefixes-from query failed: "));
        }
        assert!(!demo().elixir(Operation::Status).contains("decode16"));
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
                .replacen(&format!(":{app};"), ":APP;", 1)
                .replacen(&format!("[{repo}]"), "[REPO]", 1)
                .replacen(&format!("[\"{prefix}\"]"), "[PREFIX]", 1)
                .replacen(&format!(", {step})}} end;"), ", N)} end;", 1);
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
            let (before, rest) = code.split_once(r#"Base.decode16!(""#).expect("one literal");
            let (digits, after) = rest.split_once('"').expect("closed");
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
            let decoded: Vec<u8> = (0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
                .collect();
            prop_assert_eq!(String::from_utf8(decoded).unwrap(), query);
            let other = build("SELECT 1");
            let (b2, r2) = other.split_once(r#"Base.decode16!(""#).unwrap();
            let (_, a2) = r2.split_once('"').unwrap();
            prop_assert_eq!(before, b2);
            prop_assert_eq!(after, a2);
        }
    }
}
