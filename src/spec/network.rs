//! A container's network as data: `--network`, `-p` and `--network-alias`, parsed here;
//! [`crate::runtime::net`] makes it.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// The network every container is on unless told otherwise (Docker's `bridge`).
pub const DEFAULT_NETWORK: &str = "bridge";

/// Which network namespace a container gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Its own namespace, with a veth on network `.0`'s bridge (the default network,
    /// `bridge`, or a user network).
    Bridge(String),
    /// Its own namespace with loopback only: the most isolated choice (the seed's).
    None,
    /// The host's namespace.
    Host,
    /// The namespace of the running container with this id.
    Container(String),
    /// Its own namespace, connected to the host's by pasta (user-mode networking: its
    /// connections are its user's own sockets): a rootless container's default.
    Pasta,
}

/// `--network`, `-p` and `--network-alias`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub mode: Mode,
    /// Host ports forwarded to the container's (bridge networks only).
    #[serde(default)]
    pub publish: Vec<Publish>,
    /// Names its peers on a user network reach it by, besides its own name.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--expose` and the image's `ExposedPorts`: ports it says it serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<(u16, Protocol)>,
    /// `-P`: publish every exposed port on a free host port.
    #[serde(default)]
    pub publish_all: bool,
    /// `--add-host`, `--dns`, `--dns-search`, `--dns-option`: what its `/etc/hosts` and
    /// `/etc/resolv.conf` say beyond what they would.
    #[serde(default)]
    pub names: NameService,
}

/// The container's own additions to name resolution, as Docker takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameService {
    /// `--add-host NAME:IP` lines of `/etc/hosts`, in order.
    pub hosts: Vec<(String, IpAddr)>,
    /// `--dns`: these servers instead of the host's.
    pub servers: Vec<IpAddr>,
    /// `--dns-search`: these search domains instead of the host's (`.` for none).
    pub search: Vec<String>,
    /// `--dns-option`: these resolver options instead of the host's.
    pub options: Vec<String>,
}

impl NameService {
    pub fn is_empty(&self) -> bool {
        *self == NameService::default()
    }

    /// Parses `--add-host NAME:IP` (or `NAME=IP`; an IPv6 address may follow the first `:`).
    pub fn parse_host(text: &str) -> Result<(String, IpAddr), String> {
        let (name, ip) = text
            .split_once('=')
            .or_else(|| text.split_once(':'))
            .ok_or_else(|| format!("invalid --add-host {text:?}: expected NAME:IP"))?;
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = ip
            .parse()
            .map_err(|_| format!("invalid --add-host {text:?}: {ip:?} is not an IP address"))?;
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !valid {
            return Err(format!(
                "invalid --add-host {text:?}: {name:?} is not a host name"
            ));
        }
        Ok((name.to_string(), ip))
    }

    /// Parses a `--dns-search` domain, or `.` (none at all).
    pub fn parse_domain(text: &str) -> Result<String, String> {
        let valid = text == "."
            || (!text.is_empty()
                && text.len() <= 253
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'));
        match valid {
            true => Ok(text.to_string()),
            false => Err(format!("invalid --dns-search {text:?}: not a domain")),
        }
    }

    /// Parses a `--dns-option` (`ndots:2`, `edns0`).
    pub fn parse_option(text: &str) -> Result<String, String> {
        match !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()) {
            true => Ok(text.to_string()),
            false => Err(format!("invalid --dns-option {text:?}")),
        }
    }
}

impl Default for Network {
    /// A spec recorded before networks existed had loopback only.
    fn default() -> Self {
        Network {
            mode: Mode::None,
            publish: Vec::new(),
            aliases: Vec::new(),
            names: NameService::default(),
            expose: Vec::new(),
            publish_all: false,
        }
    }
}

impl Network {
    /// The default for a new container: the default bridge, as Docker.
    pub fn bridged() -> Network {
        Network {
            mode: Mode::Bridge(DEFAULT_NETWORK.into()),
            ..Network::default()
        }
    }

    /// `-P`: each exposed port not published already, published on a free host port (the
    /// helper takes one, as for `-p PORT`). Once, at start.
    pub fn publish_exposed(&mut self) {
        if !self.publish_all {
            return;
        }
        for &(port, protocol) in &self.expose {
            if !self
                .publish
                .iter()
                .any(|p| p.container_port == port && p.protocol == protocol)
            {
                self.publish.push(Publish {
                    host_ip: None,
                    host_port: 0,
                    container_port: port,
                    protocol,
                });
            }
        }
    }

