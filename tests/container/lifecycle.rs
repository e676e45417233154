//! Containers that outlive their launcher: `run -d` and every verb after it, as Docker's CLI
//! users use them, and the faults (a monitor killed, a CLI killed halfway, a reused PID).
//! Each test works in a container namespace of its own (`MCT_NAMESPACE`).

use crate::root_tests;
use crate::support::*;
use libtest_mimic::{Failed, Trial};
use my_container_tui::state::{Process, store, tree};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

pub fn tests() -> Vec<Trial> {
    root_tests![
        run_d_ps_logs_stop_rm,
        logs_as_an_asciicast,
        names_are_unique_and_rename_keeps_them_so,
        exec_joins_the_container_and_passes_its_status,
        exec_is_hardened_like_pid_1,
        nothing_in_the_container_reaches_an_exec_before_it_runs,
        stop_escalates_to_sigkill,
        kill_wait_start_restart,
        rm_f_removes_a_running_container,
        start_keeps_the_writable_layer,
        a_start_that_fails_keeps_the_container,
        logs_keep_streams_apart_and_follow,
        attach_relays_and_detaches_with_ctrl_p_ctrl_q,
        input_waits_for_a_container_that_is_not_reading,
        inspect_top_and_stats_read_the_truth,
        a_restart_policy_restarts_with_a_count,
        named_volumes_outlive_containers,
        sigkill_of_a_monitor_ends_and_cleans_its_container,
        sigkill_of_the_cli_during_run_d_half_makes_nothing,
        a_reused_pid_is_not_the_container,
        a_hundred_containers_in_ps,
        a_containers_end_touches_no_other_container,
        foreground_runs_leave_no_name_behind,
        bad_verbs_get_one_line_and_dockers_codes,
        rm_flag_removes_a_detached_container_when_it_ends,
        a_foreground_run_is_listed_and_reachable_while_it_runs,
    ]
}

/// `run -d ARGS...` in the test's namespace; the container's id.
fn detached(t: &Ctx, args: &[&str]) -> Result<String, Failed> {
    let mut all = vec!["run", "-d"];
    all.extend(args);
    let out = t.run(&all)?.success()?;
    let id = out.stdout.trim().to_string();
    ensure(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        format!("run -d printed {id:?}"),
    )?;
    Ok(id)
}

/// Reads a running child's stdout to its end and reaps it: (exit code, stdout).
fn finish(mut child: Running) -> Result<(Option<i32>, String), Failed> {
    use std::io::Read;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    let status = wait_child(&mut child)?;
    Ok((status.code(), out))
}

/// Waits until container `name`'s stdout, as `logs` prints it, is `text`.
fn logged(t: &Ctx, name: &str, text: &str) -> TestResult {
    let mut seen = String::new();
    wait_until(&format!("{text:?} in {name}'s log"), || {
        seen = t
            .verb(&["logs", name])
            .map(|o| o.stdout)
            .unwrap_or_default();
        seen == text
    })
    .map_err(|_| format!("{name}'s log is {seen:?}, not {text:?}").into())
}

/// The record of container `id`, as its file says (no repair).
fn record(id: &str) -> Option<my_container_tui::state::Record> {
    store::load(id).ok()
}

/// Waits until the container's record says it ended.
fn wait_exited(id: &str) -> TestResult {
    wait_until("the container's end to be recorded", || {
        record(id).is_some_and(|r| r.status == my_container_tui::state::Status::Exited)
    })
}

/// The cgroup directories of container `id` that exist.
fn cgroup_dirs(id: &str) -> Vec<std::path::PathBuf> {
    our_cgroups()
        .into_iter()
        .map(|d| d.join(id))
        .filter(|d| d.exists())
        .collect()
}

fn run_d_ps_logs_stop_rm(t: &Ctx) -> TestResult {
    let id = detached(
        t,
        &[
            "--name",
            "web",
            "sh",
            "-c",
            "echo hello; trap 'echo bye; exit 3' TERM; while :; do sleep 0.1; done",
        ],
    )?;
    let ps = t.verb(&["ps"])?.success()?;
    let row = ps.stdout.lines().nth(1).unwrap_or("");
    ensure(
        row.starts_with(&id[..12]) && row.contains("Up ") && row.ends_with("web"),
        format!("ps:\n{}", ps.stdout),
    )?;
    logged(t, "web", "hello\n")?;
    // The container outlives the CLI that started it: its PID 1 is a monitor's grandchild.
    let init = record(&id)
        .and_then(|r| r.init)
        .ok_or("no PID 1 recorded")?;
    ensure(init.alive(), "PID 1 runs after run -d returned")?;
    let stop = t.verb(&["stop", "web"])?.success()?;
    ensure_eq(stop.stdout.as_str(), "web\n")?;
    let ps = t.verb(&["ps", "-a"])?.success()?;
    ensure(
        ps.stdout.contains("Exited (3)"),
        format!("ps -a:\n{}", ps.stdout),
    )?;
    ensure(
        !t.verb(&["ps"])?.stdout.contains("web"),
        "ps without -a lists running containers only",
    )?;
    let logs = t.verb(&["logs", "web"])?.success()?;
    ensure_eq(logs.stdout.as_str(), "hello\nbye\n")?;
    t.verb(&["rm", "web"])?.success()?;
    ensure(record(&id).is_none(), "rm removed the record")?;
    ensure(
        !tree::container(&id).exists(),
        "rm removed the container's directory",
    )?;
    wait_until("its cgroup to be removed", || cgroup_dirs(&id).is_empty())
}

