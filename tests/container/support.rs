//! What every end-to-end test needs: the real binary, a marker to find its processes, a root
//! check that reports the test as ignored (with the reason) when not root, and a check that
//! the test left nothing on the host.

use libtest_mimic::{Completion, Failed, Trial};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub type TestResult = Result<(), Failed>;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_my-container-tui");

/// How long any single wait in a test may take before it counts as a hang.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One test's context: its name doubles as a marker placed in its containers' environment.
pub struct Ctx {
    pub name: String,
}

impl Ctx {
    /// The marker (`MCT_TEST=<name>;`, the `;` ending it) every container of this test carries.
    pub fn marker(&self) -> String {
        format!("MCT_TEST={};", self.name)
    }

    /// The container namespace (`MCT_NAMESPACE`) of this test's runs: its `ps`, names and
    /// dashboards see only its own containers, whatever other tests run meanwhile.
    pub fn namespace(&self) -> String {
        self.name.replace("::", "-")
    }

    /// The environment every run of this test gets: its namespace, and the marker (which
    /// monitors and helpers inherit, so the leftover check finds them too).
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("MCT_NAMESPACE", self.namespace()),
            ("MCT_TEST", format!("{};", self.name)),
        ]
    }

    /// `my-container-tui -e MCT_TEST=<name> ARGS...`, with stdin closed unless set later.
    pub fn tool(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("-e").arg(self.marker()).args(args);
        cmd.envs(self.env());
        cmd.stdin(Stdio::null());
        cmd
    }

    /// `my-container-tui VERB ARGS...` (a lifecycle verb: `ps`, `exec`, `rm`, ...), in this
    /// test's namespace.
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args).envs(self.env());
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Removes (with `rm -f`) the containers of this test's namespace; their ids.
    pub fn containers_left(&self) -> Vec<String> {
        let ids: Vec<String> = self
            .verb(&["ps", "-aq"])
            .map(|o| o.stdout.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = self.verb(&args);
        }
        ids
    }

    /// Runs a lifecycle verb to the end.
    pub fn verb(&self, args: &[&str]) -> Result<Output, Failed> {
        run(self.cli(args))
    }

    /// Runs `my-container-tui ARGS...` to the end.
    pub fn run(&self, args: &[&str]) -> Result<Output, Failed> {
        run(self.tool(args))
    }

    /// A fresh busybox rootfs (built by the tool) in a scratch directory: (the directory, the
    /// rootfs path inside it).
    pub fn busybox_rootfs(&self) -> Result<(TempDir, String), Failed> {
        let dir = TempDir::new(&format!("rootfs-{}", self.name.replace(':', "-")))?;
        let root = dir.path().join("root").to_string_lossy().into_owned();
        self.run(&["rootfs", "busybox", &root])?.success()?;
        Ok((dir, root))
    }

    /// Processes on the host that belong to this test (the tool, its helper, its containers).
    pub fn processes(&self) -> Vec<Proc> {
        let marker = self.marker();
        procs().into_iter().filter(|p| p.carries(&marker)).collect()
    }
}

/// A running child that is killed and reaped if the test ends (or fails) before it does.
pub struct Running(pub std::process::Child);

impl Running {
    pub fn spawn(cmd: &mut Command) -> Result<Running, Failed> {
        // A binary a test has just written (its own `mct-runc`) is busy while another test
        // thread's fork still holds the write descriptor, until that child execs: a moment.
        let mut tries = 0;
        loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                spawned => {
                    return spawned
                        .map(Running)
                        .map_err(|e| format!("spawn {cmd:?}: {e}").into());
                }
            }
        }
    }
}

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// What a finished command gave.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Fails unless the command exited 0.
    pub fn success(self) -> Result<Output, Failed> {
        self.expect_code(0)
    }

    /// Fails unless the command exited with `code`.
    pub fn expect_code(self, code: i32) -> Result<Output, Failed> {
        if self.code == Some(code) {
            Ok(self)
        } else {
            let cut = |s: &str| s.chars().take(500).collect::<String>();
            Err(format!(
                "expected exit code {code}, got {:?}; stdout: {:?}; stderr: {:?}",
                self.code,
                cut(&self.stdout),
                cut(&self.stderr)
            )
            .into())
        }
    }

    /// Fails unless stderr is exactly one line, saying `what`, prefixed with the tool's name.
    pub fn one_line_error(&self, what: &str) -> TestResult {
        let lines: Vec<&str> = self.stderr.lines().collect();
        ensure(
            lines.len() == 1
                && lines[0].starts_with("my-container-tui: ")
                && lines[0].contains(what),
            format!(
                "expected one error line containing {what:?}, got {:?}",
                self.stderr
            ),
        )
    }
}

