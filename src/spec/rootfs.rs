//! A root filesystem of the container's own (`--rootfs DIR`, or an image's layers), as data:
//! what it is made of and how the container writes to it. [`crate::runtime::rootfs`] builds it.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the container writes to its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Writes {
    /// Copy-on-write: DIR stays unchanged, writes go to a per-container upper layer.
    Overlay,
    /// Writes go straight to DIR.
    Persist,
    /// `/` is read-only.
    ReadOnly,
}

/// The container's root filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rootfs {
    /// `--rootfs DIR`; for an image, its top layer.
    pub dir: PathBuf,
    pub mode: Writes,
    /// An image's layers, all of them, top first: the overlay's lower directories.
    #[serde(default)]
    pub layers: Option<Layers>,
}

/// An image's layers as the overlay takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layers {
    /// The image store's directory.
    pub base: PathBuf,
    /// Each layer's short link (`l/<id>`) under `base`, top first.
    pub links: Vec<String>,
}

impl Rootfs {
    /// DIR must be an existing, non-empty directory, and not the host's `/` (as Docker refuses
    /// to bind the host's root as a container's root).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(layers) = &self.layers {
            if self.mode == Writes::Persist {
                return Err("--rootfs-persist cannot write to an image's layers".into());
            }
            for link in &layers.links {
                let path = layers.base.join(link);
                if !path.is_dir() {
                    return Err(format!(
                        "image layer {} is missing from the store",
                        path.display()
                    ));
                }
            }
            return Ok(());
        }
        let dir = &self.dir;
        let meta = std::fs::metadata(dir).map_err(|e| format!("rootfs {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("rootfs {}: not a directory", dir.display()));
        }
        if std::fs::canonicalize(dir).is_ok_and(|c| c == Path::new("/")) {
            return Err(format!(
                "rootfs {}: the host's / cannot be a container's root (leave --rootfs out to see the host's files read-only)",
                dir.display()
            ));
        }
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        if empty {
            return Err(format!(
                "rootfs {} is empty (make one with: my-container-tui rootfs busybox DIR)",
                dir.display()
            ));
        }
        Ok(())
    }
}
