//! Attacks on containment, run for real as root: host devices reached through mknod, a
//! hostile rootfs whose symlinks point out of it, the host's files and sockets reached from a
//! default container, capability and identity arithmetic, facts faked from inside.
//! Each test first shows the attack would work where the door is meant to be open
//! (`--device`, `--host-rw`, `--privileged`), then that it fails by default.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::{Failed, Trial};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

pub fn tests() -> Vec<Trial> {
    root_tests![
        a_pid_1_named_in_bytes_that_are_not_utf8_stays_ours,
        a_host_block_device_cannot_be_read_through_mknod,
        a_host_block_device_cannot_be_read_on_cgroup_v2,
        host_char_devices_cannot_be_opened,
        proc_sys_or_dev_symlinked_out_of_the_rootfs_are_refused,
        etc_symlinked_to_the_host_gets_nothing_written_there,
        volume_targets_through_symlinks_stay_inside_the_rootfs,
        overlay_paths_cannot_inject_layers_or_options,
        the_state_tree_is_closed_to_other_users,
        docker_refusals,
        the_host_root_is_read_only_by_default,
        host_sockets_under_tmp_and_run_are_hidden,
        host_sockets_elsewhere_are_hidden_too,
        an_init_pid_1_is_a_sealed_copy,
        sysfs_and_cgroupfs_are_read_only_and_show_our_cgroup,
        host_rw_gives_the_seeds_writable_root_back,
        volumes_without_a_rootfs_are_made_only_in_private_dirs,
        a_working_directory_under_a_private_dir_stays_visible_alone,
        the_terminal_is_a_pty_of_the_containers_own,
        cap_arithmetic_is_dockers,
        supplementary_groups_and_umask_do_not_leak_in,
        read_only_and_persistent_roots_get_etc_files,
        etc_files_linked_to_devices_or_procfs_are_refused,
        tmpfs_takes_dockers_options,
        private_tmpfs_dirs_are_bounded,
        exec_without_t_never_holds_the_callers_terminal,
        exec_runs_as_the_containers_user_and_without_setgid,
        a_long_argv_reaches_a_tty_container,
        overflowing_values_are_refused_and_errors_are_cut,
        sigkill_at_any_moment_of_start_up_leaves_nothing,
    ]
}

/// A loop device attached to a 1 MiB file that starts with `secret`; detached on drop.
struct Loop {
    dev: String,
    _dir: TempDir,
}

