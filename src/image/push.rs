//! `push`: an image of the store to a distribution registry, as Docker pushes: each blob
//! checked first (`HEAD`: the registry has it), mounted from the repository it was pulled
//! from when that is on the same registry, else uploaded (one `PUT`, or `PATCH` chunks of
//! [`transport::CHUNK`] for a big layer); the manifest last. A registry therefore only ever
//! gets a tag whose every blob it holds: a push that fails leaves no tag behind.
//!
//! Blobs go out as the store keeps them, and each is hashed again as it is read: a blob
//! changed in the store since (a hostile local edit, a bad disk) is refused before the
//! upload ends, and the upload is cancelled.

use super::compose::parts;
use super::digest::{Digest, Hasher};
use super::reference::Ref;
use super::store::{Image, Store};
use super::transport::{self, Access, Registry};
use anyhow::{Context, anyhow, bail};
use std::io::{Read, Write};

/// How a push tells how it goes: Docker's lines, with a bar per upload on a terminal.
pub struct Progress {
    pub out: Box<dyn Write + Send>,
    pub bars: bool,
    pub quiet: bool,
}

impl Progress {
    fn say(&mut self, text: &str) {
        if !self.quiet {
            let _ = writeln!(self.out, "{}", crate::printable::escaped(text));
        }
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}

/// Pushes the image `text` names to the registry and repository `text` names; returns the
/// manifest's digest.
pub fn push(
    store: &Store,
    text: &str,
    insecure: &[String],
    progress: &mut Progress,
) -> anyhow::Result<String> {
    let r = Ref::parse(text)?;
    if r.0.digest().is_some() {
        bail!("{text}: push a tag, not a digest");
    }
    let full = r.to_string();
    let image = store
        .images()
        .into_iter()
        .find(|i| i.tags.contains(&full))
        .ok_or_else(|| {
            anyhow!(
                "An image does not exist locally with the tag: {}",
                r.repository_shown()
            )
        })?;
    let credentials = super::auth::credentials(r.0.registry())?;
    let _using = store.using()?;
    transport::block_on(push_async(
        store,
        &r,
        &image,
        credentials,
        insecure,
        progress,
    ))?
}

/// Repositories of `r`'s registry the image was pulled from: blobs to mount from.
fn sources(r: &Ref, image: &Image) -> Vec<String> {
    let mut from = Vec::new();
    for digest in &image.digests {
        let Some((name, _)) = digest.rsplit_once('@') else {
            continue;
        };
        if let Ok(source) = Ref::parse(name)
            && source.0.registry() == r.0.registry()
            && source.0.repository() != r.0.repository()
            && !from.contains(&source.0.repository().to_string())
        {
            from.push(source.0.repository().to_string());
        }
    }
    from
}

async fn push_async(
    store: &Store,
    r: &Ref,
    image: &Image,
    credentials: transport::Credentials,
    insecure: &[String],
    progress: &mut Progress,
) -> anyhow::Result<String> {
    let parts = parts(store, image)?;
    progress.say(&format!("The push refers to repository [{}]", r.name()));
    let plain = transport::plain_http(r, insecure);
    let mount_from = sources(r, image);
    let registry = Registry::connect_for(
        r,
        credentials,
        &plain,
        Access::Push {
            mount_from: mount_from.clone(),
        },
    )
    .await
    .map_err(|e| transport::denied("push", r, e))?;
    // Config last among the blobs, as Docker: layers first, top down.
    let config = store.blob(&parts.config)?;
    let mut blobs: Vec<(String, Source)> = parts
        .layers
        .iter()
        .rev()
        .map(|(d, p)| (d.clone(), Source::File(p.clone())))
        .collect();
    blobs.push((parts.config.clone(), Source::Bytes(config)));
    for (digest, source) in blobs {
        let shown = short(&digest).to_string();
        if registry
            .has_blob(&digest)
            .await
            .map_err(|e| transport::denied("push", r, e))?
        {
            progress.say(&format!("{shown}: Layer already exists"));
            continue;
        }
        let mut upload = None;
        for from in &mount_from {
            match registry.mount(&digest, from).await {
                Ok(None) => {
                    progress.say(&format!("{shown}: Mounted from {from}"));
                    upload = Some(None);
                    break;
                }
                // Not there: the upload it started is ours to use.
                Ok(Some(at)) => {
                    upload = Some(Some(at));
                    break;
                }
                Err(_) => {}
            }
        }
        let at = match upload {
            Some(None) => continue,
            Some(Some(at)) => at,
            None => registry
                .start_upload()
                .await
                .map_err(|e| transport::denied("push", r, e))?,
        };
        if let Err(e) = send(&registry, at.clone(), &digest, source, progress).await {
            registry.cancel_upload(at).await;
            return Err(e.context(format!("layer {shown}")));
        }
        progress.say(&format!("{shown}: Pushed"));
    }
    let tag = r.0.tag().unwrap_or("latest");
    registry
        .put_manifest(tag, &parts.media_type, parts.manifest.clone())
        .await
        .map_err(|e| transport::denied("push", r, e))?;
    progress.say(&format!(
        "{tag}: digest: {} size: {}",
        parts.manifest_digest,
        parts.manifest.len()
    ));
    Ok(parts.manifest_digest)
}

enum Source {
    File(std::path::PathBuf),
    Bytes(Vec<u8>),
}

/// Uploads one blob at `at`: in one `PUT` up to [`transport::CHUNK`], else in chunks; hashed as
/// it is read, and refused if it is not what its digest says.
async fn send(
    registry: &Registry,
    mut at: reqwest::Url,
    digest: &str,
    source: Source,
    progress: &Progress,
) -> anyhow::Result<()> {
    let expected = Digest::parse(digest)?;
    let mut hasher = Hasher::new(expected.algorithm);
    let (mut reader, size): (Box<dyn Read + Send>, u64) = match source {
        Source::File(path) => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let size = file.metadata()?.len();
            (Box::new(file), size)
        }
        Source::Bytes(bytes) => {
            let size = bytes.len() as u64;
            (Box::new(std::io::Cursor::new(bytes)), size)
        }
    };
    let bar = (progress.bars && !progress.quiet && size > transport::CHUNK).then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix}: Pushing [{bar:30}] {bytes}/{total_bytes}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(short(digest).to_string());
        bar
    });
    let mut sent = 0u64;
    loop {
        let mut chunk = Vec::with_capacity(transport::CHUNK.min(size - sent) as usize);
        (&mut reader)
            .take(transport::CHUNK)
            .read_to_end(&mut chunk)
            .context("cannot read the blob")?;
        hasher.update(&chunk);
        let last = sent + chunk.len() as u64 >= size || chunk.is_empty();
        if last {
            if hasher.finish() != expected {
                bail!(
                    "the store's blob {digest} does not match its digest (it was changed): refused"
                );
            }
            registry.finish_upload(at, digest, chunk).await?;
            break;
        }
        let len = chunk.len() as u64;
        at = registry.upload_chunk(at, sent, chunk).await?;
        sent += len;
        if let Some(bar) = &bar {
            bar.set_position(sent);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}
