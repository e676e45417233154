//! A registry written to misbehave, on loopback: it never stops talking, lies about sizes,
//! trickles, redirects to plain HTTP elsewhere, names digests we cannot verify, and puts
//! terminal escapes in what it says. Each pull must end with one clear line, keep nothing,
//! and print no escape raw.

use crate::registry::{Member, Store, tar};
use crate::support::*;
use libtest_mimic::{Failed, Trial};
use sha2::Digest as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Trial> {
    crate::root_tests![
        endless_and_oversized_bodies_are_cut_off,
        blobs_unlike_their_descriptor_are_refused,
        a_trickling_registry_is_given_up_on,
        redirects_to_plain_http_elsewhere_are_refused,
        sha512_is_verified_and_unknown_algorithms_keep_nothing,
        registry_text_reaches_the_terminal_escaped,
        deep_layers_unpack_and_go_and_half_deleted_ones_are_not_reused,
    ]
}

/// What the registry answers to a path.
#[derive(Clone)]
enum Reply {
    /// 200 with a body, its length given, and a content type.
    Body(&'static str, Vec<u8>),
    /// A status and a body, its length given.
    Status(u16, Vec<u8>),
    /// 200, no length, a body that never ends.
    Endless,
    /// `status`, no length, and a body that never ends.
    EndlessStatus(u16),
    /// 200, the length given as `length`, but `body` sent (a lie either way).
    Lying { length: usize, body: Vec<u8> },
    /// 200, a byte at a time, one every `gap`, forever.
    Trickle(Duration),
    /// 307 to this location.
    Redirect(String),
}

/// The misbehaving registry: routes by path, each connection on a thread of its own.
struct Hostile {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Hostile {
    fn start(routes: HashMap<String, Reply>) -> Result<Hostile, Failed> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let routes = Arc::new(routes);
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (routes, flag) = (routes.clone(), flag.clone());
                        std::thread::spawn(move || serve(stream, &routes, &flag));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(Hostile { port, stop })
    }

    fn reference(&self, repo: &str) -> String {
        format!("127.0.0.1:{}/{repo}:1", self.port)
    }
}

fn serve(stream: TcpStream, routes: &HashMap<String, Reply>, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
        }
        let path = path.split('?').next().unwrap_or("").to_string();
        let reply = routes
            .get(&path)
            .cloned()
            .unwrap_or_else(|| match path.as_str() {
                "/v2/" => Reply::Body("application/json", b"{}".to_vec()),
                _ => Reply::Status(404, br#"{"errors":[{"code":"NOT_FOUND"}]}"#.to_vec()),
            });
        let head = |status: u16, length: Option<usize>, kind: &str| {
            let mut h = format!("HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n");
            match length {
                Some(n) => h.push_str(&format!("Content-Length: {n}\r\n")),
                None => h.push_str("Connection: close\r\n"),
            }
            h.push_str("\r\n");
            h.into_bytes()
        };
        let endless = |out: &mut TcpStream, status: u16| {
            let _ = out.write_all(&head(status, None, "application/json"));
            let chunk = vec![b' '; 64 << 10];
            while !stop.load(Ordering::Relaxed) && out.write_all(&chunk).is_ok() {}
        };
        match reply {
            Reply::Body(kind, body) => {
                let _ = out.write_all(&head(200, Some(body.len()), kind));
                let _ = out.write_all(&body);
            }
            Reply::Status(status, body) => {
                let _ = out.write_all(&head(status, Some(body.len()), "application/json"));
                let _ = out.write_all(&body);
            }
            Reply::Endless => return endless(&mut out, 200),
            Reply::EndlessStatus(status) => return endless(&mut out, status),
            Reply::Lying { length, body } => {
                let _ = out.write_all(&head(200, Some(length), "application/octet-stream"));
                let _ = out.write_all(&body);
                return;
            }
            Reply::Trickle(gap) => {
                let _ = out.write_all(&head(200, None, "application/json"));
                while !stop.load(Ordering::Relaxed) && out.write_all(b" ").is_ok() {
                    std::thread::sleep(gap);
                }
                return;
            }
            Reply::Redirect(to) => {
                let h = format!("HTTP/1.1 307 X\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
                let _ = out.write_all(h.as_bytes());
            }
        }
    }
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex(&sha2::Sha512::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A one-layer image (a file `hello`), its blobs addressed with `digest`: the routes of
/// `repo` for it, with `tweak` applied to the layer's descriptor.
fn image(
    repo: &str,
    digest: fn(&[u8]) -> String,
    tweak: impl FnOnce(&mut serde_json::Value),
) -> (HashMap<String, Reply>, String) {
    let layer = tar(&[Member::File("hello", b"hello from a hostile registry\n")]);
    image_of(repo, layer, digest, tweak)
}

/// [`image`] with its layer given.
fn image_of(
    repo: &str,
    layer: Vec<u8>,
    digest: fn(&[u8]) -> String,
    tweak: impl FnOnce(&mut serde_json::Value),
) -> (HashMap<String, Reply>, String) {
    let config = serde_json::json!({
        "architecture": std::env::consts::ARCH.replace("x86_64", "amd64").replace("aarch64", "arm64"),
        "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]},
    })
    .to_string()
    .into_bytes();
    let mut layer_desc = serde_json::json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar",
        "digest": digest(&layer),
        "size": layer.len(),
    });
    tweak(&mut layer_desc);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest(&config),
            "size": config.len(),
        },
        "layers": [layer_desc],
    })
    .to_string()
    .into_bytes();
    let mut routes = HashMap::new();
    let blob = |d: &str| format!("/v2/{repo}/blobs/{d}");
    routes.insert(
        blob(&digest(&layer)),
        Reply::Body("application/octet-stream", layer.clone()),
    );
    routes.insert(
        blob(&digest(&config)),
        Reply::Body("application/json", config.clone()),
    );
    let layer_digest = layer_desc["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    routes.insert(
        format!("/v2/{repo}/manifests/1"),
        Reply::Body(MANIFEST, manifest),
    );
    (routes, layer_digest)
}

