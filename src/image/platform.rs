//! Platforms (`os/arch[/variant]`, as OCI image indexes name them) and whether this host can
//! run one: natively, or through a binfmt_misc handler such as qemu-user-static's.

pub use crate::spec::platform::Platform;
use anyhow::bail;
use std::path::{Path, PathBuf};

impl Platform {
    /// The kernel's (and qemu's) name of the architecture.
    fn machine(&self) -> &str {
        match self.arch.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            "386" => "i386",
            "arm" => "arm",
            other => other,
        }
    }

    /// How this host runs a program of this platform: natively (`None`), or through a
    /// binfmt_misc handler; an error says what is missing and how to get it.
    pub fn runner(&self) -> anyhow::Result<Option<Emulator>> {
        let host = Platform::host();
        if self.os != "linux" {
            bail!("image platform {self} cannot run here: this host runs linux containers only");
        }
        let native = self.arch == host.arch
            || (host.arch == "amd64" && self.arch == "386")
            || (host.arch == "arm64" && self.arch == "arm");
        if native {
            return Ok(None);
        }
        match Emulator::find(self.machine()) {
            Some(emulator) => Ok(Some(emulator)),
            None => bail!(
                "image platform {self} cannot run on this {host} host: no binfmt_misc handler \
                 for {machine} (install qemu-user-static and register it, e.g. `apt-get install \
                 qemu-user-static` with binfmt-support, or `systemd-binfmt`; check \
                 /proc/sys/fs/binfmt_misc/qemu-{machine})",
                machine = self.machine()
            ),
        }
    }
}

/// A binfmt_misc handler that runs another architecture's programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emulator {
    /// The interpreter's path, as the kernel will look it up.
    pub interpreter: PathBuf,
    /// The `F` flag: the kernel opened the interpreter when it was registered, so it works in
    /// any mount namespace. Without it, the container must see the interpreter at its path.
    pub fix_binary: bool,
}

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

impl Emulator {
    /// The enabled handler for `machine` (`aarch64`, ...), qemu's naming (`qemu-aarch64`).
    fn find(machine: &str) -> Option<Emulator> {
        if std::fs::read_to_string(Path::new(BINFMT).join("status"))
            .ok()?
            .trim()
            != "enabled"
        {
            return None;
        }
        let text =
            std::fs::read_to_string(Path::new(BINFMT).join(format!("qemu-{machine}"))).ok()?;
        Emulator::parse(&text)
    }

    /// One handler's `/proc/sys/fs/binfmt_misc/NAME` text.
    fn parse(text: &str) -> Option<Emulator> {
        let mut lines = text.lines();
        if lines.next()? != "enabled" {
            return None;
        }
        let mut interpreter = None;
        let mut flags = "";
        for line in text.lines() {
            if let Some(i) = line.strip_prefix("interpreter ") {
                interpreter = Some(PathBuf::from(i));
            } else if let Some(f) = line.strip_prefix("flags: ") {
                flags = f;
            }
        }
        Some(Emulator {
            interpreter: interpreter?,
            fix_binary: flags.contains('F'),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert_eq!(Platform::parse("aarch64").unwrap(), p);
        assert_eq!(
            Platform::parse("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert!(Platform::parse("linux//").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(p.matches("linux", "arm64", None));
        assert!(!p.matches("linux", "amd64", None));
    }

    #[test]
    fn binfmt_entries() {
        let text = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c46\n";
        let e = Emulator::parse(text).unwrap();
        assert!(e.fix_binary);
        assert_eq!(
            e.interpreter,
            Path::new("/usr/libexec/qemu-binfmt/aarch64-binfmt-P")
        );
        assert_eq!(Emulator::parse("disabled\ninterpreter /x\nflags: \n"), None);
        assert!(
            !Emulator::parse("enabled\ninterpreter /x\nflags: P\n")
                .unwrap()
                .fix_binary
        );
    }
}
