//! `save`: images as one tar stream that `load` (ours, Docker's, podman's) reads back. Both
//! formats are an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`); the
//! docker-archive adds Docker's `manifest.json` naming the same blobs (what `docker save`
//! writes since Docker 25), so one writer serves both. Layers go out as the store keeps them:
//! the very blobs a registry served or `commit` made, so digests survive a save and load.

use super::compose::{Parts, parts};
use super::reference::Ref;
use super::store::{Image, Store};
use anyhow::{Context, bail};
use serde_json::json;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    DockerArchive,
    OciArchive,
}

impl Format {
    pub fn parse(text: &str) -> anyhow::Result<Format> {
        match text {
            "docker-archive" | "docker" => Ok(Format::DockerArchive),
            "oci-archive" | "oci" => Ok(Format::OciArchive),
            other => bail!("unknown format {other:?} (docker-archive or oci-archive)"),
        }
    }
}

/// One image to save, and the name it was asked by (none when asked by id).
pub struct Saved {
    pub image: Image,
    pub tag: Option<String>,
}

fn hex(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

/// Writes `images` to `out`.
pub fn save(
    store: &Store,
    images: &[Saved],
    format: Format,
    out: impl Write,
) -> anyhow::Result<()> {
    // Everything is checked before a byte is written: a failed save writes nothing.
    let all: Vec<(&Saved, Parts)> = images
        .iter()
        .map(|s| parts(store, &s.image).map(|p| (s, p)))
        .collect::<anyhow::Result<_>>()?;
    let mut tar = tar::Builder::new(out);
    let mut written = std::collections::HashSet::new();
    let file = |tar: &mut tar::Builder<_>, name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, bytes)
            .with_context(|| format!("cannot write {name}"))
    };
    file(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut index = Vec::new();
    let mut docker = Vec::new();
    for (saved, parts) in &all {
        let blob = |d: &str| format!("blobs/sha256/{}", hex(d));
        if written.insert(parts.manifest_digest.clone()) {
            file(&mut tar, &blob(&parts.manifest_digest), &parts.manifest)?;
        }
        if written.insert(parts.config.clone()) {
            file(&mut tar, &blob(&parts.config), &store.blob(&parts.config)?)?;
        }
        for (digest, path) in &parts.layers {
            if written.insert(digest.clone()) {
                let mut layer = std::fs::File::open(path)
                    .with_context(|| format!("cannot read layer {digest}"))?;
                let mut header = tar::Header::new_gnu();
                header.set_mode(0o644);
                header.set_size(layer.metadata()?.len());
                header.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut header, blob(digest), &mut layer)
                    .with_context(|| format!("cannot write layer {digest}"))?;
            }
        }
        let mut entry = json!({
            "mediaType": parts.media_type,
            "digest": parts.manifest_digest,
            "size": parts.manifest.len(),
        });
        if let Some(tag) = &saved.tag {
            let r = Ref::parse(tag)?;
            entry["annotations"] = json!({
                "io.containerd.image.name": r.to_string(),
                "org.opencontainers.image.ref.name": r.0.tag().unwrap_or("latest"),
            });
        }
        index.push(entry);
        docker.push(json!({
            "Config": blob(&parts.config),
            "RepoTags": saved.tag.as_deref().map(|t| Ref::parse(t).map(|r| vec![super::pull::shown_ref(&r)])).transpose()?,
            "Layers": parts.layers.iter().map(|(d, _)| blob(d)).collect::<Vec<_>>(),
        }));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": index,
    });
    file(&mut tar, "index.json", &serde_json::to_vec(&index)?)?;
    if format == Format::DockerArchive {
        file(&mut tar, "manifest.json", &serde_json::to_vec(&docker)?)?;
    }
    tar.into_inner()
        .context("cannot write the archive")?
        .flush()
        .context("cannot write the archive")
}