fn names_are_unique_and_rename_keeps_them_so(t: &Ctx) -> TestResult {
    detached(t, &["--name", "one", "sleep", "100"])?;
    let clash = t
        .run(&["run", "-d", "--name", "one", "true"])?
        .expect_code(125)?;
    clash.one_line_error("already in use")?;
    ensure(clash.stdout.is_empty(), "a clash prints no id")?;
    detached(t, &["--name", "two", "sleep", "100"])?;
    t.verb(&["rename", "two", "one"])?
        .expect_code(1)?
        .one_line_error("already in use")?;
    t.verb(&["rename", "two", "three"])?.success()?;
    let names = t.verb(&["ps", "--format", "json"])?.success()?.stdout;
    ensure(
        names.contains("\"Names\":\"three\"") && names.contains("\"Names\":\"one\""),
        format!("after rename: {names}"),
    )?;
    t.run(&["run", "-d", "--name", "bad/name", "true"])?
        .expect_code(125)?
        .one_line_error("invalid container name")?;
    // A generated name is valid, and unique.
    let a = detached(t, &["true"])?;
    let b = detached(t, &["true"])?;
    ensure(
        record(&a).map(|r| r.name) != record(&b).map(|r| r.name),
        "generated names differ",
    )?;
    t.verb(&["rm", "-f", "one", "three", &a, &b])?.success()?;
    Ok(())
}

fn exec_joins_the_container_and_passes_its_status(t: &Ctx) -> TestResult {
    detached(
        t,
        &["--name", "box", "--hostname", "boxhost", "sleep", "1000"],
    )?;
    let out = t
        .verb(&[
            "exec",
            "box",
            "sh",
            "-c",
            "echo $$ $(hostname); cat /proc/1/cmdline",
        ])?
        .success()?;
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    ensure(
        words.get(1) == Some(&"boxhost") && words.first() != Some(&"1"),
        format!("exec is in the container, not its PID 1: {:?}", out.stdout),
    )?;
    ensure(
        out.stdout.contains("sleep\u{0}1000"),
        format!("exec sees the container's PID 1: {:?}", out.stdout),
    )?;
    t.verb(&["exec", "box", "sh", "-c", "exit 7"])?
        .expect_code(7)?;
    t.verb(&["exec", "box", "no-such-command"])?
        .expect_code(127)?
        .one_line_error("not found")?;
    t.verb(&["exec", "box", "/etc/hostname"])?
        .expect_code(126)?;
    let env = t
        .verb(&[
            "exec",
            "-e",
            "EXTRA=1",
            "-w",
            "/tmp",
            "box",
            "sh",
            "-c",
            "echo $EXTRA $PWD",
        ])?
        .success()?;
    ensure_eq(env.stdout.as_str(), "1 /tmp\n")?;
    let user = t
        .verb(&["exec", "-u", "nobody", "box", "id", "-u"])?
        .success()?;
    ensure_eq(user.stdout.trim(), "65534")?;
    // Without -i, stdin is /dev/null; with it, ours.
    let mut cmd = t.cli(&["exec", "-i", "box", "cat"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"piped-in\n").map_err(|e| e.to_string())?;
    }
    let (_, out) = finish(child)?;
    ensure_eq(out.as_str(), "piped-in\n")?;
    // A -t exec gets a pty of the container's own devpts.
    let tty = t.verb(&["exec", "-t", "box", "tty"])?.success()?;
    ensure(
        tty.stdout.contains("/dev/pts/"),
        format!("tty: {:?}", tty.stdout),
    )?;
    t.verb(&["rm", "-f", "box"])?.success()?;
    t.verb(&["exec", "box", "true"])?
        .expect_code(1)?
        .one_line_error("no such container")?;
    Ok(())
}

/// `CapEff`, `NoNewPrivs` and `Seccomp` of /proc/self inside, as one line.
const PRIVILEGES: &str =
    "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t\\n' '  '";

fn exec_is_hardened_like_pid_1(t: &Ctx) -> TestResult {
    detached(
        t,
        &["--name", "hard", "--cap-drop", "NET_RAW", "sleep", "1000"],
    )?;
    let pid1 = t
        .run(&["--cap-drop", "NET_RAW", "--run", "sh", "-c", PRIVILEGES])?
        .success()?;
    let exec = t
        .verb(&["exec", "hard", "sh", "-c", PRIVILEGES])?
        .success()?;
    ensure_eq(exec.stdout.trim(), pid1.stdout.trim())?;
    ensure(
        exec.stdout.contains("NoNewPrivs: 1") && exec.stdout.contains("Seccomp: 2"),
        format!("exec's privileges: {}", exec.stdout),
    )?;
    // In the container's cgroup, with its device rules: a host disk node made inside is
    // refused (EPERM from the device controller).
    let cgroup = t
        .verb(&["exec", "hard", "cat", "/proc/self/cgroup"])?
        .success()?;
    let id = record_id(t, "hard")?;
    ensure(
        cgroup.stdout.lines().all(|l| l.ends_with(":/")),
        format!(
            "exec is in the container's cgroup namespace root: {}",
            cgroup.stdout
        ),
    )?;
    let procs: Vec<String> = cgroup_dirs(&id)
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .collect();
    ensure(!procs.is_empty(), "the container has a cgroup")?;
    let disk = t.verb(&[
        "exec",
        "hard",
        "sh",
        "-c",
        "mknod /dev/sda-x b 8 0 && head -c 1 /dev/sda-x",
    ])?;
    ensure(
        disk.code != Some(0) && disk.stderr.contains("Operation not permitted"),
        format!("a disk node was readable from exec: {disk:?}"),
    )?;
    // The mount syscalls are refused by seccomp there too.
    let mount = t.verb(&["exec", "hard", "sh", "-c", "mount -t tmpfs x /mnt"])?;
    ensure(mount.code != Some(0), "exec could mount")?;
    t.verb(&["rm", "-f", "hard"])?.success()?;
    Ok(())
}

