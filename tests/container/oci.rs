//! The OCI runtime (`mct-runc`): driven by a real containerd (Debian's 1.6, private: its own
//! root, state and socket in a scratch directory, its own namespace), and by hand on bundles
//! as runc's own tests drive runc.

use crate::registry::Layout;
use crate::support::*;
use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub fn tests() -> Vec<Trial> {
    crate::root_tests![
        containerd_run_rm_and_terminal,
        containerd_task_verbs,
        containerd_kill_all_leaves_nothing,
        lifecycle_by_hand,
        errors_are_runcs,
        unsupported_fields_are_refused_by_name,
        hooks_see_the_state,
        seccomp_profile_applies,
        user_namespace_maps_apply,
        cpu_period_and_cpuset_reach_the_cgroup,
        memory_settings_reach_the_cgroup,
        a_deep_cgroup_path_takes_along_only_what_it_made,
        hugepage_limits_reach_the_cgroup,
        mount_destination_symlinks_stay_inside,
        dashboard_lists_oci_containers,
        binary_cannot_be_rewritten_from_an_exec,
        proc_mounts_are_runcs_list_alone_and_configs_are_capped,
        binary_cannot_be_rewritten_through_a_shared_pid_namespace,
        kubernetes_privileged_devices,
        mount_propagation_follows_the_bundle,
    ]
}

/// `<dir>/mct-runc`, a link to the binary under test: the name makes it speak runc's CLI.
pub(crate) fn runc_link(dir: &Path) -> Result<PathBuf, Failed> {
    let link = dir.join("mct-runc");
    std::os::unix::fs::symlink(BIN, &link).map_err(|e| format!("symlink: {e}"))?;
    Ok(link)
}

/// A private containerd, stopped (after its shims) when dropped.
pub(crate) struct Containerd {
    pub(crate) dir: TempDir,
    /// The sockets' directory, short: a unix socket's path has room for 107 bytes.
    sockets: PathBuf,
    pub(crate) daemon: Running,
    /// The containerd namespace `ctr` works in: the test's own, or the CRI plugin's `k8s.io`.
    pub(crate) namespace: String,
    pub(crate) runc: PathBuf,
    /// Last, so it goes after the daemon: `/run/containerd`, where shims keep sockets.
    _run_dir: RunDir,
}

/// `/run/containerd` (containerd's shims make `s/` and `fifo/` there, and the runtime's root
/// for a namespace is `runc/NS`): removed after the last test of this run that used it, if
/// it was not there before the first. Counted across the tests running at once, since one
/// test's end must not take away another's, nor leave what neither found.
struct RunDir;

static RUN_DIR: std::sync::Mutex<(usize, Option<bool>)> = std::sync::Mutex::new((0, None));

impl RunDir {
    fn take() -> RunDir {
        let mut users = RUN_DIR.lock().unwrap_or_else(|e| e.into_inner());
        users
            .1
            .get_or_insert_with(|| Path::new("/run/containerd").exists());
        users.0 += 1;
        RunDir
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let mut users = RUN_DIR.lock().unwrap_or_else(|e| e.into_inner());
        users.0 -= 1;
        if users.0 == 0 && users.1 == Some(false) {
            for dir in ["runc", "s", "fifo", ""] {
                let _ = std::fs::remove_dir(Path::new("/run/containerd").join(dir));
            }
        }
    }
}

impl Containerd {
    fn start(t: &Ctx) -> Result<Containerd, Failed> {
        Containerd::start_with(t, None)
    }

