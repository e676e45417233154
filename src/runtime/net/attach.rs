//! The helper's side of a container's network, all done before its PID 1 is forked, so the
//! container's first instruction already sees its network whole and no sync with it is
//! needed: the namespace is made from the host side ([`netns::create`]), the host end of the
//! veth goes on the bridge, the other end is made directly in the namespace as `eth0`, and
//! its address and route are set through a netlink socket opened in there. PID 1 joins the
//! namespace with `setns`.
//!
//! [`release`] is the cleaner's: it drops the container's lease, its veth if the namespace
//! has not taken it along, and the network's bridge and rules after the last container.

use super::leases::{self, Lease, Locked, Up};
use super::netlink::Netlink;
use super::{bridge, dns, nat, netns};
use crate::runtime::ContainerSpec;
use crate::spec::network::{Mode, Protocol, Publish};
use crate::state::{Process, store};
use anyhow::{Context, anyhow};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, getsockname, socket};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What the helper holds for the container's network while it runs.
pub struct Prepared {
    /// The namespace PID 1 joins; `None`: the host's.
    pub netns: Option<OwnedFd>,
    /// Bound sockets that hold the published host ports (`docker-proxy`'s part, without the
    /// proxying: the kernel forwards).
    pub reserved: Vec<OwnedFd>,
    /// A rootless container's user-mode network, ended by the helper with the container.
    pub pasta: Option<super::pasta::Pasta>,
    /// The published ports' proxy of a container on a rootless user's network, ended by the
    /// helper with the container.
    pub proxy: Option<super::proxy::Proxy>,
}

/// Published ports bound before the helper leaves the host's network namespace for a
/// rootless user's ([`super::holder`]): the host's ports, which no other process may take
/// while the container runs, and which its proxy listens on.
pub struct Held {
    publish: Vec<Publish>,
    fds: Vec<OwnedFd>,
}

/// [`Held`] for `spec`'s published ports, in the host's namespace (the caller's now).
pub fn hold_published(spec: &ContainerSpec) -> anyhow::Result<Held> {
    let mut publish = spec.network.publish.clone();
    let fds = reserve(&mut publish)?;
    Ok(Held { publish, fds })
}

/// Readies the network of `spec`'s container, and its `/etc` files in `etc` (its state
/// directory's, when it has one).
pub fn prepare(
    spec: &ContainerSpec,
    etc: Option<&Path>,
    held: Option<Held>,
) -> anyhow::Result<Prepared> {
    let hostname = &spec.hostname;
    let netns = match &spec.network.mode {
        Mode::Bridge(name) => return bridged(spec, name, etc, held),
        Mode::Host => {
            if let Some(etc) = etc {
                let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
                let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
                write_etc(etc, spec, hosts, &resolv)?;
            }
            return Ok(Prepared {
                netns: None,
                reserved: Vec::new(),
                pasta: None,
                proxy: None,
            });
        }
        Mode::Container(name) => {
            crate::runtime::namespaces::of_container(name, crate::runtime::namespaces::NET)?
        }
        Mode::None => {
            let netns = netns::create()?;
            inside(&netns, loopback_up)?;
            netns
        }
        Mode::Pasta => {
            let (netns, pasta) = super::pasta::start(&spec.network.publish)?;
            if let Some(etc) = etc {
                let hosts = dns::hosts(hostname, None, &[]);
                write_etc(etc, spec, hosts, &dns::resolv_conf())?;
            }
            return Ok(Prepared {
                netns: Some(netns),
                reserved: Vec::new(),
                pasta: Some(pasta),
                proxy: None,
            });
        }
    };
    if let Some(etc) = etc {
        let hosts = dns::hosts(hostname, None, &[]);
        write_etc(etc, spec, hosts, &dns::resolv_conf())?;
    }
    Ok(Prepared {
        netns: Some(netns),
        reserved: Vec::new(),
        pasta: None,
        proxy: None,
    })
}

/// The namespace of running container `id`'s PID 1, checked to still be that process once
/// opened.
fn loopback_up(nl: &mut Netlink) -> anyhow::Result<()> {
    let lo = nl.link("lo")?.context("no loopback interface")?;
    nl.set(lo.index, None, true).context("cannot bring up lo")
}

/// Runs `f` on a netlink socket opened in `netns`.
fn inside<T>(
    netns: &impl AsFd,
    f: impl FnOnce(&mut Netlink) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut nl = netns::within(netns, Netlink::open)?
        .context("cannot open netlink in the container's namespace")?;
    f(&mut nl)
}

