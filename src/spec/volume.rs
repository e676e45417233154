//! Volumes as data: `-v SRC:DST[:ro]` bind mounts (of a host path or a named volume) and
//! `--tmpfs DST[:OPTIONS]`, parsed and checked here; [`crate::runtime::volumes`] mounts them.

use super::limits::parse_bytes;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Volume {
    /// A host path bound in (a named volume's data directory once resolved).
    Bind {
        src: PathBuf,
        dst: PathBuf,
        read_only: bool,
        /// `:idmap`: seen through the container's user namespace (an idmapped mount), so
        /// the host's root-owned files are its root's; without it a bind keeps the host's
        /// owners (as Docker's `userns-remap` keeps them).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        idmap: bool,
    },
    Tmpfs {
        dst: PathBuf,
        /// Docker's defaults are `rw,nosuid,nodev,noexec`; the words given change them.
        read_only: bool,
        exec: bool,
        suid: bool,
        dev: bool,
        /// The tmpfs data: `size=` in bytes, `mode=`, `uid=`, `gid=`, `nr_inodes=`.
        data: String,
    },
    /// `-v NAME:DST`: a named volume, resolved to its data directory (and made on first use)
    /// by [`crate::state::volumes::create_used`] just before the container starts.
    Named {
        name: String,
        dst: PathBuf,
        read_only: bool,
    },
}

/// What a `--mount` asks for: a volume, or an anonymous one (made for the container alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    Volume(Volume),
    Anonymous { dst: PathBuf, read_only: bool },
}

/// An absolute container path without `..`, neither `/` nor in `/proc` (runc refuses those:
/// a volume there would hide or replace what the hardening masks, or hand the container the
/// host's sysctls). `/sys` is allowed, as Docker allows it (moby's `TestMountIntoSys`): the
/// container's sysfs is read-only and nothing can be made in it, so a target there must exist.
fn container_path(text: &str, what: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(format!("{what} {text:?} must be an absolute path"));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{what} {text:?} may not contain '..'"));
    }
    if path.components().all(|c| c == Component::RootDir) {
        return Err(format!(
            "{what} {text:?}: a volume cannot be mounted over /"
        ));
    }
    if path.starts_with("/proc") {
        return Err(format!(
            "{what} {text:?}: volumes cannot be mounted in /proc"
        ));
    }
    Ok(path)
}

/// Docker's `--tmpfs` words that are flags, and the flag each sets: (word, field, value).
const TMPFS_WORDS: [(&str, usize, bool); 8] = [
    ("rw", 0, false),
    ("ro", 0, true),
    ("exec", 1, true),
    ("noexec", 1, false),
    ("suid", 2, true),
    ("nosuid", 2, false),
    ("dev", 3, true),
    ("nodev", 3, false),
];

