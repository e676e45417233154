//! IPv4 subnets: parsing, overlap, the addresses in them, and the choice of one no host route
//! or address uses (Docker's way: look at the host, then pick from a pool).

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// A network address and prefix length, the host bits zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// The subnet of `ip/prefix`.
    pub fn new(ip: Ipv4Addr, prefix: u8) -> Subnet {
        let prefix = prefix.min(32);
        Subnet {
            base: Ipv4Addr::from(u32::from(ip) & mask(prefix)),
            prefix,
        }
    }

    /// `A.B.C.D/N`, with N from 8 to 30 (a bridge needs a gateway and at least one container).
    pub fn parse(text: &str) -> Result<Subnet, String> {
        let bad = || format!("invalid subnet {text:?}: expected A.B.C.D/N (IPv4, N from 8 to 30)");
        let (ip, prefix) = text.split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(bad());
        }
        let subnet = Subnet::new(ip, prefix);
        if subnet.base != ip {
            return Err(format!(
                "invalid subnet {text:?}: its host bits are set (did you mean {subnet}?)"
            ));
        }
        if let Some((range, what)) = RESERVED.iter().find(|(r, _)| r.overlaps(&subnet)) {
            return Err(format!(
                "invalid subnet {text:?}: it overlaps {range}, {what}, which no bridge may use"
            ));
        }
        Ok(subnet)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let shorter = self.prefix.min(other.prefix);
        u32::from(self.base) & mask(shorter) == u32::from(other.base) & mask(shorter)
    }

    /// The bridge's own address: the first host.
    pub fn gateway(&self) -> Ipv4Addr {
        self.host(1)
    }

    /// The `n`th address of the subnet.
    pub fn host(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + n)
    }

    /// The addresses a container may get: every host but the gateway, without the network
    /// and broadcast addresses.
    pub fn containers(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        let size = 1u64 << (32 - u32::from(self.prefix));
        (2..size.saturating_sub(1)).map(|n| self.host(n as u32))
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// Ranges a bridge's subnet may not touch (RFC 6890): the kernel or the protocol gives
/// their addresses another meaning.
const RESERVED: [(Subnet, &str); 5] = [
    (
        Subnet {
            base: Ipv4Addr::new(0, 0, 0, 0),
            prefix: 8,
        },
        "\"this network\"",
    ),
    (
        Subnet {
            base: Ipv4Addr::new(127, 0, 0, 0),
            prefix: 8,
        },
        "loopback",
    ),
    (
        Subnet {
            base: Ipv4Addr::new(169, 254, 0, 0),
            prefix: 16,
        },
        "link-local",
    ),
    (
        Subnet {
            base: Ipv4Addr::new(224, 0, 0, 0),
            prefix: 4,
        },
        "multicast",
    ),
    (
        Subnet {
            base: Ipv4Addr::new(240, 0, 0, 0),
            prefix: 4,
        },
        "reserved (and broadcast)",
    ),
];

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// The pool subnets are chosen from, in order: Docker's (172.17-31.0.0/16, then
/// 192.168.0-240.0/20), so a user reads the same kind of addresses.
pub fn pool() -> impl Iterator<Item = Subnet> {
    let big = (17..=31).map(|b| Subnet::new(Ipv4Addr::new(172, b, 0, 0), 16));
    let small = (0..16).map(|i| Subnet::new(Ipv4Addr::new(192, 168, i * 16, 0), 20));
    big.chain(small)
}

/// The first subnet of the pool that overlaps none of `taken` (the host's routes and
/// addresses, and our other networks). A default route (`/0`) takes nothing.
pub fn choose(taken: &[Subnet]) -> Option<Subnet> {
    pool().find(|s| !taken.iter().any(|t| t.prefix > 0 && t.overlaps(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Subnet {
        Subnet::parse(text).unwrap()
    }

    #[test]
    fn reserved_ranges_are_refused() {
        for bad in [
            "224.0.0.0/8",
            "0.0.0.0/8",
            "169.254.0.0/16",
            "127.0.0.0/8",
            "240.0.0.0/8",
            "255.255.255.0/24",
        ] {
            let e = Subnet::parse(bad).unwrap_err();
            assert!(e.contains("which no bridge may use"), "{bad}: {e}");
        }
        for good in [
            "10.0.0.0/8",
            "172.18.0.0/16",
            "192.168.5.0/24",
            "100.64.0.0/10",
        ] {
            Subnet::parse(good).unwrap();
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(s("10.1.0.0/16").to_string(), "10.1.0.0/16");
        assert!(
            Subnet::parse("10.1.0.1/16")
                .unwrap_err()
                .contains("10.1.0.0/16")
        );
        for bad in ["10.0.0.0", "10.0.0.0/31", "10.0.0.0/4", "x/8", "10.0.0.0/x"] {
            assert!(Subnet::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_and_hosts() {
        assert!(s("10.1.0.0/16").overlaps(&s("10.1.2.0/24")));
        assert!(s("10.1.2.0/24").overlaps(&s("10.1.0.0/16")));
        assert!(!s("10.1.0.0/24").overlaps(&s("10.1.1.0/24")));
        let net = s("10.9.0.0/30");
        assert_eq!(net.gateway(), Ipv4Addr::new(10, 9, 0, 1));
        assert_eq!(
            net.containers().collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 9, 0, 2)]
        );
        assert!(net.contains(Ipv4Addr::new(10, 9, 0, 3)));
        assert!(!net.contains(Ipv4Addr::new(10, 9, 0, 4)));
    }

    #[test]
    fn choice_skips_what_the_host_uses() {
        assert_eq!(choose(&[]), Some(s("172.17.0.0/16")));
        let host = [
            Subnet::new(Ipv4Addr::UNSPECIFIED, 0),
            s("172.17.0.0/16"),
            s("172.18.5.0/24"),
        ];
        assert_eq!(choose(&host), Some(s("172.19.0.0/16")));
        let everything = [s("172.16.0.0/12"), s("192.168.0.0/16")];
        assert_eq!(choose(&everything), None);
    }
}
