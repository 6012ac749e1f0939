//! The plan hash: what `migrate --plan HASH` holds a run to.
//!
//! SHA-256, in lowercase hex, of the text `kmigrate-plan-v1\n` followed by one line per
//! pending migration, in the order the snippet reads them (each prefix in turn, in it each
//! repo in turn, in it by version): the repo module, the prefix (empty without one), the
//! version, the name and the SHA-256 (hex) of the migration file's bytes, separated by
//! tabs, each line ending in `\n`. The snippet computes it in the pod (`:crypto.hash/2`),
//! from the files it reads there; kmigrate computes it again from the lines the snippet
//! printed, and a plan whose two hashes differ is not used.

/// One pending migration, as the hash covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The repo module.
    pub repo: &'a str,
    /// The schema prefix, if any.
    pub prefix: Option<&'a str>,
    /// The version.
    pub version: i64,
    /// The name (from the file name).
    pub name: &'a str,
    /// SHA-256 (hex) of the migration file.
    pub sha256: &'a str,
}

/// The first line of the hashed text: names the algorithm, so a future change of what
/// is covered cannot be mistaken for this one.
pub const HEADER: &str = "kmigrate-plan-v1\n";

/// The plan hash of these pending migrations, in order.
pub fn plan_hash<'a>(entries: impl IntoIterator<Item = Entry<'a>>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(HEADER.as_bytes());
    for e in entries {
        let line = format!(
            "{}\t{}\t{}\t{}\t{}\n",
            e.repo,
            e.prefix.unwrap_or_default(),
            e.version,
            e.name,
            e.sha256
        );
        ctx.update(line.as_bytes());
    }
    hex(ctx.finish().as_ref())
}

/// SHA-256 of some bytes, in lowercase hex.
pub fn sha256(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers, computed with coreutils:
    /// `printf 'kmigrate-plan-v1\nDemo.Repo\t\t20240101120000\tcreate_posts\t<sha256 of "a">\n...' | sha256sum`.
    #[test]
    fn the_algorithm_is_the_documented_one() {
        assert_eq!(
            sha256(b"a"),
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
        assert_eq!(
            plan_hash([]),
            "c55ba2adfef31f761a444fdde77defc47073a20f94cd77559bc85e46b86f667b",
            "no pending migration has a hash too"
        );
        let a = sha256(b"a");
        let empty = sha256(b"");
        let entries = [
            Entry {
                repo: "Demo.Repo",
                prefix: None,
                version: 20240101120000,
                name: "create_posts",
                sha256: &a,
            },
            Entry {
                repo: "Demo.Repo",
                prefix: Some("tenant_a"),
                version: 20240102120000,
                name: "add_index",
                sha256: &empty,
            },
        ];
        assert_eq!(
            plan_hash(entries.clone()),
            "c5a463319391be4c243c6c98c5f953a608ad19268ca1251817ae512aaecb5fd5"
        );
        // Every covered field changes it.
        let changed = |f: &dyn for<'e> Fn(&mut Entry<'e>)| {
            let mut e = entries.clone();
            f(&mut e[1]);
            plan_hash(e)
        };
        let base = plan_hash(entries.clone());
        assert_ne!(changed(&|e| e.repo = "Other.Repo"), base);
        assert_ne!(changed(&|e| e.prefix = None), base);
        assert_ne!(changed(&|e| e.version += 1), base);
        assert_ne!(changed(&|e| e.name = "add_index2"), base);
        assert_ne!(changed(&|e| e.sha256 = "0"), base);
        assert_ne!(plan_hash(entries[..1].to_vec()), base, "one fewer pending");
    }
}
