//! Networking, with real kernel networking in namespaces the tests make ([`World`]): a
//! bridged container reaches an outside server through NAT, published ports answer from the
//! outside and from the host's loopback, containers find each other by address and on user
//! networks by name, networks are isolated, and nothing is left after any kind of ending.

use crate::support::{Ctx, Running, TestResult, ensure, ensure_eq, wait_until};
use crate::world::{OUTSIDE_IP, WORLD_IP, World, fetch, joined};
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    crate::root_tests![
        bridged_container_reaches_the_outside_through_nat,
        published_ports_answer_from_outside_and_loopback,
        a_published_port_in_use_is_refused,
        a_udp_port_is_published,
        containers_reach_each_other_by_address_and_on_user_networks_by_name,
        user_networks_are_isolated_from_each_other,
        none_has_loopback_only_and_host_shares_the_hosts,
        container_mode_joins_another_containers_network,
        fifty_concurrent_starts_get_distinct_addresses,
        nothing_is_left_after_exit_error_or_sigkill,
        resolv_conf_skips_a_loopback_stub_and_hosts_names_the_container,
        network_verbs_manage_user_networks,
        crafted_frames_do_not_reach_the_hosts_loopback,
        a_container_cannot_spoof_addresses_on_the_bridge,
    ]
}

/// A container command that answers every TCP connection on `port` with `hello-from-NAME`
/// (busybox's persistent `nc` server: no gap between connections).
fn server_script(name: &str, port: u16) -> String {
    format!("exec nc -ll -p {port} -e echo hello-from-{name}")
}

fn bridged_container_reaches_the_outside_through_nat(ctx: &Ctx) -> TestResult {
    let (_dir, root) = ctx.busybox_rootfs()?;
    let world = World::new(ctx)?;
    let outside = world.outside()?;
    let server = outside.serve_once(8000)?;
    let out = world.run(&[
        "--rootfs",
        &root,
        "--run",
        &format!("ip -o -4 addr show eth0; nc {OUTSIDE_IP} 8000"),
    ])?;
    let out = out.success()?;
    ensure(
        out.stdout.contains("inet 172.17.0.2/16") && out.stdout.contains("hello"),
        format!("inside: {:?}", out.stdout),
    )?;
    // Masquerade proven: the server saw the world's own address, not the container's.
    let peer = server.join().map_err(|_| "server panicked")??;
    ensure_eq(peer.ip().to_string(), WORLD_IP.to_string())?;
    world.wait_clean()
}

fn published_ports_answer_from_outside_and_loopback(ctx: &Ctx) -> TestResult {
    let (_dir, root) = ctx.busybox_rootfs()?;
    let world = World::new(ctx)?;
    let outside = world.outside()?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1::81",
            "--rootfs",
            &root,
            "sh",
            "-c",
            &format!("{} & {}", server_script("81", 81), server_script("80", 80)),
        ])?
        .success()?;
    // `-p 127.0.0.1::81` took a free host port: inspect says which.
    let ports = world.network_setting("web", "Ports")?;
    let loopback_port = ports
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split("->").next())
        .ok_or(format!("ports: {ports}"))?
        .to_string();
    let ps = world.verb(&["ps"])?.success()?;
    ensure(
        ps.stdout.contains("0.0.0.0:8080->80/tcp, 127.0.0.1:") && ps.stdout.contains("->81/tcp"),
        format!("ps shows no ports:\n{}", ps.stdout),
    )?;
    let from_outside = outside.within(move || fetch(&format!("{WORLD_IP}:8080")));
    ensure_eq(joined(from_outside)?.trim(), "hello-from-80")?;
    let from_loopback = world.within(|| fetch("127.0.0.1:8080"));
    ensure_eq(joined(from_loopback)?.trim(), "hello-from-80")?;
    let port = loopback_port.clone();
    let bound_to_loopback = world.within(move || fetch(&format!("127.0.0.1:{port}")));
    ensure_eq(joined(bound_to_loopback)?.trim(), "hello-from-81")?;
    // Published on 127.0.0.1 only: not from the outside.
    let port = loopback_port.clone();
    let refused = outside.within(move || fetch(&format!("{WORLD_IP}:{port}")));
    ensure(
        joined(refused).is_err(),
        "a port published on 127.0.0.1 answered from outside",
    )?;
    world.finish(&["web"])
}

