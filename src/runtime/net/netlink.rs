//! A small synchronous rtnetlink client: the requests that set up a container's network
//! (links, addresses, routes) and the dumps the views and the subnet choice read.
//!
//! Written over `netlink-packet-route`'s message types and `netlink-sys`'s socket rather than
//! with `rtnetlink`, which is async: it would bring a tokio runtime into the helper, and the
//! helper must stay single-threaded because it forks. A request here is one message and its
//! acknowledgement, a dump one message and its parts; nothing else is needed.
//!
//! A socket works in the network namespace it was opened in, whichever the thread moves to
//! afterwards: [`super::netns::within`] opens one inside a container's namespace.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags};
use netlink_packet_route::link::{LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::route::{RouteHeader, RouteProtocol, RouteScope, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// An open rtnetlink socket.
pub struct Netlink {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

/// One network interface as a dump shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mtu: u32,
    /// The bridge it is a port of.
    pub controller: Option<u32>,
    pub up: bool,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// One IPv4 address and the interface it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub index: u32,
    pub ip: Ipv4Addr,
    pub prefix: u8,
}

/// One IPv4 route of the main table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub destination: Ipv4Addr,
    pub prefix: u8,
    pub device: Option<u32>,
    pub gateway: Option<Ipv4Addr>,
}

impl Netlink {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Netlink> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink {
            socket,
            sequence: 0,
            buffer: vec![0; 64 * 1024],
        })
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<u32> {
        self.sequence += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        Ok(self.sequence)
    }

    /// Reads the replies to request `sequence`, handing each message to `each`, until the
    /// acknowledgement (or the dump's end). A negative acknowledgement becomes its errno.
    fn replies(
        &mut self,
        sequence: u32,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> io::Result<()> {
        loop {
            let n = self.socket.recv(&mut &mut self.buffer[..], 0)?;
            let mut at = 0;
            while at < n {
                let packet =
                    NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.buffer[at..n])
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = packet.header.length as usize;
                at += length.max(1);
                if packet.header.sequence_number != sequence {
                    continue;
                }
                match packet.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                            None => Ok(()),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::InnerMessage(m) => each(m),
                    _ => {}
                }
            }
        }
    }

    /// Sends `message` and waits for the kernel's acknowledgement.
    fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        let sequence = self.send(message, NLM_F_ACK | flags)?;
        self.replies(sequence, |_| {})
    }

    fn dump(&mut self, message: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let sequence = self.send(message, NLM_F_DUMP)?;
        let mut all = Vec::new();
        self.replies(sequence, |m| all.push(m))?;
        Ok(all)
    }

    /// Every interface, with its counters.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let all = self.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        Ok(all
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => Some(link_of(&link)),
                _ => None,
            })
            .collect())
    }

    /// The interface called `name`: asked for by name, not found in a dump of every
    /// interface (on a host of a thousand bridged containers, a dump is two thousand links,
    /// and each start and end asked for a few).
    pub fn link(&mut self, name: &str) -> io::Result<Option<Link>> {
        let mut message = LinkMessage::default();
        message.attributes = vec![LinkAttribute::IfName(name.into())];
        let sequence = self.send(RouteNetlinkMessage::GetLink(message), NLM_F_ACK)?;
        let mut found = None;
        let replied = self.replies(sequence, |m| {
            if let RouteNetlinkMessage::NewLink(link) = m {
                found = Some(link_of(&link));
            }
        });
        match replied {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
            Ok(()) => Ok(found.filter(|l| l.name == name)),
        }
    }

    /// Makes bridge `name` with `mtu`, up.
    pub fn add_bridge(&mut self, name: &str, mtu: u32) -> io::Result<u32> {
        let mut message = LinkMessage::default();
        message.attributes = vec![
            LinkAttribute::IfName(name.into()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]),
        ];
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        let index = self
            .link(name)?
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?
            .index;
        self.set(index, None, true)?;
        Ok(index)
    }

    /// Makes the veth pair `name` (here, up, a port of bridge `controller`) and `peer` (made
    /// directly in the namespace `netns`, so it never exists under its name on the host;
    /// down: the kernel refuses to bring it up in the same request).
    pub fn add_veth(
        &mut self,
        name: &str,
        peer: &str,
        peer_mac: [u8; 6],
        netns: BorrowedFd<'_>,
        mtu: u32,
        controller: u32,
    ) -> io::Result<()> {
        let mut other = LinkMessage::default();
        other.attributes = vec![
            LinkAttribute::IfName(peer.into()),
            LinkAttribute::Address(peer_mac.to_vec()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::NetNsFd(netns.as_raw_fd()),
        ];
        let mut message = LinkMessage::default();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        message.attributes = vec![
            LinkAttribute::IfName(name.into()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::Controller(controller),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(other))),
            ]),
        ];
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Puts interface `index` up, as a port of bridge `controller` if one is given.
    pub fn set(&mut self, index: u32, controller: Option<u32>, up: bool) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.change_mask = LinkFlags::Up;
        if up {
            message.header.flags = LinkFlags::Up;
        }
        if let Some(controller) = controller {
            message
                .attributes
                .push(LinkAttribute::Controller(controller));
        }
        self.request(RouteNetlinkMessage::SetLink(message), 0)
    }

    /// Removes interface `index` (a veth takes its peer with it).
    pub fn delete_link(&mut self, index: u32) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        self.request(RouteNetlinkMessage::DelLink(message), 0)
    }

    /// Gives interface `index` the address `ip/prefix`.
    pub fn add_address(&mut self, index: u32, ip: Ipv4Addr, prefix: u8) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix;
        message.header.index = index;
        message.attributes = vec![
            AddressAttribute::Local(IpAddr::V4(ip)),
            AddressAttribute::Address(IpAddr::V4(ip)),
        ];
        self.request(
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// Every IPv4 address.
    pub fn addresses(&mut self) -> io::Result<Vec<Address>> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        let all = self.dump(RouteNetlinkMessage::GetAddress(message))?;
        Ok(all
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => {
                    let ip = a.attributes.iter().find_map(|at| match at {
                        AddressAttribute::Local(IpAddr::V4(ip)) => Some(*ip),
                        _ => None,
                    })?;
                    Some(Address {
                        index: a.header.index,
                        ip,
                        prefix: a.header.prefix_len,
                    })
                }
                _ => None,
            })
            .collect())
    }

    /// The default route, through `gateway`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(gateway))];
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// The IPv4 routes of the main table.
    pub fn routes(&mut self) -> io::Result<Vec<Route>> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        let all = self.dump(RouteNetlinkMessage::GetRoute(message))?;
        Ok(all
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.table == RouteHeader::RT_TABLE_MAIN =>
                {
                    let mut route = Route {
                        destination: Ipv4Addr::UNSPECIFIED,
                        prefix: r.header.destination_prefix_length,
                        device: None,
                        gateway: None,
                    };
                    for at in &r.attributes {
                        match at {
                            RouteAttribute::Destination(RouteAddress::Inet(ip)) => {
                                route.destination = *ip
                            }
                            RouteAttribute::Gateway(RouteAddress::Inet(ip)) => {
                                route.gateway = Some(*ip)
                            }
                            RouteAttribute::Oif(index) => route.device = Some(*index),
                            _ => {}
                        }
                    }
                    Some(route)
                }
                _ => None,
            })
            .collect())
    }
}

fn link_of(message: &LinkMessage) -> Link {
    let mut link = Link {
        index: message.header.index,
        up: message.header.flags.contains(LinkFlags::Up),
        ..Link::default()
    };
    for at in &message.attributes {
        match at {
            LinkAttribute::IfName(name) => link.name = name.clone(),
            LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
            LinkAttribute::Controller(index) => link.controller = Some(*index),
            LinkAttribute::Stats64(stats) => {
                link.rx_bytes = stats.rx_bytes;
                link.tx_bytes = stats.tx_bytes;
            }
            _ => {}
        }
    }
    link
}
