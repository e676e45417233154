//! Pulling an image from a registry over the OCI distribution API: Docker schema 2 and OCI
//! manifests and indexes (`oci-client`'s types), read through [`super::transport`], which
//! bounds every read (sizes, stalls, redirects) and checks every digest.
//!
//! Layers download in parallel (three at a time, as Docker) and unpack as they arrive: each
//! response streams through a bounded channel into a blocking thread that decompresses,
//! hashes and writes it ([`super::unpack`]), so a layer is never held in memory. The client
//! checks each blob against its digest as it streams; we check each layer's uncompressed
//! stream against the config's diff_id. Layers are unpacked into the store's `tmp/` and moved
//! into place only once every layer of the pull has checked out: a failed pull keeps nothing.
//!
//! The async runtime and the HTTP stack exist only inside [`pull`]: `--run` without an image
//! never builds them.

use super::digest::Digest;
use super::platform::Platform;
use super::reference::Ref;
use super::store::{Image, Store, remove_dir};
use super::transport::{self, Registry};
use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest, OciManifest,
};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Layers fetched at once (Docker's `max-concurrent-downloads` default).
const PARALLEL: usize = 3;
/// Chunks in flight between a download and its unpacker: a few hundred KiB at most.
const IN_FLIGHT: usize = 8;

/// How to pull.
#[derive(Debug, Clone)]
pub struct Options {
    pub platform: Platform,
    /// Registries reached over plain HTTP besides loopback ones (`--insecure-registry`).
    pub insecure: Vec<String>,
}

/// Where a pull tells how it goes.
pub enum Progress {
    /// Nothing but errors.
    Quiet,
    /// Docker's lines (`Pulling from`, `Digest:`, `Status:`) to this writer, with per-layer
    /// bars on stderr when it is a terminal.
    Lines(Box<dyn Write + Send>, bool),
    /// One line at a time for somebody else to show (the dashboard).
    Callback(Arc<dyn Fn(String) + Send + Sync>),
}

impl Progress {
    fn say(&mut self, text: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Lines(out, _) => {
                let _ = writeln!(out, "{}", crate::printable::escaped(text));
            }
            Progress::Callback(f) => f(crate::printable::escaped(text).into_owned()),
        }
    }
}

/// The registries reached over plain HTTP: `r`'s when it is on loopback, and the
/// `--insecure-registry` ones; every other one over HTTPS only.
/// Pulls `text` into `store` and returns its record.
pub fn pull(
    store: &Store,
    text: &str,
    options: &Options,
    mut progress: Progress,
) -> anyhow::Result<Image> {
    let r = Ref::parse(text)?;
    let credentials = super::auth::credentials(r.0.registry())?;
    let _using = store.using()?;
    transport::block_on(pull_async(store, &r, credentials, options, &mut progress))?
}

const MANIFEST_TYPES: [&str; 4] = [
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
];

