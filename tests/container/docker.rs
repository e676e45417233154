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
        the_flags_docker_users_type,
        create_exec_d_logs_since_and_prune,
        diff_update_and_top,
        the_images_config_all_of_it,
        namespaces_shared_as_asked,
        logs_rotate_as_told_or_are_not_kept,
        health_checks_run_with_dockers_timing,
        cp_copies_in_and_out_never_through_a_link,
        events_tell_what_happened,
        tag_and_history_name_and_explain_an_image,
    ]
}

fn the_first_word_is_the_image_or_the_hosts_command(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    // In the image: no bash there (the host has one).
    let in_image = "test -e /bin/bash && echo host || echo image";
    // A name the store holds: `run NAME CMD`.
    store.import_busybox(t, "bbx")?;
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
            && lines[0].starts_with("NAMES     STATUS")
            && lines[1].starts_with("db        Up "),
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

/// The run flags Docker users type, each checked from inside the container it made.
fn the_flags_docker_users_type(t: &Ctx) -> TestResult {
    let dir = TempDir::new("flags")?;
    let env_file = dir.file(
        "env",
        b"# a comment\nFROM_FILE=one two\n\nQUOTED=\"kept\"\n",
        0o644,
    )?;
    let cid = dir.path().join("cid");
    let cid = cid.to_string_lossy();
    let script = "echo \"$FROM_FILE|$QUOTED\"; grep -c db.example /etc/hosts; \
        grep -E '^(nameserver|search|options)' /etc/resolv.conf; id -G; ulimit -n; ulimit -Hn; \
        df -k /dev/shm | tail -1 | awk '{print $2}'; grep Cpus_allowed_list /proc/self/status | cut -f2; \
        grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | cut -f2; \
        ls /tmp/etc-ro/hostname; touch /tmp/etc-ro/x 2>/dev/null || echo ro; df -k /tmp/small | tail -1 | awk '{print $2}'";
    let out = t
        .run(&[
            "--network",
            "none",
            "--env-file",
            &env_file,
            "--add-host",
            "db.example:10.1.2.3",
            "--dns",
            "192.0.2.53",
            "--dns-search",
            "example.com",
            "--dns-option",
            "ndots:2",
            "--cidfile",
            &cid,
            "--group-add",
            "27",
            "--group-add",
            "users",
            "--ulimit",
            "nofile=512:1024",
            "--shm-size",
            "8m",
            "--cpuset-cpus",
            "0",
            "--memory-reservation",
            "32m",
            "-m",
            "64m",
            "--security-opt",
            "no-new-privileges=false",
            "--security-opt",
            "seccomp=unconfined",
            "--mount",
            "type=bind,source=/etc,target=/tmp/etc-ro,readonly",
            "--mount",
            "type=tmpfs,target=/tmp/small,tmpfs-size=1m",
            "--run",
            "sh",
            "-c",
            script,
        ])?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "one two|\"kept\"\n1\nnameserver 192.0.2.53\nsearch example.com\noptions ndots:2\n0 27 100\n512\n1024\n8192\n0\n0\n0\n/tmp/etc-ro/hostname\nro\n1024\n",
    )?;
    let id = std::fs::read_to_string(&*cid).map_err(|e| e.to_string())?;
    ensure(id.len() == 64, format!("cidfile: {id:?}"))?;
    t.run(&["--cidfile", &cid, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("container ID file found")?;
    // Refused as Docker refuses them, in one line, before anything starts.
    for (args, says) in [
        (
            &["--security-opt", "apparmor=docker-default"][..],
            "no AppArmor profile",
        ),
        (&["--ulimit", "nofile=9:1"], "soft limit is above"),
        (
            &["--memory-reservation", "64m", "-m", "32m"],
            "soft limit must be below",
        ),
        (
            &["--mount", "type=bind,target=/x"],
            "a bind needs its source=",
        ),
        (&["--cpuset-cpus", "0-x"], "invalid cpuset"),
        (&["--add-host", "nocolon"], "expected NAME:IP"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    // -P publishes --expose'd ports on free host ports; --stop-timeout bounds stop.
    t.run(&[
        "run",
        "-d",
        "--name",
        "exposed",
        "-P",
        "--expose",
        "80",
        "--expose",
        "53/udp",
        "--stop-timeout",
        "1",
        "sh",
        "-c",
        "sleep 60",
    ])?
    .success()?;
    let ports = t.verb(&["port", "exposed"])?.success()?.stdout;
    let lines: Vec<&str> = ports.lines().collect();
    ensure(
        lines.len() == 2
            && lines[0].starts_with("80/tcp -> 0.0.0.0:")
            && lines[1].starts_with("53/udp -> 0.0.0.0:"),
        format!("port: {ports:?}"),
    )?;
    let started = std::time::Instant::now();
    t.verb(&["stop", "exposed"])?.success()?;
    let code = t
        .verb(&["inspect", "-f", "{{.State.ExitCode}}", "exposed"])?
        .success()?
        .stdout;
    // A shell as PID 1 ignores SIGTERM: the SIGKILL came after its own timeout, not 10 s.
    ensure(
        code.trim() == "137" && started.elapsed() < std::time::Duration::from_secs(9),
        format!("exit {code:?} after {:?}", started.elapsed()),
    )?;
    t.verb(&["rm", "exposed"])?.success()?;
    Ok(())
}

/// `create` then `start`; `exec -d`; `logs --since/--until`; `container prune` and
/// `system df`/`system prune` in a store of the test's own.
fn create_exec_d_logs_since_and_prune(t: &Ctx) -> TestResult {
    let store = Store::new(t)?;
    let id = store
        .tool(
            t,
            &[
                "create",
                "--name",
                "made",
                "sh",
                "-c",
                "echo early; sleep 1.5; echo late; sleep 60",
            ],
        )?
        .success()?
        .stdout;
    let state = |name: &str| -> Result<String, libtest_mimic::Failed> {
        Ok(store
            .verb(
                t,
                &[
                    "ps",
                    "-a",
                    "-f",
                    &format!("name={name}"),
                    "--format",
                    "{{.State}} {{.Status}}",
                ],
            )?
            .success()?
            .stdout)
    };
    ensure_eq(state("made")?.as_str(), "created Created\n")?;
    ensure_eq(
        store.verb(t, &["logs", "made"])?.success()?.stdout.as_str(),
        "",
    )?;
    store.verb(t, &["start", "made"])?.success()?;
    ensure(state("made")?.starts_with("running Up"), "started")?;
    ensure_eq(
        store
            .verb(t, &["inspect", "-f", "{{.Id}}", "made"])?
            .success()?
            .stdout,
        id.clone(),
    )?;
    crate::support::wait_until("late", || {
        store
            .verb(t, &["logs", "made"])
            .is_ok_and(|o| o.stdout.contains("late"))
    })?;
    // The time the second line was written, as `logs -t` shows it: since then is that line,
    // until then the first.
    let stamped = store.verb(t, &["logs", "-t", "made"])?.success()?.stdout;
    let late_at = stamped
        .lines()
        .find(|l| l.ends_with(" late"))
        .and_then(|l| l.split_whitespace().next())
        .ok_or(format!("logs -t: {stamped:?}"))?
        .to_string();
    let logs = |args: &[&str]| -> Result<String, libtest_mimic::Failed> {
        let mut all = vec!["logs"];
        all.extend(args);
        all.push("made");
        Ok(store.verb(t, &all)?.success()?.stdout)
    };
    ensure_eq(logs(&["--since", &late_at])?.as_str(), "late\n")?;
    ensure_eq(logs(&["--until", &late_at])?.as_str(), "early\n")?;
    ensure_eq(logs(&["--since", "1h"])?.as_str(), "early\nlate\n")?;
    ensure_eq(logs(&["--until", "2000-01-01"])?.as_str(), "")?;
    // exec -d returns at once; its process runs on inside.
    store
        .verb(
            t,
            &[
                "exec",
                "-d",
                "made",
                "sh",
                "-c",
                "echo bg > /tmp/bg; sleep 60",
            ],
        )?
        .success()?;
    crate::support::wait_until("the background exec wrote", || {
        store
            .verb(t, &["exec", "made", "cat", "/tmp/bg"])
            .is_ok_and(|o| o.stdout == "bg\n")
    })?;
    let top = store.verb(t, &["top", "made"])?.success()?.stdout;
    ensure(top.contains("sh -c echo bg"), format!("top: {top}"))?;
    store
        .verb(t, &["exec", "-d", "made", "no-such-command"])?
        .expect_code(127)?;
    // Prune: the stopped one goes, the running one stays; df counts both.
    store
        .tool(t, &["run", "-d", "--name", "ended", "true"])?
        .success()?;
    crate::support::wait_until("ended has ended", || {
        state("ended").is_ok_and(|s| s.starts_with("exited"))
    })?;
    let df = store.verb(t, &["system", "df"])?.success()?.stdout;
    ensure(
        df.lines().any(|l| {
            l.starts_with("Containers")
                && l.split_whitespace().nth(1) == Some("2")
                && l.split_whitespace().nth(2) == Some("1")
        }),
        format!("system df: {df}"),
    )?;
    let mut confirm = store.cli(t, &["container", "prune"]);
    confirm.stdin(std::process::Stdio::null());
    crate::support::run(confirm)?
        .expect_code(1)?
        .one_line_error("confirm with -f")?;
    let pruned = store
        .verb(t, &["container", "prune", "-f"])?
        .success()?
        .stdout;
    ensure(
        pruned.starts_with("Deleted Containers:\n") && pruned.lines().count() == 4,
        format!("prune: {pruned:?}"),
    )?;
    ensure_eq(
        store
            .verb(t, &["ps", "-aq"])?
            .success()?
            .stdout
            .lines()
            .count(),
        1,
    )?;
    store.import_busybox(t, "unused")?;
    store.verb(t, &["system", "prune", "-a", "-f"])?.success()?;
    ensure_eq(
        store.verb(t, &["images", "-q"])?.success()?.stdout.as_str(),
        "",
    )?;
    store.verb(t, &["rm", "-f", "made"])?.success()?;
    Ok(())
}

/// `diff` lists what a container changed in its root (a link in the image is never followed
/// out), `update` changes a running container's limits, `top` takes `ps` options.
fn diff_update_and_top(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    // The image's own link out to the host: the container writes below it in its root.
    std::os::unix::fs::symlink("/etc", std::path::Path::new(&root).join("hostetc"))
        .map_err(|e| e.to_string())?;
    let script = "echo hi > /new; rm /etc/group; mkdir -p /app/x; echo y >> /etc/passwd; \
        rm /hostetc; mkdir /hostetc; echo z > /hostetc/shadow; sleep 60";
    t.run(&[
        "run",
        "-d",
        "--name",
        "changer",
        "--network",
        "none",
        "-m",
        "64m",
        "--rootfs",
        &root,
        "sh",
        "-c",
        script,
    ])?
    .success()?;
    crate::support::wait_until("the changes are made", || {
        t.verb(&["diff", "changer"])
            .is_ok_and(|o| o.stdout.contains("A /hostetc/shadow"))
    })?;
    let diff = t.verb(&["diff", "changer"])?.success()?.stdout;
    ensure_eq(
        diff.as_str(),
        "A /app\nA /app/x\nC /etc\nD /etc/group\nC /etc/passwd\nC /hostetc\nA /hostetc/shadow\nA /new\n",
    )?;
    t.run(&[
        "run",
        "-d",
        "--name",
        "onhost",
        "--network",
        "none",
        "sleep",
        "60",
    ])?
    .success()?;
    t.verb(&["diff", "onhost"])?
        .expect_code(1)?
        .one_line_error("no layer of changes")?;
    // update: the cgroup's limit, and inspect, say the new values.
    t.verb(&[
        "update",
        "--memory",
        "96m",
        "--pids-limit",
        "40",
        "--cpus",
        "0.5",
        "changer",
    ])?
    .success()?;
    let id = t
        .verb(&["inspect", "-f", "{{.Id}}", "changer"])?
        .success()?
        .stdout
        .trim()
        .to_string();
    let read = |files: &[&str]| {
        files
            .iter()
            .find_map(|f| std::fs::read_to_string(f.replace("ID", &id)).ok())
    };
    let memory = read(&[
        "/sys/fs/cgroup/memory/my-container-tui/ID/memory.limit_in_bytes",
        "/sys/fs/cgroup/my-container-tui/ID/memory.max",
    ]);
    ensure_eq(memory.as_deref().map(str::trim), Some("100663296"))?;
    let quota = read(&[
        "/sys/fs/cgroup/cpu/my-container-tui/ID/cpu.cfs_quota_us",
        "/sys/fs/cgroup/cpu,cpuacct/my-container-tui/ID/cpu.cfs_quota_us",
        "/sys/fs/cgroup/my-container-tui/ID/cpu.max",
    ]);
    ensure(
        quota
            .as_deref()
            .is_some_and(|q| q.trim() == "50000" || q.starts_with("50000 ")),
        format!("cpu quota {quota:?}"),
    )?;
    ensure_eq(
        t.verb(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}",
            "changer",
        ])?
        .success()?
        .stdout
        .as_str(),
        "100663296 40\n",
    )?;
    t.verb(&["update", "--memory", "1m", "changer"])?
        .expect_code(1)?
        .one_line_error("minimum is 6m")?;
    // top with ps options: the host's ps, the container's rows only.
    let top = t
        .verb(&["top", "changer", "-o", "pid,args"])?
        .success()?
        .stdout;
    let lines: Vec<&str> = top.lines().collect();
    ensure(
        // The shell execs its last command: one process, PID 1.
        lines.len() == 2 && lines[0].contains("PID") && lines[1].ends_with("sleep 60"),
        format!("top: {top}"),
    )?;
    t.verb(&["rm", "-f", "changer", "onhost"])?.success()?;
    Ok(())
}

/// An image's Volumes (an anonymous volume each, gone with `rm -v`), StopSignal (what
/// `stop` sends), ExposedPorts (published by `-P`) and Labels.
fn the_images_config_all_of_it(t: &Ctx) -> TestResult {
    let registry = Registry::start("config-all", None)?;
    let layout = Layout::new("config-all")?;
    layout.busybox(t, "bb")?;
    layout.config(
        "bb",
        &[
            "--config.volume",
            "/data",
            "--config.stopsignal",
            "SIGUSR1",
            "--config.exposedports",
            "8080/tcp",
            "--config.label",
            "org.example.tier=cache",
            "--config.cmd",
            "sh",
            "--config.cmd",
            "-c",
            "--config.cmd",
            "trap 'echo got usr1; exit 0' USR1; echo ready > /data/f; while :; do sleep 0.1; done",
        ],
    )?;
    let reference = layout.push("bb", &registry, "test/cfg:1", &[])?;
    let store = Store::new(t)?;
    store.verb(t, &["pull", "-q", &reference])?.success()?;
    store
        .tool(t, &["run", "-d", "--name", "cfg", "-P", &reference])?
        .success()?;
    crate::support::wait_until("ready", || {
        store
            .verb(t, &["exec", "cfg", "cat", "/data/f"])
            .is_ok_and(|o| o.stdout == "ready\n")
    })?;
    let volumes = store.verb(t, &["volume", "ls", "-q"])?.success()?.stdout;
    ensure(
        volumes.lines().count() == 1 && volumes.trim().len() == 64,
        format!("an anonymous volume: {volumes:?}"),
    )?;
    let port = store.verb(t, &["port", "cfg"])?.success()?.stdout;
    ensure(
        port.starts_with("8080/tcp -> 0.0.0.0:"),
        format!("port: {port:?}"),
    )?;
    let inspected = store
        .verb(
            t,
            &[
                "inspect",
                "-f",
                "{{.Config.StopSignal}} {{index .Config.Labels \"org.example.tier\"}}",
                "cfg",
            ],
        )?
        .success()?
        .stdout;
    ensure_eq(inspected.as_str(), "SIGUSR1 cache\n")?;
    store.verb(t, &["stop", "cfg"])?.success()?;
    ensure_eq(
        store.verb(t, &["logs", "cfg"])?.success()?.stdout.as_str(),
        "got usr1\n",
    )?;
    ensure_eq(
        store
            .verb(t, &["inspect", "-f", "{{.State.ExitCode}}", "cfg"])?
            .success()?
            .stdout
            .as_str(),
        "0\n",
    )?;
    // rm keeps the volume; rm -v removes it. A --rm container's goes with it.
    store.verb(t, &["rm", "-v", "cfg"])?.success()?;
    ensure_eq(
        store
            .verb(t, &["volume", "ls", "-q"])?
            .success()?
            .stdout
            .as_str(),
        "",
    )?;
    let out = store
        .tool(
            t,
            &[
                "run",
                "--network",
                "none",
                &reference,
                "sh",
                "-c",
                "mount | grep -c ' /data '",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "1\n")?;
    // A foreground run's record (and with it its anonymous volume) goes off the exit's path,
    // by its cleaner, once the launcher is gone.
    crate::support::wait_until("the foreground run's volume to go", || {
        store
            .verb(t, &["volume", "ls", "-q"])
            .is_ok_and(|o| o.stdout.is_empty())
    })
}

/// `--uts host`, `--ipc host|container:`, `--pid host|container:`: the namespace shared is
/// the one asked for, the host's hostname is never set, and a `--pid host` container's
/// processes do not outlive it.
fn namespaces_shared_as_asked(t: &Ctx) -> TestResult {
    let ns = |pid: &str, kind: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let host_name = nix::unistd::gethostname().map_err(|e| e.to_string())?;
    let out = t
        .run(&[
            "--network",
            "none",
            "--uts",
            "host",
            "--run",
            "sh",
            "-c",
            "hostname; readlink /proc/self/ns/uts; cat /etc/hostname 2>/dev/null || true",
        ])?
        .success()?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    ensure(
        lines.first() == Some(&host_name.to_string_lossy().as_ref())
            && lines.get(1) == Some(&ns("self", "uts").as_str()),
        format!("--uts host: {:?}", out.stdout),
    )?;
    t.run(&["--uts", "host", "--hostname", "x", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("cannot be used with")?;
    t.run(&[
        "run",
        "-d",
        "--name",
        "holder",
        "--network",
        "none",
        "sh",
        "-c",
        "sleep 60",
    ])?
    .success()?;
    let pid = t
        .verb(&["inspect", "-f", "{{.State.Pid}}", "holder"])?
        .success()?
        .stdout
        .trim()
        .to_string();
    let inside = |args: &[&str], kind: &str| -> Result<String, libtest_mimic::Failed> {
        let mut all = vec!["--network", "none"];
        all.extend(args);
        let path = format!("/proc/self/ns/{kind}");
        all.extend(["--run", "readlink", path.as_str()]);
        Ok(t.run(&all)?.success()?.stdout.trim().to_string())
    };
    ensure_eq(
        inside(&["--ipc", "container:holder"], "ipc")?,
        ns(&pid, "ipc"),
    )?;
    ensure_eq(inside(&["--ipc", "host"], "ipc")?, ns("self", "ipc"))?;
    ensure(
        inside(&[], "ipc")? != ns("self", "ipc"),
        "its own IPC namespace by default",
    )?;
    ensure_eq(
        inside(&["--pid", "container:holder"], "pid")?,
        ns(&pid, "pid"),
    )?;
    let seen = t
        .run(&[
            "--network",
            "none",
            "--pid",
            "container:holder",
            "--run",
            "ps",
            "-o",
            "args",
        ])?
        .success()?
        .stdout;
    ensure(
        seen.contains("sh -c sleep 60"),
        format!("the holder's processes are seen: {seen}"),
    )?;
    // --pid host: what it leaves running is killed when it ends.
    let marker = format!(
        "sleep 3{}",
        &t.marker()[..6]
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .collect::<String>()
    );
    t.run(&[
        "--network",
        "none",
        "--pid",
        "host",
        "--run",
        "sh",
        "-c",
        &format!("{marker} & {marker} & readlink /proc/self/ns/pid"),
    ])?
    .success()?;
    let left = crate::support::procs()
        .into_iter()
        .filter(|p| p.cmdline.join(" ") == marker)
        .count();
    ensure_eq(left, 0)?;
    // --sysctl: the container's own, never the host's.
    let host_shmmax =
        std::fs::read_to_string("/proc/sys/kernel/shmmax").map_err(|e| e.to_string())?;
    let out = t
        .run(&[
            "--network",
            "none",
            "--sysctl",
            "kernel.shmmax=1000000",
            "--sysctl",
            "net.ipv4.ip_unprivileged_port_start=80",
            "--run",
            "cat",
            "/proc/sys/kernel/shmmax",
            "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        ])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "1000000\n80\n")?;
    ensure_eq(
        std::fs::read_to_string("/proc/sys/kernel/shmmax").map_err(|e| e.to_string())?,
        host_shmmax,
    )?;
    for (args, says) in [
        (
            &["--sysctl", "kernel.panic=1"][..],
            "not a namespaced sysctl",
        ),
        (
            &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
            "not allowed with --network host",
        ),
        (
            &["--ipc", "host", "--sysctl", "kernel.shmmax=1"],
            "IPC namespace is shared",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    t.run(&["--pid", "container:nosuch", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("no such container")?;
    t.verb(&["rm", "-f", "holder"])?.success()?;
    Ok(())
}

/// `--log-opt max-size/max-file` bound what a chatty container's log holds; `--log-driver
/// none` keeps nothing and `logs` says so.
fn logs_rotate_as_told_or_are_not_kept(t: &Ctx) -> TestResult {
    let chatty = "i=0; while [ $i -lt 200 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); sleep 0.005; done; echo done";
    t.run(&[
        "run",
        "-d",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "sh",
        "-c",
        chatty,
    ])?
    .success()?;
    crate::support::wait_until("chatty is done", || {
        t.verb(&["logs", "--tail", "1", "chatty"])
            .is_ok_and(|o| o.stdout == "done\n")
    })?;
    let id = t
        .verb(&["inspect", "-f", "{{.Id}}", "chatty"])?
        .success()?
        .stdout
        .trim()
        .to_string();
    let dir = std::path::Path::new("/run/my-container-tui/containers").join(&id);
    let files: Vec<u64> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("log.json"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .collect();
    // Three files at most, none much past 1 KiB (a file is rotated before the write that
    // would pass it; one read of the container's output is never split).
    ensure(
        files.len() == 3 && files.iter().all(|&n| n < 4096),
        format!("log files: {files:?}"),
    )?;
    let kept = t.verb(&["logs", "chatty"])?.success()?.stdout;
    let lines: Vec<&str> = kept.lines().collect();
    ensure(
        lines.len() < 100
            && lines.last() == Some(&"done")
            && lines[lines.len() - 2] == "line-199-padding-padding-padding",
        format!(
            "the newest lines are kept, the oldest gone: {} lines",
            lines.len()
        ),
    )?;
    t.run(&[
        "run",
        "-d",
        "--name",
        "silent",
        "--log-driver",
        "none",
        "sh",
        "-c",
        "echo hi; sleep 60",
    ])?
    .success()?;
    t.verb(&["logs", "silent"])?
        .expect_code(1)?
        .one_line_error("--log-driver none")?;
    t.run(&[
        "run",
        "-d",
        "--log-driver",
        "none",
        "--log-opt",
        "max-size=1m",
        "true",
    ])?
    .expect_code(125)?
    .one_line_error("the none driver keeps nothing")?;
    t.run(&["run", "-d", "--log-opt", "compress=true", "true"])?
        .expect_code(125)?
        .one_line_error("max-size")?;
    t.verb(&["rm", "-f", "chatty", "silent"])?.success()?;
    Ok(())
}

/// `--health-cmd` (and an image's Healthcheck): starting, unhealthy after the retries,
/// healthy after a success, a check past its timeout failed; seen by `ps`, its filter and
/// `inspect`; what a check prints is kept, escaped when shown.
fn health_checks_run_with_dockers_timing(t: &Ctx) -> TestResult {
    t.run(&[
        "run",
        "-d",
        "--name",
        "checked",
        "--health-cmd",
        "printf '\\033]0;owned\\007'; echo checked; test -e /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "sh",
        "-c",
        "sleep 60",
    ])?
    .success()?;
    let status = || -> Result<String, libtest_mimic::Failed> {
        Ok(
            t.verb(&["ps", "-f", "name=checked", "--format", "{{.Status}}"])?
                .success()?
                .stdout,
        )
    };
    ensure(
        status()?.ends_with("(health: starting)\n"),
        format!("at first: {:?}", status()?),
    )?;
    crate::support::wait_until("unhealthy after two failures", || {
        t.verb(&["ps", "-q", "-f", "health=unhealthy"])
            .is_ok_and(|o| o.stdout.lines().count() == 1)
    })?;
    t.verb(&["exec", "checked", "touch", "/tmp/ok"])?
        .success()?;
    crate::support::wait_until("healthy after a success", || {
        status().is_ok_and(|s| s.ends_with("(healthy)\n"))
    })?;
    let health = t
        .verb(&[
            "inspect",
            "-f",
            "{{.State.Health.Status}} {{.State.Health.FailingStreak}}",
            "checked",
        ])?
        .success()?
        .stdout;
    ensure_eq(health.as_str(), "healthy 0\n")?;
    let log = t
        .verb(&[
            "inspect",
            "-f",
            "{{.State.Health.Status}} {{json .State.Health.Log}}",
            "checked",
        ])?
        .success()?
        .stdout;
    ensure(
        log.starts_with("healthy [") && log.contains("checked\\n"),
        format!("log: {log}"),
    )?;
    let shown = t
        .verb(&[
            "inspect",
            "-f",
            "{{range .State.Health.Log}}{{.Output}}{{end}}",
            "checked",
        ])?
        .success()?
        .stdout;
    ensure(
        !shown.contains('\u{1b}') && shown.contains("\\u{1b}]0;owned"),
        format!("escaped: {shown:?}"),
    )?;
    t.run(&[
        "run",
        "-d",
        "--name",
        "slowcheck",
        "--health-cmd",
        "sleep 5",
        "--health-interval",
        "100ms",
        "--health-timeout",
        "200ms",
        "--health-retries",
        "1",
        "sh",
        "-c",
        "sleep 60",
    ])?
    .success()?;
    crate::support::wait_until("a timed-out check fails", || {
        t.verb(&[
            "inspect",
            "-f",
            "{{.State.Health.Status}} {{json .State.Health.Log}}",
            "slowcheck",
        ])
        .is_ok_and(|o| o.stdout.starts_with("unhealthy") && o.stdout.contains("exceeded timeout"))
    })?;
    t.run(&["--health-cmd", "true", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("need -d")?;
    t.run(&["run", "-d", "--health-interval", "1s", "true"])?
        .expect_code(125)?
        .one_line_error("need --health-cmd")?;
    t.verb(&["rm", "-f", "checked", "slowcheck"])?.success()?;
    // An image's Healthcheck (Docker's field of the config), and --no-healthcheck.
    let registry = Registry::start("health", None)?;
    let layout = Layout::new("health")?;
    layout.busybox(t, "bb")?;
    layout.edit_config("bb", "checked", |config| {
        config["config"]["Healthcheck"] = serde_json::json!({
            "Test": ["CMD-SHELL", "exit 0"], "Interval": 100_000_000u64, "Retries": 1,
        });
    })?;
    let reference = layout.push("checked", &registry, "test/health:1", &[])?;
    let store = Store::new(t)?;
    store
        .tool(
            t,
            &[
                "run",
                "-d",
                "--name",
                "imagecheck",
                &reference,
                "sleep",
                "60",
            ],
        )?
        .success()?;
    store
        .tool(
            t,
            &[
                "run",
                "-d",
                "--name",
                "nocheck",
                "--no-healthcheck",
                &reference,
                "sleep",
                "60",
            ],
        )?
        .success()?;
    crate::support::wait_until("the image's check passes", || {
        store
            .verb(t, &["ps", "-f", "health=healthy", "--format", "{{.Names}}"])
            .is_ok_and(|o| o.stdout == "imagecheck\n")
    })?;
    ensure_eq(
        store
            .verb(t, &["ps", "-f", "health=none", "--format", "{{.Names}}"])?
            .success()?
            .stdout
            .as_str(),
        "nocheck\n",
    )?;
    store
        .verb(t, &["rm", "-f", "imagecheck", "nocheck"])?
        .success()?;
    Ok(())
}

/// `cp` both ways and as tar streams; a container's links resolve inside it (its `/hostetc ->
/// /etc` is its own `/etc`), a link it plants is copied as a link, and what comes out loses
/// its setuid bit.
fn cp_copies_in_and_out_never_through_a_link(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    std::os::unix::fs::symlink("/etc", std::path::Path::new(&root).join("hostetc"))
        .map_err(|e| e.to_string())?;
    let script = "mkdir -p /srv/d; echo hello > /srv/d/f; cp /bin/busybox /srv/d/su; chmod 4755 /srv/d/su; \
        ln -s /etc/shadow /srv/d/link; echo container > /etc/marker; sleep 60";
    t.run(&[
        "run",
        "-d",
        "--name",
        "files",
        "--network",
        "none",
        "--rootfs",
        &root,
        "sh",
        "-c",
        script,
    ])?
    .success()?;
    crate::support::wait_until("the files are made", || {
        t.verb(&["exec", "files", "test", "-L", "/srv/d/link"])
            .is_ok_and(|o| o.code == Some(0))
    })?;
    let out = TempDir::new("cp-out")?;
    let dest = out.path().to_string_lossy().into_owned();
    t.verb(&["cp", "files:/srv/d", &dest])?.success()?;
    let d = out.path().join("d");
    ensure_eq(
        std::fs::read_to_string(d.join("f"))
            .map_err(|e| e.to_string())?
            .as_str(),
        "hello\n",
    )?;
    let link = std::fs::read_link(d.join("link")).map_err(|e| e.to_string())?;
    ensure_eq(link, std::path::PathBuf::from("/etc/shadow"))?;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("su"))
        .map_err(|e| e.to_string())?
        .permissions()
        .mode();
    ensure(
        mode & 0o6000 == 0,
        format!("setuid kept on the host: {mode:o}"),
    )?;
    // Through the container's own link: its /etc, never the host's.
    let renamed = out.path().join("marker-copy");
    t.verb(&["cp", "files:/hostetc/marker", &renamed.to_string_lossy()])?
        .success()?;
    ensure_eq(
        std::fs::read_to_string(&renamed)
            .map_err(|e| e.to_string())?
            .as_str(),
        "container\n",
    )?;
    // In: a file, and a tar stream on stdin; through the link, into the container's /etc.
    let input = out.file("in.txt", b"from the host\n", 0o640)?;
    t.verb(&["cp", &input, "files:/hostetc/copied"])?
        .success()?;
    ensure(
        !std::path::Path::new("/etc/copied").exists(),
        "cp wrote the host's /etc",
    )?;
    ensure_eq(
        t.verb(&["exec", "files", "cat", "/etc/copied"])?
            .success()?
            .stdout
            .as_str(),
        "from the host\n",
    )?;
    let mut tar = std::process::Command::new("tar");
    tar.args(["-C", &dest, "-cf", "-", "in.txt"]);
    let stream = tar.output().map_err(|e| e.to_string())?.stdout;
    let mut cp = t.cli(&["cp", "-", "files:/srv"]);
    cp.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cp.spawn().map_err(|e| e.to_string())?;
    use std::io::Write;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(&stream)
        .map_err(|e| e.to_string())?;
    ensure(
        child.wait().map_err(|e| e.to_string())?.success(),
        "cp - files:/srv",
    )?;
    ensure_eq(
        t.verb(&["exec", "files", "stat", "-c", "%a %u", "/srv/in.txt"])?
            .success()?
            .stdout
            .as_str(),
        "640 0\n",
    )?;
    // Out as a tar stream.
    let listing = t
        .cli(&["cp", "files:/srv/d/f", "-"])
        .output()
        .map_err(|e| e.to_string())?;
    ensure(
        listing.status.success()
            && listing.stdout.len() >= 1024
            && listing.stdout[..1].starts_with(b"f"),
        "cp files:/srv/d/f - writes a tar",
    )?;
    t.verb(&["cp", "files:/nosuch", &dest])?
        .expect_code(1)?
        .one_line_error("No such file")?;
    // export: the root flattened, one file system: /proc and /sys as their mount points.
    let exported = out.path().join("root.tar");
    t.verb(&["export", "files", "-o", &exported.to_string_lossy()])?
        .success()?;
    let mut list = std::process::Command::new("tar");
    list.arg("-tf").arg(&exported);
    let names = run(list)?.stdout;
    let names: Vec<&str> = names.lines().collect();
    ensure(
        names.contains(&"srv/d/f")
            && names.contains(&"bin/busybox")
            && names.contains(&"proc")
            && !names
                .iter()
                .any(|n| n.starts_with("proc/") || n.starts_with("sys/")),
        format!("export: {} entries", names.len()),
    )?;
    t.verb(&["rm", "-f", "files"])?.success()?;
    t.verb(&["cp", "files:/etc", &dest])?
        .expect_code(1)?
        .one_line_error("no such container")?;
    Ok(())
}

/// `events` follows what happens to a container (its namespace's only) and, with `--since`
/// and `--until`, prints what happened between.
fn events_tell_what_happened(t: &Ctx) -> TestResult {
    use std::io::BufRead;
    let mut follower = t.cli(&[
        "events",
        "--filter",
        "container=evt",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    follower.stdout(std::process::Stdio::piped());
    let mut follower = crate::support::Running::spawn(&mut follower)?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs_f64()
        .to_string();
    t.run(&["run", "-d", "--name", "evt", "sh", "-c", "sleep 60"])?
        .success()?;
    t.verb(&["pause", "evt"])?.success()?;
    t.verb(&["unpause", "evt"])?.success()?;
    let between = t
        .verb(&[
            "events",
            "--since",
            &since,
            "--until",
            "0s",
            "--filter",
            "container=evt",
            "--format",
            "{{.Action}}",
        ])?
        .success()?
        .stdout;
    ensure_eq(between.as_str(), "create\nstart\npause\nunpause\n")?;
    t.verb(&["rm", "-f", "evt"])?.success()?;
    let stdout = follower.0.stdout.take().ok_or("the follower's stdout")?;
    // Read on a thread: a follower that never says `destroy` fails the test, not hangs it.
    let (lines, seen_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    while seen
        .last()
        .is_none_or(|l: &String| !l.starts_with("destroy"))
    {
        match seen_rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) => seen.push(line),
            Err(_) => return Err(format!("events stopped after {seen:?}").into()),
        }
    }
    ensure_eq(
        seen,
        [
            "create evt",
            "start evt",
            "pause evt",
            "unpause evt",
            "die evt",
            "destroy evt",
        ]
        .map(String::from)
        .to_vec(),
    )
}

/// `tag` gives an image another name (moved off the image that had it), `run` takes the new
/// name; `history` lists the config's entries newest first, the top one the image's id.
fn tag_and_history_name_and_explain_an_image(t: &Ctx) -> TestResult {
    let registry = Registry::start("tag", None)?;
    let layout = Layout::new("tag")?;
    layout.busybox(t, "bb")?;
    layout.config(
        "bb",
        &[
            "--history.comment",
            "set the label",
            "--config.label",
            "made=here",
        ],
    )?;
    let reference = layout.push("bb", &registry, "test/tagged:1", &[])?;
    let store = Store::new(t)?;
    store.verb(t, &["pull", "-q", &reference])?.success()?;
    store.verb(t, &["tag", &reference, "mine:v2"])?.success()?;
    let listed = store
        .verb(
            t,
            &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
        )?
        .success()?
        .stdout;
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    ensure(
        listed.lines().any(|l| l.starts_with("mine:v2 ")) && ids.len() == 2 && ids[0] == ids[1],
        format!("both names, one image: {listed}"),
    )?;
    // The new name is an image to `run` (the positional rule finds it in the store).
    let out = store
        .tool(
            t,
            &["run", "--network", "none", "mine:v2", "echo", "tagged"],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "tagged\n")?;
    let history = store
        .verb(
            t,
            &[
                "history",
                "--no-trunc",
                "--format",
                "{{.ID}} {{.Comment}}",
                "mine:v2",
            ],
        )?
        .success()?
        .stdout;
    let lines: Vec<&str> = history.lines().collect();
    ensure(
        lines
            .first()
            .is_some_and(|l| l.starts_with(ids[0]) && l.ends_with("set the label"))
            && lines.iter().skip(1).all(|l| l.starts_with("<missing>")),
        format!("history: {history}"),
    )?;
    store
        .verb(t, &["tag", "no-such:image", "x:1"])?
        .expect_code(1)?
        .one_line_error("No such image")?;
    store
        .verb(t, &["tag", &reference, "Bad Name"])?
        .expect_code(1)?
        .one_line_error("invalid reference")?;
    Ok(())
}
