//! Reading from a registry, with every read bounded: a registry is hostile input that can
//! lie about sizes, stall, never stop talking, or send the client elsewhere.
//!
//! Written by hand over `reqwest` rather than through `oci-client`'s pull calls, because
//! those read manifests, tokens and error bodies whole with no limit, let reqwest follow
//! redirects to any host over any scheme, follow a layer's `urls` for every media type, and
//! give no hook to change any of that. What this module guarantees, for every request:
//!
//! - **Sizes**: manifests, configs and token responses are read up to 4 MiB (containerd's
//!   cap), error bodies up to 64 KiB; a blob is read up to its descriptor's `size` and
//!   refused if it is longer or shorter, then checked against its digest (sha256 or sha512).
//! - **Progress**: the headers must come within [`STALL`], and every [`STALL`] after that must
//!   bring `MIN_PROGRESS` bytes or the end: a registry trickling a byte every few seconds
//!   ends the pull instead of holding it forever.
//! - **Where**: redirects (at most 10) go over HTTPS, or over plain HTTP only to a host that
//!   is allowed plain HTTP as a registry (loopback, `--insecure-registry`) and never after an
//!   HTTPS hop. A layer's `urls` are never followed (the layers that would need them,
//!   non-distributable ones, are refused).
//! - **Text**: what a registry says in an error reaches the user with its control characters
//!   escaped ([`crate::printable`]).

use super::digest::{Digest, Hasher};
use super::reference::Ref;
use anyhow::{Context, anyhow, bail};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use std::time::Duration;

/// The most we read of a manifest, a config or a token response.
pub const SMALL_BLOB: u64 = 4 << 20;
/// The most we read of an error's body.
const ERROR_BODY: u64 = 64 << 10;
/// How long a request may go without `MIN_PROGRESS` bytes (and how long headers may take).
pub const STALL: Duration = Duration::from_secs(20);
/// The bytes each [`STALL`] must bring, unless the body ends.
const MIN_PROGRESS: u64 = 1024;
/// Redirects followed at most.
const MAX_REDIRECTS: usize = 10;

/// Bytes a blob upload sends per request (a `PATCH` of Docker's chunked upload); a blob this
/// size or smaller goes in one `PUT`.
pub const CHUNK: u64 = 8 << 20;

/// One repository of one registry, authorised for pulling (or pushing, see [`Access`]).
pub struct Registry {
    http: reqwest::Client,
    /// `scheme://host/v2`
    api: String,
    repository: String,
    auth: Option<HeaderValue>,
    /// The registry as the user named it, for messages.
    name: String,
}

/// Credentials for a registry (Docker's config file), if any.
pub type Credentials = Option<(String, String)>;

/// The hosts `r` may be reached at over plain HTTP: the `--insecure-registry` ones, and its own
/// when it is a loopback registry.
pub fn plain_http(r: &Ref, insecure: &[String]) -> Vec<String> {
    let mut plain = insecure.to_vec();
    if r.is_local() {
        plain.push(r.registry().to_string());
    }
    plain
}

/// Runs a registry conversation to its end on a runtime of the calling thread (pull, push
/// and login each hold one for as long as they talk).
pub fn block_on<F: std::future::Future>(conversation: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(conversation))
}

/// True when `host` (with its port) may be reached over plain HTTP.
fn plain_allowed(host: &str, plain: &[String]) -> bool {
    let bare = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    bare == "localhost"
        || bare == "::1"
        || bare.starts_with("127.")
        || plain.iter().any(|p| p == host)
}

/// The redirect rule of the module doc, as reqwest takes it.
fn redirect_policy(plain: Vec<String>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let url = attempt.url();
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return attempt.error("a redirect without a host"),
        };
        match url.scheme() {
            "https" => attempt.follow(),
            "http"
                if plain_allowed(&host, &plain)
                    && attempt.previous().iter().all(|u| u.scheme() == "http") =>
            {
                attempt.follow()
            }
            _ => {
                let refused = format!(
                    "refused a redirect to {}: plain HTTP is allowed only to loopback and --insecure-registry hosts, never after HTTPS",
                    crate::printable::escaped(url.as_str())
                );
                attempt.error(refused)
            }
        }
    })
}

