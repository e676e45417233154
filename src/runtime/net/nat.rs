//! The nftables table `ip my-container-tui`, written whole from the lease record each time it
//! changes and loaded with `nft -f -` in one transaction (the issue allows a generated file;
//! the nf_tables netlink protocol has no well-kept Rust crate that builds NAT rules).
//!
//! - `postrouting`: each network's subnet is masqueraded on every interface but its bridge;
//!   loopback sources going to a bridge are too (a published port reached at 127.0.0.1).
//! - `prerouting` and `output`: a published port, addressed to any of the host's own
//!   addresses (or the one `-p IP:` names), is sent on to the container.
//! - `forward`: a network's bridge reaches none of our other bridges (networks are isolated),
//!   named one by one: a prefix would match a user's own interface too.
//! - `table bridge my-container-tui`, `spoofing`: a frame from a container's veth carries its
//!   lease's MAC and, as IPv4 or ARP, its lease's address, else it is dropped before the
//!   bridge forwards or delivers it (a container could otherwise rewrite the host's or a
//!   peer's ARP entries, or send as a peer; Docker has the same hole). The rules are fixed;
//!   the veths, MACs and addresses are set elements, which a start or an exit changes over
//!   netlink ([`super::nftset`]) without rewriting the table. Reverse-path filtering on our
//!   bridges ([`super::bridge`]) drops what no route back would take.
//! - `loopback`, before any NAT: nothing that comes in on our bridges is addressed to
//!   127.0.0.0/8. The bridges have `route_localnet=1` (so that a port published on the host's
//!   loopback reaches a container), which would otherwise let a container's crafted frame to
//!   the gateway reach the host's loopback-only services (CVE-2020-8558) or a peer's port
//!   published on 127.0.0.1. Replies to the host's own connections through a bridge still
//!   carry the bridge's address here: they are un-masqueraded to 127.0.0.1 only later.

use super::leases::State;
use anyhow::{Context, bail};
use std::fmt::Write;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The table's name, the tool's own.
pub const TABLE: &str = "my-container-tui";
/// The bridge table's sets: our containers' veths, each with its MAC, each with its address
/// (their elements change with every lease: [`super::nftset`]).
pub const PORT_SET: &str = "ports";
pub const MAC_SET: &str = "macs";
pub const ADDRESS_SET: &str = "addresses";

/// The ruleset for `state` (which has at least one network up).
pub fn ruleset(state: &State) -> String {
    let mut publish = String::new();
    let mut postrouting = String::new();
    let mut forward = String::new();
    let (mut ports, mut macs, mut addresses) = (Vec::new(), Vec::new(), Vec::new());
    for (_, lease) in state.leases() {
        let [a, b, c, d, e, f] = lease.mac();
        let mac = format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}");
        let veth = &lease.veth;
        ports.push(format!("\"{veth}\""));
        macs.push(format!("\"{veth}\" . {mac}"));
        addresses.push(format!("\"{veth}\" . {}", lease.ip));
    }
    let elements = |list: &[String]| match list.is_empty() {
        true => String::new(),
        false => format!("; elements = {{ {} }}", list.join(", ")),
    };
    let bridges: Vec<String> = state
        .networks
        .iter()
        .map(|n| format!("\"{}\"", n.bridge))
        .collect();
    for net in &state.networks {
        let (bridge, subnet) = (&net.bridge, net.subnet);
        let _ = writeln!(
            postrouting,
            "    ip saddr {subnet} oifname != \"{bridge}\" masquerade"
        );
        let _ = writeln!(
            postrouting,
            "    ip saddr 127.0.0.0/8 oifname \"{bridge}\" masquerade"
        );
        let others: Vec<String> = state
            .networks
            .iter()
            .filter(|n| n.bridge != *bridge)
            .map(|n| format!("\"{}\"", n.bridge))
            .collect();
        if !others.is_empty() {
            let _ = writeln!(
                forward,
                "    iifname \"{bridge}\" oifname {{ {} }} drop",
                others.join(", ")
            );
        }
        for lease in &net.leases {
            for p in &lease.publish {
                let daddr = p
                    .host_ip
                    .map(|ip| format!("ip daddr {ip} "))
                    .unwrap_or_default();
                let _ = writeln!(
                    publish,
                    "    {daddr}{proto} dport {} dnat to {}:{}",
                    p.host_port,
                    lease.ip,
                    p.container_port,
                    proto = p.protocol.name(),
                );
            }
        }
    }
    format!(
        "table ip {TABLE}
delete table ip {TABLE}
table ip {TABLE} {{
  chain publish {{
{publish}  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump publish
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
    fib daddr type local jump publish
  }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
{postrouting}  }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
{forward}  }}
  chain loopback {{
    type filter hook prerouting priority mangle; policy accept;
    iifname {{ {bridges} }} ip daddr 127.0.0.0/8 drop
  }}
}}
table bridge {TABLE}
delete table bridge {TABLE}
table bridge {TABLE} {{
  set {PORT_SET} {{ type ifname{ports} }}
  set {MAC_SET} {{ type ifname . ether_addr{macs} }}
  set {ADDRESS_SET} {{ type ifname . ipv4_addr{addresses} }}
  chain spoofing {{
    type filter hook prerouting priority filter; policy accept;
    iifname @{PORT_SET} iifname . ether saddr != @{MAC_SET} drop
    iifname @{PORT_SET} iifname . arp saddr ether != @{MAC_SET} drop
    iifname @{PORT_SET} iifname . arp saddr ip != @{ADDRESS_SET} drop
    iifname @{PORT_SET} iifname . ip saddr != @{ADDRESS_SET} drop
  }}
}}
",
        bridges = bridges.join(", "),
        ports = elements(&ports),
        macs = elements(&macs),
        addresses = elements(&addresses),
    )
}

