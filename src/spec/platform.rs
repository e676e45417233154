//! Platforms (`os/arch[/variant]`, as OCI image indexes name them), as data: `--platform`.
//! Whether this host can run one is [`crate::image::platform`]'s question.

use anyhow::bail;

/// A platform an image is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// `os/arch[/variant]`, or just `arch` (Linux is assumed). Go's names (`amd64`, `arm64`);
    /// the kernel's (`x86_64`, `aarch64`) are taken too.
    pub fn parse(text: &str) -> anyhow::Result<Platform> {
        let parts: Vec<&str> = text.split('/').collect();
        let (os, arch, variant) = match parts[..] {
            [arch] => ("linux", arch, None),
            [os, arch] => (os, arch, None),
            [os, arch, variant] => (os, arch, Some(variant)),
            _ => bail!("invalid platform {text:?}: expected os/arch[/variant]"),
        };
        if os.is_empty() || arch.is_empty() || variant.is_some_and(str::is_empty) {
            bail!("invalid platform {text:?}: expected os/arch[/variant]");
        }
        let arch = match arch {
            "x86_64" | "x86-64" => "amd64",
            "aarch64" => "arm64",
            "i386" | "i686" => "386",
            other => other,
        };
        let mut platform = Platform {
            os: os.to_string(),
            arch: arch.to_string(),
            variant: variant.map(str::to_string),
        };
        // arm64's only variant is v8: saying it or not is the same platform.
        if platform.arch == "arm64" && platform.variant.as_deref() == Some("v8") {
            platform.variant = None;
        }
        Ok(platform)
    }

    /// The platform of this build of the tool.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            arch: arch.into(),
            variant: None,
        }
    }

    /// Whether an image index entry for `os/arch/variant` is this platform.
    pub fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        let variant = variant.filter(|v| !(arch == "arm64" && *v == "v8"));
        self.os == os
            && self.arch == arch
            && (self.variant.is_none() || self.variant.as_deref() == variant)
    }
}