    /// With `cri`, a function of the scratch directory giving the CRI plugin's settings (a
    /// TOML fragment under its table), the plugin runs and `ctr` works in its namespace.
    pub(crate) fn start_with(
        t: &Ctx,
        cri: Option<&dyn Fn(&Path) -> String>,
    ) -> Result<Containerd, Failed> {
        let tag = t.namespace();
        let dir = TempDir::new(&format!("containerd-{tag}"))?;
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sockets = PathBuf::from(format!("/tmp/mct-ctd-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&sockets).map_err(|e| e.to_string())?;
        let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let sock = |name: &str| sockets.join(name).to_string_lossy().into_owned();
        let disabled_cri = match cri {
            Some(_) => "",
            None => "\"io.containerd.grpc.v1.cri\", ",
        };
        let mut config = format!(
            "version = 2\nroot = {:?}\nstate = {:?}\n\
             disabled_plugins = [{disabled_cri}\"io.containerd.snapshotter.v1.btrfs\", \
             \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.devmapper\", \
             \"io.containerd.snapshotter.v1.aufs\"]\n\
             [grpc]\n  address = {:?}\n[ttrpc]\n  address = {:?}\n",
            p("root"),
            p("state"),
            sock("containerd.sock"),
            sock("containerd.sock.ttrpc"),
        );
        if let Some(cri) = cri {
            config.push_str("[plugins.\"io.containerd.grpc.v1.cri\"]\n");
            config.push_str(&cri(dir.path()));
        }
        let config_path = dir.file("config.toml", config.as_bytes(), 0o600)?;
        let run_dir = RunDir::take();
        let log =
            std::fs::File::create(dir.path().join("containerd.log")).map_err(|e| e.to_string())?;
        let daemon = Running::spawn(
            // In a mount namespace of its own: the snapshots it mounts for its tasks stay out
            // of the host's table (which the other tests compare before and after).
            Command::new("unshare")
                .args([
                    "-m",
                    "--propagation",
                    "private",
                    "containerd",
                    "--config",
                    &config_path,
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log),
        )?;
        let runc = runc_link(dir.path())?;
        let c = Containerd {
            dir,
            sockets,
            daemon,
            namespace: match cri {
                Some(_) => "k8s.io".to_string(),
                None => tag,
            },
            runc,
            _run_dir: run_dir,
        };
        let answered = wait_until("containerd to answer", || {
            c.ctr(&["version"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        if let Err(e) = answered {
            let log = std::fs::read_to_string(c.dir.path().join("containerd.log"));
            return Err(format!(
                "{e:?}; its log: {}",
                log.unwrap_or_default()
                    .lines()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
            .into());
        }
        Ok(c)
    }

    pub(crate) fn socket(&self) -> String {
        self.sockets
            .join("containerd.sock")
            .to_string_lossy()
            .into_owned()
    }

    /// The runc root containerd is told to give the runtime (ours, in the scratch directory).
    fn runc_root(&self) -> PathBuf {
        self.dir.path().join("runc")
    }

    pub(crate) fn ctr(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ctr");
        cmd.args(["-a", &self.socket(), "-n", &self.namespace])
            .args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// `ctr run` with our runtime and the test's marker; `args` are flags, then image, id, cmd.
    fn run(&self, t: &Ctx, flags: &[&str], id: &str, cmd: &[&str]) -> Command {
        let runc = self.runc.to_string_lossy().into_owned();
        let root = self.runc_root().to_string_lossy().into_owned();
        let marker = format!("MCT_TEST={};", t.name);
        let mut args: Vec<&str> = vec!["run", "--runc-binary", &runc, "--runc-root", &root];
        args.extend(["--env", &marker]);
        args.extend_from_slice(flags);
        args.extend([IMAGE, id]);
        args.extend_from_slice(cmd);
        self.ctr(&args)
    }

    /// A busybox image, built with umoci from the tool's rootfs and imported.
    fn import_busybox(&self, t: &Ctx) -> Result<(), Failed> {
        let layout = Layout::new(&format!("ctd-{}", t.namespace()))?;
        layout.busybox(t, "latest")?;
        self.import(&layout, "latest", IMAGE)
    }

    /// Imports `tag` of `layout` as image `name`.
    pub(crate) fn import(&self, layout: &Layout, tag: &str, name: &str) -> TestResult {
        let tar = self.dir.path().join(format!("{tag}.tar"));
        let out = run({
            let mut c = Command::new("skopeo");
            c.args([
                "copy",
                "--quiet",
                &format!("oci:{}:{tag}", layout.oci()),
                &format!("docker-archive:{}:{name}", tar.display()),
            ]);
            c
        })?;
        ensure(out.code == Some(0), format!("skopeo: {}", out.stderr))?;
        let out = run(self.ctr(&["images", "import", &tar.to_string_lossy()]))?;
        let _ = std::fs::remove_file(&tar);
        ensure(out.code == Some(0), format!("ctr import: {}", out.stderr))
    }

    /// Shims serving this containerd (their command line names its socket).
    pub(crate) fn shims(&self) -> Vec<Proc> {
        let socket = self.socket();
        procs()
            .into_iter()
            .filter(|p| {
                p.cmdline.iter().any(|a| a.contains(&socket)) && p.pid != self.daemon.id() as i32
            })
            .filter(|p| p.cmdline.first().is_some_and(|c| c.contains("shim")))
            .collect()
    }

    /// Nothing of container `id` left: no record in the runtime's root, no cgroup, no shim.
    fn nothing_left(&self, id: &str) -> TestResult {
        wait_until("the shims to exit", || self.shims().is_empty())?;
        ensure(
            !self.runc_root().join(id).exists(),
            format!("state of {id} left in the runtime's root"),
        )?;
        let cgroups = cgroup_dirs(&format!("{}/{id}", self.namespace));
        ensure(cgroups.is_empty(), format!("cgroups left: {cgroups:?}"))?;
        let out = run(self.ctr(&["containers", "ls", "-q"]))?;
        ensure_eq(out.stdout.trim(), "")?;
        // containerd's mount table (the host's is checked by every test): the task's root
        // unmounted, no mount of the container's left behind.
        let table = std::fs::read_to_string(format!("/proc/{}/mountinfo", self.daemon.id()))
            .map_err(|e| e.to_string())?;
        let needle = format!("/{}/{id}/", self.namespace);
        let left: Vec<&str> = table.lines().filter(|l| l.contains(&needle)).collect();
        ensure(left.is_empty(), format!("mounts left: {left:?}"))
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // Containers the test could not remove: their tasks killed, then removed, so no shim
        // outlives the daemon.
        if let Ok(out) = self.ctr(&["containers", "ls", "-q"]).output() {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = self
                    .ctr(&["task", "kill", "-a", "-s", "SIGKILL", id])
                    .output();
                std::thread::sleep(Duration::from_millis(200));
                let _ = self.ctr(&["task", "delete", "-f", id]).output();
                let _ = self.ctr(&["containers", "rm", id]).output();
            }
        }
        for shim in self.shims() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(shim.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let pid = nix::unistd::Pid::from_raw(self.daemon.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = wait_child(&mut self.daemon.0);
        // The directories the daemon and its shims made under the snapshot state are
        // unmounted by now; a leftover mount would fail the test's mount check.
        for dir in [
            "/run/containerd/runc",
            "/run/containerd/s",
            "/run/containerd/fifo",
        ] {
            let _ = std::fs::remove_dir(Path::new(dir).join(&self.namespace));
        }
        let _ = std::fs::remove_dir_all(&self.sockets);
    }
}

pub(crate) const IMAGE: &str = "docker.io/mct/busybox:latest";

/// The cgroup directories at `rel` in every hierarchy.
pub(crate) fn cgroup_dirs(rel: &str) -> Vec<PathBuf> {
    let roots = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    std::iter::once(PathBuf::from("/sys/fs/cgroup"))
        .chain(roots)
        .map(|r| r.join(rel))
        .filter(|p| p.exists())
        .collect()
}

/// The text of a cgroup file, trimmed, from whichever hierarchy holds it for `rel`.
pub(crate) fn cgroup_file(rel: &str, name: &str) -> Option<String> {
    cgroup_dirs(rel)
        .iter()
        .map(|d| d.join(name))
        .find(|f| f.exists())
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(|s| s.trim().to_string())
}

/// Runs `cmd` under `script`, so it has a terminal (ctr -t insists on one).
fn with_terminal(cmd: &Command) -> Command {
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| shell_quote(&a.to_string_lossy()))
        .collect();
    let mut c = Command::new("script");
    c.args(["-qec", &line.join(" "), "/dev/null"]);
    c.stdin(Stdio::null());
    c
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn containerd_run_rm_and_terminal(t: &Ctx) -> TestResult {
    let c = Containerd::start(t)?;
    c.import_busybox(t)?;
    let out = run(c.run(
        t,
        &["--rm"],
        "rm1",
        &["sh", "-c", "echo hi from the box; exit 3"],
    ))?;
    ensure(out.code == Some(3), format!("run --rm: {out:?}"))?;
    ensure(
        out.stdout.contains("hi from the box"),
        format!("stdout: {:?} {:?}", out.stdout, out.stderr),
    )?;
    c.nothing_left("rm1")?;
    // -t: the pty made in the container's devpts travels over containerd's console socket.
    let out = run(with_terminal(&c.run(
        t,
        &["--rm", "-t"],
        "tty1",
        &["sh", "-c", "tty; exit 4"],
    )))?;
    ensure_eq(out.code, Some(4))?;
    ensure(
        out.stdout.contains("/dev/pts/0"),
        format!("tty: {:?}", out.stdout),
    )?;
    c.nothing_left("tty1")
}

fn containerd_task_verbs(t: &Ctx) -> TestResult {
    let c = Containerd::start(t)?;
    c.import_busybox(t)?;
    let script =
        "trap 'exit 42' TERM; n=0; while true; do n=$((n+1)); echo $n > /tmp/n; sleep 0.05; done";
    let out = run(c.run(t, &["-d"], "d1", &["sh", "-c", script]))?;
    ensure(out.code == Some(0), format!("run -d: {}", out.stderr))?;
    let tasks = run(c.ctr(&["task", "ls"]))?.stdout;
    ensure(tasks.contains("RUNNING"), format!("task ls: {tasks}"))?;
    let pid: i32 = tasks
        .lines()
        .find(|l| l.starts_with("d1"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .ok_or("no pid in task ls")?;
    // exec, with and without a terminal, exit codes through.
    let out = run(c.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "d1",
        "sh",
        "-c",
        "echo in $(hostname); exit 6",
    ]))?;
    ensure_eq(out.code, Some(6))?;
    ensure(out.stdout.contains("in "), format!("exec: {out:?}"))?;
    let exec_t = c.ctr(&[
        "task",
        "exec",
        "-t",
        "--exec-id",
        "e2",
        "d1",
        "sh",
        "-c",
        "tty; exit 9",
    ]);
    let out = run(with_terminal(&exec_t))?;
    ensure_eq(out.code, Some(9))?;
    ensure(
        out.stdout.contains("/dev/pts/"),
        format!("exec -t: {:?}", out.stdout),
    )?;
    // ps: the init and its sleep, as host PIDs.
    let ps = run(c.ctr(&["task", "ps", "d1"]))?.stdout;
    ensure(
        ps.lines()
            .any(|l| l.split_whitespace().next() == Some(&pid.to_string())),
        format!("ps: {ps}"),
    )?;
    let metrics = run(c.ctr(&["task", "metrics", "d1"]))?;
    ensure(
        metrics.code == Some(0) && metrics.stdout.contains("memory"),
        format!("metrics: {metrics:?}"),
    )?;
    // pause: the counter the container writes stops; resume: it goes on.
    let counter = PathBuf::from(format!("/proc/{pid}/root/tmp/n"));
    let read = || {
        std::fs::read_to_string(&counter)
            .unwrap_or_default()
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
    };
    wait_until("the counter", || read() > 0)?;
    ensure_eq(run(c.ctr(&["task", "pause", "d1"]))?.code, Some(0))?;
    ensure(
        run(c.ctr(&["task", "ls"]))?.stdout.contains("PAUSED"),
        "not PAUSED",
    )?;
    let frozen = read();
    std::thread::sleep(Duration::from_millis(300));
    ensure_eq(read(), frozen)?;
    ensure_eq(run(c.ctr(&["task", "resume", "d1"]))?.code, Some(0))?;
    wait_until("the counter to move again", || read() > frozen)?;
    // SIGTERM: the container's handler exits 42, which containerd reports.
    ensure_eq(
        run(c.ctr(&["task", "kill", "-s", "SIGTERM", "d1"]))?.code,
        Some(0),
    )?;
    wait_until("the task to stop", || {
        run(c.ctr(&["task", "ls"])).is_ok_and(|o| o.stdout.contains("STOPPED"))
    })?;
    let deleted = run(c.ctr(&["task", "delete", "d1"]))?;
    ensure(
        deleted.stderr.contains("exit code 42"),
        format!("task delete: {deleted:?}"),
    )?;
    ensure_eq(run(c.ctr(&["containers", "rm", "d1"]))?.code, Some(0))?;
    c.nothing_left("d1")
}

fn containerd_kill_all_leaves_nothing(t: &Ctx) -> TestResult {
    let c = Containerd::start(t)?;
    c.import_busybox(t)?;
    // Init ignores SIGTERM and has children: only kill -a with SIGKILL ends them all.
    let script = "trap '' TERM; sleep 1000 & sleep 1000 & wait";
    let out = run(c.run(t, &["-d"], "k1", &["sh", "-c", script]))?;
    ensure(out.code == Some(0), format!("run -d: {}", out.stderr))?;
    let pids = || {
        cgroup_dirs(&format!("{}/k1", c.namespace))
            .first()
            .and_then(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    wait_until("three processes", || pids() == 3)?;
    ensure_eq(
        run(c.ctr(&["task", "kill", "-a", "-s", "SIGKILL", "k1"]))?.code,
        Some(0),
    )?;
    wait_until("the task to stop", || {
        run(c.ctr(&["task", "ls"])).is_ok_and(|o| o.stdout.contains("STOPPED"))
    })?;
    ensure_eq(pids(), 0)?;
    run(c.ctr(&["task", "delete", "k1"]))?;
    ensure_eq(run(c.ctr(&["containers", "rm", "k1"]))?.code, Some(0))?;
    c.nothing_left("k1")
}

/// A bundle in a scratch directory: the tool's busybox rootfs and `spec`'s config, changed.
struct Bundle {
    dir: TempDir,
    runc: PathBuf,
}

impl Drop for Bundle {
    /// Containers a failed test left: deleted (killed first), so no cgroup or process stays.
    fn drop(&mut self) {
        let Ok(out) = self.runc(&["list", "-q"]) else {
            return;
        };
        for id in out.stdout.split_whitespace() {
            let _ = self.runc(&["delete", "-f", id]);
        }
    }
}

impl Bundle {
    fn new(t: &Ctx, args: &[&str]) -> Result<Bundle, Failed> {
        let (dir, _) = t.busybox_rootfs()?;
        std::fs::rename(dir.path().join("root"), dir.path().join("rootfs"))
            .map_err(|e| e.to_string())?;
        let runc = runc_link(dir.path())?;
        let b = Bundle { dir, runc };
        let out = b.runc(&["spec", "--bundle", &b.path()])?;
        ensure(out.code == Some(0), format!("spec: {out:?}"))?;
        b.edit(|c| {
            c["process"]["terminal"] = json!(false);
            c["process"]["args"] = json!(args);
            c["process"]["env"] = json!([
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                format!("MCT_TEST={};", t.name),
            ]);
        })?;
        Ok(b)
    }

    fn path(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    /// `mct-runc` as a copy of the binary, this test's alone, rather than a link to the one
    /// every test runs: an attack that rewrites it harms nothing else. Returns its bytes.
    fn own_binary(&self) -> Result<Vec<u8>, Failed> {
        let bytes = std::fs::read(BIN).map_err(|e| e.to_string())?;
        std::fs::remove_file(&self.runc).map_err(|e| e.to_string())?;
        std::fs::write(&self.runc, &bytes).map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.runc, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }

    fn root(&self) -> String {
        self.dir.path().join("state").to_string_lossy().into_owned()
    }

    fn edit(&self, change: impl FnOnce(&mut Value)) -> TestResult {
        let path = self.dir.path().join("config.json");
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        change(&mut config);
        std::fs::write(&path, config.to_string()).map_err(|e| e.to_string().into())
    }

    /// `mct-runc --root <scratch>/state ARGS`.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.runc);
        cmd.args(["--root", &self.root()]).args(args);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn runc(&self, args: &[&str]) -> Result<Output, Failed> {
        run(self.command(args))
    }

    /// `run` with the bundle to the container's end, its output read (stdout a pipe).
    fn run_to_end(&self, id: &str) -> Result<Output, Failed> {
        let mut cmd = self.command(&["run", "--bundle", &self.path(), id]);
        cmd.stdout(Stdio::piped());
        run(cmd)
    }

    /// `delete -f ID`, after which no cgroup of ours is left under `rel`: our parent
    /// directory too, which the last container of a parent we made takes along.
    fn delete_leaving_no_cgroup(&self, id: &str, rel: &str) -> TestResult {
        ensure_eq(self.runc(&["delete", "-f", id])?.code, Some(0))?;
        ensure(
            cgroup_dirs(rel).is_empty(),
            format!("cgroups left: {:?}", cgroup_dirs(rel)),
        )
    }

    /// `create` with the bundle.
    fn create(&self, id: &str) -> Result<Output, Failed> {
        self.parking(self.command(&["create", "--bundle", &self.path(), id]))
    }

    /// Runs a command that leaves a container's init behind (`create`, `run -d`): init keeps
    /// the command's stdout and stderr, so they go to files (as a shim gives it fifos), not
    /// to pipes whose end would never come.
    fn parking(&self, mut cmd: Command) -> Result<Output, Failed> {
        let out = self.dir.path().join("create.out");
        let err = self.dir.path().join("create.err");
        let file = |p: &Path| std::fs::File::create(p).map_err(|e| e.to_string());
        cmd.stdout(file(&out)?).stderr(file(&err)?);
        let mut child = Running::spawn(&mut cmd)?;
        let status = wait_child(&mut child)?;
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        Ok(Output {
            code: status.code(),
            stdout: read(&out),
            stderr: read(&err),
        })
    }

    fn status(&self, id: &str) -> Result<String, Failed> {
        let out = self.runc(&["state", id])?;
        let state: Value =
            serde_json::from_str(&out.stdout).map_err(|e| format!("state: {e}: {out:?}"))?;
        Ok(state["status"].as_str().unwrap_or_default().to_string())
    }
}

fn lifecycle_by_hand(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sh", "-c", "echo $$ > /tmp/started; exec sleep 1000"])?;
    b.edit(|c| c["root"]["readonly"] = json!(false))?;
    let pid_file = b.dir.path().join("init.pid");
    let cmd = b.command(&[
        "create",
        "--bundle",
        &b.path(),
        "--pid-file",
        &pid_file.to_string_lossy(),
        "c1",
    ]);
    let out = b.parking(cmd)?;
    ensure(out.code == Some(0), format!("create: {out:?}"))?;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .map_err(|e| e.to_string())?
        .trim()
        .parse()
        .map_err(|_| "pid file")?;
    ensure_eq(b.status("c1")?, "created".to_string())?;
    // Parked before the user's process: the command has not run.
    let started = PathBuf::from(format!("/proc/{pid}/root/tmp/started"));
    ensure(!started.exists(), "the command ran before start")?;
    let state: Value =
        serde_json::from_str(&b.runc(&["state", "c1"])?.stdout).map_err(|e| e.to_string())?;
    ensure_eq(state["pid"].as_i64(), Some(pid as i64))?;
    ensure_eq(state["bundle"].as_str(), Some(b.path().as_str()))?;
    ensure_eq(b.runc(&["start", "c1"])?.code, Some(0))?;
    // The shell makes the file before it writes to it: wait for the line, not the file.
    wait_until("the command to run", || {
        std::fs::read_to_string(&started).is_ok_and(|s| s.ends_with('\n'))
    })?;
    ensure_eq(
        std::fs::read_to_string(&started)
            .map_err(|e| e.to_string())?
            .trim(),
        "1",
    )?;
    ensure_eq(b.status("c1")?, "running".to_string())?;
    ensure_eq(b.runc(&["start", "c1"])?.code, Some(1))?;
    // exec: the container's namespaces and its cgroup.
    let out = b.runc(&[
        "exec",
        "c1",
        "sh",
        "-c",
        "hostname; cat /proc/1/cmdline; exit 5",
    ])?;
    ensure_eq(out.code, Some(5))?;
    ensure(
        out.stdout.starts_with("mct\n") && out.stdout.contains("sleep"),
        format!("exec: {out:?}"),
    )?;
    let json = b.runc(&["ps", "--format", "json", "c1"])?.stdout;
    let pids: Vec<i32> = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    ensure_eq(pids, vec![pid])?;
    // update: the memory limit lands in the cgroup.
    let mut update = b.command(&["update", "--resources", "-", "c1"]);
    update
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = Running::spawn(&mut update)?;
    use std::io::Write;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(br#"{"memory": {"limit": 67108864}}"#)
        .map_err(|e| e.to_string())?;
    ensure(wait_child(&mut child)?.success(), "update failed")?;
    let cgroup =
        std::fs::read_to_string(format!("/proc/{pid}/cgroup")).map_err(|e| e.to_string())?;
    let memory = cgroup
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            (ctl.split(',').any(|c| c == "memory") || ctl.is_empty()).then(|| path.to_string())
        })
        .ok_or("no memory cgroup")?;
    let file = ["/sys/fs/cgroup/memory", "/sys/fs/cgroup"]
        .iter()
        .map(|r| Path::new(r).join(memory.trim_start_matches('/')))
        .flat_map(|d| [d.join("memory.limit_in_bytes"), d.join("memory.max")])
        .find(|f| f.exists())
        .ok_or("no memory limit file")?;
    ensure_eq(
        std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())?
            .trim(),
        "67108864",
    )?;
    ensure_eq(b.runc(&["pause", "c1"])?.code, Some(0))?;
    ensure_eq(b.status("c1")?, "paused".to_string())?;
    ensure_eq(b.runc(&["delete", "c1"])?.code, Some(1))?;
    ensure_eq(b.runc(&["resume", "c1"])?.code, Some(0))?;
    let list = b.runc(&["list", "-q"])?.stdout;
    ensure_eq(list.trim(), "c1")?;
    ensure_eq(b.runc(&["kill", "c1", "KILL"])?.code, Some(0))?;
    wait_until("the container to stop", || {
        b.status("c1").is_ok_and(|s| s == "stopped")
    })?;
    ensure_eq(b.runc(&["delete", "c1"])?.code, Some(0))?;
    ensure(!Path::new(&b.root()).join("c1").exists(), "state left")?;
    // Reaped by whoever adopted it (here the host's init; under containerd, the shim).
    wait_until("init to be reaped", || gone(pid))?;
    // run: create, start, wait, delete; the exit status through.
    b.edit(|c| c["process"]["args"] = json!(["sh", "-c", "exit 7"]))?;
    let mut cmd = b.command(&["run", "--bundle", &b.path(), "r1"]);
    cmd.stdout(Stdio::null());
    ensure_eq(run(cmd)?.code, Some(7))?;
    ensure(
        !Path::new(&b.root()).join("r1").exists(),
        "run left its state",
    )?;
    // A created container (parked) is deleted without --force, its init with it.
    ensure_eq(b.create("c2")?.code, Some(0))?;
    let state: Value =
        serde_json::from_str(&b.runc(&["state", "c2"])?.stdout).map_err(|e| e.to_string())?;
    let parked = state["pid"].as_i64().unwrap_or(0);
    ensure_eq(b.runc(&["delete", "c2"])?.code, Some(0))?;
    wait_until("the parked init to be reaped", || gone(parked as i32))
}

/// No process `pid` now, not even a zombie.
fn gone(pid: i32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

fn errors_are_runcs(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["true"])?;
    // delete --force of an id that is gone: quiet success, as containerd relies on.
    let out = b.runc(&["delete", "--force", "nosuch"])?;
    ensure_eq(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), "", ""),
    )?;
    let out = b.runc(&["state", "nosuch"])?;
    ensure_eq(out.code, Some(1))?;
    ensure(
        out.stderr.trim().lines().count() == 1 && out.stderr.contains("does not exist"),
        format!("{out:?}"),
    )?;
    // --log-format json: the error as a JSON line in --log, which containerd shows its user.
    let log = b.dir.path().join("log.json");
    let out = b.runc(&[
        "--log",
        &log.to_string_lossy(),
        "--log-format",
        "json",
        "kill",
        "nosuch",
        "9",
    ])?;
    ensure_eq(out.code, Some(1))?;
    let line = std::fs::read_to_string(&log).map_err(|e| e.to_string())?;
    let entry: Value = serde_json::from_str(line.trim()).map_err(|e| format!("{e}: {line}"))?;
    ensure_eq(entry["level"].as_str(), Some("error"))?;
    ensure(
        entry["msg"].as_str().is_some_and(|m| m.contains("nosuch")) && entry["time"].is_string(),
        line,
    )?;
    // A missing command fails create, and leaves nothing.
    b.edit(|c| c["process"]["args"] = json!(["no-such-command"]))?;
    let out = b.create("e1")?;
    ensure_eq(out.code, Some(1))?;
    ensure(
        out.stderr.contains("executable file not found"),
        format!("{out:?}"),
    )?;
    ensure(!Path::new(&b.root()).join("e1").exists(), "state left")?;
    ensure(cgroup_dirs("my-container-tui/e1").is_empty(), "cgroup left")?;
    // An id taken, an invalid id, --systemd-cgroup.
    b.edit(|c| c["process"]["args"] = json!(["sleep", "100"]))?;
    ensure_eq(b.create("e2")?.code, Some(0))?;
    let out = b.create("e2")?;
    ensure(
        out.code == Some(1) && out.stderr.contains("already exists"),
        format!("{out:?}"),
    )?;
    ensure_eq(b.runc(&["delete", "-f", "e2"])?.code, Some(0))?;
    let out = b.create("../x")?;
    ensure(
        out.code == Some(1) && out.stderr.contains("invalid container id"),
        format!("{out:?}"),
    )?;
    let out = b.runc(&["--systemd-cgroup", "list"])?;
    ensure(
        out.code == Some(1) && out.stderr.contains("--systemd-cgroup"),
        format!("{out:?}"),
    )?;
    let features: Value =
        serde_json::from_str(&b.runc(&["features"])?.stdout).map_err(|e| e.to_string())?;
    ensure(
        features["linux"]["namespaces"]
            .as_array()
            .is_some_and(|n| n.len() == 6),
        "features",
    )
}

fn unsupported_fields_are_refused_by_name(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["true"])?;
    /// The field the error must name, and how the config is changed to set it.
    type Case = (&'static str, fn(&mut Value));
    let cases: [Case; 5] = [
        (
            "linux.uidMappings",
            |c| {
                c["linux"]["uidMappings"] =
                    json!([{"containerID": 0, "hostID": 100000, "size": 65536}])
            },
        ),
        ("process.apparmorProfile", |c| {
            c["process"]["apparmorProfile"] = json!("docker-default")
        }),
        ("linux.resources.blockIO", |c| {
            c["linux"]["resources"]["blockIO"] = json!({"weight": 100})
        }),
        ("\"nfs\"", |c| {
            c["mounts"]
                .as_array_mut()
                .unwrap()
                .push(json!({"destination": "/mnt", "type": "nfs", "source": "h:/x"}))
        }),
        ("systemd", |c| {
            c["linux"]["cgroupsPath"] = json!("system.slice:mct:x")
        }),
    ];
    for (field, change) in cases {
        let original =
            std::fs::read_to_string(b.dir.path().join("config.json")).map_err(|e| e.to_string())?;
        b.edit(change)?;
        let out = b.create("u1")?;
        ensure(
            out.code == Some(1) && out.stderr.contains(field),
            format!("{field}: {out:?}"),
        )?;
        ensure(
            out.stderr.trim().lines().count() == 1,
            format!("not one line: {:?}", out.stderr),
        )?;
        ensure(
            !Path::new(&b.root()).join("u1").exists(),
            format!("{field}: state left"),
        )?;
        std::fs::write(b.dir.path().join("config.json"), original).map_err(|e| e.to_string())?;
    }
    ensure(cgroup_dirs("my-container-tui/u1").is_empty(), "cgroup left")
}

fn hooks_see_the_state(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["true"])?;
    let out_dir = b.dir.path().join("hooks");
    std::fs::create_dir(&out_dir).map_err(|e| e.to_string())?;
    let hook = |phase: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}/{phase}.json", out_dir.display())]});
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        c["hooks"] = json!({
            // In the container, after start: its file lands in the rootfs.
            "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /startContainer.json"]}],
            "prestart": [hook("prestart")],
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        })
    })?;
    ensure_eq(b.create("h1")?.code, Some(0))?;
    let read = |phase: &str| -> Result<Value, Failed> {
        let text = std::fs::read_to_string(out_dir.join(format!("{phase}.json")))
            .map_err(|e| format!("{phase}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{phase}: {e}").into())
    };
    for phase in ["prestart", "createRuntime"] {
        let state = read(phase)?;
        ensure_eq(state["id"].as_str(), Some("h1"))?;
        ensure_eq(state["status"].as_str(), Some("created"))?;
        ensure(
            state["pid"].as_i64().is_some_and(|p| p > 0),
            format!("{phase}: {state}"),
        )?;
    }
    ensure(
        !out_dir.join("poststart.json").exists(),
        "poststart before start",
    )?;
    ensure_eq(b.runc(&["start", "h1"])?.code, Some(0))?;
    ensure_eq(read("poststart")?["status"].as_str(), Some("running"))?;
    let inside = b.dir.path().join("rootfs/startContainer.json");
    wait_until("the startContainer hook", || inside.exists())?;
    let text = std::fs::read_to_string(&inside).map_err(|e| e.to_string())?;
    let state: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    ensure_eq(state["id"].as_str(), Some("h1"))?;
    ensure_eq(state["pid"].as_i64(), read("prestart")?["pid"].as_i64())?;
    wait_until("the container to stop", || {
        b.status("h1").is_ok_and(|s| s == "stopped")
    })?;
    ensure_eq(b.runc(&["delete", "h1"])?.code, Some(0))?;
    ensure_eq(read("poststop")?["status"].as_str(), Some("stopped"))?;
    // A failing prestart hook fails create, and leaves nothing.
    b.edit(|c| c["hooks"] = json!({"prestart": [{"path": "/bin/false"}]}))?;
    let out = b.create("h2")?;
    ensure(
        out.code == Some(1) && out.stderr.contains("prestart"),
        format!("{out:?}"),
    )?;
    ensure(!Path::new(&b.root()).join("h2").exists(), "state left")
}

/// `linux.uidMappings` with a new user namespace (what runtime-tools' `linux_uid_mappings`
/// checks): the process is root inside, the maps are the config's, and the bundle's root,
/// owned by the host's root, is not its to write. Mappings without a user namespace, and a
/// new one without mappings, are refused.
fn user_namespace_maps_apply(t: &Ctx) -> TestResult {
    let b = Bundle::new(
        t,
        &[
            "sh",
            "-c",
            "cat /proc/self/uid_map /proc/self/gid_map; id -u; echo x > /probe",
        ],
    )?;
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        let map = json!([{"containerID": 0, "hostID": 3000100000u32, "size": 65536}]);
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map;
    })?;
    let out = b.run_to_end("userns1")?;
    let words: Vec<&str> = out.stdout.split_whitespace().collect();
    ensure(
        words == ["0", "3000100000", "65536", "0", "3000100000", "65536", "0"],
        format!("{out:?}"),
    )?;
    ensure(
        out.stderr.contains("Permission denied") && !b.dir.path().join("rootfs/probe").exists(),
        format!("the host root's rootfs written from inside: {out:?}"),
    )?;
    b.edit(|c| {
        c["linux"]["uidMappings"] = json!([]);
        c["linux"]["gidMappings"] = json!([]);
    })?;
    let out = b.create("userns2")?;
    ensure(
        out.code == Some(1) && out.stderr.contains("needs linux.uidMappings"),
        format!("{out:?}"),
    )?;
    ensure(
        cgroup_dirs("my-container-tui/userns2").is_empty(),
        "cgroup left",
    )
}

