//! Images end to end: a real registry on loopback, images built with umoci and pushed with
//! skopeo, pulled and run by the tool; attacks by layer, by tampered blob and by registry.

use crate::registry::{Layout, Member, Registry, Store, tar};
use crate::root_tests;
use crate::support::{Ctx, TempDir, TestResult, ensure, ensure_eq, run, wait_until};
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        image_config_applies_with_dockers_precedence,
        whiteouts_and_opaque_directories_hide_lower_files,
        gzip_zstd_and_docker_schema2_images_run,
        an_index_gives_each_platform_its_image,
        a_handler_without_the_f_flag_is_reached_inside,
        a_tampered_blob_leaves_nothing,
        a_layer_unlike_its_diff_id_leaves_nothing,
        a_killed_pull_leaves_nothing_visible,
        malicious_layers_write_nothing_outside,
        a_registry_that_wants_credentials,
        the_store_runs_images_with_the_registry_gone,
        rmi_refuses_an_image_in_use,
        concurrent_pulls_share_one_copy,
        import_and_load_archives,
        a_hundred_and_twenty_layers_mount,
        debian_minbase_runs_dpkg,
        the_stores_are_closed_to_other_users,
    ]
}

/// A registry with `test/bb:1`, a busybox image with a config of its own.
fn busybox_registry(
    t: &Ctx,
    tag: &str,
) -> Result<(Registry, Layout, String), libtest_mimic::Failed> {
    let registry = Registry::start(tag, None)?;
    let layout = Layout::new(tag)?;
    layout.busybox(t, "bb")?;
    let reference = layout.push("bb", &registry, "test/bb:1", &[])?;
    Ok((registry, layout, reference))
}

