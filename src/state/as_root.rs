//! What only root of a rootless user's namespace can do with the user's own files, done by a
//! process of ours that enters such a namespace first (`my-container-tui __as-root TASK ARG`):
//! the files a container's or an image's users own are the user's subordinate ids, often in
//! directories only those ids may enter, and a layer's whiteouts and opaque markers are made
//! only there. Each caller asks [`needed`] and hands over the task; `main` does it.
//!
//! None gives the user more than their own ids already hold: the namespace maps the user's
//! own ids, as `podman unshare` does.

use std::process::Command;

/// Whether what the user's subordinate ids own is out of this process's reach: rootless,
/// and not root of a user namespace of the user's (see [`super::owner::inside`]).
pub fn needed() -> bool {
    super::owner::rootless() && !super::owner::inside()
}

/// The hidden verb that does one [`Task`] as root of the user's namespace
/// (`my-container-tui __as-root TASK ARG`).
pub const AS_ROOT_ARG: &str = "__as-root";

/// What only root of the user's namespace can do with the user's own files: those a
/// container's or an image's users own are the user's subordinate ids, and a layer's
/// whiteouts and opaque markers are made only there. Each task names its directory its own
/// way and checks it (a container id, a staging directory's name, a volume's directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Removes a container's filesystem state: `ID`.
    RemoveFs,
    /// Removes a directory of the image store's `tmp/`: `NAME`.
    RemoveStaged,
    /// Removes a volume: the volume's directory, `…/volumes/NAME`.
    RemoveVolume,
    /// Applies the tar stream on standard input to a staging directory of the image store
    /// (`NAME`), and prints what it found.
    Unpack,
    /// Writes a container's writable layer to standard output as a layer tar: `ID`.
    WriteUpper,
    /// Prints what a container changed in its root, as `diff`: `ID`.
    Diff,
}

impl Task {
    const ALL: [(Task, &'static str); 6] = [
        (Task::RemoveFs, "remove-fs"),
        (Task::RemoveStaged, "remove-staged"),
        (Task::RemoveVolume, "remove-volume"),
        (Task::Unpack, "unpack"),
        (Task::WriteUpper, "write-upper"),
        (Task::Diff, "diff"),
    ];

    pub fn name(self) -> &'static str {
        Task::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("", |(_, n)| n)
    }

    pub fn parse(name: &str) -> Option<Task> {
        Task::ALL.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }
}

/// Does `task` on `arg` and waits for it, its output unread: a removal, whose caller looks
/// for itself whether what it removes is gone.
pub fn run(task: Task, arg: &std::ffi::OsStr) {
    let _ = command(task, arg)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status();
}

/// What a task that has ended answered: its standard output, or its one error line (as
/// `main` prints it) as the error.
pub fn answer(out: std::process::Output) -> anyhow::Result<Vec<u8>> {
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("{}", said.trim().trim_start_matches("my-container-tui: "));
    }
    Ok(out.stdout)
}

/// The container id a task was given: only a name [`super::record::new_id`] makes names a
/// container's directory.
pub fn container_id(arg: &std::ffi::OsStr) -> anyhow::Result<&str> {
    arg.to_str()
        .filter(|id| super::store::looks_like_id(id))
        .ok_or_else(|| anyhow::anyhow!("not a container id"))
}

/// A process of ours that does `task` on `arg` as root of the user's namespace (it enters a
/// namespace of the user's mapping first thing, single-threaded, as
/// `runtime::rootless::enter` takes): any
/// process may start one, from any thread.
pub fn command(task: Task, arg: &std::ffi::OsStr) -> Command {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(AS_ROOT_ARG).arg(task.name()).arg(arg);
    cmd
}
