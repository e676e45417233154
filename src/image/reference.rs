//! Image references in Docker's grammar (`alpine` is `docker.io/library/alpine:latest`,
//! `host:port/ns/name:tag`, `name@sha256:...`), parsed by oci-spec's distribution reference.

use anyhow::anyhow;
use oci_client::Reference;

/// A parsed, normalised reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref(pub Reference);

impl Ref {
    pub fn parse(text: &str) -> anyhow::Result<Ref> {
        if text.bytes().any(|b| b.is_ascii_uppercase()) && !text.contains('@') {
            let name = text.rsplit_once(':').map_or(text, |(n, _)| n);
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(anyhow!(
                    "invalid reference format: repository name ({text}) must be lowercase"
                ));
            }
        }
        Reference::try_from(text)
            .map(Ref)
            .map_err(|e| anyhow!("invalid reference format {text:?}: {e}"))
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
    }
}
