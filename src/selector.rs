//! Label selectors in kubectl's syntax, checked before they are sent to the API server.

use std::fmt;

/// A validated label selector, printed back in canonical form for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Gt(String, i64),
    Lt(String, i64),
}

impl Selector {
    /// Parse and validate a selector such as `app=demo,tier in (web, api),!canary`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let fail = |why: String| format!("invalid label selector {input:?}: {why}");
        let mut p = Parser {
            s: input.as_bytes(),
            i: 0,
        };
        let mut reqs = Vec::new();
        loop {
            p.skip_ws();
            if p.done() {
                break;
            }
            reqs.push(p.requirement().map_err(fail)?);
            p.skip_ws();
            if p.done() {
                break;
            }
            if !p.eat(b",") {
                return Err(fail(format!("expected ',' at position {}", p.i + 1)));
            }
            p.skip_ws();
            if p.done() {
                return Err(fail("it ends with ','".into()));
            }
        }
        if reqs.is_empty() {
            return Err(fail(
                "it is empty; an empty selector would match every pod".into(),
            ));
        }
        Ok(Self(reqs))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, r) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::NotExists(k) => write!(f, "!{k}")?,
                Requirement::Eq(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEq(k, v) => write!(f, "{k}!={v}")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(","))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(","))?,
                Requirement::Gt(k, n) => write!(f, "{k}>{n}")?,
                Requirement::Lt(k, n) => write!(f, "{k}<{n}")?,
            }
        }
        Ok(())
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, tok: &[u8]) -> bool {
        if self.s[self.i..].starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }

    /// A run of characters that may appear in keys and values.
    fn word(&mut self) -> String {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.eat(b"!") {
            self.skip_ws();
            let key = self.key()?;
            return Ok(Requirement::NotExists(key));
        }
        let key = self.key()?;
        self.skip_ws();
        if self.done() || self.s[self.i] == b',' {
            return Ok(Requirement::Exists(key));
        }
        if self.eat(b"==") || self.eat(b"=") {
            return Ok(Requirement::Eq(key, self.value()?));
        }
        if self.eat(b"!=") {
            return Ok(Requirement::NotEq(key, self.value()?));
        }
        if self.eat(b">") {
            return Ok(Requirement::Gt(key, self.number()?));
        }
        if self.eat(b"<") {
            return Ok(Requirement::Lt(key, self.number()?));
        }
        let op = self.word();
        match op.as_str() {
            "in" => Ok(Requirement::In(key, self.set()?)),
            "notin" => Ok(Requirement::NotIn(key, self.set()?)),
            "" => Err(format!("unexpected character at position {}", self.i + 1)),
            other => Err(format!("unknown operator {other:?} after key {key:?}")),
        }
    }

    fn key(&mut self) -> Result<String, String> {
        self.skip_ws();
        let key = self.word();
        validate_key(&key)?;
        Ok(key)
    }

    fn value(&mut self) -> Result<String, String> {
        self.skip_ws();
        let value = self.word();
        validate_value(&value)?;
        Ok(value)
    }

    fn number(&mut self) -> Result<i64, String> {
        let v = self.value()?;
        v.parse()
            .map_err(|_| format!("{v:?} is not a whole number"))
    }

    fn set(&mut self) -> Result<Vec<String>, String> {
        self.skip_ws();
        if !self.eat(b"(") {
            return Err("expected '(' after in/notin".into());
        }
        let mut values = Vec::new();
        loop {
            let v = self.value()?;
            values.push(v);
            self.skip_ws();
            if self.eat(b")") {
                if values.len() == 1 && values[0].is_empty() {
                    return Err("the value set of in/notin cannot be empty".into());
                }
                break;
            }
            if !self.eat(b",") {
                return Err("expected ',' or ')' in value set".into());
            }
        }
        Ok(values)
    }
}

fn is_name(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if key.is_empty() {
        return Err("expected a label key".into());
    }
    if prefix.is_some_and(|p| !is_dns_subdomain(p)) {
        return Err(format!(
            "key {key:?} has an invalid prefix (must be a DNS subdomain)"
        ));
    }
    if !is_name(name, 63) {
        return Err(format!(
            "key {key:?} is invalid: at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_name(value, 63) {
        Ok(())
    } else {
        Err(format!(
            "value {value:?} is invalid: at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Selector::parse(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string()
    }

    #[test]
    fn equality_and_sets() {
        assert_eq!(canon("app=demo"), "app=demo");
        assert_eq!(canon(" app == demo , tier!=db "), "app=demo,tier!=db");
        assert_eq!(
            canon("app in (a, b),env notin (prod)"),
            "app in (a,b),env notin (prod)"
        );
        assert_eq!(
            canon("app.kubernetes.io/name=my_app,!canary,track"),
            "app.kubernetes.io/name=my_app,!canary,track"
        );
        assert_eq!(canon("gen>3,gen<10"), "gen>3,gen<10");
        assert_eq!(canon("app="), "app=");
    }

    #[test]
    fn rejects_bad_selectors() {
        for bad in [
            "",
            "  ",
            ",",
            "app=demo,",
            "=x",
            "app in a,b",
            "app in (a,b",
            "app in ()",
            "app=de mo",
            "app=demo;rm",
            "-app=x",
            "app=x-",
            "Bad_Prefix.io/app=x",
            "app&&x",
            "app ~ x",
            "gen>x",
            "a/b/c=x",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn error_names_the_input() {
        let err = Selector::parse("app in (a").unwrap_err();
        assert!(err.contains("\"app in (a\""), "{err}");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Any input: no panic, and an accepted selector reprints to itself.
        #[test]
        fn never_panics_and_canonical_form_is_stable(input in "\\PC{0,40}") {
            if let Ok(sel) = Selector::parse(&input) {
                let canon = sel.to_string();
                prop_assert_eq!(Selector::parse(&canon).map(|s| s.to_string()), Ok(canon));
            }
        }

        /// Inputs built from the grammar are accepted.
        #[test]
        fn grammar_inputs_are_accepted(
            key in "[a-z]([a-z0-9._-]{0,10}[a-z0-9])?",
            values in proptest::collection::vec("[A-Za-z0-9]([A-Za-z0-9._-]{0,8}[A-Za-z0-9])?", 1..4),
        ) {
            let set = format!("{key} in ({})", values.join(", "));
            prop_assert!(Selector::parse(&set).is_ok(), "{}", set);
            let eq = format!("{key}={}", values[0]);
            prop_assert!(Selector::parse(&eq).is_ok(), "{}", eq);
        }

        /// Nothing outside the label alphabet reaches the server.
        #[test]
        fn accepted_selectors_use_only_the_label_alphabet(input in "[a-z=!(), ;$`'\"\\\\|&<>/.-]{1,30}") {
            if let Ok(sel) = Selector::parse(&input) {
                let canon = sel.to_string();
                prop_assert!(canon.chars().all(|c| c.is_ascii_alphanumeric() || "=!(), ._-/<>".contains(c)), "{}", canon);
            }
        }
    }
}
