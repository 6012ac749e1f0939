//! Literal env values that carry a credential: a URL with a password in it, or a variable
//! whose name says secret. What kmigrate copies from a Deployment (the gate, a Job shown by
//! `--dry-run`) is printed, saved to files and pasted into manifests: such a value must not
//! reach it. A value from a Secret (`valueFrom`, `envFrom`) is a reference, and stays.

use k8s_openapi::api::core::v1::{Container, EnvVar};

/// Words in a variable's name that make its literal value a credential.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "PRIVATE_KEY",
    "API_KEY",
    "ACCESS_KEY",
];

/// What a masked value says instead.
pub const MASK: &str = "(a credential, not shown: the Deployment's own value is used)";

/// Whether an env entry holds a credential as a literal value.
pub fn is_literal_secret(var: &EnvVar) -> bool {
    let Some(value) = var.value.as_deref().filter(|v| !v.is_empty()) else {
        return false;
    };
    let name = var.name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| name.contains(w))
        || crate::text::without_url_passwords(value) != value
}

/// The names of a container's literal credentials.
pub fn literal_secrets(c: &Container) -> Vec<String> {
    c.env
        .iter()
        .flatten()
        .filter(|v| is_literal_secret(v))
        .map(|v| v.name.clone())
        .collect()
}

/// Replace each literal credential's value with [`MASK`].
pub fn mask(c: &mut Container) {
    for var in c.env.iter_mut().flatten() {
        if is_literal_secret(var) {
            var.value = Some(MASK.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            value_from: None,
        }
    }

    #[test]
    fn urls_with_passwords_and_secret_names_are_credentials_the_rest_is_not() {
        for secret in [
            var("DATABASE_URL", "ecto://demo:s3cret@db/demo"),
            var("REDIS", "redis://:hunter2@cache:6379"),
            var("PGPASSWORD", "s3cret"),
            var("SECRET_KEY_BASE", "abc"),
            var("github_token", "ghp_x"),
            var("AWS_SECRET_ACCESS_KEY", "k"),
        ] {
            assert!(is_literal_secret(&secret), "{secret:?}");
        }
        for plain in [
            var("DATABASE_URL", "ecto://db/demo"),
            var("DATABASE_URL", "ecto://demo@db/demo"),
            var("PGHOST", "db"),
            var("POOL_SIZE", "10"),
            var("PGPASSWORD", ""),
            EnvVar {
                name: "PGPASSWORD".to_owned(),
                value: None,
                value_from: Some(Default::default()),
            },
        ] {
            assert!(!is_literal_secret(&plain), "{plain:?}");
        }
    }

    #[test]
    fn masking_keeps_references_and_plain_values() {
        let mut c = Container {
            env: Some(vec![
                var("DATABASE_URL", "ecto://demo:s3cret@db/demo"),
                var("PGHOST", "db"),
            ]),
            ..Container::default()
        };
        assert_eq!(literal_secrets(&c), ["DATABASE_URL"]);
        mask(&mut c);
        let env = c.env.unwrap();
        assert_eq!(env[0].value.as_deref(), Some(MASK));
        assert_eq!(env[1].value.as_deref(), Some("db"));
    }
}
