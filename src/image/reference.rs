//! Image references in Docker's grammar (`alpine` is `docker.io/library/alpine:latest`,
//! `host:port/ns/name:tag`, `name@sha256:...`), as `oci-client`'s `Reference`.
//!
//! Parsed here by hand, after distribution's `reference` package: oci-spec's parser compiles a
//! regular expression of the whole grammar on first use, 29 ms of CPU that every `run --image`
//! would pay before anything starts (six times the rest of a start-up). The grammar itself is
//! small: a domain when the first component looks like one, path components of lower-case
//! letters and digits with `.`, `_`, `__` or `-` runs between, a tag, a digest.

use anyhow::{anyhow, bail};
use oci_client::Reference;

/// A parsed, normalised reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref(pub Reference);

impl Ref {
    pub fn parse(text: &str) -> anyhow::Result<Ref> {
        let bad = |why: &str| anyhow!("invalid reference format {text:?}: {why}");
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (text, None),
        };
        if let Some(digest) = digest {
            let (algorithm, hex) = digest.split_once(':').ok_or_else(|| bad("bad digest"))?;
            let length = match algorithm {
                "sha256" => 64,
                "sha384" => 96,
                "sha512" => 128,
                _ => return Err(bad("unsupported digest algorithm")),
            };
            if hex.len() != length
                || !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(bad("bad digest"));
            }
        }
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(tag) = tag {
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            let ok = !tag.is_empty()
                && tag.len() <= 128
                && word(tag.as_bytes()[0])
                && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
            if !ok {
                return Err(bad("bad tag"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, path.to_string())
            }
            _ => ("docker.io", name.to_string()),
        };
        let domain = if domain == "index.docker.io" {
            "docker.io"
        } else {
            domain
        };
        valid_domain(domain).map_err(|why| bad(&why))?;
        let path = if domain == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            bail!("invalid reference format: repository name ({text}) must be lowercase");
        }
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad("bad repository name"));
        }
        if domain.len() + 1 + path.len() > 255 {
            return Err(bad("repository name must not be more than 255 characters"));
        }
        let (domain, tag, digest) = (
            domain.to_string(),
            tag.map(str::to_string),
            digest.map(str::to_string),
        );
        Ok(Ref(match (tag, digest) {
            (Some(tag), Some(digest)) => Reference::with_tag_and_digest(domain, path, tag, digest),
            (None, Some(digest)) => Reference::with_digest(domain, path, digest),
            (tag, None) => {
                Reference::with_tag(domain, path, tag.unwrap_or_else(|| "latest".into()))
            }
        }))
    }

    /// `registry/repository` as Docker shows it in `images`: without `docker.io/` (and
    /// `library/`) for Docker Hub's.
    pub fn repository_shown(&self) -> String {
        let repo = self.0.repository();
        if self.0.registry() == "docker.io" {
            repo.strip_prefix("library/").unwrap_or(repo).to_string()
        } else {
            format!("{}/{}", self.0.registry(), repo)
        }
    }

    /// `registry/repository`, the name digests are recorded under.
    pub fn name(&self) -> String {
        format!("{}/{}", self.0.registry(), self.0.repository())
    }

    /// The host (and port) to connect to; Docker Hub's API lives at `index.docker.io`.
    pub fn registry(&self) -> &str {
        self.0.resolve_registry()
    }

    /// True for a registry on this machine's loopback, which Docker (and we) reach over
    /// plain HTTP.
    pub fn is_local(&self) -> bool {
        let host = self.0.registry();
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => host.rsplit_once(':').map_or(host, |(h, _)| h),
        };
        host == "localhost" || host == "::1" || host.starts_with("127.")
    }
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any run of `-`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// A host name (labels of letters, digits and inner `-`), an IPv4 address, or `[IPv6]`, with
/// an optional `:port`.
fn valid_domain(domain: &str) -> Result<(), String> {
    let (host, port) = if let Some(v6) = domain.strip_prefix('[') {
        let (addr, rest) = v6.split_once(']').ok_or("bad IPv6 address")?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| "bad IPv6 address")?;
        ("", rest.strip_prefix(':'))
    } else {
        match domain.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("bad port".into());
    }
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !domain.starts_with('[') && !host.split('.').all(label) {
        return Err("bad registry host".into());
    }
    Ok(())
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_normalisation() {
        let r = Ref::parse("alpine").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/alpine:latest");
        assert_eq!(r.repository_shown(), "alpine");
        assert_eq!(r.registry(), "index.docker.io");
        let r = Ref::parse("127.0.0.1:5000/ns/name:v1").unwrap();
        assert_eq!(r.to_string(), "127.0.0.1:5000/ns/name:v1");
        assert_eq!(r.repository_shown(), "127.0.0.1:5000/ns/name");
        assert!(r.is_local());
        let d = format!("busybox@sha256:{}", "a".repeat(64));
        let r = Ref::parse(&d).unwrap();
        assert_eq!(r.0.tag(), None);
        assert!(r.to_string().ends_with(&"a".repeat(64)));
        assert!(!Ref::parse("quay.io/x/y").unwrap().is_local());
        assert!(Ref::parse("UPPER").is_err());
        assert!(Ref::parse("a b").is_err());
        assert!(Ref::parse("a/../b").is_err());
        assert!(Ref::parse("a:").is_err());
        assert!(Ref::parse("a@sha256:123").is_err());
        assert!(Ref::parse("-a").is_err());
        assert_eq!(
            Ref::parse("localhost/x").unwrap().to_string(),
            "localhost/x:latest"
        );
        assert_eq!(
            Ref::parse("ghcr.io/o/r/n:v1.2_3-rc").unwrap().to_string(),
            "ghcr.io/o/r/n:v1.2_3-rc"
        );
        assert_eq!(
            Ref::parse("user/repo").unwrap().to_string(),
            "docker.io/user/repo:latest"
        );
        assert_eq!(
            Ref::parse("[::1]:5000/a__b/c-d").unwrap().to_string(),
            "[::1]:5000/a__b/c-d:latest"
        );
        // The same answers as oci-spec's regular-expression parser.
        for text in [
            "alpine",
            "a/b/c:1",
            "host:5000/x@sha256:".to_string().as_str(),
            "my.reg/x_y.z:tag",
        ] {
            let ours = Ref::parse(text).map(|r| r.to_string()).ok();
            let theirs = Reference::try_from(text).map(|r| r.to_string()).ok();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