fn image_config_applies_with_dockers_precedence(t: &Ctx) -> TestResult {
    let registry = Registry::start("config", None)?;
    let layout = Layout::new("config")?;
    layout.busybox(t, "bb")?;
    layout.config(
        "bb",
        &[
            "--config.env",
            "FOO=image",
            "--config.env",
            "PATH=/bin:/sbin",
            "--config.entrypoint",
            "/bin/sh",
            "--config.entrypoint",
            "-c",
            "--config.cmd",
            "echo cmd $FOO; pwd; id -u; echo $HOME",
            "--config.workingdir",
            "/srv/app",
            "--config.user",
            "nobody",
        ],
    )?;
    let image = layout.push("bb", &registry, "test/config:1", &[])?;
    let store = Store::new(t)?;
    // No command: Entrypoint + Cmd, in WorkingDir (made), as User, with the image's Env.
    let out = store.tool(t, &["run", "--image", &image])?.success()?;
    ensure(
        out.stderr.contains("Unable to find image"),
        format!("the first run pulls: {}", out.stderr),
    )?;
    ensure_eq(
        out.stdout.as_str(),
        "cmd image\n/srv/app\n65534\n/nonexistent\n",
    )?;
    // A command replaces Cmd (not Entrypoint); -e beats Env; -w and -u beat the image's.
    let out = store
        .tool(
            t,
            &[
                "run",
                "--image",
                &image,
                "-e",
                "FOO=cli",
                "-w",
                "/made/here",
                "-u",
                "0:0",
                "echo $FOO; pwd; id -u",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "cli\n/made/here\n0\n")?;
    // --entrypoint replaces the Entrypoint and drops the image's Cmd.
    let out = store
        .tool(
            t,
            &[
                "run",
                "--image",
                &image,
                "--entrypoint",
                "/bin/echo",
                "plain",
                "words",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "plain words\n")?;
    // The container's own files; the image's layers unchanged by a run.
    let out = store
        .tool(
            t,
            &[
                "run", "--image", &image, "--hostname", "imaged", "-u", "root",
                "cat /etc/hostname; grep -c imaged /etc/hosts; test -f /etc/resolv.conf && echo resolv; touch /bin/new && echo wrote",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "imaged\n1\nresolv\nwrote\n")?;
    store
        .tool(
            t,
            &["run", "--image", &image, "-u", "root", "test ! -e /bin/new"],
        )?
        .success()?;
    let images = store.verb(t, &["images"])?.success()?;
    let line = images
        .stdout
        .lines()
        .find(|l| l.starts_with(&registry.image("test/config")))
        .ok_or(format!("images: {}", images.stdout))?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    ensure(
        cols.get(1) == Some(&"1") && cols.get(2).is_some_and(|id| id.len() == 12),
        format!("images row: {line}"),
    )?;
    // With no command and no Cmd: refused before anything starts.
    layout.config("bb", &["--clear=config.cmd", "--clear=config.entrypoint"])?;
    let bare = layout.push("bb", &registry, "test/bare:1", &[])?;
    store.verb(t, &["pull", "-q", &bare])?.success()?;
    store
        .tool(t, &["run", "--image", &bare])?
        .expect_code(125)?
        .one_line_error("no command specified")?;
    Ok(())
}

fn whiteouts_and_opaque_directories_hide_lower_files(t: &Ctx) -> TestResult {
    let registry = Registry::start("whiteouts", None)?;
    let layout = Layout::new("whiteouts")?;
    layout.busybox(t, "bb")?;
    // umoci writes deletions as whiteouts.
    layout.change("bb", "deleted", |rootfs| {
        std::fs::remove_file(rootfs.join("bin/vi")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(rootfs.join("opt/keep")).map_err(|e| e.to_string())?;
        std::fs::write(rootfs.join("opt/keep/old"), "old").map_err(|e| e.to_string())?;
        Ok(())
    })?;
    // An opaque /opt/keep: nothing below shows through it, only what this layer adds.
    let opaque = tar(&[
        Member::Dir("opt/keep/"),
        Member::File("opt/keep/.wh..wh..opq", b""),
        Member::File("opt/keep/new", b"new"),
        Member::File("etc/.wh.group", b""),
    ]);
    layout.add_layer("deleted", "opaque", &opaque)?;
    let image = layout.push("opaque", &registry, "test/opaque:1", &[])?;
    let store = Store::new(t)?;
    let out = store
        .tool(
            t,
            &[
                "run", "--image", &image,
                "ls /opt/keep; test -e /bin/vi || echo no-vi; test -e /etc/group || echo no-group; test -e /etc/passwd && echo passwd; sh -c 'echo sh'",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "new\nno-vi\nno-group\npasswd\nsh\n")?;
    // The same through a user namespace (each layer an idmapped mount under the overlay):
    // whiteouts and opaque directories hold, the image's files are its root's, and it
    // writes where they are.
    let mapped = store
        .tool(
            t,
            &[
                "run", "--userns", "auto", "--image", &image,
                "ls /opt/keep; test -e /bin/vi || echo no-vi; test -e /etc/group || echo no-group; stat -c %u:%g /opt/keep/new /bin/sh; touch /opt/keep/mine && echo wrote",
            ],
        )?
        .success()?;
    ensure_eq(
        mapped.stdout.as_str(),
        "new\nno-vi\nno-group\n0:0\n0:0\nwrote\n",
    )?;
    // On disk: the whiteout a character device 0:0, the opaque marker an xattr.
    let layers = store.root.path().join("root/image/layers");
    let mut found_whiteout = false;
    let mut found_opaque = false;
    for layer in store.layers() {
        let diff = layers.join(&layer).join("diff");
        if let Ok(meta) = std::fs::symlink_metadata(diff.join("bin/vi")) {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            found_whiteout |= meta.file_type().is_char_device() && meta.rdev() == 0;
        }
        if xattr::get(diff.join("opt/keep"), "trusted.overlay.opaque")
            .ok()
            .flatten()
            .is_some_and(|v| v == b"y")
        {
            found_opaque = true;
        }
    }
    ensure(found_whiteout, "a whiteout is a 0:0 character device")?;
    ensure(
        found_opaque,
        "an opaque directory carries trusted.overlay.opaque=y",
    )
}

fn gzip_zstd_and_docker_schema2_images_run(t: &Ctx) -> TestResult {
    let (registry, layout, gzip) = busybox_registry(t, "formats")?;
    layout.recompress("bb", "bb-zstd", true)?;
    let zstd = layout.push("bb-zstd", &registry, "test/zstd:1", &[])?;
    layout.recompress("bb", "bb-plain", false)?;
    let mut inspect = std::process::Command::new("skopeo");
    inspect.args(["inspect", "--raw", "--tls-verify=false"]);
    inspect.arg(format!("docker://{zstd}"));
    let raw = run(inspect)?.stdout;
    ensure(
        raw.contains("tar+zstd\""),
        format!("the registry holds zstd layers: {raw}"),
    )?;
    let v2s2 = layout.push("bb", &registry, "test/v2s2:1", &["--format", "v2s2"])?;
    let store = Store::new(t)?;
    // skopeo compresses an uncompressed layer on its way to a registry: that one arrives as
    // an OCI layout in a tar, loaded, through the same unpacking.
    let archive = layout.dir.path().join("layout.tar");
    let mut pack = std::process::Command::new("tar");
    pack.arg("-C")
        .arg(layout.oci())
        .arg("-cf")
        .arg(&archive)
        .arg(".");
    ensure(run(pack)?.code == Some(0), "tar the layout")?;
    store
        .verb(t, &["load", "-i", &archive.to_string_lossy()])?
        .success()?;
    let plain = "localhost/image:bb-plain".to_string();
    for image in [&gzip, &zstd, &plain, &v2s2] {
        let out = store
            .tool(t, &["run", "--image", image, "echo", "ran"])?
            .success()?;
        ensure_eq(out.stdout.as_str(), "ran\n")?;
    }
    // One layer content under four encodings: unpacked once.
    ensure_eq(store.layers().len(), 1)?;
    let inspect = store.verb(t, &["image", "inspect", &zstd])?.success()?;
    ensure(
        inspect.stdout.contains("\"RepoDigests\""),
        format!("inspect: {}", inspect.stdout),
    )
}

/// A static aarch64 program that says which machine it runs on.
fn aarch64_hello(dir: &TempDir) -> Result<std::path::PathBuf, libtest_mimic::Failed> {
    let src = dir.file(
        "hello.c",
        b"#include <stdio.h>\n#include <sys/utsname.h>\nint main(void){struct utsname u; uname(&u); printf(\"hello from %s\\n\", u.machine); return 0;}\n",
        0o644,
    )?;
    let bin = dir.path().join("hello");
    let mut cc = std::process::Command::new("aarch64-linux-gnu-gcc");
    cc.args(["-static", "-O2", "-o"]).arg(&bin).arg(&src);
    let out = run(cc)?;
    ensure(
        out.code == Some(0),
        format!("aarch64-linux-gnu-gcc: {}", out.stderr),
    )?;
    Ok(bin)
}

fn an_index_gives_each_platform_its_image(t: &Ctx) -> TestResult {
    let registry = Registry::start("index", None)?;
    let layout = Layout::new("index")?;
    layout.busybox(t, "amd")?;
    let scratch = TempDir::new("aarch64")?;
    let hello = aarch64_hello(&scratch)?;
    std::process::Command::new("umoci")
        .args(["new", "--image", &format!("{}:arm", layout.oci())])
        .status()
        .map_err(|e| e.to_string())?;
    layout.change("arm", "arm", |rootfs| {
        std::fs::copy(&hello, rootfs.join("hello")).map_err(|e| e.to_string())?;
        Ok(())
    })?;
    layout.config(
        "arm",
        &["--architecture", "arm64", "--config.cmd", "/hello"],
    )?;
    // A platform no host has a handler for.
    layout.change("amd", "ia", |_| Ok(()))?;
    layout.config("ia", &["--architecture", "ia64"])?;
    layout.index_of(
        "multi",
        &[
            ("amd", "linux", "amd64"),
            ("arm", "linux", "arm64"),
            ("ia", "linux", "ia64"),
        ],
    )?;
    let oci = layout.push("multi", &registry, "test/multi:1", &["--all"])?;
    let list = layout.push(
        "multi",
        &registry,
        "test/list:1",
        &["--all", "--format", "v2s2"],
    )?;
    let store = Store::new(t)?;
    for image in [&oci, &list] {
        let out = store
            .tool(t, &["run", "--image", image, "echo", "native"])?
            .success()?;
        ensure_eq(out.stdout.as_str(), "native\n")?;
        let out = store
            .tool(t, &["run", "--platform", "linux/arm64", "--image", image])?
            .success()?;
        ensure_eq(out.stdout.as_str(), "hello from aarch64\n")?;
    }
    store
        .verb(t, &["pull", "-q", "--platform", "linux/ia64", &oci])?
        .success()?;
    let out = store
        .tool(
            t,
            &["run", "--platform", "linux/ia64", "--image", &oci, "true"],
        )?
        .expect_code(125)?;
    out.one_line_error("linux/ia64")?;
    ensure(
        out.stderr.contains("qemu-user-static"),
        format!("the fix is named: {}", out.stderr),
    )?;
    let out = store
        .verb(t, &["pull", "--platform", "linux/s390x", &oci])?
        .expect_code(1)?;
    out.one_line_error("no matching manifest for linux/s390x")?;
    ensure(
        out.stderr.contains("linux/arm64"),
        format!("what the index has is named: {}", out.stderr),
    )
}

/// A binfmt_misc handler, unregistered on drop.
struct Handler(std::path::PathBuf);

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "-1");
    }
}

/// Without binfmt_misc's `F` flag the kernel opens the interpreter by its path when the
/// container execs a foreign program: the container must see it there. A handler of our own for
/// a platform no machine emulates (VAX: ELF machine 75), with a host program as interpreter.
fn a_handler_without_the_f_flag_is_reached_inside(t: &Ctx) -> TestResult {
    let scratch = TempDir::new("binfmt")?;
    let src = scratch.file(
        "interp.c",
        b"#include <stdio.h>\nint main(int c, char **v){printf(\"emulated %s\\n\", c > 1 ? v[1] : \"?\"); return 0;}\n",
        0o644,
    )?;
    let interp = scratch.path().join("vax-interp");
    let mut cc = std::process::Command::new("gcc");
    cc.args(["-static", "-O2", "-o"]).arg(&interp).arg(&src);
    ensure(run(cc)?.code == Some(0), "gcc")?;
    // ELF, 64-bit, little-endian, executable, machine 75: nothing else on a host is that.
    let mut magic = vec![
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 75, 0,
    ];
    let hex = |b: &[u8]| b.iter().map(|x| format!("\\x{x:02x}")).collect::<String>();
    let mask = hex(&[0xff; 20]);
    let rule = format!(":qemu-vax:M::{}:{mask}:{}:", hex(&magic), interp.display());
    let registered = std::path::Path::new("/proc/sys/fs/binfmt_misc/qemu-vax");
    ensure(!registered.exists(), "no qemu-vax handler before the test")?;
    std::fs::write("/proc/sys/fs/binfmt_misc/register", rule)
        .map_err(|e| format!("register: {e}"))?;
    let _handler = Handler(registered.to_path_buf());
    let flags = std::fs::read_to_string(registered).map_err(|e| e.to_string())?;
    ensure(
        flags.contains("flags: \n"),
        format!("registered without F: {flags}"),
    )?;
    // The image: busybox, and /hello, a "VAX program" (its header is all the kernel reads).
    magic.resize(64, 0);
    let registry = Registry::start("binfmt", None)?;
    let layout = Layout::new("binfmt")?;
    layout.busybox(t, "bb")?;
    layout.change("bb", "vax", |rootfs| {
        use std::os::unix::fs::PermissionsExt;
        let hello = rootfs.join("hello");
        std::fs::write(&hello, &magic).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&hello, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string().into())
    })?;
    layout.config("vax", &["--architecture", "vax", "--config.cmd", "/hello"])?;
    let image = layout.push("vax", &registry, "test/vax:1", &[])?;
    let store = Store::new(t)?;
    store
        .verb(t, &["pull", "-q", "--platform", "linux/vax", &image])?
        .success()?;
    let out = store
        .tool(t, &["run", "--platform", "linux/vax", "--image", &image])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "emulated /hello\n")
}