fn a_published_port_in_use_is_refused(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    world
        .run(&[
            "run", "-d", "--name", "first", "-p", "9000:80", "sleep", "100",
        ])?
        .success()?;
    world.refused(
        &["-p", "9000:80", "--run", "true"],
        "9000/tcp: the port is already in use",
    )?;
    // A host process's listener counts too, as Docker's proxy would find it.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (bound_tx, bound_rx) = std::sync::mpsc::channel::<bool>();
    let held = world.within(move || {
        let listener = std::net::TcpListener::bind("127.0.0.1:9001");
        let _ = bound_tx.send(listener.is_ok());
        let _ = rx.recv();
        drop(listener);
    });
    ensure(
        bound_rx.recv_timeout(std::time::Duration::from_secs(10)) == Ok(true),
        "a listener on 127.0.0.1:9001 in the world",
    )?;
    world.refused(&["-p", "9001:80", "--run", "true"], "already in use")?;
    let _ = tx.send(());
    let _ = held.join();
    world.finish(&["first"])
}

/// `-p HOST:CONTAINER/udp`: a datagram from the outside reaches a server in the container's
/// namespace (the test's own, on a thread moved in there) and its answer comes back; the
/// host port is held while the container runs.
fn a_udp_port_is_published(ctx: &Ctx) -> TestResult {
    use std::net::UdpSocket;
    use std::time::Duration;
    let world = World::new(ctx)?;
    let outside = world.outside()?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "dns",
            "-p",
            "5353:53/udp",
            "sleep",
            "100",
        ])?
        .success()?;
    let out = world.verb(&["inspect", "dns"])?.success()?;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
    let pid = v[0]["State"]["Pid"].as_u64().ok_or("no PID 1 in inspect")? as u32;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = crate::world::within(pid, move || -> Result<String, String> {
        let socket = UdpSocket::bind("0.0.0.0:53").map_err(|e| e.to_string())?;
        let _ = ready_tx.send(());
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        let (n, peer) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
        socket.send_to(b"pong", peer).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the server in the container's namespace did not start")?;
    let client = outside.within(|| -> Result<String, String> {
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        for _ in 0..20 {
            socket
                .send_to(b"ping", format!("{WORLD_IP}:5353"))
                .map_err(|e| e.to_string())?;
            if let Ok((n, _)) = socket.recv_from(&mut buf) {
                return Ok(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        Err("no answer".into())
    });
    ensure_eq(joined(client)?, "pong".to_string())?;
    ensure_eq(joined(server)?, "ping".to_string())?;
    world.refused(
        &["-p", "5353:53/udp", "--run", "true"],
        "5353/udp: the port is already in use",
    )?;
    world.finish(&["dns"])
}

fn containers_reach_each_other_by_address_and_on_user_networks_by_name(ctx: &Ctx) -> TestResult {
    let (_dir, root) = ctx.busybox_rootfs()?;
    let world = World::new(ctx)?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "a",
            "--rootfs",
            &root,
            "sh",
            "-c",
            &server_script("a", 80),
        ])?
        .success()?;
    let ip = world.network_setting("a", "IPAddress")?;
    let out = world
        .run(&["--rootfs", &root, "--run", &format!("nc {ip} 80")])?
        .success()?;
    ensure_eq(out.stdout.trim(), "hello-from-a")?;
    // By name on a user network, and by alias; a late peer appears in the first one's hosts.
    world.verb(&["network", "create", "app"])?.success()?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "db",
            "--network",
            "app",
            "--network-alias",
            "database",
            "--rootfs",
            &root,
            "sh",
            "-c",
            &server_script("db", 5432),
        ])?
        .success()?;
    let out = world
        .run(&[
            "--network",
            "app",
            "--rootfs",
            &root,
            "--run",
            "nc db 5432; nc database 5432",
        ])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "hello-from-db\nhello-from-db\n")?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "late",
            "--network",
            "app",
            "--rootfs",
            &root,
            "sleep",
            "100",
        ])?
        .success()?;
    let late_ip = world.network_setting("late", "IPAddress")?;
    let hosts = world
        .verb(&["exec", "db", "cat", "/etc/hosts"])?
        .success()?;
    ensure(
        hosts.stdout.contains(&format!("{late_ip}\tlate")),
        format!("db's /etc/hosts after late joined: {:?}", hosts.stdout),
    )?;
    // Renamed, it is reached by its new name alone (Docker's DNS answers for it at once).
    world.verb(&["rename", "late", "later"])?.success()?;
    let hosts = world
        .verb(&["exec", "db", "cat", "/etc/hosts"])?
        .success()?;
    ensure(
        hosts.stdout.contains(&format!("{late_ip}\tlater\n")) && !hosts.stdout.contains("\tlate\n"),
        format!(
            "db's /etc/hosts after late was renamed later: {:?}",
            hosts.stdout
        ),
    )?;
    world.verb(&["rm", "-f", "a", "db", "later"])?.success()?;
    world.verb(&["network", "rm", "app"])?.success()?;
    world.wait_clean()
}