async fn pull_async(
    store: &Store,
    r: &Ref,
    credentials: transport::Credentials,
    options: &Options,
    progress: &mut Progress,
) -> anyhow::Result<Image> {
    let reference = &r.0;
    progress.say(&format!(
        "{}: Pulling from {}",
        reference.tag().or(reference.digest()).unwrap_or("latest"),
        reference.repository()
    ));
    let registry = Registry::connect(r, credentials, &transport::plain_http(r, &options.insecure))
        .await
        .map_err(|e| transport::denied("pull", r, e))?;
    let asked = reference.digest().or(reference.tag()).unwrap_or("latest");
    let (raw, top_digest) = registry
        .manifest(asked, &MANIFEST_TYPES)
        .await
        .map_err(|e| transport::denied("pull", r, e))?
        .ok_or_else(|| anyhow!("manifest for {r} not found"))?;
    let top_digest = top_digest.to_string();
    let mut blobs = vec![(top_digest.clone(), raw.clone())];
    let manifest = match parse_manifest(&raw)? {
        OciManifest::Image(m) => m,
        OciManifest::ImageIndex(index) => {
            let entry = index
                .manifests
                .iter()
                .find(|e| {
                    e.platform.as_ref().is_some_and(|p| {
                        options.platform.matches(
                            &p.os.to_string(),
                            &p.architecture.to_string(),
                            p.variant.as_deref(),
                        )
                    })
                })
                .ok_or_else(|| {
                    // The platforms are the registry's words: escaped before they are shown.
                    let offered: Vec<String> = index
                        .manifests
                        .iter()
                        .filter_map(|e| e.platform.as_ref())
                        .map(|p| {
                            let mut s = format!("{}/{}", p.os, p.architecture);
                            if let Some(v) = &p.variant {
                                s.push('/');
                                s.push_str(v);
                            }
                            s
                        })
                        .collect();
                    anyhow!(
                        "no matching manifest for {} in the manifest list entries of {r} (it has: {})",
                        options.platform,
                        crate::printable::escaped(&offered.join(", "))
                    )
                })?;
            Digest::parse(&entry.digest)?;
            let (raw, digest) = registry
                .manifest(&entry.digest, &MANIFEST_TYPES)
                .await?
                .ok_or_else(|| anyhow!("manifest {} of {r} not found", entry.digest))?;
            blobs.push((digest.to_string(), raw.clone()));
            match parse_manifest(&raw)? {
                OciManifest::Image(m) => m,
                OciManifest::ImageIndex(_) => bail!("{r}: an index inside an index"),
            }
        }
    };
    let manifest_digest = blobs.last().map(|(d, _)| d.clone()).unwrap_or_default();
    // Every digest the manifest names is one we can verify, before anything is fetched.
    Digest::parse(&manifest.config.digest)?;
    for layer in &manifest.layers {
        Digest::parse(&layer.digest)?;
    }
    let config_bytes = registry
        .small_blob(&manifest.config.digest, manifest.config.size)
        .await
        .with_context(|| format!("{r}: its config"))?;
    let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
        .with_context(|| format!("{r}: the image config is not valid"))?;
    let platform = config_platform(&config);
    if !options.platform.matches(
        &config.os().to_string(),
        &config.architecture().to_string(),
        config.variant().as_deref(),
    ) {
        bail!(
            "image {r} was found but its platform ({platform}) does not match the specified platform ({})",
            options.platform
        );
    }
    let diff_ids = config.rootfs().diff_ids().clone();
    for diff_id in &diff_ids {
        // The unpacker hashes with sha256: another algorithm could never match.
        if Digest::parse(diff_id)?.algorithm != super::digest::Algorithm::Sha256 {
            bail!("{r}: layer diff_id {diff_id} is not sha256, which is all we unpack");
        }
    }
    let layers = usable_layers(&manifest)?;
    if layers.len() != diff_ids.len() {
        bail!(
            "{r}: the manifest has {} but the config lists {}",
            crate::printable::counted(layers.len(), "layer"),
            diff_ids.len()
        );
    }
    // Fetch only what the store lacks, each diff_id once.
    let mut wanted: Vec<(OciDescriptor, String)> = Vec::new();
    for (desc, diff_id) in layers.iter().zip(&diff_ids) {
        if store.layer(diff_id).is_none() && !wanted.iter().any(|(_, d)| d == diff_id) {
            wanted.push(((*desc).clone(), diff_id.clone()));
        } else if store.layer(diff_id).is_some() {
            progress.say(&format!("{}: Already exists", short(&desc.digest)));
        }
    }
    let bars = match progress {
        Progress::Lines(_, true) => Some(indicatif::MultiProgress::new()),
        _ => None,
    };
    let jobs = wanted.iter().map(|(desc, diff_id)| {
        let bar = bars.as_ref().map(|m| {
            let bar = m.add(indicatif::ProgressBar::new(desc.size.max(0) as u64));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix}: {msg:12} [{bar:30}] {bytes}/{total_bytes}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(short(&desc.digest).to_string());
            bar.set_message("Downloading");
            bar
        });
        let ticker = match progress {
            Progress::Callback(f) => Some(f.clone()),
            _ => None,
        };
        fetch_layer(store, &registry, desc, diff_id, bar, ticker)
    });
    let results: Vec<anyhow::Result<Staged>> = futures_util::stream::iter(jobs)
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    if let Some(m) = &bars {
        let _ = m.clear();
    }
    let mut staged = Vec::new();
    let mut failure = None;
    for result in results {
        match result {
            Ok(done) => staged.push(done),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        for s in &staged {
            remove_dir(&s.dir);
        }
        return Err(e);
    }
    for s in &staged {
        store.commit_layer(&s.dir, &s.diff_id, s.size)?;
        progress.say(&format!("{}: Pull complete", short(&s.digest)));
    }
    blobs.push((manifest.config.digest.clone(), config_bytes));
    for (digest, bytes) in &blobs {
        store.put_blob(digest, bytes)?;
    }
    let existed = store.find(&manifest.config.digest).is_some();
    let image = Image {
        id: manifest.config.digest.clone(),
        tags: reference
            .tag()
            .filter(|_| reference.digest().is_none())
            .map(|_| r.to_string())
            .into_iter()
            .collect(),
        digests: vec![format!("{}@{}", r.name(), top_digest)],
        size: store.size_of(&diff_ids),
        layers: diff_ids,
        created: config.created().clone(),
        platform,
        added_ms: crate::state::record::now_ms(),
    };
    store.set_manifest(&image.id, &manifest_digest)?;
    let saved = store.save(&image)?;
    progress.say(&format!("Digest: {top_digest}"));
    progress.say(&format!(
        "Status: {} for {}",
        if existed && staged.is_empty() {
            "Image is up to date"
        } else {
            "Downloaded newer image"
        },
        shown_ref(r)
    ));
    Ok(saved)
}

