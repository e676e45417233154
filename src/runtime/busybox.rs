//! `my-container-tui rootfs busybox DIR`: a minimal root filesystem from the host's static
//! busybox, so `--rootfs` can be tried without any image.

use super::exit::{NOT_FOUND, RUNTIME_ERROR};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a rootfs could not be built, with the exit code it deserves.
#[derive(Debug)]
pub struct BuildError {
    message: String,
    code: i32,
}

impl BuildError {
    pub fn exit_code(&self) -> i32 {
        self.code
    }
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(message: String) -> BuildError {
    BuildError {
        message,
        code: RUNTIME_ERROR,
    }
}

/// Where the host's busybox is, if it is a static one (a dynamic one would not run inside).
fn static_busybox() -> Result<PathBuf, BuildError> {
    let hint = "install a static busybox first (Debian, Ubuntu: apt-get install busybox-static)";
    let found = [
        "/bin/busybox",
        "/usr/bin/busybox",
        "/sbin/busybox",
        "/usr/sbin/busybox",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .ok_or_else(|| BuildError {
        message: format!("no busybox on this host: {hint}"),
        code: NOT_FOUND,
    })?;
    let elf = std::fs::read(&found).map_err(|e| err(format!("{}: {e}", found.display())))?;
    // A dynamically linked ELF names its interpreter in a PT_INTERP header; look for the path.
    if elf
        .windows(b"/lib64/ld-linux".len())
        .any(|w| w == b"/lib64/ld-linux")
        || elf.windows(b"/lib/ld-".len()).any(|w| w == b"/lib/ld-")
    {
        return Err(BuildError {
            message: format!("{} is dynamically linked: {hint}", found.display()),
            code: NOT_FOUND,
        });
    }
    Ok(found)
}

/// Builds the rootfs in `dir` (created; it must be empty if it exists).
pub fn build(dir: &Path) -> Result<Built, BuildError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(err(format!("{} exists and is not empty", dir.display())));
    }
    let busybox = static_busybox()?;
    let mut applets = 0;
    let io = |what: &Path, e: std::io::Error| err(format!("{}: {e}", what.display()));
    for sub in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "home",
        "var", "run",
    ] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| io(&dir.join(sub), e))?;
    }
    let target = dir.join("bin/busybox");
    std::fs::copy(&busybox, &target).map_err(|e| io(&target, e))?;
    let list = Command::new(&busybox)
        .arg("--list-full")
        .output()
        .map_err(|e| io(&busybox, e))?;
    for applet in String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|l| !l.is_empty())
    {
        let link = dir.join(applet);
        if link.file_name().is_some_and(|n| n == "busybox") || link.exists() {
            continue;
        }
        // Absolute: it resolves inside the container, where DIR is `/`.
        std::os::unix::fs::symlink("/bin/busybox", &link).map_err(|e| io(&link, e))?;
        applets += 1;
    }
    let files = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(|e| io(&dir.join(name), e))?;
    }
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777));
    Ok(Built { busybox, applets })
}

/// What [`build`] made: which busybox it copied, and how many applets link to it.
pub struct Built {
    pub busybox: std::path::PathBuf,
    pub applets: usize,
}
