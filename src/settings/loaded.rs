//! The config file and the layer that applies, and what the action needs from them.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::action::{self, Change};
use super::values::{check_dns_subdomain, check_image, parse_duration};
use super::{Ecto, JobMode};
use crate::cli::{GlobalArgs, JobArgs, Mode};
use crate::config::{self, Config, Layer};
use crate::ecto_snippet::{
    AppName, MigrationPath, Operation, Prefix, Range, RepoModule, RunId, Session, Snippet,
    app_from_release,
};
use crate::error::usage;

/// The config file found (or named) and the layer that applies: defaults + environment.
pub(super) struct Loaded {
    pub(super) config: Config,
    pub(super) layer: Layer,
}

impl Loaded {
    pub(super) fn read(g: &GlobalArgs, cwd: &Path, source: &mut config::Source) -> Result<Self> {
        let home = std::env::home_dir();
        let text =
            config::read(g.config.as_deref(), cwd, home.as_deref(), source).map_err(usage)?;
        let config = match (&text, &source.path) {
            (Some(text), Some(path)) => Config::parse(text)
                .map_err(|e| usage(format!("invalid config file {}: {e}", path.display())))?,
            _ => Config::default(),
        };
        if g.env.is_some() && text.is_none() {
            return Err(usage(
                "-e/--env needs a kmigrate.toml (none found here or above, or the one found was ignored; see `kmigrate init`)",
            ));
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
        let prefixes = listed(&g.prefixes, t.prefixes.as_ref(), Prefix::parse)?;
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
            },
            mode,
        })
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
        up: bool,
    ) -> Result<(Change, Option<Ecto>)> {
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
            let argv = action::fill_custom(template, range, key)?;
            return Ok((
                Change {
                    range,
                    argv,
                    custom: true,
                    plan: None,
                    allow_destructive: Vec::new(),
                },
                None,
            ));
        }
        let ecto = self.ecto(g)?;
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
        };
        Ok((change, Some(ecto)))
    }

    /// Job mode, when asked for by flags or config.
    pub(super) fn job(&self, args: &JobArgs) -> Result<Option<JobMode>> {
        if !(args.image.is_some() || args.dry_run || self.layer.job == Some(true)) {
            return Ok(None);
        }
        let mode = JobMode {
            image: args.image.clone(),
            deployment: args
                .deployment
                .clone()
                .or_else(|| self.layer.deployment.clone()),
            dry_run: args.dry_run,
            start_grace: match args
                .start_grace
                .as_ref()
                .or(self.layer.start_grace.as_ref())
            {
                Some(text) => parse_duration(text).map_err(usage)?,
                None => crate::job::START_GRACE,
            },
        };
        if let Some(image) = &mode.image {
            check_image(image)?;
        }
        if let Some(d) = &mode.deployment {
            check_dns_subdomain(d, "deployment name")?;
        }
        Ok(Some(mode))
    }
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