fn seccomp_profile_applies(t: &Ctx) -> TestResult {
    let b = Bundle::new(
        t,
        &[
            "sh",
            "-c",
            "mkdir /tmp/x; echo mkdir=$?; ls / > /dev/null; echo ls=$?",
        ],
    )?;
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
        })
    })?;
    let out = b.run_to_end("s1")?;
    ensure(out.code == Some(0), format!("run: {out:?}"))?;
    ensure(
        out.stdout.contains("mkdir=1") && out.stdout.contains("ls=0"),
        format!("{out:?}"),
    )?;
    ensure(
        out.stderr.contains("Permission denied"),
        format!("errnoRet 13 is EACCES: {out:?}"),
    )?;
    ensure(!b.dir.path().join("rootfs/tmp/x").exists(), "mkdir ran")
}

/// A quota per a period other than 100 ms and a cpuset, read back from the container's own
/// cgroup files (on v1 the cpuset hierarchy, whose new directories start empty).
fn cpu_period_and_cpuset_reach_the_cgroup(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sleep", "100"])?;
    let rel = format!("mct-test-cpu-{}", std::process::id());
    b.edit(|c| {
        c["linux"]["cgroupsPath"] = json!(format!("/{rel}/c1"));
        c["linux"]["resources"]["cpu"] =
            json!({"quota": 25000, "period": 50000, "cpus": "0", "mems": "0"});
    })?;
    ensure(b.create("cpu1")?.code == Some(0), "create")?;
    let result = (|| {
        let read = |name: &str| cgroup_file(&format!("{rel}/c1"), name);
        match read("cpu.max") {
            Some(max) => ensure_eq(max, "25000 50000".to_string())?,
            None => {
                ensure_eq(read("cpu.cfs_quota_us"), Some("25000".into()))?;
                ensure_eq(read("cpu.cfs_period_us"), Some("50000".into()))?;
            }
        }
        ensure_eq(read("cpuset.cpus"), Some("0".into()))?;
        ensure_eq(read("cpuset.mems"), Some("0".into()))
    })();
    b.delete_leaving_no_cgroup("cpu1", &rel)?;
    result
}