fn a_tampered_blob_leaves_nothing(t: &Ctx) -> TestResult {
    let (registry, layout, image) = busybox_registry(t, "tampered")?;
    let manifest = layout.manifest("bb")?;
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let file = registry.blob_file(&layer);
    let mut bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
    let store = Store::new(t)?;
    let out = store.verb(t, &["pull", &image])?.expect_code(1)?;
    out.one_line_error(&layer)?;
    ensure_eq(store.layers(), Vec::<String>::new())?;
    ensure_eq(store.staging(), Vec::<String>::new())?;
    ensure_eq(store.images_recorded(), Vec::<String>::new())?;
    // And a run of it starts nothing.
    store
        .tool(t, &["run", "--image", &image, "true"])?
        .expect_code(125)?;
    Ok(())
}

fn a_layer_unlike_its_diff_id_leaves_nothing(t: &Ctx) -> TestResult {
    let registry = Registry::start("diffid", None)?;
    let layout = Layout::new("diffid")?;
    layout.busybox(t, "bb")?;
    let wrong = format!("sha256:{}", "0".repeat(64));
    let said = wrong.clone();
    layout.edit_config("bb", "lying", move |config| {
        config["rootfs"]["diff_ids"][0] = said.into();
    })?;
    let image = layout.push("lying", &registry, "test/lying:1", &[])?;
    let store = Store::new(t)?;
    let out = store.verb(t, &["pull", &image])?.expect_code(1)?;
    out.one_line_error(&wrong)?;
    ensure_eq(store.layers(), Vec::<String>::new())?;
    ensure_eq(store.staging(), Vec::<String>::new())?;
    ensure_eq(store.images_recorded(), Vec::<String>::new())
}