/// What a token is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Pull,
    /// Pull and push, and pull from these other repositories of the registry (to mount their
    /// blobs).
    Push {
        mount_from: Vec<String>,
    },
}

impl Registry {
    /// Reaches `r`'s registry (plain HTTP when `plain` allows its host, else HTTPS) and
    /// gets a pull token if it asks for one.
    pub async fn connect(
        r: &Ref,
        credentials: Credentials,
        plain: &[String],
    ) -> anyhow::Result<Registry> {
        Registry::connect_for(r, credentials, plain, Access::Pull).await
    }

    /// [`Registry::connect`], for `access`.
    pub async fn connect_for(
        r: &Ref,
        credentials: Credentials,
        plain: &[String],
        access: Access,
    ) -> anyhow::Result<Registry> {
        let host = r.registry().to_string();
        // reqwest is built without a default crypto provider (ring cross-compiles everywhere):
        // install ours once. A second call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let scheme = if plain_allowed(&host, plain) {
            "http"
        } else {
            "https"
        };
        let http = reqwest::Client::builder()
            .redirect(redirect_policy(plain.to_vec()))
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("my-container-tui/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        let mut registry = Registry {
            http,
            api: format!("{scheme}://{host}/v2"),
            repository: r.0.repository().to_string(),
            auth: None,
            name: r.0.registry().to_string(),
        };
        let probe = registry
            .send(registry.http.get(format!("{}/", registry.api)))
            .await?;
        if probe.status() == reqwest::StatusCode::UNAUTHORIZED {
            let challenge = probe
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            registry.auth = registry
                .authorise(&challenge, &credentials, r.0.repository(), &access)
                .await?;
        } else if let Some((user, password)) = &credentials {
            registry.auth = Some(basic(user, password));
        }
        Ok(registry)
    }

    /// The header a `challenge` asks for: a bearer token from its realm (with our
    /// credentials, if any), or basic credentials.
    async fn authorise(
        &self,
        challenge: &str,
        credentials: &Credentials,
        repository: &str,
        access: &Access,
    ) -> anyhow::Result<Option<HeaderValue>> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(credentials.as_ref().map(|(u, p)| basic(u, p)));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let realm = params
            .iter()
            .find(|(k, _)| k == "realm")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| anyhow!("{}: a bearer challenge without a realm", self.name))?;
        let mut url = reqwest::Url::parse(&realm).map_err(|_| {
            anyhow!(
                "{}: the token realm {:?} is not a URL",
                self.name,
                crate::printable::escaped(&realm)
            )
        })?;
        {
            let mut query = url.query_pairs_mut();
            if let Some((_, service)) = params.iter().find(|(k, _)| k == "service") {
                query.append_pair("service", service);
            }
            match access {
                Access::Pull => {
                    query.append_pair("scope", &format!("repository:{repository}:pull"));
                }
                Access::Push { mount_from } => {
                    query.append_pair("scope", &format!("repository:{repository}:pull,push"));
                    for from in mount_from {
                        query.append_pair("scope", &format!("repository:{from}:pull"));
                    }
                }
            }
        }
        let mut request = self.http.get(url);
        if let Some((user, password)) = credentials {
            request = request.header(AUTHORIZATION, basic(user, password));
        }
        let response = self.send(request).await?;
        if !response.status().is_success() {
            return Err(self.failure(response, "token").await);
        }
        let body = self.read_small(response, SMALL_BLOB, "token").await?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = serde_json::from_slice(&body)
            .map_err(|_| anyhow!("{}: the token service sent no token", self.name))?;
        let token = token
            .token
            .or(token.access_token)
            .ok_or_else(|| anyhow!("{}: the token service sent no token", self.name))?;
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow!("{}: the token service sent an unusable token", self.name))?;
        Ok(Some(value))
    }

    /// `request`, sent, its headers within [`STALL`].
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        match tokio::time::timeout(STALL, request.send()).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(anyhow!(unreachable(&self.name, &e))),
            Err(_) => bail!("{}: no answer in {} s", self.name, STALL.as_secs()),
        }
    }

    /// A GET of `url` with our authorisation.
    fn authorised(&self, url: String) -> reqwest::RequestBuilder {
        let request = self.http.get(url);
        match &self.auth {
            Some(auth) => request.header(AUTHORIZATION, auth.clone()),
            None => request,
        }
    }

    /// A GET of `path` in the repository.
    fn get(&self, path: &str, accept: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.authorised(format!("{}/{}/{path}", self.api, self.repository));
        match accept {
            Some(accept) => request.header(ACCEPT, accept),
            None => request,
        }
    }

    /// Checks that the registry accepts our credentials: `/v2/` answers 200 with them (a
    /// refusal is [`Denied`]).
    pub async fn check(&self) -> anyhow::Result<()> {
        let response = self.send(self.authorised(format!("{}/", self.api))).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.failure(response, "login").await)
        }
    }

    /// The manifest `reference` (a tag or a digest) names, read whole (at most
    /// [`SMALL_BLOB`]) and checked against the digest it was asked by, else against the one
    /// the registry names; with its digest. `Ok(None)`: the registry has no such manifest.
    pub async fn manifest(
        &self,
        reference: &str,
        accept: &[&str],
    ) -> anyhow::Result<Option<(Vec<u8>, Digest)>> {
        let asked = reference
            .contains(':')
            .then(|| Digest::parse(reference))
            .transpose()?;
        let response = self
            .send(self.get(&format!("manifests/{reference}"), Some(&accept.join(", "))))
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.failure(response, "manifest").await);
        }
        let named = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(Digest::parse)
            .transpose()
            .with_context(|| format!("{}: its Docker-Content-Digest", self.name))?;
        let body = self.read_small(response, SMALL_BLOB, "manifest").await?;
        let digest = asked
            .or(named)
            .unwrap_or_else(|| Digest::of(super::digest::Algorithm::Sha256, &body));
        if !digest.matches(&body) {
            bail!("manifest {digest} does not match its digest");
        }
        Ok(Some((body, digest)))
    }

    /// A small blob (a config): at most [`SMALL_BLOB`], exactly `size` bytes, of `digest`.
    pub async fn small_blob(&self, digest: &str, size: i64) -> anyhow::Result<Vec<u8>> {
        if size < 0 || size as u64 > SMALL_BLOB {
            bail!(
                "blob {digest} of {size} bytes is larger than {} bytes",
                SMALL_BLOB
            );
        }
        let mut blob = self.blob(digest, size).await?;
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(chunk) = blob.next().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A blob as it streams: exactly `size` bytes, checked against `digest` at its end.
    pub async fn blob(&self, digest: &str, size: i64) -> anyhow::Result<Blob> {
        let expected = Digest::parse(digest)?;
        if size < 0 {
            bail!("blob {digest}: a negative size in its descriptor");
        }
        let response = self
            .send(self.get(&format!("blobs/{digest}"), None))
            .await?;
        if !response.status().is_success() {
            return Err(self.failure(response, "blob").await);
        }
        if let Some(length) = response.content_length()
            && length != size as u64
        {
            bail!("blob {digest} is {length} bytes but its descriptor says {size}");
        }
        Ok(Blob {
            hasher: Some(Hasher::new(expected.algorithm)),
            expected,
            size: size as u64,
            read: 0,
            body: Body::new(response),
        })
    }

    // ---- pushing

    /// `request` with our authorisation.
    fn with_auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some(auth) => request.header(AUTHORIZATION, auth.clone()),
            None => request,
        }
    }

    /// `request`, sent, answered within [`STALL`] plus the time `bytes` take at 64 KiB/s.
    async fn send_body(
        &self,
        request: reqwest::RequestBuilder,
        bytes: u64,
    ) -> anyhow::Result<reqwest::Response> {
        let within = STALL + Duration::from_secs(bytes / (64 << 10));
        match tokio::time::timeout(within, request.send()).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(anyhow!(unreachable(&self.name, &e))),
            Err(_) => bail!("{}: no answer in {} s", self.name, within.as_secs()),
        }
    }

    /// Whether the repository has blob `digest` (a `HEAD`).
    pub async fn has_blob(&self, digest: &str) -> anyhow::Result<bool> {
        let url = format!("{}/{}/blobs/{digest}", self.api, self.repository);
        let response = self.send(self.with_auth(self.http.head(url))).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.failure(response, "blob check").await),
        }
    }

    /// Where an upload goes on: the `Location` a registry answered, resolved against the
    /// API's URL, on the registry's own host (our credentials go nowhere else).
    fn upload_location(&self, response: &reqwest::Response) -> anyhow::Result<reqwest::Url> {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow!("{}: an upload without a Location", self.name))?;
        let base = reqwest::Url::parse(&self.api).context("the registry's URL")?;
        let url = base.join(location).map_err(|_| {
            anyhow!(
                "{}: the upload Location {:?} is not a URL",
                self.name,
                crate::printable::escaped(location)
            )
        })?;
        if url.host_str() != base.host_str()
            || url.port_or_known_default() != base.port_or_known_default()
            || url.scheme() != base.scheme()
        {
            bail!(
                "{}: refused to upload to {}, another host than the registry's",
                self.name,
                crate::printable::escaped(url.as_str())
            );
        }
        Ok(url)
    }

    /// Mounts blob `digest` from repository `from` of the same registry; `Ok(None)` when it
    /// did, else where the upload it started instead goes on.
    pub async fn mount(&self, digest: &str, from: &str) -> anyhow::Result<Option<reqwest::Url>> {
        let url = format!("{}/{}/blobs/uploads/", self.api, self.repository);
        let request = self
            .with_auth(self.http.post(url))
            .query(&[("mount", digest), ("from", from)]);
        let response = self.send_body(request, 0).await?;
        match response.status() {
            reqwest::StatusCode::CREATED => Ok(None),
            reqwest::StatusCode::ACCEPTED => Ok(Some(self.upload_location(&response)?)),
            _ => Err(self.failure(response, "blob mount").await),
        }
    }

    /// Starts an upload; where it goes on.
    pub async fn start_upload(&self) -> anyhow::Result<reqwest::Url> {
        let url = format!("{}/{}/blobs/uploads/", self.api, self.repository);
        let response = self
            .send_body(self.with_auth(self.http.post(url)), 0)
            .await?;
        if response.status() != reqwest::StatusCode::ACCEPTED {
            return Err(self.failure(response, "upload").await);
        }
        self.upload_location(&response)
    }

    /// Sends the next chunk of an upload at `at` (bytes `from..from+chunk.len()`); where it
    /// goes on.
    pub async fn upload_chunk(
        &self,
        at: reqwest::Url,
        from: u64,
        chunk: Vec<u8>,
    ) -> anyhow::Result<reqwest::Url> {
        let len = chunk.len() as u64;
        let request = self
            .with_auth(self.http.patch(at))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(
                "Content-Range",
                format!("{from}-{}", (from + len).saturating_sub(1)),
            )
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(chunk);
        let response = self.send_body(request, len).await?;
        if response.status() != reqwest::StatusCode::ACCEPTED {
            return Err(self.failure(response, "upload").await);
        }
        self.upload_location(&response)
    }

    /// Ends an upload at `at` as blob `digest`, with its `last` bytes (all of a small blob).
    pub async fn finish_upload(
        &self,
        mut at: reqwest::Url,
        digest: &str,
        last: Vec<u8>,
    ) -> anyhow::Result<()> {
        at.query_pairs_mut().append_pair("digest", digest);
        let len = last.len() as u64;
        let request = self
            .with_auth(self.http.put(at))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(last);
        let response = self.send_body(request, len).await?;
        if response.status() != reqwest::StatusCode::CREATED {
            return Err(self.failure(response, "upload").await);
        }
        Ok(())
    }

    /// Gives up an upload (a `DELETE`; what the registry says is not waited on long).
    pub async fn cancel_upload(&self, at: reqwest::Url) {
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            self.with_auth(self.http.delete(at)).send(),
        )
        .await;
    }

    /// Puts manifest `bytes` (of `media_type`) under `reference` (a tag or its digest).
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<()> {
        let url = format!("{}/{}/manifests/{reference}", self.api, self.repository);
        let len = bytes.len() as u64;
        let request = self
            .with_auth(self.http.put(url))
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(bytes);
        let response = self.send_body(request, len).await?;
        if !response.status().is_success() {
            return Err(self.failure(response, "manifest").await);
        }
        Ok(())
    }

    /// A whole small body: at most `limit` bytes, with progress.
    async fn read_small(
        &self,
        response: reqwest::Response,
        limit: u64,
        what: &str,
    ) -> anyhow::Result<Vec<u8>> {
        if response.content_length().is_some_and(|n| n > limit) {
            bail!("{}: the {what} is larger than {limit} bytes", self.name);
        }
        let mut body = Body::new(response);
        let mut bytes = Vec::new();
        while let Some(chunk) = body
            .next()
            .await
            .with_context(|| format!("{}: {what}", self.name))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                bail!("{}: the {what} is larger than {limit} bytes", self.name);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// An error response as one line: the registry's own errors (escaped, cut), else its
    /// status.
    async fn failure(&self, response: reqwest::Response, what: &str) -> anyhow::Error {
        let status = response.status();
        let body = self
            .read_small(response, ERROR_BODY, "error")
            .await
            .unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Envelope {
            errors: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            code: Option<String>,
            message: Option<String>,
        }
        let said = serde_json::from_slice::<Envelope>(&body)
            .ok()
            .map(|e| {
                e.errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e.code.as_deref().unwrap_or("ERROR"),
                            e.message.as_deref().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|s| !s.is_empty());
        let mut text = said.unwrap_or_else(|| status.to_string());
        if text.chars().count() > 300 {
            text = text.chars().take(300).collect::<String>() + "...";
        }
        let text = crate::printable::escaped(&text).into_owned();
        match status {
            reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
                anyhow!(Denied(format!("{}: {what}: {text}", self.name)))
            }
            _ => anyhow!("{}: {what}: {text}", self.name),
        }
    }
}

