//! `kmigrate.toml`: defaults at the top level, named environments under `[env.NAME]`.

mod discovery;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ecto_snippet::Mode;
use crate::job::Entrypoint;

pub use discovery::{Source, read};

/// The file name searched for in the current directory and its parents (see [`read`]).
pub const FILE_NAME: &str = "kmigrate.toml";

/// Name patterns that make a namespace or context protected unless the config says otherwise.
pub const DEFAULT_PROTECTED_PATTERNS: [&str; 7] = [
    "prod",
    "production",
    "*-prod",
    "prod-*",
    "*-production",
    "production-*",
    "prd",
];

/// Settings that may appear at the top level and in every environment.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// kubeconfig context.
    pub context: Option<String>,
    /// Namespace of the app's pods.
    pub namespace: Option<String>,
    /// Label selector of the app's pods.
    pub selector: Option<String>,
    /// Container name.
    pub container: Option<String>,
    /// Path of the release script in the container.
    pub release: Option<String>,
    /// OTP application name.
    pub app: Option<String>,
    /// Ecto repo modules.
    pub repos: Option<Vec<String>>,
    /// `eval` or `rpc`.
    pub mode: Option<Mode>,
    /// Schema prefixes (Ecto's `prefix:`).
    pub prefixes: Option<Vec<String>>,
    /// A SQL query whose rows name the prefixes (instead of `prefixes`).
    pub prefixes_from: Option<String>,
    /// Extra migrations directories, relative to the app's directory.
    pub migrations_paths: Option<Vec<String>>,
    /// Log each migration's SQL.
    pub log_sql: Option<bool>,
    /// A custom argv that replaces the embedded migrate snippet.
    pub migrate_command: Option<Vec<String>>,
    /// A custom argv that replaces the embedded rollback snippet; `{step}` and `{to}` are filled in.
    pub rollback_command: Option<Vec<String>>,
    /// Whether to ask for confirmation before changing anything.
    pub protected: Option<bool>,
    /// Overall time limit, e.g. `10m`.
    pub timeout: Option<String>,
    /// PostgreSQL `lock_timeout` for the migration's own sessions, e.g. `5s`.
    pub lock_timeout: Option<String>,
    /// PostgreSQL `statement_timeout` for the migration's own sessions, e.g. `15m`.
    pub statement_timeout: Option<String>,
    /// Run migrate, rollback and status in a Job (with `--image`, or the Deployment's image).
    pub job: Option<bool>,
    /// The Deployment whose pod template Job mode copies.
    pub deployment: Option<String>,
    /// Job mode: how long a pod that Kubernetes keeps retrying is given to start.
    pub start_grace: Option<String>,
    /// Job mode and the gate: replace the entrypoint the app runs under, or keep it.
    pub entrypoint: Option<Entrypoint>,
}

/// How much of a user's command the audit trail keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditArgv {
    /// The program and a SHA-256 of the argv.
    #[default]
    Hash,
    /// The whole argv.
    Full,
}

/// The whole file.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The single-runner lock: `required`, `best-effort` or `off`.
    pub lock: Option<crate::lock::LockMode>,
    /// Top-level defaults.
    #[serde(flatten)]
    pub defaults: Layer,
    /// Environment used when `-e` is not given.
    pub default_env: Option<String>,
    /// Glob patterns (`*` only) of names that are protected, added to the defaults.
    pub protected_patterns: Option<Vec<String>>,
    /// Drop the default patterns (said on every run).
    pub replace_default_patterns: Option<bool>,
    /// Record `exec` and custom commands in full in audit Events and Job annotations
    /// (`"full"`), instead of the program and a hash (`"hash"`, the default).
    pub audit_argv: Option<AuditArgv>,
    /// Leave an audit Event per migrate, rollback and exec; `false` turns them off (said on
    /// every run).
    pub audit: Option<bool>,
    /// Read the cluster's protection marks (the namespace's `kmigrate.io/protected` and the
    /// ConfigMap `kmigrate`); `false` skips both reads (said on every run).
    pub protection_marks: Option<bool>,
    /// The exit code of every remote failure, instead of the remote command's own
    /// (`--remote-failure-code`).
    pub remote_failure_code: Option<i64>,
    /// Named environments.
    #[serde(default)]
    pub env: BTreeMap<String, Layer>,
    /// Named groups of environments, run in the order listed (`-e GROUP`).
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
}