/// runtime-tools' memory settings, each read back from the container's memory cgroup: the
/// soft limit (reservation), and where the host's controller has them (cgroup v1), swappiness,
/// the kernel TCP limit and the OOM killer left out. A kernel memory limit, which kernels
/// since 5.16 ignore, is let through with a warning (these were refused, by name).
fn memory_settings_reach_the_cgroup(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sleep", "100"])?;
    let rel = format!("mct-test-memory-{}", std::process::id());
    let limit = 50_593_792u64;
    b.edit(|c| {
        c["linux"]["cgroupsPath"] = json!(format!("/{rel}/m1"));
        c["linux"]["resources"]["memory"] = json!({
            "limit": limit, "reservation": limit / 2, "swap": limit, "kernel": limit,
            "kernelTCP": limit, "swappiness": 10, "disableOOMKiller": true,
        });
    })?;
    let created = b.create("mem1")?;
    ensure(created.code == Some(0), format!("create: {created:?}"))?;
    let result = (|| {
        ensure(
            created
                .stderr
                .contains("linux.resources.memory.kernel 50593792 is ignored"),
            format!("no warning for the kernel limit: {created:?}"),
        )?;
        let read = |name: &str| cgroup_file(&format!("{rel}/m1"), name);
        match read("memory.low") {
            // cgroup v2: the reservation is the protection; the rest has no file there.
            Some(low) => ensure_eq(low, (limit / 2).to_string()),
            None => {
                ensure_eq(read("memory.limit_in_bytes"), Some(limit.to_string()))?;
                ensure_eq(
                    read("memory.soft_limit_in_bytes"),
                    Some((limit / 2).to_string()),
                )?;
                ensure_eq(read("memory.swappiness"), Some("10".into()))?;
                ensure_eq(
                    read("memory.kmem.tcp.limit_in_bytes"),
                    Some(limit.to_string()),
                )?;
                let oom = read("memory.oom_control").unwrap_or_default();
                ensure(
                    oom.contains("oom_kill_disable 1"),
                    format!("oom_control: {oom}"),
                )
            }
        }
    })();
    b.delete_leaving_no_cgroup("mem1", &rel)?;
    result
}

