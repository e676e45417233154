//! `import` (a root filesystem tarball becomes a one-layer image, as `docker import`) and
//! `load` (a `docker save` archive, or an OCI image layout in a tar, as `docker load`).
//!
//! A `load` archive's members come in any order, so the archive is first copied into a
//! staging directory of the store: regular files only, each name checked to stay inside it
//! ([`super::unpack::clean`]); a symlink member (old `docker save` writes one per repeated
//! layer) is kept as a name to look up again, never made. Then each layer is unpacked from
//! there like a pulled one, checked against the config's diff_ids, and committed.

use super::platform::Platform;
use super::reference::Ref;
use super::store::{Image, Store, remove_dir};
use super::unpack::{self, clean};
use anyhow::{Context, anyhow, bail};
use sha2::Digest;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Imports a root filesystem tarball (plain, gzip or zstd) as image `reference`.
pub fn import(store: &Store, input: impl Read, reference: &str) -> anyhow::Result<Image> {
    let r = Ref::parse(reference)?;
    let _using = store.using()?;
    let staging = store.staging()?;
    let applied = match super::layer::apply_keeping(input, &staging) {
        Ok((a, _)) => a,
        Err(e) => {
            remove_dir(&staging);
            return Err(e.context("cannot import the tarball"));
        }
    };
    let host = Platform::host();
    let created = crate::state::record::rfc3339(crate::state::record::now_ms());
    let config = serde_json::json!({
        "created": created,
        "architecture": host.arch,
        "os": host.os,
        "config": { "Env": [format!("PATH={}", crate::spec::DEFAULT_PATH)] },
        "rootfs": { "type": "layers", "diff_ids": [applied.diff_id] },
        "history": [{ "created": created, "comment": "Imported from tarball" }],
    });
    let bytes = serde_json::to_vec(&config)?;
    let id = format!("sha256:{}", unpack::hex(&sha2::Sha256::digest(&bytes)));
    store.commit_layer(&staging, &applied.diff_id, applied.size)?;
    store.put_blob(&id, &bytes)?;
    store.save(&Image {
        id,
        tags: vec![r.to_string()],
        digests: Vec::new(),
        layers: vec![applied.diff_id],
        size: applied.size,
        created: Some(created),
        platform: host.to_string(),
        added_ms: crate::state::record::now_ms(),
    })
}

/// Loads every image of a `docker save` or OCI-layout archive; returns them.
pub fn load(store: &Store, input: impl Read) -> anyhow::Result<Vec<Image>> {
    let _using = store.using()?;
    let dir = store.staging()?;
    let result = extract(unpack::decompressed(input)?, &dir.join("diff")).and_then(|links| {
        let archive = Archive {
            dir: dir.join("diff"),
            links,
        };
        if archive.path("manifest.json").is_file() {
            load_docker(store, &archive)
        } else if archive.path("index.json").is_file() {
            load_oci(store, &archive)
        } else {
            bail!("not an image archive: it has neither manifest.json nor index.json")
        }
    });
    remove_dir(&dir);
    result
}

/// The archive, copied out.
struct Archive {
    dir: PathBuf,
    /// Symlink members: name -> target, both cleaned, relative to the archive's root.
    links: HashMap<PathBuf, PathBuf>,
}

impl Archive {
    /// A member's path in the copy, following the archive's own symlinks (a few hops).
    fn path(&self, name: &str) -> PathBuf {
        let mut name = match clean(Path::new(name)) {
            Ok(n) => n,
            Err(_) => return self.dir.join("\0invalid"),
        };
        for _ in 0..8 {
            match self.links.get(&name) {
                Some(target) => name = target.clone(),
                None => break,
            }
        }
        self.dir.join(name)
    }

    fn read(&self, name: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        std::fs::File::open(self.path(name))
            .with_context(|| format!("the archive has no {name}"))?
            .take(limit)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

fn extract(input: impl Read, dir: &Path) -> anyhow::Result<HashMap<PathBuf, PathBuf>> {
    let mut links = HashMap::new();
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().context("not a tar archive")? {
        let mut entry = entry.context("not a valid tar archive")?;
        let name = clean(&entry.path()?)?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = name.parent() {
                    std::fs::create_dir_all(dir.join(parent))?;
                }
                // create_new: an earlier member never gets overwritten through a link.
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(dir.join(&name))
                    .with_context(|| format!("archive member {}", name.display()))?;
                std::io::copy(&mut entry, &mut file)?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()?
                    .ok_or_else(|| anyhow!("link {} has no target", name.display()))?;
                let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                    name.parent().unwrap_or(Path::new("")).join(&target)
                } else {
                    target.to_path_buf()
                };
                links.insert(name, normalize(&base)?);
            }
            _ => {}
        }
    }
    Ok(links)
}

