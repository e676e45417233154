//! The image store under `$MCT_ROOT/image` (`/var/lib/my-container-tui/image`):
//!
//! ```text
//! blobs/sha256/<hex>      manifests, indexes and configs, content-addressed
//! layers/<hex>/diff/      one layer unpacked, keyed by its diff_id, shared by every image
//! layers/<hex>/link       its short name: l/<link> -> ../layers/<hex>/diff
//! layers/<hex>/blob       the layer as a registry serves it (compressed), and blob.json its
//!                         descriptor: kept from the pull or made here, for push and save
//! l/<link>                short names, so 100+ lower directories fit one overlay option page
//! images/<hex>.json       an image: its config digest (the id), tags, digests, layers
//! pins/<container>        layers a container is being started from (see [`pin`])
//! tmp/                    layers being unpacked; renamed into layers/ when whole
//! ```
//!
//! Two `flock`s keep it whole. `gc.lock` is held shared by every pull and every container
//! start for as long as they may add or use layers, and exclusively by whoever deletes layers
//! (`rmi`, `image prune`), so a layer never goes while a pull or a start counts on it.
//! `records.lock` is held exclusively for each change of the image records. A pull unpacks
//! into `tmp/` and renames a layer into place only when its digest checked out, so a killed
//! pull leaves nothing half-made visible (and `tmp/` is emptied by the next deleter).