/// A `cgroupsPath` several levels deep (runtime-tools' `testdir/cgrouptest/container`, a
/// kubelet's `kubepods/burstable/pod…/…`): the levels its creation made go with it, and a
/// level that was there (a pod's cgroup the kubelet made) stays. Before, the parent alone
/// went, whoever had made it, and runtime-tools left `testdir` in every hierarchy.
fn a_deep_cgroup_path_takes_along_only_what_it_made(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sleep", "100"])?;
    let kept = format!("mct-test-kept-{}", std::process::id());
    // Made beforehand where every container has a directory: the memory controller's.
    let memory_root = match Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() {
        true => Path::new("/sys/fs/cgroup/memory"),
        false => Path::new("/sys/fs/cgroup"),
    };
    let there = memory_root.join(&kept);
    std::fs::create_dir(&there).map_err(|e| e.to_string())?;
    b.edit(|c| c["linux"]["cgroupsPath"] = json!(format!("/{kept}/made1/made2/c1")))?;
    let result = (|| {
        ensure(b.create("deep1")?.code == Some(0), "create")?;
        ensure(
            there.join("made1/made2/c1").is_dir(),
            "the container's cgroup is not below the kept level",
        )?;
        ensure_eq(b.runc(&["delete", "-f", "deep1"])?.code, Some(0))?;
        ensure(there.is_dir(), "the level that was there went too")?;
        let left: Vec<PathBuf> = cgroup_dirs(&kept)
            .into_iter()
            .filter(|d| d != &there)
            .chain(cgroup_dirs(&format!("{kept}/made1")))
            .collect();
        ensure(
            left.is_empty(),
            format!("levels made left behind: {left:?}"),
        )
    })();
    let _ = std::fs::remove_dir(&there);
    result
}

