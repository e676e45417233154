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
        build_runs_a_dockerfile_as_dockers_classic_builder,
        build_refuses_what_docker_refuses_with_the_line,
        build_push_rmi_pull_run_round_trips,
    ]
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
    store.import_busybox(t, "base:1")?;
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
    store.import_busybox(t, "base:1")?;
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
    store.import_busybox(t, "base:1")?;
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

/// A build context in a scratch directory: `files` (path, contents), then `Dockerfile`.
fn context(
    tag: &str,
    dockerfile: &str,
    files: &[(&str, &str)],
) -> Result<TempDir, libtest_mimic::Failed> {
    let dir = TempDir::new(&format!("made-ctx-{tag}"))?;
    for (path, contents) in files {
        let at = dir.path().join(path);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&at, contents).map_err(|e| e.to_string())?;
    }
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// The image's config, as `image inspect` prints it.
fn config_of(
    t: &Ctx,
    store: &Store,
    image: &str,
) -> Result<serde_json::Value, libtest_mimic::Failed> {
    let out = store
        .verb(t, &["image", "inspect", image])?
        .success()?
        .stdout;
    let all: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    Ok(all[0]["Config"].clone())
}

fn build_runs_a_dockerfile_as_dockers_classic_builder(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    store.import_busybox(t, "base:1")?;
    let dockerfile = r#"# syntax=docker/dockerfile:1
ARG BASE=base:1
FROM ${BASE} AS tools
ARG WHO=nobody
ENV GREETING=hello \
    OTHER="two words"
WORKDIR /work
COPY src/ ./src/
COPY *.txt ./
ADD archive.tar /unpacked/
RUN echo "$GREETING $WHO" > made.txt && ls /work/src && ls /unpacked
RUN ["/bin/sh", "-c", "echo exec-form > /work/exec.txt"]
SHELL ["/bin/sh", "-ec"]
RUN test "$OTHER" = "two words"
FROM base:1
RUN echo 'app:x:4242:4343::/:/bin/sh' >> /etc/passwd && echo 'crew:x:4343:' >> /etc/group
COPY --chown=app:crew notes.txt /named
LABEL org.example.kind=test
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s CMD true
COPY --from=tools --chown=1000:1000 /work /app
COPY leak /leak
ENTRYPOINT ["cat"]
CMD ["/app/made.txt"]
"#;
    // The archive ADD unpacks, made with tar from a directory of the test's own.
    let payload = TempDir::new("made-payload")?;
    std::fs::write(payload.path().join("inner.txt"), "unpacked\n").map_err(|e| e.to_string())?;
    let ctx = context(
        "full",
        dockerfile,
        &[
            ("src/main.c", "int main;\n"),
            ("src/debug.log", "left out\n"),
            ("notes.txt", "notes\n"),
            ("secret.key", "never copied\n"),
            (".dockerignore", "**/*.log\nsecret.key\n"),
        ],
    )?;
    let mut tar = Command::new("tar");
    tar.arg("-C")
        .arg(payload.path())
        .arg("-cf")
        .arg(ctx.path().join("archive.tar"))
        .arg("inner.txt");
    ensure(run(tar)?.code == Some(0), "tar")?;
    // A link in the context out to the host's secrets: copied as a link, never followed.
    std::os::unix::fs::symlink("/etc/shadow", ctx.path().join("leak"))
        .map_err(|e| e.to_string())?;
    let context_path = ctx.path().to_string_lossy().into_owned();
    // The build as each run below asks for it: tagged, with the same build arg, no network.
    let build = |tag: &str| -> Result<String, libtest_mimic::Failed> {
        Ok(store
            .verb(
                t,
                &[
                    "build",
                    "-t",
                    tag,
                    "--build-arg",
                    "WHO=tester",
                    "--network",
                    "none",
                    &context_path,
                ],
            )?
            .success()?
            .stdout)
    };
    let out = build("built:1")?;
    for wanted in [
        "Note: the syntax directive",
        "Step 1/25 : ARG BASE=base:1",
        "Step 9/25 : RUN echo",
        " ---> Running in build-",
        "main.c\ninner.txt\n",
        "Removing intermediate container",
        "Successfully built ",
        "Successfully tagged built:1",
    ] {
        ensure(
            out.contains(wanted),
            format!("{wanted:?} in the build's output:\n{out}"),
        )?;
    }
    ensure(
        !out.contains("debug.log"),
        format!(".dockerignore leaves *.log out:\n{out}"),
    )?;
    let run_built = |args: &[&str]| -> Result<String, libtest_mimic::Failed> {
        let mut all = vec!["run", "--rm", "--network", "none"];
        all.extend_from_slice(args);
        Ok(store.tool(t, &all)?.success()?.stdout)
    };
    ensure_eq(run_built(&["built:1"])?.as_str(), "hello tester\n")?;
    let listing = run_built(&[
        "--entrypoint",
        "sh",
        "built:1",
        "-c",
        "cat /app/exec.txt /app/notes.txt; ls /app/src; stat -c '%u:%g' /app/made.txt /named; readlink /leak; id -u",
    ])?;
    // .dockerignore left src/debug.log out; the link is a link; --chown and USER hold.
    ensure_eq(
        listing.as_str(),
        "exec-form\nnotes\nmain.c\n1000:1000\n4242:4343\n/etc/shadow\n1000\n",
    )?;
    let config = config_of(t, &store, "built:1")?;
    ensure_eq(config["Labels"]["org.example.kind"].as_str(), Some("test"))?;
    ensure(
        config["ExposedPorts"]["53/udp"].is_object(),
        format!("exposed: {config}"),
    )?;
    ensure(
        config["Volumes"]["/data"].is_object(),
        format!("volumes: {config}"),
    )?;
    ensure_eq(config["User"].as_str(), Some("1000:1000"))?;
    ensure_eq(config["StopSignal"].as_str(), Some("SIGQUIT"))?;
    ensure_eq(config["Entrypoint"].clone(), serde_json::json!(["cat"]))?;
    // Unchanged: every step from the cache, the same image, nothing run.
    let again = build("built:1")?;
    ensure(
        !again.contains("Running in") && again.matches("Using cache").count() == 21,
        format!("a rebuild from the cache:\n{again}"),
    )?;
    let id = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("Successfully built "))
            .map(str::to_string)
    };
    ensure_eq(id(&again), id(&out))?;
    // A changed source file misses from its COPY on; another build arg from the RUN it reaches.
    std::fs::write(ctx.path().join("notes.txt"), "changed\n").map_err(|e| e.to_string())?;
    let changed = build("built:2")?;
    ensure(
        changed.contains("Step 7/25 : COPY *.txt ./\n ---> ")
            && !changed.contains("Step 7/25 : COPY *.txt ./\n ---> Using cache"),
        format!("the changed COPY runs again:\n{changed}"),
    )?;
    ensure(
        changed.contains("Step 6/25 : COPY src/ ./src/\n ---> Using cache"),
        format!("the COPY before it is cached:\n{changed}"),
    )?;
    ensure_eq(
        run_built(&["built:2", "/app/notes.txt"])?.as_str(),
        "changed\n",
    )?;
    // --target stops at a stage; --no-cache runs every step again.
    let target = store
        .verb(
            t,
            &[
                "build",
                "--target",
                "tools",
                "--no-cache",
                "-t",
                "tools:1",
                "--network",
                "none",
                &context_path,
            ],
        )?
        .success()?
        .stdout;
    ensure(
        target.contains("Step 12/12 : RUN test") && !target.contains("Using cache"),
        format!("--target: {target}"),
    )?;
    ensure_eq(
        run_built(&["tools:1", "cat", "/work/made.txt"])?.as_str(),
        "hello nobody\n",
    )?;
    Ok(())
}