/// Pulls `reference` into `store`; the pull must fail within a minute with one line saying
/// `says`, and leave the store without layers or staging.
fn refused(t: &Ctx, store: &Store, reference: &str, says: &str) -> TestResult {
    let started = Instant::now();
    let out = store.verb(t, &["pull", reference])?;
    ensure(
        started.elapsed() < Duration::from_secs(60),
        "the pull took over a minute",
    )?;
    ensure(out.code == Some(1), format!("pull of {reference}: {out:?}"))?;
    let last = out.stderr.lines().last().unwrap_or_default();
    ensure(
        last.starts_with("my-container-tui: ") && last.contains(says),
        format!("expected {says:?}, got {:?}", out.stderr),
    )?;
    ensure(
        last.len() < 600,
        format!("a long error: {} bytes", last.len()),
    )?;
    ensure_eq(store.layers(), Vec::<String>::new())?;
    ensure_eq(store.staging(), Vec::<String>::new())
}

fn endless_and_oversized_bodies_are_cut_off(t: &Ctx) -> TestResult {
    let (mut routes, _) = image("ok", sha256, |_| {});
    routes.insert("/v2/endless/manifests/1".into(), Reply::Endless);
    routes.insert("/v2/error/manifests/1".into(), Reply::EndlessStatus(500));
    routes.insert(
        "/v2/big/manifests/1".into(),
        Reply::Body(MANIFEST, vec![b' '; 5 << 20]),
    );
    let (config_routes, _) = image("bigconfig", sha256, |_| {});
    for (path, reply) in config_routes {
        // The config's descriptor is honest, but its blob never ends.
        let reply = match (&reply, path.contains("/blobs/")) {
            (Reply::Body("application/json", _), true) => Reply::Endless,
            _ => reply,
        };
        routes.insert(path, reply);
    }
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    refused(
        t,
        &store,
        &registry.reference("endless"),
        "manifest is larger than 4194304 bytes",
    )?;
    refused(t, &store, &registry.reference("error"), "manifest: 500")?;
    refused(
        t,
        &store,
        &registry.reference("big"),
        "manifest is larger than 4194304 bytes",
    )?;
    refused(
        t,
        &store,
        &registry.reference("bigconfig"),
        "is longer than the",
    )?;
    // The same registry's honest image pulls.
    store
        .verb(t, &["pull", &registry.reference("ok")])?
        .success()?;
    Ok(())
}