/// kubelet's `hugepageLimits` (a limit for each page size, 0 where the pod asked none),
/// through the hugetlb controller of the host's cgroup2 mount (on a hybrid host like this
/// one, where hugetlb is no v1 hierarchy, it is there; the runtime is told to drive cgroup2).
/// Where cgroup2 has no hugetlb, create must say so in one line.
fn hugepage_limits_reach_the_cgroup(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sleep", "100"])?;
    let rel = format!("mct-test-huge-{}", std::process::id());
    b.edit(|c| {
        c["linux"]["cgroupsPath"] = json!(format!("/{rel}/c1"));
        c["linux"]["resources"]["hugepageLimits"] =
            json!([{"pageSize": "2MB", "limit": 0}, {"pageSize": "1GB", "limit": 1073741824}]);
    })?;
    let table = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let unified = table
        .lines()
        .find(|l| l.contains(" - cgroup2 "))
        .and_then(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .ok_or("no cgroup2 mount")?;
    let controls = |f: &str| std::fs::read_to_string(unified.join(f)).unwrap_or_default();
    let available = controls("cgroup.controllers")
        .split_whitespace()
        .any(|c| c == "hugetlb");
    let enabled_before = controls("cgroup.subtree_control")
        .split_whitespace()
        .any(|c| c == "hugetlb");
    let mut create = b.command(&["create", "--bundle", &b.path(), "hp1"]);
    create.env("MY_CONTAINER_TUI_CGROUP_UNIFIED", "1");
    let out = b.parking(create)?;
    let result = (|| {
        if !available {
            return ensure(
                out.code == Some(1)
                    && out.stderr.contains("hugetlb")
                    && out.stderr.trim().lines().count() == 1,
                format!("without hugetlb: {out:?}"),
            );
        }
        ensure(out.code == Some(0), format!("create: {out:?}"))?;
        let dir = unified.join(&rel).join("c1");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).map(|s| s.trim().to_string());
        ensure_eq(
            read("hugetlb.2MB.max").map_err(|e| e.to_string())?,
            "0".to_string(),
        )?;
        ensure_eq(
            read("hugetlb.1GB.max").map_err(|e| e.to_string())?,
            "1073741824".to_string(),
        )
    })();
    let mut delete = b.command(&["delete", "-f", "hp1"]);
    delete.env("MY_CONTAINER_TUI_CGROUP_UNIFIED", "1");
    let deleted = run(delete);
    // The controller back as found: enabled in the root's subtree, a hybrid host could not
    // mount it as a v1 hierarchy any more.
    if available && !enabled_before {
        let _ = std::fs::write(unified.join("cgroup.subtree_control"), "-hugetlb");
    }
    result?;
    ensure(deleted?.code == Some(0), "delete")?;
    ensure(!unified.join(&rel).exists(), "cgroup left")
}

fn mount_destination_symlinks_stay_inside(t: &Ctx) -> TestResult {
    // The rootfs is hostile: /evil is a symlink to a host directory, and a mount's
    // destination goes through it. runc resolves it inside the root; we refuse the link
    // outright. Either way nothing may land in the host's directory.
    let host = TempDir::new(&format!("oci-host-{}", t.namespace()))?;
    let b = Bundle::new(t, &["sh", "-c", "echo pwned > /evil/owned"])?;
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}));
    })?;
    std::os::unix::fs::symlink(host.path(), b.dir.path().join("rootfs/evil"))
        .map_err(|e| e.to_string())?;
    let out = b.run_to_end("m1")?;
    ensure(
        out.code == Some(1)
            && out.stderr.contains("/evil")
            && out.stderr.trim().lines().count() == 1,
        format!("run: {out:?}"),
    )?;
    ensure(
        std::fs::read_dir(host.path())
            .map_err(|e| e.to_string())?
            .next()
            .is_none(),
        "the container wrote into the host's directory",
    )?;
    ensure(!Path::new(&b.root()).join("m1").exists(), "state left")
}

fn dashboard_lists_oci_containers(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sh", "-c", "while true; do sleep 1; done"])?;
    b.edit(|c| c["hostname"] = json!("oci-dash"))?;
    // The root containerd's shim gives the runtime for the test's namespace, which the
    // test's dashboard (of that namespace) reads.
    let root = Path::new("/run/containerd/runc").join(t.namespace());
    let run_dir = RunDir::take();
    let runc = |args: &[&str]| {
        let mut c = Command::new(&b.runc);
        c.arg("--root").arg(&root).args(args).stdin(Stdio::null());
        b.parking(c)
    };
    let out = runc(&["create", "--bundle", &b.path(), "dash1"])?;
    ensure(out.code == Some(0), format!("create: {out:?}"))?;
    let result = (|| {
        ensure_eq(runc(&["start", "dash1"])?.code, Some(0))?;
        let tmux = crate::tmux::Tmux::start(t, 160, 40)?;
        tmux.wait_for("dash1")?;
        tmux.wait_for("oci-dash")?;
        tmux.wait_for("An OCI container")?;
        // Its processes, as the container and the host number them.
        tmux.wait_for("Container processes: 2")?;
        // Nothing of this dashboard's own runs: it quits at once, and leaves the container.
        tmux.keys(&["C-a", "q"])?;
        tmux.wait_for("EXITED rc=0")?;
        ensure_eq(runc(&["state", "dash1"])?.code, Some(0))
    })();
    let _ = runc(&["delete", "-f", "dash1"]);
    let _ = std::fs::remove_dir(&root);
    drop(run_dir);
    result
}