fn user_networks_are_isolated_from_each_other(ctx: &Ctx) -> TestResult {
    let (_dir, root) = ctx.busybox_rootfs()?;
    let world = World::new(ctx)?;
    world.verb(&["network", "create", "red"])?.success()?;
    world.verb(&["network", "create", "blue"])?.success()?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "r",
            "--network",
            "red",
            "--rootfs",
            &root,
            "sh",
            "-c",
            &server_script("r", 80),
        ])?
        .success()?;
    let ip = world.network_setting("r", "IPAddress")?;
    let same = world
        .run(&[
            "--network",
            "red",
            "--rootfs",
            &root,
            "--run",
            &format!("nc {ip} 80"),
        ])?
        .success()?;
    ensure_eq(same.stdout.trim(), "hello-from-r")?;
    let other = world.run(&[
        "--network",
        "blue",
        "--rootfs",
        &root,
        "--run",
        &format!("nc -w 2 {ip} 80 </dev/null && echo reached || echo blocked"),
    ])?;
    ensure_eq(other.stdout.trim(), "blocked")?;
    world.verb(&["rm", "-f", "r"])?.success()?;
    world.verb(&["network", "rm", "red", "blue"])?.success()?;
    world.wait_clean()
}

fn none_has_loopback_only_and_host_shares_the_hosts(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    let none = world
        .run(&["--network", "none", "--run", "ls /sys/class/net"])?
        .success()?;
    ensure_eq(none.stdout.as_str(), "lo\n")?;
    let ping = world.run(&[
        "--network",
        "none",
        "--run",
        "ping -c1 -W1 127.0.0.1 >/dev/null && echo up",
    ])?;
    ensure_eq(ping.stdout.as_str(), "up\n")?;
    world.sh("ip link add dummy-host type bridge")?;
    let host = world.run(&[
        "--network",
        "host",
        "--run",
        "ip -o link show | grep -c dummy-host",
    ])?;
    ensure_eq(host.stdout.trim(), "1")?;
    // The same namespace, not a copy.
    let inode = world.sh("readlink /proc/self/ns/net")?;
    let inside = world
        .run(&["--network", "host", "--run", "readlink /proc/self/ns/net"])?
        .success()?;
    ensure_eq(inside.stdout.trim(), inode.as_str())?;
    world.wait_clean()
}

fn container_mode_joins_another_containers_network(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    world
        .run(&["run", "-d", "--name", "owner", "sleep", "100"])?
        .success()?;
    let theirs = world
        .verb(&["exec", "owner", "readlink", "/proc/self/ns/net"])?
        .success()?;
    let ours = world
        .run(&[
            "--network",
            "container:owner",
            "--run",
            "readlink /proc/self/ns/net; ip -o -4 addr show eth0 | wc -l",
        ])?
        .success()?;
    ensure_eq(ours.stdout, format!("{}1\n", theirs.stdout))?;
    world.refused(
        &["--network", "container:nobody", "--run", "true"],
        "nobody",
    )?;
    world.finish(&["owner"])
}

