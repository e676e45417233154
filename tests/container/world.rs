//! Network fixtures: a host of the test's own, and an outside world beside it.
//!
//! [`World`] is a network namespace and a mount namespace with an empty `/run`: the tool run
//! in it makes its bridges, nftables table, leases and `ip_forward` there, so a test can
//! check that they come and go without another test's containers holding them up, and fixed
//! ports collide with nothing. [`Outside`] is a second network namespace joined to the world
//! by a veth (the world's end `xo0`, 198.51.100.1/24; the outside's `eth0`, .2), with a route
//! back: the rest of the Internet, as far as a container can tell. Traffic goes nowhere else.

use crate::support::{BIN, Ctx, Output, Running, TempDir, ensure, run};
use libtest_mimic::Failed;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The world's address on the link to the outside.
pub const WORLD_IP: &str = "198.51.100.1";
/// The outside's address.
pub const OUTSIDE_IP: &str = "198.51.100.2";

/// A process holding a namespace, killed when dropped.
struct Holder {
    /// Killed (and reaped) when dropped: the namespace goes with its last process.
    _child: Running,
    pid: u32,
}

impl Holder {
    /// `unshare FLAGS sh -c SETUP`, then holds until killed.
    fn start(flags: &[&str], setup: &str) -> Result<Holder, Failed> {
        let mut cmd = Command::new("unshare");
        cmd.args(flags)
            .args([
                "sh",
                "-c",
                &format!("{setup} && echo ready && exec sleep 600"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = Running::spawn(&mut cmd)?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        ensure(
            line.trim() == "ready",
            format!("namespace setup failed: {line:?}"),
        )?;
        let pid = child.id();
        Ok(Holder { _child: child, pid })
    }
}

/// A host of the test's own.
pub struct World {
    holder: Holder,
    /// `ip_forward` as the namespace was made with it.
    ip_forward: String,
    env: Vec<(&'static str, String)>,
    marker: String,
    _root: TempDir,
}

impl World {
    pub fn new(ctx: &Ctx) -> Result<World, Failed> {
        let holder = Holder::start(
            &["--net", "--mount", "--propagation", "private"],
            "mount -t tmpfs -o mode=0755 tmpfs /run && ip link set lo up",
        )?;
        // Its own store too: user networks (state that outlives containers) are the world's.
        let root = TempDir::new(&format!("world-{}", ctx.namespace()))?;
        let mut env = ctx.env().to_vec();
        env.push(("MCT_ROOT", root.path().to_string_lossy().into_owned()));
        let mut world = World {
            holder,
            ip_forward: String::new(),
            env,
            marker: ctx.marker(),
            _root: root,
        };
        // A new namespace takes ip_forward from the host's as it is at that moment (which
        // other tests' bridged runs turn on and off).
        world.ip_forward = world.sh("cat /proc/sys/net/ipv4/ip_forward")?;
        Ok(world)
    }

    /// `PROGRAM ARGS` in the world.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t")
            .arg(self.holder.pid.to_string())
            .args(["-n", "-m", "--", program])
            .args(args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null());
        cmd
    }

    /// `my-container-tui -e MCT_TEST=... ARGS` in the world.
    pub fn tool(&self, args: &[&str]) -> Command {
        let mut all = vec!["-e", &self.marker];
        all.extend(args);
        self.command(BIN, &all)
    }

    /// Runs the tool to the end.
    pub fn run(&self, args: &[&str]) -> Result<Output, Failed> {
        run(self.tool(args))
    }

    /// A lifecycle verb (`ps`, `rm`, `inspect`, `network`) in the world.
    pub fn verb(&self, args: &[&str]) -> Result<Output, Failed> {
        run(self.command(BIN, args))
    }

    /// `sh -c SCRIPT` in the world; its stdout, trimmed.
    pub fn sh(&self, script: &str) -> Result<String, Failed> {
        let out = run(self.command("sh", &["-c", script]))?;
        Ok(out.stdout.trim().to_string())
    }

    /// Runs the tool, which must refuse: exit 125 and one error line saying `what`.
    pub fn refused(&self, args: &[&str], what: &str) -> Result<(), Failed> {
        self.run(args)?.expect_code(125)?.one_line_error(what)
    }

    /// Removes the test's `containers` (`rm -f`), then waits for the world to be clean.
    pub fn finish(&self, containers: &[&str]) -> Result<(), Failed> {
        let mut args = vec!["rm", "-f"];
        args.extend(containers);
        self.verb(&args)?.success()?;
        self.wait_clean()
    }

    /// A field of `inspect NAME`'s `NetworkSettings`.
    pub fn network_setting(&self, name: &str, field: &str) -> Result<String, Failed> {
        let out = self.verb(&["inspect", name])?.success()?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
        Ok(match &v[0]["NetworkSettings"][field] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// What of the tool's is in the world's network: its links (bridges, veths), its nftables
    /// table, its lease record, and `ip_forward` if not as the world was made.
    pub fn leftovers(&self) -> Result<Vec<String>, Failed> {
        let mut left = Vec::new();
        let links = self.sh("ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1")?;
        left.extend(
            links
                .lines()
                .filter(|l| l.starts_with("mct") || l.starts_with("veth"))
                .map(|l| format!("link {l}")),
        );
        let tables = self.sh("nft list tables")?;
        if tables.contains("my-container-tui") {
            left.push("nft table".into());
        }
        if self.sh("test -e /run/my-container-tui/net && echo yes")? == "yes" {
            left.push("lease record".into());
        }
        let now = self.sh("cat /proc/sys/net/ipv4/ip_forward")?;
        if now != self.ip_forward {
            left.push(format!("ip_forward {} -> {now}", self.ip_forward));
        }
        Ok(left)
    }

    /// Waits until [`Self::leftovers`] is empty (the cleaner runs after the tool returns).
    pub fn wait_clean(&self) -> Result<(), Failed> {
        let mut last = Vec::new();
        let done = crate::support::wait_until("the world's network to be clean", || {
            last = self.leftovers().unwrap_or_else(|e| vec![format!("{e:?}")]);
            last.is_empty()
        });
        done.map_err(|_| format!("left in the world: {last:?}").into())
    }

    /// Runs `f` on a thread inside the world's network namespace.
    pub fn within<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<Result<T, String>> {
        within(self.holder.pid, f)
    }

    /// The outside world, joined to this one.
    pub fn outside(&self) -> Result<Outside, Failed> {
        let holder = Holder::start(&["--net"], "ip link set lo up")?;
        let make = Command::new("ip")
            .args(["link", "add", "xo0", "netns"])
            .arg(self.holder.pid.to_string())
            .args(["type", "veth", "peer", "name", "eth0", "netns"])
            .arg(holder.pid.to_string())
            .output()
            .map_err(|e| e.to_string())?;
        ensure(make.status.success(), format!("ip link add: {make:?}"))?;
        self.sh(&format!(
            "ip addr add {WORLD_IP}/24 dev xo0 && ip link set xo0 up && echo ok"
        ))
        .and_then(|o| ensure(o == "ok", format!("world side: {o}")))?;
        let out = Command::new("nsenter")
            .arg("-t")
            .arg(holder.pid.to_string())
            .args(["-n", "sh", "-c"])
            .arg(format!(
                "ip addr add {OUTSIDE_IP}/24 dev eth0 && ip link set eth0 up && ip route add default via {WORLD_IP}"
            ))
            .output()
            .map_err(|e| e.to_string())?;
        ensure(out.status.success(), format!("outside side: {out:?}"))?;
        Ok(Outside { holder })
    }
}

impl Drop for World {
    /// Removes the world's containers (the harness's own check looks at the host's store,
    /// which does not see them), then lets the namespaces go.
    fn drop(&mut self) {
        if let Ok(out) = self.verb(&["ps", "-aq"]) {
            let ids: Vec<&str> = out.stdout.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = self.verb(&args);
            }
        }
    }
}

/// The outside world: one namespace, one address.
pub struct Outside {
    holder: Holder,
}

impl Outside {
    /// Runs `f` on a thread inside the outside's network namespace.
    pub fn within<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<Result<T, String>> {
        within(self.holder.pid, f)
    }

    /// A TCP server on the outside's address at `port` that answers one connection with
    /// `hello` and returns the peer's address as it saw it.
    pub fn serve_once(
        &self,
        port: u16,
    ) -> Result<std::thread::JoinHandle<Result<SocketAddr, String>>, Failed> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = self.within(move || -> Result<SocketAddr, String> {
            let listener = TcpListener::bind((OUTSIDE_IP, port)).map_err(|e| e.to_string())?;
            let _ = ready_tx.send(());
            listener.set_nonblocking(false).map_err(|e| e.to_string())?;
            let (mut conn, peer) = accept_within(&listener, crate::support::PATIENCE)?;
            let _ = conn.write_all(b"hello\n");
            Ok(peer)
        });
        let handle = std::thread::spawn(move || {
            handle
                .join()
                .map_err(|_| "panicked".to_string())?
                .and_then(|r| r)
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the outside server did not start")?;
        Ok(handle)
    }
}

fn accept_within(
    listener: &TcpListener,
    patience: Duration,
) -> Result<(TcpStream, SocketAddr), String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    loop {
        match listener.accept() {
            Ok((conn, peer)) => {
                conn.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok((conn, peer));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if start.elapsed() > patience {
                    return Err("nobody connected".into());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs `f` on a new thread moved into the network namespace of process `pid`.
pub fn within<T: Send + 'static>(
    pid: u32,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<Result<T, String>> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"));
    std::thread::spawn(move || {
        let ns = ns.map_err(|e| e.to_string())?;
        // SAFETY: setns moves only this thread, which we own, into a namespace we opened.
        if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(f())
    })
}

/// The result of a thread from [`World::within`] or [`Outside::within`] that itself returns
/// a result: both failures as the test's.
pub fn joined<T>(
    handle: std::thread::JoinHandle<Result<Result<T, String>, String>>,
) -> Result<T, Failed> {
    Ok(handle.join().map_err(|_| "the thread panicked")???)
}

/// Connects to `addr` and reads until the peer closes (at most a few seconds); what it said.
/// A refused connection is tried again for a few seconds: a container just started may not
/// listen yet.
pub fn fetch(addr: &str) -> Result<String, String> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let start = std::time::Instant::now();
    let mut conn = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(conn) => break conn,
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && start.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("{addr}: {e}")),
        }
    };
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    conn.read_to_string(&mut text)
        .map_err(|e| format!("{addr}: {e}"))?;
    Ok(text)
}