/// CVE-2019-5736's attacker, in busybox sh: opens `/proc/PID/exe` of the process `find`
/// names (a command printing a PID), then tries for ten seconds to write through it, which
/// succeeds once nothing runs the file (ETXTBSY until then). Its verdict, in `RESULT`:
/// `refused-open`, `written` or `refused-write`.
const OVERWRITE: &str = r#"
until p=$(eval "$FIND") && [ -n "$p" ]; do sleep 0.05; done
if ! (: <"/proc/$p/exe") 2>/dev/null; then echo refused-open > "$RESULT"; exit 0; fi
exec 3<"/proc/$p/exe"
echo opened > "$RESULT.tmp"
i=0
while [ $i -lt 100 ]; do
    if (printf '#!/bin/sh\necho pwned\n' > /proc/self/fd/3) 2>/dev/null; then
        echo written > "$RESULT"; exit 0
    fi
    sleep 0.1; i=$((i+1))
done
echo refused-write > "$RESULT"
"#;

/// The attacker's verdict in `rootfs/tmp/NAME`, once given.
fn verdict(b: &Bundle, name: &str) -> Result<String, Failed> {
    let file = b.dir.path().join("rootfs/tmp").join(name);
    let mut verdict = String::new();
    wait_until("the attacker's verdict", || {
        verdict = std::fs::read_to_string(&file).unwrap_or_default();
        !verdict.is_empty()
    })?;
    Ok(verdict.trim().to_string())
}

/// A created container's init is parked as this binary; a process exec'd into the container
/// (with and without CAP_SYS_PTRACE) opens its `/proc/1/exe` and waits for `start` to let go
/// of the file. Without CAP_SYS_PTRACE it cannot open it (init is not dumpable); with it, it
/// reaches only a sealed copy. The runtime's binary stays byte for byte what it was.
fn binary_cannot_be_rewritten_from_an_exec(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sleep", "1000"])?;
    let original = b.own_binary()?;
    for (id, ptrace) in [("plain", false), ("ptrace", true)] {
        b.edit(|c| {
            c["root"]["readonly"] = json!(false);
            if ptrace {
                for set in ["bounding", "effective", "permitted"] {
                    if let Some(caps) = c["process"]["capabilities"][set].as_array_mut() {
                        caps.push(json!("CAP_SYS_PTRACE"));
                    }
                }
            }
        })?;
        let out = b.create(id)?;
        ensure(out.code == Some(0), format!("create: {out:?}"))?;
        let result = format!("/tmp/{id}");
        let mut exec = b.command(&[
            "exec",
            "--detach",
            "-e",
            "FIND=echo 1",
            "-e",
            &format!("RESULT={result}"),
            id,
            "sh",
            "-c",
            OVERWRITE,
        ]);
        exec.stdout(Stdio::null()).stderr(Stdio::null());
        ensure_eq(run(exec)?.code, Some(0))?;
        let opened = b.dir.path().join(format!("rootfs{result}.tmp"));
        let refused = b.dir.path().join(format!("rootfs{result}"));
        wait_until("the attacker to hold /proc/1/exe", || {
            opened.exists() || refused.exists()
        })?;
        ensure_eq(b.runc(&["start", id])?.code, Some(0))?;
        let expected = if ptrace {
            "refused-write"
        } else {
            "refused-open"
        };
        ensure_eq(verdict(&b, id)?, expected.to_string())?;
        let now = std::fs::read(&b.runc).map_err(|e| e.to_string())?;
        ensure(
            now == original,
            format!("{id}: the runtime's binary was rewritten"),
        )?;
        ensure_eq(b.runc(&["delete", "-f", id])?.code, Some(0))?;
    }
    Ok(())
}

/// Kubernetes' shared process namespace: a second container is created into the first's PID
/// namespace, so the first's processes see the second's parked init. They find it by its
/// command line and attack its `/proc/PID/exe` as above, with CAP_SYS_PTRACE.
fn binary_cannot_be_rewritten_through_a_shared_pid_namespace(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["sh", "-c", OVERWRITE])?;
    let original = b.own_binary()?;
    b.edit(|c| {
        c["root"]["readonly"] = json!(false);
        for set in ["bounding", "effective", "permitted"] {
            if let Some(caps) = c["process"]["capabilities"][set].as_array_mut() {
                caps.push(json!("CAP_SYS_PTRACE"));
            }
        }
        let env = c["process"]["env"].as_array_mut().expect("env");
        env.push(json!(
            "FIND=grep -l park[e]d /proc/[0-9]*/cmdline | head -1 | cut -d/ -f3"
        ));
        env.push(json!("RESULT=/tmp/shared"));
    })?;
    let out = b.parking(b.command(&["run", "--detach", "--bundle", &b.path(), "attacker"]))?;
    ensure(out.code == Some(0), format!("run: {out:?}"))?;
    let state: Value =
        serde_json::from_str(&b.runc(&["state", "attacker"])?.stdout).map_err(|e| e.to_string())?;
    let attacker = state["pid"].as_i64().ok_or("no pid")?;
    // The second bundle: the same root, in the attacker's PID namespace, parked.
    let second = b.dir.path().join("second");
    std::fs::create_dir(&second).map_err(|e| e.to_string())?;
    let mut config: Value = serde_json::from_str(
        &std::fs::read_to_string(b.dir.path().join("config.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    config["root"]["path"] = json!(b.dir.path().join("rootfs"));
    config["process"]["args"] = json!(["sleep", "1000"]);
    for ns in config["linux"]["namespaces"]
        .as_array_mut()
        .ok_or("namespaces")?
    {
        if ns["type"] == "pid" {
            ns["path"] = json!(format!("/proc/{attacker}/ns/pid"));
        }
    }
    std::fs::write(second.join("config.json"), config.to_string()).map_err(|e| e.to_string())?;
    let cmd = b.command(&["create", "--bundle", &second.to_string_lossy(), "parked"]);
    let out = b.parking(cmd)?;
    ensure(out.code == Some(0), format!("create: {out:?}"))?;
    let opened = b.dir.path().join("rootfs/tmp/shared.tmp");
    let refused = b.dir.path().join("rootfs/tmp/shared");
    wait_until("the attacker to hold the parked init's exe", || {
        opened.exists() || refused.exists()
    })?;
    ensure_eq(b.runc(&["start", "parked"])?.code, Some(0))?;
    ensure_eq(verdict(&b, "shared")?, "refused-write".to_string())?;
    let now = std::fs::read(&b.runc).map_err(|e| e.to_string())?;
    ensure(now == original, "the runtime's binary was rewritten")?;
    for id in ["parked", "attacker"] {
        ensure_eq(b.runc(&["delete", "-f", id])?.code, Some(0))?;
    }
    Ok(())
}

/// A bind of the host's `/proc/sys` over the container's (writable, past the read-only
/// path) would hand the container the host's sysctls: refused, as runc refuses every mount
/// inside `/proc` but its list, also when the destination reaches `/proc` through a symlink.
/// A config.json of more than 8 MiB is refused before it is parsed.
fn proc_mounts_are_runcs_list_alone_and_configs_are_capped(t: &Ctx) -> TestResult {
    let b = Bundle::new(t, &["true"])?;
    std::os::unix::fs::symlink("/proc/sys", b.dir.path().join("rootfs/sysctl"))
        .map_err(|e| e.to_string())?;
    for dest in [
        "/proc/sys",
        "/proc/../proc/sys/kernel",
        "/sysctl/kernel",
        "/proc",
    ] {
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": dest, "type": "bind", "source": "/proc/sys",
                "options": ["rbind", "rw"]
            }));
        })?;
        let out = run(b.command(&["run", "--bundle", &b.path(), "p1"]))?;
        ensure(
            out.code == Some(1) && out.stderr.trim().lines().count() == 1,
            format!("{dest}: {out:?}"),
        )?;
        ensure(
            out.stderr.contains("inside /proc")
                || out.stderr.contains("only be mounted as proc")
                || out.stderr.contains("symlink"),
            format!("{dest}: {}", out.stderr),
        )?;
        ensure(!Path::new(&b.root()).join("p1").exists(), "state left")?;
        b.edit(|c| {
            c["mounts"].as_array_mut().unwrap().pop();
        })?;
    }
    b.edit(|c| c["annotations"] = json!({"padding": "x".repeat(9 << 20)}))?;
    let out = run(b.command(&["run", "--bundle", &b.path(), "p3"]))?;
    ensure(
        out.code == Some(1) && out.stderr.contains("larger than 8 MiB"),
        format!("a 9 MiB config: {:?}", out.stderr),
    )
}

