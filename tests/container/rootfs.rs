//! `--rootfs`: a root filesystem of the container's own, built here from the host's static
//! busybox with `my-container-tui rootfs busybox DIR`.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use std::path::Path;

pub fn tests() -> Vec<Trial> {
    root_tests![
        busybox_rootfs_is_built,
        ls_shows_the_rootfs_not_the_host,
        writes_go_to_a_throwaway_overlay,
        persist_writes_to_the_directory,
        read_only_refuses_writes,
        dev_holds_only_the_default_nodes,
        the_old_root_is_unreachable,
        etc_files_are_provided,
        bad_rootfs_values_are_refused,
        nothing_is_left_after_sigkill,
        a_stale_overlay_directory_is_cleaned,
    ]
}

/// The filesystem state (the overlay's layers) of the container the tool with PID `tool` runs.
fn state_dir_of(tool: u32) -> Result<String, libtest_mimic::Failed> {
    let id = container_of(tool)?;
    Ok(my_container_tui::state::tree::path(&id)
        .to_string_lossy()
        .into_owned())
}

fn busybox_rootfs_is_built(t: &Ctx) -> TestResult {
    let dir = TempDir::new(&format!("rootfs-{}", t.name.replace(':', "-")))?;
    let root = dir.path().join("root").to_string_lossy().into_owned();
    let made = t.run(&["rootfs", "busybox", &root])?.success()?;
    // It says what it made: where, from which busybox, how many applets, and how to use it.
    fn links_to_busybox(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let path = e.path();
                match std::fs::read_link(&path) {
                    Ok(target) => usize::from(target == Path::new("/bin/busybox")),
                    Err(_) if path.is_dir() => links_to_busybox(&path),
                    Err(_) => 0,
                }
            })
            .sum()
    }
    let applets = links_to_busybox(Path::new(&root));
    ensure(
        made.stdout.contains(&format!("made {root}: "))
            && made.stdout.contains(&format!("with {applets} applets"))
            && made.stdout.contains(&format!("--rootfs {root}")),
        format!("it says: {:?} ({applets} applets)", made.stdout),
    )?;
    for path in [
        "bin/busybox",
        "bin/sh",
        "bin/ls",
        "etc/passwd",
        "proc",
        "dev",
        "tmp",
    ] {
        ensure(
            Path::new(&root).join(path).exists(),
            format!("{path} missing"),
        )?;
    }
    let out = t.run(&["rootfs", "busybox", &root])?.expect_code(125)?;
    out.one_line_error("is not empty")
}

fn ls_shows_the_rootfs_not_the_host(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let out = t.run(&["--rootfs", &root, "--run", "ls", "/"])?.success()?;
    let names: Vec<&str> = out.stdout.split_whitespace().collect();
    ensure(
        names.contains(&"linuxrc") && names.contains(&"bin"),
        format!("ls /: {names:?}"),
    )?;
    ensure(
        !names.contains(&"work") && !names.contains(&"boot"),
        format!("the host shows through: {names:?}"),
    )?;
    let out = t.run(&["--rootfs", &root, "--run", "pwd"])?.success()?;
    ensure_eq(out.stdout.as_str(), "/\n")
}

/// Writes land in the overlay's upper layer, DIR is unchanged, and the layer is removed.
fn writes_go_to_a_throwaway_overlay(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    // It waits for a byte on stdin, so its record is seen before it ends.
    let mut child = Running::spawn(
        t.tool(&[
            "--rootfs",
            &root,
            "--run",
            "sh",
            "-c",
            "head -c 1 >/dev/null; echo new > /created && rm /bin/vi && cat /created",
        ])
        .stdin(std::process::Stdio::piped()),
    )?;
    let state = state_dir_of(child.id())?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(b"go").map_err(|e| e.to_string())?;
    }
    ensure(
        wait_child(&mut child)?.success(),
        "the writes succeed inside",
    )?;
    ensure(
        !Path::new(&root).join("created").exists(),
        "a file created inside reached DIR",
    )?;
    ensure(
        Path::new(&root).join("bin/vi").exists(),
        "a file removed inside left DIR",
    )?;
    wait_until("the upper layer to be removed", || {
        !Path::new(&state).exists()
    })
}

fn persist_writes_to_the_directory(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    t.run(&[
        "--rootfs",
        &root,
        "--rootfs-persist",
        "--run",
        "sh",
        "-c",
        "echo kept > /kept",
    ])?
    .success()?;
    let kept = std::fs::read_to_string(Path::new(&root).join("kept")).map_err(|e| e.to_string())?;
    ensure_eq(kept.as_str(), "kept\n")
}

fn read_only_refuses_writes(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let out = t.run(&[
        "--rootfs",
        &root,
        "--read-only",
        "--run",
        "sh",
        "-c",
        "echo x > /x",
    ])?;
    ensure(out.code != Some(0), "writing / succeeded under --read-only")?;
    ensure(
        out.stderr.contains("Read-only"),
        format!("stderr: {}", out.stderr),
    )?;
    ensure(
        !Path::new(&root).join("x").exists(),
        "the write reached DIR",
    )
}