/// A pull killed at some moment: whatever it had done, the store shows a whole image or
/// none, and what it left half-done goes with the next collection.
fn a_killed_pull_leaves_nothing_visible(t: &Ctx) -> TestResult {
    let registry = Registry::start("killed", None)?;
    let layout = Layout::new("killed")?;
    layout.busybox(t, "bb")?;
    // 16 MiB that do not compress: the download takes a moment even on loopback.
    let mut noise = vec![0u8; 16 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in noise.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    layout.add_layer("bb", "big", &tar(&[Member::File("noise", &noise)]))?;
    let image = layout.push("big", &registry, "test/big:1", &[])?;
    let store = Store::new(t)?;
    for delay_ms in [50, 150, 400] {
        let mut pull = crate::support::Running::spawn(
            store
                .cli(t, &["pull", "-q", &image])
                .stdout(std::process::Stdio::null()),
        )?;
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = pull.kill();
        let _ = pull.wait();
        let recorded = store.images_recorded();
        let layers = store.layers();
        ensure(
            (recorded.is_empty() && layers.len() <= 1)
                || (recorded.len() == 1 && layers.len() == 2),
            format!("after {delay_ms} ms: images {recorded:?}, layers {layers:?}"),
        )?;
        // Every layer that is visible is whole.
        for layer in &layers {
            let diff = store
                .root
                .path()
                .join("root/image/layers")
                .join(layer)
                .join("diff");
            ensure(diff.is_dir(), format!("layer {layer} has its content"))?;
        }
        store.verb(t, &["image", "prune", "-f"])?.success()?;
        ensure_eq(store.staging(), Vec::<String>::new())?;
        store.verb(t, &["rmi", "-f", &image])?;
        store.verb(t, &["image", "prune", "-f"])?.success()?;
    }
    // And a pull that is let finish runs.
    let out = store
        .tool(t, &["run", "--image", &image, "wc", "-c", "/noise"])?
        .success()?;
    ensure(
        out.stdout.starts_with(&(16u32 << 20).to_string()),
        out.stdout,
    )
}

fn malicious_layers_write_nothing_outside(t: &Ctx) -> TestResult {
    let (registry, layout, _) = busybox_registry(t, "malicious")?;
    let host = TempDir::new("malicious-host")?;
    let victim = host.file("victim", b"untouched\n", 0o644)?;
    let outside = host.path().to_string_lossy().into_owned();
    let climb = format!("../../../../../../../../..{outside}/climbed");
    let through_link = "escape/written".to_string();
    let abs = format!("{outside}/absolute");
    let attacks: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        (
            "climb",
            tar(&[Member::File(&climb, b"x")]),
            Some("leaves the layer"),
        ),
        (
            "symlink",
            tar(&[
                Member::Symlink("escape", &outside),
                Member::File(&through_link, b"x"),
            ]),
            Some("not a directory of this layer"),
        ),
        (
            "hardlink-up",
            tar(&[Member::Hardlink("hl", "../../../../../../../../etc/passwd")]),
            Some("leaves the layer"),
        ),
        (
            "hardlink-abs",
            tar(&[
                Member::Hardlink("hl", &victim),
                Member::File("hl", b"overwritten\n"),
            ]),
            Some("must be a file of this layer"),
        ),
        // A whiteout of `..` would empty the directory above the layer's root.
        (
            "whiteout-up",
            tar(&[Member::File(".wh...", b""), Member::File("etc/.wh..", b"")]),
            Some("is not a name"),
        ),
        // overlayfs's own attributes from a layer would hide or redirect lower files.
        (
            "xattr",
            tar(&[
                Member::DirWithXattr("etc/", "trusted.overlay.opaque", b"y"),
                Member::File("etc/evil", b"x"),
            ]),
            None,
        ),
        // An absolute name is a name inside the layer: it pulls, and lands there.
        ("absolute", tar(&[Member::File(&abs, b"inside\n")]), None),
    ];
    let store = Store::new(t)?;
    for (name, layer, refused) in &attacks {
        layout.add_layer("bb", name, layer)?;
        let image = layout.push(name, &registry, &format!("test/{name}:1"), &[])?;
        let out = store.verb(t, &["pull", &image])?;
        match refused {
            Some(why) => {
                let out = out.expect_code(1)?;
                out.one_line_error(why)?;
            }
            None => {
                out.success()?;
                let check = if *name == "absolute" {
                    format!("cat {abs}")
                } else {
                    // The opaque mark was dropped: the lower /etc/passwd still shows.
                    "test -f /etc/passwd && test -f /etc/evil && echo inside".to_string()
                };
                let inside = store
                    .tool(t, &["run", "--image", &image, &check])?
                    .success()?;
                ensure_eq(inside.stdout.as_str(), "inside\n")?;
            }
        }
        ensure_eq(store.staging(), Vec::<String>::new())?;
    }
    let mut left: Vec<String> = std::fs::read_dir(host.path())
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    ensure_eq(left, vec!["victim".to_string()])?;
    ensure_eq(
        std::fs::read_to_string(&victim).map_err(|e| e.to_string())?,
        "untouched\n".to_string(),
    )
}

