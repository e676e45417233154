//! The default hardening and volumes: what a process inside can and cannot do.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use my_container_tui::runtime::security::DEFAULT_CAPS;
use std::path::Path;

pub fn tests() -> Vec<Trial> {
    root_tests![
        status_shows_default_caps_no_new_privs_and_seccomp,
        privileged_turns_the_defaults_off,
        cap_add_and_cap_drop_change_the_set,
        mounting_unsharing_and_rebooting_are_refused,
        masked_paths_read_empty_and_read_only_paths_refuse_writes,
        only_stdio_reaches_the_command,
        the_host_binary_cannot_be_opened_for_writing,
        volumes_bind_read_write_and_read_only,
        tmpfs_volumes_and_bad_volumes,
    ]
}

/// The `Name:\tvalue` fields of a status file.
fn status_field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
}

fn status(t: &Ctx, flags: &[&str]) -> Result<String, libtest_mimic::Failed> {
    let mut args = flags.to_vec();
    args.extend(["--run", "cat", "/proc/self/status"]);
    Ok(t.run(&args)?.success()?.stdout)
}

fn status_shows_default_caps_no_new_privs_and_seccomp(t: &Ctx) -> TestResult {
    let status = status(t, &[])?;
    let mask: u64 = DEFAULT_CAPS
        .iter()
        .map(|c| c.bitmask())
        .fold(0, |a, b| a | b);
    let want = format!("{mask:016x}");
    ensure_eq(status_field(&status, "CapEff:"), Some(want.as_str()))?;
    ensure_eq(status_field(&status, "CapBnd:"), Some(want.as_str()))?;
    ensure_eq(status_field(&status, "CapInh:"), Some("0000000000000000"))?;
    ensure_eq(status_field(&status, "CapAmb:"), Some("0000000000000000"))?;
    ensure_eq(status_field(&status, "NoNewPrivs:"), Some("1"))?;
    ensure_eq(status_field(&status, "Seccomp:"), Some("2"))
}

fn privileged_turns_the_defaults_off(t: &Ctx) -> TestResult {
    let status = status(t, &["--privileged"])?;
    ensure_eq(status_field(&status, "NoNewPrivs:"), Some("0"))?;
    ensure_eq(status_field(&status, "Seccomp:"), Some("0"))?;
    let eff = u64::from_str_radix(status_field(&status, "CapEff:").unwrap_or("0"), 16).unwrap_or(0);
    ensure(
        eff & (1 << 21) != 0,
        "CAP_SYS_ADMIN is there under --privileged",
    )?;
    t.run(&[
        "--privileged",
        "--run",
        "sh",
        "-c",
        "mount -t tmpfs x /mnt && umount /mnt",
    ])?
    .success()
    .map(|_| ())
}

