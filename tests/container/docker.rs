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
        formats_and_filters_print_what_scripts_read,
        pause_port_and_stops_side_by_side,
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
    ensure_eq(out.stdout.as_str(), "image\n")?;
    // images: filters and templates.
    let listed = |args: &[&str]| -> Result<String, libtest_mimic::Failed> {
        let mut all = vec!["images"];
        all.extend(args);
        Ok(store.verb(t, &all)?.success()?.stdout)
    };
    let format = ["--format", "{{.Repository}}:{{.Tag}}"];
    ensure_eq(
        listed(&[&["-f", "reference=bbx"][..], &format].concat())?.as_str(),
        "bbx:latest\n",
    )?;
    ensure_eq(
        listed(&[&["-f", "reference=*/test/*"][..], &format].concat())?,
        format!("{reference}\n"),
    )?;
    ensure_eq(listed(&["-q", "-f", "dangling=true"])?.as_str(), "")?;
    ensure_eq(listed(&["-q"])?.lines().count(), 2)
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

/// `--format` templates, `--filter` and `-q`, as scripts use them with Docker; a label an
/// image or a user gave that holds an escape reaches the terminal as text.
fn formats_and_filters_print_what_scripts_read(t: &Ctx) -> TestResult {
    t.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "tier=front",
        "-l",
        "title=\u{1b}]0;owned\u{7}",
        "sleep",
        "60",
    ])?
    .success()?;
    t.run(&[
        "run",
        "-d",
        "--name",
        "db",
        "-l",
        "tier=back",
        "--network",
        "none",
        "sleep",
        "60",
    ])?
    .success()?;
    t.run(&["run", "-d", "--name", "done", "true"])?.success()?;
    crate::support::wait_until("done has exited", || {
        t.verb(&["ps", "-a", "-f", "status=exited", "-q"])
            .is_ok_and(|o| !o.stdout.is_empty())
    })?;
    let names = |args: &[&str]| -> Result<String, libtest_mimic::Failed> {
        let mut all = vec!["ps"];
        all.extend(args);
        all.extend(["--format", "{{.Names}}"]);
        Ok(t.verb(&all)?.success()?.stdout)
    };
    ensure_eq(names(&["-f", "label=tier=front"])?.as_str(), "web\n")?;
    ensure_eq(names(&["-f", "label=tier"])?.as_str(), "db\nweb\n")?;
    ensure_eq(names(&["-f", "network=none"])?.as_str(), "db\n")?;
    ensure_eq(names(&["-a", "-f", "status=exited"])?.as_str(), "done\n")?;
    ensure_eq(
        names(&["-a", "-f", "exited=0", "-f", "name=do"])?.as_str(),
        "done\n",
    )?;
    ensure_eq(
        names(&["-f", "name=web", "-f", "name=db"])?.as_str(),
        "db\nweb\n",
    )?;
    ensure_eq(names(&["-a", "-n", "1"])?.as_str(), "done\n")?;
    let table = t
        .verb(&["ps", "--format", "table {{.Names}}\\t{{.Status}}"])?
        .success()?
        .stdout;
    let lines: Vec<&str> = table.lines().collect();
    ensure(
        lines.len() == 3
            && lines[0].starts_with("NAMES   STATUS")
            && lines[1].starts_with("db      Up "),
        format!("a table with a header, aligned: {table:?}"),
    )?;
    // inspect's template: a field, json, index; the host PID is the one ps reports.
    let pid = t
        .verb(&["inspect", "--format", "{{.State.Pid}}", "web"])?
        .success()?
        .stdout;
    let listed = t
        .verb(&["ps", "-f", "name=web", "--format", "{{.Pid}}"])?
        .success()?
        .stdout;
    ensure(
        pid == listed && pid.trim().parse::<u32>().is_ok_and(|p| p > 1),
        format!("inspect {pid:?}, ps {listed:?}"),
    )?;
    let out = t
        .verb(&[
            "inspect",
            "-f",
            "{{index .Config.Labels \"tier\"}} {{json .State.Running}} {{.Config.Labels.title}}",
            "web",
            "db",
        ])?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "front true \\u{1b}]0;owned\\u{7}\nback true <no value>\n",
    )?;
    t.verb(&["inspect", "-f", "{{.Name", "web"])?
        .expect_code(125)?
        .one_line_error("unclosed action")?;
    let quiet = t.verb(&["ps", "-q", "-f", "label=tier"])?.success()?.stdout;
    ensure(
        quiet.lines().count() == 2 && quiet.lines().all(|l| l.len() == 12),
        format!("-q: {quiet:?}"),
    )?;
    let json = t
        .verb(&["ps", "--format", "json", "-f", "name=db"])?
        .success()?
        .stdout;
    let row: serde_json::Value = serde_json::from_str(json.trim()).map_err(|e| e.to_string())?;
    ensure_eq(row["Labels"].as_str(), Some("tier=back"))?;
    let stats = t.verb(&["stats", "--no-stream", "web"])?.success()?.stdout;
    let header = stats.lines().next().unwrap_or("");
    for column in [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ] {
        ensure(
            header.contains(column),
            format!("stats lacks {column}: {header:?}"),
        )?;
    }
    // Columns line up: each header starts where its cells start.
    let row = stats.lines().nth(1).unwrap_or("");
    let at = header.find("MEM %").unwrap_or(0);
    ensure(
        row.len() > at
            && row[at..].chars().next().is_some_and(|c| c.is_ascii_digit())
            && row.as_bytes()[at - 1] == b' ',
        format!("stats columns misaligned:\n{stats}"),
    )?;
    t.verb(&["rm", "-f", "web", "db", "done"])?.success()?;
    Ok(())
}

