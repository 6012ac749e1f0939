//! Where the config file is found, and whether a found one may be used: a `kmigrate.toml`
//! can switch the context, replace the migrate command and empty the protected patterns,
//! so one that someone else could have put there is not read.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::FILE_NAME;

/// Which config file a run reads, and what was said while finding it. Filled in even when
/// the settings then fail, so that the warnings and the JSON report still say it.
#[derive(Debug, Default)]
pub struct Source {
    /// The file read: as `--config` gave it, or where it was found; `None` when none.
    pub path: Option<PathBuf>,
    /// Warnings for stderr: a found file ignored, or a named one used despite its permissions.
    pub warnings: Vec<String>,
}

/// Why a config file is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Owned by this uid, which is neither the user's nor root's.
    Owner(u32),
    /// Its directory is world-writable: anyone could have put it there.
    OpenDirectory,
    /// Other users may write to it (group- or world-writable).
    OpenFile,
}

impl std::fmt::Display for Distrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Owner(uid) => write!(f, "it is owned by uid {uid}, not by you or root"),
            Self::OpenDirectory => write!(
                f,
                "its directory is world-writable, so anyone could have put it there"
            ),
            Self::OpenFile => write!(f, "other users can write to it (`chmod go-w` it)"),
        }
    }
}

/// A uid and gid: a file's owner and group, or the user's effective ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Whether a config file may be used, from its directory's mode, its own mode and ids, and
/// the user's. As git does for repositories it did not create: only the user's own files
/// (or root's), that nobody else could have written or planted. A file writable by its
/// group is the user's alone when the group is the user's private one (gid = uid, where
/// systems give users umask 002 and git checks files out group-writable).
pub fn trust(dir_mode: u32, file_mode: u32, file: Ids, me: Ids) -> Result<(), Distrust> {
    if file.uid != me.uid && file.uid != 0 {
        return Err(Distrust::Owner(file.uid));
    }
    if dir_mode & 0o002 != 0 {
        return Err(Distrust::OpenDirectory);
    }
    let private_group = file.gid == me.gid && me.gid == me.uid;
    if file_mode & 0o002 != 0 || (file_mode & 0o020 != 0 && !private_group) {
        return Err(Distrust::OpenFile);
    }
    Ok(())
}

/// The nearest `kmigrate.toml` in `start` or above. The search ends after a repository root
/// (a directory with `.git`) or `home`, and before another filesystem: a file above those
/// belongs to someone or something else.
pub fn discover(start: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let device = fs_facts::device(start);
    for dir in start.ancestors() {
        if fs_facts::device(dir) != device {
            return None;
        }
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        let repo_root = dir.join(".git").symlink_metadata().is_ok();
        if repo_root || home.is_some_and(|h| fs_facts::same_dir(dir, h)) {
            return None;
        }
    }
    None
}

