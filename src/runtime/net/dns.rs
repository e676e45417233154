//! A container's name service files: `/etc/resolv.conf` from the host's, and `/etc/hosts`
//! naming the container (and on a user network, its peers).

use crate::spec::network::NameService;
use std::net::{IpAddr, Ipv4Addr};

/// The host's resolver file.
const HOST_RESOLV: &str = "/etc/resolv.conf";
/// systemd-resolved's list of the upstream servers behind its loopback stub.
const RESOLVED_UPSTREAM: &str = "/run/systemd/resolve/resolv.conf";
/// Docker's fallback when the host names no server a container can reach.
const FALLBACK: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// `/etc/resolv.conf` for a container in its own network namespace: the host's, without the
/// servers on the host's loopback (a stub resolver there is not the container's loopback);
/// behind systemd-resolved's stub, its upstream servers instead.
pub fn resolv_conf() -> String {
    let host = std::fs::read_to_string(HOST_RESOLV).unwrap_or_default();
    let upstream = std::fs::read_to_string(RESOLVED_UPSTREAM).ok();
    resolv_conf_from(&host, upstream.as_deref())
}

/// [`resolv_conf`] from the files' texts.
pub fn resolv_conf_from(host: &str, upstream: Option<&str>) -> String {
    let servers = |text: &str| -> Vec<IpAddr> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("nameserver"))
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    };
    let only_loopback = |text: &str| {
        let all = servers(text);
        !all.is_empty() && all.iter().all(IpAddr::is_loopback)
    };
    let source = match upstream {
        Some(upstream) if only_loopback(host) && !only_loopback(upstream) => upstream,
        _ => host,
    };
    let mut out = String::new();
    let mut kept = 0;
    for line in source.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if let Some(server) = trimmed.strip_prefix("nameserver") {
            match server.trim().parse::<IpAddr>() {
                Ok(ip) if !ip.is_loopback() => kept += 1,
                _ => continue,
            }
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    if kept == 0 {
        for server in FALLBACK {
            out.push_str(&format!("nameserver {server}\n"));
        }
    }
    out
}

/// `hosts` with the `--add-host` lines after it.
pub fn with_added(mut hosts: String, added: &[(String, IpAddr)]) -> String {
    for (name, ip) in added {
        hosts.push_str(&format!("{ip}\t{name}\n"));
    }
    hosts
}

/// `resolv` with `--dns`, `--dns-search` and `--dns-option` in place of its own lines of each
/// kind (Docker's rule: a kind given replaces the host's; one not given keeps them).
pub fn with_overrides(resolv: &str, names: &NameService) -> String {
    let replaced = |line: &str| {
        let word = line.split_whitespace().next().unwrap_or("");
        (word == "nameserver" && !names.servers.is_empty())
            || ((word == "search" || word == "domain") && !names.search.is_empty())
            || (word == "options" && !names.options.is_empty())
    };
    let mut out: String = resolv
        .lines()
        .filter(|l| !replaced(l.trim()))
        .map(|l| format!("{l}\n"))
        .collect();
    for server in &names.servers {
        out.push_str(&format!("nameserver {server}\n"));
    }
    let search: Vec<&str> = names
        .search
        .iter()
        .map(String::as_str)
        .filter(|d| *d != ".")
        .collect();
    if !search.is_empty() {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !names.options.is_empty() {
        out.push_str(&format!("options {}\n", names.options.join(" ")));
    }
    out
}

/// `/etc/hosts`: loopback, the container's own address under its hostname and names (or
/// loopback's `127.0.1.1` without one), then its peers'.
pub fn hosts(
    hostname: &str,
    own: Option<(Ipv4Addr, &[String])>,
    peers: &[(Ipv4Addr, Vec<String>)],
) -> String {
    let mut out = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    match own {
        Some((ip, names)) => {
            let mut all = vec![hostname.to_string()];
            all.extend(names.iter().filter(|n| *n != hostname).cloned());
            out.push_str(&format!("{ip}\t{}\n", all.join(" ")));
        }
        None => out.push_str(&format!("127.0.1.1\t{hostname}\n")),
    }
    for (ip, names) in peers {
        if !names.is_empty() {
            out.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_options_replace_their_kind_of_line() {
        let host = "nameserver 192.0.2.1\nsearch lan\noptions edns0\n";
        let names = NameService {
            servers: vec!["192.0.2.53".parse().unwrap()],
            search: vec!["example.com".into()],
            ..NameService::default()
        };
        assert_eq!(
            with_overrides(host, &names),
            "options edns0\nnameserver 192.0.2.53\nsearch example.com\n"
        );
        let none = NameService {
            search: vec![".".into()],
            ..NameService::default()
        };
        assert_eq!(
            with_overrides(host, &none),
            "nameserver 192.0.2.1\noptions edns0\n"
        );
        let added = [("db".to_string(), "10.0.0.5".parse().unwrap())];
        assert!(with_added(String::new(), &added).ends_with("10.0.0.5\tdb\n"));
    }

    #[test]
    fn loopback_servers_are_replaced() {
        let host = "# generated\nnameserver 127.0.0.53\noptions edns0\nsearch lan\n";
        let upstream = "nameserver 192.0.2.53\nnameserver ::1\nsearch lan\n";
        assert_eq!(
            resolv_conf_from(host, Some(upstream)),
            "nameserver 192.0.2.53\nsearch lan\n"
        );
        assert_eq!(
            resolv_conf_from(host, None),
            "options edns0\nsearch lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        let plain = "nameserver 10.255.255.53\n";
        assert_eq!(resolv_conf_from(plain, Some(upstream)), plain);
    }

    #[test]
    fn hosts_name_self_and_peers() {
        let me = vec!["web".to_string(), "www".to_string()];
        let peers = vec![("172.18.0.3".parse().unwrap(), vec!["db".to_string()])];
        let text = hosts("web", Some(("172.18.0.2".parse().unwrap(), &me)), &peers);
        assert!(text.contains("172.18.0.2\tweb www\n"));
        assert!(text.contains("172.18.0.3\tdb\n"));
        assert!(hosts("box", None, &[]).contains("127.0.1.1\tbox\n"));
    }
}