/// The container's `/etc` files in `dir`: its hostname, `hosts` with its `--add-host` lines,
/// `resolv` with its `--dns` choices.
fn write_etc(dir: &Path, spec: &ContainerSpec, hosts: String, resolv: &str) -> anyhow::Result<()> {
    let names = &spec.network.names;
    for (name, text) in [
        ("hostname", format!("{}\n", spec.hostname)),
        ("hosts", dns::with_added(hosts, &names.hosts)),
        ("resolv.conf", dns::with_overrides(resolv, names)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A name for the host's end of a new lease's veth: random, never reused (a restarted
/// container gets another), so that the bridge table's elements of an ended lease, removed
/// after the lease lock is let go, can never name a live veth.
fn new_veth_name() -> String {
    format!("veth{}", &crate::state::record::new_id()[..11])
}

fn bridged(
    spec: &ContainerSpec,
    name: &str,
    etc: Option<&Path>,
    held: Option<Held>,
) -> anyhow::Result<Prepared> {
    let netns = netns::create()?;
    let Held {
        publish,
        fds: reserved,
    } = match held {
        Some(held) => held,
        None => hold_published(spec)?,
    };
    let id = &spec.id;
    let mut names: Vec<String> = store::load(id).ok().map(|r| r.name).into_iter().collect();
    names.extend(spec.network.aliases.iter().cloned());
    let hosts_file = etc.map(|e| e.join("hosts"));
    if let Some(etc) = etc {
        let hosts = dns::hosts(&spec.hostname, None, &[]);
        write_etc(etc, spec, hosts, &dns::resolv_conf())?;
    }
    let lease = Lease {
        ip: Ipv4Addr::UNSPECIFIED,
        container: id.clone(),
        owner: Process::me(),
        veth: new_veth_name(),
        hostname: spec.hostname.clone(),
        names,
        publish,
        hosts_file,
        added_hosts: spec.network.names.hosts.clone(),
    };
    let (lease, up, mtu) = take_lease(name, lease)?;
    // A rootless user's network is not the host's namespace, where the ports are: a proxy
    // of ours carries them (root's, the kernel's DNAT).
    let proxied = crate::state::owner::inside() && !lease.publish.is_empty();
    let joined = join(&netns, &lease, &up, mtu).and_then(|()| match proxied {
        true => {
            super::proxy::start(reserved, &lease.publish, lease.ip).map(|p| (Vec::new(), Some(p)))
        }
        false => Ok((reserved, None)),
    });
    let (reserved, proxy) = match joined {
        Ok(joined) => joined,
        Err(e) => {
            release(id);
            return Err(e);
        }
    };
    Ok(Prepared {
        netns: Some(netns),
        reserved,
        pasta: None,
        proxy,
    })
}

/// Binds each published host port (a free one for `-p CONTAINERPORT`, written back), so no
/// other process, and no other container, takes it while this one runs.
fn reserve(publish: &mut [Publish]) -> anyhow::Result<Vec<OwnedFd>> {
    let mut held = Vec::new();
    for p in publish.iter_mut() {
        let kind = match p.protocol {
            Protocol::Tcp => SockType::Stream,
            Protocol::Udp => SockType::Datagram,
        };
        let fd = socket(AddressFamily::Inet, kind, SockFlag::SOCK_CLOEXEC, None)
            .map_err(|e| anyhow!("cannot reserve port {}: {}", p.host_port, e.desc()))?;
        let ip = p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let address = SockaddrIn::from(SocketAddrV4::new(ip, p.host_port));
        bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &address).map_err(|e| match e {
            nix::errno::Errno::EADDRINUSE => anyhow!(
                "cannot publish {ip}:{}/{}: the port is already in use on the host",
                p.host_port,
                p.protocol.name()
            ),
            nix::errno::Errno::EADDRNOTAVAIL => {
                anyhow!("cannot publish on {ip}: not an address of this host")
            }
            e => anyhow!("cannot reserve port {}: {}", p.host_port, e.desc()),
        })?;
        if p.host_port == 0 {
            let bound: SockaddrIn = getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd))
                .map_err(|e| anyhow!("getsockname: {}", e.desc()))?;
            p.host_port = bound.port();
        }
        held.push(fd);
    }
    Ok(held)
}

/// Under the lock: the network up, the lowest free address leased, the rules rewritten when
/// they change, the peers' hosts files too.
fn take_lease(name: &str, mut lease: Lease) -> anyhow::Result<(Lease, Up, u32)> {
    let mut locked = leases::lock()?;
    let mut nl = Netlink::open().context("cannot open netlink")?;
    let stale = locked.drop_stale();
    let was_up = locked.state.network(name).is_some();
    let mtu = bridge::up(&mut nl, &mut locked.state, name)?;
    let result = (|| {
        let net = locked.state.network_mut(name).context("network vanished")?;
        let ip = free_address(net)
            .with_context(|| format!("network {name} has no free address left"))?;
        lease.ip = ip;
        net.leases.push(lease.clone());
        net.idle_since = None;
        let net = net.clone();
        // The table is rewritten when its rules change (a network came up, a port is
        // published or was by a stale lease); else only this lease's set elements go in,
        // before its veth exists. A stale lease's elements stay until the next rewrite:
        // its veth's name is never given again, so they match nothing.
        let stale_rules = stale.iter().any(|l| !l.publish.is_empty());
        let sets = || super::nftset::add(&[&lease]);
        if !was_up || !lease.publish.is_empty() || stale_rules || sets().is_err() {
            nat::apply(&locked.state)?;
        }
        locked.save()?;
        write_hosts(&net);
        Ok((lease.clone(), net))
    })();
    match result {
        Ok((lease, net)) => Ok((lease, net, mtu)),
        Err(e) => {
            let gone = remove_locked(&mut locked, &mut nl, &lease.container, false);
            drop(locked);
            let _ = super::nftset::remove(&gone.iter().collect::<Vec<_>>());
            Err(e)
        }
    }
}

/// The lowest address of `net` no lease holds (a set of the taken ones: not a scan of every
/// lease for each address tried, which at a thousand leases was a million comparisons).
fn free_address(net: &Up) -> Option<Ipv4Addr> {
    let taken: std::collections::HashSet<_> = net.leases.iter().map(|l| l.ip).collect();
    net.subnet.containers().find(|ip| !taken.contains(ip))
}

/// The veth made and joined to the bridge; inside, `eth0` addressed and up, the default
/// route through the bridge.
fn join(netns: &OwnedFd, lease: &Lease, net: &Up, mtu: u32) -> anyhow::Result<()> {
    let mut nl = Netlink::open().context("cannot open netlink")?;
    let bridge = nl
        .link(&net.bridge)?
        .with_context(|| format!("bridge {} is gone", net.bridge))?;
    let mac = lease.mac();
    let mut made = nl.add_veth(&lease.veth, "eth0", mac, netns.as_fd(), mtu, bridge.index);
    if made
        .as_ref()
        .is_err_and(|e| e.raw_os_error() == Some(libc::EEXIST))
    {
        // The container's previous run's, whose namespace the kernel is still taking down
        // (a restart, a `start` just after the end): ours by its name, and stale.
        delete_veth(&mut nl, &lease.veth);
        made = nl.add_veth(&lease.veth, "eth0", mac, netns.as_fd(), mtu, bridge.index);
    }
    made.with_context(|| format!("cannot create veth {} on {}", lease.veth, net.bridge))?;
    inside(netns, |nl| {
        loopback_up(nl)?;
        let eth0 = nl
            .link("eth0")?
            .context("eth0 is missing in the container")?;
        nl.add_address(eth0.index, lease.ip, net.subnet.prefix)
            .context("cannot address eth0")?;
        nl.set(eth0.index, None, true)
            .context("cannot bring up eth0")?;
        nl.add_default_route(net.subnet.gateway())
            .context("cannot add the default route")
    })
}

/// Container `id`, renamed from `old` to `new`: the leases it holds name it so, and its
/// peers on a user network reach it by the new name (their hosts files rewritten), as
/// Docker's embedded DNS answers for the new name at once.
pub fn renamed(id: &str, old: &str, new: &str) -> anyhow::Result<()> {
    // A container without a lease (the most) takes no lock: it would make the directory.
    if leases::read().lease_of(id).is_none() {
        return Ok(());
    }
    let mut locked = leases::lock()?;
    let mut touched = Vec::new();
    for net in &mut locked.state.networks {
        let mut ours = net
            .leases
            .iter_mut()
            .filter(|l| l.container == id)
            .peekable();
        if ours.peek().is_none() {
            continue;
        }
        for lease in ours {
            for name in lease.names.iter_mut().filter(|n| n.as_str() == old) {
                *name = new.to_string();
            }
        }
        touched.push(net.clone());
    }
    locked.save()?;
    for net in touched.iter().filter(|n| n.user) {
        write_hosts(net);
    }
    Ok(())
}

/// Rewrites the hosts file of every container on `net`: itself, and on a user network its
/// peers by name. Written in place (the file is bound into the container, so a rename would
/// not be seen), never through a link.
fn write_hosts(net: &Up) {
    for lease in &net.leases {
        let Some(file) = &lease.hosts_file else {
            continue;
        };
        let peers: Vec<(Ipv4Addr, Vec<String>)> = match net.user {
            true => net
                .leases
                .iter()
                .filter(|l| l.container != lease.container)
                .map(|l| (l.ip, l.names.clone()))
                .collect(),
            false => Vec::new(),
        };
        // Names are a user network's: on the default bridge, as in Docker, only the hostname.
        let names: &[String] = if net.user { &lease.names } else { &[] };
        let text = dns::with_added(
            dns::hosts(&lease.hostname, Some((lease.ip, names)), &peers),
            &lease.added_hosts,
        );
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(file);
        if let Ok(mut f) = opened {
            let _ = rewrite(&mut f, &text);
        }
    }
}

/// Replaces `f`'s text with `text` when it differs. A running container may be reading the
/// file: it is never truncated first (a reader would see it empty), but overwritten from the
/// start and then cut to length, and left alone when nothing changed (every lease taken on a
/// network passes over all its containers' files).
fn rewrite(f: &mut std::fs::File, text: &str) -> std::io::Result<()> {
    use std::io::{Read, Seek, Write};
    let mut old = String::new();
    f.read_to_string(&mut old)?;
    if old == text {
        return Ok(());
    }
    f.seek(std::io::SeekFrom::Start(0))?;
    f.write_all(text.as_bytes())?;
    f.set_len(text.len() as u64)
}

/// Drops the leases of container `id` and the stale ones, their veths, the networks left
/// empty, and rewrites the rules and the peers' hosts files. Saves the record. Returns the
/// leases whose bridge-table elements the caller removes once the lock is let go (each
/// removal waits for the kernel's RCU grace period, 10 ms and more, which no start should
/// wait behind); none when the table was rewritten whole.
#[must_use]
fn remove_locked(locked: &mut Locked, nl: &mut Netlink, id: &str, stale: bool) -> Vec<Lease> {
    let before = locked.state.clone();
    // Stale leases (their owners and cleaners killed) are a sweep's: a container's own
    // release looks at its own lease alone.
    let mut gone = match stale {
        true => locked.drop_stale(),
        false => Vec::new(),
    };
    for net in &mut locked.state.networks {
        let (ours, others) = std::mem::take(&mut net.leases)
            .into_iter()
            .partition(|l| l.container == id);
        net.leases = others;
        gone.extend::<Vec<Lease>>(ours);
    }
    let publishing = gone.iter().any(|l| !l.publish.is_empty());
    // A stale lease's veth: its namespace is gone (the kernel took the pair along) or
    // going; deleted here when it lingers. The caller's own goes before the lock is taken.
    for lease in gone.iter().filter(|l| l.container != id) {
        delete_veth(nl, &lease.veth);
    }
    let went_down = bridge::down_idle(nl, &mut locked.state);
    let rewritten = (went_down || publishing) && nat::apply(&locked.state).is_ok();
    // Most calls (every cleaner's sweep) find nothing to change: nothing is written then,
    // but an empty record, whose directory goes.
    if !gone.is_empty() {
        for net in locked.state.networks.iter().filter(|n| n.user) {
            write_hosts(net);
        }
    }
    if locked.state != before || locked.state == leases::State::default() {
        let _ = locked.save();
    }
    if rewritten { Vec::new() } else { gone }
}

fn delete_veth(nl: &mut Netlink, name: &str) {
    if let Ok(Some(link)) = nl.link(name) {
        let _ = nl.delete_link(link.index);
    }
}

/// The release of container `id`'s network, by its cleaner or the repair of its record.
pub fn release(id: &str) {
    release_with(id, false)
}

/// Takes down networks idle for [`leases::LINGER`]: a cleaner's last step once the linger is
/// over. Other containers' leases are not looked at.
pub fn down_idle() {
    release_with("", false)
}

/// Drops stale leases (their owners and cleaners were killed) and takes down idle networks:
/// a sweep's.
pub fn sweep() {
    release_with("", true)
}

fn release_with(id: &str, stale: bool) {
    if !leases::dir().exists() {
        return;
    }
    let Ok(mut nl) = Netlink::open() else {
        return;
    };
    if !id.is_empty()
        && let Some((_, lease)) = leases::read().lease_of(id)
    {
        delete_veth(&mut nl, &lease.veth);
    }
    let Ok(mut locked) = leases::lock() else {
        return;
    };
    let gone = remove_locked(&mut locked, &mut nl, id, stale);
    drop(locked);
    let _ = super::nftset::remove(&gone.iter().collect::<Vec<_>>());
}

/// True while a network is up without a container: the caller (a cleaner) waits out the
/// linger, then sweeps.
pub fn idle() -> bool {
    leases::read().networks.iter().any(|n| n.leases.is_empty())
}