fn fifty_concurrent_starts_get_distinct_addresses(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    // Each holds its address until all fifty have one: a file they all wait for.
    let gate = crate::support::TempDir::new(&format!("gate-{}", ctx.namespace()))?;
    let go = gate.path().join("go");
    let script = format!(
        "ip -o -4 addr show eth0 | awk '{{print $4}}'; while [ ! -e {} ]; do sleep 0.05; done",
        go.display()
    );
    let mut children = Vec::new();
    for _ in 0..50 {
        let mut cmd = world.tool(&["--run", &script]);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        children.push(Running::spawn(&mut cmd)?);
    }
    wait_until("fifty leases", || {
        world
            .sh("grep -c '\"container\"' /run/my-container-tui/net/state.json")
            .is_ok_and(|n| n == "50")
    })?;
    std::fs::write(&go, "").map_err(|e| e.to_string())?;
    let mut addresses = std::collections::BTreeSet::new();
    for mut child in children {
        let status = crate::support::wait_child(&mut child)?;
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().ok_or("no stdout")?, &mut out)
            .map_err(|e| e.to_string())?;
        ensure(
            status.success(),
            format!("a start failed: {status:?} {out:?}"),
        )?;
        addresses.insert(out.trim().to_string());
    }
    ensure_eq(addresses.len(), 50)?;
    ensure(
        addresses
            .iter()
            .all(|a| a.starts_with("172.17.") && a.ends_with("/16")),
        format!("addresses: {addresses:?}"),
    )?;
    world.wait_clean()
}