/// `a/../b` as `b`, refusing to climb above the archive's root.
fn normalize(path: &Path) -> anyhow::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(p) => out.push(p),
            std::path::Component::ParentDir if !out.pop() => {
                bail!("archive link {} leaves the archive", path.display());
            }
            _ => {}
        }
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SavedImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn load_docker(store: &Store, archive: &Archive) -> anyhow::Result<Vec<Image>> {
    let manifest: Vec<SavedImage> =
        serde_json::from_slice(&archive.read("manifest.json", 16 << 20)?)
            .context("manifest.json is not a docker save manifest")?;
    let mut loaded = Vec::new();
    for saved in manifest {
        let config = archive.read(&saved.config, 16 << 20)?;
        let tags = saved.repo_tags.unwrap_or_default();
        loaded.push(add(store, archive, &config, &saved.layers, &tags)?);
    }
    Ok(loaded)
}

fn load_oci(store: &Store, archive: &Archive) -> anyhow::Result<Vec<Image>> {
    let blob = |digest: &str| -> anyhow::Result<Vec<u8>> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| anyhow!("unsupported digest {digest}"))?;
        let bytes = archive.read(&format!("blobs/sha256/{hex}"), 16 << 20)?;
        let actual = format!("sha256:{}", unpack::hex(&sha2::Sha256::digest(&bytes)));
        if actual != digest {
            bail!("blob {digest} does not match its digest");
        }
        Ok(bytes)
    };
    let index: serde_json::Value = serde_json::from_slice(&archive.read("index.json", 16 << 20)?)?;
    let host = Platform::host();
    let mut loaded = Vec::new();
    let mut queue: Vec<(serde_json::Value, Option<String>)> = index["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let name = m["annotations"]["io.containerd.image.name"]
                .as_str()
                .or(m["annotations"]["org.opencontainers.image.ref.name"].as_str())
                .map(str::to_string);
            (m, name)
        })
        .collect();
    while let Some((desc, name)) = queue.pop() {
        let digest = desc["digest"].as_str().unwrap_or_default().to_string();
        let bytes = blob(&digest)?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
        if let Some(manifests) = doc["manifests"].as_array() {
            // An index: this host's platform only.
            if let Some(m) = manifests.iter().find(|m| {
                host.matches(
                    m["platform"]["os"].as_str().unwrap_or(""),
                    m["platform"]["architecture"].as_str().unwrap_or(""),
                    m["platform"]["variant"].as_str(),
                )
            }) {
                queue.push((m.clone(), name.clone()));
            }
            continue;
        }
        let config_digest = doc["config"]["digest"].as_str().unwrap_or_default();
        let config = blob(config_digest)?;
        let layers: Vec<String> = doc["layers"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|d| d["digest"].as_str())
                    .filter_map(|d| d.strip_prefix("sha256:"))
                    .map(|h| format!("blobs/sha256/{h}"))
                    .collect()
            })
            .unwrap_or_default();
        let tags: Vec<String> = name
            .map(|n| {
                if n.contains(':') || n.contains('/') {
                    n
                } else {
                    format!("localhost/image:{n}")
                }
            })
            .into_iter()
            .collect();
        loaded.push(add(store, archive, &config, &layers, &tags)?);
    }
    Ok(loaded)
}

/// Unpacks, checks and records one image of the archive.
fn add(
    store: &Store,
    archive: &Archive,
    config_bytes: &[u8],
    layer_files: &[String],
    tags: &[String],
) -> anyhow::Result<Image> {
    let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(config_bytes)
        .context("an image config in the archive is not valid")?;
    let diff_ids = config.rootfs().diff_ids().clone();
    if diff_ids.len() != layer_files.len() {
        bail!(
            "the archive lists {} but the config {}",
            crate::printable::counted(layer_files.len(), "layer"),
            diff_ids.len()
        );
    }
    let mut staged = Vec::new();
    let mut failure = None;
    for (file, diff_id) in layer_files.iter().zip(&diff_ids) {
        if store.layer(diff_id).is_some() || staged.iter().any(|(_, d, _)| d == diff_id) {
            continue;
        }
        let staging = store.staging()?;
        let result = std::fs::File::open(archive.path(file))
            .with_context(|| format!("the archive has no layer {file}"))
            .and_then(|f| {
                super::layer::apply_keeping(f, &staging).with_context(|| format!("layer {file}"))
            });
        match result.map(|(a, _)| a) {
            Ok(a) if &a.diff_id == diff_id => staged.push((staging, diff_id.clone(), a.size)),
            Ok(a) => {
                remove_dir(&staging);
                failure = Some(anyhow!(
                    "layer {file}: its content is {} but the config says {diff_id}",
                    a.diff_id
                ));
                break;
            }
            Err(e) => {
                remove_dir(&staging);
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(e) = failure {
        for (dir, _, _) in &staged {
            remove_dir(dir);
        }
        return Err(e);
    }
    for (dir, diff_id, size) in &staged {
        store.commit_layer(dir, diff_id, *size)?;
    }
    let id = format!(
        "sha256:{}",
        unpack::hex(&sha2::Sha256::digest(config_bytes))
    );
    store.put_blob(&id, config_bytes)?;
    let tags = tags
        .iter()
        .map(|t| Ref::parse(t).map(|r| r.to_string()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    store.save(&Image {
        id,
        tags,
        digests: Vec::new(),
        size: store.size_of(&diff_ids),
        layers: diff_ids,
        created: config.created().clone(),
        platform: super::pull::config_platform(&config),
        added_ms: crate::state::record::now_ms(),
    })
}
