//! Checks for the single values that reach the API or a name: durations, DNS names, images.

use std::time::Duration;

use anyhow::Result;

use crate::error::usage;

/// Longest duration text accepted; also keeps kube-core's parser (which panics when a
/// value overflows) far from overflow.
const MAX_DURATION_TEXT: usize = 24;
/// Longest run of digits in one component of a duration.
const MAX_DURATION_DIGITS: usize = 10;

/// A duration as kubectl takes it (Go syntax, kube-core's `Duration`: `90s`, `10m`,
/// `1h30m`, `1.5s`, `500ms`), or plain seconds. Zero and negative values are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let err = || format!("invalid duration {s:?}: use e.g. 90s, 10m, 1h30m or 500ms");
    if s.is_empty() || s.len() > MAX_DURATION_TEXT || s.starts_with(['-', '+']) {
        return Err(err());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = s.parse().map_err(|_| err())?;
        return Some(Duration::from_secs(secs))
            .filter(|d| !d.is_zero())
            .ok_or_else(err);
    }
    let longest_number = s
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest_number > MAX_DURATION_DIGITS || !s.is_ascii() {
        return Err(err());
    }
    let parsed: kube::core::Duration = s.parse().map_err(|_| err())?;
    let d = Duration::from(parsed);
    if d.is_zero() {
        return Err(err());
    }
    Ok(d)
}

/// A DNS label (namespace, container name).
pub fn check_dns_label(s: &str, what: &str) -> Result<()> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "invalid {what} {s:?}: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        )))
    }
}

/// A DNS subdomain (pod and Deployment names).
pub fn check_dns_subdomain(s: &str, what: &str) -> Result<()> {
    let ok = s.len() <= 253
        && s.split('.')
            .all(|label| check_dns_label(label, what).is_ok());
    if ok {
        Ok(())
    } else {
        Err(usage(format!("invalid {what} {s:?}")))
    }
}

/// An image reference: no whitespace or control characters.
pub fn check_image(image: &str) -> Result<()> {
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(usage(format!("invalid image {image:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in [
            "",
            "0s",
            "0",
            "-1s",
            "+1s",
            "10 m",
            "m",
            "1d",
            "99999999999h",
            "1e3s",
            "NaNs",
            "infh",
            "9999999999h9999999999h9",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dns_names() {
        assert!(check_dns_label("shop-prod", "namespace").is_ok());
        for bad in ["", "Shop", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert!(check_dns_label(bad, "namespace").is_err(), "{bad:?}");
        }
        assert!(check_dns_subdomain("web-5d9c.x", "pod").is_ok());
        assert!(check_dns_subdomain("web..x", "pod").is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// kube-core's parser panics on overflow; whatever is typed, ours returns.
        #[test]
        fn durations_never_panic(input in "[0-9.a-zµ+-]{0,30}") {
            let _ = parse_duration(&input);
        }
    }
}