/// Runs `cmd` with piped output, killing it if it outlives [`PATIENCE`].
pub fn run(mut cmd: Command) -> Result<Output, Failed> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = Running::spawn(&mut cmd)?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = wait_child(&mut child)?;
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    Ok(Output {
        code: status.code(),
        stdout: text(out_t.join().unwrap()),
        stderr: text(err_t.join().unwrap()),
    })
}

/// Waits for `child`, killing it after [`PATIENCE`].
pub fn wait_child(child: &mut std::process::Child) -> Result<std::process::ExitStatus, Failed> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the command hung and was killed".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `cond` until it holds; fails with `what` after [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) -> TestResult {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > PATIENCE {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// `Ok` when `cond`, else a failure saying `msg`.
pub fn ensure(cond: bool, msg: impl std::fmt::Display) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(msg.to_string().into())
    }
}

/// Fails unless `actual == expected`, showing both.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(actual: T, expected: T) -> TestResult {
    ensure(
        actual == expected,
        format!("expected {expected:?}, got {actual:?}"),
    )
}

/// A process on the host, as `/proc` shows it.
#[derive(Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    /// The one-letter state: R running, S sleeping, T stopped, Z zombie, ...
    pub state: char,
    /// `NSpid`: the PID in each namespace from the host's down to the process's own.
    pub nspid: Vec<i32>,
    pub cmdline: Vec<String>,
    environ: Vec<u8>,
}

impl std::fmt::Debug for Proc {
    /// Without the environment: it is long, and a test's failure message need not carry it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proc")
            .field("pid", &self.pid)
            .field("ppid", &self.ppid)
            .field("state", &self.state)
            .field("nspid", &self.nspid)
            .field("cmdline", &self.cmdline)
            .finish()
    }
}

impl Proc {
    fn carries(&self, marker: &str) -> bool {
        let hay = [self.environ.as_slice(), self.cmdline.join("\0").as_bytes()].concat();
        hay.windows(marker.len()).any(|w| w == marker.as_bytes())
    }
}

/// Every process on the host.
pub fn procs() -> Vec<Proc> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // Read as bytes: a process's name in it is any bytes it chose, and a process must
        // not hide from the suite's checks by choosing some that are not UTF-8.
        let Ok(status) = std::fs::read(format!("/proc/{pid}/status")) else {
            continue;
        };
        let status = String::from_utf8_lossy(&status);
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| {
                    v.split_whitespace()
                        .filter_map(|n| n.parse().ok())
                        .collect::<Vec<i32>>()
                })
                .unwrap_or_default()
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        out.push(Proc {
            pid,
            ppid: field("PPid:").first().copied().unwrap_or(0),
            state: status
                .lines()
                .find_map(|l| l.strip_prefix("State:"))
                .and_then(|v| v.trim_start().chars().next())
                .unwrap_or('?'),
            nspid: field("NSpid:"),
            cmdline: cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
            environ: std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default(),
        });
    }
    out
}

/// The host's mounts that a run of ours could have made, were one to leak out of a container
/// (other software on the host mounts things too, elsewhere): at the container's own mount
/// points (`/`, `/proc`, `/sys`, `/dev`, the private `/tmp`, `/run`, `/var/tmp`, `/root`), in
/// our state tree and scratch directories, or naming them. Without the per-mount IDs, which
/// may be reused.
pub fn mounts() -> Vec<String> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let scratch = scratch_root().to_string_lossy().into_owned();
    let ours = |row: &str| {
        let point = row.split(' ').next().unwrap_or("");
        ["/", "/tmp", "/run", "/var/tmp", "/root"].contains(&point)
            || [
                "/proc",
                "/sys",
                "/dev",
                "/run/my-container-tui",
                scratch.as_str(),
            ]
            .iter()
            .any(|p| point == *p || point.starts_with(&format!("{p}/")))
            || row.contains("my-container")
            || row.contains("mct-")
    };
    let mut rows: Vec<String> = table
        .lines()
        .map(|l| l.split(' ').skip(4).collect::<Vec<_>>().join(" "))
        .filter(|r| ours(r))
        .collect();
    rows.sort();
    rows
}

