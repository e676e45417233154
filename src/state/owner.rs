//! Whom this run of the tool works for, and so where its state lives: root's in `/run` and
//! `/var/lib`, or an unprivileged user's own (rootless), under their XDG directories as
//! podman keeps them.
//!
//! | | root | a user (rootless) |
//! |---|---|---|
//! | state tree ([`super::tree`]) | `/run/my-container-tui` | `$XDG_RUNTIME_DIR/my-container-tui` (else `/run/user/UID/…`, else `/tmp/my-container-tui-UID`) |
//! | store (images, volumes, networks) | `/var/lib/my-container-tui` | `$XDG_DATA_HOME/my-container-tui` (else `~/.local/share/…`) |
//!
//! `--root` (`MCT_ROOT`) overrides the store for both. The answer is fixed at the first
//! question ([`rootless`]): a rootless helper becomes root of a user namespace of its own
//! ([`crate::runtime::rootless`]) and must go on using the user's directories there. None
//! of our programs is executed from inside that namespace: each starts on the host's side.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Whether we work for an unprivileged user: we are not root. Asked first by `main`, so the
/// answer holds in a rootless helper once it is root of the user's namespace, and in what it
/// forks. (Root of a user namespace that started the tool, in an unprivileged LXC container
/// say, is root here: it owns its `/run` and `/var/lib`.)
pub fn rootless() -> bool {
    static ROOTLESS: OnceLock<bool> = OnceLock::new();
    *ROOTLESS.get_or_init(|| !nix::unistd::getuid().is_root())
}

/// Whether this process is in the host's user namespace: its uid map is the identity of all
/// ids, which no other user namespace's can be.
pub fn in_host_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

/// Whether this process is root of a rootless user's namespace (a helper that entered it, a
/// process forked after, one that joined a container's).
pub fn inside() -> bool {
    rootless() && nix::unistd::geteuid().is_root() && !in_host_user_namespace()
}

/// The state tree's directory.
pub fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match rootless() {
        false => PathBuf::from("/run/my-container-tui"),
        true => user_run_dir(),
    })
}

/// The store's directory unless `--root` names one.
pub fn data_dir() -> PathBuf {
    match rootless() {
        false => PathBuf::from("/var/lib/my-container-tui"),
        true => absolute_var("XDG_DATA_HOME")
            .or_else(|| absolute_var("HOME").map(|home| home.join(".local/share")))
            .unwrap_or_else(|| PathBuf::from(format!("/tmp/my-container-tui-data-{}", uid())))
            .join("my-container-tui"),
    }
}

/// The tree in the user's runtime directory: `XDG_RUNTIME_DIR` (as a login session sets it),
/// else `/run/user/UID` if the system made one; else a directory in `/tmp` named for the user
/// (refused if anyone else made it: [`super::tree::make_private_dir`]).
fn user_run_dir() -> PathBuf {
    let system = PathBuf::from(format!("/run/user/{}", uid()));
    match absolute_var("XDG_RUNTIME_DIR") {
        Some(dir) => dir.join("my-container-tui"),
        None if system.is_dir() => system.join("my-container-tui"),
        None => PathBuf::from(format!("/tmp/my-container-tui-{}", uid())),
    }
}

/// The user's uid on the host: ours, unless we are root of a user namespace, whose root the
/// map says it is outside.
fn uid() -> u32 {
    let ours = nix::unistd::getuid().as_raw();
    std::fs::read_to_string("/proc/self/uid_map")
        .ok()
        .and_then(|map| {
            map.lines().find_map(|line| {
                let mut fields = line.split_whitespace().map(str::parse::<u32>);
                match (fields.next(), fields.next()) {
                    (Some(Ok(inside)), Some(Ok(outside))) if inside == ours => Some(outside),
                    _ => None,
                }
            })
        })
        .unwrap_or(ours)
}

fn absolute_var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}
