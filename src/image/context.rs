//! A build context: the directory `build` reads `COPY` and `ADD` sources from, with its
//! `.dockerignore`. It is hostile input (a cloned repository, a download): a source is
//! resolved by the kernel inside the context (`openat2(RESOLVE_IN_ROOT)`, as
//! [`crate::runtime::rootpath`] does for a container's root), so no link and no `..` reaches
//! the host's files, a source that names a link is copied as that link, and everything below
//! a source directory goes through [`walk`], which never follows one.

use crate::runtime::rootpath::{self, InRoot};
use crate::runtime::walk;
use anyhow::{Context as _, anyhow, bail};
use nix::fcntl::AtFlags;
use nix::sys::stat::{SFlag, fstatat};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// `.dockerignore`: patterns in order, the last that matches a path deciding.
#[derive(Debug, Default)]
pub struct Ignore {
    rules: Vec<(bool, Vec<String>)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (negate, pattern) = match l.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, l),
                };
                let parts = pattern
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != ".")
                    .map(str::to_string)
                    .collect();
                (negate, parts)
            })
            .collect();
        Ignore { rules }
    }

    /// Whether `rel` (relative to the context) is left out: it or a directory above it
    /// matches the last rule that matches any of them.
    pub fn excludes(&self, rel: &Path) -> bool {
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let mut excluded = false;
        for (negate, pattern) in &self.rules {
            let hit = (1..=parts.len()).any(|n| matches_parts(pattern, &parts[..n]));
            if hit {
                excluded = !negate;
            }
        }
        excluded
    }
}

/// A path's components against a pattern's: `**` matches any number of components.
fn matches_parts(pattern: &[String], parts: &[String]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=parts.len()).any(|skip| matches_parts(rest, &parts[skip..]))
        }
        Some((first, rest)) => parts
            .split_first()
            .is_some_and(|(p, more)| glob(first, p) && matches_parts(rest, more)),
    }
}

/// One component against a glob: `*` any run of characters, `?` one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The context.
pub struct Context {
    root: InRoot,
    ignore: Ignore,
}

/// Where a source lands: its path in the image, relative (`app/main.c`).
fn rel(path: &Path) -> PathBuf {
    rootpath::plain_relative(path).unwrap_or_default()
}

impl Context {
    pub fn open(dir: &Path) -> anyhow::Result<Context> {
        if !dir.is_dir() {
            bail!("the build context {} is not a directory", dir.display());
        }
        let root = InRoot::open(dir, dir)?;
        let ignore = match root.read_file(Path::new(".dockerignore")) {
            Ok(file) => {
                let mut text = String::new();
                file.take(1 << 20)
                    .read_to_string(&mut text)
                    .context(".dockerignore")?;
                Ignore::parse(&text)
            }
            Err(_) => Ignore::default(),
        };
        Ok(Context { root, ignore })
    }

    /// An image's or a stage's root as a context (`COPY --from`): no `.dockerignore` of its own.
    pub fn of_root(dir: &Path) -> anyhow::Result<Context> {
        Ok(Context {
            root: InRoot::open(dir, dir)?,
            ignore: Ignore::default(),
        })
    }

    /// A file of the context, read whole (the Dockerfile), at most 1 MiB.
    pub fn read(&self, name: &Path) -> anyhow::Result<String> {
        let file = self
            .root
            .read_file(name)
            .map_err(|e| anyhow!("cannot read {}: {e:#}", name.display()))?;
        let mut text = String::new();
        file.take(1 << 20)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {}", name.display()))?;
        Ok(text)
    }

    /// The sources `src` names: a path in the context, its last component possibly a glob
    /// (`*.txt`). `..` out of the context is refused; what `.dockerignore` leaves out is not
    /// there.
    pub fn sources(&self, src: &str) -> anyhow::Result<Vec<PathBuf>> {
        let clean = rootpath::plain_relative(Path::new(src)).ok_or_else(|| {
            anyhow!("{src}: a source outside the build context is refused (no '..')")
        })?;
        let name = clean.file_name().map(|n| n.to_string_lossy().into_owned());
        let found = match name {
            Some(pattern) if pattern.contains(['*', '?']) => {
                let parent = clean.parent().unwrap_or(Path::new(""));
                let dir = std::os::fd::OwnedFd::from(
                    self.root
                        .lookup(&Path::new("/").join(parent), true)
                        .map_err(|e| anyhow!("{src}: {e}"))?,
                );
                walk::names(&dir, parent)?
                    .into_iter()
                    .filter(|n| glob(&pattern, &n.to_string_lossy()))
                    .map(|n| parent.join(n))
                    .collect()
            }
            _ => vec![clean],
        };
        let found: Vec<PathBuf> = found
            .into_iter()
            .filter(|p| p.as_os_str().is_empty() || !self.ignore.excludes(p))
            .collect();
        if found.is_empty() {
            bail!("{src}: no such file or directory in the build context");
        }
        Ok(found)
    }

