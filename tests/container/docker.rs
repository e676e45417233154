//! Docker's everyday command line, as a Docker user's fingers type it: `run IMAGE CMD`, and
//! the seed's `run CMD` beside it.

use crate::registry::{Layout, Registry, Store};
use crate::root_tests;
use crate::support::{Ctx, TempDir, TestResult, ensure, ensure_eq, run};
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        the_first_word_is_the_image_or_the_hosts_command,
        a_closed_pipe_ends_a_verb_quietly,
        run_d_says_why_it_did_not_start,
        a_tty_adds_nothing_to_piped_output,
    ]
}

/// A busybox rootfs tarball, imported into `store` as `name`.
fn import_busybox(t: &Ctx, store: &Store, name: &str) -> TestResult {
    let (_dir, rootfs) = t.busybox_rootfs()?;
    let scratch = TempDir::new("import")?;
    let tarball = scratch.path().join("rootfs.tar");
    let mut tar = std::process::Command::new("tar");
    tar.args(["-C", &rootfs, "-cf"]).arg(&tarball).arg(".");
    ensure(run(tar)?.code == Some(0), "tar")?;
    store
        .verb(t, &["import", &tarball.to_string_lossy(), name])?
        .success()?;
    Ok(())
}

fn the_first_word_is_the_image_or_the_hosts_command(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    // In the image: no bash there (the host has one).
    let in_image = "test -e /bin/bash && echo host || echo image";
    // A name the store holds: `run NAME CMD`.
    import_busybox(t, &store, "bbx")?;
    let out = store
        .tool(t, &["run", "bbx", "sh", "-c", in_image])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "image\n")?;
    let out = store
        .tool(
            t,
            &[
                "--network",
                "none",
                "--run",
                "bbx:latest",
                "sh",
                "-c",
                in_image,
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "image\n")?;
    // The seed's contract: a host command stays one, and `--host` makes a name the store
    // holds one too; a missing one exits 127 before anything starts, naming the image.
    let out = store.tool(t, &["run", "sh", "-c", in_image])?.success()?;
    ensure_eq(out.stdout.as_str(), "host\n")?;
    let out = store.tool(t, &["--host", "run", "bbx"])?.expect_code(127)?;
    out.one_line_error("did you mean the image bbx?")?;
    let out = store
        .tool(t, &["run", "no-such-command-here", "x"])?
        .expect_code(127)?;
    out.one_line_error("--image no-such-command-here pulls it")?;
    ensure(
        t.containers_left().is_empty(),
        "a refused run left a container",
    )?;
    // A reference with a registry is an image: pulled when missing, its Cmd run when no
    // command follows (also `--image REF --run`).
    let registry = Registry::start("positional", None)?;
    let layout = Layout::new("positional")?;
    layout.busybox(t, "bb")?;
    layout.config(
        "bb",
        &["--config.cmd", "echo", "--config.cmd", "its own cmd"],
    )?;
    let reference = layout.push("bb", &registry, "test/bb:1", &[])?;
    let out = store.tool(t, &["run", &reference])?.success()?;
    ensure_eq(out.stdout.as_str(), "its own cmd\n")?;
    ensure(
        out.stderr.contains("Unable to find image"),
        format!("pulled: {}", out.stderr),
    )?;
    let out = store
        .tool(t, &["--image", &reference, "--run"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "its own cmd\n")?;
    let out = store
        .tool(t, &["run", &reference, "sh", "-c", in_image])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "image\n")
}

/// `inspect C | head -1`: the reader has gone before the verb writes; it ends as `cat` would,
/// without a word on stderr (it was a Rust panic and its backtrace hint).
fn a_closed_pipe_ends_a_verb_quietly(t: &Ctx) -> TestResult {
    use std::os::unix::process::ExitStatusExt;
    t.run(&["run", "-d", "--name", "piped", "sleep", "60"])?
        .success()?;
    for verb in [
        &["inspect", "piped"][..],
        &["ps", "-a"],
        &["images"],
        &["stats", "--no-stream"],
    ] {
        let (reader, writer) = std::io::pipe().map_err(|e| e.to_string())?;
        drop(reader);
        let out = t
            .cli(verb)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure(
            stderr.is_empty() && out.status.signal() == Some(13),
            format!("{verb:?}: {:?}, stderr {stderr:?}", out.status),
        )?;
    }
    t.verb(&["rm", "-f", "piped"])?.success()?;
    Ok(())
}

/// A detached start that fails names the cause as a foreground one does (it said "the
/// container's monitor ended before it started the container: no reason given").
fn run_d_says_why_it_did_not_start(t: &Ctx) -> TestResult {
    t.run(&["run", "-d", "--network", "no-such-net", "true"])?
        .expect_code(125)?
        .one_line_error("no such network: no-such-net")?;
    let taken = std::net::TcpListener::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    let port = taken.local_addr().map_err(|e| e.to_string())?.port();
    let publish = format!("{port}:80");
    for detach in [true, false] {
        let mut args = vec!["run", "-p", &publish, "true"];
        if detach {
            args.insert(1, "-d");
        }
        t.run(&args)?
            .expect_code(125)?
            .one_line_error("the port is already in use on the host")?;
    }
    ensure(
        t.verb(&["ps", "-aq"])?.stdout.is_empty(),
        "a failed run -d left its container",
    )
}

/// `-t` with stdout a pipe: the bytes the command wrote, no `\r\n` of ours after them.
fn a_tty_adds_nothing_to_piped_output(t: &Ctx) -> TestResult {
    for args in [
        &["--network", "none", "-t", "--run", "printf", "abc"][..],
        &[
            "--network",
            "none",
            "-t",
            "--init",
            "--run",
            "printf",
            "abc",
        ],
    ] {
        let out = t.run(args)?.success()?;
        ensure_eq(out.stdout.as_str(), "abc")?;
    }
    Ok(())
}