/// The id of the container named `name` in the test's namespace.
fn record_id(t: &Ctx, name: &str) -> Result<String, Failed> {
    let out = t.verb(&["inspect", name])?.success()?;
    let json: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
    Ok(json[0]["Id"].as_str().unwrap_or_default().to_string())
}

/// While execs start, a process in the container looks at every /proc/PID/exe it can: it must
/// never reach this binary on the host (the exec stays non-dumpable until it has exec'd).
fn nothing_in_the_container_reaches_an_exec_before_it_runs(t: &Ctx) -> TestResult {
    let watcher = "while :; do for p in /proc/[0-9]*; do \
        readlink $p/exe; done; done 2>/dev/null | grep -m1 my-container-tui";
    detached(t, &["--name", "watch", "sh", "-c", watcher])?;
    for _ in 0..30 {
        t.verb(&["exec", "watch", "true"])?.success()?;
    }
    let logs = t.verb(&["logs", "watch"])?.success()?;
    ensure(
        logs.stdout.is_empty(),
        format!("the container reached our binary: {:?}", logs.stdout),
    )?;
    t.verb(&["rm", "-f", "watch"])?.success()?;
    Ok(())
}

fn stop_escalates_to_sigkill(t: &Ctx) -> TestResult {
    // PID 1 with a TERM handler that ignores it: only SIGKILL ends it.
    let id = detached(
        t,
        &[
            "--name",
            "stubborn",
            "sh",
            "-c",
            "trap '' TERM; echo ready; while :; do sleep 0.1; done",
        ],
    )?;
    logged(t, "stubborn", "ready\n")?;
    t.verb(&["stop", "-t", "1", "stubborn"])?.success()?;
    ensure_eq(record(&id).and_then(|r| r.exit_code), Some(137))?;
    // --stop-signal: a container that stops on SIGUSR1.
    let id = detached(
        t,
        &[
            "--name",
            "usr1",
            "--stop-signal",
            "SIGUSR1",
            "sh",
            "-c",
            "trap 'exit 10' USR1; echo ready; while :; do sleep 0.1; done",
        ],
    )?;
    logged(t, "usr1", "ready\n")?;
    t.verb(&["stop", "usr1"])?.success()?;
    ensure_eq(record(&id).and_then(|r| r.exit_code), Some(10))?;
    t.verb(&["rm", "stubborn", "usr1"])?.success()?;
    Ok(())
}

fn kill_wait_start_restart(t: &Ctx) -> TestResult {
    let id = detached(
        t,
        &[
            "--name",
            "k",
            "sh",
            "-c",
            "trap 'exit 42' HUP; echo up; while :; do sleep 0.1; done",
        ],
    )?;
    logged(t, "k", "up\n")?;
    let waiter = Running::spawn(t.cli(&["wait", "k"]).stdout(Stdio::piped()))?;
    t.verb(&["kill", "-s", "HUP", "k"])?.success()?;
    let (_, out) = finish(waiter)?;
    ensure_eq(out.as_str(), "42\n")?;
    wait_exited(&id)?;
    ensure_eq(t.verb(&["wait", "k"])?.stdout.as_str(), "42\n")?;
    t.verb(&["kill", "k"])?
        .expect_code(1)?
        .one_line_error("not running")?;
    // start: the same container again, under a new monitor; its log goes on.
    t.verb(&["start", "k"])?.success()?;
    let r = record(&id).ok_or("no record")?;
    ensure(
        r.status == my_container_tui::state::Status::Running && r.init.is_some_and(|p| p.alive()),
        format!("start: {r:?}"),
    )?;
    logged(t, "k", "up\nup\n")?;
    let before = r.init;
    t.verb(&["restart", "-t", "1", "k"])?.success()?;
    let after = record(&id).and_then(|r| r.init);
    ensure(
        after.is_some() && after != before,
        "restart made a new PID 1",
    )?;
    t.verb(&["kill", "k"])?.success()?;
    wait_exited(&id)?;
    ensure_eq(record(&id).and_then(|r| r.exit_code), Some(137))?;
    t.verb(&["rm", "k"])?.success()?;
    Ok(())
}

fn rm_f_removes_a_running_container(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let id = detached(t, &["--name", "doomed", "--rootfs", &root, "sleep", "1000"])?;
    let init = record(&id).and_then(|r| r.init).ok_or("no PID 1")?;
    ensure(tree::path(&id).join("upper").exists(), "its overlay exists")?;
    t.verb(&["rm", "doomed"])?
        .expect_code(1)?
        .one_line_error("is running")?;
    t.verb(&["rm", "-f", "doomed"])?.success()?;
    ensure(!init.alive(), "rm -f killed PID 1")?;
    ensure(!tree::container(&id).exists(), "the state is gone")?;
    wait_until("its cgroup to be removed", || cgroup_dirs(&id).is_empty())
}

/// What a container wrote to its root is there again when it is started again, as in Docker;
/// `rm` removes it.
fn start_keeps_the_writable_layer(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let id = detached(
        t,
        &[
            "--name",
            "keeper",
            "--rootfs",
            &root,
            "sh",
            "-c",
            "cat /kept 2>/dev/null; echo kept > /kept",
        ],
    )?;
    wait_exited(&id)?;
    let first = record(&id).and_then(|r| r.exit_code);
    let upper = tree::path(&id).join("upper/kept").exists();
    let listing = |dir: std::path::PathBuf| -> Vec<String> {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_else(|e| vec![format!("{}: {e}", dir.display())])
    };
    ensure(
        first == Some(0) && upper,
        format!(
            "after the first run: exit {first:?}, /kept in the upper layer: {upper}; \
             the container's directory: {:?}; its fs: {:?}; upper: {:?}",
            listing(tree::container(&id)),
            listing(tree::path(&id)),
            listing(tree::path(&id).join("upper")),
        ),
    )?;
    t.verb(&["start", "keeper"])?.success()?;
    logged(t, "keeper", "kept\n")?;
    wait_exited(&id)?;
    ensure(
        !std::path::Path::new(&root).join("kept").exists(),
        "the image itself is unchanged",
    )?;
    t.verb(&["rm", "keeper"])?.success()?;
    ensure(!tree::container(&id).exists(), "rm removed the layer")
}

