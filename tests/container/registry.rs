//! Image fixtures: a real registry (Debian's `docker-registry`, distribution 2.8) on loopback
//! with its storage in a scratch directory, images built with `umoci` from the tool's busybox
//! rootfs, layers written here as tar streams (whiteouts, opaque markers, attacks), and
//! `skopeo` to push them.

use crate::support::{Ctx, Running, TempDir, ensure, run, wait_until};
use libtest_mimic::Failed;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A registry on 127.0.0.1, stopped and its storage removed when dropped.
pub struct Registry {
    child: Option<Running>,
    dir: TempDir,
    pub addr: String,
}

fn free_port() -> Result<u16, Failed> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

impl Registry {
    /// Starts one; with `login`, it demands those credentials (htpasswd, bcrypt).
    pub fn start(tag: &str, login: Option<(&str, &str)>) -> Result<Registry, Failed> {
        let dir = TempDir::new(&format!("registry-{tag}"))?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut auth = String::new();
        if let Some((user, password)) = login {
            let htpasswd = dir.path().join("htpasswd");
            let out = run({
                let mut c = Command::new("htpasswd");
                c.args(["-Bbc"]).arg(&htpasswd).args([user, password]);
                c
            })?;
            ensure(out.code == Some(0), format!("htpasswd: {}", out.stderr))?;
            auth = format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                htpasswd.display()
            );
        }
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{auth}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("docker-registry");
        cmd.arg("serve").arg(&config_path);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = Running::spawn(&mut cmd)?;
        let registry = Registry {
            child: Some(child),
            dir,
            addr,
        };
        wait_until("the registry to listen", || {
            std::net::TcpStream::connect(&registry.addr).is_ok()
        })?;
        Ok(registry)
    }

    /// Stops it (its storage stays until drop).
    pub fn stop(&mut self) {
        self.child = None;
    }

    /// The file the registry serves blob `digest` from.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `ADDR/NAME`.
    pub fn image(&self, name: &str) -> String {
        format!("{}/{name}", self.addr)
    }
}

/// An OCI image layout (and umoci bundles) in a scratch directory.
pub struct Layout {
    pub dir: TempDir,
}

fn tool(program: &str, args: &[&str]) -> Result<String, Failed> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let out = run(cmd)?;
    ensure(
        out.code == Some(0),
        format!("{program} {args:?}: {}{}", out.stdout, out.stderr),
    )?;
    Ok(out.stdout)
}

impl Layout {
    pub fn new(tag: &str) -> Result<Layout, Failed> {
        let dir = TempDir::new(&format!("layout-{tag}"))?;
        let layout = Layout { dir };
        tool("umoci", &["init", "--layout", &layout.oci()])?;
        Ok(layout)
    }

    pub fn oci(&self) -> String {
        self.dir.path().join("oci").to_string_lossy().into_owned()
    }

    fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.oci())
    }

    /// Image `tag`: one layer, the tool's busybox rootfs, made by umoci.
    pub fn busybox(&self, t: &Ctx, tag: &str) -> Result<(), Failed> {
        tool("umoci", &["new", "--image", &self.image(tag)])?;
        self.change(tag, tag, |rootfs| {
            std::fs::remove_dir_all(rootfs).map_err(|e| e.to_string())?;
            t.run(&["rootfs", "busybox", &rootfs.to_string_lossy()])?
                .success()?;
            Ok(())
        })
    }

    /// Image `to`: `from` with what `change` does to its unpacked rootfs as a new layer
    /// (umoci writes deletions as whiteouts).
    pub fn change(
        &self,
        from: &str,
        to: &str,
        change: impl FnOnce(&Path) -> Result<(), Failed>,
    ) -> Result<(), Failed> {
        let bundle = self.dir.path().join(format!("bundle-{to}"));
        let _ = std::fs::remove_dir_all(&bundle);
        let b = bundle.to_string_lossy().into_owned();
        tool("umoci", &["unpack", "--image", &self.image(from), &b])?;
        change(&bundle.join("rootfs"))?;
        tool("umoci", &["repack", "--image", &self.image(to), &b])?;
        let _ = std::fs::remove_dir_all(&bundle);
        Ok(())
    }

    /// Image `to`: `from` with `tar` (an uncompressed layer, written as given) on top.
    pub fn add_layer(&self, from: &str, to: &str, tar: &[u8]) -> Result<(), Failed> {
        let file = self.dir.path().join(format!("layer-{to}.tar"));
        std::fs::write(&file, tar).map_err(|e| e.to_string())?;
        tool(
            "umoci",
            &[
                "raw",
                "add-layer",
                "--image",
                &self.image(from),
                "--tag",
                to,
                &file.to_string_lossy(),
            ],
        )?;
        Ok(())
    }

    /// `umoci config` on `tag`.
    pub fn config(&self, tag: &str, args: &[&str]) -> Result<(), Failed> {
        let image = self.image(tag);
        let mut all = vec!["config", "--image", &image];
        all.extend_from_slice(args);
        tool("umoci", &all)?;
        Ok(())
    }

    /// Pushes `tag` to `registry` as `dest` (`name:tag`), with more skopeo flags.
    pub fn push(
        &self,
        tag: &str,
        registry: &Registry,
        dest: &str,
        extra: &[&str],
    ) -> Result<String, Failed> {
        let target = format!("docker://{}", registry.image(dest));
        let src = format!("oci:{}", self.image(tag));
        let mut args = vec!["copy", "--quiet", "--dest-tls-verify=false"];
        args.extend_from_slice(extra);
        args.push(&src);
        args.push(&target);
        tool("skopeo", &args)?;
        Ok(registry.image(dest))
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir
            .path()
            .join("oci/blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    fn index(&self) -> Result<serde_json::Value, Failed> {
        let bytes =
            std::fs::read(self.dir.path().join("oci/index.json")).map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string().into())
    }

    /// The descriptor index.json holds for `tag`.
    pub fn descriptor(&self, tag: &str) -> Result<serde_json::Value, Failed> {
        self.index()?["manifests"]
            .as_array()
            .and_then(|m| {
                m.iter()
                    .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
                    .cloned()
            })
            .ok_or_else(|| format!("no {tag} in the layout").into())
    }

    /// `tag`'s manifest.
    pub fn manifest(&self, tag: &str) -> Result<serde_json::Value, Failed> {
        let digest = self.descriptor(tag)?["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let bytes = std::fs::read(self.blob_path(&digest)).map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string().into())
    }

    /// Writes a blob; its descriptor fields (digest, size).
    fn put(&self, bytes: &[u8]) -> Result<(String, usize), Failed> {
        let digest = format!(
            "sha256:{}",
            my_container_tui::image::unpack::hex(&sha2::Sha256::digest(bytes))
        );
        std::fs::write(self.blob_path(&digest), bytes).map_err(|e| e.to_string())?;
        Ok((digest, bytes.len()))
    }

    /// Names a new blob `tag` in index.json.
    fn tag_blob(
        &self,
        tag: &str,
        media_type: &str,
        digest: &str,
        size: usize,
    ) -> Result<(), Failed> {
        let mut index = self.index()?;
        let list = index["manifests"].as_array_mut().ok_or("bad index.json")?;
        list.retain(|d| d["annotations"]["org.opencontainers.image.ref.name"] != tag);
        list.push(serde_json::json!({
            "mediaType": media_type, "digest": digest, "size": size,
            "annotations": { "org.opencontainers.image.ref.name": tag },
        }));
        std::fs::write(
            self.dir.path().join("oci/index.json"),
            serde_json::to_vec(&index).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string().into())
    }

    /// Image `to`: `from` with every gzip layer recompressed with zstd (`zstd`), or stored
    /// uncompressed (`!zstd`).
    pub fn recompress(&self, from: &str, to: &str, zstd: bool) -> Result<(), Failed> {
        let mut manifest = self.manifest(from)?;
        for layer in manifest["layers"].as_array_mut().ok_or("no layers")? {
            let digest = layer["digest"].as_str().unwrap_or_default().to_string();
            let gz = std::fs::read(self.blob_path(&digest)).map_err(|e| e.to_string())?;
            let mut tar = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar)
                .map_err(|e| e.to_string())?;
            let (blob, media_type) = if zstd {
                let zst = zstd::encode_all(&tar[..], 3).map_err(|e| e.to_string())?;
                (zst, "application/vnd.oci.image.layer.v1.tar+zstd")
            } else {
                (tar, "application/vnd.oci.image.layer.v1.tar")
            };
            let (d, size) = self.put(&blob)?;
            layer["digest"] = d.into();
            layer["size"] = size.into();
            layer["mediaType"] = media_type.into();
        }
        let bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
        let (d, size) = self.put(&bytes)?;
        self.tag_blob(to, "application/vnd.oci.image.manifest.v1+json", &d, size)
    }

    /// Image `to`: `from` with its config changed by `change` (a new config blob, a new
    /// manifest naming it).
    pub fn edit_config(
        &self,
        from: &str,
        to: &str,
        change: impl FnOnce(&mut serde_json::Value),
    ) -> Result<(), Failed> {
        let mut manifest = self.manifest(from)?;
        let digest = manifest["config"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let bytes = std::fs::read(self.blob_path(&digest)).map_err(|e| e.to_string())?;
        let mut config: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        change(&mut config);
        let (d, size) = self.put(&serde_json::to_vec(&config).map_err(|e| e.to_string())?)?;
        manifest["config"]["digest"] = d.into();
        manifest["config"]["size"] = size.into();
        let bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
        let (d, size) = self.put(&bytes)?;
        self.tag_blob(to, "application/vnd.oci.image.manifest.v1+json", &d, size)
    }

    /// Image `to`: an index of `entries` (tag, os, architecture).
    pub fn index_of(&self, to: &str, entries: &[(&str, &str, &str)]) -> Result<(), Failed> {
        let mut manifests = Vec::new();
        for (tag, os, arch) in entries {
            let d = self.descriptor(tag)?;
            manifests.push(serde_json::json!({
                "mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                "platform": { "os": os, "architecture": arch },
            }));
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let bytes = serde_json::to_vec(&index).map_err(|e| e.to_string())?;
        let (d, size) = self.put(&bytes)?;
        self.tag_blob(to, "application/vnd.oci.image.index.v1+json", &d, size)
    }
}

/// One member of a layer written by [`tar`].
pub enum Member<'a> {
    Dir(&'a str),
    /// A directory with one extended attribute in a PAX record (`SCHILY.xattr.NAME`).
    DirWithXattr(&'a str, &'a str, &'a [u8]),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A regular file, setuid root (04755).
    Setuid(&'a str, &'a [u8]),
    /// A block device node (major, minor), 0666.
    BlockDevice(&'a str, u32, u32),
}

/// An uncompressed tar of `members`, names written verbatim (`..` and absolute ones too: the
/// point of some layers is to try them).
pub fn tar(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        if let Member::DirWithXattr(_, key, value) = member {
            let key = format!("SCHILY.xattr.{key}");
            builder
                .append_pax_extensions([(key.as_str(), *value)])
                .expect("append to a Vec");
        }
        let mut header = tar::Header::new_ustar();
        let (name, kind, data, link): (&str, tar::EntryType, &[u8], Option<&str>) = match member {
            Member::Dir(n) | Member::DirWithXattr(n, _, _) => {
                (n, tar::EntryType::Directory, b"", None)
            }
            Member::File(n, d) => (n, tar::EntryType::Regular, d, None),
            Member::Symlink(n, t) => (n, tar::EntryType::Symlink, b"", Some(t)),
            Member::Hardlink(n, t) => (n, tar::EntryType::Link, b"", Some(t)),
            Member::Setuid(n, d) => (n, tar::EntryType::Regular, d, None),
            Member::BlockDevice(n, major, minor) => {
                header.set_device_major(*major).expect("ustar");
                header.set_device_minor(*minor).expect("ustar");
                (n, tar::EntryType::Block, b"", None)
            }
        };
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(match member {
            Member::Setuid(..) => 0o4755,
            Member::BlockDevice(..) => 0o666,
            _ if kind == tar::EntryType::Directory => 0o755,
            _ => 0o644,
        });
        header.set_mtime(1_700_000_000);
        let raw = header.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, data).expect("append to a Vec");
    }
    builder.into_inner().expect("finish a Vec")
}

/// A command of the tool with this test's image store (`MCT_ROOT`) and Docker config.
pub struct Store {
    pub root: TempDir,
}

impl Store {
    pub fn new(t: &Ctx) -> Result<Store, Failed> {
        Ok(Store {
            root: TempDir::new(&format!("store-{}", t.namespace()))?,
        })
    }

    /// A second store of the same test, its own directory (`new` twice would share one).
    pub fn another(t: &Ctx, which: &str) -> Result<Store, Failed> {
        Ok(Store {
            root: TempDir::new(&format!("store-{}-{which}", t.namespace()))?,
        })
    }

    fn with(&self, mut cmd: Command) -> Command {
        cmd.env("MCT_ROOT", self.root.path().join("root"));
        cmd.env("DOCKER_CONFIG", self.root.path().join("docker"));
        cmd
    }

    /// A busybox image in the store as `name`, imported from a rootfs tarball.
    pub fn import_busybox(&self, t: &Ctx, name: &str) -> Result<(), Failed> {
        let (_dir, rootfs) = t.busybox_rootfs()?;
        let scratch = TempDir::new(&format!("import-{}", t.namespace()))?;
        let tarball = scratch.path().join("rootfs.tar");
        let mut tar = Command::new("tar");
        tar.args(["-C", &rootfs, "-cf"]).arg(&tarball).arg(".");
        ensure(run(tar)?.code == Some(0), "tar")?;
        self.verb(t, &["import", &tarball.to_string_lossy(), name])?
            .success()?;
        Ok(())
    }

    /// A lifecycle verb (`pull`, `images`, `rmi`, ...).
    pub fn verb(&self, t: &Ctx, args: &[&str]) -> Result<crate::support::Output, Failed> {
        run(self.with(t.cli(args)))
    }

    /// `my-container-tui ARGS` (runs).
    pub fn tool(&self, t: &Ctx, args: &[&str]) -> Result<crate::support::Output, Failed> {
        run(self.with(t.tool(args)))
    }

    /// A lifecycle verb's command, to spawn.
    pub fn cli(&self, t: &Ctx, args: &[&str]) -> Command {
        self.with(t.cli(args))
    }

    pub fn command(&self, t: &Ctx, args: &[&str]) -> Command {
        self.with(t.tool(args))
    }

    /// The unpacked layers in the store.
    pub fn layers(&self) -> Vec<String> {
        dir_names(&self.root.path().join("root/image/layers"))
    }

    /// What unpacking left in the store's staging directory.
    pub fn staging(&self) -> Vec<String> {
        dir_names(&self.root.path().join("root/image/tmp"))
    }

    pub fn images_recorded(&self) -> Vec<String> {
        dir_names(&self.root.path().join("root/image/images"))
            .into_iter()
            .filter(|n| n.ends_with(".json"))
            .collect()
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