/// Where the tests keep scratch directories: somewhere a container without a rootfs sees at
/// the same path (read-only), so not under /tmp, /var/tmp, /run or /root, which it sees as
/// private tmpfs of its own. Cargo's per-target scratch directory, unless the checkout itself
/// lies under one of those (a clone in /tmp); then a directory of ours in /var/lib, removed
/// when the run ends.
pub fn scratch_root() -> std::path::PathBuf {
    let target = env!("CARGO_TARGET_TMPDIR");
    if visible_inside(target) {
        target.into()
    } else {
        FALLBACK_SCRATCH.into()
    }
}

/// The scratch root for checkouts that containers cannot see.
pub const FALLBACK_SCRATCH: &str = "/var/lib/my-container-tui-tests";

/// True when `path` is visible at the same path inside a container without a rootfs.
pub fn visible_inside(path: &str) -> bool {
    use my_container_tui::runtime::hostview::PRIVATE_DIRS;
    !PRIVATE_DIRS
        .iter()
        .any(|dir| std::path::Path::new(path).starts_with(dir.path))
}

/// Names that this project may create in the temporary directory, the scratch root and the
/// state tree (`mct-*`, `my-container*`, and every state entry).
pub fn temp_entries() -> std::collections::BTreeSet<String> {
    let names = |dir: std::path::PathBuf| {
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(move |e| format!("{}/{}", dir.display(), e.file_name().to_string_lossy()))
    };
    names(std::env::temp_dir())
        .chain(names(scratch_root()))
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or("");
            base.starts_with("mct-") || base.starts_with("my-container")
        })
        .chain(names("/run/my-container-tui".into()))
        .collect()
}

/// Our cgroup directories (`my-container-tui`) in any hierarchy.
pub fn our_cgroups() -> Vec<std::path::PathBuf> {
    let roots = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    std::iter::once(std::path::PathBuf::from("/sys/fs/cgroup"))
        .chain(roots)
        .map(|r| r.join("my-container-tui"))
        .filter(|p| p.exists())
        .collect()
}

/// [`our_cgroups`] and the containers' directories in them.
pub fn our_cgroup_dirs() -> std::collections::BTreeSet<std::path::PathBuf> {
    let parents = our_cgroups();
    let children: Vec<std::path::PathBuf> = parents
        .iter()
        .flat_map(|p| std::fs::read_dir(p).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|c| c.is_dir())
        .collect();
    parents.into_iter().chain(children).collect()
}

/// The id of the container that the foreground tool with PID `tool` runs: its record names
/// the tool as its owner. Waits for the record to appear.
pub fn container_of(tool: u32) -> Result<String, Failed> {
    let mut id = None;
    wait_until("the container's record", || {
        id = my_container_tui::runtime::reclaim::list()
            .into_iter()
            .find(|r| r.owner.is_some_and(|o| o.pid == tool as i32))
            .map(|r| r.id);
        id.is_some()
    })?;
    Ok(id.unwrap_or_default())
}

/// Makes `path` look an hour old (past the grace the tool gives a cgroup or directory that
/// has no record yet), as what a crash left long ago would be.
pub fn age(path: &std::path::Path) -> Result<(), Failed> {
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::open(path)
        .and_then(|f| f.set_modified(hour_ago))
        .map_err(|e| format!("cannot age {}: {e}", path.display()).into())
}

/// An id of the form the tool makes that no container has.
pub fn unused_id() -> String {
    format!("{:064x}", 0xdead_u32)
}

