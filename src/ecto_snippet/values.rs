//! The validated values that may reach the Elixir snippet: every one is checked against a
//! strict pattern, so no user input is ever pasted into Elixir code unchecked.

use std::fmt;

/// An OTP application name: `^[a-z][a-z0-9_]*$`, at most 255 bytes (an atom's limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

/// An Elixir module name such as `MyApp.Repo`: `^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoModule(String);

/// A migration version: digits only, fits Ecto's `bigint` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(i64);

/// A run's id, naming its database sessions (`kmigrate-migrate-<id>`): `^[a-z0-9]{1,16}$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId(String);

impl RunId {
    /// A fresh id for this process: 8 hex digits from a randomly keyed hash of the pid
    /// and the time.
    pub fn fresh() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        Self(format!("{:08x}", h.finish() & 0xffff_ffff))
    }

    /// Validate an id.
    #[cfg(test)]
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (1..=16).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid run id {s:?}: 1 to 16 lowercase letters and digits"
            ))
        }
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive number of migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step(u32);

impl AppName {
    /// Validate an OTP application name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut chars = s.chars();
        let ok = s.len() <= 255
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid app name {s:?}: use lowercase letters, digits and _ and start with a letter (like my_app)"
            ))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RepoModule {
    /// Validate an Elixir module name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let segment_ok = |seg: &str| {
            let mut chars = seg.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if s.len() <= 255 && s.split('.').all(segment_ok) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid repo module {s:?}: expected an Elixir module name like MyApp.Repo"
            ))
        }
    }

    /// The module name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Version {
    /// Validate a migration version (digits only).
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("invalid version {s:?}: expected digits only, like 20240101120000");
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        s.parse::<i64>().map(Self).map_err(|_| err())
    }

    /// The numeric value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Version {
    fn from(v: i64) -> Self {
        Self(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Step {
    /// Validate a step count: a positive integer.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.parse::<u32>() {
            Ok(n) if n > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(n)),
            _ => Err(format!(
                "invalid step {s:?}: expected a positive whole number"
            )),
        }
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// How far a migrate or rollback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Every pending migration (migrate only).
    All,
    /// The next or last N.
    Step(Step),
    /// Up to, or down to, this version (inclusive, as Ecto's `to:`).
    To(Version),
    /// Up to, or down to, this version without it (Ecto's `to_exclusive:`).
    ToExclusive(Version),
}

impl Range {
    /// `--to VERSION`, `--to-exclusive VERSION` or `--step N` (clap lets one through),
    /// validated; `None` when none was given.
    pub fn from_flags(
        to: Option<&str>,
        to_exclusive: Option<&str>,
        step: Option<&str>,
    ) -> Result<Option<Self>, String> {
        match (to, to_exclusive, step) {
            (Some(v), _, _) => Version::parse(v).map(|v| Some(Self::To(v))),
            (None, Some(v), _) => Version::parse(v).map(|v| Some(Self::ToExclusive(v))),
            (None, None, Some(n)) => Step::parse(n).map(|n| Some(Self::Step(n))),
            (None, None, None) => Ok(None),
        }
    }

    /// The version a `--to` or `--to-exclusive` names.
    pub fn target(self) -> Option<Version> {
        match self {
            Self::To(v) | Self::ToExclusive(v) => Some(v),
            Self::All | Self::Step(_) => None,
        }
    }
}

/// A schema prefix (Ecto's `prefix:`, a PostgreSQL schema): 1 to 63 bytes (PostgreSQL's
/// identifier limit), no `"` and no control character. It enters the snippet as an escaped
/// string and SQL as a quoted name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(String);

impl Prefix {
    /// Validate a schema prefix: any name PostgreSQL keeps whole when quoted, as Ecto quotes
    /// it (`"tenant-a"."schema_migrations"`) and Triplex creates it from a tenant's name
    /// (hyphens, upper case, UUIDs), but never a `"` (Ecto's `quote_name/1` refuses it),
    /// a control character, or more than 63 bytes (PostgreSQL would cut it short).
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty() && s.len() <= 63 && !s.chars().any(|c| c == '"' || c.is_control());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid prefix {s:?}: a schema name of 1 to 63 bytes without \" or control characters"
            ))
        }
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A migrations directory, relative to the repo's app directory (like
/// `priv/repo/data_migrations`) or absolute: letters, digits, `_`, `.`, `/`, `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationPath(String);

impl MigrationPath {
    /// Validate a migrations directory.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 255
            && !s.starts_with('-')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "invalid migrations path {s:?}: use letters, digits, _ . / and - (like priv/repo/data_migrations)"
            ))
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest `--prefixes-from` query accepted, in bytes.
pub const MAX_TENANT_QUERY: usize = 4096;

/// A `--prefixes-from` query: SQL returning schema names in its first column. The text is
/// the user's, so it never enters the snippet as text: [`TenantQuery::hex`] gives it as
/// hexadecimal digits, which the snippet decodes with `Base.decode16!/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantQuery(String);