    /// Parses `--expose PORT[-PORT][/tcp|/udp]` (and an image's `80/tcp`).
    pub fn parse_expose(text: &str) -> Result<Vec<(u16, Protocol)>, String> {
        let bad = || format!("invalid port {text:?}: expected PORT[-PORT][/tcp|/udp]");
        let (ports, protocol) = match text.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some(_) => return Err(bad()),
            None => (text, Protocol::Tcp),
        };
        let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
        let (first, last) = match ports.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => (port(ports)?, port(ports)?),
        };
        if first > last || last - first > 1024 {
            return Err(bad());
        }
        Ok((first..=last).map(|p| (p, protocol)).collect())
    }

    /// Whether the container gets `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` of
    /// its own, written by us: on a bridge (its address, the host's resolvers off loopback),
    /// or when told what they hold (`--add-host`, `--dns`).
    pub fn own_etc(&self) -> bool {
        self.bridge().is_some() || !self.names.is_empty()
    }

    /// The bridge network it is on, if any.
    pub fn bridge(&self) -> Option<&str> {
        match &self.mode {
            Mode::Bridge(name) => Some(name),
            _ => None,
        }
    }

    /// Whether the container has a namespace of its own that we make.
    pub fn own_namespace(&self) -> bool {
        matches!(self.mode, Mode::Bridge(_) | Mode::None | Mode::Pasta)
    }

    /// `--network`'s value as a user gives it: `bridge`, `none`, `host`, `pasta`,
    /// `container:NAME`, or a user network's name. A container's name is resolved to its id by the caller.
    pub fn parse_mode(text: &str) -> Result<Mode, String> {
        match text {
            "" => Err("--network needs a value".into()),
            "none" => Ok(Mode::None),
            "host" => Ok(Mode::Host),
            "pasta" => Ok(Mode::Pasta),
            "default" => Ok(Mode::Bridge(DEFAULT_NETWORK.into())),
            _ => match text.strip_prefix("container:") {
                Some("") => Err("--network container: needs a container's name or id".into()),
                Some(name) => Ok(Mode::Container(name.into())),
                None => {
                    validate_name(text)?;
                    Ok(Mode::Bridge(text.into()))
                }
            },
        }
    }

    /// What `--network` would print for it.
    pub fn mode_shown(&self) -> String {
        match &self.mode {
            Mode::Bridge(name) => name.clone(),
            Mode::None => "none".into(),
            Mode::Host => "host".into(),
            Mode::Pasta => "pasta".into(),
            Mode::Container(id) => format!("container:{}", &id[..id.len().min(12)]),
        }
    }
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    /// The host address it listens on; `None` for all of them.
    pub host_ip: Option<Ipv4Addr>,
    /// 0 until the helper has taken a free port for it (`-p CONTAINERPORT`).
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

impl Publish {
    /// Parses one `-p` value.
    pub fn parse(text: &str) -> Result<Publish, String> {
        let bad = |why: &str| format!("invalid -p {text:?}: {why}");
        let (ports, protocol) = match text.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Protocol::Tcp),
            Some((ports, "udp")) => (ports, Protocol::Udp),
            Some(_) => return Err(bad("the protocol is tcp or udp")),
            None => (text, Protocol::Tcp),
        };
        let port = |p: &str, zero: bool| match p.parse::<u16>() {
            Ok(0) if !zero => Err(bad("ports are 1-65535")),
            Ok(n) => Ok(n),
            Err(_) if p.contains('-') => Err(bad("port ranges are not supported")),
            Err(_) => Err(bad("ports are 1-65535")),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let (ip, host, container) = match parts.as_slice() {
            [c] => (None, "0", *c),
            [h, c] => (None, *h, *c),
            [ip, h, c] => (Some(*ip), *h, *c),
            _ => return Err(bad("expected [IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL]")),
        };
        let host_ip = match ip {
            None | Some("") | Some("0.0.0.0") => None,
            Some(ip) => Some(
                ip.parse::<Ipv4Addr>()
                    .map_err(|_| bad("the host address is an IPv4 address"))?,
            ),
        };
        let host = if host.is_empty() { "0" } else { host };
        Ok(Publish {
            host_ip,
            host_port: port(host, true)?,
            container_port: port(container, false)?,
            protocol,
        })
    }
}

impl std::fmt::Display for Publish {
    /// As `docker ps` shows it: `0.0.0.0:8080->80/tcp`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ip = self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        write!(
            f,
            "{ip}:{}->{}/{}",
            self.host_port,
            self.container_port,
            self.protocol.name()
        )
    }
}

/// A network name: as a container's, and none of `--network`'s own words.
pub fn validate_name(name: &str) -> Result<(), String> {
    super::names::validate_name(name).map_err(|e| e.replace("container", "network"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_takes_docker_forms() {
        let p = Publish::parse("8080:80").unwrap();
        assert_eq!((p.host_ip, p.host_port, p.container_port), (None, 8080, 80));
        assert_eq!(p.protocol, Protocol::Tcp);
        let p = Publish::parse("127.0.0.1:53:5353/udp").unwrap();
        assert_eq!(p.host_ip, Some(Ipv4Addr::LOCALHOST));
        assert_eq!((p.host_port, p.container_port), (53, 5353));
        assert_eq!(p.protocol, Protocol::Udp);
        assert_eq!(Publish::parse("80").unwrap().host_port, 0);
        assert_eq!(Publish::parse("0.0.0.0::80").unwrap().host_port, 0);
        assert_eq!(
            Publish::parse("8080:80").unwrap().to_string(),
            "0.0.0.0:8080->80/tcp"
        );
        for bad in [
            "",
            "x:80",
            "80:0",
            "8080-8090:80",
            "1:2:3:4",
            "80/sctp",
            "::1:80:80",
            "70000:80",
        ] {
            assert!(Publish::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modes_parse_as_docker_names_them() {
        assert_eq!(Network::parse_mode("none"), Ok(Mode::None));
        assert_eq!(Network::parse_mode("host"), Ok(Mode::Host));
        assert_eq!(
            Network::parse_mode("bridge"),
            Ok(Mode::Bridge("bridge".into()))
        );
        assert_eq!(
            Network::parse_mode("back-end"),
            Ok(Mode::Bridge("back-end".into()))
        );
        assert_eq!(
            Network::parse_mode("container:web"),
            Ok(Mode::Container("web".into()))
        );
        assert!(Network::parse_mode("container:").is_err());
        assert!(Network::parse_mode("../x").is_err());
    }
}