fn dev_holds_only_the_default_nodes(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let out = t
        .run(&["--rootfs", &root, "--run", "ls", "/dev"])?
        .success()?;
    let mut names: Vec<&str> = out.stdout.split_whitespace().collect();
    names.sort();
    let expected = [
        "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
        "stdout", "tty", "urandom", "zero",
    ];
    ensure_eq(names, expected.to_vec())?;
    let out = t
        .run(&["-t", "--rootfs", &root, "--run", "ls", "/dev/console"])?
        .success()?;
    ensure(
        out.stdout.contains("/dev/console"),
        "with a tty, /dev/console exists",
    )
}

/// `cd /..`, `/proc/1/root`, `..` through a symlink and the mount table all stay inside.
fn the_old_root_is_unreachable(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let script = "cd /.. && pwd && ls / > /tmp/a && ls /proc/1/root/ > /tmp/b && cmp /tmp/a /tmp/b \
                  && ln -s ../../../../.. /tmp/up && ls /tmp/up/ > /tmp/c && cmp /tmp/a /tmp/c && echo same \
                  && cat /proc/self/mountinfo";
    let out = t
        .run(&["--rootfs", &root, "--run", "sh", "-c", script])?
        .success()?;
    let mut lines = out.stdout.lines();
    ensure_eq(lines.next(), Some("/"))?;
    ensure_eq(lines.next(), Some("same"))?;
    // Mount points (the fifth field), not options: the overlay's options name its layers.
    let points: Vec<&str> = lines.filter_map(|m| m.split(' ').nth(4)).collect();
    // The rootfs's own mounts, and the hardening's masks over /proc and /sys.
    use my_container_tui::runtime::security::{MASKED, READ_ONLY};
    let own = [
        "/",
        "/proc",
        "/sys",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        // Ours, bound from the state directory (a user network's peers are written there).
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
    ];
    let inside: Vec<&str> = own
        .iter()
        .chain(&MASKED)
        .chain(&READ_ONLY)
        .copied()
        .collect();
    // And the container's own cgroups, read-only, at /sys/fs/cgroup.
    ensure(
        points
            .iter()
            .all(|p| inside.contains(p) || p.starts_with("/sys/fs/cgroup")),
        format!("unexpected mount points: {points:?}"),
    )
}

fn etc_files_are_provided(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let out = t
        .run(&[
            "--rootfs",
            &root,
            "--hostname",
            "box",
            "--run",
            "cat",
            "/etc/hostname",
            "/etc/hosts",
        ])?
        .success()?;
    ensure(out.stdout.starts_with("box\n"), format!("{:?}", out.stdout))?;
    ensure(out.stdout.contains("localhost"), "hosts has localhost")?;
    ensure(
        !Path::new(&root).join("etc/hostname").exists(),
        "the overlay, not DIR, took them",
    )
}

fn bad_rootfs_values_are_refused(t: &Ctx) -> TestResult {
    let (dir, root) = t.busybox_rootfs()?;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).map_err(|e| e.to_string())?;
    let file = dir.file("file", b"x", 0o644)?;
    let empty = empty.to_string_lossy().into_owned();
    for (rootfs, says) in [
        ("/no/such/rootfs", "No such file or directory"),
        (empty.as_str(), "is empty"),
        (file.as_str(), "not a directory"),
    ] {
        t.run(&["--rootfs", rootfs, "--run", "true"])?
            .expect_code(125)?
            .one_line_error(says)?;
    }
    // busybox has no bash: found on the host, not in the rootfs.
    t.run(&["--rootfs", &root, "--run", "bash"])?
        .expect_code(127)?
        .one_line_error("bash: command not found")?;
    t.run(&["--rootfs-persist", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("--rootfs")?;
    Ok(())
}

/// `kill -9` of the tool mid-run: no process, no upper layer, no cgroup left.
fn nothing_is_left_after_sigkill(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let mut child = Running::spawn(&mut t.tool(&["--rootfs", &root, "--run", "sleep", "1000"]))?;
    let state = state_dir_of(child.id())?;
    wait_until("the container's sleep", || {
        t.processes()
            .iter()
            .any(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
    })?;
    ensure(
        Path::new(&state).exists(),
        "the upper layer exists while it runs",
    )?;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = wait_child(&mut child)?;
    wait_until("the upper layer to be removed", || {
        !Path::new(&state).exists()
    })
}

/// An upper layer that no container's record owns (a crash mid-removal) is removed by the next
/// cleaner.
fn a_stale_overlay_directory_is_cleaned(t: &Ctx) -> TestResult {
    let stale = my_container_tui::state::tree::path(&unused_id()).join("upper");
    let stale = stale.as_path();
    std::fs::create_dir_all(stale).map_err(|e| e.to_string())?;
    std::fs::write(stale.join("file"), b"left").map_err(|e| e.to_string())?;
    let container_dir = my_container_tui::state::tree::container(&unused_id());
    age(&container_dir)?;
    t.run(&["--run", "true"])?.success()?;
    wait_until("the stale upper layer to be removed", || !stale.exists())
}
