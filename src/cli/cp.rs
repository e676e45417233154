//! `cp [-a] CONTAINER:SRC DEST|-` and `cp SRC|- CONTAINER:DEST`: files in and out of a running
//! container, as Docker's `cp` copies them (a tar stream with `-`); the copying itself is
//! [`crate::runtime::copy`]'s, hostile either way.

use super::error::{CliError, Outcome};
use crate::runtime::copy::{self, Into};
use crate::runtime::rootpath::InRoot;
use crate::state::Status;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Into a container: keep the archive's owners (else the container's root owns what is
    /// copied)
    #[arg(short, long)]
    archive: bool,
    /// CONTAINER:PATH, a host path, or - (a tar stream on stdin)
    src: String,
    /// CONTAINER:PATH, a host path, or - (a tar stream on stdout)
    dest: String,
}

/// `CONTAINER:PATH` split, when `text` is one (a host path with a `:` is written `./a:b`).
fn in_container(text: &str) -> Option<(&str, &str)> {
    if text.starts_with(['/', '.']) {
        return None;
    }
    text.split_once(':').filter(|(name, _)| !name.is_empty())
}

/// The running container's root, as its PID 1 sees it.
fn root_of(name: &str) -> Result<InRoot, CliError> {
    let record = crate::runtime::reclaim::find(name)?;
    let init = record
        .init
        .filter(|p| record.status == Status::Running && p.alive())
        .ok_or_else(|| {
            CliError::msg(format!(
                "container {} is not running: cp reaches its files through its running root (start it first)",
                record.name
            ))
        })?;
    // A rootless container's files are its users', the user's subordinate ids: reached as
    // root of its user namespace (archives keep their owners as they would for root's).
    let pidfd = crate::runtime::pidfd::open(init)
        .map_err(|_| CliError::msg(format!("container {} is not running", record.name)))?;
    crate::runtime::rootless::join_container(&pidfd)?;
    let root = InRoot::of_process(init.pid)?;
    // Opened, then checked to be that process's still: a PID taken over is no container.
    if !init.alive() {
        return Err(CliError::msg(format!(
            "container {} is not running",
            record.name
        )));
    }
    Ok(root)
}

/// Where in `root` an entry named by the source goes: into `dest` when it is a directory,
/// else into its parent under `dest`'s own name.
fn destination(root: &InRoot, dest: &Path) -> (PathBuf, Option<std::ffi::OsString>) {
    let is_dir = root
        .lookup(dest, true)
        .ok()
        .and_then(|h| nix::sys::stat::fstat(&h).ok())
        .is_some_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
    match (is_dir, dest.file_name()) {
        (false, Some(name)) => (
            dest.parent().unwrap_or(Path::new("/")).to_path_buf(),
            Some(name.to_os_string()),
        ),
        _ => (dest.to_path_buf(), None),
    }
}

/// Copies `path` in `from` into `dest` in `to`, through a pipe: one thread archives, this
/// one extracts.
fn pipe(from: &InRoot, path: &Path, to: &InRoot, dest: &Path, into: Into) -> anyhow::Result<()> {
    let (dir, rename) = destination(to, dest);
    let (reader, writer) = std::io::pipe()?;
    std::thread::scope(|scope| {
        let archiving = scope.spawn(move || copy::archive(from, path, writer));
        let extracted = copy::extract(to, &dir, rename.as_deref(), reader, into);
        let archived = archiving
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the archiving thread panicked")));
        // The archive's own error first: an extraction error may only be its broken pipe.
        archived.and(extracted)
    })
}

fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

pub fn run(args: &Args) -> Outcome {
    let host = || InRoot::open(Path::new("/"), Path::new("/"));
    let done = match (in_container(&args.src), in_container(&args.dest)) {
        (Some(_), Some(_)) => {
            return Err(CliError::msg(
                "copying between containers is not supported: copy to the host, then in",
            ));
        }
        (None, None) => {
            return Err(CliError::msg(
                "one of the two must be CONTAINER:PATH (a host path with a colon: ./a:b)",
            ));
        }
        (Some((name, path)), None) => {
            let root = root_of(name)?;
            let path = Path::new("/").join(path);
            match args.dest.as_str() {
                "-" => copy::archive(&root, &path, std::io::stdout().lock()),
                dest => pipe(&root, &path, &host()?, &absolute(dest), Into::Host),
            }
        }
        (None, Some((name, dest))) => {
            let root = root_of(name)?;
            let dest = Path::new("/").join(dest);
            let into = Into::Container {
                archive: args.archive,
            };
            match args.src.as_str() {
                "-" => copy::extract(&root, &dest, None, std::io::stdin().lock(), into),
                src => pipe(&host()?, &absolute(src), &root, &dest, into),
            }
        }
    };
    done.map(|()| 0)
        .map_err(|e| CliError::msg(crate::printable::escaped(&format!("{e:#}"))))
}

/// `export CONTAINER`: its root, flattened, as a tar stream on stdout (or `-o FILE`).
pub fn export(container: &str, output: Option<&Path>) -> Outcome {
    let root = root_of(container)?;
    let done = match output {
        Some(path) => std::fs::File::create(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            .and_then(|file| copy::export(&root, std::io::BufWriter::new(file))),
        None => {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                return Err(CliError::msg(
                    "export writes a tar stream: redirect it to a file, or give -o FILE",
                ));
            }
            copy::export(&root, std::io::stdout().lock())
        }
    };
    done.map(|()| 0)
        .map_err(|e| CliError::msg(crate::printable::escaped(&format!("{e:#}"))))
}