/// `alpine:latest` for Docker Hub's official images, the whole reference otherwise.
pub fn shown_ref(r: &Ref) -> String {
    let mut s = r.repository_shown();
    if let Some(t) = r.0.tag().filter(|_| r.0.digest().is_none()) {
        s = format!("{s}:{t}");
    } else if let Some(d) = r.0.digest() {
        s = format!("{s}@{d}");
    }
    s
}

fn short(digest: &str) -> &str {
    let hex = digest.split(':').nth(1).unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

fn parse_manifest(raw: &[u8]) -> anyhow::Result<OciManifest> {
    let version: serde_json::Value =
        serde_json::from_slice(raw).context("the registry sent a manifest that is not JSON")?;
    if version.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        bail!(
            "Docker schema 1 manifests are not supported (re-push the image with a current client)"
        );
    }
    serde_json::from_slice(raw).context("the registry sent a manifest we cannot read")
}

/// The manifest's layers, each a tar (plain, gzip or zstd); foreign or unknown ones refused.
fn usable_layers(manifest: &OciImageManifest) -> anyhow::Result<Vec<&OciDescriptor>> {
    manifest
        .layers
        .iter()
        .map(|l| {
            let t = l.media_type.as_str();
            let tar = t.starts_with("application/vnd.oci.image.layer.v1.tar")
                || t.starts_with("application/vnd.docker.image.rootfs.diff.tar");
            if !tar || t.contains("nondistributable") || t.contains("foreign") {
                bail!("layer {} has a media type we cannot unpack: {t}", l.digest);
            }
            if !(t.ends_with(".tar")
                || t.ends_with("+gzip")
                || t.ends_with("+zstd")
                || t.ends_with(".gzip"))
            {
                bail!("layer {} has a compression we cannot read: {t}", l.digest);
            }
            Ok(l)
        })
        .collect()
}

/// `os/arch[/variant]` of a config.
pub fn config_platform(config: &oci_spec::image::ImageConfiguration) -> String {
    let mut p = format!("{}/{}", config.os(), config.architecture());
    if let Some(v) = config.variant() {
        p.push('/');
        p.push_str(v);
    }
    p
}

/// A layer unpacked and checked, waiting to be moved into the store.
struct Staged {
    dir: PathBuf,
    diff_id: String,
    /// The blob's digest, as progress shows it.
    digest: String,
    size: u64,
}

/// Downloads one layer and unpacks it as it arrives; returns its staging directory.
async fn fetch_layer(
    store: &Store,
    registry: &Registry,
    desc: &OciDescriptor,
    diff_id: &str,
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<Arc<dyn Fn(String) + Send + Sync>>,
) -> anyhow::Result<Staged> {
    let staging = store.staging()?;
    let result = fetch_into(registry, desc, diff_id, &staging, bar.as_ref(), ticker).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(size) => Ok(Staged {
            dir: staging,
            diff_id: diff_id.to_string(),
            digest: desc.digest.clone(),
            size,
        }),
        Err(e) => {
            remove_dir(&staging);
            Err(e)
        }
    }
}