/// Every device node of the host's `/dev`, as containerd's `WithHostDevices` lists them for a
/// privileged container (its subdirectories and the console left out): `/dev/ptmx` among them.
fn host_devices() -> Result<Vec<Value>, Failed> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut devices = Vec::new();
    for entry in std::fs::read_dir("/dev")
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let kind = match meta.file_type() {
            f if f.is_char_device() => "c",
            f if f.is_block_device() => "b",
            _ => continue,
        };
        if name == "console" {
            continue;
        }
        let rdev = meta.rdev();
        devices.push(json!({
            "path": format!("/dev/{name}"),
            "type": kind,
            "major": nix::sys::stat::major(rdev),
            "minor": nix::sys::stat::minor(rdev),
            "fileMode": meta.mode() & 0o777,
            "uid": 0,
            "gid": 0,
        }));
    }
    Ok(devices)
}

/// A privileged container as Kubernetes asks for one through containerd's CRI: every device
/// of the host in `linux.devices`, `/dev/ptmx` among them, and every device allowed. Creating
/// it failed (`cannot create /dev/ptmx: File exists`), which failed five of critest's specs.
/// The listed ptmx gives way to the link into the container's own devpts, as in runc (a node
/// 5:2 would open the host's pty multiplexer), and the other nodes are made.
fn kubernetes_privileged_devices(t: &Ctx) -> TestResult {
    let devices = host_devices()?;
    ensure(
        devices.iter().any(|d| d["path"] == "/dev/ptmx"),
        "the host has no /dev/ptmx node to list",
    )?;
    // A node of the host's that is none of the defaults: it must be made.
    let defaults = ["null", "zero", "full", "random", "urandom", "tty", "ptmx"];
    let other = devices
        .iter()
        .filter_map(|d| d["path"].as_str()?.strip_prefix("/dev/"))
        .find(|name| !defaults.contains(name))
        .ok_or("the host has no device beyond the defaults")?
        .to_string();
    let script = format!(
        "readlink /dev/ptmx; test -c /dev/{other} -o -b /dev/{other} && echo made; \
         ls /dev/pts/ptmx >/dev/null && echo ours"
    );
    let b = Bundle::new(t, &["sh", "-c", &script])?;
    b.edit(|c| {
        c["linux"]["devices"] = json!(devices);
        c["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "rwm"}]);
    })?;
    let out = b.run_to_end("privileged1")?;
    ensure(out.code == Some(0), format!("run: {out:?}"))?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    ensure(lines == ["pts/ptmx", "made", "ours"], format!("{out:?}"))
}

/// A host directory made a shared mount of its own (the test's, unmounted when dropped with
/// everything under it), as a kubelet's volumes sit on a shared `/`.
struct SharedMount(PathBuf);

impl SharedMount {
    fn new(dir: &Path) -> Result<SharedMount, Failed> {
        use nix::mount::{MsFlags, mount};
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| format!("bind {}: {e}", dir.display()))?;
        let made = SharedMount(dir.to_path_buf());
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        )
        .map_err(|e| format!("make-shared {}: {e}", dir.display()))?;
        Ok(made)
    }

    /// Whether something is mounted at `rel` below it, in the host's mount table.
    fn mounted(&self, rel: &str) -> bool {
        let at = self.0.join(rel);
        let at = at.to_string_lossy();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(&*at))
    }
}

impl Drop for SharedMount {
    fn drop(&mut self) {
        for rel in ["mine", "sub", ""] {
            let at = self.0.join(rel);
            while nix::mount::umount2(&at, nix::mount::MntFlags::MNT_DETACH).is_ok() {}
        }
    }
}

/// Kubernetes' mount propagation as containerd writes it into a bundle: a volume `rslave`
/// under an `rslave` root (HostToContainer) receives what the host mounts under its source
/// after the container started, and nothing the container mounts reaches the host; `rshared`
/// (Bidirectional, privileged pods') carries both ways. runc's order: every mount a slave of
/// the host's from the start (or as `rootfsPropagation` says), never private, which cut the
/// volume off from the host (critest's two propagation specs failed so).
fn mount_propagation_follows_the_bundle(t: &Ctx) -> TestResult {
    const SCRIPT: &str = "touch /vol/ready; i=0; \
        while [ ! -e /vol/sub/flag ]; do sleep 0.05; i=$((i+1)); [ $i -gt 400 ] && exit 3; done; \
        echo seen; mkdir /vol/mine && mount -t tmpfs tmpfs /vol/mine && echo mounted";
    for mode in ["rslave", "rshared"] {
        let host = TempDir::new(&format!("oci-propagation-{mode}-{}", t.namespace()))?;
        let shared = SharedMount::new(host.path())?;
        let b = Bundle::new(t, &["sh", "-c", SCRIPT])?;
        b.edit(|c| {
            c["root"]["readonly"] = json!(false);
            c["linux"]["rootfsPropagation"] = json!(mode);
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/vol",
                "type": "bind",
                "source": host.path(),
                "options": ["rbind", mode],
            }));
            for set in ["bounding", "effective", "permitted"] {
                c["process"]["capabilities"][set]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("CAP_SYS_ADMIN"));
            }
        })?;
        let id = format!("prop-{mode}");
        let out = std::thread::scope(|s| {
            let running = s.spawn(|| b.run_to_end(&id));
            // Once the container is up: a mount on the host, under the volume's source.
            let up = wait_until("the container to start", || {
                host.path().join("ready").exists() || running.is_finished()
            });
            let sub = host.path().join("sub");
            let mounted = up.and_then(|()| {
                std::fs::create_dir(&sub).map_err(|e| e.to_string())?;
                nix::mount::mount(
                    Some("tmpfs"),
                    &sub,
                    Some("tmpfs"),
                    nix::mount::MsFlags::empty(),
                    None::<&str>,
                )
                .map_err(|e| format!("mount on the host: {e}"))?;
                std::fs::write(sub.join("flag"), "").map_err(|e| e.to_string().into())
            });
            let out = running.join().map_err(|_| "run panicked")?;
            mounted?;
            out
        })?;
        ensure(
            out.code == Some(0) && out.stdout == "seen\nmounted\n",
            format!("{mode}: the host's mount did not reach the container: {out:?}"),
        )?;
        // The container's mount, made before it ended: on the host only when shared.
        ensure_eq((mode, shared.mounted("mine")), (mode, mode == "rshared"))?;
        drop(shared);
        ensure(
            !Path::new(&b.root()).join(&id).exists(),
            format!("{mode}: state left"),
        )?;
    }
    Ok(())
}
