//! Images made here leave the machine: `commit`, `save`, `push`, `build`. Each is checked
//! from outside: the registry's own files, skopeo (containers/image, what podman reads
//! archives with), a fresh store that pulls or loads the result and runs it.

use crate::registry::{Registry, Store};
use crate::root_tests;
use crate::support::{Ctx, TempDir, TestResult, ensure, ensure_eq, run};
use libtest_mimic::Trial;
use std::process::Command;

pub fn tests() -> Vec<Trial> {
    root_tests![
        commit_hides_deletions_and_keeps_links,
        save_is_read_by_skopeo_and_by_load,
        push_round_trips_mounts_and_a_failed_push_tags_nothing,
    ]
}

/// A busybox image in `store` as `name` (imported from a rootfs tarball).
pub fn busybox_image(t: &Ctx, store: &Store, name: &str) -> TestResult {
    let (_dir, rootfs) = t.busybox_rootfs()?;
    let scratch = TempDir::new("made-import")?;
    let tarball = scratch.path().join("rootfs.tar");
    let mut tar = Command::new("tar");
    tar.args(["-C", &rootfs, "-cf"]).arg(&tarball).arg(".");
    ensure(run(tar)?.code == Some(0), "tar")?;
    store
        .verb(t, &["import", &tarball.to_string_lossy(), name])?
        .success()?;
    Ok(())
}

/// Runs a detached container of `image` that runs `script` and then sleeps; waits for `done`
/// to exist in it.
fn changed(t: &Ctx, store: &Store, name: &str, image: &str, script: &str) -> TestResult {
    store
        .tool(
            t,
            &[
                "run",
                "-d",
                "--name",
                name,
                "--network",
                "none",
                image,
                "sh",
                "-c",
                &format!("{script}; touch /done; sleep 600"),
            ],
        )?
        .success()?;
    crate::support::wait_until("the container's changes", || {
        store
            .verb(t, &["diff", name])
            .is_ok_and(|o| o.stdout.contains("A /done"))
    })
}

