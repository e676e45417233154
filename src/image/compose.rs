//! An image made here (`commit`, `build`): its config written as a blob (its digest the image's
//! id), an OCI manifest composed from the blobs the store keeps for its layers, and its record
//! saved under its tags. One path for both, so a committed image and a built one push and save
//! alike.

use super::digest::Digest;
use super::store::{Image, Store};
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A layer's media type as an OCI manifest names it: Docker's names for the same bytes
/// (`application/vnd.docker.image.rootfs.diff.tar.gzip`) mapped to OCI's.
pub fn oci_layer_type(media_type: &str) -> String {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            "application/vnd.oci.image.layer.v1.tar+gzip".into()
        }
        "application/vnd.docker.image.rootfs.diff.tar.zstd" => {
            "application/vnd.oci.image.layer.v1.tar+zstd".into()
        }
        "application/vnd.docker.image.rootfs.diff.tar" => {
            "application/vnd.oci.image.layer.v1.tar".into()
        }
        other => other.into(),
    }
}

/// `created` for what is made now: RFC 3339, clamped to `SOURCE_DATE_EPOCH` when set.
pub fn now() -> String {
    let ms = crate::state::record::now_ms();
    let ms = super::layer::source_date_epoch().map_or(ms, |s| ms.min(s * 1000));
    crate::state::record::rfc3339(ms)
}

/// The OCI manifest of `config_bytes` over `layers` (diff_ids), if the store keeps every
/// layer's blob (layers stored before blobs were kept have none).
pub fn manifest(
    store: &Store,
    config_bytes: &[u8],
    id: &str,
    layers: &[String],
) -> Option<Vec<u8>> {
    let mut descriptors = Vec::new();
    for diff_id in layers {
        let (blob, _) = store.layer_blob(diff_id)?;
        descriptors.push(json!({
            "mediaType": oci_layer_type(&blob.media_type),
            "digest": blob.digest,
            "size": blob.size,
        }));
    }
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": id, "size": config_bytes.len() },
        "layers": descriptors,
    }))
    .ok()
}

/// Records an image of `config` (its `rootfs` set to `layers`, bottom first) under `tags`.
pub fn record(
    store: &Store,
    mut config: Value,
    layers: &[String],
    tags: &[String],
) -> anyhow::Result<Image> {
    config["rootfs"] = json!({ "type": "layers", "diff_ids": layers });
    let parsed: oci_spec::image::ImageConfiguration =
        serde_json::from_value(config.clone()).context("the image config made is not valid")?;
    let bytes = serde_json::to_vec(&config)?;
    let id = format!(
        "sha256:{}",
        super::unpack::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    );
    store.put_blob(&id, &bytes)?;
    if let Some(manifest) = manifest(store, &bytes, &id, layers) {
        let digest = format!(
            "sha256:{}",
            super::unpack::hex(&<sha2::Sha256 as sha2::Digest>::digest(&manifest))
        );
        store.put_blob(&digest, &manifest)?;
        store.set_manifest(&id, &digest)?;
    }
    let tags = tags
        .iter()
        .map(|t| super::reference::Ref::parse(t).map(|r| r.to_string()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    store
        .save(&Image {
            id,
            tags,
            digests: Vec::new(),
            size: store.size_of(layers),
            layers: layers.to_vec(),
            created: parsed.created().clone(),
            platform: super::pull::config_platform(&parsed),
            added_ms: crate::state::record::now_ms(),
        })
        .map_err(|e| anyhow!("cannot record the image: {e:#}"))
}

/// An image's manifest and the blobs it names: (digest, where the bytes are).
pub struct Parts {
    pub manifest_digest: String,
    pub manifest: Vec<u8>,
    pub media_type: String,
    pub config: String,
    /// Each layer's blob digest and where the store keeps it, bottom first.
    pub layers: Vec<(String, std::path::PathBuf)>,
}

/// What `save` writes and `push` sends of `image`: every blob checked to be in the store first.
pub fn parts(store: &Store, image: &Image) -> anyhow::Result<Parts> {
    let mut layers = Vec::new();
    for diff_id in &image.layers {
        let (blob, path) = store.layer_blob(diff_id).ok_or_else(|| {
            anyhow!(
                "image {}: layer {diff_id} was stored without its blob (by an earlier release): pull or load the image again",
                image.short_id()
            )
        })?;
        layers.push((blob.digest, path));
    }
    let (manifest_digest, manifest) = match store.manifest(image) {
        Some(found) => found,
        None => {
            let config = store.blob(&image.id)?;
            let bytes = manifest(store, &config, &image.id, &image.layers).ok_or_else(|| {
                anyhow!("image {}: cannot compose its manifest", image.short_id())
            })?;
            (
                Digest::of(super::digest::Algorithm::Sha256, &bytes).to_string(),
                bytes,
            )
        }
    };
    let doc: Value = serde_json::from_slice(&manifest).context("a stored manifest is not valid")?;
    // The manifest names the blobs the store keeps, in order: else it is not this image's.
    let named: Vec<&str> = doc["layers"]
        .as_array()
        .map(|l| l.iter().filter_map(|d| d["digest"].as_str()).collect())
        .unwrap_or_default();
    if named != layers.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>()
        || doc["config"]["digest"].as_str() != Some(image.id.as_str())
    {
        bail!(
            "image {}: its stored manifest does not match its layers",
            image.short_id()
        );
    }
    Ok(Parts {
        manifest_digest,
        media_type: doc["mediaType"]
            .as_str()
            .unwrap_or(MANIFEST_MEDIA_TYPE)
            .to_string(),
        manifest,
        config: image.id.clone(),
        layers,
    })
}
