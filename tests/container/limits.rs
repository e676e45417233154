//! Resource limits through the container's cgroup, on this host's layout (hybrid here, so the
//! v1 path; the v2 file handling is unit-tested on a fixture tree in `runtime::cgroups`).

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use my_container_tui::runtime::cgroups::{Cgroup, Layout};
use std::process::Stdio;
use std::time::{Duration, Instant};

pub fn tests() -> Vec<Trial> {
    root_tests![
        the_container_sees_its_cgroup_as_root,
        a_fork_bomb_is_contained_by_the_pids_limit,
        out_of_memory_is_reported_and_exits_137,
        a_cpu_hog_gets_its_quota,
        the_cgroup_is_removed_after_exit_and_after_sigkill,
        a_stale_cgroup_from_a_crash_is_cleaned,
        bad_limit_values_are_refused,
        the_v2_path_works_on_this_hosts_cgroup2_mount,
    ]
}

/// The cgroup of the container that the headless tool with PID `tool` runs.
fn cgroup_of(tool: u32) -> anyhow::Result<Cgroup> {
    let id = container_of(tool).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(Cgroup::at(&Layout::detect()?, &id))
}

/// `nr_throttled` from the cgroup's `cpu.stat` (v1's cpu hierarchy, or v2's one directory).
fn throttled_periods(cgroup: &Cgroup) -> u64 {
    cgroup
        .procs_files()
        .iter()
        .filter_map(|f| std::fs::read_to_string(f.with_file_name("cpu.stat")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.strip_prefix("nr_throttled "))
                .filter_map(|n| n.trim().parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0)
}

fn the_container_sees_its_cgroup_as_root(t: &Ctx) -> TestResult {
    let out = t
        .run(&["--memory", "64m", "--run", "cat", "/proc/self/cgroup"])?
        .success()?;
    let memory = out
        .stdout
        .lines()
        .find(|l| l.contains(":memory:") || l.starts_with("0::"));
    ensure_eq(
        memory.map(|l| l.rsplit(':').next().unwrap_or("")),
        Some("/"),
    )
}

/// A fork bomb under `--pids-limit 20` never has more than 20 processes, the container keeps
/// running, and the host can still fork.
fn a_fork_bomb_is_contained_by_the_pids_limit(t: &Ctx) -> TestResult {
    let bomb = "b() { b | b & }; b 2>/dev/null; echo bombed; read x";
    let mut child = Running::spawn(
        t.tool(&["--pids-limit", "20", "--run", "bash", "-c", bomb])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    )?;
    let cgroup = cgroup_of(child.id())?;
    let mut most = 0;
    wait_until("the bomb to reach the limit", || {
        let pids = cgroup.usage().pids.unwrap_or(0);
        most = most.max(pids);
        pids >= 20
    })?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        most = most.max(cgroup.usage().pids.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    ensure(most <= 20, format!("{most} processes under a limit of 20"))?;
    ensure(
        child.try_wait().map_err(|e| e.to_string())?.is_none(),
        "the container is still running",
    )?;
    let host = std::process::Command::new("true")
        .status()
        .map_err(|e| e.to_string())?;
    ensure(host.success(), "the host can still fork")?;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = wait_child(&mut child)?;
    wait_until("the cgroup to be removed", || !cgroup.exists())
}

/// `--memory 32m` and 64 MiB held: the OOM killer ends it, 137, with a one-line notice.
fn out_of_memory_is_reported_and_exits_137(t: &Ctx) -> TestResult {
    // The shell (PID 1) reads 64 MiB into a variable.
    let hog = "x=$(head -c 67108864 /dev/zero | tr '\\0' x)";
    let out = t
        .run(&["--memory", "32m", "--run", "sh", "-c", hog])?
        .expect_code(137)?;
    out.one_line_error("ran out of memory (limit 32 MiB)")
}

/// A busy loop under `--cpus 0.2` uses about a fifth of a core, by the cgroup's own accounting
/// over two seconds (a wide tolerance: this machine is shared and noisy).
fn a_cpu_hog_gets_its_quota(t: &Ctx) -> TestResult {
    let mut child = Running::spawn(&mut t.tool(&[
        "--cpus",
        "0.2",
        "--run",
        "sh",
        "-c",
        "while :; do :; done",
    ]))?;
    let cgroup = cgroup_of(child.id())?;
    wait_until("the hog to start", || {
        cgroup.usage().cpu_ns.unwrap_or(0) > 0
    })?;
    std::thread::sleep(Duration::from_millis(500));
    let (c0, t0) = (cgroup.usage().cpu_ns.unwrap_or(0), Instant::now());
    std::thread::sleep(Duration::from_secs(2));
    let (c1, t1) = (cgroup.usage().cpu_ns.unwrap_or(0), Instant::now());
    let cores = (c1 - c0) as f64 / (t1 - t0).as_nanos() as f64;
    let throttled = throttled_periods(&cgroup);
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = wait_child(&mut child)?;
    // Under load the hog may get less than its quota, so the floor is not asserted; the
    // ceiling is, and that the quota did the capping (the kernel counts throttled periods).
    ensure(
        cores <= 0.3,
        format!("used {cores:.2} of a core under --cpus 0.2"),
    )?;
    ensure(
        throttled > 0,
        format!("the quota never throttled the hog ({cores:.2} of a core)"),
    )?;
    wait_until("the cgroup to be removed", || !cgroup.exists())
}

/// Removed (by the cleaner) right after a normal exit, and after the tool is SIGKILLed.
fn the_cgroup_is_removed_after_exit_and_after_sigkill(t: &Ctx) -> TestResult {
    // It waits for a byte on stdin, so its record is seen before it ends.
    let mut child = Running::spawn(
        t.tool(&["--memory", "64m", "--run", "head", "-c", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null()),
    )?;
    let cgroup = cgroup_of(child.id())?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(b"x").map_err(|e| e.to_string())?;
    }
    ensure(wait_child(&mut child)?.success(), "the command succeeds")?;
    wait_until("the cgroup to be removed after the exit", || {
        !cgroup.exists()
    })?;

    let mut child = Running::spawn(&mut t.tool(&["--run", "sleep", "1000"]))?;
    let cgroup = cgroup_of(child.id())?;
    wait_until("the sleep in its cgroup", || !cgroup.is_empty())?;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = wait_child(&mut child)?;
    wait_until("the cgroup to be removed", || !cgroup.exists())
}

/// A cgroup that no container's record owns (its launcher crashed) is removed by the next
/// container's cleaner.
fn a_stale_cgroup_from_a_crash_is_cleaned(t: &Ctx) -> TestResult {
    let layout = Layout::detect()?;
    let stale = Cgroup::create(&layout, &unused_id(), &Default::default(), None)?;
    for procs in stale.procs_files() {
        if let Some(dir) = procs.parent() {
            age(dir)?;
        }
    }
    t.run(&["--run", "true"])?.success()?;
    let gone = wait_until("the stale cgroup to be removed", || !stale.exists());
    let _ = stale.remove();
    gone
}

fn bad_limit_values_are_refused(t: &Ctx) -> TestResult {
    for (args, says) in [
        (&["--memory", "banana"][..], "invalid size"),
        (&["--memory", "1k"], "the minimum is 6m"),
        (&["--cpus", "0"], "must be more than 0"),
        (&["--cpus", "-1"], "--cpus"),
        (&["--cpus", "1000"], "this machine has"),
        (&["--pids-limit", "0"], "--pids-limit"),
        (&["--cpu-shares", "1"], "--cpu-shares"),
        (
            &["--memory", "64m", "--memory-swap", "32m"],
            "below --memory",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    Ok(())
}

/// This host's cgroup2 mount holds none of our controllers (they are bound to v1), but its
/// directories are real: the v2 code creates a cgroup there, a process joins it and shows up at
/// `0::/my-container-tui/<id>`, and the cgroup is removed. (Limits on v2 are unit-tested on a
/// fixture tree.)
fn the_v2_path_works_on_this_hosts_cgroup2_mount(_t: &Ctx) -> TestResult {
    let table = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let Some(root) = table.lines().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let dash = f.iter().position(|x| *x == "-")?;
        (f.get(dash + 1) == Some(&"cgroup2")).then(|| f[4].to_string())
    }) else {
        return Err("no cgroup2 mount on this host".into());
    };
    let layout = Layout::V2 { root: root.into() };
    let id = format!("{}-v2test", std::process::id());
    let cgroup = Cgroup::create(&layout, &id, &Default::default(), None)?;
    let mut sleeper = Running::spawn(std::process::Command::new("sleep").arg("30"))?;
    let procs = cgroup.procs_files();
    let joined = std::fs::write(&procs[0], sleeper.id().to_string()).map_err(|e| e.to_string());
    let seen =
        std::fs::read_to_string(format!("/proc/{}/cgroup", sleeper.id())).unwrap_or_default();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    wait_until("the cgroup to empty", || cgroup.is_empty())?;
    let removed = cgroup.remove();
    joined?;
    ensure(
        seen.contains(&format!("0::/my-container-tui/{id}")),
        format!("/proc/<pid>/cgroup: {seen}"),
    )?;
    removed.map_err(Into::into)
}
