//! Signals sent to the tool reach the container's PID 1; `--init` reaps and stops what a bare
//! PID 1 would not; and nothing of a container outlives its command or a SIGKILLed tool.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

pub fn tests() -> Vec<Trial> {
    root_tests![
        signals_to_the_tool_reach_pid_1,
        signals_reach_pid_1_through_the_pty_helper,
        init_reaps_orphans,
        init_lets_sigterm_stop_a_command_without_handlers,
        background_processes_die_with_the_command,
        nothing_survives_sigkill_of_the_tool,
    ]
}

fn send(pid: u32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, sig) };
}

/// For each forwarded signal, a shell that traps it reports it and exits 9.
fn signals_to_the_tool_reach_pid_1(t: &Ctx) -> TestResult {
    signals_reach_pid_1(t, &[])
}

/// The same through the re-exec helper on a pty (`-t`), the path dashboard sessions take.
fn signals_reach_pid_1_through_the_pty_helper(t: &Ctx) -> TestResult {
    signals_reach_pid_1(t, &["-t"])
}

fn signals_reach_pid_1(t: &Ctx, flags: &[&str]) -> TestResult {
    for (name, sig) in [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
    ] {
        let script = format!(
            "trap 'echo got {name}; exit 9' {name}; echo ready; while :; do sleep 0.05; done"
        );
        let mut args = flags.to_vec();
        args.extend(["--run", "sh", "-c", &script]);
        let mut child = Running::spawn(t.tool(&args).stdout(Stdio::piped()))?;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Under -t, the pty may echo a blank line for the end of our (empty) stdin.
        let mut next = || {
            lines
                .by_ref()
                .map_while(Result::ok)
                .map(|l| l.trim_end().to_string())
                .find(|l| !l.is_empty())
        };
        ensure_eq(next().as_deref(), Some("ready"))?;
        send(child.id(), sig);
        ensure_eq(next(), Some(format!("got {name}")))?;
        ensure_eq(wait_child(&mut child)?.code(), Some(9))?;
    }
    Ok(())
}

/// Under `--init`, the command is PID 2 and an orphan that exits is reaped, not left a zombie.
fn init_reaps_orphans(t: &Ctx) -> TestResult {
    let script = "echo $$; (sleep 0.1 &); sleep 1; ps -eo stat=,comm=";
    let out = t.run(&["--init", "--run", "sh", "-c", script])?.success()?;
    let mut lines = out.stdout.lines();
    ensure_eq(lines.next(), Some("2"))?;
    let zombies: Vec<&str> = lines.filter(|l| l.trim_start().starts_with('Z')).collect();
    ensure(zombies.is_empty(), format!("zombies left: {zombies:?}"))
}

/// `sleep` as a bare PID 1 would ignore SIGTERM; under `--init` it dies of it: 143.
fn init_lets_sigterm_stop_a_command_without_handlers(t: &Ctx) -> TestResult {
    let mut child = Running::spawn(&mut t.tool(&["--init", "--run", "sleep", "1000"]))?;
    wait_until("the container's sleep", || {
        t.processes()
            .iter()
            .any(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
    })?;
    send(child.id(), libc::SIGTERM);
    ensure_eq(wait_child(&mut child)?.code(), Some(143))
}

/// A background process the command leaves behind dies when the command exits.
fn background_processes_die_with_the_command(t: &Ctx) -> TestResult {
    let out = t
        .run(&["--run", "sh", "-c", "sleep 1000 & echo started"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "started\n")?;
    wait_until("the background sleep to be gone", || {
        t.processes().is_empty()
    })
}

/// `kill -9` of the tool takes every container process with it, nothing reparented onto the
/// host: with the tool as helper (no tty), through the re-exec helper (`-t`), and with `--init`.
fn nothing_survives_sigkill_of_the_tool(t: &Ctx) -> TestResult {
    for flags in [&[][..], &["-t"], &["--init"], &["-t", "--init"]] {
        let mut args = flags.to_vec();
        args.extend(["--run", "sh", "-c", "sleep 1000 & sleep 1000"]);
        let mut child = Running::spawn(&mut t.tool(&args))?;
        wait_until("two sleeps in the container", || {
            t.processes()
                .iter()
                .filter(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
                .count()
                == 2
        })?;
        send(child.id(), libc::SIGKILL);
        let _ = wait_child(&mut child)?;
        wait_until("every container process to die", || {
            t.processes().is_empty()
        })
        .map_err(|e| format!("{flags:?}: {e:?}"))?;
    }
    Ok(())
}