/// `start` of a container whose command has gone from its image fails (127, one line), and the
/// container stays, exited 127, as Docker keeps it; a `run -d` that fails leaves nothing.
fn a_start_that_fails_keeps_the_container(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let script = std::path::Path::new(&root).join("bin/once");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").map_err(|e| e.to_string())?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    let id = detached(t, &["--name", "once", "--rootfs", &root, "/bin/once"])?;
    wait_exited(&id)?;
    std::fs::remove_file(&script).map_err(|e| e.to_string())?;
    t.verb(&["start", "once"])?
        .expect_code(1)?
        .one_line_error("no such file or directory")?;
    let r = record(&id).ok_or("the container was removed by a failed start")?;
    ensure_eq(r.exit_code, Some(127))?;
    t.run(&["run", "-d", "--name", "never", "no-such-command"])?
        .expect_code(127)?
        .one_line_error("not found")?;
    ensure(
        !t.verb(&["ps", "-a"])?.stdout.contains("never"),
        "a run -d that failed left its record",
    )?;
    t.verb(&["rm", "once"])?.success()?;
    Ok(())
}

/// `logs --asciicast`: a detached terminal's log as asciinema's recording, timed as logged, its
/// escapes inside JSON strings (never raw on the terminal that prints it).
fn logs_as_an_asciicast(t: &Ctx) -> TestResult {
    t.verb(&[
        "run",
        "-d",
        "-t",
        "--name",
        "recorded",
        "--network",
        "none",
        "sh",
        "-c",
        "printf '\\033[31mred\\033[m\\n'; sleep 0.3; echo second; sleep 600",
    ])?
    .success()?;
    wait_until("the second line logged", || {
        t.verb(&["logs", "recorded"])
            .is_ok_and(|o| o.stdout.contains("second"))
    })?;
    let out = t
        .verb(&["logs", "--asciicast", "--size", "100x30", "recorded"])?
        .success()?;
    ensure(
        !out.stdout.contains('\x1b'),
        "a raw escape in the recording",
    )?;
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not JSON lines ({e}): {:?}", out.stdout))?;
    ensure_eq(lines[0]["version"].as_u64(), Some(2))?;
    ensure_eq(
        (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
        (Some(100), Some(30)),
    )?;
    let red = lines
        .iter()
        .position(|l| l[2].as_str().is_some_and(|s| s.contains("\x1b[31mred")));
    let second = lines
        .iter()
        .position(|l| l[2].as_str().is_some_and(|s| s.contains("second")));
    let (Some(red), Some(second)) = (red, second) else {
        return Err(format!("both lines in the recording: {:?}", out.stdout).into());
    };
    let at = |i: usize| lines[i][0].as_f64().unwrap_or(-1.0);
    ensure(
        at(red) >= 0.0 && at(second) >= at(red) + 0.2,
        format!("timed as logged: {} then {}", at(red), at(second)),
    )?;
    let refused = t.verb(&["logs", "--asciicast", "-f", "recorded"])?;
    ensure_eq(refused.code, Some(1))?;
    t.verb(&["rm", "-f", "recorded"])?.success()?;
    Ok(())
}

fn logs_keep_streams_apart_and_follow(t: &Ctx) -> TestResult {
    detached(
        t,
        &[
            "--name",
            "chatty",
            "sh",
            "-c",
            "echo out1; echo err1 >&2; sleep 0.3; echo out2; echo err2 >&2; sleep 0.3",
        ],
    )?;
    // Follow: everything, up to the end, then it returns.
    let follow = t.verb(&["logs", "-f", "chatty"])?.success()?;
    ensure_eq(follow.stdout.as_str(), "out1\nout2\n")?;
    ensure_eq(follow.stderr.as_str(), "err1\nerr2\n")?;
    let tail = t.verb(&["logs", "--tail", "1", "chatty"])?.success()?;
    ensure_eq(
        format!("{}{}", tail.stdout, tail.stderr),
        "err2\n".to_string(),
    )?;
    let stamped = t.verb(&["logs", "-t", "chatty"])?.success()?;
    let first = stamped.stdout.lines().next().unwrap_or("");
    ensure(
        first.ends_with(" out1") && first.starts_with("20") && first.contains('T'),
        format!("-t: {first:?}"),
    )?;
    // A -t container's log is its terminal's bytes.
    detached(t, &["--name", "termy", "-t", "sh", "-c", "echo in-a-tty"])?;
    wait_until("the tty container's output", || {
        t.verb(&["logs", "termy"])
            .is_ok_and(|o| o.stdout.contains("in-a-tty\r\n"))
    })?;
    t.verb(&["rm", "-f", "chatty", "termy"])?.success()?;
    Ok(())
}

fn attach_relays_and_detaches_with_ctrl_p_ctrl_q(t: &Ctx) -> TestResult {
    let id = detached(t, &["--name", "att", "-i", "-t", "sh"])?;
    let mut cmd = t.cli(&["attach", "att"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    // What attach prints, read as it comes: the detach keys go once the echo came back.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = child.stdout.take().map(|mut stdout| {
        let seen = seen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&text);
            }
        })
    });
    let now = || seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"echo attached-$((6*7))\n")
            .map_err(|e| e.to_string())?;
        wait_until("the echo through attach", || now().contains("attached-42"))?;
        stdin.write_all(b"\x10\x11").map_err(|e| e.to_string())?;
    }
    let status = wait_child(&mut child)?;
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    let (code, out) = (status.code(), now());
    ensure_eq(code, Some(0))?;
    ensure(out.contains("attached-42"), format!("attach: {out:?}"))?;
    ensure(
        record(&id).and_then(|r| r.init).is_some_and(|p| p.alive()),
        "the container runs on after the detach keys",
    )?;
    // Attached when it ends: attach exits with its status.
    let mut cmd = t.cli(&["attach", "att"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"exit 5\n").map_err(|e| e.to_string())?;
    }
    let (code, _) = finish(child)?;
    ensure_eq(code, Some(5))?;
    t.verb(&["attach", "att"])?
        .expect_code(1)?
        .one_line_error("not a running")?;
    t.verb(&["rm", "att"])?.success()?;
    Ok(())
}