fn blobs_unlike_their_descriptor_are_refused(t: &Ctx) -> TestResult {
    let mut routes = HashMap::new();
    for (repo, lie) in [("endless", 0), ("short", 1), ("long", 2), ("length", 3)] {
        let (mut r, layer) = image(repo, sha256, |_| {});
        let path = format!("/v2/{repo}/blobs/{layer}");
        let Some(Reply::Body(_, body)) = r.get(&path).cloned() else {
            return Err("no layer route".into());
        };
        let reply = match lie {
            0 => Reply::Endless,
            1 => Reply::Lying {
                length: body.len() - 100,
                body: body[..body.len() - 100].to_vec(),
            },
            2 => Reply::Lying {
                length: body.len() + 100,
                body: [body.clone(), vec![0; 100]].concat(),
            },
            _ => Reply::Lying {
                length: body.len() + 1,
                body,
            },
        };
        r.insert(path, reply);
        routes.extend(r);
    }
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    refused(
        t,
        &store,
        &registry.reference("endless"),
        "is longer than the",
    )?;
    refused(
        t,
        &store,
        &registry.reference("short"),
        "but its descriptor says",
    )?;
    refused(
        t,
        &store,
        &registry.reference("long"),
        "but its descriptor says",
    )?;
    refused(
        t,
        &store,
        &registry.reference("length"),
        "but its descriptor says",
    )
}

fn a_trickling_registry_is_given_up_on(t: &Ctx) -> TestResult {
    let mut routes = HashMap::new();
    routes.insert(
        "/v2/slow/manifests/1".to_string(),
        Reply::Trickle(Duration::from_secs(2)),
    );
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    refused(t, &store, &registry.reference("slow"), "stalled")
}

fn redirects_to_plain_http_elsewhere_are_refused(t: &Ctx) -> TestResult {
    let (mut routes, layer) = image("moved", sha256, |_| {});
    // Nothing leaves the machine: the redirect is refused before any connection.
    routes.insert(
        format!("/v2/moved/blobs/{layer}"),
        Reply::Redirect("http://registry.example/layer".into()),
    );
    // A descriptor's `urls` would send us elsewhere for the layer, which is at the registry
    // too, where it is fetched.
    let (urls, layer_of_urls) = image("urls", sha256, |d| {
        d["urls"] = serde_json::json!(["http://registry.example/layer"]);
    });
    routes.extend(urls);
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    refused(
        t,
        &store,
        &registry.reference("moved"),
        "refused a redirect to http://registry.example/layer",
    )?;
    let out = store
        .verb(t, &["pull", &registry.reference("urls")])?
        .success()?;
    ensure(
        out.stdout.contains(&layer_of_urls[7..19]),
        format!("the layer came from elsewhere: {out:?}"),
    )
}

fn sha512_is_verified_and_unknown_algorithms_keep_nothing(t: &Ctx) -> TestResult {
    let (mut routes, _) = image("long", sha512, |_| {});
    let (unknown, _) = image("unknown", sha256, |d| {
        d["digest"] = serde_json::json!(format!("sha384:{}", "a".repeat(96)));
    });
    routes.extend(unknown);
    let (forged, layer) = image("forged", sha512, |_| {});
    routes.extend(forged);
    // The forged repository's layer is another layer's bytes under its digest.
    let other = tar(&[Member::File(
        "hello",
        b"something else entirely, same name\n",
    )]);
    routes.insert(
        format!("/v2/forged/blobs/{layer}"),
        Reply::Body("application/octet-stream", other),
    );
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    refused(
        t,
        &store,
        &registry.reference("unknown"),
        "unsupported digest algorithm",
    )?;
    refused(
        t,
        &store,
        &registry.reference("forged"),
        "does not match its digest",
    )?;
    store
        .verb(t, &["pull", &registry.reference("long")])?
        .success()?;
    let layers = store.layers();
    ensure_eq(layers.len(), 1)?;
    let hello = store
        .root
        .path()
        .join("root/image/layers")
        .join(&layers[0])
        .join("diff/hello");
    ensure_eq(
        std::fs::read_to_string(hello).map_err(|e| e.to_string())?,
        "hello from a hostile registry\n".to_string(),
    )?;
    let images = store.verb(t, &["images"])?.success()?;
    ensure(
        images.stdout.contains("/long"),
        format!("images: {images:?}"),
    )
}

