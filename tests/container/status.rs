//! Exit statuses: the command's own, 128+N for signal N, 126 and 127 with a message.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        the_commands_own_code_passes_through,
        not_found_is_127,
        not_executable_is_126,
        death_by_signal_is_128_plus_n,
        killing_pid_1_from_the_host_is_137,
    ]
}

fn the_commands_own_code_passes_through(t: &Ctx) -> TestResult {
    for code in [0, 1, 42, 255] {
        t.run(&["--run", "sh", "-c", &format!("exit {code}")])?
            .expect_code(code)?;
    }
    Ok(())
}

fn not_found_is_127(t: &Ctx) -> TestResult {
    let out = t
        .run(&["--run", "no-such-command", "arg"])?
        .expect_code(127)?;
    out.one_line_error("no-such-command: command not found")?;
    let out = t.run(&["--run", "/no/such/path"])?.expect_code(127)?;
    out.one_line_error("/no/such/path: no such file or directory")
}

/// A file without the execute bit, a directory, and an executable of no known format.
fn not_executable_is_126(t: &Ctx) -> TestResult {
    let dir = TempDir::new("noexec")?;
    let plain = dir.file("plain", b"echo hi\n", 0o644)?;
    let garbage = dir.file("garbage", &[0x7f, b'E', b'L', b'F', 0, 0, 0], 0o755)?;
    let out = t.run(&["--run", &plain])?.expect_code(126)?;
    out.one_line_error(&format!("{plain}: permission denied"))?;
    let out = t.run(&["--run", &garbage])?.expect_code(126)?;
    out.one_line_error(&format!("{garbage}: cannot execute: exec format error"))?;
    let out = t.run(&["--run", "/usr"])?.expect_code(126)?;
    out.one_line_error("/usr: permission denied")
}

/// The command (PID 2 under `--init`) kills itself with SIGSEGV: 128+11.
fn death_by_signal_is_128_plus_n(t: &Ctx) -> TestResult {
    t.run(&["--init", "--run", "sh", "-c", "kill -SEGV $$"])?
        .expect_code(139)?;
    t.run(&["--init", "--run", "sh", "-c", "kill -KILL $$"])?
        .expect_code(137)?;
    Ok(())
}

/// SIGKILL sent from the host to the container's PID 1 ends the run with 137.
fn killing_pid_1_from_the_host_is_137(t: &Ctx) -> TestResult {
    let mut child = Running::spawn(&mut t.tool(&["--run", "sleep", "1000"]))?;
    let mut target = None;
    wait_until("the container's sleep", || {
        target = t
            .processes()
            .into_iter()
            .find(|p| p.nspid.last() == Some(&1));
        target.is_some()
    })?;
    let pid = target.map(|p| p.pid).unwrap_or(0);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    ensure_eq(wait_child(&mut child)?.code(), Some(137))
}