/// `pause`/`unpause` freeze a container's processes (and `rm -f` of a paused one ends them
/// and leaves no cgroup); `port` names where a port is published; `stop A B` stops both at
/// once (one after the other, each waits out its own timeout).
fn pause_port_and_stops_side_by_side(t: &Ctx) -> TestResult {
    let ticking = "while :; do echo tick; sleep 0.05; done";
    t.run(&[
        "run", "-d", "--name", "ticker", "-p", "80", "sh", "-c", ticking,
    ])?
    .success()?;
    let ticks = || -> Result<usize, libtest_mimic::Failed> {
        Ok(t.verb(&["logs", "ticker"])?
            .success()?
            .stdout
            .lines()
            .count())
    };
    crate::support::wait_until("ticking", || ticks().is_ok_and(|n| n > 0))?;
    t.verb(&["pause", "ticker"])?.success()?;
    let paused = ticks()?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    ensure_eq(ticks()?, paused)?;
    let state = t
        .verb(&[
            "ps",
            "-f",
            "status=paused",
            "--format",
            "{{.Names}} {{.State}} {{.Status}}",
        ])?
        .success()?
        .stdout;
    ensure(
        state.starts_with("ticker paused Up ") && state.trim_end().ends_with("(Paused)"),
        format!("ps: {state:?}"),
    )?;
    t.verb(&["pause", "ticker"])?
        .expect_code(1)?
        .one_line_error("already paused")?;
    t.verb(&["unpause", "ticker"])?.success()?;
    crate::support::wait_until("ticking again", || ticks().is_ok_and(|n| n > paused))?;
    // The host port a bare `-p 80` took, where inspect says it is.
    let published = t.verb(&["port", "ticker", "80"])?.success()?.stdout;
    let ports = t
        .verb(&[
            "inspect",
            "-f",
            "{{index .NetworkSettings.Ports 0}}",
            "ticker",
        ])?
        .success()?
        .stdout;
    let host_port = published.trim().rsplit(':').next().unwrap_or("");
    ensure(
        published.starts_with("0.0.0.0:")
            && ports.starts_with(&format!("0.0.0.0:{host_port}->80/tcp")),
        format!("port: {published:?}, inspect: {ports:?}"),
    )?;
    t.verb(&["port", "ticker", "81"])?
        .expect_code(1)?
        .one_line_error("no public port '81'")?;
    // Paused, then removed by force: its processes end, its cgroups go.
    t.verb(&["pause", "ticker"])?.success()?;
    let id = t
        .verb(&["inspect", "-f", "{{.Id}}", "ticker"])?
        .success()?
        .stdout
        .trim()
        .to_string();
    t.verb(&["rm", "-f", "ticker"])?.success()?;
    crate::support::wait_until("the paused container's cgroups are gone", || {
        crate::support::our_cgroups()
            .iter()
            .all(|c| !c.to_string_lossy().contains(&id))
            && !std::path::Path::new(&format!("/sys/fs/cgroup/freezer/my-container-tui/{id}"))
                .exists()
    })?;
    // Two containers that ignore SIGTERM (a shell as PID 1): both wait out -t 2, together.
    for name in ["slow1", "slow2"] {
        t.run(&["run", "-d", "--name", name, "sh", "-c", "sleep 60"])?
            .success()?;
    }
    let out = t.verb(&["stop", "-t", "2", "slow1", "slow2"])?.success()?;
    ensure_eq(out.stdout.as_str(), "slow1\nslow2\n")?;
    let finished = |name: &str| -> Result<u64, libtest_mimic::Failed> {
        let text = t
            .verb(&["inspect", "-f", "{{.State.FinishedAt}}", name])?
            .success()?
            .stdout;
        let at =
            humantime::parse_rfc3339_weak(text.trim()).map_err(|e| format!("{text:?}: {e}"))?;
        Ok(at
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_millis() as u64)
    };
    let (a, b) = (finished("slow1")?, finished("slow2")?);
    ensure(
        a.abs_diff(b) < 1500,
        format!(
            "the stops ended {} ms apart: one after the other",
            a.abs_diff(b)
        ),
    )?;
    t.verb(&["rm", "slow1", "slow2"])?.success()?;
    Ok(())
}