/// Loads the table for `state`, or removes it when no network is up.
pub fn apply(state: &State) -> anyhow::Result<()> {
    if state.networks.is_empty() {
        // Creating them first makes the deletes succeed when they are gone already.
        return nft(&format!(
            "table ip {TABLE}\ndelete table ip {TABLE}\ntable bridge {TABLE}\ndelete table bridge {TABLE}\n"
        ));
    }
    nft(&ruleset(state))
}

fn nft(script: &str) -> anyhow::Result<()> {
    // From the system's directories (a rootless user's PATH may lack /usr/sbin, and is theirs
    // to choose): else by PATH, as before.
    let program = crate::runtime::rootless::system_program("nft").unwrap_or_else(|| "nft".into());
    let mut child = Command::new(program)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "cannot set up NAT: nft not found (install nftables, or use --network none)"
            ),
            _ => anyhow::Error::new(e).context("cannot run nft"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .context("cannot write to nft")?;
    }
    let out = child.wait_with_output().context("cannot run nft")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed");
        bail!("cannot set up NAT: nft: {}", line.trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::leases::{Lease, State, Up};
    use super::super::subnet::Subnet;
    use super::*;
    use crate::spec::network::{Protocol, Publish};
    use crate::state::Process;

    #[test]
    fn ruleset_masquerades_publishes_and_isolates() {
        let lease = Lease {
            ip: "172.17.0.2".parse().unwrap(),
            container: "c".into(),
            owner: Process { pid: 1, start: 1 },
            veth: "vethc".into(),
            hostname: "h".into(),
            names: vec![],
            publish: vec![
                Publish::parse("8080:80").unwrap(),
                Publish {
                    host_ip: Some("127.0.0.1".parse().unwrap()),
                    host_port: 53,
                    container_port: 5353,
                    protocol: Protocol::Udp,
                },
            ],
            hosts_file: None,
            added_hosts: Vec::new(),
        };
        let state = State {
            ip_forward_before: Some("0".into()),
            networks: vec![Up {
                name: "bridge".into(),
                bridge: "mct0".into(),
                subnet: Subnet::parse("172.17.0.0/16").unwrap(),
                user: false,
                mtu: 1500,
                idle_since: None,
                leases: vec![lease],
            }],
        };
        let rules = ruleset(&state);
        assert!(rules.contains("ip saddr 172.17.0.0/16 oifname != \"mct0\" masquerade"));
        assert!(rules.contains("    tcp dport 8080 dnat to 172.17.0.2:80\n"));
        assert!(rules.contains("ip daddr 127.0.0.1 udp dport 53 dnat to 172.17.0.2:5353"));
        assert!(
            !rules.contains("oifname { "),
            "one network isolates from nothing"
        );
        assert!(rules.contains("iifname { \"mct0\" } ip daddr 127.0.0.0/8 drop"));
        let mut two = state.clone();
        let mut other = two.networks[0].clone();
        other.bridge = "mct-1".into();
        other.leases.clear();
        two.networks.push(other);
        let rules = ruleset(&two);
        assert!(rules.contains("iifname \"mct0\" oifname { \"mct-1\" } drop"));
        assert!(rules.contains("iifname \"mct-1\" oifname { \"mct0\" } drop"));
    }
}
