//! Layers made here (`commit`, `build`): a tar stream, written once, goes two ways at the same
//! time: compressed and hashed into the blob a registry or an archive gets, and through the
//! one unpacker ([`super::unpack`]) into the store's layer directory that containers run on.
//! So the upper directory (or the build context) is read once, the digest and the diff_id come
//! out of that one pass, and the stored layer is exactly what the blob says: nothing is
//! unpacked again from the blob, and nothing reaches the store but through the hardened path
//! every pulled layer takes.

use super::store::{Blob, Store, remove_dir};
use super::unpack;
use anyhow::{Context, anyhow, bail};
use sha2::{Digest as _, Sha256};
use std::io::{self, Read, Write};
use std::sync::mpsc;

/// How a layer made here is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    Gzip,
    Zstd,
}

impl Compression {
    pub fn parse(text: &str) -> anyhow::Result<Compression> {
        match text {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            other => bail!("unknown compression {other:?} (gzip or zstd)"),
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// A layer made and stored.
#[derive(Debug, Clone)]
pub struct Made {
    pub diff_id: String,
    pub blob: Blob,
    /// Bytes of its regular files.
    pub size: u64,
}

/// `SOURCE_DATE_EPOCH`, when set: mtimes and `created` are clamped to it, so the same content
/// gives the same digests on any day.
pub fn source_date_epoch() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Writes a counted, hashed stream.
struct Counted<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type BlobFile = Counted<io::BufWriter<std::fs::File>>;

enum Encoder {
    Gzip(flate2::write::GzEncoder<BlobFile>),
    Zstd(zstd::Encoder<'static, BlobFile>),
}

impl Encoder {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Gzip(e) => e,
            Encoder::Zstd(e) => e,
        }
    }
    fn finish(self) -> io::Result<BlobFile> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

/// The tar stream, to the encoder and to the unpacker.
struct Tee {
    encoder: Encoder,
    unpacker: Option<mpsc::SyncSender<Vec<u8>>>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.encoder.writer().write_all(buf)?;
        if let Some(tx) = &self.unpacker
            && tx.send(buf.to_vec()).is_err()
        {
            // The unpacker stopped (it says why when joined).
            return Err(io::Error::other(UNPACKER_GONE));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.encoder.writer().flush()
    }
}

/// The unpacker's end of the tee.
struct Chunks {
    rx: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => (self.current, self.at) = (chunk, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Makes a layer of the store from the tar stream `write` writes: compressed into its blob,
/// unpacked into its directory, both at once. A layer the store has already (same diff_id) is
/// kept, and ours dropped.
pub fn make(
    store: &Store,
    compression: Compression,
    write: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<()>,
) -> anyhow::Result<Made> {
    let staged = store.staging()?;
    match make_in(&staged, compression, write) {
        Ok(made) => {
            store.commit_layer(&staged, &made.diff_id, made.size)?;
            Ok(made)
        }
        Err(e) => {
            remove_dir(&staged);
            Err(e)
        }
    }
}

fn make_in(
    staged: &std::path::Path,
    compression: Compression,
    write: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<()>,
) -> anyhow::Result<Made> {
    let file = std::fs::File::create(staged.join(super::store::BLOB))
        .context("cannot write a layer blob")?;
    let counted = Counted {
        inner: io::BufWriter::with_capacity(256 << 10, file),
        hash: Sha256::new(),
        bytes: 0,
    };
    let encoder = match compression {
        Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
            counted,
            flate2::Compression::new(GZIP_LEVEL),
        )),
        Compression::Zstd => Encoder::Zstd(zstd::Encoder::new(counted, 3)?),
    };
    let (tx, rx) = mpsc::sync_channel(8);
    let dir = staged.join("diff");
    let unpacker = std::thread::spawn(move || {
        unpack::apply_tar(
            Chunks {
                rx,
                current: Vec::new(),
                at: 0,
            },
            &dir,
        )
    });
    let mut tee = io::BufWriter::with_capacity(
        256 << 10,
        Tee {
            encoder,
            unpacker: Some(tx),
        },
    );
    let written = write(&mut tee).and_then(|()| tee.flush().context("cannot write the layer"));
    // Whatever happened, the unpacker sees the stream end (or its cut) and is joined.
    let encoder = match tee.into_inner() {
        Ok(Tee { encoder, unpacker }) => {
            drop(unpacker);
            Some(encoder)
        }
        Err(_) => None,
    };
    let applied = unpacker
        .join()
        .map_err(|_| anyhow!("the layer's unpacker panicked"))?;
    let applied = match (written, applied) {
        (Ok(()), Ok(applied)) => applied,
        (Ok(()), Err(unpacking)) => return Err(unpacking.context("cannot store the layer")),
        // The unpacker stopped first: its reason is the one to give.
        (Err(writing), Err(unpacking)) if format!("{writing:#}").contains(UNPACKER_GONE) => {
            return Err(unpacking.context("cannot store the layer"));
        }
        (Err(writing), _) => return Err(writing),
    };
    let encoder = encoder.ok_or_else(|| anyhow!("cannot write the layer"))?;
    let mut blob = encoder.finish().context("cannot compress the layer")?;
    blob.flush().context("cannot write a layer blob")?;
    let made = Made {
        diff_id: applied.diff_id,
        blob: Blob {
            media_type: compression.media_type().to_string(),
            digest: format!("sha256:{}", unpack::hex(&blob.hash.finalize())),
            size: blob.bytes,
        },
        size: applied.size,
    };
    super::store::describe_blob(staged, &made.blob)?;
    Ok(made)
}

/// A reader that keeps a hashed copy of what passes through it.
struct Keeping<R> {
    inner: R,
    copy: Counted<io::BufWriter<std::fs::File>>,
    head: Vec<u8>,
}

impl<R: Read> Read for Keeping<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.head.len() < 4 {
            let more = (4 - self.head.len()).min(n);
            self.head.extend_from_slice(&buf[..more]);
        }
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Applies a layer blob as a registry or an archive gives it (plain, gzip or zstd) to the
/// staged layer's `diff/`, keeping the blob beside it, as it came, for push and save; returns
/// what the unpacker found and the blob's descriptor (its media type told by its first bytes).
pub fn apply_keeping(
    input: impl Read,
    staged: &std::path::Path,
) -> anyhow::Result<(unpack::Applied, Blob)> {
    let file = std::fs::File::create(staged.join(super::store::BLOB))
        .context("cannot keep the layer's blob")?;
    let mut input = Keeping {
        inner: input,
        copy: Counted {
            inner: io::BufWriter::with_capacity(256 << 10, file),
            hash: Sha256::new(),
            bytes: 0,
        },
        head: Vec::new(),
    };
    let applied = unpack::apply(&mut input, &staged.join("diff"))?;
    // What the decompressor left unread (a trailer) belongs to the blob too.
    io::copy(&mut input, &mut io::sink()).context("cannot read the layer")?;
    input.copy.flush().context("cannot keep the layer's blob")?;
    let media_type = if input.head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip.media_type()
    } else if input.head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd.media_type()
    } else {
        "application/vnd.oci.image.layer.v1.tar"
    };
    let blob = Blob {
        media_type: media_type.to_string(),
        digest: format!("sha256:{}", unpack::hex(&input.copy.hash.finalize())),
        size: input.copy.bytes,
    };
    super::store::describe_blob(staged, &blob)?;
    Ok((applied, blob))
}

/// What the tee says when the unpacker has stopped reading.
const UNPACKER_GONE: &str = "the layer could not be unpacked";

/// gzip's level for layers made here: Go's and Docker's default, the size registries and
/// users expect. (Level 1 writes ~3x faster and ~12% bigger; the build cache keeps a layer
/// once, so its cost is paid once.)
const GZIP_LEVEL: u32 = 6;