    /// The layer tar of `COPY sources dest`: a directory source's contents into `dest`, a
    /// file (or link) into `dest/NAME` when `into_dir`, else as `dest`. Owned by `owner`
    /// (root without `--chown`), modes and mtimes as they are.
    pub fn copy(
        &self,
        sources: &[PathBuf],
        dest: &Path,
        into_dir: bool,
        owner: (u32, u32),
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let mut tar =
            walk::Tar::new(out, walk::Form::Layer { clamp: None }).owned_by(owner.0, owner.1);
        for source in sources {
            let (parent, name) =
                crate::runtime::copy::split(&self.root, &Path::new("/").join(source))?;
            let st = fstatat(&parent, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .map_err(|e| anyhow!("{}: {}", source.display(), e.desc()))?;
            let is_dir = walk::kind(&st) == SFlag::S_IFDIR;
            let at = match (is_dir, into_dir) {
                (true, _) | (false, false) => rel(dest),
                (false, true) => rel(dest).join(source.file_name().unwrap_or(name.as_os_str())),
            };
            let ignore = &self.ignore;
            let mut visit = |e: &walk::Entry| {
                let inside = e.path.strip_prefix(&at).unwrap_or(e.path);
                if !inside.as_os_str().is_empty() && ignore.excludes(&source.join(inside)) {
                    return Ok(());
                }
                tar.entry(e)
            };
            if at.as_os_str().is_empty() {
                // A directory into the image's root: its contents, not the root's own entry.
                let dir = if name == "." {
                    walk::open_dir(&parent, std::ffi::OsStr::new("."), source)?
                } else {
                    walk::open_dir(&parent, &name, source)?
                };
                walk::below(&dir, Path::new(""), None, &mut visit)?;
            } else if name == "." {
                let dir = walk::open_dir(&parent, std::ffi::OsStr::new("."), source)?;
                visit(&walk::Entry {
                    parent: &parent,
                    name: &name,
                    path: &at,
                    st: &st,
                    dir: Some(&dir),
                    mount_point: false,
                })?;
                walk::below(&dir, &at, None, &mut visit)?;
            } else {
                walk::from(&parent, &name, &at, None, &mut visit)?;
            }
        }
        tar.finish().map(drop)
    }

    /// Whether `source` is an archive `ADD` unpacks (tar, plain or compressed), told by its
    /// bytes, not its name.
    pub fn is_archive(&self, source: &Path) -> bool {
        let Ok(mut file) = self.root.read_file(&Path::new("/").join(source)) else {
            return false;
        };
        let mut head = [0u8; 512];
        let n = file.read(&mut head).unwrap_or(0);
        head[..n].starts_with(&[0x1f, 0x8b])
            || head[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (n >= 262 && &head[257..262] == b"ustar")
    }

    /// The layer tar of `ADD archive dest`: the archive's entries below `dest`, each name
    /// cleaned (`..` refused), hard links kept inside `dest`.
    pub fn unpack_archive(
        &self,
        source: &Path,
        dest: &Path,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let file = self.root.read_file(&Path::new("/").join(source))?;
        let input = super::unpack::decompressed(file)?;
        let mut archive = tar::Archive::new(input);
        let mut tar = walk::Tar::new(out, walk::Form::Layer { clamp: None });
        let base = rel(dest);
        for entry in archive.entries().context("not a tar archive")? {
            let mut entry =
                entry.with_context(|| format!("{}: not a valid tar archive", source.display()))?;
            let name = entry
                .path()
                .context("an archive entry's name")?
                .into_owned();
            let clean = rootpath::plain_relative(&name).ok_or_else(|| {
                anyhow!(
                    "{}: entry {:?} leaves its directory ('..')",
                    source.display(),
                    name
                )
            })?;
            let path = base.join(&clean);
            if path.as_os_str().is_empty() {
                continue;
            }
            let mut header = entry.header().clone();
            let builder = tar.builder();
            match header.entry_type() {
                tar::EntryType::Link => {
                    let target = entry
                        .link_name()?
                        .and_then(|t| rootpath::plain_relative(&t))
                        .ok_or_else(|| {
                            anyhow!("{}: a hard link out of the archive", source.display())
                        })?;
                    builder.append_link(&mut header, &path, base.join(target))?;
                }
                tar::EntryType::Symlink => {
                    let target = entry.link_name()?.unwrap_or_default().into_owned();
                    builder.append_link(&mut header, &path, target)?;
                }
                tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
                _ => builder.append_data(&mut header, &path, &mut entry)?,
            }
        }
        tar.finish().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_rules_as_docker_reads_them() {
        let ignore = Ignore::parse("# comment\n*.log\nbuild/\n**/*.tmp\n!keep.log\nsecret?\n");
        for (path, out) in [
            ("a.log", true),
            ("keep.log", false),
            ("sub/a.log", false),
            ("build", true),
            ("build/x/y", true),
            ("deep/er/x.tmp", true),
            ("x.tmp", true),
            ("secret1", true),
            ("secret12", false),
            ("src/main.c", false),
        ] {
            assert_eq!(ignore.excludes(Path::new(path)), out, "{path}");
        }
        assert!(glob("*.t?t", "a.txt") && !glob("*.txt", "a.tx") && glob("*", ""));
    }
}