async fn fetch_into(
    registry: &Registry,
    desc: &OciDescriptor,
    diff_id: &str,
    staging: &std::path::Path,
    bar: Option<&indicatif::ProgressBar>,
    ticker: Option<Arc<dyn Fn(String) + Send + Sync>>,
) -> anyhow::Result<u64> {
    let digest = &desc.digest;
    let mut blob = registry.blob(digest, desc.size).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(IN_FLIGHT);
    let staged = staging.to_path_buf();
    let unpacker = tokio::task::spawn_blocking(move || {
        super::layer::apply_keeping(
            ChannelReader {
                rx,
                current: bytes::Bytes::new(),
            },
            &staged,
        )
    });
    let mut failure = None;
    let (total, mut done, mut quarter) = (desc.size.max(1) as u64, 0u64, 0u64);
    loop {
        match blob.next().await {
            Ok(None) => break,
            Ok(Some(bytes)) => {
                if let Some(bar) = bar {
                    bar.inc(bytes.len() as u64);
                }
                done += bytes.len() as u64;
                // A line at each quarter for whoever shows lines (the dashboard).
                if let Some(tick) = &ticker
                    && done * 4 / total > quarter
                {
                    quarter = done * 4 / total;
                    tick(format!(
                        "{}: Downloading {}% of {:.1} MB",
                        short(digest),
                        (quarter * 25).min(100),
                        total as f64 / 1e6
                    ));
                }
                if tx.send(Ok(bytes)).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                failure = Some(e);
                let _ = tx.send(Err(io::Error::other("download failed"))).await;
                break;
            }
        }
    }
    drop(tx);
    let applied = unpacker.await.context("the unpacker panicked")?;
    if let Some(failure) = failure {
        return Err(failure.context(format!("layer {digest}")));
    }
    let (applied, kept) = applied.with_context(|| format!("layer {digest}"))?;
    if applied.diff_id != diff_id {
        bail!(
            "layer {digest}: its content is {} but the image config says {diff_id}",
            applied.diff_id
        );
    }
    // The bytes kept are the bytes the client checked against the digest (any algorithm); as
    // the manifest names them (Docker's or OCI's type), so they are pushed again as they came.
    super::store::describe_blob(
        staging,
        &super::store::Blob {
            media_type: desc.media_type.clone(),
            digest: digest.clone(),
            size: kept.size,
        },
    )?;
    Ok(applied.size)
}

/// The unpacker's end of a download: a blocking `Read` over the chunks the download sends.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Checks `user`/`password` against `server` as `docker login` does: `/v2/` answers 200 with
/// them, or their bearer token is granted.
pub fn check_login(
    server: &str,
    user: &str,
    password: &str,
    insecure: &[String],
) -> anyhow::Result<()> {
    let r = Ref::parse(&format!("{server}/library/login-check"))?;
    let options = Options {
        platform: Platform::host(),
        insecure: insecure.to_vec(),
    };
    let credentials = Some((user.to_string(), password.to_string()));
    transport::block_on(async {
        let registry = Registry::connect(
            &r,
            credentials,
            &transport::plain_http(&r, &options.insecure),
        )
        .await?;
        registry.check().await
    })?
    .map_err(|e| match e.downcast_ref::<transport::Denied>() {
        Some(_) => anyhow!("login to {server}: unauthorized: incorrect username or password"),
        None => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_insecure_registries() {
        let options = |insecure: &[&str]| Options {
            platform: Platform::host(),
            insecure: insecure.iter().map(|s| s.to_string()).collect(),
        };
        let plain = |text: &str, insecure: &[&str]| {
            let r = Ref::parse(text).unwrap();
            transport::plain_http(&r, &options(insecure).insecure)
                .contains(&r.registry().to_string())
        };
        assert!(plain("127.0.0.1:5000/a", &[]));
        assert!(plain("localhost:5000/a", &[]));
        assert!(!plain("alpine", &[]), "Docker Hub over HTTPS");
        assert!(!plain("ghcr.io/o/a", &[]));
        assert!(!plain("registry.lan:5000/a", &[]));
        assert!(plain("registry.lan:5000/a", &["registry.lan:5000"]));
        assert!(
            !plain("registry.lan:5000/a", &["registry.lan"]),
            "host and port, as given"
        );
    }
}
