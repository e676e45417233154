//! What the user asked of the default hardening (`--privileged`, `--cap-add`, `--cap-drop`,
//! `--host-rw`), as data; [`crate::runtime::security`] applies it.

use caps::Capability;
use serde::{Deserialize, Serialize};

/// What the user asked of the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardening {
    /// No hardening at all.
    pub privileged: bool,
    /// Capabilities added to, or dropped from, the default set (`NET_ADMIN`, `CAP_NET_ADMIN`, `ALL`).
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    /// `--host-rw`: without a rootfs, the host's files read-write, as the seed had them.
    #[serde(default)]
    pub host_rw: bool,
}

impl Hardening {
    /// Whether a container without a rootfs may write the host's files.
    pub fn host_writable(&self) -> bool {
        self.host_rw || self.privileged
    }

    /// Every capability named is one the kernel knows (or `ALL`).
    pub fn check(&self) -> Result<(), String> {
        for name in self.cap_add.iter().chain(&self.cap_drop) {
            parse_cap(name)?;
        }
        Ok(())
    }
}

/// A capability's name as Docker takes it (`NET_ADMIN`, `CAP_NET_ADMIN`); `None` for `ALL`.
pub fn parse_cap(name: &str) -> Result<Option<Capability>, String> {
    if name.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    caps::to_canonical(name)
        .parse()
        .map(Some)
        .map_err(|_| format!("unknown capability {name:?} (e.g. NET_ADMIN, SYS_PTRACE, ALL)"))
}