impl Volume {
    /// `SRC:DST`, or `SRC:DST:OPTIONS` with `ro` or `rw` and, for a host path, `idmap`
    /// (comma-separated, as Podman takes them); SRC absolute on the host, or the name of a
    /// named volume (bound from its data directory, made on first use).
    pub fn parse_bind(text: &str) -> Result<Volume, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let bad = || {
            format!(
                "invalid volume {text:?}: expected SRC:DST or SRC:DST:ro (options: ro, rw, idmap)"
            )
        };
        let (src, dst, options) = match parts.as_slice() {
            [src, dst] => (*src, *dst, ""),
            [src, dst, options] => (*src, *dst, *options),
            _ => return Err(bad()),
        };
        let (mut read_only, mut idmap) = (false, false);
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "ro" => read_only = true,
                "rw" => read_only = false,
                "idmap" => idmap = true,
                _ => return Err(bad()),
            }
        }
        let dst = container_path(dst, "volume target")?;
        if is_name(src) {
            if idmap {
                return Err(format!(
                    "invalid volume {text:?}: idmap is for a host path (a named volume made for a container with a user namespace is its root's already)"
                ));
            }
            return Ok(Volume::Named {
                name: src.to_string(),
                dst,
                read_only,
            });
        }
        if !Path::new(src).is_absolute() {
            return Err(format!(
                "volume source {src:?} must be an absolute path or a volume name"
            ));
        }
        Ok(Volume::Bind {
            src: PathBuf::from(src),
            dst,
            read_only,
            idmap,
        })
    }

    /// `-v /dst[:ro]`: an anonymous volume's target (and whether read-only), when `text` is
    /// one absolute path; `None` for any other `-v` form.
    pub fn parse_anonymous(text: &str) -> Result<Option<(PathBuf, bool)>, String> {
        let (dst, read_only) = match text.split_once(':') {
            None => (text, false),
            Some((dst, "ro")) if !dst.contains(':') && dst.starts_with('/') => (dst, true),
            Some((dst, "rw")) if !dst.contains(':') && dst.starts_with('/') => (dst, false),
            Some(_) => return Ok(None),
        };
        if !dst.starts_with('/') {
            return Ok(None);
        }
        Ok(Some((container_path(dst, "volume target")?, read_only)))
    }

    /// `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…]
    /// [,tmpfs-mode=…]`, Docker's long form of `-v` and `--tmpfs`: the same volumes, the same
    /// checks (it is turned into their short forms). A `volume` without `source` is anonymous.
    pub fn parse_mount(text: &str) -> Result<Mount, String> {
        let bad = |why: String| format!("invalid --mount {text:?}: {why}");
        let (mut kind, mut source, mut target, mut read_only) = ("volume", None, None, false);
        let mut tmpfs = Vec::new();
        for field in text.split(',') {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (field, None),
            };
            let flag = |v: Option<&str>| match v {
                None | Some("1" | "true") => Ok(true),
                Some("0" | "false") => Ok(false),
                Some(other) => Err(bad(format!("{key}={other}: true or false"))),
            };
            match (key, value) {
                ("type", Some(t @ ("bind" | "volume" | "tmpfs"))) => kind = t,
                ("type", Some(t)) => return Err(bad(format!("type {t:?} (bind, volume, tmpfs)"))),
                ("source" | "src", Some(s)) => source = Some(s),
                ("target" | "destination" | "dst", Some(t)) => target = Some(t),
                ("readonly" | "ro", v) => read_only = flag(v)?,
                ("tmpfs-size", Some(size)) => tmpfs.push(format!("size={size}")),
                ("tmpfs-mode", Some(mode)) => tmpfs.push(format!("mode={mode}")),
                // Meaningful only to Docker Desktop's file sharing, or already ours.
                ("consistency" | "bind-propagation" | "volume-nocopy", _) => {}
                _ => return Err(bad(format!("unknown field {field:?}"))),
            }
        }
        let target = target.ok_or_else(|| bad("target= is required".into()))?;
        let ro = if read_only { ":ro" } else { "" };
        let volume = match (kind, source) {
            ("tmpfs", Some(_)) => Err(bad("a tmpfs has no source".into())),
            ("tmpfs", None) => {
                if read_only {
                    tmpfs.push("ro".into());
                }
                Volume::parse_tmpfs(&format!("{target}:{}", tmpfs.join(",")))
            }
            ("volume", None) => {
                let dst = container_path(target, "volume target").map_err(bad)?;
                return Ok(Mount::Anonymous { dst, read_only });
            }
            (_, None) => Err(bad(
                "a bind needs its source= (an absolute host path)".into()
            )),
            ("bind", Some(src)) if !Path::new(src).is_absolute() => Err(bad(format!(
                "a bind source must be an absolute path, not {src:?}"
            ))),
            ("volume", Some(src)) if !is_name(src) => {
                Err(bad(format!("{src:?} is not a volume name")))
            }
            (_, Some(_)) if !tmpfs.is_empty() => Err(bad(format!("tmpfs options on a {kind}"))),
            (_, Some(src)) => Volume::parse_bind(&format!("{src}:{target}{ro}")),
        };
        volume.map(Mount::Volume)
    }

    /// `DST` or `DST:OPTIONS`, Docker's options: `rw`, `ro`, `exec`, `noexec`, `suid`,
    /// `nosuid`, `dev`, `nodev`, `size=` (with units), `mode=` (octal), `uid=`, `gid=`,
    /// `nr_inodes=`.
    pub fn parse_tmpfs(text: &str) -> Result<Volume, String> {
        let (dst, options) = text.split_once(':').unwrap_or((text, ""));
        // read_only, exec, suid, dev
        let mut flags = [false, false, false, false];
        let mut data = Vec::new();
        for option in options.split(',').filter(|o| !o.is_empty()) {
            if let Some(&(_, field, value)) = TMPFS_WORDS.iter().find(|(w, _, _)| *w == option) {
                flags[field] = value;
                continue;
            }
            let bad = || {
                format!(
                    "invalid tmpfs option {option:?}: use rw, ro, exec, noexec, suid, nosuid, dev, nodev, size=, mode=, uid=, gid= or nr_inodes="
                )
            };
            let (key, value) = option.split_once('=').ok_or_else(bad)?;
            let ok = match key {
                "size" => {
                    data.push(format!("size={}", parse_bytes(value)?));
                    continue;
                }
                "mode" => u32::from_str_radix(value, 8).is_ok_and(|m| m <= 0o7777),
                "uid" | "gid" => value.parse::<u32>().is_ok(),
                "nr_inodes" => value.parse::<u64>().is_ok(),
                _ => return Err(bad()),
            };
            if !ok {
                return Err(format!("invalid tmpfs option {option:?}: bad value"));
            }
            data.push(option.to_string());
        }
        let [read_only, exec, suid, dev] = flags;
        Ok(Volume::Tmpfs {
            dst: container_path(dst, "tmpfs target")?,
            read_only,
            exec,
            suid,
            dev,
            data: data.join(","),
        })
    }

    /// The source must exist on the host.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            // A named volume is made on first use, just before the container starts.
            Volume::Bind { src, .. } if !src.exists() => Err(format!(
                "volume source {}: No such file or directory",
                src.display()
            )),
            _ => Ok(()),
        }
    }

    pub fn dst(&self) -> &Path {
        match self {
            Volume::Bind { dst, .. } | Volume::Tmpfs { dst, .. } | Volume::Named { dst, .. } => dst,
        }
    }
}

/// True when `text` (a volume's source) names a volume rather than a host path.
pub fn is_name(text: &str) -> bool {
    !text.starts_with('/') && super::names::validate_name(text).is_ok()
}