fn registry_text_reaches_the_terminal_escaped(t: &Ctx) -> TestResult {
    let mut routes = HashMap::new();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{
            "mediaType": MANIFEST,
            "digest": sha256(b"x"),
            "size": 1,
            "platform": {"os": "linux\u{1b}]0;owned\u{7}", "architecture": "s390x\u{1b}[2J"},
        }],
    });
    routes.insert(
        "/v2/index/manifests/1".to_string(),
        Reply::Body(INDEX, index.to_string().into_bytes()),
    );
    routes.insert(
        "/v2/error/manifests/1".to_string(),
        Reply::Status(
            400,
            br#"{"errors":[{"code":"DENIED","message":"\u001b]0;owned\u0007\u001b[2Jcleared"}]}"#
                .to_vec(),
        ),
    );
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    for (repo, says) in [("index", "no matching manifest"), ("error", "cleared")] {
        let out = store.verb(t, &["pull", &registry.reference(repo)])?;
        ensure(out.code == Some(1), format!("{out:?}"))?;
        let all = format!("{}{}", out.stdout, out.stderr);
        ensure(all.contains(says), format!("{repo}: {all:?}"))?;
        ensure(
            !all.contains('\u{1b}') && !all.contains('\u{7}'),
            format!("{repo}: a raw escape reached the terminal: {all:?}"),
        )?;
        ensure(
            all.contains("\\u{1b}"),
            format!("{repo}: the escape is not shown: {all:?}"),
        )?;
    }
    Ok(())
}

/// A tar of a directory chain `depth` deep with a file at its end, and with `then_file`, the
/// chain's top replaced by a file (which removes the whole chain while unpacking).
fn deep_tar(depth: usize, then_file: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let path = format!("{}end", "d/".repeat(depth));
    let mut header = tar::Header::new_gnu();
    header.set_size(2);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, &path, &b"x\n"[..])
        .expect("append to a Vec");
    if then_file {
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, "d", &b"file\n"[..])
            .expect("append to a Vec");
    }
    builder.into_inner().expect("finish a Vec")
}

/// A 30,000-deep chain of directories in a layer, replaced by a file in the same layer, or
/// kept and removed by `rmi`: neither overflows a stack nor runs out of descriptors, and
/// nothing is left in the store. A layer found without its completion marker (as an older
/// build's interrupted removal left them) is fetched again, not reused.
fn deep_layers_unpack_and_go_and_half_deleted_ones_are_not_reused(t: &Ctx) -> TestResult {
    let mut routes = HashMap::new();
    routes.extend(image_of("replaced", deep_tar(30_000, true), sha256, |_| {}).0);
    routes.extend(image_of("kept", deep_tar(30_000, false), sha256, |_| {}).0);
    routes.extend(image("plain", sha256, |_| {}).0);
    let registry = Hostile::start(routes)?;
    let store = Store::new(t)?;
    for repo in ["replaced", "kept"] {
        let out = store.verb(t, &["pull", &registry.reference(repo)])?;
        ensure(out.code == Some(0), format!("{repo}: {out:?}"))?;
    }
    ensure_eq(store.layers().len(), 2)?;
    for repo in ["replaced", "kept"] {
        store
            .verb(t, &["rmi", &registry.reference(repo)])?
            .success()?;
    }
    ensure_eq(store.layers(), Vec::<String>::new())?;
    ensure_eq(store.staging(), Vec::<String>::new())?;
    // An older build's half-deleted layer: the marker missing, files gone.
    let plain = registry.reference("plain");
    store.verb(t, &["pull", &plain])?.success()?;
    let layers = store.layers();
    let home = store.root.path().join("root/image/layers").join(&layers[0]);
    std::fs::remove_file(home.join("whole")).map_err(|e| e.to_string())?;
    std::fs::remove_file(home.join("diff/hello")).map_err(|e| e.to_string())?;
    store
        .tool(t, &["--image", &plain, "--pull", "never", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("is missing or incomplete in the store")?;
    let out = store.verb(t, &["pull", &plain])?.success()?;
    ensure(
        out.stdout.contains("Pull complete"),
        format!("reused: {out:?}"),
    )?;
    ensure(
        home.join("diff/hello").is_file(),
        "the layer is not whole again",
    )?;
    ensure_eq(store.staging(), Vec::<String>::new())
}
