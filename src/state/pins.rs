//! Pins: while a container is being started from an image, a file `pins/<id>` in the image
//! store names the layers it uses, so a concurrent `rmi` or prune keeps them; once the
//! container's record exists (its spec names the layers) the pin goes. The image store writes
//! and reads pins; the record's life decides when one is dropped, so both find them here.

use std::path::{Path, PathBuf};

/// The pins' directory in an image store.
pub const DIR: &str = "pins";

/// The image store containers use unless `--root` says otherwise.
pub fn default_store() -> PathBuf {
    super::volumes::root().join("image")
}

/// Container `id`'s pin in image store `store` (empty: the default one).
pub fn path(store: &Path, id: &str) -> PathBuf {
    let store = match store.as_os_str().is_empty() {
        true => default_store(),
        false => store.to_path_buf(),
    };
    store.join(DIR).join(id)
}

/// Drops container `id`'s pin in `store` (empty: the default one), if it has one.
pub fn remove(store: &Path, id: &str) {
    let _ = std::fs::remove_file(path(store, id));
}