fn a_registry_that_wants_credentials(t: &Ctx) -> TestResult {
    let registry = Registry::start("auth", Some(("tester", "s3cret")))?;
    let layout = Layout::new("auth")?;
    layout.busybox(t, "bb")?;
    let image = layout.push(
        "bb",
        &registry,
        "private/bb:1",
        &["--dest-creds", "tester:s3cret"],
    )?;
    let store = Store::new(t)?;
    store
        .verb(t, &["pull", &image])?
        .expect_code(1)?
        .one_line_error("login")?;
    store
        .verb(t, &["login", "-u", "tester", "-p", "wrong", &registry.addr])?
        .expect_code(1)?
        .one_line_error("incorrect username or password")?;
    let mut login = store.cli(
        t,
        &["login", "-u", "tester", "--password-stdin", &registry.addr],
    );
    login.stdin(std::process::Stdio::piped());
    let mut child = crate::support::Running::spawn(login.stdout(std::process::Stdio::piped()))?;
    std::io::Write::write_all(child.stdin.as_mut().ok_or("stdin")?, b"s3cret\n")
        .map_err(|e| e.to_string())?;
    drop(child.stdin.take());
    ensure(
        crate::support::wait_child(&mut child)?.success(),
        "login with the right password",
    )?;
    let config = std::fs::read_to_string(store.root.path().join("docker/config.json"))
        .map_err(|e| e.to_string())?;
    ensure(
        config.contains(&registry.addr),
        format!("config.json: {config}"),
    )?;
    let out = store
        .tool(t, &["run", "--image", &image, "echo", "private"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "private\n")?;
    store.verb(t, &["logout", &registry.addr])?.success()?;
    store
        .verb(t, &["pull", &image])?
        .expect_code(1)?
        .one_line_error("login")
}

fn the_store_runs_images_with_the_registry_gone(t: &Ctx) -> TestResult {
    let (mut registry, _layout, image) = busybox_registry(t, "offline")?;
    let store = Store::new(t)?;
    store.verb(t, &["pull", "-q", &image])?.success()?;
    registry.stop();
    let out = store
        .tool(t, &["run", "--image", &image, "echo", "offline"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "offline\n")?;
    ensure(!out.stderr.contains("Unable to find"), "no pull was tried")?;
    // A pull's progress comes first on stderr, as `docker run` shows it; the error last.
    let out = store
        .tool(t, &["run", "--pull", "always", "--image", &image, "true"])?
        .expect_code(125)?;
    ensure(
        out.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("my-container-tui: ") && l.contains(&registry.addr)),
        format!("the registry is named: {}", out.stderr),
    )?;
    store
        .tool(
            t,
            &[
                "run",
                "--pull",
                "never",
                "--image",
                "127.0.0.1:1/none:1",
                "true",
            ],
        )?
        .expect_code(125)?
        .one_line_error("--pull never")
}

fn rmi_refuses_an_image_in_use(t: &Ctx) -> TestResult {
    let (_registry, _layout, image) = busybox_registry(t, "rmi")?;
    let store = Store::new(t)?;
    store
        .tool(
            t,
            &[
                "run", "-d", "--name", "user", "--image", &image, "sleep", "100",
            ],
        )?
        .success()?;
    store
        .verb(t, &["rmi", &image])?
        .expect_code(1)?
        .one_line_error("running container user is using it")?;
    let out = store.verb(t, &["rmi", "-f", &image])?.success()?;
    ensure(
        out.stdout.contains("Untagged:"),
        format!("rmi -f: {}", out.stdout),
    )?;
    let ps = store.verb(t, &["ps"])?.success()?;
    ensure(
        ps.stdout
            .lines()
            .any(|l| l.contains("user") && l.contains(&image)),
        format!("ps shows the image: {}", ps.stdout),
    )?;
    // The container keeps its layers: it still runs programs from them.
    let out = store
        .verb(t, &["exec", "user", "echo", "still"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "still\n")?;
    ensure_eq(store.layers().len(), 1)?;
    t.verb(&["rm", "-f", "user"])?.success()?;
    let pruned = store.verb(t, &["image", "prune", "-f"])?.success()?;
    ensure(
        pruned.stdout.contains("Total reclaimed space"),
        pruned.stdout,
    )?;
    ensure_eq(store.layers(), Vec::<String>::new())?;
    store
        .verb(t, &["rmi", &image])?
        .expect_code(1)?
        .one_line_error("No such image")
}

fn concurrent_pulls_share_one_copy(t: &Ctx) -> TestResult {
    let (_registry, _layout, image) = busybox_registry(t, "concurrent")?;
    let store = Store::new(t)?;
    for round in 0..2 {
        let mut pulls: Vec<crate::support::Running> = (0..4)
            .map(|_| {
                let mut c = store.cli(t, &["pull", "-q", &image]);
                c.stdout(std::process::Stdio::null());
                crate::support::Running::spawn(&mut c)
            })
            .collect::<Result<_, _>>()?;
        // The second round races an rmi against the pulls.
        let rmi = (round == 1).then(|| {
            let mut c = store.cli(t, &["rmi", &image]);
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            crate::support::Running::spawn(&mut c)
        });
        for p in &mut pulls {
            ensure(
                crate::support::wait_child(p)?.success(),
                "every pull succeeds",
            )?;
        }
        if let Some(rmi) = rmi {
            let mut rmi = rmi?;
            crate::support::wait_child(&mut rmi)?;
        }
        ensure_eq(store.staging(), Vec::<String>::new())?;
        // Whatever the order: either the image is whole, or it is gone with its layers.
        let images = store.verb(t, &["images", "-q"])?.success()?;
        if images.stdout.trim().is_empty() {
            store.verb(t, &["image", "prune", "-f"])?.success()?;
            ensure_eq(store.layers(), Vec::<String>::new())?;
        } else {
            ensure_eq(store.layers().len(), 1)?;
            store
                .tool(t, &["run", "--pull", "never", "--image", &image, "true"])?
                .success()?;
        }
    }
    Ok(())
}

fn import_and_load_archives(t: &Ctx) -> TestResult {
    let (_dir, rootfs) = t.busybox_rootfs()?;
    let scratch = TempDir::new("archives")?;
    let tarball = scratch.path().join("rootfs.tar");
    let mut tar_cmd = std::process::Command::new("tar");
    tar_cmd.args(["-C", &rootfs, "-czf"]).arg(&tarball).arg(".");
    ensure(run(tar_cmd)?.code == Some(0), "tar")?;
    let store = Store::new(t)?;
    let out = store
        .verb(t, &["import", &tarball.to_string_lossy(), "imported:1"])?
        .success()?;
    ensure(
        out.stdout.starts_with("sha256:"),
        format!("import: {}", out.stdout),
    )?;
    let out = store
        .tool(
            t,
            &[
                "run",
                "--image",
                "imported:1",
                "--pull",
                "never",
                "echo",
                "imported",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "imported\n")?;
    // docker save and OCI archives, written by skopeo.
    let layout = Layout::new("archives")?;
    layout.busybox(t, "bb")?;
    let saved = scratch.path().join("saved.tar");
    let oci = scratch.path().join("oci.tar");
    for (dest, name) in [
        (
            format!("docker-archive:{}:saved/bb:1", saved.display()),
            "saved/bb:1",
        ),
        (
            format!("oci-archive:{}:oci/bb:1", oci.display()),
            "oci/bb:1",
        ),
    ] {
        let mut copy = std::process::Command::new("skopeo");
        copy.args([
            "copy",
            "--quiet",
            &format!("oci:{}:bb", layout.oci()),
            &dest,
        ]);
        let done = run(copy)?;
        ensure(done.code == Some(0), format!("skopeo: {}", done.stderr))?;
        let file = if name.starts_with("saved") {
            &saved
        } else {
            &oci
        };
        let out = store
            .verb(t, &["load", "-i", &file.to_string_lossy()])?
            .success()?;
        ensure(
            out.stdout.contains("Loaded image"),
            format!("load: {}", out.stdout),
        )?;
        let out = store
            .tool(
                t,
                &["run", "--pull", "never", "--image", name, "echo", "loaded"],
            )?
            .success()?;
        ensure_eq(out.stdout.as_str(), "loaded\n")?;
    }
    store
        .verb(t, &["load", "-i", &tarball.to_string_lossy()])?
        .expect_code(1)?
        .one_line_error("not an image archive")
}

fn a_hundred_and_twenty_layers_mount(t: &Ctx) -> TestResult {
    let registry = Registry::start("layers", None)?;
    let layout = Layout::new("layers")?;
    layout.busybox(t, "l0")?;
    for n in 1..=120 {
        let file = format!("layers/{n:03}");
        let body = format!("{n}\n");
        layout.add_layer(
            &format!("l{}", n - 1),
            &format!("l{n}"),
            &tar(&[Member::Dir("layers/"), Member::File(&file, body.as_bytes())]),
        )?;
    }
    let image = layout.push("l120", &registry, "test/deep:1", &[])?;
    let store = Store::new(t)?;
    let script = "ls /layers | wc -l; cat /layers/001 /layers/120";
    let out = store
        .tool(t, &["run", "--image", &image, script])?
        .success()?;
    ensure_eq(out.stdout.trim_start(), "120\n1\n120\n")?;
    // Kernels before 6.8 take every layer in one option page: short links make them fit.
    let mut legacy = store.command(t, &["run", "--image", &image, script]);
    legacy.env("MCT_OVERLAY_LEGACY", "1");
    let out = run(legacy)?.success()?;
    ensure_eq(out.stdout.trim_start(), "120\n1\n120\n")
}

/// A Debian minbase root filesystem tarball, made with mmdebstrap once and shared by every
/// test run (`MCT_TEST_DEBIAN` names a ready one; else it is built in the target directory).
fn debian_tarball() -> Result<std::path::PathBuf, libtest_mimic::Failed> {
    if let Some(ready) = std::env::var_os("MCT_TEST_DEBIAN") {
        return Ok(ready.into());
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let tarball = dir.join("debian-minbase.tar");
    let lock = std::fs::File::create(dir.join("debian.lock")).map_err(|e| e.to_string())?;
    let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e.to_string())?;
    if !tarball.is_file() {
        let partial = dir.join("debian-minbase.partial.tar");
        let _ = std::fs::remove_file(&partial);
        // In a mount namespace of its own: mmdebstrap mounts /proc, /sys and /dev in the
        // chroot it builds, which other tests would see on the host meanwhile.
        let mut cmd = std::process::Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "mmdebstrap"])
            .args([
                "--quiet",
                "--variant=minbase",
                "--mode=root",
                "--format=tar",
            ])
            .arg(debian_suite())
            .arg(&partial);
        let status = cmd.status().map_err(|e| format!("mmdebstrap: {e}"))?;
        ensure(status.success(), "mmdebstrap built the rootfs")?;
        std::fs::rename(&partial, &tarball).map_err(|e| e.to_string())?;
    }
    Ok(tarball)
}

/// The host's Debian release (mmdebstrap's apt sources follow it).
fn debian_suite() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(str::to_string))
        })
        .unwrap_or_else(|| "bookworm".into())
}

