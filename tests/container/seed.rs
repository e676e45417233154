//! The seed's "How to Test It" and "Usage Examples", one test per step, against our binary.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

pub fn tests() -> Vec<Trial> {
    root_tests![
        hostname_shows_my_container,
        ps_aux_shows_only_the_container_with_the_command_as_pid_1,
        shell_is_pid_1,
        host_sees_the_same_process_under_another_pid,
        echo_hello_from_container,
        whoami_is_root,
        pwd_is_where_it_was_started,
        ls_proc_shows_only_container_pids,
        ls_la_lists_the_directory,
        usage_examples_run,
    ]
}

/// Test 2: `hostname` inside shows my-container, and the host's stays its own.
fn hostname_shows_my_container(t: &Ctx) -> TestResult {
    let host_before =
        std::fs::read_to_string("/proc/sys/kernel/hostname").map_err(|e| e.to_string())?;
    let out = t.run(&["run", "hostname"])?.success()?;
    ensure_eq(out.stdout.as_str(), "my-container\n")?;
    let host_after =
        std::fs::read_to_string("/proc/sys/kernel/hostname").map_err(|e| e.to_string())?;
    ensure_eq(host_after, host_before)
}

/// Test 2 and 3: `ps aux` lists only the container's processes, and PID 1 is the command.
fn ps_aux_shows_only_the_container_with_the_command_as_pid_1(t: &Ctx) -> TestResult {
    let out = t.run(&["run", "ps", "aux"])?.success()?;
    let rows: Vec<&str> = out.stdout.lines().skip(1).collect();
    ensure(
        rows.len() == 1,
        format!("expected only ps itself, got {rows:?}"),
    )?;
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    ensure_eq(cols[1], "1")?;
    ensure(
        rows[0].ends_with("ps aux"),
        format!("PID 1 is not `ps aux`: {}", rows[0]),
    )
}

/// Test 3: `echo "Container PID: $$"` in the shell says 1.
fn shell_is_pid_1(t: &Ctx) -> TestResult {
    let out = t
        .run(&["run", "/bin/bash", "-c", "echo \"Container PID: $$\"; true"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "Container PID: 1\n")
}

/// Test 3, from the host: the container's PID 1 is a host process with another PID, a child
/// of our tool (`ps aux | grep my-container` on the host finds the tool).
fn host_sees_the_same_process_under_another_pid(t: &Ctx) -> TestResult {
    let mut child = Running::spawn(
        t.tool(&["run", "sh", "-c", "echo $$; read line"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    )?;
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .map_err(|e| e.to_string())?;
    ensure_eq(first.as_str(), "1\n")?;
    let procs = t.processes();
    let tool = procs
        .iter()
        .find(|p| p.pid == child.id() as i32)
        .ok_or("tool not found")?;
    ensure(
        tool.cmdline[0].contains("my-container-tui"),
        "the tool's command line names it",
    )?;
    let shell = procs
        .iter()
        .find(|p| p.cmdline.first().map(String::as_str) == Some("sh"))
        .ok_or("the container's shell is not visible from the host")?;
    ensure(shell.pid != 1, "the host sees the shell under its own PID")?;
    ensure_eq(shell.nspid.clone(), vec![shell.pid, 1])?;
    ensure_eq(shell.ppid, tool.pid)?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"done\n")
        .map_err(|e| e.to_string())?;
    ensure(
        wait_child(&mut child)?.success(),
        "the container ends cleanly",
    )
}

/// Test 4: `run echo "Hello from container!"`.
fn echo_hello_from_container(t: &Ctx) -> TestResult {
    let out = t
        .run(&["run", "echo", "Hello from container!"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "Hello from container!\n")
}

/// Test 4: `run whoami` is root.
fn whoami_is_root(t: &Ctx) -> TestResult {
    ensure_eq(
        t.run(&["run", "whoami"])?.success()?.stdout.as_str(),
        "root\n",
    )
}

/// Test 4: `run pwd` prints the directory the tool was started in.
fn pwd_is_where_it_was_started(t: &Ctx) -> TestResult {
    let mut cmd = t.tool(&["run", "pwd"]);
    cmd.current_dir("/usr/share");
    ensure_eq(run(cmd)?.success()?.stdout.as_str(), "/usr/share\n")
}

/// Test 4: `run ls /proc` shows only PID 1 among the numbered entries.
fn ls_proc_shows_only_container_pids(t: &Ctx) -> TestResult {
    let out = t.run(&["run", "ls", "/proc"])?.success()?;
    let pids: Vec<&str> = out
        .stdout
        .split_whitespace()
        .filter(|e| e.parse::<u32>().is_ok())
        .collect();
    ensure_eq(pids, vec!["1"])
}

/// Usage: `run ls -la` lists the current directory as the host's `ls -la` does.
fn ls_la_lists_the_directory(t: &Ctx) -> TestResult {
    let dir = TempDir::new("ls")?;
    dir.file("file.txt", b"hello", 0o644)?;
    std::fs::create_dir(dir.path().join("sub")).map_err(|e| e.to_string())?;
    let mut host = std::process::Command::new("ls");
    host.arg("-la").current_dir(dir.path());
    let mut inside = t.tool(&["run", "ls", "-la"]);
    inside.current_dir(dir.path());
    let inside = run(inside)?.success()?.stdout;
    ensure(
        inside.contains("file.txt") && inside.contains("sub"),
        format!("listing: {inside}"),
    )?;
    // `..` is left out: its link count changes whenever another test makes or removes a
    // directory beside this one.
    let without_parent = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .filter(|l| !l.ends_with(" .."))
            .map(str::to_string)
            .collect()
    };
    ensure_eq(without_parent(&inside), without_parent(&run(host)?.stdout))
}

/// Usage examples and quick start: `run echo "Hello World"`, `run echo "It works!"`, and
/// `--run` with a single shell line.
fn usage_examples_run(t: &Ctx) -> TestResult {
    ensure_eq(
        t.run(&["run", "echo", "Hello World"])?
            .success()?
            .stdout
            .as_str(),
        "Hello World\n",
    )?;
    ensure_eq(
        t.run(&["run", "echo", "It works!"])?
            .success()?
            .stdout
            .as_str(),
        "It works!\n",
    )?;
    let out = t.run(&["--run", "echo $HOSTNAME"])?.success()?;
    ensure_eq(out.stdout.as_str(), "my-container\n")
}