/// A refusal for want of credentials, said as Docker says it for `action` (`pull`, `push`);
/// any other error as it is.
pub fn denied(action: &str, r: &Ref, e: anyhow::Error) -> anyhow::Error {
    if e.downcast_ref::<Denied>().is_some() {
        anyhow!(
            "{action} access denied for {}: the registry wants credentials (my-container-tui login {})",
            r.repository_shown(),
            r.0.registry()
        )
    } else {
        e
    }
}

/// A refusal for want of credentials (401, 403), for callers that say so their own way.
#[derive(Debug)]
pub struct Denied(pub String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Denied {}

/// A response body read with the progress rule of the module doc.
struct Body {
    response: reqwest::Response,
    window: tokio::time::Instant,
    in_window: u64,
}

impl Body {
    fn new(response: reqwest::Response) -> Body {
        Body {
            response,
            window: tokio::time::Instant::now(),
            in_window: 0,
        }
    }

    async fn next(&mut self) -> anyhow::Result<Option<bytes::Bytes>> {
        loop {
            let deadline = self.window + STALL;
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(chunk)) => {
                    if let Some(c) = &chunk {
                        self.in_window += c.len() as u64;
                    }
                    return Ok(chunk);
                }
                Ok(Err(e)) => bail!("{}", reason(&e)),
                Err(_) if self.in_window >= MIN_PROGRESS => {
                    self.window = tokio::time::Instant::now();
                    self.in_window = 0;
                }
                Err(_) => bail!(
                    "stalled: fewer than {MIN_PROGRESS} bytes in {} s",
                    STALL.as_secs()
                ),
            }
        }
    }
}

