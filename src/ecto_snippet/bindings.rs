//! The bindings kmigrate writes above the Elixir files (`app = :shop`, `repos = [...]`):
//! the one place where values enter a snippet. A [`Literal`] is made only from a validated
//! value (an app name, a repo module), a number, a string (escaped), or a fixed text in
//! kmigrate's own source, so the files read variables and no input becomes code.

use std::fmt::Write;

use super::values::{AppName, RepoModule};

/// An Elixir literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal(String);

impl Literal {
    /// A fixed literal from kmigrate's own source: `nil`, `:up`, `[log_migrations_sql: :info]`.
    pub fn code(code: &'static str) -> Self {
        Self(code.to_owned())
    }

    /// The app as an atom, `:shop` (its name is a plain lowercase identifier).
    pub fn atom(app: &AppName) -> Self {
        Self(format!(":{}", app.as_str()))
    }

    /// A repo module, `Shop.Repo` (an alias, segment by segment).
    pub fn module(repo: &RepoModule) -> Self {
        Self(repo.as_str().to_owned())
    }

    /// A string, escaped: backslashes, quotes, `#` (no interpolation) and control
    /// characters never reach the code as themselves.
    pub fn string(text: &str) -> Self {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '\\' | '"' | '#' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        Self(out)
    }

    /// An integer.
    pub fn int(n: impl Integer) -> Self {
        Self(n.to_string())
    }

    /// `true` or `false`.
    pub fn bool(b: bool) -> Self {
        Self(b.to_string())
    }

    /// A list.
    pub fn list(items: impl IntoIterator<Item = Literal>) -> Self {
        Self(format!("[{}]", join(items)))
    }

    /// A tuple.
    pub fn tuple(items: impl IntoIterator<Item = Literal>) -> Self {
        Self(format!("{{{}}}", join(items)))
    }

    /// A keyword list: `[key: value, ...]`, keys from kmigrate's own source.
    pub fn keyword(items: impl IntoIterator<Item = (&'static str, Literal)>) -> Self {
        Self::list(
            items
                .into_iter()
                .map(|(k, v)| Self(format!("{k}: {}", v.0))),
        )
    }
}

/// The integer types a [`Literal::int`] is made from.
pub trait Integer: std::fmt::Display {}
impl Integer for u8 {}
impl Integer for u32 {}
impl Integer for u64 {}
impl Integer for u128 {}
impl Integer for i64 {}
impl Integer for usize {}

fn join(items: impl IntoIterator<Item = Literal>) -> String {
    items
        .into_iter()
        .map(|l| l.0)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines `name = literal`, in the order bound.
#[derive(Debug, Default)]
pub struct Bindings(String);

impl Bindings {
    /// Bind `name` (a variable the files read) to `value`.
    pub fn bind(&mut self, name: &'static str, value: Literal) -> &mut Self {
        debug_assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        let _ = writeln!(self.0, "{name} = {}", value.0);
        self
    }

    /// The lines, each ending in a line break.
    pub fn into_code(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_end_early_or_interpolate() {
        assert_eq!(Literal::string("tenant_a").0, r#""tenant_a""#);
        assert_eq!(
            Literal::string("a\"b#{x}\\c\nd").0,
            r#""a\"b\#{x}\\c\u{A}d""#
        );
    }

    #[test]
    fn bindings_are_lines_of_literals() {
        let mut b = Bindings::default();
        b.bind("app", Literal::atom(&AppName::parse("shop").unwrap()))
            .bind(
                "named_repos",
                Literal::list([Literal::module(&RepoModule::parse("Shop.Repo").unwrap())]),
            )
            .bind("prefixes", Literal::list([Literal::code("nil")]))
            .bind(
                "range",
                Literal::tuple([Literal::code(":to"), Literal::int(7u32)]),
            )
            .bind(
                "session_parameters",
                Literal::keyword([("lock_timeout", Literal::string("2000"))]),
            )
            .bind("keep_going", Literal::bool(false));
        assert_eq!(
            b.into_code(),
            "app = :shop\nnamed_repos = [Shop.Repo]\nprefixes = [nil]\nrange = {:to, 7}\n\
             session_parameters = [lock_timeout: \"2000\"]\nkeep_going = false\n"
        );
    }
}