fn debian_minbase_runs_dpkg(t: &Ctx) -> TestResult {
    let tarball = debian_tarball()?;
    let store = Store::new(t)?;
    store
        .verb(t, &["import", &tarball.to_string_lossy(), "debian:minbase"])?
        .success()?;
    let out = store
        .tool(
            t,
            &[
                "run", "--image", "debian:minbase", "--pull", "never",
                "dpkg-query -W -f='${Status}\\n' dpkg base-files; dpkg --audit && echo audited; . /etc/os-release; echo $ID",
            ],
        )?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "install ok installed\ninstall ok installed\naudited\ndebian\n",
    )?;
    // A user from the image's own passwd, with its home and groups.
    let out = store
        .tool(
            t,
            &[
                "run",
                "--image",
                "debian:minbase",
                "--pull",
                "never",
                "-u",
                "nobody",
                "id -un; echo $HOME",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "nobody\n/nonexistent\n")?;
    wait_until("nothing left running", || t.processes().is_empty())
}

/// What images and containers put in the stores (a setuid-root binary and a 0666 block device
/// node carried by a layer, a setuid binary a container wrote into a named volume) is out of
/// reach of every host user but root, and a store left open by an older build (0755) is
/// closed again on its next use. The scratch directory holding the store is open to the
/// attacker, so only the store's own modes stop them.
fn the_stores_are_closed_to_other_users(t: &Ctx) -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let (registry, layout, _) = busybox_registry(t, "closed")?;
    let busybox = std::fs::read("/bin/busybox").map_err(|e| e.to_string())?;
    let layer = tar(&[
        Member::Setuid("suid", &busybox),
        Member::BlockDevice("disk", 7, 0),
    ]);
    layout.add_layer("bb", "hostile", &layer)?;
    let image = layout.push("hostile", &registry, "test/hostile:1", &[])?;
    let store = Store::new(t)?;
    let root = store.root.path().join("root");
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::create_dir_all(root.join("image")).map_err(|e| e.to_string())?;
    for dir in [store.root.path(), &root, &root.join("image")] {
        std::fs::set_permissions(dir, open.clone()).map_err(|e| e.to_string())?;
    }
    store.verb(t, &["pull", &image])?.success()?;
    let volume = format!("closed-{}", t.namespace());
    store
        .tool(
            t,
            &[
                "-v",
                &format!("{volume}:/data"),
                "--image",
                &image,
                "--run",
                "sh",
                "-c",
                "cp /bin/busybox /data/suid && chmod 4755 /data/suid",
            ],
        )?
        .success()?;
    for dir in [&root, &root.join("image")] {
        let mode = std::fs::metadata(dir)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        ensure_eq(format!("{:o}", mode & 0o777), "700".to_string())?;
    }
    let mut targets: Vec<String> = store
        .layers()
        .iter()
        .map(|l| root.join("image/layers").join(l).join("diff"))
        .filter(|d| d.join("suid").exists())
        .flat_map(|d| [d.join("suid"), d.join("disk")])
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    ensure_eq(targets.len(), 2)?;
    targets.push(
        root.join("volumes")
            .join(&volume)
            .join("_data/suid")
            .to_string_lossy()
            .into_owned(),
    );
    for target in &targets {
        ensure(
            std::path::Path::new(target).exists(),
            format!("{target} is not there"),
        )?;
    }
    let nobody = |script: &str, arg: &str| crate::support::as_nobody(script, &[arg]);
    // The door up to the store is open: the scratch directory lists for them.
    let reach = nobody("ls \"$1\"", &store.root.path().to_string_lossy())?;
    ensure(
        reach.status.success(),
        "the scratch directory is closed to nobody",
    )?;
    for target in &targets {
        let script = if target.ends_with("disk") {
            "head -c 1 \"$1\" >/dev/null"
        } else {
            "\"$1\" id -u"
        };
        let out = nobody(script, target)?;
        ensure(
            !out.status.success(),
            format!(
                "uid 65534 used {target}: {}",
                String::from_utf8_lossy(&out.stdout)
            ),
        )?;
    }
    store.verb(t, &["volume", "rm", &volume])?.success()?;
    Ok(())
}
