//! Whether an environment is production: by the config, or by its names. Names are matched
//! case-insensitively, whole and by segment, against the namespace, the context, the
//! kubeconfig's cluster name and the API server's host, so that an EKS ARN
//! (`arn:aws:eks:...:cluster/prod`), a GKE context (`gke_acme_europe-west1_prod-1`) or
//! `PROD` count as production. A config file can add patterns; removing the defaults needs
//! an explicit `replace_default_patterns = true`, which is said on every run.

use crate::config::{self, Config, DEFAULT_PROTECTED_PATTERNS};

/// The names of the place a run goes to, as far as they are known.
#[derive(Debug, Default, Clone, Copy)]
pub struct Place<'a> {
    /// The kubeconfig context.
    pub context: Option<&'a str>,
    /// The namespace.
    pub namespace: Option<&'a str>,
    /// The kubeconfig's cluster name for the context.
    pub cluster: Option<&'a str>,
    /// The API server's host.
    pub host: Option<&'a str>,
}

/// An environment of the config marked `protected = true`, with where it points.
#[derive(Debug, Clone)]
struct ProtectedEnv {
    name: String,
    context: Option<String>,
    namespace: Option<String>,
}

/// The protection rules of one run.
#[derive(Debug, Clone, Default)]
pub struct Protection {
    /// `protected` of the environment chosen with `-e` (or `default_env`).
    chosen: Option<(Option<String>, bool)>,
    envs: Vec<ProtectedEnv>,
    patterns: Vec<String>,
    /// `KMIGRATE_PROTECTION_MARKS=off`: the cluster's marks are not read.
    pub marks_off: bool,
    /// Said once per run: the config replaced the default patterns, or turned the cluster's
    /// marks off.
    pub notes: Vec<String>,
}

impl Protection {
    /// The rules from the config; `chosen_env` and `chosen` are the environment in use and
    /// its `protected` value; `marks_off`, whether this run's environment turns the
    /// cluster's marks off (never the committed file: see [`super::switches`]).
    pub fn new(
        config: &Config,
        chosen_env: Option<String>,
        chosen: Option<bool>,
        marks_off: bool,
    ) -> Self {
        let envs = config
            .env
            .keys()
            .filter_map(|name| {
                let layer = config.resolve(Some(name)).ok()?;
                (layer.protected == Some(true)
                    && (layer.context.is_some() || layer.namespace.is_some()))
                .then(|| ProtectedEnv {
                    name: name.clone(),
                    context: layer.context,
                    namespace: layer.namespace,
                })
            })
            .collect();
        let replace = config.replace_default_patterns == Some(true);
        let mut patterns: Vec<String> = if replace {
            Vec::new()
        } else {
            DEFAULT_PROTECTED_PATTERNS
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        };
        patterns.extend(config.protected_patterns.iter().flatten().cloned());
        let mut notes: Vec<String> = replace.then(|| {
            format!(
                "note: kmigrate.toml replaces the default production name patterns ({}); protected by name: {}",
                DEFAULT_PROTECTED_PATTERNS.join(", "),
                if patterns.is_empty() { "nothing".to_owned() } else { patterns.join(", ") }
            )
        }).into_iter().collect();
        if marks_off {
            notes.push(
                "note: KMIGRATE_PROTECTION_MARKS=off turns the cluster's protection marks off: \
                 the namespace's kmigrate.io/protected and the ConfigMap kmigrate are not read"
                    .to_owned(),
            );
        }
        Self {
            chosen: chosen.map(|p| (chosen_env, p)),
            envs,
            patterns,
            marks_off,
            notes,
        }
    }

