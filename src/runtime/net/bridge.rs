//! A network's presence on the host: its bridge (with the gateway address and the uplink's
//! MTU), `route_localnet` on it, and `net.ipv4.ip_forward` while any bridge of ours exists.
//! Brought up for the first container on a network and down after the last, under the lease
//! record's lock, which says what is up.

use super::defined;
use super::leases::{State, Up};
use super::netlink::Netlink;
use super::subnet::{self, Subnet};
use crate::spec::network::DEFAULT_NETWORK;
use anyhow::{Context, bail};

/// The default network's bridge.
pub const DEFAULT_BRIDGE: &str = "mct0";
const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

/// The host's routes and addresses as subnets, those of our bridges that are up (`state`)
/// aside: what a new network's subnet must not overlap.
pub fn host_subnets(netlink: &mut Netlink, state: &State) -> anyhow::Result<Vec<Subnet>> {
    let links = netlink
        .links()
        .context("cannot list the host's interfaces")?;
    let ours = |index: Option<u32>| {
        links
            .iter()
            .any(|l| Some(l.index) == index && state.networks.iter().any(|n| n.bridge == l.name))
    };
    let mut taken: Vec<Subnet> = netlink
        .routes()
        .context("cannot list the host's routes")?
        .into_iter()
        .filter(|r| !ours(r.device))
        .map(|r| Subnet::new(r.destination, r.prefix))
        .collect();
    let addresses = netlink
        .addresses()
        .context("cannot list the host's addresses")?;
    taken.extend(
        addresses
            .into_iter()
            .filter(|a| !ours(Some(a.index)))
            .map(|a| Subnet::new(a.ip, a.prefix)),
    );
    Ok(taken)
}

/// The MTU of the interface the default route leaves by (1500 without one).
fn uplink_mtu(netlink: &mut Netlink) -> u32 {
    let device = netlink
        .routes()
        .ok()
        .and_then(|routes| routes.into_iter().find(|r| r.prefix == 0)?.device);
    let links = netlink.links().unwrap_or_default();
    device
        .and_then(|d| links.into_iter().find(|l| l.index == d))
        .map_or(1500, |l| l.mtu)
}

/// Network `name` is up in `state` (brought up when it was not); its MTU.
pub fn up(netlink: &mut Netlink, state: &mut State, name: &str) -> anyhow::Result<u32> {
    if let Some(up) = state.network(name) {
        // Still lingering from a user network removed and made again under the same name:
        // the old one goes first.
        let replaced = up.user && defined::load(name).is_none_or(|d| d.bridge != up.bridge);
        // Or gone with its namespace (a rootless user's holder, killed: see super::holder).
        let gone = netlink.link(&up.bridge).is_ok_and(|l| l.is_none());
        if !replaced && !gone {
            return Ok(up.mtu);
        }
        if let Ok(Some(link)) = netlink.link(&up.bridge) {
            let _ = netlink.delete_link(link.index);
        }
        state.networks.retain(|n| n.name != name);
    }
    let mut mtu = uplink_mtu(netlink);
    let (bridge, subnet, user) = if name == DEFAULT_NETWORK {
        let mut taken = host_subnets(netlink, state)?;
        taken.extend(defined::list().iter().map(|d| d.subnet));
        taken.extend(state.networks.iter().map(|n| n.subnet));
        let subnet = subnet::choose(&taken).context(
            "no free subnet for the default network: every one of the pool is in use on this host",
        )?;
        (DEFAULT_BRIDGE.to_string(), subnet, false)
    } else {
        let Some(def) = defined::load(name) else {
            bail!("no such network: {name} (see `network ls`)");
        };
        // Another store's network (each store knows only its own definitions) may have been
        // given the same subnet while this one was down: two bridges on one subnet would cut
        // both off. Checked against every network up on the host and every route.
        if let Some(other) = state
            .networks
            .iter()
            .find(|n| n.subnet.overlaps(&def.subnet))
        {
            bail!(
                "network {name}'s subnet {} overlaps network {}'s ({}), which is up on this host (perhaps from another --root): stop its containers or give {name} another subnet",
                def.subnet,
                other.name,
                other.subnet
            );
        }
        // A bridge of its name without a record is a crashed run's: not the host's route.
        if let Some(old) = netlink.link(&def.bridge)? {
            let _ = netlink.delete_link(old.index);
        }
        let host = host_subnets(netlink, state)?;
        if let Some(route) = host
            .iter()
            .find(|t| t.prefix > 0 && t.overlaps(&def.subnet))
        {
            bail!(
                "network {name}'s subnet {} overlaps the host's {route}",
                def.subnet
            );
        }
        mtu = def.mtu.unwrap_or(mtu);
        (def.bridge, def.subnet, true)
    };
    // A bridge of that name without a record is a crashed run's: ours, and stale.
    if let Some(old) = netlink.link(&bridge)? {
        let _ = netlink.delete_link(old.index);
    }
    if state.ip_forward_before.is_none() {
        let before = std::fs::read_to_string(IP_FORWARD).context("cannot read ip_forward")?;
        state.ip_forward_before = Some(before.trim().to_string());
    }
    std::fs::write(IP_FORWARD, "1").context("cannot enable ip_forward")?;
    let index = netlink
        .add_bridge(&bridge, mtu)
        .with_context(|| format!("cannot create bridge {bridge}"))?;
    let made = netlink
        .add_address(index, subnet.gateway(), subnet.prefix)
        .with_context(|| format!("cannot address bridge {bridge}"))
        .and_then(|()| {
            // A published port reached at 127.0.0.1 is routed to the bridge with a loopback
            // source, which the kernel drops as a martian unless told.
            std::fs::write(
                format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"),
                "1",
            )
            .context("cannot set route_localnet")
        })
        .and_then(|()| {
            // Strict reverse-path filtering: a packet from a container whose source no route
            // back through this bridge would take (an address of another network, or none of
            // ours) is dropped.
            std::fs::write(format!("/proc/sys/net/ipv4/conf/{bridge}/rp_filter"), "1")
                .context("cannot set rp_filter")
        });
    if let Err(e) = made {
        let _ = netlink.delete_link(index);
        return Err(e);
    }
    state.networks.push(Up {
        name: name.into(),
        bridge,
        subnet,
        user,
        mtu,
        idle_since: None,
        leases: Vec::new(),
    });
    Ok(mtu)
}

/// Marks networks that lost their last lease idle, and brings down those idle for
/// [`super::leases::LINGER`]; puts `ip_forward` back once none is up. True when something
/// went down (the rules must follow).
pub fn down_idle(netlink: &mut Netlink, state: &mut State) -> bool {
    let now = crate::state::record::now_ms();
    let linger = super::leases::LINGER.as_millis() as u64;
    for net in &mut state.networks {
        if net.leases.is_empty() && net.idle_since.is_none() {
            net.idle_since = Some(now);
        }
    }
    let (unused, used): (Vec<Up>, Vec<Up>) = std::mem::take(&mut state.networks)
        .into_iter()
        .partition(|n| {
            n.leases.is_empty()
                && n.idle_since
                    .is_some_and(|t| now.saturating_sub(t) >= linger)
        });
    state.networks = used;
    for net in &unused {
        if let Ok(Some(link)) = netlink.link(&net.bridge) {
            let _ = netlink.delete_link(link.index);
        }
    }
    if state.networks.is_empty()
        && let Some(before) = state.ip_forward_before.take()
    {
        let _ = std::fs::write(IP_FORWARD, before);
    }
    !unused.is_empty()
}
