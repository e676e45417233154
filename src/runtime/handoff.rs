//! What a launcher and the helper it re-executes tell each other: the spec going in, and the
//! facts of the ending coming back.
//!
//! Both travel in memory files (`memfd`) that the launcher creates and holds open; the helper
//! reaches them as `/proc/<launcher>/fd/<n>` (root may, a container in its own PID namespace
//! cannot). Not the environment: it caps a variable at 128 KiB, and a container's argv may be
//! longer. Not the pty: a program in the container can print anything there, so nothing the
//! launcher believes (an OOM kill) may be read from it. Not files on disk either: a memory file
//! dies with the last descriptor, so a launcher killed at any moment leaves nothing behind.

use crate::spec::ContainerSpec;
use anyhow::{Context, anyhow};
use nix::sys::memfd::{MFdFlags, memfd_create};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsRawFd, OwnedFd};

/// How a container ended, beyond its exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    /// The OOM killer ended it.
    pub oom_killed: bool,
    /// It never started: why (the runtime's one-line error).
    #[serde(default)]
    pub failure: Option<String>,
}

/// The launcher's side: the two memory files, held open until the helper has exited, and the
/// pipe on which the helper says the command has started.
#[derive(Debug)]
pub struct HandOff {
    spec: std::fs::File,
    ending: std::fs::File,
    started_r: OwnedFd,
    started_w: OwnedFd,
}

fn memfd(name: &str) -> anyhow::Result<std::fs::File> {
    let fd: OwnedFd = memfd_create(name, MFdFlags::MFD_CLOEXEC)
        .map_err(|e| anyhow!("memfd_create: {}", e.desc()))?;
    Ok(fd.into())
}

impl HandOff {
    /// Writes `spec` for the helper, and readies the ending it may leave.
    pub fn new(spec: &ContainerSpec) -> anyhow::Result<HandOff> {
        let json = serde_json::to_vec(spec).context("cannot serialize the container spec")?;
        let mut file = memfd("my-container-tui-spec")?;
        file.write_all(&json).context("cannot write the spec")?;
        let (started_r, started_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| anyhow!("pipe: {}", e.desc()))?;
        Ok(HandOff {
            spec: file,
            ending: memfd("my-container-tui-ending")?,
            started_r,
            started_w,
        })
    }

    /// Where the helper finds them: `<launcher pid>:<spec fd>:<ending fd>:<started fd>`.
    pub fn address(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            std::process::id(),
            self.spec.as_raw_fd(),
            self.ending.as_raw_fd(),
            self.started_w.as_raw_fd()
        )
    }

    /// Readable once the helper says the command started (or, with nothing to read, when the
    /// launcher's own write end is closed: never, while this hand-off lives).
    pub fn started(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.started_r.as_fd()
    }

    /// Once the helper is reaped: the ending it left, if any.
    pub fn ending(&mut self) -> Ending {
        let mut json = Vec::new();
        let read = self
            .ending
            .rewind()
            .and_then(|()| self.ending.read_to_end(&mut json));
        match read {
            Ok(_) => serde_json::from_slice(&json).unwrap_or_default(),
            Err(_) => Ending::default(),
        }
    }
}

/// The helper's side: where its launcher's memory files are.
#[derive(Debug, Clone)]
pub struct Address {
    /// The launcher's PID, which the helper also checks is its parent.
    pub launcher: i32,
    spec_fd: i32,
    ending_fd: i32,
    started_fd: i32,
    /// The files the helper reports through, once opened ([`Address::open_reports`]).
    reports: std::rc::Rc<std::cell::OnceCell<Reports>>,
}

/// The launcher's started pipe and ending file, as the helper opened them.
#[derive(Debug)]
struct Reports {
    started: Option<std::fs::File>,
    ending: Option<std::fs::File>,
}

impl PartialEq for Address {
    fn eq(&self, other: &Address) -> bool {
        (self.launcher, self.spec_fd, self.ending_fd, self.started_fd)
            == (
                other.launcher,
                other.spec_fd,
                other.ending_fd,
                other.started_fd,
            )
    }
}

impl Address {
    /// Parses [`HandOff::address`].
    pub fn parse(text: &str) -> Option<Address> {
        let mut parts = text.split(':').map(|p| p.parse::<i32>().ok());
        let (launcher, spec_fd, ending_fd, started_fd) = (
            parts.next()??,
            parts.next()??,
            parts.next()??,
            parts.next()??,
        );
        Some(Address {
            launcher,
            spec_fd,
            ending_fd,
            started_fd,
            reports: Default::default(),
        })
    }

    /// Opens what the helper reports through now, while it can: once a rootless helper is
    /// in its user namespace, the kernel no longer lets it reach into its launcher's
    /// `/proc/PID/fd` (that takes the launcher's user namespace, or `CAP_SYS_PTRACE` there).
    pub fn open_reports(&self) {
        self.reports();
    }

    fn reports(&self) -> &Reports {
        self.reports.get_or_init(|| {
            let open = |fd| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(self.path(fd))
                    .ok()
            };
            Reports {
                started: open(self.started_fd),
                ending: open(self.ending_fd),
            }
        })
    }

    fn path(&self, fd: i32) -> String {
        format!("/proc/{}/fd/{fd}", self.launcher)
    }

    /// Reads the spec.
    pub fn receive_spec(&self) -> anyhow::Result<ContainerSpec> {
        let path = self.path(self.spec_fd);
        let json =
            std::fs::read(&path).with_context(|| format!("cannot read the spec ({path})"))?;
        serde_json::from_slice(&json).context("invalid container spec")
    }

    /// Tells the launcher the command has started (it was executed, or `--init` runs it).
    pub fn report_started(&self) {
        if let Some(mut pipe) = self.reports().started.as_ref() {
            let _ = pipe.write_all(b"s");
        }
    }

    /// Leaves the ending for the launcher (in place of any left before).
    pub fn report_ending(&self, ending: Ending) {
        use std::os::unix::fs::FileExt;
        let Ok(json) = serde_json::to_vec(&ending) else {
            return;
        };
        if let Some(file) = self.reports().ending.as_ref() {
            let _ = file.set_len(0).and_then(|()| file.write_all_at(&json, 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The launcher's memory files, reached by path as the helper reaches them.
    #[test]
    fn a_spec_goes_in_and_an_ending_comes_back() {
        let spec = ContainerSpec::new("0".repeat(64), vec!["true".into()], "/".into());
        let mut handoff = HandOff::new(&spec).unwrap();
        let address = Address::parse(&handoff.address()).unwrap();
        assert_eq!(address.launcher, std::process::id() as i32);
        assert_eq!(address.receive_spec().unwrap(), spec);
        assert_eq!(handoff.ending(), Ending::default());
        address.report_ending(Ending {
            oom_killed: true,
            failure: None,
        });
        assert!(handoff.ending().oom_killed);
        address.report_started();
        let mut byte = [0u8; 1];
        assert_eq!(nix::unistd::read(handoff.started(), &mut byte), Ok(1));
        assert_eq!(Address::parse("1:2:3"), None);
        assert_eq!(Address::parse("a:2:3"), None);
    }
}