/// The entries of the blob of `image`'s top layer, as `tar -tvz` lists them.
fn top_layer_entries(store: &Store, t: &Ctx, image: &str) -> Result<String, libtest_mimic::Failed> {
    let scratch = TempDir::new("made-entries")?;
    let archive = scratch.path().join("a.tar");
    store
        .verb(
            t,
            &[
                "save",
                "--format",
                "oci-archive",
                "-o",
                &archive.to_string_lossy(),
                image,
            ],
        )?
        .success()?;
    let mut untar = Command::new("tar");
    untar.arg("-C").arg(scratch.path()).arg("-xf").arg(&archive);
    ensure(run(untar)?.code == Some(0), "untar")?;
    let index: serde_json::Value = serde_json::from_slice(
        &std::fs::read(scratch.path().join("index.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let blob = |d: &str| {
        scratch
            .path()
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap_or("")))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let top = manifest["layers"]
        .as_array()
        .and_then(|l| l.last())
        .and_then(|l| l["digest"].as_str())
        .ok_or("no layers")?
        .to_string();
    let mut list = Command::new("tar");
    list.arg("-tvzf").arg(blob(&top));
    let out = run(list)?;
    ensure(out.code == Some(0), format!("tar -t: {}", out.stderr))?;
    Ok(out.stdout)
}

fn commit_hides_deletions_and_keeps_links(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    busybox_image(t, &store, "base:1")?;
    changed(
        t,
        &store,
        "changer",
        "base:1",
        "rm /etc/group; rm -rf /usr; mkdir /usr; echo new > /usr/only; echo hi > /hello; ln /hello /hello2",
    )?;
    let id = store
        .verb(
            t,
            &[
                "commit",
                "-m",
                "a change",
                "-c",
                "CMD [\"cat\", \"/hello\"]",
                "-c",
                "ENV MADE=here",
                "changer",
                "made:1",
            ],
        )?
        .success()?
        .stdout;
    ensure(
        id.trim().starts_with("sha256:"),
        format!("commit prints the id: {id}"),
    )?;
    // The image's own command and environment, as -c set them.
    let out = store
        .tool(t, &["run", "--rm", "--network", "none", "made:1"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "hi\n")?;
    let out = store
        .tool(
            t,
            &[
                "run",
                "--rm",
                "--network",
                "none",
                "made:1",
                "sh",
                "-c",
                "echo $MADE; ls /usr; test -e /etc/group || echo no-group; stat -c %h /hello",
            ],
        )?
        .success()?;
    // The whiteout hides /etc/group; the opaque /usr hides busybox's /usr/bin; the link stays.
    ensure_eq(out.stdout.as_str(), "here\nonly\nno-group\n2\n")?;
    let entries = top_layer_entries(&store, t, "made:1")?;
    for wanted in ["etc/.wh.group", "usr/.wh..wh..opq", "hello2 link to hello"] {
        ensure(
            entries.contains(wanted),
            format!("{wanted} in the layer:\n{entries}"),
        )?;
    }
    ensure(
        !entries.contains("etc/hosts"),
        format!("our /etc files stay out:\n{entries}"),
    )?;
    let history = store
        .verb(t, &["history", "--format", "{{.Comment}}", "made:1"])?
        .success()?
        .stdout;
    ensure(
        history.starts_with("a change\n"),
        format!("history: {history}"),
    )?;
    // The same changes give the same layer: the layer's digest is its content's.
    let again = |name: &str| -> Result<String, libtest_mimic::Failed> {
        let out = store.verb(t, &["commit", "changer", name])?.success()?;
        let _ = out;
        let list = top_layer_entries(&store, t, name)?;
        Ok(list)
    };
    ensure_eq(again("made:2")?, again("made:3")?)?;
    // What commit refuses, with one line each.
    store
        .verb(t, &["commit", "-c", "RUN rm -rf /", "changer", "bad:1"])?
        .expect_code(1)?
        .one_line_error("RUN is not a change commit can make")?;
    store
        .verb(t, &["commit", "no-such-container"])?
        .expect_code(1)?
        .one_line_error("no such container")?;
    let (_dir, root) = t.busybox_rootfs()?;
    store
        .tool(
            t,
            &[
                "run",
                "-d",
                "--name",
                "onroot",
                "--network",
                "none",
                "--rootfs",
                &root,
                "sleep",
                "600",
            ],
        )?
        .success()?;
    store
        .verb(t, &["commit", "onroot", "x:1"])?
        .expect_code(1)?
        .one_line_error("does not run an image")?;
    store
        .verb(t, &["rm", "-f", "changer", "onroot"])?
        .success()?;
    Ok(())
}

fn save_is_read_by_skopeo_and_by_load(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    busybox_image(t, &store, "base:1")?;
    changed(t, &store, "saver", "base:1", "echo saved > /greeting")?;
    store
        .verb(
            t,
            &[
                "commit",
                "-c",
                "CMD [\"cat\", \"/greeting\"]",
                "saver",
                "saved:1",
            ],
        )?
        .success()?;
    store.verb(t, &["rm", "-f", "saver"])?.success()?;
    let scratch = TempDir::new("made-save")?;
    for format in ["docker-archive", "oci-archive"] {
        let archive = scratch.path().join(format!("{format}.tar"));
        let archive = archive.to_string_lossy();
        store
            .verb(t, &["save", "--format", format, "-o", &archive, "saved:1"])?
            .success()?;
        // containers/image (podman load's reader) takes it whole, checking every digest.
        let copy = scratch.path().join(format!("copy-{format}"));
        let mut skopeo = Command::new("skopeo");
        let source = match format {
            "docker-archive" => format!("docker-archive:{archive}"),
            _ => format!("oci-archive:{archive}:1"),
        };
        skopeo
            .args(["copy", "-q", &source])
            .arg(format!("oci:{}:t", copy.display()));
        let out = run(skopeo)?;
        ensure(
            out.code == Some(0),
            format!("skopeo copy {source}: {}", out.stderr),
        )?;
        // And our own load, into a store that never had it.
        let fresh = Store::another(t, format)?;
        let loaded = fresh.verb(t, &["load", "-i", &archive])?.success()?.stdout;
        ensure(
            loaded.contains("Loaded image: saved:1"),
            format!("load: {loaded}"),
        )?;
        let out = fresh
            .tool(t, &["run", "--rm", "--network", "none", "saved:1"])?
            .success()?;
        ensure_eq(out.stdout.as_str(), "saved\n")?;
    }
    // A failed save writes no file.
    let missing = scratch.path().join("missing.tar");
    store
        .verb(
            t,
            &[
                "save",
                "-o",
                &missing.to_string_lossy(),
                "saved:1",
                "no-such:image",
            ],
        )?
        .expect_code(1)?
        .one_line_error("No such image")?;
    ensure(!missing.exists(), "no archive from a failed save")?;
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    ensure(left.is_empty(), format!("no temporary file left: {left:?}"))?;
    Ok(())
}

fn push_round_trips_mounts_and_a_failed_push_tags_nothing(t: &Ctx) -> TestResult {
    let registry = Registry::start("push", None)?;
    let store = Store::new(t)?;
    busybox_image(t, &store, "base:1")?;
    // 20 MB that does not compress: the layer goes up in 8 MiB chunks.
    changed(
        t,
        &store,
        "pusher",
        "base:1",
        "head -c 20000000 /dev/urandom > /blob; md5sum /blob > /sum",
    )?;
    let target = registry.image("test/pushed:1");
    store.verb(t, &["commit", "pusher", &target])?.success()?;
    store.verb(t, &["rm", "-f", "pusher"])?.success()?;
    let pushed = store.verb(t, &["push", &target])?.success()?.stdout;
    ensure(
        pushed.matches(": Pushed").count() == 3 && pushed.contains("1: digest: sha256:"),
        format!("push: {pushed}"),
    )?;
    let again = store.verb(t, &["push", &target])?.success()?.stdout;
    ensure_eq(again.matches(": Layer already exists").count(), 3)?;
    // Another store pulls it and finds the same bytes.
    let other = Store::another(t, "other")?;
    other.verb(t, &["pull", "-q", &target])?.success()?;
    let out = other
        .tool(
            t,
            &[
                "run",
                "--rm",
                "--network",
                "none",
                &target,
                "md5sum",
                "-c",
                "/sum",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "/blob: OK\n")?;
    // From the pulled image to another repository: its blobs are mounted, not sent again.
    let moved = registry.image("test/moved:1");
    other.verb(t, &["tag", &target, &moved])?.success()?;
    let out = other.verb(t, &["push", &moved])?.success()?.stdout;
    ensure_eq(out.matches(": Mounted from test/pushed").count(), 3)?;
    // A blob changed in the store since it was made is refused, and no tag is left.
    changed(t, &store, "tampered", "base:1", "echo tampered > /t")?;
    let bad = registry.image("test/bad:1");
    store.verb(t, &["commit", "tampered", &bad])?.success()?;
    store.verb(t, &["rm", "-f", "tampered"])?.success()?;
    let layers = store.root.path().join("root/image/layers");
    let newest = std::fs::read_dir(&layers)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.path().join("blob").is_file())
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .ok_or("no layer")?;
    let blob = newest.path().join("blob");
    let mut bytes = std::fs::read(&blob).map_err(|e| e.to_string())?;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).map_err(|e| e.to_string())?;
    store
        .verb(t, &["push", &bad])?
        .expect_code(1)?
        .one_line_error("does not match its digest")?;
    let mut inspect = Command::new("skopeo");
    inspect.args(["inspect", "--tls-verify=false", &format!("docker://{bad}")]);
    let out = run(inspect)?;
    ensure(
        out.code != Some(0),
        format!("no tag after a failed push: {}", out.stdout),
    )?;
    // A name the store does not have.
    store
        .verb(t, &["push", &registry.image("test/none:1")])?
        .expect_code(1)?
        .one_line_error("does not exist locally")?;
    Ok(())
}