fn build_refuses_what_docker_refuses_with_the_line(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    store.import_busybox(t, "base:1")?;
    for (name, dockerfile, files, wanted) in [
        (
            "unknown",
            "FROM base:1\nFROB x\n",
            vec![],
            "Dockerfile line 2: unknown instruction: FROB",
        ),
        (
            "parent",
            "FROM base:1\nCOPY ../outside /x\n",
            vec![],
            "line 2: COPY: ../outside: a source outside the build context is refused",
        ),
        (
            "missing",
            "FROM base:1\nCOPY nothere /x\n",
            vec![],
            "line 2: COPY: nothere: No such file or directory",
        ),
        (
            "ignored",
            "FROM base:1\nCOPY secret /x\n",
            vec![("secret", "s"), (".dockerignore", "secret")],
            "secret: no such file or directory",
        ),
        (
            "url",
            "FROM base:1\nADD http://127.0.0.1:1/x /x\n",
            vec![],
            "ADD from a URL",
        ),
        (
            "fails",
            "FROM base:1\nRUN true\nRUN exit 3\n",
            vec![],
            "line 3: RUN: The command '/bin/sh -c exit 3' returned a non-zero code: 3",
        ),
        ("nofrom", "RUN true\n", vec![], "must begin with FROM"),
        (
            "target",
            "FROM base:1 AS a\n",
            vec![],
            "target stage \"nope\" could not be found",
        ),
        (
            "heredoc",
            "FROM base:1\nRUN <<EOF\ntrue\nEOF\n",
            vec![],
            "heredocs are not supported",
        ),
        (
            "chown",
            // The stage's /etc/passwd a link out of its root: read inside it, never the
            // host's (which has _apt).
            "FROM base:1\nRUN rm /etc/passwd && ln -s ../../../../../../../../etc/passwd /etc/passwd\nCOPY --chown=_apt f /f\n",
            vec![("f", "x")],
            "--chown=_apt: no user _apt in the stage's /etc/passwd",
        ),
        (
            "signal",
            "FROM base:1\nSTOPSIGNAL SIGNOPE\n",
            vec![],
            "line 2: STOPSIGNAL",
        ),
        (
            "noimage",
            "FROM 127.0.0.1:1/none:1\n",
            vec![],
            "line 1: FROM",
        ),
    ] {
        let ctx = context(name, dockerfile, &files)?;
        let mut args = vec!["build", "--network", "none"];
        if name == "target" {
            args.extend(["--target", "nope"]);
        }
        let path = ctx.path().to_string_lossy().into_owned();
        args.push(&path);
        let out = store.verb(t, &args)?;
        ensure(
            out.code == Some(1),
            format!("{name}: exit 1, got {:?}: {}", out.code, out.stderr),
        )?;
        ensure(
            out.stderr.contains(wanted),
            format!("{name}: {wanted:?} in {:?}", out.stderr),
        )?;
    }
    // A failed RUN leaves no container behind.
    let left = store.verb(t, &["ps", "-a", "-q"])?.success()?.stdout;
    ensure(
        left.trim().is_empty(),
        format!("no step container left: {left}"),
    )?;
    Ok(())
}

fn build_push_rmi_pull_run_round_trips(t: &Ctx) -> TestResult {
    let registry = Registry::start("build", None)?;
    let store = Store::new(t)?;
    store.import_busybox(t, "base:1")?;
    let ctx = context(
        "trip",
        "FROM base:1\nRUN echo round trip > /msg\nCMD [\"cat\", \"/msg\"]\n",
        &[],
    )?;
    let target = registry.image("test/built:1");
    let path = ctx.path().to_string_lossy().into_owned();
    store
        .verb(
            t,
            &["build", "-q", "-t", &target, "--network", "none", &path],
        )?
        .success()?;
    let before = store
        .tool(t, &["run", "--rm", "--network", "none", &target])?
        .success()?
        .stdout;
    store.verb(t, &["push", "-q", &target])?.success()?;
    store.verb(t, &["rmi", &target])?.success()?;
    store.verb(t, &["pull", "-q", &target])?.success()?;
    let after = store
        .tool(t, &["run", "--rm", "--network", "none", &target])?
        .success()?
        .stdout;
    ensure_eq(before.as_str(), "round trip\n")?;
    ensure_eq(after, before)?;
    Ok(())
}
