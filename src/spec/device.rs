//! `--device` as data: a host node the container gets, and the device-controller rule that
//! lets it open it. [`crate::runtime::devices`] holds the defaults and applies the rules.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Block or character device, or both (`a` in the cgroup v1 syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Char,
    Block,
    All,
}

/// What a rule allows: read, write, mknod (`rwm`), as bits in the kernel's order.
pub const MKNOD: u8 = 1;
pub const READ: u8 = 2;
pub const WRITE: u8 = 4;

/// One allowed device (or class of devices, with `None` as the `*` wildcard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// [`MKNOD`] | [`READ`] | [`WRITE`].
    pub access: u8,
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`: a host node made inside the container, and
/// allowed by its device controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub host: PathBuf,
    pub container: PathBuf,
    pub rule: Rule,
    /// The node's permission bits on the host, given to the node made inside.
    pub mode: u32,
}

impl Device {
    /// Parses Docker's syntax and reads the node's type and numbers from the host.
    pub fn parse(text: &str) -> anyhow::Result<Device> {
        let parts: Vec<&str> = text.split(':').collect();
        let is_perms = |s: &str| !s.is_empty() && s.chars().all(|c| "rwm".contains(c));
        let (host, container, perms) = match parts.as_slice() {
            [h] => (*h, *h, "rwm"),
            [h, p] if is_perms(p) => (*h, *h, *p),
            [h, c] => (*h, *c, "rwm"),
            [h, c, p] if is_perms(p) => (*h, *c, *p),
            _ => bail!("invalid device {text:?}: expected HOST[:CONTAINER][:rwm]"),
        };
        for (what, path) in [("host", host), ("container", container)] {
            if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
                bail!("device {what} path {path:?} must be absolute, without '..'");
            }
        }
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let meta = std::fs::metadata(host).with_context(|| format!("device {host}"))?;
        let kind = if meta.file_type().is_char_device() {
            Kind::Char
        } else if meta.file_type().is_block_device() {
            Kind::Block
        } else {
            bail!("device {host}: not a device node");
        };
        if !container.starts_with("/dev/") {
            bail!("device {container:?}: the container path must be under /dev");
        }
        let rdev = meta.rdev();
        let mut access = 0;
        for (c, bit) in [('r', READ), ('w', WRITE), ('m', MKNOD)] {
            if perms.contains(c) {
                access |= bit;
            }
        }
        Ok(Device {
            host: host.into(),
            container: container.into(),
            rule: Rule {
                kind,
                major: Some(nix::sys::stat::major(rdev) as u32),
                minor: Some(nix::sys::stat::minor(rdev) as u32),
                access,
            },
            mode: meta.mode() & 0o7777,
        })
    }
}
