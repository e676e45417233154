//! Rootless: the tool run by an unprivileged user, `mct-rootless` (tests/prepare.sh makes it,
//! with subordinate ids of its own), through `setpriv`, with no capability and no sudo. Its
//! state and store live in the test's own XDG directories.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn tests() -> Vec<Trial> {
    root_tests![
        a_user_runs_the_seeds_steps_without_root,
        a_rootless_container_reaches_no_more_than_its_user,
        a_detached_rootless_container_takes_exec_logs_and_rm,
        what_a_rootless_run_cannot_have_is_refused,
        the_dashboard_runs_for_a_user,
        a_rootless_container_is_on_pasta_and_publishes_a_port,
        a_user_pulls_runs_and_removes_an_image,
        a_user_builds_diffs_and_commits,
        a_users_containers_find_each_other_on_their_network,
    ]
}

const USER: &str = "mct-rootless";

/// The suite's user, a home of its own for one test (removed with everything in it, the
/// files of its subordinate ids too, when dropped), and this build's binary copied there
/// (the checkout may be where the user cannot reach).
struct User {
    uid: u32,
    gid: u32,
    /// The first id of its subordinate range.
    sub_start: u32,
    home: PathBuf,
    bin: PathBuf,
}

impl User {
    fn new(t: &Ctx) -> Result<User, libtest_mimic::Failed> {
        let id = |flag: &str| -> Result<u32, String> {
            let out = Command::new("id")
                .args([flag, USER])
                .output()
                .map_err(|e| e.to_string())?;
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .map_err(|_| format!("no user {USER}: run tests/prepare.sh"))
        };
        let (uid, gid) = (id("-u")?, id("-g")?);
        let subuid = std::fs::read_to_string("/etc/subuid").map_err(|e| e.to_string())?;
        let sub_start = subuid
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{USER}:")))
            .and_then(|rest| rest.split(':').next()?.parse().ok())
            .ok_or("no mct-rootless line in /etc/subuid: run tests/prepare.sh")?;
        // In /tmp, which every user can reach.
        let home = std::env::temp_dir().join(format!(
            "mct-rootless-{}-{}",
            t.namespace(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&home);
        let user = User {
            uid,
            gid,
            sub_start,
            bin: home.join("bin/my-container-tui"),
            home,
        };
        for dir in ["", "bin", "run", "data"] {
            let dir = user.home.join(dir);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        std::fs::copy(BIN, &user.bin).map_err(|e| e.to_string())?;
        Ok(user)
    }

    /// `my-container-tui ARGS...` as the user, in `t`'s namespace, its containers marked.
    fn tool(&self, t: &Ctx, args: &[&str]) -> Command {
        let mut cmd = self.command(t);
        cmd.arg("-e").arg(t.marker()).args(args);
        cmd
    }

    /// A lifecycle verb as the user.
    fn verb(&self, t: &Ctx, args: &[&str]) -> Result<Output, libtest_mimic::Failed> {
        let mut cmd = self.command(t);
        cmd.args(args);
        run(cmd)
    }

    fn run(&self, t: &Ctx, args: &[&str]) -> Result<Output, libtest_mimic::Failed> {
        run(self.tool(t, args))
    }

    fn command(&self, t: &Ctx) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args([
            &format!("--reuid={}", self.uid),
            &format!("--regid={}", self.gid),
            "--clear-groups",
            "--inh-caps=-all",
            "--",
        ])
        .arg(&self.bin)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &self.home)
        .env("XDG_RUNTIME_DIR", self.home.join("run"))
        .env("XDG_DATA_HOME", self.home.join("data"))
        .envs(t.env())
        .stdin(Stdio::null());
        cmd
    }

    /// The state tree the tool keeps for the user.
    fn tree(&self) -> PathBuf {
        self.home.join("run/my-container-tui")
    }

    /// Nothing of `t`'s runs is left once they have ended: no tree, no process (a run's
    /// cleaner, and its pasta, end just after the run returns).
    fn all_gone(&self, t: &Ctx) -> TestResult {
        wait_until("the rootless tree to go", || !self.tree().exists())
            .map_err(|_| format!("left: {:?}", walk(&self.tree())))?;
        wait_until("the runs' processes to end", || t.processes().is_empty()).map_err(|_| {
            let left: Vec<Vec<String>> = t.processes().into_iter().map(|p| p.cmdline).collect();
            format!("left running: {left:?}").into()
        })
    }

    /// [`User::rootfs`] with `/www/index.html` saying `text`, for busybox httpd to serve.
    fn rootfs_with_page(&self, t: &Ctx, text: &str) -> Result<String, libtest_mimic::Failed> {
        let rootfs = self.rootfs(t)?;
        let www = self.home.join("rootfs/www");
        std::fs::create_dir(&www).map_err(|e| e.to_string())?;
        std::fs::write(www.join("index.html"), text).map_err(|e| e.to_string())?;
        for path in [www.join("index.html"), www] {
            std::os::unix::fs::chown(&path, Some(self.uid), Some(self.gid))
                .map_err(|e| e.to_string())?;
        }
        Ok(rootfs)
    }

    /// Nothing in these directories of the user's store (`image/layers`, `volumes`...) once
    /// `what` has run: no file of any owner, the subordinate ids' included.
    fn nothing_in_store(&self, dirs: &[&str], what: &str) -> TestResult {
        for dir in dirs {
            let left = walk(&self.home.join("data/my-container-tui").join(dir));
            ensure(
                left.is_empty(),
                format!(
                    "{what} left {} files in {dir}, first {:?}",
                    left.len(),
                    left.first()
                ),
            )?;
        }
        Ok(())
    }

    /// A busybox root filesystem that is the user's, as one they unpacked would be.
    fn rootfs(&self, t: &Ctx) -> Result<String, libtest_mimic::Failed> {
        let root = self.home.join("rootfs");
        let root_text = root.to_string_lossy().into_owned();
        t.run(&["rootfs", "busybox", &root_text])?.success()?;
        let owner = format!("{}:{}", self.uid, self.gid);
        let chowned = Command::new("chown")
            .args(["-R", "-h", &owner, &root_text])
            .status()
            .map_err(|e| e.to_string())?;
        ensure(chowned.success(), "chown of the rootfs failed")?;
        Ok(root_text)
    }
}

impl Drop for User {
    /// A test that failed half way may leave the user's containers running (a dashboard's
    /// sessions outlive it by design): whatever runs this test's copy of the binary is killed
    /// before its home goes, so the next run starts clean.
    fn drop(&mut self) {
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
            let pid = entry.file_name().to_string_lossy().parse::<i32>();
            if let (true, Ok(pid)) = (exe.starts_with(&self.home), pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// The seed's steps as a user: its own hostname and PID 1, root inside that is the user
/// outside (the map: 0 to the user's uid, 1 on to its subordinate range), nothing but
/// loopback, and nothing left once it ends: no process, no state.
fn a_user_runs_the_seeds_steps_without_root(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let out = user
        .run(
            t,
            &[
                "--hostname",
                "rootless-box",
                "--network",
                "none",
                "--run",
                "hostname; echo $$; id -u; cat /proc/self/uid_map; ls /sys/class/net",
            ],
        )?
        .success()?;
    let lines: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let expected: Vec<Vec<String>> = vec![
        vec!["rootless-box".into()],
        vec!["1".into()],
        vec!["0".into()],
        vec!["0".into(), user.uid.to_string(), "1".into()],
        vec!["1".into(), user.sub_start.to_string(), "65536".into()],
        vec!["lo".into()],
    ];
    ensure_eq(
        lines
            .iter()
            .map(|l| l.iter().map(|w| w.to_string()).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        expected,
    )?;
    // --network host: the host's interfaces (its sysfs bound, as a user cannot mount the
    // host network's own).
    let host = user
        .run(t, &["--network", "host", "--run", "ls /sys/class/net"])?
        .success()?;
    // Other tests make and remove veths and bridges meanwhile: the host's others are asked
    // for, and more than loopback.
    let listed: Vec<&str> = host.stdout.split_whitespace().collect();
    let stable: Vec<String> = std::fs::read_dir("/sys/class/net")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !["veth", "mct", "br-", "cni"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    ensure(
        listed.len() > 1 && stable.iter().all(|n| listed.contains(&n.as_str())),
        format!("--network host lists {listed:?}; the host has {stable:?}"),
    )?;
    user.all_gone(t)
}

/// The attack: container root tries what root could on the host. On a directory of root's,
/// bound in (as an escape from its mount namespace would reach it), it can neither write,
/// plant a file nor change modes; a file only root may read stays unread; what it writes
/// in the user's own directory is the user's on the host. It has no more than its user.
fn a_rootless_container_reaches_no_more_than_its_user(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let roots = TempDir::new(&format!("rootless-{}", t.namespace()))?;
    let file = roots.file("owned-by-root", b"the host's\n", 0o644)?;
    let secret = roots.file("secret", b"root's alone\n", 0o600)?;
    let theirs = user.home.join("own");
    std::fs::create_dir(&theirs).map_err(|e| e.to_string())?;
    std::os::unix::fs::chown(&theirs, Some(user.uid), Some(user.gid)).map_err(|e| e.to_string())?;
    let roots_bind = format!("{}:/mnt", roots.path().display());
    let own_bind = format!("{}:/srv", theirs.display());
    let attack = "echo overwritten > /mnt/owned-by-root && echo wrote; \
                  touch /mnt/planted && echo planted; \
                  chmod 666 /mnt/owned-by-root && echo chmodded; \
                  cat /mnt/secret; \
                  echo mine > /srv/made && echo made; id -u";
    let out = user
        .run(
            t,
            &[
                "-v",
                &roots_bind,
                "-v",
                &own_bind,
                "--run",
                "sh",
                "-c",
                attack,
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.lines().collect::<Vec<_>>(), vec!["made", "0"])?;
    ensure_eq(
        std::fs::read_to_string(&file).map_err(|e| e.to_string())?,
        "the host's\n".to_string(),
    )?;
    let meta = std::fs::metadata(&file).map_err(|e| e.to_string())?;
    ensure_eq(meta.mode() & 0o777, 0o644)?;
    ensure(
        !roots.path().join("planted").exists(),
        "a file planted in root's directory",
    )?;
    ensure(
        !out.stdout.contains("root's alone"),
        format!("root's secret read: {}", secret),
    )?;
    let made = std::fs::metadata(theirs.join("made")).map_err(|e| e.to_string())?;
    ensure_eq((made.uid(), made.gid()), (user.uid, user.gid))
}

/// `run -d` on the user's own root filesystem, then `ps`, `exec` (as root inside, and as a
/// user of the container, whose file is one of the user's subordinate ids on the host),
/// `logs`, and `rm -f`: which leaves nothing, those files included.
fn a_detached_rootless_container_takes_exec_logs_and_rm(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let rootfs = user.rootfs(t)?;
    let name = format!("rl-{}", std::process::id());
    user.run(
        t,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "--rootfs",
            &rootfs,
            "sh",
            "-c",
            "echo up; exec sleep 600",
        ],
    )?
    .success()?;
    let ps = user
        .verb(t, &["ps", "--format", "{{.Names}} {{.Status}}"])?
        .success()?;
    ensure(
        ps.stdout.starts_with(&format!("{name} Up")),
        format!("ps: {}", ps.stdout),
    )?;
    let inside = user
        .verb(
            t,
            &[
                "exec",
                &name,
                "sh",
                "-c",
                "id -u; ps -o pid,comm | grep sleep",
            ],
        )?
        .success()?;
    let words: Vec<&str> = inside.stdout.split_whitespace().collect();
    ensure_eq(words, vec!["0", "1", "sleep"])?;
    user.verb(
        t,
        &[
            "exec",
            "-u",
            "1000",
            &name,
            "sh",
            "-c",
            "mkdir /tmp/d && echo x > /tmp/d/f && chmod 500 /tmp/d",
        ],
    )?
    .success()?;
    let upper = std::fs::read_dir(user.tree().join("containers"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().join("fs/upper/tmp/d"))
        .find(|p| p.exists())
        .ok_or("the container user's directory is not in the overlay's upper layer")?;
    let owner = std::fs::metadata(&upper).map_err(|e| e.to_string())?.uid();
    ensure_eq(owner, user.sub_start + 999)?;
    let logs = user.verb(t, &["logs", &name])?.success()?;
    ensure_eq(logs.stdout, "up\n".to_string())?;
    user.verb(t, &["rm", "-f", &name])?.success()?;
    user.all_gone(t)
}

/// Each refusal is one line, exit 125, and leaves nothing: limits (no cgroup is the
/// user's), published ports and bridge networks (root's), `--userns` (it has its own); and a
/// user without subordinate ids is told how to get them.
fn what_a_rootless_run_cannot_have_is_refused(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    for (args, says) in [
        (
            &["--memory", "64m", "--run", "true"][..],
            "resource limits need",
        ),
        (
            &["--network", "none", "-p", "8080:80", "--run", "true"][..],
            "need --network pasta",
        ),
        (&["-p", "80", "--run", "true"][..], "needs its host port"),
        (
            &["--network", "back-end", "--run", "true"][..],
            "no such network: back-end",
        ),
        (
            &["--network", "back-end", "-p", "8080:80", "--run", "true"][..],
            "no such network: back-end",
        ),
        (
            &["--userns", "auto", "--run", "true"][..],
            "own user namespace already",
        ),
    ] {
        let out = user.run(t, args)?.expect_code(125)?;
        out.one_line_error(says)?;
    }
    // A verb's failure is 1, as Docker's.
    let out = user.verb(t, &["oci", "list"])?.expect_code(1)?;
    ensure(
        out.stderr.trim_end().lines().count() == 1 && out.stderr.contains("needs root for now"),
        format!("oci list: {:?}", out.stderr),
    )?;
    // A root filesystem of root's (the tool's own busybox, as root made it), where the user
    // can reach it.
    let root_rootfs = user.home.join("roots").to_string_lossy().into_owned();
    t.run(&["rootfs", "busybox", &root_rootfs])?.success()?;
    let out = user
        .run(t, &["--rootfs", &root_rootfs, "--run", "true"])?
        .expect_code(125)?;
    out.one_line_error("chown it to the user")?;
    ensure(!user.tree().exists(), "a refused run left state")?;
    // nobody has no subordinate ids.
    let out = run({
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(&user.bin)
            .args(["--run", "true"])
            .env_clear()
            .env("XDG_RUNTIME_DIR", user.home.join("run"))
            .stdin(Stdio::null());
        cmd
    })?
    .expect_code(125)?;
    out.one_line_error("usermod --add-subuids")
}

/// The dashboard as the user, in tmux as a person would use it: its first session's shell
/// answers as root of the user's namespace, the inspector shows its hostname as its UTS
/// namespace says and the map inside beside the host's ids, a second session starts from the form, a third from an image it pulls, and
/// quitting ends them all.
fn the_dashboard_runs_for_a_user(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let command = user.command(t);
    let quoted = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy());
    let env: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), quoted(v?))))
        .collect();
    let argv: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(quoted)
        .collect();
    let script = format!(
        "env -i {} TERM=xterm-256color {}; echo EXITED rc=$?; sleep 1000",
        env.join(" "),
        argv.join(" ")
    );
    let tmux = crate::tmux::Tmux::start_script(t, "", 200, 50, &script)?;
    tmux.wait_for("root@my-container-1")?;
    tmux.line("echo answer-$((6*7)) $(id -u)")?;
    tmux.wait_for("answer-42 0")?;
    // The inspector's Hostname panel reads it from the container's UTS namespace (as root
    // of its user namespace: `?` before).
    tmux.wait_for("\u{2502}container my-container-1")?;
    // Its network panel: pasta, and its interfaces as its own namespace has them (read the
    // same way; nothing before).
    tmux.wait_for("Network: pasta")?;
    tmux.wait_for("127.0.0.1/8")?;
    let screen = tmux.wait_for("1-65536 \u{2192} host")?;
    ensure(
        screen.contains(&format!("{}-{}", user.sub_start, user.sub_start + 65535)),
        format!("the inspector's map is not the user's range:\n{screen}"),
    )?;
    tmux.second_session()?;
    // A third from an image the user's store lacks: pulled on the dashboard's thread, as
    // root's is, its layers unpacked in the user's namespace.
    let registry = crate::registry::Registry::start("rootless-dash", None)?;
    let layout = crate::registry::Layout::new("rootless-dash")?;
    layout.busybox(t, "bb")?;
    layout.change("bb", "bb", |rootfs| {
        std::fs::write(rootfs.join("marker"), "from-registry\n").map_err(|e| e.to_string().into())
    })?;
    let remote = layout.push("bb", &registry, "test/rootless-dash:1", &[])?;
    tmux.keys(&["C-a", "c"])?;
    tmux.wait_for("New session")?;
    tmux.keys(&["Tab", "Tab", "Tab", "Tab"])?;
    tmux.run(&["send-keys", "-t", "main", "-l", &remote])?;
    tmux.keys(&["Enter"])?;
    tmux.wait_for(&format!("image {remote}"))?;
    tmux.line("cat /marker; echo uid-$(id -u)")?;
    tmux.wait_for("from-registry")?;
    tmux.wait_for("uid-0")?;
    tmux.quit()?;
    user.all_gone(t)
}

/// The default network of a rootless container is pasta's: an interface with an address
/// besides loopback, and `-p` forwards the user's host port to it; the host fetches a page
/// from it over loopback. Once it ends, no pasta of its is left.
fn a_rootless_container_is_on_pasta_and_publishes_a_port(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let rootfs = user.rootfs_with_page(t, "served by a rootless container\n")?;
    let port = free_port()?;
    let name = format!("rlweb-{}", std::process::id());
    user.run(
        t,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            "--rootfs",
            &rootfs,
            "httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            "/www",
        ],
    )?
    .success()?;
    let addresses = user
        .verb(t, &["exec", &name, "ip", "-o", "-4", "addr", "show"])?
        .success()?;
    ensure(
        addresses
            .stdout
            .lines()
            .any(|l| !l.contains(" lo ") && l.contains("inet ")),
        format!("no interface besides loopback: {}", addresses.stdout),
    )?;
    let page = http_get(port)?;
    ensure(
        page.ends_with("served by a rootless container\n"),
        format!("the page: {page:?}"),
    )?;
    user.verb(t, &["rm", "-f", &name])?.success()?;
    // Pasta carries the test's marker, as every process of the run does.
    user.all_gone(t)
}

/// A port nothing listens on now (the kernel's choice).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The body of `GET /` from 127.0.0.1:`port`, retried while the server starts.
fn http_get(port: u16) -> Result<String, libtest_mimic::Failed> {
    use std::io::{Read, Write};
    let mut body = String::new();
    wait_until("the page", || {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let mut reply = String::new();
        let ok = stream
            .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .and_then(|()| stream.read_to_string(&mut reply))
            .is_ok();
        body = reply;
        ok && body.starts_with("HTTP/1.")
    })
    .map_err(|_| format!("no page from port {port}: {body:?}"))?;
    Ok(body)
}

/// An image from a registry, as the user: pulled by `run` into the user's store, with its
/// owners kept through the user's map (a file of uid 1000 is 1000 inside and the user's
/// subordinate 1000th id on the host), its whiteouts and opaque directory holding, its own
/// `user.overlay.opaque` attribute not written, and its device node left out (no user can
/// make one); `images` lists it, and `rmi` removes every
/// file of it, the subordinate ids' too. An image whose owners the map cannot hold is refused
/// in one line, and leaves nothing.
fn a_user_pulls_runs_and_removes_an_image(t: &Ctx) -> TestResult {
    use crate::registry::{Layout, Member, Registry, tar};
    let user = User::new(t)?;
    let registry = Registry::start("rootless", None)?;
    let layout = Layout::new("rootless")?;
    layout.busybox(t, "bb")?;
    layout.change("bb", "changed", |rootfs| {
        let fail = |e: std::io::Error| e.to_string();
        std::fs::remove_file(rootfs.join("bin/vi")).map_err(fail)?;
        std::fs::create_dir_all(rootfs.join("opt/keep")).map_err(fail)?;
        std::fs::write(rootfs.join("opt/keep/old"), "old").map_err(fail)?;
        // A directory only its owner, uid 1000, may enter: not the user on the host.
        std::fs::create_dir_all(rootfs.join("opt/mine")).map_err(fail)?;
        std::fs::write(rootfs.join("opt/mine/f"), "mine").map_err(fail)?;
        for path in ["opt/mine/f", "opt/mine"] {
            std::os::unix::fs::chown(rootfs.join(path), Some(1000), Some(1000)).map_err(fail)?;
        }
        std::fs::set_permissions(
            rootfs.join("opt/mine"),
            std::fs::Permissions::from_mode(0o700),
        )
        .map_err(fail)?;
        Ok(())
    })?;
    let top = tar(&[
        Member::Dir("opt/keep/"),
        Member::File("opt/keep/.wh..wh..opq", b""),
        Member::File("opt/keep/new", b"new"),
        Member::File("etc/.wh.group", b""),
        Member::BlockDevice("disk", 8, 0),
        // A layer's own overlay attribute, which the user's overlays (userxattr) would obey:
        // never written, so /bin below stays seen.
        Member::DirWithXattr("bin/", "user.overlay.opaque", b"y"),
    ]);
    layout.add_layer("changed", "top", &top)?;
    let image = layout.push("top", &registry, "test/rootless:1", &[])?;
    let out = user
        .run(
            t,
            &[
                "--network",
                "none",
                "--image",
                &image,
                "--run",
                "ls /opt/keep; test -e /bin/vi || echo no-vi; test -e /etc/group || echo no-group; \
                 stat -c %u:%g /opt/mine /bin/busybox; test -e /disk || echo no-disk; \
                 touch /opt/keep/x && echo wrote",
            ],
        )?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "new\nno-vi\nno-group\n1000:1000\n0:0\nno-disk\nwrote\n",
    )?;
    let listed = user.verb(t, &["images"])?.success()?;
    ensure(
        listed.stdout.contains("/test/rootless"),
        format!("images does not list the pull:\n{}", listed.stdout),
    )?;
    // On the host: the user's store, the user's alone; the file of uid 1000 is the user's
    // subordinate 1000th id, the opaque marker a user.overlay attribute (no trusted.*).
    let store = user.home.join("data/my-container-tui/image");
    ensure_eq(
        std::fs::metadata(&store).map_err(|e| e.to_string())?.mode() & 0o777,
        0o700,
    )?;
    let diffs: Vec<PathBuf> = std::fs::read_dir(store.join("layers"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().join("diff"))
        .collect();
    let mine = diffs
        .iter()
        .map(|d| d.join("opt/mine"))
        .find(|p| p.exists())
        .ok_or("no layer holds /opt/mine")?;
    ensure_eq(
        std::fs::metadata(&mine).map_err(|e| e.to_string())?.uid(),
        user.sub_start + 999,
    )?;
    let marked = |name: &str| {
        diffs.iter().any(|d| {
            xattr::get(d.join("opt/keep"), name)
                .ok()
                .flatten()
                .is_some_and(|v| v == b"y")
        })
    };
    ensure(
        marked("user.overlay.opaque"),
        "no user.overlay.opaque marker",
    )?;
    ensure(!marked("trusted.overlay.opaque"), "a trusted.* marker")?;
    // A volume holding a private directory of the container's uid 1000: removed whole.
    user.run(
        t,
        &[
            "--rm",
            "--network",
            "none",
            "-v",
            "vol:/data",
            "--image",
            &image,
            "--run",
            "mkdir /data/d && echo x > /data/d/f && chown -R 1000 /data/d && chmod 500 /data/d",
        ],
    )?
    .success()?;
    user.verb(t, &["volume", "rm", "vol"])?.success()?;
    user.nothing_in_store(&["volumes"], "volume rm")?;
    user.verb(t, &["rmi", &image])?.success()?;
    user.nothing_in_store(&["image/layers", "image/l", "image/tmp"], "rmi")?;
    // An owner beyond the user's 65536 ids.
    let far = layout_with_owner(&layout, "far", 70000)?;
    let far = layout.push(&far, &registry, "test/far:1", &[])?;
    let out = user.verb(t, &["pull", &far])?.expect_code(1)?;
    out.one_line_error("outside this user namespace's ids")?;
    user.nothing_in_store(&["image/layers", "image/tmp"], "a refused pull")?;
    user.all_gone(t)
}

/// `build`, `diff` and `commit` as the user, where a container's user keeps a directory only
/// it may enter (uid 1000, `0700`: not the user on the host): the build's steps run rootless
/// and their layers are read in the user's namespace, `diff` lists what is inside that
/// directory, `cp` and `export` archive it, and `commit` carries it into an image that runs.
/// `rmi` and `system prune` (the dangling build cache) then leave no file.
fn a_user_builds_diffs_and_commits(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let rootfs = user.rootfs(t)?;
    let tarball = user.home.join("base.tar");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .map_err(|e| e.to_string())?;
    ensure(tar.success(), "tar of the rootfs failed")?;
    user.verb(t, &["import", &tarball.to_string_lossy(), "base:1"])?
        .success()?;
    let context = user.home.join("context");
    std::fs::create_dir(&context).map_err(|e| e.to_string())?;
    std::fs::write(
        context.join("Dockerfile"),
        "FROM base:1\n\
         RUN rm /bin/vi && mkdir -p /home/bob/p && chown 1000:1000 /home/bob/p && chmod 700 /home/bob/p\n\
         USER 1000\n\
         RUN echo secret > /home/bob/p/s\n\
         COPY note /note\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(context.join("note"), "noted\n").map_err(|e| e.to_string())?;
    let owner = format!("{}:{}", user.uid, user.gid);
    let chowned = Command::new("chown")
        .args(["-R", &owner])
        .arg(&context)
        .status()
        .map_err(|e| e.to_string())?;
    ensure(chowned.success(), "chown of the context failed")?;
    user.verb(
        t,
        &["build", "-q", "-t", "built:1", &context.to_string_lossy()],
    )?
    .success()?;
    let out = user
        .run(
            t,
            &[
                "--network",
                "none",
                "--image",
                "built:1",
                "--run",
                "cat /home/bob/p/s /note; id -u; test -e /bin/vi || echo no-vi",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "secret\nnoted\n1000\nno-vi\n")?;
    let name = format!("rlc-{}", std::process::id());
    user.run(
        t,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "none",
            "built:1",
            "sleep",
            "600",
        ],
    )?
    .success()?;
    user.verb(t, &["exec", &name, "sh", "-c", "echo more > /home/bob/p/t"])?
        .success()?;
    let diff = user.verb(t, &["diff", &name])?.success()?;
    ensure(
        diff.stdout.lines().any(|l| l == "A /home/bob/p/t"),
        format!(
            "diff does not list the private directory's file:\n{}",
            diff.stdout
        ),
    )?;
    // `cp` and `export` reach into that directory too (as root of the container's user
    // namespace): the file is in both archives.
    for verb in [
        &["cp", &format!("{name}:/home/bob/p"), "-"][..],
        &["export", &name],
    ] {
        let archive = run({
            let mut cmd = user.command(t);
            cmd.args(verb);
            cmd
        })?
        .success()?;
        ensure(
            archive.stdout.contains("secret") && archive.stdout.contains("more"),
            format!("{} lacks the private directory's files", verb[0]),
        )?;
    }
    user.verb(t, &["commit", &name, "committed:1"])?.success()?;
    user.verb(t, &["rm", "-f", &name])?.success()?;
    let out = user
        .run(
            t,
            &[
                "--network",
                "none",
                "--image",
                "committed:1",
                "--run",
                "cat /home/bob/p/t",
            ],
        )?
        .success()?;
    ensure_eq(out.stdout.as_str(), "more\n")?;
    // The build cache holds the steps' layers (an entry each of the four) until pruned, as
    // Docker's does: while built:1 is there, none of its steps is dangling; once it is gone,
    // all four are.
    let prune = || user.verb(t, &["system", "prune", "-f"]);
    let kept = prune()?.success()?;
    ensure(
        !kept.stdout.contains("build cache"),
        format!(
            "the steps of an image still there were pruned:\n{}",
            kept.stdout
        ),
    )?;
    user.verb(t, &["rmi", "committed:1", "built:1", "base:1"])?
        .success()?;
    let pruned = prune()?.success()?;
    ensure(
        pruned.stdout.contains("Deleted build cache objects: 4"),
        format!("the build cache was not pruned:\n{}", pruned.stdout),
    )?;
    user.nothing_in_store(&["image/layers", "image/l", "image/tmp"], "rmi and prune")?;
    user.all_gone(t)
}

/// A network the user made (`network create`): its bridge is in the user's own network
/// namespace, held by a process of ours (the holder), never on the host. A container on it
/// fetches a page from another by name, and the host fetches it from the port it publishes
/// (TCP: UDP is refused in one line).
/// Killing the holder takes the bridge and its rules with it, and the next container brings
/// a new one up. Once the containers end, the holder ends: no process, no state, no link; and
/// so it does when the user's runtime directory goes from under it (at logout).
fn a_users_containers_find_each_other_on_their_network(t: &Ctx) -> TestResult {
    let user = User::new(t)?;
    let rootfs = user.rootfs_with_page(t, "found by name\n")?;
    let net = format!("rlnet{}", std::process::id());
    user.verb(t, &["network", "create", &net])?.success()?;
    let inspected = user.verb(t, &["network", "inspect", &net])?.success()?;
    let inspected: serde_json::Value =
        serde_json::from_str(&inspected.stdout).map_err(|e| e.to_string())?;
    let bridge = inspected[0]["Bridge"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let gateway = inspected[0]["Gateway"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure(!bridge.is_empty(), "network inspect names no bridge")?;
    let web = format!("rlweb{}", std::process::id());
    // Its page published on a host port of loopback's (through a proxy of ours).
    let serve = |t: &Ctx, port: u16| {
        user.run(
            t,
            &[
                "run",
                "-d",
                "--name",
                &web,
                "--network",
                &net,
                "-p",
                &format!("127.0.0.1:{port}:8080"),
                "--rootfs",
                &rootfs,
                "httpd",
                "-f",
                "-p",
                "8080",
                "-h",
                "/www",
            ],
        )?
        .success()
    };
    let port = free_port()?;
    serve(t, port)?;
    let page = http_get(port)?;
    ensure(
        page.contains("found by name"),
        format!("the published page: {page:?}"),
    )?;
    let fetch = format!("wget -q -O - http://{web}:8080/index.html; ip -4 -o addr show eth0");
    let fetched = |t: &Ctx| {
        user.run(
            t,
            &["--network", &net, "--rootfs", &rootfs, "--run", &fetch],
        )?
        .success()
    };
    let out = fetched(t)?;
    // Its address is of the network's subnet (a /16: the gateway's first two parts).
    let prefix = gateway.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
    ensure(
        out.stdout.starts_with("found by name\n")
            && out.stdout.contains(&format!("inet {prefix}.")),
        format!(
            "not fetched by name on {gateway}'s subnet: {:?}",
            out.stdout
        ),
    )?;
    // Nothing of it on the host: no link of ours appeared.
    let links = || -> Vec<String> {
        std::fs::read_dir("/sys/class/net")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    ensure(
        !links().contains(&bridge),
        format!("the user's bridge {bridge} is on the host"),
    )?;
    let out = user
        .run(
            t,
            &[
                "--network",
                &net,
                "-p",
                "8081:80/udp",
                "--rootfs",
                &rootfs,
                "--run",
                "true",
            ],
        )?
        .expect_code(125)?;
    out.one_line_error("publishes TCP ports only")?;
    // The holder killed: its namespaces, bridge and rules go with it; web is cut off, and
    // the next container on the network brings everything up again.
    let holder = t
        .processes()
        .into_iter()
        .find(|p| p.cmdline.iter().any(|a| a == "__network-holder"))
        .ok_or("no network holder runs")?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .map_err(|e| e.to_string())?;
    user.verb(t, &["rm", "-f", &web])?.success()?;
    let port = free_port()?;
    serve(t, port)?;
    ensure(
        http_get(port)?.contains("found by name"),
        "the page is not published after the holder was killed",
    )?;
    let again = fetched(t)?;
    ensure(
        again.stdout.starts_with("found by name\n"),
        format!(
            "not fetched after the holder was killed: {:?}",
            again.stdout
        ),
    )?;
    user.verb(t, &["rm", "-f", &web])?.success()?;
    user.all_gone(t)?;
    // The user's runtime directory removed under a holder (as at logout): it ends too.
    serve(t, free_port()?)?;
    user.verb(t, &["rm", "-f", &web])?.success()?;
    std::fs::remove_dir_all(user.home.join("run")).map_err(|e| e.to_string())?;
    user.all_gone(t)?;
    user.verb(t, &["network", "rm", &net])?.success()?;
    Ok(())
}

/// Image `tag` of `layout`: its busybox with a file owned by `uid`.
fn layout_with_owner(
    layout: &crate::registry::Layout,
    tag: &str,
    uid: u32,
) -> Result<String, libtest_mimic::Failed> {
    layout.change("bb", tag, |rootfs| {
        let file = rootfs.join("far");
        std::fs::write(&file, "far").map_err(|e| e.to_string())?;
        std::os::unix::fs::chown(&file, Some(uid), Some(uid)).map_err(|e| e.to_string())?;
        Ok(())
    })?;
    Ok(tag.to_string())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        found.push(entry.path());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&entry.path()));
        }
    }
    found
}
