//! The config file and the layer that applies, and what the action needs from them.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::action::{self, Change, Gate, WAIT_DEADLINE};
use super::values::{check_dns_subdomain, check_image, parse_duration};
use super::{Ecto, JobMode};
use crate::cli::{GateArgs, GlobalArgs, JobArgs, TenantArgs};
use crate::config::{self, Config, Layer};
use crate::ecto_snippet::Mode;
use crate::ecto_snippet::{
    AppName, Concurrency, MigrationPath, Operation, Prefix, Range, RepoModule, RunId, Session,
    Snippet, TenantQuery, Tenants, app_from_release,
};
use crate::error::usage;
use crate::job::Entrypoint;

/// The config file found (or named) and the layer that applies: defaults + environment.
pub(super) struct Loaded {
    pub(super) config: Config,
    pub(super) layer: Layer,
}

impl Loaded {
    pub(super) fn read(g: &GlobalArgs, cwd: &Path, source: &mut config::Source) -> Result<Self> {
        let home = std::env::home_dir();
        let text = config::read(g.config_path().as_deref(), cwd, home.as_deref(), source)
            .map_err(usage)?;
        let config = match (&text, &source.path) {
            (Some(text), Some(path)) => Config::parse(text)
                .map_err(|e| usage(format!("invalid config file {}: {e}", path.display())))?,
            _ => Config::default(),
        };
        if g.env.is_some() && text.is_none() {
            return Err(usage(format!(
                "-e/--env needs a kmigrate.toml (none found here or above, or the one found was ignored; see `{} init`)",
                crate::program_name::get()
            )));
        }
        let layer = config.resolve(g.env.as_deref()).map_err(usage)?;
        for (key, argv) in [
            ("migrate_command", &layer.migrate_command),
            ("rollback_command", &layer.rollback_command),
        ] {
            if argv
                .as_ref()
                .is_some_and(|a| a.first().is_none_or(String::is_empty))
            {
                return Err(usage(format!("{key} needs at least a program name")));
            }
        }
        Ok(Self { config, layer })
    }

    /// The snippet's inputs: app, release, repos, mode.
    pub(super) fn ecto(&self, g: &GlobalArgs) -> Result<Ecto> {
        let t = &self.layer;
        let app = g.app.clone().or_else(|| t.app.clone());
        let release = g.release.clone().or_else(|| t.release.clone());
        let app_text = match (&app, &release) {
            (Some(app), _) => app.clone(),
            (None, Some(release)) => app_from_release(release)
                .ok_or_else(|| {
                    usage(format!(
                        "cannot tell the app name from release path {release:?}; set app"
                    ))
                })?
                .to_owned(),
            (None, None) => {
                return Err(usage(
                    "which app? pass --app or --release, or set app or release in kmigrate.toml",
                ));
            }
        };
        let app = AppName::parse(&app_text).map_err(usage)?;
        let release = release.unwrap_or_else(|| format!("/app/bin/{}", app.as_str()));
        let repos = listed(&g.repos, t.repos.as_ref(), RepoModule::parse)?;
        let (prefixes, query) = self.prefixes(g)?;
        if g.allow_no_tenants && query.is_none() {
            return Err(usage(
                "--allow-no-tenants goes with --prefixes-from (or prefixes_from in kmigrate.toml): only a query can return no tenants",
            ));
        }
        let paths = listed(
            &g.migrations_paths,
            t.migrations_paths.as_ref(),
            MigrationPath::parse,
        )?;
        let mode = g.mode.or(t.mode).unwrap_or(Mode::Eval);
        let (lock_timeout, statement_timeout) = self.db_timeouts(g)?;
        if mode == Mode::Rpc && (lock_timeout.is_some() || statement_timeout.is_some()) {
            return Err(usage(
                "--lock-timeout and --statement-timeout need --mode eval: in rpc mode the migration runs on the app's own connection pool, which must not carry them",
            ));
        }
        Ok(Ecto {
            release,
            snippet: Snippet {
                app,
                repos,
                prefixes,
                paths,
                log_sql: g.log_sql || t.log_sql == Some(true),
                session: Session {
                    run: RunId::fresh(),
                    named: mode == Mode::Eval,
                    lock_timeout,
                    statement_timeout,
                    wait: g.wait,
                },
                tenants: Tenants {
                    allow_none: g.allow_no_tenants,
                    query,
                    ..Tenants::default()
                },
            },
            mode,
        })
    }