/// 200,000 bytes pasted into a terminal whose program reads nothing for a second: the monitor
/// holds what the pty cannot take (it must neither block nor drop it), and all of it arrives.
fn input_waits_for_a_container_that_is_not_reading(t: &Ctx) -> TestResult {
    detached(
        t,
        &[
            "--name",
            "sink",
            "-i",
            "-t",
            "sh",
            "-c",
            "stty raw -echo; echo ready; sleep 1; head -c 200000 | wc -c",
        ],
    )?;
    wait_until("the terminal in raw mode", || {
        t.verb(&["logs", "sink"])
            .is_ok_and(|o| o.stdout.contains("ready"))
    })?;
    let mut cmd = t.cli(&["attach", "sink"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin
        .write_all(&vec![b'a'; 200_000])
        .map_err(|e| e.to_string())?;
    let (code, out) = finish(child)?;
    drop(stdin);
    ensure_eq(code, Some(0))?;
    ensure(
        out.contains("200000"),
        format!("the container counted: {out:?}"),
    )?;
    t.verb(&["rm", "sink"])?.success()?;
    Ok(())
}

fn inspect_top_and_stats_read_the_truth(t: &Ctx) -> TestResult {
    let id = detached(
        t,
        &[
            "--name",
            "seen",
            "--memory",
            "64m",
            "sh",
            "-c",
            "sleep 1000 & sleep 2000",
        ],
    )?;
    let out = t.verb(&["inspect", "seen"])?.success()?;
    let json: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
    let c = &json[0];
    let pid = c["State"]["Pid"].as_i64().unwrap_or(0) as i32;
    ensure_eq(c["Id"].as_str(), Some(id.as_str()))?;
    ensure_eq(c["State"]["Status"].as_str(), Some("running"))?;
    ensure_eq(Some(pid), record(&id).and_then(|r| r.init).map(|p| p.pid))?;
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    ensure(
        status
            .lines()
            .any(|l| l.starts_with("NSpid:") && l.ends_with("\t1")),
        "inspect's Pid is the container's PID 1",
    )?;
    ensure_eq(
        c["Namespaces"]["pid"].as_str().map(String::from),
        Some(format!("/proc/{pid}/ns/pid")),
    )?;
    ensure_eq(c["HostConfig"]["Memory"].as_u64(), Some(64 << 20))?;
    ensure(
        c["Cgroups"].as_array().is_some_and(|a| !a.is_empty()),
        "inspect names the cgroup",
    )?;
    // top: PID inside beside PID on the host, as /proc's NSpid says.
    let top = t.verb(&["top", "seen"])?.success()?;
    let rows: Vec<Vec<String>> = top
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    ensure_eq(rows.len(), 3)?;
    for row in &rows {
        let (inside, host) = (&row[0], &row[1]);
        let status =
            std::fs::read_to_string(format!("/proc/{host}/status")).map_err(|e| e.to_string())?;
        let nspid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>();
        ensure_eq(nspid, vec![host.clone(), inside.clone()])?;
    }
    let stats = t.verb(&["stats", "--no-stream"])?.success()?;
    let row = stats
        .stdout
        .lines()
        .find(|l| l.contains("seen"))
        .unwrap_or("");
    ensure(
        row.contains(&id[..12])
            && row.contains("/ 64MiB")
            && row.split_whitespace().any(|w| w == "3"),
        format!("stats: {}", stats.stdout),
    )?;
    t.verb(&["rm", "-f", "seen"])?.success()?;
    Ok(())
}

fn a_restart_policy_restarts_with_a_count(t: &Ctx) -> TestResult {
    let id = detached(
        t,
        &[
            "--name",
            "flaky",
            "--restart",
            "on-failure:2",
            "sh",
            "-c",
            "echo try; exit 3",
        ],
    )?;
    wait_until("two restarts, then the end", || {
        record(&id).is_some_and(|r| {
            r.restart_count == 2
                && r.status == my_container_tui::state::Status::Exited
                && !r.owner.is_some_and(|o| o.alive())
        })
    })?;
    ensure_eq(
        t.verb(&["logs", "flaky"])?.stdout.as_str(),
        "try\ntry\ntry\n",
    )?;
    ensure_eq(record(&id).and_then(|r| r.exit_code), Some(3))?;
    // always, until stopped: stop ends it for good.
    let id = detached(
        t,
        &[
            "--name",
            "always",
            "--restart",
            "always",
            "sh",
            "-c",
            "sleep 0.2",
        ],
    )?;
    wait_until("a restart", || {
        record(&id).is_some_and(|r| r.restart_count >= 1)
    })?;
    t.verb(&["stop", "-t", "1", "always"])?.success()?;
    wait_until("the monitor to end", || {
        record(&id).is_some_and(|r| !r.owner.is_some_and(|o| o.alive()))
    })?;
    ensure(
        record(&id).is_some_and(|r| r.status == my_container_tui::state::Status::Exited),
        "stopped for good",
    )?;
    t.run(&["run", "--restart", "always", "true"])?
        .expect_code(125)?
        .one_line_error("needs -d")?;
    t.verb(&["rm", "flaky", "always"])?.success()?;
    Ok(())
}

fn named_volumes_outlive_containers(t: &Ctx) -> TestResult {
    let root = TempDir::new("volumes")?;
    let root_path = root.path().to_string_lossy().into_owned();
    let with_root = |mut cmd: std::process::Command| {
        cmd.env("MCT_ROOT", &root_path);
        run(cmd)
    };
    // First use makes it; what a container writes stays after it is removed.
    let mut first = t.tool(&[
        "-v",
        "vol1:/tmp/data",
        "--run",
        "sh",
        "-c",
        "echo kept > /tmp/data/file",
    ]);
    first.env("MCT_ROOT", &root_path);
    run(first)?.success()?;
    let mut read = t.tool(&["-v", "vol1:/tmp/data:ro", "--run", "cat", "/tmp/data/file"]);
    read.env("MCT_ROOT", &root_path);
    ensure_eq(run(read)?.success()?.stdout.as_str(), "kept\n")?;
    let ls = with_root(t.cli(&["volume", "ls"]))?.success()?;
    ensure(
        ls.stdout.contains("local     vol1"),
        format!("ls: {}", ls.stdout),
    )?;
    // In use by a container (running or not): rm refuses.
    let mut user = t.tool(&[
        "run",
        "-d",
        "--name",
        "user",
        "-v",
        "vol1:/tmp/data",
        "sleep",
        "100",
    ]);
    user.env("MCT_ROOT", &root_path);
    run(user)?.success()?;
    with_root(t.cli(&["volume", "rm", "vol1"]))?
        .expect_code(1)?
        .one_line_error("in use by container user")?;
    let inspect = with_root(t.cli(&["volume", "inspect", "vol1"]))?.success()?;
    ensure(
        inspect.stdout.contains("\"user\"") && inspect.stdout.contains("/volumes/vol1/_data"),
        format!("inspect: {}", inspect.stdout),
    )?;
    t.verb(&["rm", "-f", "user"])?.success()?;
    with_root(t.cli(&["volume", "create", "spare"]))?.success()?;
    let pruned = with_root(t.cli(&["volume", "prune", "-f"]))?.success()?;
    ensure(
        pruned.stdout.contains("spare") && pruned.stdout.contains("vol1"),
        format!("prune: {}", pruned.stdout),
    )?;
    ensure(
        with_root(t.cli(&["volume", "ls", "-q"]))?.stdout.is_empty(),
        "prune removed the unused volumes",
    )?;
    // A run refused for its volume's target, headless or detached, makes no volume.
    for detach in [false, true] {
        let mut args = vec!["-v", "never:/no/such/dir"];
        args.extend(if detach {
            &["run", "-d", "true"][..]
        } else {
            &["--run", "true"][..]
        });
        let mut refused = t.tool(&args);
        refused.env("MCT_ROOT", &root_path);
        run(refused)?
            .expect_code(125)?
            .one_line_error("volume target /no/such/dir does not exist")?;
        let ls = with_root(t.cli(&["volume", "ls", "-q"]))?;
        ensure_eq(ls.stdout.as_str(), "")?;
    }
    Ok(())
}

/// SIGKILL of a monitor: its container ends (PID 1 with it), the cleaner releases the cgroup
/// and the overlay, and the record says exited 137.
fn sigkill_of_a_monitor_ends_and_cleans_its_container(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let id = detached(t, &["--name", "orphan", "--rootfs", &root, "sleep", "1000"])?;
    let r = record(&id).ok_or("no record")?;
    let (monitor, init) = (r.owner.ok_or("no owner")?, r.init.ok_or("no PID 1")?);
    ensure(!cgroup_dirs(&id).is_empty(), "it has a cgroup")?;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(monitor.pid, libc::SIGKILL) };
    wait_until("PID 1 to die with its monitor", || !init.alive())?;
    wait_until("its cgroup and overlay to be released", || {
        cgroup_dirs(&id).is_empty() && !tree::path(&id).exists()
    })?;
    let ps = t.verb(&["ps", "-a"])?.success()?;
    ensure(
        ps.stdout.contains("Exited (137)"),
        format!("ps -a:\n{}", ps.stdout),
    )?;
    t.verb(&["rm", "orphan"])?.success()?;
    Ok(())
}

/// SIGKILL of `run -d` at moments through its start: each container is then either whole
/// (running, under a live monitor) or not there at all.
fn sigkill_of_the_cli_during_run_d_half_makes_nothing(t: &Ctx) -> TestResult {
    for i in 0..12u64 {
        let mut child = Running::spawn(
            t.tool(&["run", "-d", "sleep", "1000"])
                .stdout(Stdio::null()),
        )?;
        std::thread::sleep(Duration::from_micros(1500 * i));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = wait_child(&mut child)?;
    }
    // Whatever was recorded is whole, once the monitors that were starting have settled.
    let ns = t.namespace();
    wait_until("every record to be whole", || {
        my_container_tui::runtime::reclaim::list()
            .into_iter()
            .filter(|r| r.namespace == ns)
            .all(|r| {
                r.status == my_container_tui::state::Status::Running
                    && r.owner.is_some_and(|o| o.alive())
                    && r.init.is_some_and(|p| p.alive())
            })
    })?;
    let ids = t.verb(&["ps", "-aq"])?.success()?.stdout;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(&ids);
        t.verb(&args)?.success()?;
    }
    ensure(
        t.verb(&["ps", "-a"])?.stdout.lines().count() == 1,
        "everything removed",
    )?;
    // A CLI killed between its spec and its record leaves their directory: a crash's mark,
    // which a look sweeps once it is older than the grace a starting container gets. Aged
    // past it here, the next look removes every one.
    let marker = t.marker();
    let half: Vec<std::path::PathBuf> = std::fs::read_dir(tree::containers())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|dir| {
            !dir.join("state.json").exists()
                && std::fs::read_to_string(dir.join("spec.json")).is_ok_and(|s| s.contains(&marker))
        })
        .collect();
    let aged = std::time::SystemTime::now() - store::GRACE - Duration::from_secs(5);
    for dir in &half {
        std::fs::File::open(dir)
            .and_then(|d| d.set_modified(aged))
            .map_err(|e| e.to_string())?;
    }
    t.verb(&["ps", "-a"])?.success()?;
    wait_until("the half-made directories to be swept", || {
        half.iter().all(|dir| !dir.exists())
    })
}

