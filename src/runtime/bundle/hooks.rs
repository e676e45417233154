//! OCI hooks: programs the config names, run at the points of the lifecycle the runtime spec
//! sets, each given the container's state JSON on stdin. A hook that fails (or outlives its
//! `timeout`) fails the step it belongs to, except `poststop`, whose failures are only logged.

use anyhow::{Context, anyhow, bail};
use oci_spec::runtime::Hook;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `hooks` in order, each with `state` on stdin; `phase` names them in errors.
pub fn run(hooks: &[Hook], state: &str, phase: &str) -> anyhow::Result<()> {
    for (i, hook) in hooks.iter().enumerate() {
        run_one(hook, state)
            .with_context(|| format!("{phase} hook {i} ({})", hook.path().display()))?;
    }
    Ok(())
}

fn run_one(hook: &Hook, state: &str) -> anyhow::Result<()> {
    let mut command = Command::new(hook.path());
    let args = hook.args().clone().unwrap_or_default();
    if let Some((first, rest)) = args.split_first() {
        command.arg0(first).args(rest);
    }
    command.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            command.env(k, v);
        }
    }
    command.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = command.spawn().context("cannot start it")?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin closes it: not an error.
        let _ = stdin.write_all(state.as_bytes());
    }
    let timeout = hook
        .timeout()
        .filter(|&t| t > 0)
        .map(|t| Duration::from_secs(t as u64));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("timed out after {}s", timeout.unwrap_or_default().as_secs());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if !status.success() {
        return Err(anyhow!("failed: {status}"));
    }
    Ok(())
}