impl Loop {
    fn new(tag: &str, secret: &str) -> Result<Loop, Failed> {
        let dir = TempDir::new(tag)?;
        let mut data = secret.as_bytes().to_vec();
        data.resize(1 << 20, 0);
        let file = dir.file("disk", &data, 0o600)?;
        let out = Command::new("losetup")
            .args(["-f", "--show", &file])
            .output()
            .map_err(|e| format!("losetup: {e}"))?;
        ensure(
            out.status.success(),
            format!("losetup: {}", String::from_utf8_lossy(&out.stderr)),
        )?;
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Loop { dev, _dir: dir })
    }

    /// (major, minor)
    fn numbers(&self) -> (u64, u64) {
        let rdev = std::fs::metadata(&self.dev).map(|m| m.rdev()).unwrap_or(0);
        (libc::major(rdev) as u64, libc::minor(rdev) as u64)
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

/// The attack: make a node for the host's disk and read it, in `dir` (a tmpfs of the
/// container's own).
fn read_disk_script(dir: &str, major: u64, minor: u64) -> String {
    format!("mknod {dir}/disk b {major} {minor} && head -c 64 {dir}/disk")
}

fn host_block_device_attack(t: &Ctx, unified: bool) -> TestResult {
    let secret = format!("MCT-SECRET-{}", t.name.len());
    let disk = Loop::new(if unified { "loop2" } else { "loop1" }, &secret)?;
    let (major, minor) = disk.numbers();
    let run = |extra: &[&str], script: &str| -> Result<Output, Failed> {
        let mut cmd = t.tool(extra);
        cmd.args(["--run", "sh", "-c", script]);
        if unified {
            cmd.env("MY_CONTAINER_TUI_CGROUP_UNIFIED", "1");
        }
        run(cmd)
    };
    // The door open: --device gives the node, and the secret is readable through it.
    let given = run(
        &["--device", &format!("{}:/dev/disk:r", disk.dev)],
        "head -c 64 /dev/disk",
    )?
    .success()?;
    ensure(
        given.stdout.contains(&secret),
        format!("--device did not give the disk: {:?}", given.stdout),
    )?;
    // Read-only as asked: a write is refused.
    let write = run(
        &["--device", &format!("{}:/dev/disk:r", disk.dev)],
        "echo x > /dev/disk",
    )?;
    ensure(write.code != Some(0), "--device ...:r allowed a write")?;
    // The attack, by default.
    let out = run(&[], &read_disk_script("/dev", major, minor))?;
    ensure(
        out.code != Some(0) && !out.stdout.contains(&secret),
        format!("the host's disk was read: {out:?}"),
    )?;
    ensure(
        out.stderr.contains("Operation not permitted"),
        format!(
            "expected EPERM from the device controller: {:?}",
            out.stderr
        ),
    )?;
    // --privileged lifts the controller, as in Docker. (It also shares the host's /dev, so the
    // node is made in a tmpfs of the container's own.)
    let privileged = run(
        &["--privileged", "--tmpfs", "/mnt:dev"],
        &read_disk_script("/mnt", major, minor),
    )?
    .success()?;
    ensure(
        privileged.stdout.contains(&secret),
        "--privileged could not read the disk",
    )
}

/// cgroup v1 (this host's `devices` hierarchy): `mknod` is allowed, opening is not.
fn a_host_block_device_cannot_be_read_through_mknod(t: &Ctx) -> TestResult {
    host_block_device_attack(t, false)
}

/// cgroup v2: the same attack against the BPF device program, on the host's cgroup2 mount.
fn a_host_block_device_cannot_be_read_on_cgroup_v2(t: &Ctx) -> TestResult {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    ensure(
        mounts.contains(" - cgroup2 "),
        "this host mounts no cgroup2 filesystem to test the BPF device program on",
    )?;
    host_block_device_attack(t, true)
}

/// /dev/kmsg, /dev/mem, /dev/tty0, /dev/kvm, /dev/fuse: made, and refused when opened.
fn host_char_devices_cannot_be_opened(t: &Ctx) -> TestResult {
    let mut script = String::new();
    for (name, major, minor) in [
        ("kmsg", 1, 11),
        ("mem", 1, 1),
        ("tty0", 4, 0),
        ("kvm", 10, 232),
        ("fuse", 10, 229),
    ] {
        script.push_str(&format!(
            "mknod /dev/{name} c {major} {minor} && echo made-{name}; \
             (: < /dev/{name}) 2>/dev/null && echo OPENED-{name}; "
        ));
    }
    let out = t.run(&["--run", "sh", "-c", &script])?;
    ensure(
        out.stdout.matches("made-").count() == 5,
        format!("mknod is Docker's default, allowed: {:?}", out.stdout),
    )?;
    ensure(
        !out.stdout.contains("OPENED"),
        format!("a host device opened: {:?}", out.stdout),
    )?;
    // `--device` gives one, at a nested path too, as Docker's `--device /dev/net/tun`.
    if Path::new("/dev/net/tun").exists() {
        let script = "(: < /dev/net/tun) && echo opened";
        let given = t.run(&["--device", "/dev/net/tun", "--run", "sh", "-c", script])?;
        ensure_eq(given.success()?.stdout.as_str(), "opened\n")?;
    }
    Ok(())
}

/// A busybox rootfs where `name` is replaced by a symlink to `target`.
fn rootfs_with_link(t: &Ctx, name: &str, target: &str) -> Result<(TempDir, String), Failed> {
    let (dir, root) = t.busybox_rootfs()?;
    let path = Path::new(&root).join(name);
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::os::unix::fs::symlink(target, &path).map_err(|e| e.to_string())?;
    Ok((dir, root))
}

/// The image's `/proc -> /` would put the container's procfs (or sysfs) over the host's `/`
/// (runc CVE-2019-19921); `/dev -> /` would make the tool create nodes in the host's `/`.
fn proc_sys_or_dev_symlinked_out_of_the_rootfs_are_refused(t: &Ctx) -> TestResult {
    let before: Vec<String> = std::fs::read_dir("/")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in ["proc", "sys", "dev"] {
        let (_dir, root) = rootfs_with_link(t, name, "/")?;
        for mode in [&[][..], &["--rootfs-persist"], &["--read-only"]] {
            let mut args = vec!["--rootfs", root.as_str()];
            args.extend(mode);
            args.extend(["--run", "true"]);
            t.run(&args)?
                .expect_code(125)?
                .one_line_error(&format!("/{name} must be a directory in the rootfs"))?;
        }
    }
    let after: Vec<String> = std::fs::read_dir("/")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ensure_eq(after, before)
}

/// `/etc -> /some/host/dir`: hostname, hosts and resolv.conf are written inside the image
/// (where the link leads when `/` is the image's root), never in the host directory. Where
/// the link leads to nothing inside the image, the container is refused.
fn etc_symlinked_to_the_host_gets_nothing_written_there(t: &Ctx) -> TestResult {
    let host = TempDir::new(&format!("hostetc-{}", t.name.len()))?;
    let host_etc = host.path().to_string_lossy().into_owned();
    let (_dir, root) = rootfs_with_link(t, "etc", &host_etc)?;
    let refused = t
        .run(&["--rootfs", &root, "--run", "true"])?
        .expect_code(125)?;
    refused.one_line_error("/etc")?;
    ensure(
        std::fs::read_dir(host.path())
            .map_err(|e| e.to_string())?
            .next()
            .is_none(),
        "the host directory was written",
    )?;
    // Where the link's target exists inside the image, that is where the files go.
    let inside = Path::new(&root).join(host_etc.trim_start_matches('/'));
    std::fs::create_dir_all(&inside).map_err(|e| e.to_string())?;
    for mode in [&[][..], &["--rootfs-persist"], &["--read-only"]] {
        let mut args = vec!["--rootfs", root.as_str()];
        args.extend(mode);
        args.extend(["--run", "cat", "/etc/hosts"]);
        let out = t.run(&args)?.success()?;
        ensure(
            out.stdout.contains("localhost"),
            format!("{mode:?}: /etc/hosts inside: {:?}", out.stdout),
        )?;
        let written: Vec<_> = std::fs::read_dir(host.path())
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        ensure(
            written.is_empty(),
            format!("{mode:?}: the host directory was written: {written:?}"),
        )?;
    }
    Ok(())
}

/// A volume target reached through the image's symlink to a host path lands inside the image;
/// a file target that is a symlink to a host file never truncates that file.
fn volume_targets_through_symlinks_stay_inside_the_rootfs(t: &Ctx) -> TestResult {
    let host = TempDir::new(&format!("hostmnt-{}", t.name.len()))?;
    let src = TempDir::new(&format!("volsrc-{}", t.name.len()))?;
    src.file("hello", b"from the volume\n", 0o644)?;
    let precious = host.file("precious", b"host data\n", 0o644)?;
    let (_dir, root) = rootfs_with_link(t, "mnt", &host.path().to_string_lossy())?;
    // The link's target inside the image: where the volume's mount point goes.
    let inside = Path::new(&root).join(host.path().strip_prefix("/").unwrap_or(host.path()));
    std::fs::create_dir_all(&inside).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(&precious, Path::new(&root).join("target"))
        .map_err(|e| e.to_string())?;
    let volume = format!("{}:/mnt/vol", src.path().display());
    for mode in [&[][..], &["--rootfs-persist"]] {
        let mut args = vec!["--rootfs", root.as_str(), "-v", volume.as_str()];
        args.extend(mode);
        args.extend(["--run", "cat", "/mnt/vol/hello"]);
        let out = t.run(&args)?.success()?;
        ensure_eq(out.stdout.as_str(), "from the volume\n")?;
        ensure(
            !host.path().join("vol").exists(),
            format!("{mode:?}: the volume's mount point was made on the host"),
        )?;
        let file_volume = format!("{}/hello:/target", src.path().display());
        let mut args = vec!["--rootfs", root.as_str(), "-v", file_volume.as_str()];
        args.extend(mode);
        args.extend(["--run", "true"]);
        let _ = t.run(&args)?;
        ensure_eq(
            std::fs::read_to_string(&precious).map_err(|e| e.to_string())?,
            "host data\n".to_string(),
        )?;
    }
    Ok(())
}

/// A rootfs path with `:` and `,` is one lower layer, not several, and no option.
fn overlay_paths_cannot_inject_layers_or_options(t: &Ctx) -> TestResult {
    let dir = TempDir::new(&format!("inject-{}", t.name.len()))?;
    let root = dir.path().join("a:b,upperdir=x");
    let root = root.to_string_lossy().into_owned();
    t.run(&["rootfs", "busybox", &root])?.success()?;
    let out = t
        .run(&[
            "--rootfs",
            &root,
            "--run",
            "sh",
            "-c",
            "ls /linuxrc && touch /new",
        ])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "/linuxrc\n")?;
    ensure(
        !Path::new(&root).join("new").exists(),
        "a write reached the lower layer",
    )
}