/// A record whose PID 1 and monitor have PIDs that now belong to another process (this test's
/// own, with another start time): `ps` does not show it running, and `kill` does not reach
/// the process that took the PID.
fn a_reused_pid_is_not_the_container(t: &Ctx) -> TestResult {
    let id = detached(t, &["--name", "ghost", "sleep", "1000"])?;
    let me = Process::me();
    let impostor = Process {
        pid: me.pid,
        start: me.start + 1,
    };
    // Its monitor and PID 1 die; the record is then rewritten to name our PID, as if the
    // kernel had handed it out again.
    let r = record(&id).ok_or("no record")?;
    let (monitor, init) = (r.owner.ok_or("no owner")?, r.init.ok_or("no PID 1")?);
    // SAFETY: SIGSTOP has no memory-safety preconditions: the monitor stops, it cannot
    // record anything meanwhile.
    unsafe { libc::kill(monitor.pid, libc::SIGSTOP) };
    let path = tree::container(&id).join("state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    json["owner"] = serde_json::json!({"pid": impostor.pid, "start": impostor.start});
    json["init"] = serde_json::json!({"pid": impostor.pid, "start": impostor.start});
    // Replaced by rename, as the tool writes records: a reader never sees half of one.
    let replace = |text: &str| {
        let tmp = path.with_extension("test");
        std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path))
    };
    replace(&json.to_string()).map_err(|e| e.to_string())?;
    let killed = t.verb(&["kill", "ghost"])?;
    let ps = t.verb(&["ps"])?.success()?;
    // Back to the truth before checking, so nothing is left whatever happens.
    replace(&text).map_err(|e| e.to_string())?;
    // SAFETY: as above.
    unsafe { libc::kill(monitor.pid, libc::SIGCONT) };
    ensure(
        !ps.stdout.contains("ghost"),
        format!("a dead container shown running:\n{}", ps.stdout),
    )?;
    ensure(
        killed.code != Some(0) || !ps.stdout.contains("ghost"),
        "kill reached nothing",
    )?;
    ensure(init.alive(), "the real PID 1 was untouched")?;
    t.verb(&["rm", "-f", "ghost"])?;
    Ok(())
}