impl Config {
    /// Parse the text of a config file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The defaults overlaid with the named environment.
    pub fn resolve(&self, env: Option<&str>) -> Result<Layer, String> {
        let Some(name) = env.or(self.default_env.as_deref()) else {
            return Ok(self.defaults.clone());
        };
        let Some(over) = self.env.get(name) else {
            let known: Vec<&str> = self.env.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!("unknown environment {name:?}: the config defines no [env.*] tables")
            } else {
                format!(
                    "unknown environment {name:?}; defined: {}",
                    known.join(", ")
                )
            });
        };
        Ok(overlay(&self.defaults, over))
    }
}

fn overlay(base: &Layer, over: &Layer) -> Layer {
    Layer {
        context: over.context.clone().or_else(|| base.context.clone()),
        namespace: over.namespace.clone().or_else(|| base.namespace.clone()),
        selector: over.selector.clone().or_else(|| base.selector.clone()),
        container: over.container.clone().or_else(|| base.container.clone()),
        release: over.release.clone().or_else(|| base.release.clone()),
        app: over.app.clone().or_else(|| base.app.clone()),
        repos: over.repos.clone().or_else(|| base.repos.clone()),
        mode: over.mode.or(base.mode),
        prefixes: over.prefixes.clone().or_else(|| base.prefixes.clone()),
        prefixes_from: over
            .prefixes_from
            .clone()
            .or_else(|| base.prefixes_from.clone()),
        migrations_paths: over
            .migrations_paths
            .clone()
            .or_else(|| base.migrations_paths.clone()),
        log_sql: over.log_sql.or(base.log_sql),
        migrate_command: over
            .migrate_command
            .clone()
            .or_else(|| base.migrate_command.clone()),
        rollback_command: over
            .rollback_command
            .clone()
            .or_else(|| base.rollback_command.clone()),
        protected: over.protected.or(base.protected),
        timeout: over.timeout.clone().or_else(|| base.timeout.clone()),
        lock_timeout: over
            .lock_timeout
            .clone()
            .or_else(|| base.lock_timeout.clone()),
        statement_timeout: over
            .statement_timeout
            .clone()
            .or_else(|| base.statement_timeout.clone()),
        job: over.job.or(base.job),
        deployment: over.deployment.clone().or_else(|| base.deployment.clone()),
        start_grace: over
            .start_grace
            .clone()
            .or_else(|| base.start_grace.clone()),
        entrypoint: over.entrypoint.or(base.entrypoint),
    }
}

/// Whether `name` matches a pattern where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == name;
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// The commented scaffold that `kmigrate init` writes.
pub const SCAFFOLD: &str = r#"# kmigrate.toml: how kmigrate finds your app and runs its migrations.
# Flags (-n, -l, -c, --context, ...) override these values.

# Label selector of the app's pods (kubectl syntax).
selector = "app=my_app"
# OTP application name; defaults to the release script's file name.
app = "my_app"
# Path of the mix release script inside the container.
release = "/app/bin/my_app"
# Ecto repos; defaults to the app's :ecto_repos.
# repos = ["MyApp.Repo"]
# Container name; defaults to the kubectl.kubernetes.io/default-container annotation, then the first.
# container = "app"
# "eval" starts a fresh VM next to the app; "rpc" runs inside the live node.
# mode = "eval"
# Schema prefixes (Ecto's prefix:), migrations directories (replacing the default), SQL logging:
# prefixes = ["tenant_a"]
# or the names a query returns (first column), read-only, on the first repo:
# prefixes_from = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1"
# migrations_paths = ["priv/repo/data_migrations"]
# log_sql = false
# Replace the embedded Ecto snippet with your own script:
# migrate_command = ["/app/bin/migrate"]
# rollback_command = ["/app/bin/rollback", "{step}"]
# Run migrate/rollback/status in a Job built from the Deployment (see --image):
# job = true
# deployment = "my-app"
# How long a Job's pod in image-pull back-off (or config error, unschedulable) may take to start:
# start_grace = "2m"
# Job mode and the gate replace the image's ENTRYPOINT with the release command; "keep" passes the
# command to it instead (it must exec its arguments: an entrypoint.sh ending in exec "$@", vault-env):
# entrypoint = "keep"
# Names (namespace, context, cluster, server host, or a part of them) that mean production
# are protected by default: prod, production, *-prod, prod-*, *-production, production-*, prd.
# Add your own here; replace_default_patterns = true drops the defaults (said on every run).
# protected_patterns = ["live", "*-live"]
# Audit Events and Job annotations record `exec` and custom commands as the program and a
# SHA-256 of the argv; "full" records them whole.
# audit_argv = "hash"
# Each migrate, rollback and exec leaves an audit Event; false turns them off (said on every run).
# audit = true
# The cluster's protection marks (namespace label, ConfigMap kmigrate) are always read here;
# only KMIGRATE_PROTECTION_MARKS=off in a run's environment skips them (said on every run).
# Single-runner lock (a Lease per app): "required" or "best-effort" (warn if RBAC forbids it,
# except in a protected environment). Only KMIGRATE_LOCK=off in a run's environment turns it off.
# lock = "best-effort"
# Environment used when -e is not given (without one, the kubeconfig's context and namespace).
default_env = "staging"