use super::digest::Digest;
use super::reference::Ref;
use anyhow::{Context, anyhow, bail};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One image, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:<hex>` of its config: Docker's IMAGE ID.
    pub id: String,
    /// Full references that name it: `docker.io/library/alpine:latest`.
    pub tags: Vec<String>,
    /// `repository@sha256:...` of the manifest (or index) it was pulled by.
    pub digests: Vec<String>,
    /// The layers' diff_ids, bottom first, as the config lists them.
    pub layers: Vec<String>,
    /// Bytes of the layers' files.
    pub size: u64,
    /// The config's `created`, RFC 3339, if it has one.
    pub created: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// When this store got it (ms since the epoch).
    pub added_ms: u64,
}

impl Image {
    /// The short id: the first 12 hex digits.
    pub fn short_id(&self) -> &str {
        let hex = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        &hex[..hex.len().min(12)]
    }
}

/// A layer's blob, as a manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// The file of a layer's blob in its home (and in a staging directory), and its descriptor's.
pub const BLOB: &str = "blob";
const BLOB_JSON: &str = "blob.json";

/// The build cache: one file a step, named by its key, holding the config digest it made.
pub const BUILD_CACHE: &str = "build-cache";

/// A held `flock`, released on drop.
pub struct Lock(#[allow(dead_code)] Flock<std::fs::File>);

/// The marker of a layer moved in whole.
const WHOLE: &str = "whole";

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The hex of a digest (sha256 or sha512), checked: it becomes a name in the store.
fn hex_of(digest: &str) -> anyhow::Result<String> {
    Ok(Digest::parse(digest)?.hex)
}

impl Store {
    /// The store of `MCT_ROOT` (made on first use).
    pub fn open() -> anyhow::Result<Store> {
        Store::at(&crate::state::volumes::private_root()?.join("image"))
    }

    /// The store of `MCT_ROOT` if it has been made: for whoever only looks (the dashboard's
    /// form lists the local images), which must not make a store on a host that has none.
    pub fn existing() -> Option<Store> {
        let dir = crate::state::volumes::root().join("image");
        dir.is_dir().then(Store::open).and_then(Result::ok)
    }

    /// The store in `dir`, made on first use, root's alone (0700, repaired if it was not: its
    /// layers hold image content no other host user may reach). Every `run --image` opens it:
    /// two `stat`s when it is whole (`tmp/` is made last), six `mkdir` only the first time.
    pub fn at(dir: &Path) -> anyhow::Result<Store> {
        const SUBDIRS: [&str; 6] = [
            "blobs/sha256",
            "layers",
            "l",
            "images",
            crate::state::pins::DIR,
            "tmp",
        ];
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the image store in {}", dir.display()))?;
        }
        crate::state::tree::make_private_dir(dir).with_context(|| {
            format!("cannot make the image store {} root's alone", dir.display())
        })?;
        let made = dir.join(SUBDIRS[SUBDIRS.len() - 1]).is_dir();
        for sub in SUBDIRS.iter().filter(|_| !made) {
            std::fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create the image store in {}", dir.display()))?;
        }
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self, name: &str, how: FlockArg) -> anyhow::Result<Lock> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(name))
            .with_context(|| format!("cannot open {name} in the image store"))?;
        Flock::lock(file, how)
            .map(Lock)
            .map_err(|(_, e)| anyhow!("cannot lock the image store: {}", e.desc()))
    }

    /// Held by pulls and starts: no layer is deleted meanwhile.
    pub fn using(&self) -> anyhow::Result<Lock> {
        self.lock("gc.lock", FlockArg::LockShared)
    }

    /// Held by deleters: nobody pulls or starts meanwhile.
    pub fn deleting(&self) -> anyhow::Result<Lock> {
        self.lock("gc.lock", FlockArg::LockExclusive)
    }

    fn records(&self) -> anyhow::Result<Lock> {
        self.lock("records.lock", FlockArg::LockExclusive)
    }

    // ---- blobs

    pub fn blob_path(&self, digest: &str) -> anyhow::Result<PathBuf> {
        let digest = Digest::parse(digest)?;
        Ok(self
            .dir
            .join("blobs")
            .join(digest.algorithm.name())
            .join(digest.hex))
    }

    /// Stores a small blob (a manifest, a config) by its digest, which it must match.
    pub fn put_blob(&self, digest: &str, bytes: &[u8]) -> anyhow::Result<()> {
        if !Digest::parse(digest)?.matches(bytes) {
            bail!("blob {digest} does not match its digest");
        }
        let path = self.blob_path(digest)?;
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).context("cannot make a blob directory")?;
            }
            write_atomic(&path, bytes)?;
        }
        Ok(())
    }

    pub fn blob(&self, digest: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.blob_path(digest)?;
        std::fs::read(&path).with_context(|| format!("blob {digest} is missing from the store"))
    }

    /// The image's config, parsed.
    pub fn config(&self, image: &Image) -> anyhow::Result<oci_spec::image::ImageConfiguration> {
        serde_json::from_slice(&self.blob(&image.id)?)
            .with_context(|| format!("image {}: bad config", image.short_id()))
    }

    // ---- layers

    fn layer_home(&self, diff_id: &str) -> anyhow::Result<PathBuf> {
        Ok(self.dir.join("layers").join(hex_of(diff_id)?))
    }

    /// The unpacked layer, if the store has it whole: its marker, written last before the
    /// layer was moved in, is there (a layer an older build half deleted is not reused).
    pub fn layer(&self, diff_id: &str) -> Option<PathBuf> {
        let home = self.layer_home(diff_id).ok()?;
        let diff = home.join("diff");
        (home.join(WHOLE).is_file() && diff.is_dir()).then_some(diff)
    }

    /// Moves `dir` (of the store) out of everyone's sight into `tmp/`, atomically; its
    /// removal is then the caller's, outside any lock. `None` if it was not there.
    fn move_out(&self, dir: &Path) -> Option<PathBuf> {
        let away = self.dir.join("tmp").join(format!(
            "deleting-{}",
            &crate::state::record::new_id()[..20]
        ));
        std::fs::rename(dir, &away).ok().map(|()| away)
    }

    /// The layer's blob and where its bytes are, if the store kept it (layers stored before
    /// blobs were kept have none).
    pub fn layer_blob(&self, diff_id: &str) -> Option<(Blob, PathBuf)> {
        let home = self.layer_home(diff_id).ok()?;
        let blob: Blob = serde_json::from_slice(&std::fs::read(home.join(BLOB_JSON)).ok()?).ok()?;
        let path = home.join(BLOB);
        let len = std::fs::symlink_metadata(&path).ok()?.len();
        (len == blob.size && self.layer(diff_id).is_some()).then_some((blob, path))
    }

    /// A short name for the layer, as overlay lower directories relative to [`Store::dir`].
    pub fn layer_link(&self, diff_id: &str) -> anyhow::Result<String> {
        let link = std::fs::read_to_string(self.layer_home(diff_id)?.join("link"))
            .with_context(|| format!("layer {diff_id} is missing from the store"))?;
        Ok(format!("l/{}", link.trim()))
    }

    /// An empty directory to unpack a layer into; [`Store::commit_layer`] moves it in.
    pub fn staging(&self) -> anyhow::Result<PathBuf> {
        let dir = self
            .dir
            .join("tmp")
            .join(&crate::state::record::new_id()[..20]);
        std::fs::create_dir_all(dir.join("diff")).context("cannot make a staging directory")?;
        Ok(dir)
    }

    /// The name of `dir` if it is a directory of the store's `tmp/` (a staging directory, a
    /// layer moved out): one plain name there.
    pub fn staged_name<'a>(&self, dir: &'a Path) -> Option<&'a str> {
        let name = dir.file_name()?.to_str()?;
        let plain = !name.starts_with('.') && !name.contains('/');
        (plain && dir.parent() == Some(&self.dir.join("tmp"))).then_some(name)
    }

    /// Moves a staged layer into place under its diff_id. Another pull that got there first
    /// wins; ours is discarded.
    pub fn commit_layer(&self, staged: &Path, diff_id: &str, size: u64) -> anyhow::Result<()> {
        let home = self.layer_home(diff_id)?;
        let link = &crate::state::record::new_id()[..26];
        std::fs::write(staged.join("link"), link)?;
        std::fs::write(staged.join("size"), size.to_string())?;
        // Last: the layer is whole.
        std::fs::write(staged.join(WHOLE), "")?;
        // The short link first (dangling until the rename): whoever finds the layer finds its
        // link too.
        let short = self.dir.join("l").join(link);
        std::os::unix::fs::symlink(
            Path::new("../layers").join(hex_of(diff_id)?).join("diff"),
            &short,
        )
        .context("cannot link the layer")?;
        let mut moved = std::fs::rename(staged, &home);
        if moved.is_err() && self.layer(diff_id).is_none() {
            // What sits there is not whole (an older build's half-deleted layer): out of the
            // way, and ours in its place.
            if let Some(away) = self.move_out(&home) {
                remove_dir(&away);
                moved = std::fs::rename(staged, &home);
            }
        }
        match moved {
            Ok(()) => Ok(()),
            // Another pull got there first: its copy stays, ours goes (our blob joins it if
            // it has none).
            Err(_) if self.layer(diff_id).is_some() => {
                let _ = std::fs::remove_file(&short);
                if self.layer_blob(diff_id).is_none()
                    && staged.join(BLOB_JSON).is_file()
                    && std::fs::rename(staged.join(BLOB), home.join(BLOB)).is_ok()
                {
                    let _ = std::fs::rename(staged.join(BLOB_JSON), home.join(BLOB_JSON));
                }
                remove_dir(staged);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&short);
                remove_dir(staged);
                Err(e).with_context(|| format!("cannot store layer {diff_id}"))
            }
        }
    }

    fn layer_size(&self, diff_id: &str) -> u64 {
        self.layer_home(diff_id)
            .ok()
            .and_then(|h| std::fs::read_to_string(h.join("size")).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The sum of the sizes of these layers.
    pub fn size_of(&self, layers: &[String]) -> u64 {
        layers.iter().map(|l| self.layer_size(l)).sum()
    }

    // ---- images

    fn record_path(&self, id: &str) -> anyhow::Result<PathBuf> {
        Ok(self
            .dir
            .join("images")
            .join(format!("{}.json", hex_of(id)?)))
    }

    /// Every image, oldest first.
    pub fn images(&self) -> Vec<Image> {
        let mut all: Vec<Image> = std::fs::read_dir(self.dir.join("images"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect();
        all.sort_by_key(|i: &Image| i.added_ms);
        all
    }

    /// The image `text` names: a reference (tag or digest), an id, or a unique id prefix.
    pub fn find(&self, text: &str) -> Option<Image> {
        let images = self.images();
        if let Ok(r) = Ref::parse(text) {
            let full = r.to_string();
            if let Some(i) = images
                .iter()
                .find(|i| i.tags.contains(&full) || i.digests.contains(&full))
            {
                return Some(i.clone());
            }
        }
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        if hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let matching: Vec<&Image> = images
                .iter()
                .filter(|i| {
                    i.id.strip_prefix("sha256:")
                        .unwrap_or(&i.id)
                        .starts_with(hex)
                })
                .collect();
            if matching.len() == 1 {
                return Some(matching[0].clone());
            }
        }
        None
    }

    /// Records `image` (merging tags and digests into an existing record of the same id) and
    /// moves each of its tags off any other image, which is removed if nothing names it then.
    pub fn save(&self, image: &Image) -> anyhow::Result<Image> {
        let _records = self.records()?;
        let mut saved = match std::fs::read(self.record_path(&image.id)?) {
            Ok(bytes) => serde_json::from_slice::<Image>(&bytes).unwrap_or_else(|_| image.clone()),
            Err(_) => image.clone(),
        };
        for tag in &image.tags {
            if !saved.tags.contains(tag) {
                saved.tags.push(tag.clone());
            }
        }
        for digest in &image.digests {
            if !saved.digests.contains(digest) {
                saved.digests.push(digest.clone());
            }
        }
        for mut other in self.images().into_iter().filter(|i| i.id != image.id) {
            let before = other.tags.len();
            other.tags.retain(|t| !image.tags.contains(t));
            if other.tags.len() != before {
                // Docker keeps an untagged image as <none>; so do we, until `image prune`.
                write_atomic(&self.record_path(&other.id)?, &serde_json::to_vec(&other)?)?;
            }
        }
        write_atomic(
            &self.record_path(&saved.id)?,
            &serde_json::to_vec_pretty(&saved)?,
        )?;
        Ok(saved)
    }

    /// Removes `tag` from its image; the image's record goes when no tag is left (or `all`).
    /// Returns the image's record as it was, and whether the record went.
    pub fn untag(&self, image: &Image, tag: Option<&str>) -> anyhow::Result<bool> {
        let _records = self.records()?;
        let path = self.record_path(&image.id)?;
        let mut current: Image = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)?,
            Err(_) => return Ok(true),
        };
        if let Some(tag) = tag {
            current.tags.retain(|t| t != tag);
            if !current.tags.is_empty() {
                write_atomic(&path, &serde_json::to_vec_pretty(&current)?)?;
                return Ok(false);
            }
        }
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        Ok(true)
    }

    // ---- what holds layers

    /// Records that container `id` is being started from `layers`: it holds them until its
    /// own record (whose spec names them) exists. Written while [`Store::using`] is held.
    pub fn pin(&self, id: &str, layers: &[String]) -> anyhow::Result<()> {
        write_atomic(
            &crate::state::pins::path(&self.dir, id),
            serde_json::to_string(layers)?.as_bytes(),
        )
    }

    /// Layers something holds: an image record, a container's record, or a recent pin.
    fn held_layers(&self) -> std::collections::HashSet<String> {
        let mut held: std::collections::HashSet<String> =
            self.images().into_iter().flat_map(|i| i.layers).collect();
        for record in crate::runtime::reclaim::list() {
            // Only containers of this store hold its layers (another `--root` may have the
            // same content under the same diff_id).
            if let Ok(spec) = crate::state::store::spec(&record.id)
                && let Some(image) = spec.image
                && (image.store.as_os_str().is_empty() || image.store == self.dir)
            {
                held.extend(image.layers);
            }
        }
        held.extend(
            self.cached_configs()
                .into_iter()
                .flat_map(|(_, layers)| layers),
        );
        for entry in std::fs::read_dir(self.dir.join(crate::state::pins::DIR))
            .into_iter()
            .flatten()
            .flatten()
        {
            let id = entry.file_name().to_string_lossy().to_string();
            let recorded = crate::state::store::exists(&id);
            if !recorded && crate::state::store::older_than_grace(&entry.path()) {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            if let Some(layers) = std::fs::read(entry.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Vec<String>>(&b).ok())
            {
                held.extend(layers);
            }
        }
        held
    }

    /// Removes build cache entries, as `docker system prune` does: with `all` every one, else
    /// the dangling ones, whose step no image is built on (its layers are no image's first
    /// ones: the steps of a removed image's build). What they alone held goes with the next
    /// [`Store::collect_layers`]. Returns how many went.
    pub fn prune_build_cache(&self, all: bool) -> usize {
        let images: Vec<Vec<String>> = self.images().into_iter().map(|i| i.layers).collect();
        let used = |layers: &[String]| images.iter().any(|image| image.starts_with(layers));
        let mut removed = 0;
        for entry in std::fs::read_dir(self.dir.join(BUILD_CACHE))
            .into_iter()
            .flatten()
            .flatten()
        {
            let made = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let layers = self.config_layers(made.trim());
            let dangling = layers.is_none_or(|layers| !used(&layers));
            if (all || dangling) && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// The layers config blob `id` lists, bottom first.
    fn config_layers(&self, id: &str) -> Option<Vec<String>> {
        let config: serde_json::Value = serde_json::from_slice(&self.blob(id).ok()?).ok()?;
        serde_json::from_value(config["rootfs"]["diff_ids"].clone()).ok()
    }

    /// The configs the build cache names, with their layers.
    fn cached_configs(&self) -> Vec<(String, Vec<String>)> {
        std::fs::read_dir(self.dir.join(BUILD_CACHE))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|id| {
                let id = id.trim().to_string();
                let layers = self.config_layers(&id)?;
                Some((id, layers))
            })
            .collect()
    }

    /// Deletes every layer nothing holds, and what killed pulls left in `tmp/`. Takes
    /// [`Store::deleting`]. Returns the bytes freed.
    ///
    /// Under the lock, what goes is only moved into `tmp/` (a rename: every reader sees a
    /// layer whole or not at all); the removal itself, which for a layer of 200,000 files
    /// takes seconds, happens after the lock is released, so no run waits behind it.
    pub fn collect_layers(&self) -> anyhow::Result<u64> {
        let gc = self.deleting()?;
        // What killed pulls and removals left: garbage while we hold the lock.
        let mut garbage: Vec<PathBuf> = std::fs::read_dir(self.dir.join("tmp"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        let held = self.held_layers();
        let mut freed = 0;
        for entry in std::fs::read_dir(self.dir.join("layers"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let diff_id = format!("sha256:{}", entry.file_name().to_string_lossy());
            if held.contains(&diff_id) {
                continue;
            }
            freed += self.layer_size(&diff_id);
            if let Ok(link) = std::fs::read_to_string(entry.path().join("link")) {
                let _ = std::fs::remove_file(self.dir.join("l").join(link.trim()));
            }
            garbage.extend(self.move_out(&entry.path()));
        }
        // Short links a killed pull made before its rename: they lead nowhere.
        for entry in std::fs::read_dir(self.dir.join("l"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if std::fs::metadata(entry.path()).is_err() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // Blobs of manifests and configs that no image names any more.
        let images = self.images();
        let keep: std::collections::HashSet<String> = images
            .iter()
            .flat_map(|i| {
                std::iter::once(i.id.clone()).chain(
                    i.digests
                        .iter()
                        .filter_map(|d| d.rsplit_once('@').map(|(_, d)| d.to_string())),
                )
            })
            .chain(images.iter().filter_map(|i| self.manifest_digest(i)))
            .chain(self.cached_configs().into_iter().map(|(id, _)| id))
            .collect();
        for algorithm in ["sha256", "sha512"] {
            for entry in std::fs::read_dir(self.dir.join("blobs").join(algorithm))
                .into_iter()
                .flatten()
                .flatten()
            {
                let digest = format!("{algorithm}:{}", entry.file_name().to_string_lossy());
                if !keep.contains(&digest) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        drop(gc);
        for dir in &garbage {
            remove_dir(dir);
        }
        Ok(freed)
    }

    /// The digest of the platform manifest recorded beside the image's config.
    fn manifest_digest(&self, image: &Image) -> Option<String> {
        std::fs::read_to_string(
            self.dir
                .join("images")
                .join(format!("{}.manifest", hex_of(&image.id).ok()?)),
        )
        .ok()
        .map(|s| s.trim().to_string())
    }

    /// The platform manifest the image came from (or was made with), and its bytes.
    pub fn manifest(&self, image: &Image) -> Option<(String, Vec<u8>)> {
        let digest = self.manifest_digest(image)?;
        let bytes = self.blob(&digest).ok()?;
        Some((digest, bytes))
    }

    /// Notes which manifest the image came from (kept with its blobs by `collect_layers`).
    pub fn set_manifest(&self, image_id: &str, manifest_digest: &str) -> anyhow::Result<()> {
        let hex = hex_of(image_id)?;
        write_atomic(
            &self.dir.join("images").join(format!("{hex}.manifest")),
            manifest_digest.as_bytes(),
        )
    }
}

/// Records the descriptor of the blob beside a staged layer (its bytes are in [`BLOB`]).
pub fn describe_blob(staged: &Path, blob: &Blob) -> anyhow::Result<()> {
    std::fs::write(staged.join(BLOB_JSON), serde_json::to_vec(blob)?)
        .context("cannot describe a layer blob")
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes a directory tree of ours in the store's `tmp/` (a layer moved out, a staging
/// directory), of any depth, logging nothing: a leftover is collected by the next deleter.
/// A rootless user's layers hold files of their subordinate ids, which only root of their
/// namespace may remove: what is left goes to [`Task::RemoveStaged`].
///
/// [`Task::RemoveStaged`]: crate::state::as_root::Task::RemoveStaged
pub fn remove_dir(dir: &Path) {
    use crate::state::as_root::{self, Task};
    let removed = super::remove::remove_path(dir);
    let in_tmp = dir.parent().and_then(Path::file_name) == Some(std::ffi::OsStr::new("tmp"));
    if removed.is_err()
        && in_tmp
        && as_root::needed()
        && let Some(name) = dir.file_name()
    {
        as_root::run(Task::RemoveStaged, name);
    }
}

/// [`crate::state::as_root::Task::RemoveStaged`], as root of the user's namespace: removes
/// `name` from the user's image store's `tmp/`.
pub fn remove_staged_task(name: &std::ffi::OsStr) -> anyhow::Result<()> {
    let store = Store::open()?;
    let dir = store.dir.join("tmp").join(name);
    if store.staged_name(&dir).is_none() {
        bail!("{} is not in the image store's tmp/", dir.display());
    }
    super::remove::remove_path(&dir).with_context(|| format!("cannot remove {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked() {
        assert!(hex_of(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(hex_of("sha256:../../etc").is_err());
        assert!(hex_of(&format!("sha512:{}", "a".repeat(128))).is_ok());
        assert!(hex_of(&format!("sha384:{}", "a".repeat(96))).is_err());
        assert!(hex_of(&format!("sha256:{}", "A".repeat(64))).is_err());
    }
}