fn nothing_is_left_after_exit_error_or_sigkill(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    world.run(&["-p", "7000:80", "--run", "true"])?.success()?;
    world.wait_clean()?;
    // Failing after the network is up (the command is missing) and while making it (an
    // address the host does not have).
    world
        .run(&["-p", "7000:80", "--run", "/no/such/command"])?
        .expect_code(127)?;
    world.wait_clean()?;
    world.refused(&["-p", "192.0.2.99:7000:80", "--run", "true"], "192.0.2.99")?;
    world.wait_clean()?;
    // The tool killed while its container runs: the cleaner releases everything.
    let mut cmd = world.tool(&["-p", "7000:80", "--run", "sleep 100"]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut tool = Running::spawn(&mut cmd)?;
    wait_until("the container's lease", || {
        world
            .sh("cat /run/my-container-tui/net/state.json 2>/dev/null")
            .is_ok_and(|s| s.contains("\"ip\""))
    })?;
    let tool_pid = world.sh("pgrep -f -n -- '-p 7000:80 --run sleep 100' || true")?;
    ensure(!tool_pid.is_empty(), "the tool's process")?;
    world.sh(&format!("kill -KILL {tool_pid}"))?;
    let _ = tool.wait();
    world.wait_clean()
}

fn resolv_conf_skips_a_loopback_stub_and_hosts_names_the_container(ctx: &Ctx) -> TestResult {
    let (_dir, root) = ctx.busybox_rootfs()?;
    let world = World::new(ctx)?;
    // The world's own resolver setup, as systemd-resolved leaves it.
    let files = crate::support::TempDir::new(&format!("resolv-{}", ctx.namespace()))?;
    let stub = files.file(
        "stub",
        b"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.test\n",
        0o644,
    )?;
    world.sh(&format!(
        "mount --bind {stub} /etc/resolv.conf && mkdir -p /run/systemd/resolve && printf 'nameserver 192.0.2.53\\nnameserver 127.0.0.1\\nsearch example.test\\n' > /run/systemd/resolve/resolv.conf"
    ))?;
    let out = world
        .run(&[
            "--rootfs",
            &root,
            "--hostname",
            "box",
            "--run",
            "cat /etc/resolv.conf; grep box /etc/hosts",
        ])?
        .success()?;
    ensure_eq(
        out.stdout.as_str(),
        "nameserver 192.0.2.53\nsearch example.test\n172.17.0.2\tbox\n",
    )?;
    world.wait_clean()
}

fn network_verbs_manage_user_networks(ctx: &Ctx) -> TestResult {
    let world = World::new(ctx)?;
    // Docker's MTU option: the bridge and both ends of each veth carry it; a bad one and an
    // unknown option are refused.
    world
        .verb(&[
            "network",
            "create",
            "one",
            "--subnet",
            "10.77.0.0/24",
            "-o",
            "com.docker.network.driver.mtu=9000",
        ])?
        .success()?;
    for (bad, says) in [
        ("mtu=70000", "is not an MTU from 68 to 65535"),
        ("parent=eth0", "\"parent\" is not known"),
    ] {
        world
            .verb(&["network", "create", "bad", "-o", bad])?
            .expect_code(125)?
            .one_line_error(says)?;
    }
    let overlap = world
        .verb(&["network", "create", "two", "--subnet", "10.77.0.128/25"])?
        .expect_code(1)?;
    overlap.one_line_error("overlaps network one")?;
    let reserved = world.verb(&["network", "create", "host"])?.expect_code(1)?;
    reserved.one_line_error("reserved")?;
    let ls = world.verb(&["network", "ls", "-q"])?.success()?;
    ensure_eq(ls.stdout.as_str(), "bridge\nhost\nnone\none\n")?;
    // A second store cannot know the first's definitions: while "one" is down it may define
    // the same subnet, but not bring it up once "one" is up (below).
    let other = crate::support::TempDir::new(&format!("store-b-{}", ctx.namespace()))?;
    let in_other = |args: &[&str]| {
        let mut cmd = world.command(crate::support::BIN, args);
        cmd.env("MCT_ROOT", other.path());
        crate::support::run(cmd)
    };
    in_other(&["network", "create", "twin", "--subnet", "10.77.0.0/24"])?.success()?;
    world
        .run(&[
            "run",
            "-d",
            "--name",
            "user",
            "--network",
            "one",
            "sleep",
            "100",
        ])?
        .success()?;
    ensure_eq(
        world.network_setting("user", "IPAddress")?,
        "10.77.0.2".to_string(),
    )?;
    let inside = world
        .verb(&["exec", "user", "cat", "/sys/class/net/eth0/mtu"])?
        .success()?;
    ensure_eq(inside.stdout.trim(), "9000")?;
    let inspected = world.verb(&["network", "inspect", "one"])?.success()?;
    ensure(
        inspected.stdout.contains("\"MTU\": 9000"),
        format!("inspect: {}", inspected.stdout),
    )?;
    let busy = world.verb(&["network", "rm", "one"])?.expect_code(1)?;
    busy.one_line_error("in use by user")?;
    world.refused(
        &["--network", "nowhere", "--run", "true"],
        "no such network: nowhere",
    )?;
    // Reserved ranges are no bridge's.
    for bad in ["224.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"] {
        world
            .verb(&["network", "create", "bad", "--subnet", bad])?
            .expect_code(125)?
            .one_line_error("which no bridge may use")?;
    }
    let mut twin = world.command(
        crate::support::BIN,
        &["-e", &ctx.marker(), "--network", "twin", "--run", "true"],
    );
    twin.env("MCT_ROOT", other.path());
    crate::support::run(twin)?
        .expect_code(125)?
        .one_line_error("overlaps network one's (10.77.0.0/24), which is up on this host")?;
    in_other(&["network", "rm", "twin"])?.success()?;
    world.verb(&["rm", "-f", "user"])?.success()?;
    world.verb(&["network", "rm", "one"])?.success()?;
    world.wait_clean()
}

/// Receives on `socket` for a moment; every datagram's text.
fn drain(socket: &std::net::UdpSocket, wait: std::time::Duration) -> Vec<String> {
    let _ = socket.set_read_timeout(Some(wait));
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while let Ok(n) = socket.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    got
}

/// CVE-2020-8558: the bridges route 127.0.0.0/8 (for ports published on the host's loopback),
/// so a container that crafts frames to its gateway addressed to 127.0.0.1 (here by routing
/// 127.0.0.0/8 out of its eth0 with `route_localnet`, as root in its namespace can) would
/// reach the host's loopback-only services and a peer's port published on 127.0.0.1. The
/// same crafted path reaches the gateway's own address (the attack works as a route), and the
/// host's own loopback reaches the published port; neither crafted datagram arrives.
fn crafted_frames_do_not_reach_the_hosts_loopback(ctx: &Ctx) -> TestResult {
    use std::net::UdpSocket;
    use std::time::Duration;
    let world = World::new(ctx)?;
    for (name, extra) in [
        ("victim", &["-p", "127.0.0.1:5300:53/udp"][..]),
        ("attacker", &[]),
    ] {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend(extra);
        args.extend(["sleep", "100"]);
        world.run(&args)?.success()?;
    }
    let pid = |name: &str| -> Result<u32, libtest_mimic::Failed> {
        let out = world.verb(&["inspect", name])?.success()?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
        Ok(v[0]["State"]["Pid"].as_u64().ok_or("no PID 1 in inspect")? as u32)
    };
    let (victim, attacker) = (pid("victim")?, pid("attacker")?);
    let gateway = world.network_setting("attacker", "Gateway")?;
    // The peer's service on its published port, and the host's loopback-only one.
    let published = crate::world::within(victim, || UdpSocket::bind("0.0.0.0:53"))
        .join()
        .map_err(|_| "thread")??
        .map_err(|e| e.to_string())?;
    let host_only = world.within(|| UdpSocket::bind("127.0.0.1:5301"));
    let host_only = host_only
        .join()
        .map_err(|_| "thread")??
        .map_err(|e| e.to_string())?;
    let gateway_socket = {
        let addr = format!("{gateway}:5302");
        world
            .within(move || UdpSocket::bind(addr))
            .join()
            .map_err(|_| "thread")??
            .map_err(|e| e.to_string())?
    };
    // The attacker's namespace routes loopback out through the gateway.
    let setup = format!(
        "sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1 && \
         ip route del local 127.0.0.0/8 dev lo table local && \
         ip route del local 127.0.0.1 dev lo table local && \
         ip route add 127.0.0.0/8 via {gateway} dev eth0"
    );
    let out = crate::support::run({
        let mut c = std::process::Command::new("nsenter");
        c.args(["-t", &attacker.to_string(), "-n", "sh", "-c", &setup]);
        c
    })?;
    ensure(out.code == Some(0), format!("attacker's routes: {out:?}"))?;
    let targets = [
        format!("{gateway}:5302"),
        "127.0.0.1:5301".to_string(),
        "127.0.0.1:5300".to_string(),
    ];
    let sent = crate::world::within(attacker, move || -> Result<(), String> {
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        for _ in 0..5 {
            for target in &targets {
                socket
                    .send_to(b"from-attacker", target.as_str())
                    .map_err(|e| format!("{target}: {e}"))?;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    });
    joined(sent)?;
    let from_host = world.within(|| -> Result<(), String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        for _ in 0..5 {
            socket
                .send_to(b"from-host", "127.0.0.1:5300")
                .map_err(|e| e.to_string())?;
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    });
    joined(from_host)?;
    let wait = Duration::from_millis(800);
    let at_gateway = drain(&gateway_socket, wait);
    ensure(
        at_gateway.iter().any(|m| m == "from-attacker"),
        "the crafted route did not even reach the gateway",
    )?;
    ensure_eq(drain(&host_only, wait), Vec::<String>::new())?;
    let at_published = drain(&published, wait);
    ensure(
        at_published.iter().any(|m| m == "from-host"),
        "the host's own loopback did not reach its published port",
    )?;
    ensure(
        !at_published.iter().any(|m| m == "from-attacker"),
        "a peer's crafted frame reached a port published on 127.0.0.1",
    )?;
    drop((published, host_only, gateway_socket));
    world.finish(&["victim", "attacker"])
}

/// A container (root in its network namespace, as one with NET_ADMIN and NET_RAW is; here
/// the test does it with nsenter) claims a peer's address by ARP, sends from a peer's address
/// and from one of no network, and changes its MAC: the host's ARP entry for the peer stays
/// the peer's, and only what it sends as itself reaches the host.
fn a_container_cannot_spoof_addresses_on_the_bridge(ctx: &Ctx) -> TestResult {
    use std::net::UdpSocket;
    use std::time::Duration;
    let world = World::new(ctx)?;
    for name in ["peer", "spoofer"] {
        world
            .run(&["run", "-d", "--name", name, "sleep", "100"])?
            .success()?;
    }
    let setting = |name: &str, field: &str| world.network_setting(name, field);
    let (peer_ip, spoofer_ip) = (
        setting("peer", "IPAddress")?,
        setting("spoofer", "IPAddress")?,
    );
    let gateway = setting("spoofer", "Gateway")?;
    let out = world.verb(&["inspect", "spoofer"])?.success()?;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
    let spoofer = v[0]["State"]["Pid"].as_u64().ok_or("no PID")? as u32;
    let inside = |script: &str| {
        crate::support::run({
            let mut c = std::process::Command::new("nsenter");
            c.args(["-t", &spoofer.to_string(), "-n", "sh", "-c", script]);
            c
        })
    };
    // The host learns the peer's real MAC.
    world.sh(&format!("ping -c 1 -W 2 {peer_ip} >/dev/null"))?;
    let neighbour = || world.sh(&format!("ip neigh show {peer_ip}"));
    let before = neighbour()?;
    ensure(
        before.contains("lladdr 02:42:"),
        format!("no entry: {before}"),
    )?;
    // Unsolicited ARP: "the peer's address is at my MAC".
    inside(&format!(
        "busybox arping -U -c 3 -s {peer_ip} -I eth0 {gateway} >/dev/null 2>&1; \
         busybox arping -A -c 3 -s {peer_ip} -I eth0 {gateway} >/dev/null 2>&1; true"
    ))?;
    std::thread::sleep(Duration::from_millis(300));
    ensure_eq(neighbour()?, before)?;
    // Datagrams to the gateway: from its own address (arrives), the peer's and a stranger's.
    let addr = format!("{gateway}:5400");
    let socket = world
        .within(move || UdpSocket::bind(addr))
        .join()
        .map_err(|_| "thread")??
        .map_err(|e| e.to_string())?;
    let out = inside(&format!(
        "ip addr add {peer_ip}/32 dev eth0 && ip addr add 10.9.9.9/32 dev eth0"
    ))?;
    ensure(out.code == Some(0), format!("{out:?}"))?;
    let target = format!("{gateway}:5400");
    let sent = crate::world::within(spoofer, move || -> Result<(), String> {
        for (from, text) in [
            (spoofer_ip.as_str(), "as-itself"),
            (peer_ip.as_str(), "as-the-peer"),
            ("10.9.9.9", "as-a-stranger"),
        ] {
            let s = UdpSocket::bind(format!("{from}:0")).map_err(|e| format!("{from}: {e}"))?;
            for _ in 0..3 {
                s.send_to(text.as_bytes(), &target)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    });
    joined(sent)?;
    let got = drain(&socket, Duration::from_millis(800));
    ensure(got.iter().any(|m| m == "as-itself"), format!("got {got:?}"))?;
    ensure(
        got.iter().all(|m| m == "as-itself"),
        format!("spoofed datagrams arrived: {got:?}"),
    )?;
    // A new MAC: nothing it sends gets through.
    let out = inside(
        "ip link set eth0 down && ip link set eth0 address 02:42:de:ad:be:ef && ip link set eth0 up",
    )?;
    ensure(out.code == Some(0), format!("{out:?}"))?;
    let out = inside(&format!(
        "ping -c 2 -W 1 {gateway} >/dev/null && echo reached"
    ))?;
    ensure(
        !out.stdout.contains("reached"),
        "a frame with another MAC got through",
    )?;
    drop(socket);
    world.finish(&["peer", "spoofer"])
}
