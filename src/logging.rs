//! Logs on stderr: `-v` and `RUST_LOG` raise kmigrate's own targets only. Other crates stay
//! at warn (info with `-vv`): the HTTP and TLS stacks log requests and headers at debug and
//! trace, and those hold bearer tokens.

use tracing_subscriber::EnvFilter;

/// The filter for `-v` count `verbose` and the `RUST_LOG` value, and the directives of
/// `RUST_LOG` that were ignored because they name another crate.
pub fn filter(verbose: u8, rust_log: Option<&str>) -> (String, Vec<String>) {
    let mut ours = ["warn", "info", "debug", "trace"][usize::from(verbose.min(3))].to_owned();
    let others = if verbose >= 2 { "info" } else { "warn" };
    let mut modules = Vec::new();
    let mut ignored = Vec::new();
    for d in rust_log.unwrap_or("").split(',').map(str::trim) {
        if d.is_empty() {
            continue;
        }
        let (target, level) = match d.split_once('=') {
            Some((t, l)) => (t.trim(), l.trim().to_ascii_lowercase()),
            None if is_level(d) => ("kmigrate", d.to_ascii_lowercase()),
            None => (d, "trace".to_owned()),
        };
        if !is_level(&level) {
            ignored.push(d.to_owned());
        } else if target == "kmigrate" {
            // A flag says more than the environment: RUST_LOG never quiets `-v`.
            if rank(&level) > rank(&ours) || verbose == 0 {
                ours = level;
            }
        } else if target.starts_with("kmigrate::") {
            modules.push(format!("{target}={level}"));
        } else {
            ignored.push(d.to_owned());
        }
    }
    let mut directives = vec![others.to_owned(), format!("kmigrate={ours}")];
    directives.extend(modules);
    (directives.join(","), ignored)
}

fn is_level(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    rank(&s) > 0 || s == "off"
}

fn rank(level: &str) -> u8 {
    match level {
        "error" => 1,
        "warn" => 2,
        "info" => 3,
        "debug" => 4,
        "trace" => 5,
        _ => 0,
    }
}

/// Start logging on stderr; returns the ignored `RUST_LOG` directives.
pub fn init(verbose: u8, color: bool) -> Vec<String> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, ignored) = filter(verbose, rust_log.as_deref());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(|| crate::stderr::Logs)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
    ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_raises_our_targets_only() {
        let (f, ignored) = filter(0, Some("debug,hyper=trace,kmigrate::lock=trace,rustls"));
        assert_eq!(f, "warn,kmigrate=debug,kmigrate::lock=trace");
        assert_eq!(ignored, ["hyper=trace", "rustls"]);
    }

    #[test]
    fn without_rust_log_the_flags_decide() {
        assert_eq!(filter(0, None).0, "warn,kmigrate=warn");
        assert_eq!(filter(2, Some("")).0, "info,kmigrate=debug");
    }

    #[test]
    fn rust_log_never_quiets_a_flag_and_nonsense_is_ignored() {
        let (f, ignored) = filter(2, Some("kmigrate=error,kmigrate=loud"));
        assert_eq!(f, "info,kmigrate=debug");
        assert_eq!(ignored, ["kmigrate=loud"]);
        assert_eq!(filter(0, Some("INFO")).0, "warn,kmigrate=info");
    }
}