/// A blob being read: never more than its size, checked against its digest at the end.
pub struct Blob {
    body: Body,
    hasher: Option<Hasher>,
    expected: Digest,
    size: u64,
    read: u64,
}

impl Blob {
    /// The next chunk; `None` at the end, once the blob proved whole and true.
    pub async fn next(&mut self) -> anyhow::Result<Option<bytes::Bytes>> {
        let digest = &self.expected;
        let Some(chunk) = self
            .body
            .next()
            .await
            .with_context(|| format!("blob {digest}"))?
        else {
            if self.read != self.size {
                bail!(
                    "blob {digest} ended after {} of the {} bytes its descriptor says",
                    self.read,
                    self.size
                );
            }
            if let Some(hasher) = self.hasher.take()
                && hasher.finish() != *digest
            {
                bail!("blob {digest} does not match its digest");
            }
            return Ok(None);
        };
        self.read += chunk.len() as u64;
        if self.read > self.size {
            bail!(
                "blob {digest} is longer than the {} bytes its descriptor says",
                self.size
            );
        }
        if let Some(h) = &mut self.hasher {
            h.update(&chunk);
        }
        Ok(Some(chunk))
    }
}

/// `Basic base64(user:password)`.
fn basic(user: &str, password: &str) -> HeaderValue {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

/// A `WWW-Authenticate` value: its scheme and its `key="value"` parameters.
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((key, value.to_string()));
        rest = after.trim_start_matches([',', ' ']);
    }
    (scheme.to_string(), params)
}