    /// The prefixes: `--prefix` or `--prefixes-from`, else the config's `prefixes` or
    /// `prefixes_from` (not both).
    fn prefixes(&self, g: &GlobalArgs) -> Result<(Vec<Prefix>, Option<TenantQuery>)> {
        let t = &self.layer;
        let query = |text: &str| TenantQuery::parse(text).map(Some).map_err(usage);
        if let Some(text) = &g.prefixes_from {
            return Ok((Vec::new(), query(text)?));
        }
        if g.prefixes.is_empty()
            && let Some(text) = &t.prefixes_from
        {
            if t.prefixes.is_some() {
                return Err(usage(
                    "kmigrate.toml sets both prefixes and prefixes_from: keep one",
                ));
            }
            return Ok((Vec::new(), query(text)?));
        }
        Ok((
            listed(&g.prefixes, t.prefixes.as_ref(), Prefix::parse)?,
            None,
        ))
    }

    /// `migrate`'s tenant flags, checked against the tenants the snippet will have.
    fn tenants(args: &TenantArgs, keep_going: bool, snippet: &mut Snippet) -> Result<()> {
        let concurrency = args
            .concurrency
            .as_deref()
            .map(Concurrency::parse)
            .transpose()
            .map_err(usage)?
            .unwrap_or_default();
        let mut canaries: Vec<Prefix> = Vec::new();
        for c in &args.canaries {
            let p = Prefix::parse(c).map_err(usage)?;
            if !canaries.contains(&p) {
                canaries.push(p);
            }
        }
        // `--continue-on-error` alone is also an environments' flag: only these two say
        // tenants are meant.
        let asked = !canaries.is_empty() || concurrency != Concurrency::ONE;
        let t = &mut snippet.tenants;
        if asked && snippet.prefixes.is_empty() && t.query.is_none() {
            return Err(usage(
                "--canary and --concurrency act on tenants: pass --prefix (repeatable) or --prefixes-from, or set prefixes or prefixes_from in kmigrate.toml",
            ));
        }
        if t.query.is_none()
            && let Some(c) = canaries.iter().find(|c| !snippet.prefixes.contains(c))
        {
            return Err(usage(format!(
                "canary {:?} is not one of the prefixes of this run",
                c.as_str()
            )));
        }
        t.canaries = canaries;
        t.concurrency = concurrency;
        t.keep_going = keep_going;
        Ok(())
    }

    /// `--lock-timeout` and `--statement-timeout` (or the config's), validated.
    fn db_timeouts(&self, g: &GlobalArgs) -> Result<(Option<Duration>, Option<Duration>)> {
        let read = |flag: &Option<String>, conf: &Option<String>, name: &str| {
            flag.as_ref()
                .or(conf.as_ref())
                .map(|text| {
                    let d = parse_duration(text).map_err(|e| usage(format!("{name}: {e}")))?;
                    if d.is_zero() {
                        return Err(usage(format!(
                            "{name} must be more than 0 (PostgreSQL reads 0 as no limit)"
                        )));
                    }
                    Ok(d)
                })
                .transpose()
        };
        Ok((
            read(&g.lock_timeout, &self.layer.lock_timeout, "--lock-timeout")?,
            read(
                &g.statement_timeout,
                &self.layer.statement_timeout,
                "--statement-timeout",
            )?,
        ))
    }