/// True when running as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A test that needs root: ignored, with the reason, when not root; otherwise run and then
/// checked for leftovers: no process of the test alive, the host's mounts unchanged.
pub fn as_root(name: &str, test: fn(&Ctx) -> TestResult) -> Trial {
    let ctx = Ctx {
        name: name.to_string(),
    };
    Trial::ignorable_test(name, move || {
        if !is_root() {
            return Ok(Completion::ignored_with(
                "needs root (namespaces, mounts): run the tests as root, e.g. sudo -E cargo test",
            ));
        }
        let before = mounts();
        let started = Instant::now();
        let result = test(&ctx);
        let ran = started.elapsed();
        // Containers of the test's namespace still there: removed either way, and a leak
        // when the test passed.
        let left = ctx.containers_left();
        result?;
        ensure(left.is_empty(), format!("containers left: {left:?}"))?;
        wait_until("the test's processes to end", || ctx.processes().is_empty())
            .map_err(|_| format!("left running: {:?}", ctx.processes()))?;
        if std::env::var_os("MCT_TEST_TIMES").is_some() {
            eprintln!(
                "{} ms (+{} ms to clean up): {}",
                ran.as_millis(),
                (started.elapsed() - ran).as_millis(),
                ctx.name
            );
        }
        // Another test's scratch mounts (its containerd unpacking a snapshot) come and go
        // meanwhile: not this test's to answer for.
        let own = ctx
            .name
            .rsplit("::")
            .next()
            .unwrap_or(&ctx.name)
            .to_string();
        let this_tests = |rows: Vec<String>| -> Vec<String> {
            rows.into_iter()
                .filter(|r| !r.contains("/mct-test-") || r.contains(&own))
                .collect()
        };
        let (before, after) = (this_tests(before), this_tests(mounts()));
        ensure(
            before == after,
            format!("host mounts changed: {before:?} -> {after:?}"),
        )?;
        Ok(Completion::Completed)
    })
}

/// Lists test functions as root-only trials named after them.
#[macro_export]
macro_rules! root_tests {
    ($($f:ident),* $(,)?) => {
        vec![$($crate::support::as_root(concat!(module_path!(), "::", stringify!($f)).trim_start_matches("container::"), $f)),*]
    };
}

/// A scratch directory on the host, removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<TempDir, String> {
        let path = scratch_root().join(format!("mct-test-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Writes `contents` to `name` inside, with permission bits `mode`; returns its path.
    pub fn file(&self, name: &str, contents: &[u8], mode: u32) -> Result<String, String> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        std::fs::write(&path, contents)
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.to_string_lossy().into_owned())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `net.ipv4.ip_forward` now.
pub fn ip_forward() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// What of the tool's networking is on the host: its bridges (`mct0`, `mct-` and 11 hex
/// digits), its veths (`veth` and 11 hex digits), the CRI tests' pod bridges (`mctcriN-PID`),
/// its nftables table, its lease record, and `ip_forward` if it differs from `before`.
pub fn network_leftovers(before: &str) -> Vec<String> {
    let mut left = Vec::new();
    let ours = |name: &str| {
        let hex11 = |rest: &str| rest.len() == 11 && rest.chars().all(|c| c.is_ascii_hexdigit());
        let digits = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
        name == "mct0"
            || name.strip_prefix("mct-").is_some_and(hex11)
            || name.strip_prefix("veth").is_some_and(hex11)
            || name
                .strip_prefix("mctcri")
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(n, pid)| digits(n) && digits(pid))
    };
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if ours(&name) {
                left.push(format!("link {name}"));
            }
        }
    }
    let tables = Command::new("nft").args(["list", "tables"]).output();
    if tables.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("my-container-tui")) {
        left.push("nft table my-container-tui".into());
    }
    if std::path::Path::new("/run/my-container-tui/net").exists() {
        left.push("/run/my-container-tui/net".into());
    }
    let now = ip_forward();
    if now != before {
        left.push(format!("ip_forward {before} -> {now}"));
    }
    left
}

/// `sh -c SCRIPT attack ARGS...` as uid and gid 65534 with no supplementary groups: another
/// local user, for the attacks on what root's files leave reachable.
pub fn as_nobody(script: &str, args: &[&str]) -> Result<std::process::Output, Failed> {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
            "attack",
        ])
        .args(args)
        .output()
        .map_err(|e| e.to_string().into())
}