fn a_hundred_containers_in_ps(t: &Ctx) -> TestResult {
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(detached(t, &["sleep", "1000"])?);
    }
    let ps = t.verb(&["ps"])?.success()?;
    ensure_eq(ps.stdout.lines().count(), 101)?;
    for id in &ids {
        ensure(
            ps.stdout.contains(&id[..12]),
            format!("{id} missing from ps"),
        )?;
    }
    let q = t.verb(&["ps", "-q"])?.success()?;
    let mut shown: Vec<&str> = q.stdout.split_whitespace().collect();
    shown.sort();
    let mut short: Vec<&str> = ids.iter().map(|i| &i[..12]).collect();
    short.sort();
    ensure_eq(shown, short)?;
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    t.verb(&args)?.success()?;
    ensure_eq(t.verb(&["ps", "-a"])?.stdout.lines().count(), 1)
}

/// With 50 idle containers running, a foreground run from start to its cleaner's last
/// syscall (strace follows every process it makes) reads none of their records, directories
/// or cgroups and none of their processes' `/proc` entries, and walks no `/proc`: its cost
/// does not grow with the host. (Its cleaner used to sweep the whole host: ~15,000 syscalls
/// with 55 records, 1,203 of them `readlink /proc/N/ns/pid`.) A name is found through the
/// index, not by reading every record.
fn a_containers_end_touches_no_other_container(t: &Ctx) -> TestResult {
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(detached(t, &["--network", "none", "sleep", "600"])?);
    }
    let dir = TempDir::new("strace")?;
    let trace = dir.path().join("trace");
    let traced = |args: &[&str]| -> Result<String, Failed> {
        let mut cmd = std::process::Command::new("strace");
        cmd.args(["-f", "-qq", "-o"])
            .arg(&trace)
            .args(["-e", "trace=%file,%desc,%process"])
            .arg(BIN)
            .args(args)
            .envs(t.env())
            .stdin(Stdio::null());
        run(cmd)?.success()?;
        Ok(std::fs::read_to_string(&trace)?)
    };
    let marker = t.marker();
    let lines = traced(&["-e", &marker, "--network", "none", "--run", "true"])?;
    let ours: std::collections::HashSet<&str> = lines
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let foreign_proc = |l: &&str| {
        l.split("\"/proc/").skip(1).any(|rest| {
            let pid = rest.split(['/', '"']).next().unwrap_or("");
            pid.bytes().all(|b| b.is_ascii_digit()) && !ours.contains(pid)
        })
    };
    // What a call names, not what it reads (the host's `/proc/net/unix`, read whole to hide
    // its sockets, lists the other containers' monitors' sockets).
    let data = |l: &&str| {
        let call = l.split_whitespace().nth(1).unwrap_or("");
        [
            "read(",
            "pread64(",
            "write(",
            "recvfrom(",
            "recvmsg(",
            "sendto(",
            "sendmsg(",
        ]
        .iter()
        .any(|c| call.starts_with(c))
            || l.contains("<... read resumed>")
    };
    let touched: Vec<&str> = lines
        .lines()
        .filter(|l| !data(l))
        .filter(|l| ids.iter().any(|id| l.contains(&id[..12])) || foreign_proc(l))
        .collect();
    ensure(
        touched.is_empty(),
        format!(
            "a run's end touched other containers ({} calls), e.g.:\n{}",
            touched.len(),
            touched
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        ),
    )?;
    // `exec` and `stop` by name read that container's record, not the other 49's.
    let name = t
        .verb(&["inspect", "--format", "{{.Name}}", &ids[7]])?
        .success()?
        .stdout
        .trim()
        .trim_start_matches('/')
        .to_string();
    let lines = traced(&["exec", &name, "true"])?;
    let others: Vec<&str> = lines
        .lines()
        .filter(|l| !data(l))
        .filter(|l| {
            ids.iter()
                .enumerate()
                .any(|(i, id)| i != 7 && l.contains(&id[..12]))
        })
        .collect();
    ensure(
        others.is_empty(),
        format!(
            "exec {name} read other containers: {:?}",
            &others[..others.len().min(3)]
        ),
    )?;
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    t.verb(&args)?.success()?;
    Ok(())
}