[env.staging]
context = "staging"
namespace = "my-app-staging"

[env.prod]
context = "production"
namespace = "my-app"
protected = true
timeout = "15m"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffold_parses_and_resolves() {
        let cfg = Config::parse(SCAFFOLD).unwrap();
        let prod = cfg.resolve(Some("prod")).unwrap();
        assert_eq!(prod.namespace.as_deref(), Some("my-app"));
        assert_eq!(prod.selector.as_deref(), Some("app=my_app"));
        assert_eq!(prod.protected, Some(true));
        let plain = cfg.resolve(None).unwrap();
        assert_eq!(plain.namespace.as_deref(), Some("my-app-staging"));
        assert_eq!(plain.protected, None);
    }

    #[test]
    fn env_overrides_defaults_and_default_env_applies() {
        let cfg = Config::parse(
            "namespace = \"a\"\ncontainer = \"web\"\ndefault_env = \"s\"\n[env.s]\nnamespace = \"b\"\nmode = \"rpc\"\n",
        )
        .unwrap();
        let t = cfg.resolve(None).unwrap();
        assert_eq!(t.namespace.as_deref(), Some("b"));
        assert_eq!(t.container.as_deref(), Some("web"));
        assert_eq!(t.mode, Some(Mode::Rpc));
    }

    #[test]
    fn unknown_env_lists_known_ones() {
        let cfg = Config::parse("[env.staging]\n[env.prod]\n").unwrap();
        let err = cfg.resolve(Some("prd")).unwrap_err();
        assert!(
            err.contains("\"prd\"") && err.contains("prod, staging"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_types_are_rejected() {
        assert!(
            Config::parse("namespce = \"x\"")
                .unwrap_err()
                .contains("namespce")
        );
        assert!(Config::parse("[env.a]\nprotected = \"yes\"").is_err());
        assert!(Config::parse("mode = \"ssh\"").is_err());
        assert!(Config::parse("repos = \"Demo.Repo\"").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("prod", "prod"));
        assert!(!glob_match("prod", "production"));
        assert!(glob_match("*-prod", "shop-prod"));
        assert!(!glob_match("*-prod", "shop-prod-2"));
        assert!(glob_match("prod-*", "prod-eu"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
        assert!(!glob_match("a*b*c", "a-x-c"));
        assert!(!glob_match("*-prod", "-pro"));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Arbitrary text is parsed or rejected with a message, never a panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
            if let Err(e) = Config::parse(&text) {
                prop_assert!(!e.is_empty());
            }
        }

        /// Arbitrary key/value lines: unknown keys are always rejected.
        #[test]
        fn unknown_keys_are_rejected(key in "[a-z_]{1,12}", value in "[a-z]{0,8}") {
            let known = ["context", "namespace", "selector", "container", "release", "app", "repos", "mode", "prefixes", "prefixes_from",
                "migrate_command", "rollback_command", "protected", "timeout", "default_env", "protected_patterns",
                "replace_default_patterns", "audit_argv", "audit", "protection_marks", "env", "lock", "job", "deployment", "start_grace", "entrypoint"];
            let text = format!("{key} = \"{value}\"\n");
            if !known.contains(&key.as_str()) {
                prop_assert!(Config::parse(&text).is_err(), "{}", text);
            }
        }

        #[test]
        fn glob_never_panics(pattern in "[a*-]{0,8}", name in "[a-]{0,8}") {
            let _ = glob_match(&pattern, &name);
            prop_assert!(glob_match("*", &name));
        }
    }
}