    /// A migrate or rollback: the custom command with its placeholders filled, else the
    /// embedded snippet (and then the Ecto inputs, for previews).
    pub(super) fn change(
        &self,
        g: &GlobalArgs,
        range: Range,
        tenants: Option<&TenantArgs>,
    ) -> Result<(Change, Option<Ecto>)> {
        let up = tenants.is_some();
        let (custom, key) = if up {
            (&self.layer.migrate_command, "migrate_command")
        } else {
            (&self.layer.rollback_command, "rollback_command")
        };
        if let Some(template) = custom {
            if self.db_timeouts(g)? != (None, None) {
                return Err(usage(format!(
                    "--lock-timeout and --statement-timeout apply to the embedded Ecto snippet; the configured {key} sets its own"
                )));
            }
            if tenants.is_some_and(|a| !a.canaries.is_empty() || a.concurrency.is_some()) {
                return Err(usage(format!(
                    "--canary and --concurrency go through the tenants of the embedded Ecto snippet; the configured {key} runs its own way"
                )));
            }
            let argv = action::fill_custom(template, range, key)?;
            return Ok((
                Change {
                    range,
                    argv,
                    custom: true,
                    plan: None,
                    allow_destructive: Vec::new(),
                    allow_breaking: Vec::new(),
                },
                None,
            ));
        }
        let mut ecto = self.ecto(g)?;
        if let Some(args) = tenants {
            Self::tenants(args, g.continue_on_error, &mut ecto.snippet)?;
        }
        // In rpc the repo is the live app's, already started: `Ecto.Migrator.with_repo/3`
        // ignores the `pool_size:` the snippet asks for, so tenants at once would hold
        // 2 connections each of the pool the app serves its traffic from, without a cap.
        let concurrency = ecto.snippet.tenants.concurrency;
        if ecto.mode == Mode::Rpc && concurrency != Concurrency::ONE {
            return Err(usage(format!(
                "--concurrency {} needs --mode eval: in rpc mode tenants at once would take 2 \
                 connections each from the live app's own pool, which serves its traffic; \
                 migrate them one at a time in rpc, or use --mode eval",
                concurrency.get()
            )));
        }
        let op = if up {
            Operation::Migrate(range)
        } else {
            Operation::Rollback(range)
        };
        let change = Change {
            range,
            argv: ecto.argv(op),
            custom: false,
            plan: None,
            allow_destructive: Vec::new(),
            allow_breaking: Vec::new(),
        };
        Ok((change, Some(ecto)))
    }

    /// `gate`: its flags, checked, with the config's Deployment.
    pub(super) fn gate(&self, args: &GateArgs) -> Result<Gate> {
        Ok(Gate {
            image: image(args.image.as_ref())?,
            deployment: self.deployment(args.deployment.as_ref())?,
            deadline: deadline(args.deadline.as_deref())?,
            patch: args.patch,
            entrypoint: self.entrypoint(args.entrypoint),
        })
    }

    /// `--entrypoint`, else the config's, else `replace`.
    fn entrypoint(&self, flag: Option<Entrypoint>) -> Entrypoint {
        flag.or(self.layer.entrypoint).unwrap_or_default()
    }

    /// `--deployment`, else the config's, checked.
    fn deployment(&self, flag: Option<&String>) -> Result<Option<String>> {
        let d = flag.or(self.layer.deployment.as_ref()).cloned();
        if let Some(d) = &d {
            check_dns_subdomain(d, "deployment name")?;
        }
        Ok(d)
    }

    /// Job mode, when asked for by flags or config.
    pub(super) fn job(&self, args: &JobArgs) -> Result<Option<JobMode>> {
        if !(args.image.is_some() || args.dry_run || self.layer.job == Some(true)) {
            return Ok(None);
        }
        let mode = JobMode {
            image: image(args.image.as_ref())?,
            deployment: self.deployment(args.deployment.as_ref())?,
            dry_run: args.dry_run,
            start_grace: match args
                .start_grace
                .as_ref()
                .or(self.layer.start_grace.as_ref())
            {
                Some(text) => parse_duration(text).map_err(usage)?,
                None => crate::job::START_GRACE,
            },
            entrypoint: self.entrypoint(args.entrypoint),
        };
        Ok(Some(mode))
    }
}

/// `--image`, checked.
fn image(flag: Option<&String>) -> Result<Option<String>> {
    if let Some(i) = flag {
        check_image(i)?;
    }
    Ok(flag.cloned())
}

/// `--deadline`, or [`WAIT_DEADLINE`].
pub(super) fn deadline(flag: Option<&str>) -> Result<std::time::Duration> {
    flag.map_or(Ok(WAIT_DEADLINE), |d| parse_duration(d).map_err(usage))
}

/// A repeatable flag's values, else the config's list, each validated.
fn listed<T>(
    flag: &[String],
    config: Option<&Vec<String>>,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>> {
    let values = if flag.is_empty() {
        config.map_or(&[][..], Vec::as_slice)
    } else {
        flag
    };
    values
        .iter()
        .map(|v| parse(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)
}