/// Read the config file: the one `named` by `--config` (or `KMIGRATE_CONFIG`), used as
/// given, else the one [`discover`]ed if it is trusted. A found file that is not trusted is
/// ignored, and the search does not go on above it. `source` records the file and warnings.
pub fn read(
    named: Option<&Path>,
    cwd: &Path,
    home: Option<&Path>,
    source: &mut Source,
) -> Result<Option<String>, String> {
    let path = match named {
        Some(path) if !path.is_file() => {
            return Err(format!("config file {} not found", path.display()));
        }
        Some(path) => path.to_path_buf(),
        None => match discover(cwd, home) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let cannot = |e: std::io::Error| format!("cannot read config file {}: {e}", path.display());
    // The checks look at the opened file, so the text read is the text checked.
    let file = File::open(&path).map_err(cannot)?;
    if let Err(why) = fs_facts::check(&path, &file).map_err(cannot)? {
        if named.is_none() {
            source.warnings.push(format!(
                "warning: ignoring config file {}: {why}; going on without one (name a file with --config to use it)",
                path.display()
            ));
            return Ok(None);
        }
        source.warnings.push(format!(
            "warning: config file {}: {why}; using it because --config or KMIGRATE_CONFIG names it",
            path.display()
        ));
    }
    source.path = Some(path.clone());
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > MAX_BYTES {
        return Err(format!(
            "config file {} is larger than 1 MiB; is it the right file?",
            path.display()
        ));
    }
    Ok(Some(text))
}

/// A config file larger than this is refused rather than read whole.
const MAX_BYTES: u64 = 1 << 20;

/// The few file-system facts discovery needs, which only Unix has.
#[cfg(unix)]
mod fs_facts {
    use std::fs::{self, File};
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::{Distrust, Ids};

    /// The device a path lives on.
    pub(super) fn device(path: &Path) -> Option<u64> {
        fs::metadata(path).ok().map(|m| m.dev())
    }

    /// Whether two paths are the same directory (whatever links lead there).
    pub(super) fn same_dir(a: &Path, b: &Path) -> bool {
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }

    /// [`super::trust`] for the opened file at `path`.
    pub(super) fn check(path: &Path, file: &File) -> std::io::Result<Result<(), Distrust>> {
        let meta = file.metadata()?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir_mode = fs::metadata(dir)?.mode();
        let file = Ids {
            uid: meta.uid(),
            gid: meta.gid(),
        };
        let me = Ids {
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
        };
        Ok(super::trust(dir_mode, meta.mode(), file, me))
    }
}

/// Elsewhere there is no owner or mode to check, and no device to stop at.
#[cfg(not(unix))]
mod fs_facts {
    use std::fs::File;
    use std::path::Path;

    use super::Distrust;

    pub(super) fn device(_: &Path) -> Option<u64> {
        None
    }

    pub(super) fn same_dir(a: &Path, b: &Path) -> bool {
        a == b
    }

    pub(super) fn check(_: &Path, _: &File) -> std::io::Result<Result<(), Distrust>> {
        Ok(Ok(()))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A directory tree in a fresh temporary directory, with modes set explicitly so that
    /// the umask of whoever runs the tests does not matter.
    fn tree(dirs: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        root
    }

    fn mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn config(dir: &Path) -> PathBuf {
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, "selector = \"app=x\"\n").unwrap();
        mode(&path, 0o644);
        path
    }

    #[test]
    fn walks_up_to_the_nearest() {
        let t = tree(&["a/b"]);
        let nested = t.path().join("a/b");
        assert_eq!(discover(&nested, None), None);
        let top = config(t.path());
        assert_eq!(discover(&nested, None), Some(top));
        let near = config(&t.path().join("a"));
        assert_eq!(discover(&nested, None), Some(near));
    }

    #[test]
    fn stops_at_a_repository_root_after_looking_there() {
        let t = tree(&["repo/.git", "worktree/src"]);
        config(t.path());
        assert_eq!(discover(&t.path().join("repo"), None), None);
        // A worktree's `.git` is a file.
        std::fs::write(t.path().join("worktree/.git"), "gitdir: ../repo/.git\n").unwrap();
        assert_eq!(discover(&t.path().join("worktree/src"), None), None);
        let own = config(&t.path().join("worktree"));
        assert_eq!(discover(&t.path().join("worktree/src"), None), Some(own));
    }

    #[test]
    fn stops_at_home_after_looking_there() {
        let t = tree(&["home/me/project"]);
        config(&t.path().join("home"));
        let home = t.path().join("home/me");
        let project = home.join("project");
        assert_eq!(discover(&project, Some(&home)), None);
        // HOME reached through a link is still HOME.
        let link = t.path().join("me-link");
        std::os::unix::fs::symlink(&home, &link).unwrap();
        assert_eq!(discover(&project, Some(&link)), None);
        let own = config(&home);
        assert_eq!(discover(&project, Some(&home)), Some(own));
    }

    const fn ids(uid: u32, gid: u32) -> Ids {
        Ids { uid, gid }
    }

    #[test]
    fn only_the_users_own_unshared_files_are_trusted() {
        let me = ids(1000, 1000);
        let mine = ids(1000, 1000);
        let root = ids(0, 0);
        assert_eq!(trust(0o755, 0o644, mine, me), Ok(()));
        assert_eq!(trust(0o700, 0o600, root, me), Ok(()), "root's file");
        assert_eq!(
            trust(0o755, 0o644, ids(1001, 1000), me),
            Err(Distrust::Owner(1001))
        );
        assert_eq!(trust(0o777, 0o644, mine, me), Err(Distrust::OpenDirectory));
        assert_eq!(trust(0o1777, 0o600, mine, me), Err(Distrust::OpenDirectory));
        assert_eq!(
            trust(0o1777, 0o644, root, root),
            Err(Distrust::OpenDirectory)
        );
        assert_eq!(trust(0o775, 0o644, mine, me), Ok(()), "group-writable dir");
        assert_eq!(trust(0o755, 0o646, mine, me), Err(Distrust::OpenFile));
        assert_eq!(trust(0o755, 0o666, mine, me), Err(Distrust::OpenFile));
    }

    #[test]
    fn a_group_writable_file_is_trusted_only_in_the_users_private_group() {
        let me = ids(1000, 1000);
        assert_eq!(trust(0o755, 0o664, ids(1000, 1000), me), Ok(()));
        assert_eq!(
            trust(0o755, 0o664, ids(1000, 100), me),
            Err(Distrust::OpenFile),
            "a shared group"
        );
        let in_users = ids(1000, 100);
        assert_eq!(
            trust(0o755, 0o664, ids(1000, 100), in_users),
            Err(Distrust::OpenFile),
            "a primary group that is not a private one"
        );
        assert_eq!(trust(0o755, 0o644, ids(1000, 100), in_users), Ok(()));
    }

    #[test]
    fn a_found_file_in_a_world_writable_directory_is_ignored_and_hides_those_above() {
        let t = tree(&["open/cwd"]);
        config(t.path());
        let open = t.path().join("open");
        let planted = config(&open);
        mode(&open, 0o777);
        let mut source = Source::default();
        let text = read(None, &open.join("cwd"), None, &mut source).unwrap();
        assert_eq!((text, source.path), (None, None));
        assert_eq!(source.warnings.len(), 1);
        let warning = &source.warnings[0];
        assert!(
            warning.contains(&planted.display().to_string()) && warning.contains("world-writable"),
            "{warning}"
        );
    }

    #[test]
    fn a_found_world_writable_file_is_ignored() {
        let t = tree(&["cwd"]);
        let path = config(t.path());
        mode(&path, 0o666);
        let mut source = Source::default();
        assert_eq!(
            read(None, &t.path().join("cwd"), None, &mut source),
            Ok(None)
        );
        assert!(source.warnings[0].contains("go-w"), "{:?}", source.warnings);
    }

    #[test]
    fn a_named_file_is_used_as_given_with_a_warning() {
        let t = tree(&["open", "cwd"]);
        let open = t.path().join("open");
        let named = config(&open);
        mode(&open, 0o777);
        let mut source = Source::default();
        let text = read(Some(&named), &t.path().join("cwd"), None, &mut source).unwrap();
        assert_eq!(text.as_deref(), Some("selector = \"app=x\"\n"));
        assert_eq!(source.path, Some(named));
        assert!(
            source.warnings[0].contains("using it"),
            "{:?}",
            source.warnings
        );

        let mut source = Source::default();
        let trusted = config(&t.path().join("cwd"));
        read(Some(&trusted), t.path(), None, &mut source).unwrap();
        assert_eq!((source.path, source.warnings.len()), (Some(trusted), 0));
    }
}