fn cap_add_and_cap_drop_change_the_set(t: &Ctx) -> TestResult {
    ensure_eq(
        status_field(&status(t, &["--cap-drop", "ALL"])?, "CapEff:"),
        Some("0000000000000000"),
    )?;
    let with_admin = status(t, &["--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW"])?;
    let eff =
        u64::from_str_radix(status_field(&with_admin, "CapEff:").unwrap_or("0"), 16).unwrap_or(0);
    ensure(eff & (1 << 21) != 0, "CAP_SYS_ADMIN added")?;
    ensure(eff & (1 << 13) == 0, "CAP_NET_RAW dropped")?;
    t.run(&["--cap-add", "bogus", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("unknown capability")
}

/// `mount`, `unshare -m`, `reboot(2)` (busybox's reboot -f calls it directly), and new
/// namespaces through `clone` all fail inside.
fn mounting_unsharing_and_rebooting_are_refused(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    for script in [
        "mount -t tmpfs x /mnt",
        "unshare -m true",
        "unshare -n true",
        "reboot -f",
        "nsenter -t 1 -m true",
    ] {
        let out = t.run(&["--rootfs", &root, "--run", "sh", "-c", script])?;
        ensure(
            out.code != Some(0),
            format!("`{script}` succeeded inside the container"),
        )?;
    }
    Ok(())
}

fn masked_paths_read_empty_and_read_only_paths_refuse_writes(t: &Ctx) -> TestResult {
    use my_container_tui::runtime::security::{MASKED, READ_ONLY};
    for path in MASKED.iter().filter(|p| Path::new(p).exists()) {
        let out = t.run(&[
            "--run",
            "sh",
            "-c",
            &format!("if [ -d {path} ]; then ls -A {path}; else cat {path}; fi"),
        ])?;
        ensure(
            out.stdout.is_empty(),
            format!("{path} shows {:?}", out.stdout),
        )?;
    }
    for path in READ_ONLY {
        let probe = if Path::new(path).is_dir() {
            format!("touch {path}/x")
        } else {
            format!("echo h > {path}")
        };
        let out = t.run(&["--run", "sh", "-c", &probe])?;
        ensure(out.code != Some(0), format!("writing {path} succeeded"))?;
    }
    let out = t.run(&["--run", "sh", "-c", "echo x > /proc/sys/kernel/hostname"])?;
    ensure(
        out.stderr.contains("Read-only"),
        format!("/proc/sys: {}", out.stderr),
    )
}

/// A descriptor the tool inherited (here fd 7) never reaches the command.
fn only_stdio_reaches_the_command(t: &Ctx) -> TestResult {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let leak = std::fs::File::open("/etc/hostname").map_err(|e| e.to_string())?;
    let raw = leak.as_raw_fd();
    let mut cmd = t.tool(&["--run", "sh", "-c", "ls /proc/$$/fd"]);
    // SAFETY: dup2 in the child before exec, on descriptors that exist.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(raw, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run(cmd)?.success()?;
    let fds: Vec<&str> = out.stdout.split_whitespace().collect();
    ensure_eq(fds, vec!["0", "1", "2"])
}

/// Under `--init`, PID 1 is this binary: its /proc/1/exe can be neither read nor opened for
/// writing from inside (CVE-2019-5736).
fn the_host_binary_cannot_be_opened_for_writing(t: &Ctx) -> TestResult {
    let out = t.run(&[
        "--init",
        "--run",
        "sh",
        "-c",
        "exec 3>>/proc/1/exe && echo opened",
    ])?;
    ensure(
        out.code != Some(0) && !out.stdout.contains("opened"),
        format!("{out:?}"),
    )?;
    let out = t.run(&[
        "--init",
        "--run",
        "sh",
        "-c",
        "cat /proc/1/exe > /dev/null && echo read",
    ])?;
    ensure(
        !out.stdout.contains("read"),
        "the host binary could be read through /proc/1/exe",
    )
}

fn volumes_bind_read_write_and_read_only(t: &Ctx) -> TestResult {
    let (dir, root) = t.busybox_rootfs()?;
    let data = dir.path().join("data");
    std::fs::create_dir(&data).map_err(|e| e.to_string())?;
    let file = dir.file("single", b"one file\n", 0o644)?;
    let data = data.to_string_lossy().into_owned();
    let rw = format!("{data}:/srv/data");
    let ro = format!("{data}:/srv/ro:ro");
    let single = format!("{file}:/etc/single:ro");
    let script = "echo written > /srv/data/new && cat /etc/single && \
                  if echo x > /srv/ro/x; then echo ro-writable; fi; \
                  if mount -o remount,rw /srv/ro; then echo remounted; fi";
    let out = t
        .run(&[
            "--rootfs", &root, "-v", &rw, "-v", &ro, "-v", &single, "--run", "sh", "-c", script,
        ])?
        .success()?;
    ensure(
        out.stdout.contains("one file"),
        "the file volume is readable",
    )?;
    ensure(
        !out.stdout.contains("ro-writable"),
        "a :ro volume took a write",
    )?;
    ensure(
        !out.stdout.contains("remounted"),
        "a :ro volume was remounted read-write",
    )?;
    let written =
        std::fs::read_to_string(Path::new(&data).join("new")).map_err(|e| e.to_string())?;
    ensure_eq(written.as_str(), "written\n")?;
    ensure(
        !Path::new(&root).join("srv").exists(),
        "targets were created in the overlay, not in DIR",
    )?;
    // Without a rootfs the target must already exist on the host's tree.
    t.run(&["-v", &rw, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("does not exist")?;
    let out = t
        .run(&["-v", &format!("{data}:/mnt:ro"), "--run", "cat", "/mnt/new"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "written\n")
}

fn tmpfs_volumes_and_bad_volumes(t: &Ctx) -> TestResult {
    let out = t
        .run(&[
            "--tmpfs",
            "/mnt:size=1m",
            "--run",
            "sh",
            "-c",
            "df -k /mnt | tail -n 1",
        ])?
        .success()?;
    ensure(
        out.stdout.starts_with("tmpfs") && out.stdout.contains("1024"),
        format!("{:?}", out.stdout),
    )?;
    for (args, says) in [
        (&["-v", "./relative:/mnt"][..], "must be an absolute path"),
        (&["-v", "/no/such/source:/mnt"], "No such file or directory"),
        (&["-v", "/tmp:/mnt/../etc"], "may not contain '..'"),
        // `-v /DST` alone is an anonymous volume (Docker's); a relative word is nothing.
        (&["-v", "tmp"], "expected SRC:DST"),
        (&["--tmpfs", "/mnt:bogus"], "invalid tmpfs option"),
        (&["--tmpfs", "/mnt:mode=99"], "invalid tmpfs option"),
        (&["--tmpfs", "/"], "cannot be mounted over /"),
        (&["-v", "/tmp:/"], "cannot be mounted over /"),
        (&["-v", "/:/"], "cannot be mounted over /"),
        (&["-v", "/tmp:/proc/sys"], "cannot be mounted in /proc"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    // Docker's TestMountIntoSys: a volume and a tmpfs over /sys/fs/cgroup, with and without a
    // root of the container's own.
    let dir = TempDir::new("into-sys")?;
    dir.file("mark", b"from the volume\n", 0o644)?;
    let (_root_dir, root) = t.busybox_rootfs()?;
    let volume = format!("{}:/sys/fs/cgroup:ro", dir.path().display());
    for rootfs in [&[][..], &["--rootfs", root.as_str()][..]] {
        let mut args = rootfs.to_vec();
        args.extend(["-v", &volume, "--run", "cat", "/sys/fs/cgroup/mark"]);
        ensure_eq(
            t.run(&args)?.success()?.stdout,
            "from the volume\n".to_string(),
        )?;
        let mut args = rootfs.to_vec();
        args.extend([
            "--tmpfs",
            "/sys/fs/cgroup",
            "--run",
            "sh",
            "-c",
            "echo x > /sys/fs/cgroup/y && cat /sys/fs/cgroup/y",
        ]);
        ensure_eq(t.run(&args)?.success()?.stdout, "x\n".to_string())?;
    }
    Ok(())
}