impl TenantQuery {
    /// Check a query: not blank, no NUL (PostgreSQL takes none), at most
    /// [`MAX_TENANT_QUERY`] bytes.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Err("--prefixes-from needs a SQL query returning schema names, like \"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_%'\"".to_owned());
        }
        if s.contains('\0') {
            return Err("the --prefixes-from query contains a NUL character".to_owned());
        }
        if s.len() > MAX_TENANT_QUERY {
            return Err(format!(
                "the --prefixes-from query is longer than {MAX_TENANT_QUERY} bytes"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The query as written.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The query's bytes as uppercase hexadecimal digits (`Base.decode16!/1`'s default):
    /// only `0-9A-F` reach the snippet, whatever the query holds.
    pub fn hex(&self) -> String {
        self.0.bytes().map(|b| format!("{b:02X}")).collect()
    }
}

/// Most tenants migrated at once: each holds two connections (Ecto's migration lock and
/// the migration), so the pool grows with it.
pub const MAX_CONCURRENCY: u32 = 16;

/// How many tenants are migrated at a time: 1 to [`MAX_CONCURRENCY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency(u32);

impl Concurrency {
    /// One tenant at a time.
    pub const ONE: Self = Self(1);

    /// Validate `--concurrency N`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.parse::<u32>() {
            Ok(n)
                if (1..=MAX_CONCURRENCY).contains(&n) && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Self(n))
            }
            _ => Err(format!(
                "invalid concurrency {s:?}: a whole number from 1 to {MAX_CONCURRENCY}"
            )),
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Concurrency {
    fn default() -> Self {
        Self::ONE
    }
}

/// How the Elixir snippet is run in the release.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `<release> eval`: a fresh VM next to the running app
    Eval,
    /// `<release> rpc`: inside the running node
    Rpc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        for ok in ["demo", "my_app", "a1_b2"] {
            assert!(AppName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Demo",
            "1app",
            "_app",
            "my-app",
            "demo; System.halt",
            "a\"b",
            "a\nb",
            "démo",
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(AppName::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn repo_modules() {
        for ok in ["Repo", "MyApp.Repo", "My_App.Repo2.Read"] {
            assert!(RepoModule::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "repo",
            "MyApp.",
            ".Repo",
            "MyApp..Repo",
            "MyApp.repo",
            "A.B]",
            "A B",
            "A;B",
            ":repo",
        ] {
            assert!(RepoModule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_and_paths() {
        for ok in ["tenant_1", "_x", "public"] {
            assert!(Prefix::parse(ok).is_ok(), "{ok}");
        }
        for ok in [
            "Tenant",
            "1t",
            "a-b",
            "shop-eu",
            "a;b",
            "0b5a7c1e-3f2d-4c4e-9d8a-6f1e2d3c4b5a",
        ] {
            assert!(Prefix::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a\"b",
            "a\nb",
            "a\tb",
            "a\0b",
            &"a".repeat(64),
            &"é".repeat(32),
        ] {
            assert!(Prefix::parse(bad).is_err(), "{bad:?}");
        }
        for ok in ["priv/repo/data", "/app/lib/x/priv/m", "../m"] {
            assert!(MigrationPath::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a\"b", "#{x}", "a\nb"] {
            assert!(MigrationPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_and_steps() {
        assert_eq!(
            Version::parse("20240101120000").unwrap().get(),
            20_240_101_120_000
        );
        for bad in ["", "-1", "+1", "1e3", "12 ", "0x10", "99999999999999999999"] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Step::parse("3").unwrap().get(), 3);
        for bad in ["0", "-1", "+1", "", "1.5", " 1", "4294967296"] {
            assert!(Step::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tenant_queries_and_concurrency() {
        let q = TenantQuery::parse("SELECT 'a\"b'").unwrap();
        assert_eq!(q.hex(), "53454C454354202761226227");
        for bad in ["", "  \n", "SELECT 1\0", &"x".repeat(MAX_TENANT_QUERY + 1)] {
            assert!(TenantQuery::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Concurrency::parse("4").unwrap().get(), 4);
        for bad in ["0", "17", "-1", "+2", " 2", "", "x"] {
            assert!(Concurrency::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_from_flags() {
        assert_eq!(Range::from_flags(None, None, None), Ok(None));
        assert_eq!(
            Range::from_flags(Some("7"), None, None),
            Ok(Some(Range::To(Version::from(7))))
        );
        assert_eq!(
            Range::from_flags(None, Some("7"), None),
            Ok(Some(Range::ToExclusive(Version::from(7))))
        );
        assert_eq!(
            Range::ToExclusive(Version::from(7)).target(),
            Some(Version::from(7))
        );
        assert_eq!(
            Range::from_flags(None, None, Some("2")),
            Ok(Some(Range::Step(Step::parse("2").unwrap())))
        );
        assert!(Range::from_flags(Some("x"), None, None).is_err());
        assert!(Range::from_flags(None, Some("x"), None).is_err());
        assert!(Range::from_flags(None, None, Some("0")).is_err());
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever is typed, a value that passes validation carries no Elixir syntax beyond
        /// identifiers, dots and digits into the snippet.
        #[test]
        fn validated_values_cannot_inject(input in "\\PC{0,24}") {
            if let Ok(app) = AppName::parse(&input) {
                prop_assert!(app.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            }
            if let Ok(repo) = RepoModule::parse(&input) {
                prop_assert!(repo.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
            }
            if let Ok(v) = Version::parse(&input) {
                prop_assert!(v.get() >= 0);
            }
            if let Ok(s) = Step::parse(&input) {
                prop_assert!(s.get() > 0);
            }
            if let Ok(p) = Prefix::parse(&input) {
                // It reaches the snippet as an escaped string and SQL as a quoted name.
                prop_assert!(!p.as_str().contains('"') && !p.as_str().chars().any(char::is_control));
            }
            if let Ok(p) = MigrationPath::parse(&input) {
                prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b)));
            }
        }
    }
}