/// While a container runs on an overlay, its upper layer (where a setuid binary written inside
/// would sit) is out of reach of every host user but root.
fn the_state_tree_is_closed_to_other_users(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let mut cmd = t.tool(&[
        "--rootfs",
        &root,
        "--run",
        "sh",
        "-c",
        "cp /bin/busybox /suid && chmod 4755 /suid && echo ready && sleep 30",
    ]);
    cmd.stdout(std::process::Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).map_err(|e| e.to_string())?;
    ensure_eq(line.as_str(), "ready\n")?;
    let meta = std::fs::metadata("/run/my-container-tui").map_err(|e| e.to_string())?;
    ensure_eq(meta.permissions().mode() & 0o777, 0o700)?;
    ensure_eq(meta.uid(), 0)?;
    let nobody = as_nobody("ls /run/my-container-tui/*/upper/suid", &[])?;
    ensure(
        !nobody.status.success(),
        "another user reached the container's upper layer",
    )?;
    child.kill().map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    Ok(())
}

/// What Docker refuses: `/` as a rootfs, volumes and tmpfs over `/`, in `/proc`.
fn docker_refusals(t: &Ctx) -> TestResult {
    for (args, says) in [
        (
            &["--rootfs", "/"][..],
            "the host's / cannot be a container's root",
        ),
        (
            &["--rootfs", "/."],
            "the host's / cannot be a container's root",
        ),
        (&["-v", "/:/"], "cannot be mounted over /"),
        (&["-v", "/tmp:/"], "cannot be mounted over /"),
        (&["--tmpfs", "/"], "cannot be mounted over /"),
        (
            &["-v", "/tmp:/proc/sys/kernel"],
            "cannot be mounted in /proc",
        ),
        (&["--device", "/etc/passwd"], "not a device node"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    Ok(())
}

/// Without `--rootfs`, root inside cannot change the host's files, nor replace this tool's
/// binary (which the next run on the host would execute).
fn the_host_root_is_read_only_by_default(t: &Ctx) -> TestResult {
    let dir = TempDir::new(&format!("hostro-{}", t.name.len()))?;
    let victim = dir.file("victim", b"untouched\n", 0o644)?;
    let binary_before = std::fs::read(BIN).map_err(|e| e.to_string())?;
    let script = format!(
        "echo owned > {victim}; touch {d}/new; rm -f {victim}; echo x >> /etc/hostname; \
         cp /bin/true {BIN}; ls /etc/passwd",
        d = dir.path().display()
    );
    let out = t.run(&["--run", "sh", "-c", &script])?.success()?;
    ensure_eq(out.stdout.as_str(), "/etc/passwd\n")?;
    // The binary is refused the same way where the container sees it (a checkout under /tmp
    // is not even there, inside).
    let writes = if visible_inside(BIN) { 5 } else { 4 };
    ensure(
        out.stderr.matches("Read-only file system").count() >= writes,
        format!("expected EROFS for each write: {:?}", out.stderr),
    )?;
    ensure(
        std::fs::read(BIN).map_err(|e| e.to_string())? == binary_before,
        "the tool's binary changed",
    )?;
    ensure_eq(
        std::fs::read_to_string(&victim).map_err(|e| e.to_string())?,
        "untouched\n".to_string(),
    )?;
    ensure(!dir.path().join("new").exists(), "a file was created")?;
    // The binary is still ours: it runs and answers as itself.
    let mut version = Command::new(BIN);
    version.arg("--version");
    let version = run(version)?.success()?;
    ensure(
        version.stdout.starts_with("my-container-tui"),
        "the tool's binary was replaced",
    )
}

/// A server's socket in the host's /tmp or /run (a tmux server gave command execution
/// outside) is not there for the container: those are private tmpfs inside.
fn host_sockets_under_tmp_and_run_are_hidden(t: &Ctx) -> TestResult {
    let tmp = format!("/tmp/mct-sock-{}", std::process::id());
    let run_dir = format!("/run/mct-sock-{}", std::process::id());
    let _a = std::os::unix::net::UnixListener::bind(&tmp).map_err(|e| e.to_string())?;
    let _b = std::os::unix::net::UnixListener::bind(&run_dir).map_err(|e| e.to_string())?;
    let script = format!(
        "test -S {tmp} && echo SEEN-tmp; test -S {run_dir} && echo SEEN-run; \
         touch /tmp/ok /run/ok /var/tmp/ok /root/ok && echo private-dirs-writable"
    );
    let out = t.run(&["--run", "sh", "-c", &script]);
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_file(&run_dir);
    let out = out?.success()?;
    ensure_eq(out.stdout.as_str(), "private-dirs-writable\n")?;
    // And those writes stayed in the container.
    ensure(
        !Path::new("/tmp/ok").exists() && !Path::new("/root/ok").exists(),
        "a private directory's write reached the host",
    )
}

/// /sys is read-only; the container's cgroup is mounted read-only at /sys/fs/cgroup, with its
/// own limits showing, and it can neither raise its limit nor leave its cgroup.
fn sysfs_and_cgroupfs_are_read_only_and_show_our_cgroup(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let script = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; \
                  echo 1000000000 > /sys/fs/cgroup/memory/memory.limit_in_bytes && echo RAISED; \
                  echo $$ > /sys/fs/cgroup/memory/cgroup.procs && echo MOVED; \
                  echo 1 > /sys/kernel/mm/ksm/run && echo SYSFS-WRITTEN; true";
    for rootfs in [&[][..], &["--rootfs", root.as_str()]] {
        let mut args = rootfs.to_vec();
        args.extend(["--memory", "64m", "--run", "sh", "-c", script]);
        let out = t.run(&args)?.success()?;
        ensure_eq(out.stdout.as_str(), "67108864\n")?;
    }
    Ok(())
}

/// `--host-rw` is the seed's behaviour: the host's files writable (documented as unsafe).
fn host_rw_gives_the_seeds_writable_root_back(t: &Ctx) -> TestResult {
    let dir = TempDir::new(&format!("hostrw-{}", t.name.len()))?;
    let file = dir.path().join("written");
    let script = format!("echo from-inside > {}", file.display());
    t.run(&["--host-rw", "--run", "sh", "-c", &script])?
        .success()?;
    ensure_eq(
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?,
        "from-inside\n".to_string(),
    )
}

fn cap_eff(t: &Ctx, flags: &[&str]) -> Result<u64, Failed> {
    let mut args = flags.to_vec();
    args.extend(["--run", "cat", "/proc/self/status"]);
    let out = t.run(&args)?.success()?;
    let hex = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(str::trim)
        .unwrap_or("");
    Ok(u64::from_str_radix(hex, 16).map_err(|e| format!("CapEff {hex:?}: {e}"))?)
}

/// `--cap-drop ALL --cap-add X` is exactly X, in either order; `--cap-add ALL` is every
/// capability the caller holds.
fn cap_arithmetic_is_dockers(t: &Ctx) -> TestResult {
    let net_raw = 1u64 << 13;
    ensure_eq(
        cap_eff(t, &["--cap-drop", "ALL", "--cap-add", "NET_RAW"])?,
        net_raw,
    )?;
    ensure_eq(
        cap_eff(t, &["--cap-add", "NET_RAW", "--cap-drop", "ALL"])?,
        net_raw,
    )?;
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let bounding = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or(0);
    ensure_eq(cap_eff(t, &["--cap-add", "ALL"])?, bounding)?;
    ensure_eq(
        cap_eff(t, &["--cap-add", "ALL", "--cap-drop", "NET_RAW"])?,
        bounding & !net_raw,
    )?;
    // Where the caller's bounding set is reduced, ALL is what it holds (no capset failure).
    let (sys_module, sys_time) = (1u64 << 16, 1u64 << 25);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set=-sys_module,-sys_time", "--", BIN, "-e"])
        .arg(t.marker())
        .args(["--cap-add", "ALL", "--run", "cat", "/proc/self/status"])
        .stdin(std::process::Stdio::null());
    let out = run(cmd)?.success()?;
    let eff = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok());
    ensure_eq(eff, Some(bounding & !sys_module & !sys_time))
}

/// The caller's supplementary groups and umask stay outside.
fn supplementary_groups_and_umask_do_not_leak_in(t: &Ctx) -> TestResult {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--groups=4,24,27", "--", "sh", "-c"])
        .arg(format!(
            "umask 077; exec {BIN} -e '{}' --run sh -c 'grep Groups: /proc/self/status; umask'",
            t.marker()
        ))
        .stdin(std::process::Stdio::null());
    let out = run(cmd)?.success()?;
    let mut lines = out.stdout.lines();
    ensure_eq(lines.next().map(str::trim_end), Some("Groups:"))?;
    ensure_eq(lines.next(), Some("0022"))
}

/// A read-only or persistent root still gets /etc/hosts (bound from the state directory), so
/// `ping localhost` resolves.
fn read_only_and_persistent_roots_get_etc_files(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    for mode in ["--read-only", "--rootfs-persist"] {
        let out = t
            .run(&[
                "--rootfs",
                &root,
                mode,
                "--hostname",
                "pinged",
                "--run",
                "sh",
                "-c",
                "cat /etc/hostname && ping -c 1 -W 2 localhost >/dev/null && echo pong; \
                 for f in hostname hosts resolv.conf; do \
                     (echo x >> /etc/$f) 2>/dev/null && echo wrote-$f; \
                 done; true",
            ])?
            .success()?;
        // Read-only means the files we provide too; a persistent root's are its own to edit.
        let wrote = if mode == "--read-only" {
            ""
        } else {
            "wrote-hostname\nwrote-hosts\nwrote-resolv.conf\n"
        };
        ensure_eq(out.stdout, format!("pinged\npong\n{wrote}"))?;
    }
    // The persistent root's own files are as they were: only empty mount points were added.
    let hosts = std::fs::read_to_string(Path::new(&root).join("etc/hosts")).unwrap_or_default();
    ensure_eq(hosts.as_str(), "")
}

/// `--tmpfs` with Docker's defaults (`nosuid,nodev,noexec`) and options.
fn tmpfs_takes_dockers_options(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    let opts = |tmpfs: &str, script: &str| -> Result<Output, Failed> {
        t.run(&[
            "--rootfs", &root, "--tmpfs", tmpfs, "--run", "sh", "-c", script,
        ])
    };
    let line = opts("/mnt", "grep ' /mnt ' /proc/self/mountinfo")?.success()?;
    for flag in ["nosuid", "nodev", "noexec", "rw"] {
        ensure(
            line.stdout.contains(flag),
            format!("{flag} missing: {:?}", line.stdout),
        )?;
    }
    let noexec = opts("/mnt", "cp /bin/busybox /mnt/true && /mnt/true")?;
    ensure(
        noexec.code == Some(126),
        format!("noexec ran a binary: {noexec:?}"),
    )?;
    opts(
        "/mnt:exec,size=4m",
        "cp /bin/busybox /mnt/true && /mnt/true",
    )?
    .success()?;
    let ro = opts("/mnt:ro", "touch /mnt/x")?;
    ensure(ro.code != Some(0), "a read-only tmpfs took a write")?;
    let owned = opts("/mnt:uid=1000,gid=100,mode=700", "stat -c '%u %g %a' /mnt")?.success()?;
    ensure_eq(owned.stdout.as_str(), "1000 100 700\n")
}

/// The spec no longer travels in the environment (128 KiB per variable): a 20,000-argument
/// command runs through the pty helper.
fn a_long_argv_reaches_a_tty_container(t: &Ctx) -> TestResult {
    let args: Vec<String> = (0..20000).map(|i| format!("arg{i:05}")).collect();
    let mut all = vec!["-t", "--run", "sh", "-c", "echo $#", "sh"];
    all.extend(args.iter().map(String::as_str));
    let out = t.run(&all)?.success()?;
    ensure(
        out.stdout.contains("20000"),
        format!("{:?}", out.stdout.chars().take(200).collect::<String>()),
    )
}

/// Overflowing numbers are refused with their own message; a huge value is not echoed whole.
fn overflowing_values_are_refused_and_errors_are_cut(t: &Ctx) -> TestResult {
    for (args, says) in [
        (&["--memory", "99999999999999999999"][..], "too large"),
        (&["--memory-swap", "1e30"], "size"),
        (&["--cpus", "1e308"], "too large"),
    ] {
        let mut all = args.to_vec();
        all.extend(["--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    let huge = "a".repeat(100_000);
    let out = t
        .run(&["--hostname", &huge, "--run", "true"])?
        .expect_code(125)?;
    out.one_line_error("hostname")?;
    ensure(
        out.stderr.len() < 1000,
        format!("the error is {} bytes long", out.stderr.len()),
    )
}

/// SIGKILL lands anywhere in start-up (before, during and after the cgroup and the overlay's
/// state are made): the cleaner, forked before either exists, removes whatever was made. Each
/// run's leftovers must go before the next run starts, so no later container's sweep of stale
/// entries can hide one.
fn sigkill_at_any_moment_of_start_up_leaves_nothing(t: &Ctx) -> TestResult {
    use my_container_tui::state::{store, tree};
    let (_dir, root) = t.busybox_rootfs()?;
    // A container's cgroups and state directory, made since `since`, that no live owner holds
    // (other tests' containers are held by theirs).
    let orphans = |since: std::time::SystemTime| -> Vec<String> {
        let made_since = |p: &Path| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|m| m >= since)
        };
        our_cgroups()
            .into_iter()
            .chain([tree::containers()])
            .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
            .filter(|e| e.path().is_dir() && made_since(&e.path()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|id| !store::load(id).is_ok_and(|r| r.owner.is_some_and(|o| o.alive())))
            .collect()
    };
    for i in 0..40u64 {
        let since = std::time::SystemTime::now() - std::time::Duration::from_millis(1);
        let mut child =
            Running::spawn(&mut t.tool(&["--rootfs", &root, "--memory", "32m", "--run", "true"]))?;
        // From 0 to 7.8 ms: start-up takes about 5 ms here.
        std::thread::sleep(std::time::Duration::from_micros((i * 200) % 8000));
        let _ = child.kill();
        let _ = child.wait();
        let mut left = Vec::new();
        wait_until("the cgroup and state of the killed run to go", || {
            left = orphans(since);
            left.is_empty()
        })
        .map_err(|_| format!("left after a SIGKILL at {} µs: {left:?}", (i * 200) % 8000))?;
    }
    Ok(())
}

/// On a read-only or persistent root, `/etc/hosts` is bound over the image's: where the image's
/// is a link to `/dev/null` or into `/proc`, nothing is bound over the container's device or
/// procfs entry; the container is refused.
fn etc_files_linked_to_devices_or_procfs_are_refused(t: &Ctx) -> TestResult {
    for target in ["/dev/null", "/proc/sys/kernel/hostname", "/dev/pts/ptmx"] {
        let (_dir, root) = t.busybox_rootfs()?;
        std::os::unix::fs::symlink(target, Path::new(&root).join("etc/hosts"))
            .map_err(|e| e.to_string())?;
        for mode in ["--read-only", "--rootfs-persist"] {
            let out = t.run(&["--rootfs", &root, mode, "--run", "true"])?;
            out.one_line_error("/etc/hosts")?;
            ensure_eq(out.code, Some(125))?;
        }
    }
    Ok(())
}

/// Without a rootfs, a missing volume target is made only in the container's private tmpfs
/// directories (never on the host), and refused elsewhere.
fn volumes_without_a_rootfs_are_made_only_in_private_dirs(t: &Ctx) -> TestResult {
    let src = TempDir::new(&format!("privvol-{}", t.name.len()))?;
    src.file("hello", b"hi\n", 0o644)?;
    let volume = format!("{}:/tmp/mct-vol/inner", src.path().display());
    let out = t
        .run(&["-v", &volume, "--run", "cat", "/tmp/mct-vol/inner/hello"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "hi\n")?;
    ensure(
        !Path::new("/tmp/mct-vol").exists(),
        "the target was made on the host",
    )?;
    // A source in the host's /tmp, which the container's private /tmp hides, still binds,
    // and a write through the volume reaches the host (it is the way to share a writable path).
    let tmp_src = std::path::PathBuf::from(format!("/tmp/mct-volsrc-{}", std::process::id()));
    std::fs::create_dir_all(&tmp_src).map_err(|e| e.to_string())?;
    let tmp_volume = format!("{}:/tmp/shared", tmp_src.display());
    let wrote = t.run(&[
        "-v",
        &tmp_volume,
        "--run",
        "sh",
        "-c",
        "echo out > /tmp/shared/f",
    ]);
    let written = std::fs::read_to_string(tmp_src.join("f")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&tmp_src);
    wrote?.success()?;
    ensure_eq(written.as_str(), "out\n")?;
    let elsewhere = format!("{}:/usr/mct-vol", src.path().display());
    t.run(&["-v", &elsewhere, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("does not exist")?;
    let host_rw = format!("{}:/tmp/mct-vol", src.path().display());
    t.run(&["--host-rw", "-v", &host_rw, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("does not exist")?;
    ensure(
        !Path::new("/tmp/mct-vol").exists(),
        "--host-rw made the target on the host",
    )
}

/// Started from `/root/project` (the seed's `run pwd`, `run ls`), the container works there,
/// read-only; the rest of the host's `/root` stays hidden behind the private home.
fn a_working_directory_under_a_private_dir_stays_visible_alone(t: &Ctx) -> TestResult {
    let pid = std::process::id();
    let project = std::path::PathBuf::from(format!("/root/mct-cwd-{pid}"));
    let sibling = std::path::PathBuf::from(format!("/root/mct-sibling-{pid}"));
    let made = std::fs::create_dir_all(&project)
        .and_then(|()| std::fs::write(project.join("file"), "in the project\n"))
        .and_then(|()| std::fs::create_dir_all(&sibling));
    let mut cmd = t.tool(&["--run", "sh", "-c", "pwd; cat file; touch new; ls /root"]);
    cmd.current_dir(&project);
    let out = match made {
        Ok(()) => run(cmd),
        Err(e) => Err(e.to_string().into()),
    };
    let created = project.join("new").exists();
    let _ = std::fs::remove_dir_all(&project);
    let _ = std::fs::remove_dir_all(&sibling);
    let out = out?.success()?;
    let name = format!("mct-cwd-{pid}");
    ensure_eq(
        out.stdout,
        format!("{}\nin the project\n{name}\n", project.display()),
    )?;
    ensure(
        out.stderr.contains("Read-only file system") && !created,
        format!("the working directory took a write: {:?}", out.stderr),
    )
}

/// With a tty, the container's terminal is a pty of its own devpts: `/dev/pts` holds it alone
/// (no host terminal to open or type into), and no descriptor of the host's devpts is inside.
fn the_terminal_is_a_pty_of_the_containers_own(t: &Ctx) -> TestResult {
    let (_dir, root) = t.busybox_rootfs()?;
    // `ls -l /proc/1/fd` may list the pipe the shell opens for the `| grep` and find it
    // closed when it looks closer: what it says of that goes nowhere.
    let script = "ls -1 /dev/pts; for fd in 0 1 2; do readlink /proc/1/fd/$fd; done; \
                  ls -l /proc/1/fd 2>/dev/null | grep -c pts";
    // What the script printed, a line each (the pty's carriage returns trimmed).
    fn lines(out: &str) -> Vec<&str> {
        out.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }
    for rootfs in [&[][..], &["--rootfs", root.as_str()]] {
        let mut args = rootfs.to_vec();
        args.extend(["-t", "--run", "sh", "-c", script]);
        let out = t.run(&args)?.success()?;
        ensure_eq(
            lines(&out.stdout),
            vec!["0", "ptmx", "/dev/pts/0", "/dev/pts/0", "/dev/pts/0", "3"],
        )?;
    }
    // Under a monitor, which takes the pty's master from the helper through a console socket:
    // the same inside, and the socket gone once the master has passed.
    let id = t
        .verb(&[
            "run",
            "-d",
            "-t",
            "--name",
            "detached-tty",
            "sh",
            "-c",
            &format!("{script}; echo done; sleep 600"),
        ])?
        .success()?
        .stdout
        .trim()
        .to_string();
    let mut logs = String::new();
    wait_until("the detached container's report", || {
        logs = t
            .verb(&["logs", "detached-tty"])
            .map(|o| o.stdout)
            .unwrap_or_default();
        logs.contains("done")
    })?;
    ensure_eq(
        lines(&logs),
        vec![
            "0",
            "ptmx",
            "/dev/pts/0",
            "/dev/pts/0",
            "/dev/pts/0",
            "3",
            "done",
        ],
    )?;
    let socket = format!("/run/my-container-tui/containers/{id}/tty.sock");
    ensure(
        !std::path::Path::new(&socket).exists(),
        format!("{socket} is left"),
    )?;
    t.verb(&["rm", "-f", "detached-tty"])?.success()?;
    Ok(())
}

/// The private tmpfs directories of a container without a rootfs are bounded in bytes and in
/// files (unbounded, each could pin half the host's RAM); `--tmpfs` replaces one with other
/// bounds.
fn private_tmpfs_dirs_are_bounded(t: &Ctx) -> TestResult {
    let out = t
        .run(&[
            "--run",
            "sh",
            "-c",
            "grep -E ' /(tmp|var/tmp|run|root) ' /proc/self/mountinfo | cut -d' ' -f5,10; \
             dd if=/dev/zero of=/run/big bs=1M count=80 2>/dev/null || echo run-full; \
             cd /root && seq 1 17000 | xargs touch 2>/dev/null || echo root-out-of-inodes",
        ])?
        .success()?;
    for line in [
        "/tmp rw,size=262144k,nr_inodes=65536",
        "/var/tmp rw,size=262144k,nr_inodes=65536",
        "/run rw,size=65536k,nr_inodes=16384",
        "/root rw,size=65536k,nr_inodes=16384",
        "run-full",
        "root-out-of-inodes",
    ] {
        ensure(
            out.stdout.lines().any(|l| l.starts_with(line)),
            format!("{line:?} missing: {:?}", out.stdout),
        )?;
    }
    let bigger = t
        .run(&[
            "--tmpfs",
            "/run:size=128m",
            "--run",
            "sh",
            "-c",
            "dd if=/dev/zero of=/run/big bs=1M count=80 2>/dev/null && echo fits",
        ])?
        .success()?;
    ensure_eq(bigger.stdout.as_str(), "fits\n")
}

/// `exec` without `-t` from a terminal (and `run --no-tty`): the command's stdio are pipes we
/// relay, never the caller's terminal, which a process it leaves behind could keep reading
/// (what the user types into their host shell after exec returned). With `-t` it gets a
/// terminal, of the container's own devpts.
fn exec_without_t_never_holds_the_callers_terminal(t: &Ctx) -> TestResult {
    run(t.tool(&["run", "-d", "--name", "held", "sleep", "100"]))?.success()?;
    let probe = "for fd in 0 1 2; do [ -t $fd ] && echo tty$fd; done; \
                 readlink /proc/$$/fd/1 | cut -d: -f1; echo typed: $(head -c 5)";
    for (flags, expected) in [
        ("exec", "pipe\ntyped:\n"),
        ("exec -i", "pipe\ntyped: hello\n"),
        ("exec -t", "tty0\ntty1\ntty2\n/dev/pts/0\ntyped: hello\n"),
        // `run` at a terminal without one for the container: its stdin too is a pipe.
        ("--no-tty --run", "pipe\ntyped: hello\n"),
    ] {
        let target = if flags.starts_with("exec") {
            "held"
        } else {
            ""
        };
        let line = format!("{BIN} {flags} {target} sh -c '{probe}'");
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .envs(t.env())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = Running::spawn(&mut cmd)?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().ok_or("stdin")?;
            stdin.write_all(b"hello\n").map_err(|e| e.to_string())?;
            // The terminal's end-of-file, so that `head` ends where nothing more comes.
            stdin.write_all(b"\x04").map_err(|e| e.to_string())?;
        }
        let mut stdout = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().ok_or("stdout")?, &mut stdout)
            .map_err(|e| e.to_string())?;
        wait_child(&mut child)?;
        // A terminal shows what it was sent: carriage returns, and a NUL as `^@`.
        let text = stdout.replace('\r', "").replace("^@", "");
        // The terminal echoes what was typed; the command's lines are what we check.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.is_empty() && *l != "hello" && *l != "^D")
            .collect();
        ensure_eq(lines.join("\n") + "\n", expected.to_string())
            .map_err(|e| format!("{flags}: {e:?}"))?;
    }
    t.verb(&["rm", "-f", "held"])?.success()?;
    Ok(())
}

/// `exec` without `-u` runs as the container's user (Docker's exec), with no capabilities
/// for a non-root user; with `CAP_SETGID` and `CAP_SETUID` dropped, `-u` and `exec` still
/// take their identity (it is changed before the capabilities go).
fn exec_runs_as_the_containers_user_and_without_setgid(t: &Ctx) -> TestResult {
    run(t.tool(&[
        "run",
        "-d",
        "--name",
        "u1000",
        "-u",
        "1000:1000",
        "sleep",
        "100",
    ]))?
    .success()?;
    let out = t
        .verb(&[
            "exec",
            "u1000",
            "sh",
            "-c",
            "id -u; id -g; grep CapEff /proc/self/status",
        ])?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "1000\n1000\nCapEff:\t0000000000000000\n",
    )?;
    let out = t
        .verb(&["exec", "-u", "0", "u1000", "id", "-u"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "0\n")?;
    t.verb(&["rm", "-f", "u1000"])?.success()?;
    let narrow = ["--cap-drop", "ALL", "--cap-add", "NET_RAW"];
    let mut args = narrow.to_vec();
    args.extend(["-u", "1000", "--run", "id", "-u"]);
    ensure_eq(t.run(&args)?.success()?.stdout, "1000\n".to_string())?;
    let mut args = vec!["run", "-d", "--name", "narrow"];
    args.extend(narrow);
    args.extend(["sleep", "100"]);
    run(t.tool(&args))?.success()?;
    // Root keeps exactly NET_RAW (bit 13).
    let out = t
        .verb(&[
            "exec",
            "narrow",
            "sh",
            "-c",
            "id -u; grep CapEff /proc/self/status",
        ])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "0\nCapEff:\t0000000000002000\n")?;
    let out = t
        .verb(&["exec", "-u", "1000", "narrow", "id", "-u"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "1000\n")?;
    t.verb(&["rm", "-f", "narrow"])?.success()?;
    Ok(())
}

/// A unix socket on a read-only mount can still be connected to: the host's sockets in the
/// working directory, under /home and under /var/lib (a tmux server's, a database's) are
/// hidden from a container without a rootfs, and one in a rootfs directory from a container
/// of that rootfs. Each socket is served by this test, which counts who got through; with
/// `--host-rw` (the seed's view, the door left open) the same connect gets through.
fn host_sockets_elsewhere_are_hidden_too(t: &Ctx) -> TestResult {
    use std::os::unix::net::UnixListener;
    // Short: a socket's path has room for 107 bytes, and the scratch root may be long.
    let tag = format!("mct-sock-{}", std::process::id());
    let work = TempDir::new(&tag)?;
    let home = Path::new("/home").join(&tag);
    let var_lib = Path::new("/var/lib").join(&tag);
    let rootfs_dir = TempDir::new("sock-root")?;
    let rootfs = rootfs_dir.path().join("r").to_string_lossy().into_owned();
    t.run(&["rootfs", "busybox", &rootfs])?.success()?;
    let paths = [
        work.path().join("sock"),
        home.join("sock"),
        var_lib.join("sock"),
        Path::new(&rootfs).join("sock"),
    ];
    struct Cleanup(Vec<std::path::PathBuf>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            // Our own directories whole; a parent we made only if it is empty.
            for (i, dir) in self.0.iter().enumerate() {
                let _ = match i {
                    0 | 1 => std::fs::remove_dir_all(dir),
                    _ => std::fs::remove_dir(dir),
                };
            }
        }
    }
    // /home itself goes too if this test made it (a bare CI machine may have none).
    let mut made = vec![home.clone(), var_lib.clone()];
    if !Path::new("/home").exists() {
        made.push("/home".into());
    }
    let _cleanup = Cleanup(made);
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&var_lib).map_err(|e| e.to_string())?;
    // Connections are counted by taking them from the listeners' backlogs once the container
    // has ended: a connection made is queued there by then (a thread accepting them was
    // counted late, after the check, in one CI run).
    let mut listeners = Vec::new();
    for path in &paths {
        let listener = UnixListener::bind(path).map_err(|e| format!("{}: {e}", path.display()))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        listeners.push(listener);
    }
    let mut reached = 0;
    let mut accept_all = || {
        for listener in &listeners {
            while listener.accept().is_ok() {
                reached += 1;
            }
        }
        reached
    };
    let connect = |path: &Path| {
        format!(
            "perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Peer => \"{}\") and print \"CONNECTED\\n\"'; \
             test -S {} && echo SOCKET; true",
            path.display(),
            path.display()
        )
    };
    // The door open: --host-rw shows the host as it is.
    let open = t
        .run(&["--host-rw", "--run", "sh", "-c", &connect(&paths[0])])?
        .success()?;
    ensure_eq(open.stdout.as_str(), "CONNECTED\nSOCKET\n")?;
    let before = accept_all();
    ensure_eq(before, 1)?;
    let script: String = paths[..3]
        .iter()
        .map(|p| connect(p))
        .collect::<Vec<_>>()
        .join("; ");
    let mut cmd = t.tool(&["--run", "sh", "-c", &script]);
    cmd.current_dir(work.path());
    let out = run(cmd)?.success()?;
    ensure_eq(out.stdout.as_str(), "")?;
    let inside = t
        .run(&[
            "--rootfs",
            &rootfs,
            "--run",
            "sh",
            "-c",
            "test -S /sock && echo SOCKET; true",
        ])?
        .success()?;
    ensure_eq(inside.stdout.as_str(), "")?;
    ensure_eq(accept_all(), before)
}

/// Under `--init` PID 1 stays this binary: its `/proc/1/exe` cannot be opened without
/// `CAP_SYS_PTRACE` (not dumpable), and with it is a sealed copy that refuses writes for being
/// read-only (the host's file would refuse them only while busy).
fn an_init_pid_1_is_a_sealed_copy(t: &Ctx) -> TestResult {
    let probe = "(echo x >> /proc/1/exe) 2>&1 | sed 's/.*: //'";
    for (caps, says) in [
        (&[][..], "Permission denied"),
        (&["--cap-add", "SYS_PTRACE"][..], "Read-only file system"),
    ] {
        for tty in [&[][..], &["-t"][..]] {
            let mut args = vec!["--init"];
            args.extend(caps);
            args.extend(tty);
            args.extend(["--run", "sh", "-c", probe]);
            let out = t.run(&args)?.success()?;
            ensure(
                out.stdout.trim() == says,
                format!("{args:?}: {:?}", out.stdout),
            )?;
        }
    }
    Ok(())
}

/// A process's command name is any bytes it chooses, and `/proc/PID/stat` and `status` carry
/// it. A PID 1 that names itself `\xff` once made both unreadable as text: the tool took it
/// for dead, `exec` refused it, `stop` left it running, and `rm -f` forgot it while it ran on.
/// Now it is seen (the inspector lists it), reached by `exec`, stopped and removed, and
/// nothing of it runs after.
fn a_pid_1_named_in_bytes_that_are_not_utf8_stays_ours(t: &Ctx) -> TestResult {
    let name = format!("badcomm{}", std::process::id());
    t.run(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        "none",
        "sh",
        "-c",
        "printf '\\377x' > /proc/self/comm; while :; do sleep 1; done",
    ])?
    .success()?;
    let pid: i32 = t
        .verb(&["inspect", "-f", "{{.State.Pid}}", &name])?
        .success()?
        .stdout
        .trim()
        .parse()
        .map_err(|_| "no PID 1")?;
    wait_until("the name to be set", || {
        std::fs::read(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with(b"\xffx"))
    })?;
    ensure(
        my_container_tui::state::Process::of(pid).is_some(),
        "PID 1 is taken for dead",
    )?;
    let users = my_container_tui::runtime::inspect::Users::load();
    ensure(
        my_container_tui::runtime::inspect::processes(pid, &users)
            .iter()
            .any(|p| p.host_pid == pid),
        "the inspector does not list PID 1",
    )?;
    let out = t.verb(&["exec", &name, "echo", "reached"])?.success()?;
    ensure_eq(out.stdout.as_str(), "reached\n")?;
    t.verb(&["stop", "-t", "1", &name])?.success()?;
    wait_until("PID 1 to be gone", || {
        my_container_tui::state::Process::of(pid).is_none()
    })?;
    t.verb(&["rm", &name])?.success()?;
    wait_until("nothing of it to run", || t.processes().is_empty())
}