    /// Why the place is protected, or `None`. Protection only adds up: what a name says
    /// cannot be taken back by another.
    pub fn reason(&self, place: &Place<'_>) -> Option<String> {
        if let Some((env, true)) = &self.chosen {
            return Some(match env {
                Some(env) => format!("environment {env} is marked protected"),
                None => "the config marks it protected".to_owned(),
            });
        }
        for e in &self.envs {
            let same = |want: &Option<String>, have: Option<&str>| {
                want.as_deref().is_none_or(|w| have == Some(w))
            };
            if same(&e.context, place.context) && same(&e.namespace, place.namespace) {
                return Some(format!(
                    "it is environment {}'s context and namespace, and that environment is marked protected",
                    e.name
                ));
            }
        }
        let names = [
            ("namespace", place.namespace),
            ("context", place.context),
            ("cluster", place.cluster),
            ("server", place.host),
        ];
        for pattern in &self.patterns {
            let pattern = pattern.to_lowercase();
            for (what, value) in names {
                let Some(value) = value else { continue };
                let lower = value.to_lowercase();
                let hit = config::glob_match(&pattern, &lower)
                    || lower
                        .split(['/', ':', '_', '.', '@', '-'])
                        .any(|seg| config::glob_match(&pattern, seg));
                if hit {
                    return Some(format!("{what} {value:?} matches {pattern:?}"));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(config: &str) -> Protection {
        Protection::new(&Config::parse(config).unwrap(), None, None, false)
    }

    fn place<'a>(context: &'a str, namespace: &'a str) -> Place<'a> {
        Place {
            context: Some(context),
            namespace: Some(namespace),
            ..Place::default()
        }
    }

    #[test]
    fn production_names_in_their_usual_shapes() {
        let p = rules("");
        for context in [
            "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
            "gke_acme_europe-west1_prod-1",
            "production-eu",
            "PROD",
            "admin@prod.example.com",
        ] {
            assert!(p.reason(&place(context, "shop")).is_some(), "{context}");
        }
        // A word between hyphens counts as between any other separators (prefer asking
        // once too often to running in production unasked).
        for namespace in [
            "shop-prod-eu",
            "eu-prod-1",
            "platform-prod-eu",
            "shop-prd-2",
        ] {
            let why = p.reason(&place("dev", namespace));
            assert!(why.is_some_and(|w| w.contains("namespace")), "{namespace}");
        }
        assert!(p.reason(&place("kind-dev", "shop-staging")).is_none());
        assert!(p.reason(&place("dev", "shop-products-eu")).is_none());
        assert!(p.reason(&place("dev", "products")).is_none());
        let by_host = Place {
            host: Some("api.prod.acme.internal"),
            ..Place::default()
        };
        assert!(p.reason(&by_host).unwrap().contains("server"));
        let by_cluster = Place {
            cluster: Some("eks-prod"),
            ..Place::default()
        };
        assert!(p.reason(&by_cluster).unwrap().contains("cluster"));
    }

    #[test]
    fn config_patterns_add_to_the_defaults_unless_replaced_out_loud() {
        let p = rules("protected_patterns = [\"live\"]\n");
        assert!(p.reason(&place("dev", "live")).is_some());
        assert!(p.reason(&place("dev", "prod")).is_some(), "defaults stay");
        assert!(p.notes.is_empty());
        assert!(!p.marks_off);
        let p = rules("protected_patterns = [\"live\"]\nreplace_default_patterns = true\n");
        assert!(p.reason(&place("dev", "prod")).is_none());
        assert!(p.notes[0].contains("replaces the default"));
    }

    #[test]
    fn turning_the_cluster_marks_off_is_said_and_names_still_protect() {
        let p = Protection::new(&Config::default(), None, None, true);
        assert!(p.marks_off);
        assert_eq!(p.notes.len(), 1);
        assert!(
            p.notes[0].contains("KMIGRATE_PROTECTION_MARKS=off"),
            "{:?}",
            p.notes
        );
        assert!(p.reason(&place("dev", "shop-prod")).is_some());
    }

    #[test]
    fn a_protected_environment_protects_its_place_without_e() {
        let p = rules("[env.live]\ncontext = \"eu-1\"\nnamespace = \"shop\"\nprotected = true\n");
        assert!(
            p.reason(&place("eu-1", "shop"))
                .unwrap()
                .contains("environment live")
        );
        assert!(p.reason(&place("eu-1", "shop-dev")).is_none());
        assert!(p.reason(&place("us-1", "shop")).is_none());
    }
}