/// Sixty foreground runs, four at a time, each recorded by its cleaner while its launcher may
/// already be removing it: none leaves its name in the name index (a removal racing the
/// recording left the link behind, and with it `/run/my-container-tui`).
fn foreground_runs_leave_no_name_behind(t: &Ctx) -> TestResult {
    // Four at a time, as a loaded CI runner starts them: the race is widest then.
    let runs: Vec<TestResult> = std::thread::scope(|scope| {
        let each = (0..4)
            .map(|_| {
                scope.spawn(|| -> TestResult {
                    for _ in 0..15 {
                        t.run(&["--run", "true"])?.success()?;
                    }
                    Ok(())
                })
            })
            .collect::<Vec<_>>();
        each.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a run thread panicked".into()))
            })
            .collect()
    });
    runs.into_iter().collect::<TestResult>()?;
    let prefix: String = t
        .namespace()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + ".";
    let ours = || -> Vec<String> {
        std::fs::read_dir(my_container_tui::state::name_index::dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&prefix))
            .collect()
    };
    let mut left = Vec::new();
    wait_until("the runs' names to leave the index", || {
        left = ours();
        left.is_empty()
    })
    .map_err(|_| format!("names left: {left:?}"))?;
    Ok(())
}

fn bad_verbs_get_one_line_and_dockers_codes(t: &Ctx) -> TestResult {
    for verb in [
        &["stop", "nope"][..],
        &["logs", "nope"],
        &["inspect", "nope"],
        &["top", "nope"],
        &["rm", "nope"],
        &["start", "nope"],
    ] {
        t.verb(verb)?
            .expect_code(1)?
            .one_line_error("no such container")?;
    }
    t.verb(&["ps", "--bogus"])?.expect_code(125)?;
    t.verb(&["stop", "-s", "NOPE", "x"])?
        .expect_code(125)?
        .one_line_error("invalid signal")?;
    Ok(())
}

/// `run -d --rm`: the container is removed when it ends, by its monitor.
fn rm_flag_removes_a_detached_container_when_it_ends(t: &Ctx) -> TestResult {
    let id = detached(t, &["--rm", "--name", "brief", "sh", "-c", "sleep 0.2"])?;
    ensure(record(&id).is_some(), "recorded while it runs")?;
    // The record file goes first, then its directory.
    wait_until("the record and its directory to go when it ends", || {
        record(&id).is_none() && !tree::container(&id).exists()
    })?;
    wait_until("its cgroup to be removed", || cgroup_dirs(&id).is_empty())?;
    t.run(&["run", "-d", "--rm", "--restart", "always", "true"])?
        .expect_code(125)?
        .one_line_error("cannot be used together")?;
    Ok(())
}

/// A foreground `--run` is recorded while it runs: `ps` lists it, `exec` reaches it, `stop`
/// ends it (its launcher then exits with the status), and its name is taken meanwhile.
fn a_foreground_run_is_listed_and_reachable_while_it_runs(t: &Ctx) -> TestResult {
    let mut child = Running::spawn(
        t.tool(&["--name", "fg", "--run", "sleep", "1000"])
            .stdout(Stdio::null()),
    )?;
    let id = container_of(child.id())?;
    wait_until("its PID 1 to be known", || {
        record(&id).and_then(|r| r.init).is_some()
    })?;
    let ps = t.verb(&["ps"])?.success()?;
    ensure(ps.stdout.contains("fg"), format!("ps:\n{}", ps.stdout))?;
    // PID 1 is known from the moment it is forked; it becomes `sleep` a moment later (under
    // load, later still): exec reaches it either way, and soon sees it as `sleep`.
    let mut seen = String::new();
    wait_until("exec to see sleep as PID 1", || {
        seen = t
            .verb(&["exec", "fg", "cat", "/proc/1/cmdline"])
            .ok()
            .filter(|o| o.code == Some(0))
            .map(|o| o.stdout)
            .unwrap_or_default();
        seen.starts_with("sleep")
    })
    .map_err(|_| format!("exec: {seen:?}"))?;
    t.run(&["run", "-d", "--name", "fg", "true"])?
        .expect_code(125)?
        .one_line_error("already in use")?;
    t.verb(&["stop", "-t", "1", "fg"])?.success()?;
    ensure_eq(wait_child(&mut child)?.code(), Some(137))?;
    wait_until("its record to go", || record(&id).is_none())
}
