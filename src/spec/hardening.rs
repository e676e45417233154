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
    /// `--security-opt seccomp=unconfined`: no seccomp filter.
    #[serde(default)]
    pub seccomp_unconfined: bool,
    /// `--security-opt no-new-privileges=false`: setuid binaries and file capabilities may
    /// raise privileges again (Docker's own default; ours is `no_new_privs` set).
    #[serde(default)]
    pub new_privileges: bool,
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

/// Applies one `--security-opt` to `hardening`, as Docker takes it, or says why not.
pub fn security_opt(hardening: &mut Hardening, text: &str) -> Result<(), String> {
    let (key, value) = text
        .split_once('=')
        .or_else(|| text.split_once(':'))
        .unwrap_or((text, ""));
    match (key, value) {
        ("no-new-privileges", "" | "true") => hardening.new_privileges = false,
        ("no-new-privileges", "false") => hardening.new_privileges = true,
        ("seccomp", "unconfined") => hardening.seccomp_unconfined = true,
        ("seccomp", "") => return Err("--security-opt seccomp= needs unconfined".into()),
        ("seccomp", profile) => {
            return Err(format!(
                "--security-opt seccomp={profile}: profiles other than unconfined are not supported yet (the default filter, or seccomp=unconfined)"
            ));
        }
        ("apparmor", "unconfined") => {}
        ("apparmor", _) => {
            return Err(
                "--security-opt apparmor: no AppArmor profile is applied by this tool (capabilities, seccomp and the device controller confine instead); only apparmor=unconfined is taken"
                    .into(),
            );
        }
        ("label", "disable") => {}
        ("label", _) => {
            return Err(
                "--security-opt label: no SELinux labels are applied by this tool; only label=disable is taken"
                    .into(),
            );
        }
        _ => {
            return Err(format!(
                "invalid --security-opt {text:?} (no-new-privileges[=true|false], seccomp=unconfined, apparmor=unconfined, label=disable)"
            ));
        }
    }
    Ok(())
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
