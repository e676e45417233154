//! User namespaces (`--userns`, `--uidmap`, `--gidmap`): container root is no one on the host.
//! Its ranges come from the tool's `/etc/subuid` and `/etc/subgid` lines (tests/prepare.sh
//! adds them), do not overlap, and go with the container.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        container_root_cannot_write_the_hosts_root_files,
        auto_ranges_are_distinct_and_go_with_their_containers,
        root_inside_keeps_its_own_files_ports_and_ping,
        a_rootfs_is_seen_through_the_maps,
        back_to_back_starts_claim_while_others_give_back,
        bad_user_namespaces_are_refused,
    ]
}

/// `--userns auto --network none ARGS...`, run to the end.
fn in_userns(t: &Ctx, args: &[&str]) -> Result<Output, libtest_mimic::Failed> {
    let mut all = vec!["--userns", "auto", "--network", "none"];
    all.extend(args);
    t.run(&all)
}

/// The first host id of the tool's pool (`/etc/subuid`).
fn pool_start() -> Result<u64, String> {
    let text = std::fs::read_to_string("/etc/subuid").map_err(|e| format!("/etc/subuid: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("my-container-tui:"))
        .and_then(|rest| rest.split(':').next()?.parse().ok())
        .ok_or_else(|| "no my-container-tui line in /etc/subuid: run tests/prepare.sh".into())
}

/// The attack: a container root that reaches host files (simulated by binding a host directory
/// in, as an escape from its mount namespace would) writes to root's files there. Without a
/// user namespace it can (the control); with one it is no one on the host, and cannot.
fn container_root_cannot_write_the_hosts_root_files(t: &Ctx) -> TestResult {
    let dir = TempDir::new(&format!("userns-{}", t.namespace()))?;
    let file = dir.file("owned-by-root", b"the host's\n", 0o644)?;
    let bind = format!("{}:/mnt", dir.path().display());
    let attack = "echo overwritten > /mnt/owned-by-root; touch /mnt/planted; \
                  chmod 666 /mnt/owned-by-root; id -u; cat /proc/self/uid_map";
    let host_root = t
        .run(&["--network", "none", "-v", &bind, "--run", attack])?
        .success()?;
    ensure_eq(
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?,
        "overwritten\n".to_string(),
    )?;
    ensure(
        host_root
            .stdout
            .split_whitespace()
            .eq(["0", "0", "0", "4294967295"]),
        format!("no user namespace, the host's map: {}", host_root.stdout),
    )?;
    // Again with a user namespace, on fresh files.
    std::fs::remove_file(dir.path().join("planted")).map_err(|e| e.to_string())?;
    let file = dir.file("owned-by-root", b"the host's\n", 0o644)?;
    let mapped = in_userns(t, &["-v", &bind, "--run", attack])?;
    ensure_eq(
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?,
        "the host's\n".to_string(),
    )?;
    ensure(
        !dir.path().join("planted").exists(),
        "container root made a file in root's host directory",
    )?;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode();
    ensure_eq(mode & 0o777, 0o644)?;
    ensure(
        mapped.stderr.contains("Permission denied") || mapped.stderr.contains("not permitted"),
        format!("the writes refused: {:?}", mapped.stderr),
    )?;
    // Root inside, a range of the pool outside.
    let mut lines = mapped.stdout.lines();
    ensure_eq(lines.next(), Some("0"))?;
    let map: Vec<u64> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let start = pool_start()?;
    ensure(
        map.len() == 3 && map[0] == 0 && map[1] >= start && map[2] == 65536,
        format!("uid_map inside: {map:?} (the pool starts at {start})"),
    )?;
    // Asked for (`:idmap`), a bind is seen through the maps: its root may write there, and
    // what it makes is the host root's. Without a user namespace `idmap` is refused.
    let idmapped = format!("{bind}:idmap");
    in_userns(
        t,
        &[
            "-v",
            &idmapped,
            "--run",
            "echo shared > /mnt/owned-by-root; touch /mnt/made",
        ],
    )?
    .success()?;
    ensure_eq(
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?,
        "shared\n".to_string(),
    )?;
    use std::os::unix::fs::MetadataExt;
    let made = std::fs::metadata(dir.path().join("made")).map_err(|e| e.to_string())?;
    ensure_eq((made.uid(), made.gid()), (0, 0))?;
    t.run(&["--network", "none", "-v", &idmapped, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("idmap needs a user namespace")?;
    Ok(())
}

/// `run -d --name NAME FLAGS... --network none sleep 600`; its PID 1's host uid.
fn detached_uid(t: &Ctx, name: &str, flags: &[&str]) -> Result<u64, libtest_mimic::Failed> {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend(flags);
    args.extend(["--network", "none", "sleep", "600"]);
    t.run(&args)?.success()?;
    let pid = t
        .verb(&["inspect", "--format", "{{.State.Pid}}", name])?
        .success()?
        .stdout;
    Ok(host_uid(pid.trim())?)
}

/// Host uid of a process, from its status.
fn host_uid(pid: &str) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no Uid in {status}"))
}

/// Two `auto` containers get ranges that do not overlap (their PID 1s are different host
/// users), `exec` joins the namespace as its root, a given `--uidmap` is used as given, and
/// `rm` gives the ranges back (nothing of the claims is left).
fn auto_ranges_are_distinct_and_go_with_their_containers(t: &Ctx) -> TestResult {
    let start = pool_start()?;
    let uids = [
        detached_uid(t, "ranged-a", &["--userns", "auto"])?,
        detached_uid(t, "ranged-b", &["--userns", "auto"])?,
    ];
    ensure(
        uids.iter().all(|u| *u >= start) && uids[0].abs_diff(uids[1]) >= 65536,
        format!("PID 1s' host uids {uids:?}: in the pool, 65,536 apart"),
    )?;
    let exec = t
        .verb(&[
            "exec",
            "ranged-a",
            "sh",
            "-c",
            "id -u; touch /root/mine && echo made",
        ])?
        .success()?;
    ensure_eq(exec.stdout.as_str(), "0\nmade\n")?;
    let map = "0:3000000000:1000";
    let given = detached_uid(t, "given", &["--uidmap", map, "--gidmap", map])?;
    ensure_eq(given, 3_000_000_000)?;
    let maps = t
        .verb(&["inspect", "--format", "{{json .IDMappings}}", "given"])?
        .success()?;
    ensure_eq(
        maps.stdout.trim(),
        r#"{"GidMap":["0:3000000000:1000"],"UidMap":["0:3000000000:1000"]}"#,
    )?;
    let ids: Vec<String> = ["ranged-a", "ranged-b"]
        .iter()
        .map(|n| {
            t.verb(&["inspect", "--format", "{{.Id}}", n])
                .map(|o| o.stdout.trim().to_string())
        })
        .collect::<Result<_, _>>()?;
    t.verb(&["rm", "-f", "ranged-a", "ranged-b", "given"])?
        .success()?;
    let claims = std::fs::read_dir("/run/my-container-tui/idmaps")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|claim| ids.iter().any(|id| claim.ends_with(&format!("+{id}"))))
        .count();
    ensure_eq(claims, 0)
}

/// What a program run as root expects still works: its own private directories, a named
/// volume made for it, ports below 1024, ping, and files it made owned by it.
fn root_inside_keeps_its_own_files_ports_and_ping(t: &Ctx) -> TestResult {
    let volume = format!("userns-{}", std::process::id());
    let bind = format!("{volume}:/mnt");
    let out = in_userns(
        t,
        &[
            "-v",
            &bind,
            "--run",
            "touch /tmp/a /root/b /run/c /mnt/d && chown 1000:1000 /tmp/a && stat -c '%u:%g' /tmp/a /root/b /mnt/d; \
             (busybox nc -l -p 80 -e echo low-port &); sleep 0.3; busybox nc 127.0.0.1 80; \
             ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pinged",
        ],
    )?
    .success()?;
    t.verb(&["volume", "rm", &volume])?.success()?;
    ensure_eq(
        out.stdout.as_str(),
        "1000:1000\n0:0\n0:0\nlow-port\npinged\n",
    )
}

/// A root filesystem's files are seen through the user namespace (idmapped layers): the
/// image's root-owned files are its root's, it writes its `/` (the overlay's upper layer, the
/// directory untouched) and owns what it writes; with `--rootfs-persist` what it writes lands
/// in the directory as root's, and `--read-only` keeps `/` read-only.
fn a_rootfs_is_seen_through_the_maps(t: &Ctx) -> TestResult {
    let (dir, root) = t.busybox_rootfs()?;
    let script = "stat -c '%u:%g' /bin/busybox /etc; touch /made && stat -c '%u:%g' /made; \
                  chown 1000:1000 /made && stat -c '%u' /made; ls -ln /dev/shm -d | cut -c1-30";
    let out = t
        .run(&[
            "--userns",
            "auto",
            "--network",
            "none",
            "--rootfs",
            &root,
            "--run",
            script,
        ])?
        .success()?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    ensure_eq(&lines[..4], &["0:0", "0:0", "0:0", "1000"][..])?;
    ensure(
        !std::path::Path::new(&root).join("made").exists(),
        "the overlay wrote to the rootfs directory",
    )?;
    in_userns(
        t,
        &[
            "--rootfs",
            &root,
            "--rootfs-persist",
            "--run",
            "touch /kept",
        ],
    )?
    .success()?;
    use std::os::unix::fs::MetadataExt;
    let kept = std::fs::metadata(std::path::Path::new(&root).join("kept"))
        .map_err(|e| format!("--rootfs-persist wrote nothing: {e}"))?;
    ensure_eq((kept.uid(), kept.gid()), (0, 0))?;
    let read_only = in_userns(
        t,
        &[
            "--rootfs",
            &root,
            "--read-only",
            "--run",
            "touch /x; cat /etc/hostname",
        ],
    )?;
    ensure(
        read_only.stderr.contains("Read-only file system") && !read_only.stdout.is_empty(),
        format!("--read-only: {read_only:?}"),
    )?;
    drop(dir);
    Ok(())
}

/// Starts one after another, two at a time: each claims a range while the one before gives
/// its range back and the emptied state tree goes (a claim once lost that race with
/// `cannot claim ...: No such file or directory`).
fn back_to_back_starts_claim_while_others_give_back(t: &Ctx) -> TestResult {
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let args: Vec<String> = ["--userns", "auto", "--network", "none", "--run", "true"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let cmd = t.tool(&args.iter().map(String::as_str).collect::<Vec<_>>());
            std::thread::spawn(move || -> Result<(), String> {
                let mut cmd = cmd;
                for i in 0..15 {
                    let out = cmd.output().map_err(|e| e.to_string())?;
                    if !out.status.success() {
                        return Err(format!(
                            "start {i}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for run in runs {
        run.join().map_err(|_| "a starter panicked")??;
    }
    // A foreground run's record goes with its cleaner, just after it returns.
    wait_until("the runs' records to go", || {
        t.verb(&["ps", "-aq"])
            .is_ok_and(|o| o.stdout.trim().is_empty())
    })
    .map_err(|_| "records left after the runs".into())
}

/// Bad maps and what user namespaces cannot be given with yet: one line each, exit 125 (all
/// refused before a range is claimed: the claim is the start's last check).
fn bad_user_namespaces_are_refused(t: &Ctx) -> TestResult {
    for (args, says) in [
        (vec!["--userns", "keep-id"], "host, auto, or auto:size=N"),
        (
            vec!["--uidmap", "0:1:0", "--gidmap", "0:1:1"],
            "CONTAINER:HOST:COUNT",
        ),
        (
            vec!["--uidmap", "1:3000000000:10", "--gidmap", "0:3000000000:10"],
            "container id 0 (root) must be mapped",
        ),
        (vec!["--uidmap", "0:3000000000:10"], "--gidmap"),
        (
            vec!["--userns", "auto", "--privileged"],
            "cannot be used together",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--network", "none", "--run", "true"]);
        t.run(&all)?.expect_code(125)?.one_line_error(says)?;
    }
    Ok(())
}
