//! The elements of our bridge table's three sets (our veths, which MAC each may send with, and
//! which address), added and removed over nf_tables' netlink protocol from this process.
//!
//! Written by hand because the table itself is loaded with `nft -f` ([`super::nat`]), whose
//! exec costs ~3 ms of CPU and, on a start's path under the lease lock, several times that in
//! waiting: every start and every exit changes the sets, while the rules themselves change
//! only when a network comes up or goes, or a port is published. No well-kept Rust crate
//! speaks nf_tables' netlink (the C library's bindings need libnftnl); the two messages needed
//! here are small: a batch of `NEWSETELEM` or `DELSETELEM` with one key per element.
//!
//! Keys follow nftables' concatenation layout: each field padded to 4 bytes, an interface
//! name as `IFNAMSIZ` (16) bytes, so `ifname . ether_addr` is 16 + 8 bytes and
//! `ifname . ipv4_addr` 16 + 4.

use super::leases::Lease;
use super::nat::{ADDRESS_SET, MAC_SET, PORT_SET, TABLE};
use netlink_sys::{Socket, SocketAddr};
use std::io;

const NETLINK_NETFILTER: isize = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFPROTO_BRIDGE: u8 = 7;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_DATA_VALUE: u16 = 1;
const IFNAMSIZ: usize = 16;

/// Adds `leases`' elements (an element already there is no error).
pub fn add(leases: &[&Lease]) -> io::Result<()> {
    change(NFT_MSG_NEWSETELEM, leases)
}

/// Removes `leases`' elements (one already gone is no error: each set is asked alone).
pub fn remove(leases: &[&Lease]) -> io::Result<()> {
    for lease in leases {
        let _ = change(NFT_MSG_DELSETELEM, std::slice::from_ref(lease));
    }
    Ok(())
}

/// `ifname` of a lease: its veth.
fn port_key(lease: &Lease) -> Vec<u8> {
    ifname(&lease.veth)
}

/// `ifname . ether_addr` of a lease.
fn mac_key(lease: &Lease) -> Vec<u8> {
    let mut key = ifname(&lease.veth);
    key.extend_from_slice(&lease.mac());
    key.extend_from_slice(&[0, 0]);
    key
}

/// `ifname . ipv4_addr` of a lease.
fn address_key(lease: &Lease) -> Vec<u8> {
    let mut key = ifname(&lease.veth);
    key.extend_from_slice(&lease.ip.octets());
    key
}

fn ifname(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes()[..name.len().min(IFNAMSIZ - 1)].to_vec();
    bytes.resize(IFNAMSIZ, 0);
    bytes
}

/// How a set's key is made of a lease.
type Key = fn(&Lease) -> Vec<u8>;

/// One batch: the change to every set, acknowledged or refused as a whole.
fn change(kind: u16, leases: &[&Lease]) -> io::Result<()> {
    if leases.is_empty() {
        return Ok(());
    }
    let mut batch = Vec::new();
    message(&mut batch, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 0, 1, &[]);
    let flags = match kind {
        NFT_MSG_NEWSETELEM => NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
        _ => NLM_F_REQUEST | NLM_F_ACK,
    };
    // The port last when adding and first when removing: a veth is filtered only once its
    // MAC and address are known.
    let mut sets: Vec<(&str, Key)> = vec![
        (MAC_SET, mac_key),
        (ADDRESS_SET, address_key),
        (PORT_SET, port_key),
    ];
    if kind == NFT_MSG_DELSETELEM {
        sets.reverse();
    }
    let expected = sets.len();
    for (seq, (set, key)) in (2u32..).zip(sets) {
        let mut elements = Vec::new();
        for lease in leases {
            let value = attribute(NFTA_DATA_VALUE, &key(lease));
            let key = attribute(NFTA_SET_ELEM_KEY | NLA_F_NESTED, &value);
            elements.extend(attribute(NFTA_LIST_ELEM | NLA_F_NESTED, &key));
        }
        let mut body = attribute(NFTA_SET_ELEM_LIST_TABLE, &c_string(TABLE));
        body.extend(attribute(NFTA_SET_ELEM_LIST_SET, &c_string(set)));
        body.extend(attribute(
            NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED,
            &elements,
        ));
        message(
            &mut batch,
            (NFNL_SUBSYS_NFTABLES << 8) | kind,
            flags,
            NFPROTO_BRIDGE,
            seq,
            &body,
        );
    }
    message(&mut batch, NFNL_MSG_BATCH_END, NLM_F_REQUEST, 0, 5, &[]);
    let mut socket = Socket::new(NETLINK_NETFILTER)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    socket.send(&batch, 0)?;
    // One acknowledgement per set's message; a refusal ends the batch.
    let mut acked = 0;
    let mut buf = vec![0u8; 8192];
    while acked < expected {
        let n = recv_with_timeout(&socket, &mut buf)?;
        let mut at = 0;
        while at + 16 <= n {
            let len = u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize;
            let kind = u16::from_ne_bytes(buf[at + 4..at + 6].try_into().unwrap_or_default());
            if len < 16 || at + len > n {
                break;
            }
            if kind == NLMSG_ERROR && len >= 20 {
                let code = i32::from_ne_bytes(buf[at + 16..at + 20].try_into().unwrap_or_default());
                if code != 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                acked += 1;
            }
            at += (len + 3) & !3;
        }
    }
    Ok(())
}

/// Waits at most a second for the kernel's answer (it answers at once, or never).
fn recv_with_timeout(socket: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut poll = [libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: one pollfd of ours, of the length given.
    let ready = unsafe { libc::poll(poll.as_mut_ptr(), 1, 1000) };
    if ready <= 0 {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "nf_tables did not answer",
        ));
    }
    socket.recv(&mut &mut buf[..], 0)
}

fn c_string(s: &str) -> Vec<u8> {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// A netlink attribute: length, type, value, padded to 4 bytes.
fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut out = Vec::with_capacity((len + 3) & !3);
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize((len + 3) & !3, 0);
    out
}

/// A netlink message with nf_tables' generic header (family, version 0, resource id: the
/// subsystem, big-endian, in the batch markers).
fn message(out: &mut Vec<u8>, kind: u16, flags: u16, family: u8, seq: u32, body: &[u8]) {
    let len = 16 + 4 + body.len();
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.push(family);
    out.push(0);
    let res_id = match kind {
        NFNL_MSG_BATCH_BEGIN | NFNL_MSG_BATCH_END => NFNL_SUBSYS_NFTABLES,
        _ => 0,
    };
    out.extend_from_slice(&res_id.to_be_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + ((len + 3) & !3) - len, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_concatenation_layout() {
        let lease = Lease {
            ip: "172.17.0.2".parse().unwrap(),
            container: "c".into(),
            owner: crate::state::Process { pid: 1, start: 1 },
            veth: "vethabcdef01234".into(),
            hostname: "h".into(),
            names: vec![],
            publish: vec![],
            hosts_file: None,
            added_hosts: Vec::new(),
        };
        let mac = mac_key(&lease);
        assert_eq!(mac.len(), 24);
        assert_eq!(&mac[..15], b"vethabcdef01234");
        assert_eq!(&mac[16..22], &[0x02, 0x42, 172, 17, 0, 2]);
        let address = address_key(&lease);
        assert_eq!(address.len(), 20);
        assert_eq!(&address[16..], &[172, 17, 0, 2]);
        assert_eq!(attribute(1, b"abc"), vec![7, 0, 1, 0, b'a', b'b', b'c', 0]);
    }
}
