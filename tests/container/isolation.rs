//! What the container sees: its own namespaces, hostname, loopback, environment and mounts.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        every_namespace_differs_from_the_host,
        hostname_flag_sets_the_hostname,
        loopback_is_up_and_alone,
        environment_has_defaults_and_user_values,
        workdir_flag_sets_the_directory,
        mounts_never_reach_a_shared_host_root,
    ]
}

const NAMESPACES: [&str; 6] = ["pid", "uts", "mnt", "net", "ipc", "cgroup"];

/// pid, uts, mnt, net, ipc and cgroup namespaces are all new.
fn every_namespace_differs_from_the_host(t: &Ctx) -> TestResult {
    let script: String = NAMESPACES
        .iter()
        .map(|n| format!("readlink /proc/self/ns/{n}; "))
        .collect();
    let out = t.run(&["run", "sh", "-c", &script])?.success()?;
    let inside: Vec<&str> = out.stdout.lines().collect();
    ensure_eq(inside.len(), NAMESPACES.len())?;
    for (ns, id) in NAMESPACES.iter().zip(inside) {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).map_err(|e| e.to_string())?;
        ensure(id.starts_with(&format!("{ns}:[")), format!("{ns}: {id}"))?;
        ensure(
            host.to_string_lossy() != id,
            format!("the {ns} namespace is the host's"),
        )?;
    }
    Ok(())
}

/// `--hostname web-1` is what `hostname` and `$HOSTNAME` say.
fn hostname_flag_sets_the_hostname(t: &Ctx) -> TestResult {
    let out = t.run(&[
        "--hostname",
        "web-1",
        "--run",
        "sh",
        "-c",
        "hostname; echo $HOSTNAME",
    ])?;
    ensure_eq(out.success()?.stdout.as_str(), "web-1\nweb-1\n")
}

/// `ping 127.0.0.1` answers; with `--network none` (the seed's namespace) `lo` is the only
/// interface, and by default `eth0`, the bridge's veth, is beside it.
fn loopback_is_up_and_alone(t: &Ctx) -> TestResult {
    t.run(&["run", "ping", "-c", "1", "-W", "5", "127.0.0.1"])?
        .success()?;
    let names = |network: &str| -> Result<Vec<String>, libtest_mimic::Failed> {
        let out = t
            .run(&["--network", network, "--run", "ip", "-o", "link"])?
            .success()?;
        Ok(out
            .stdout
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect())
    };
    ensure_eq(names("none")?, vec!["lo".to_string()])?;
    ensure_eq(names("bridge")?, vec!["lo".to_string(), "eth0".to_string()])
}

/// PATH, HOME and HOSTNAME by default, TERM passed through, `-e` adding and overriding.
fn environment_has_defaults_and_user_values(t: &Ctx) -> TestResult {
    let mut cmd = t.tool(&[
        "-e",
        "FOO=bar baz",
        "-e",
        "HOME=/home/x",
        "-e",
        "FROM_HOST",
        "--run",
        "env",
    ]);
    cmd.env("TERM", "xterm-test")
        .env("FROM_HOST", "copied")
        .env("SECRET", "must-not-pass");
    let out = run(cmd)?.success()?;
    let env: Vec<&str> = out.stdout.lines().collect();
    for want in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=my-container",
        "TERM=xterm-test",
        "FOO=bar baz",
        "HOME=/home/x",
        "FROM_HOST=copied",
    ] {
        ensure(env.contains(&want), format!("{want} missing from {env:?}"))?;
    }
    ensure(
        !out.stdout.contains("SECRET"),
        "the host's environment leaked in",
    )?;
    ensure(
        !out.stdout.contains("MCT_HANDOFF"),
        "the helper's environment leaked in",
    )
}

/// `-w /tmp` runs the command in /tmp, and a relative `-w` is taken from the current directory.
fn workdir_flag_sets_the_directory(t: &Ctx) -> TestResult {
    ensure_eq(
        t.run(&["-w", "/tmp", "--run", "pwd"])?
            .success()?
            .stdout
            .as_str(),
        "/tmp\n",
    )?;
    let mut cmd = t.tool(&["-w", "share", "--run", "pwd"]);
    cmd.current_dir("/usr");
    ensure_eq(run(cmd)?.success()?.stdout.as_str(), "/usr/share\n")
}

/// With the host's `/` a shared mount (the systemd default), the container's mounts (its
/// /proc, and a tmpfs it mounts itself) never show up outside, while it runs or after.
fn mounts_never_reach_a_shared_host_root(t: &Ctx) -> TestResult {
    let dir = TempDir::new("propagation")?;
    let script = format!(
        r#"set -e
        cd {dir}
        mount --make-rshared /
        grep -q 'shared:' /proc/self/mountinfo
        mkfifo up down
        # Only what the container's mount could have made: other tests mount on the host at
        # the same time, and / is shared with it here.
        table() {{ grep -e mct-probe -e ' /mnt ' /proc/self/mountinfo | cut -d' ' -f5- | sort; }}
        table > before
        {bin} -e '{marker}' --run sh -c 'mount -t tmpfs mct-probe /mnt; echo > up; read x < down' &
        read x < up
        table > during
        echo > down
        wait $!
        table > after
        cmp before during && cmp before after && echo unchanged"#,
        dir = dir.path().display(),
        bin = BIN,
        marker = t.marker(),
    );
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--mount", "--propagation", "unchanged", "sh", "-c", &script]);
    let out = run(cmd)?;
    ensure(
        out.stdout == "unchanged\n",
        format!("mount table changed: {out:?}"),
    )
}