/// A reqwest error as its cause reads, escaped (it may quote a URL the registry chose).
/// `e` and its sources, outermost first.
fn chain(e: &reqwest::Error) -> Vec<String> {
    let mut chain = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    chain
}

/// `e` with its sources, in one printable line.
fn reason(e: &reqwest::Error) -> String {
    crate::printable::escaped(&chain(e).join(": ")).into_owned()
}

/// Why registry `name` cannot be reached, its cause first in the words a user acts on (the
/// name does not resolve, nothing listens, no route, TLS), the innermost error after it, and
/// what gets images without a registry.
fn unreachable(name: &str, e: &reqwest::Error) -> String {
    let chain = chain(e);
    let all = chain.join(": ").to_lowercase();
    let cause = if all.contains("dns error") || all.contains("lookup address") {
        "its name does not resolve (no DNS: is this host offline?)"
    } else if all.contains("connection refused") {
        "nothing listens there (connection refused)"
    } else if all.contains("unreachable") || all.contains("no route") {
        "no route to it (is this host offline?)"
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        "TLS failed (a plain-HTTP registry needs --insecure-registry)"
    } else if e.is_timeout() || all.contains("timed out") {
        "the connection timed out"
    } else {
        "the connection failed"
    };
    let innermost = chain.last().map(String::as_str).unwrap_or_default();
    let innermost: String = crate::printable::escaped(innermost)
        .chars()
        .take(160)
        .collect();
    format!(
        "cannot reach {name}: {cause}: {innermost}; without a registry, `load` or `import` an archive, or pull from a registry on this network"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_distribution_writes_them() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params[0],
            ("realm".into(), "https://auth.example/token".into())
        );
        assert_eq!(params[1], ("service".into(), "registry.example".into()));
        assert_eq!(params[2].1, "repository:a/b:pull");
        assert_eq!(parse_challenge(r#"Basic realm="x""#).0, "Basic");
    }

    #[test]
    fn plain_http_only_to_loopback_and_named_hosts() {
        let named = vec!["registry.lan:5000".to_string()];
        assert!(plain_allowed("127.0.0.1:5000", &[]));
        assert!(plain_allowed("localhost:5000", &[]));
        assert!(plain_allowed("[::1]:5000", &[]));
        assert!(!plain_allowed("evil.example", &[]));
        assert!(plain_allowed("registry.lan:5000", &named));
        assert!(!plain_allowed("registry.lan", &named));
    }
}
