//! Read-only views of a running container from the host: its PID 1, its processes with their
//! PIDs inside and outside, its namespaces against the host's, and its hostname.
//!
//! Everything here reads `/proc`; nothing formats for a screen.

use crate::state::kernfile;
use nix::sched::{CloneFlags, setns};
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

/// The namespace kinds worth comparing, as named under `/proc/<pid>/ns/`.
pub const NAMESPACE_KINDS: [&str; 8] =
    ["pid", "uts", "mnt", "net", "ipc", "cgroup", "user", "time"];

/// One process as the host sees it, and as the container sees it if it is inside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub host_pid: i32,
    /// Its PID inside the container's PID namespace, if it lives there.
    pub container_pid: Option<i32>,
    pub host_ppid: i32,
    pub user: String,
    /// The one-letter state from `/proc/<pid>/status` (R, S, D, T, Z, ...).
    pub state: char,
    pub command: String,
    /// Its start time (clock ticks after boot): with the PID, which process this is.
    pub start: u64,
    /// CPU time used so far (user and system, clock ticks).
    pub cpu_ticks: u64,
    /// Resident memory, KiB.
    pub rss_kib: u64,
    /// CPU since the inspection before, in tenths of a percent of one core (the inspector
    /// thread fills it in from two inspections).
    pub cpu_permille: Option<u32>,
}

/// One namespace kind: its id in the container and on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRow {
    pub kind: &'static str,
    pub container: Option<String>,
    pub host: Option<String>,
}

impl NamespaceRow {
    /// True when the container has a namespace of this kind of its own.
    pub fn isolated(&self) -> bool {
        self.container.is_some() && self.container != self.host
    }
}

/// Everything the inspector shows of one container at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The container's PID 1, as the host numbers it.
    pub init_pid: i32,
    /// The container's hostname (its UTS namespace), if it could be read.
    pub hostname: Option<String>,
    pub host_hostname: String,
    /// Every host process; those inside the container have a `container_pid`.
    pub processes: Vec<ProcessInfo>,
    pub namespaces: Vec<NamespaceRow>,
    /// PID 1's privileges, read live.
    pub security: Security,
    /// Its network inside beside the host's view of it (filled by the caller, who knows the
    /// container's id and the previous look, for rates).
    pub network: Option<crate::runtime::net::view::NetView>,
}

/// What `/proc/<pid>/status` says of a process's privileges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    /// Effective capabilities, as a bit mask.
    pub cap_eff: u64,
    pub no_new_privs: bool,
    /// 0 none, 1 strict, 2 filter.
    pub seccomp: u8,
    /// Its user namespace's uid map, as the host reads it (`/proc/<pid>/uid_map`): (first id
    /// inside, first id on the host, count) ranges; the host's own is `0 0 4294967295`.
    pub uid_map: Vec<(u32, u32, u32)>,
}

impl Security {
    /// Reads the `CapEff`, `NoNewPrivs` and `Seccomp` lines of a status file.
    pub fn parse(status: &str) -> Security {
        Security {
            cap_eff: field(status, "CapEff:")
                .and_then(|v| u64::from_str_radix(v, 16).ok())
                .unwrap_or(0),
            no_new_privs: field(status, "NoNewPrivs:") == Some("1"),
            seccomp: field(status, "Seccomp:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            uid_map: Vec::new(),
        }
    }

    /// Parses a `uid_map` file: three numbers a line.
    pub fn parse_map(text: &str) -> Vec<(u32, u32, u32)> {
        text.lines()
            .filter_map(|l| {
                let mut n = l.split_whitespace().map(|n| n.parse().ok());
                Some((n.next()??, n.next()??, n.next()??))
            })
            .collect()
    }

    /// Whether container ids are host ids (no user namespace of its own, or one that maps
    /// them all to themselves).
    pub fn host_ids(&self) -> bool {
        self.uid_map.is_empty() || self.uid_map == [(0, 0, u32::MAX)]
    }

    /// The uid map as read: `0-65535 → 2147483648-2147549183`, or `the host's`.
    pub fn describe_uids(&self) -> String {
        if self.host_ids() {
            return "the host's (root is the host's root)".into();
        }
        self.uid_map
            .iter()
            .map(|&(inside, outside, count)| {
                let last = |first: u32| first.saturating_add(count - 1);
                format!(
                    "{inside}-{} \u{2192} host {outside}-{}",
                    last(inside),
                    last(outside)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The capability names in `cap_eff`, without the `CAP_` prefix.
    pub fn capability_names(&self) -> Vec<String> {
        let mut names: Vec<String> = caps::all()
            .into_iter()
            .filter(|c| self.cap_eff & c.bitmask() != 0)
            .map(|c| c.to_string().trim_start_matches("CAP_").to_string())
            .collect();
        names.sort();
        names
    }
}

impl Inspection {
    /// Takes a look at the container whose PID 1 is `init` (while it still is). Enters its
    /// UTS namespace (see [`hostnames_of`]), so call it from a thread of its own.
    pub fn take(init: crate::state::Process, users: &Users) -> Option<Inspection> {
        if !init.alive() {
            return None;
        }
        let init_pid = init.pid;
        Some(Inspection {
            init_pid,
            hostname: hostnames_of(&[init_pid]).remove(&init_pid),
            host_hostname: host_hostname(),
            processes: processes(init_pid, users),
            namespaces: namespaces(init_pid),
            security: Security {
                uid_map: std::fs::read_to_string(format!("/proc/{init_pid}/uid_map"))
                    .map(|m| Security::parse_map(&m))
                    .unwrap_or_default(),
                ..kernfile::read(format!("/proc/{init_pid}/status"))
                    .map(|s| Security::parse(&s))
                    .unwrap_or_default()
            },
            network: None,
        })
    }

    /// The container's own processes, by PID inside the container.
    pub fn container_processes(&self) -> Vec<&ProcessInfo> {
        let mut inside: Vec<&ProcessInfo> = self
            .processes
            .iter()
            .filter(|p| p.container_pid.is_some())
            .collect();
        inside.sort_by_key(|p| p.container_pid);
        inside
    }
}

/// The `NSpid:` line of a `/proc/<pid>/status`: the PID in each PID namespace, outermost first.
pub fn parse_nspid(status: &str) -> Vec<i32> {
    field(status, "NSpid:")
        .map(|v| {
            v.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
}

/// Every process on the host, each with its PID inside the container of `init_pid` when it
/// lives in that container's PID namespace; sorted by host PID.
pub fn processes(init_pid: i32, users: &Users) -> Vec<ProcessInfo> {
    let ns_link = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let container_ns = ns_link(init_pid);
    let level = kernfile::read(format!("/proc/{init_pid}/status"))
        .map(|s| parse_nspid(&s).len().saturating_sub(1))
        .unwrap_or(0);
    let mut out: Vec<ProcessInfo> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let status = kernfile::read(format!("/proc/{pid}/status")).ok()?;
            let inside = container_ns.is_some() && ns_link(pid) == container_ns;
            Some(process_info(pid, &status, inside.then_some(level), users))
        })
        .collect();
    out.sort_by_key(|p| p.host_pid);
    out
}

/// Builds a [`ProcessInfo`] from a status file; `level` is the depth of the container's PID
/// namespace when the process lives in it.
pub fn process_info(pid: i32, status: &str, level: Option<usize>, users: &Users) -> ProcessInfo {
    let nspid = parse_nspid(status);
    let uid = field(status, "Uid:")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(u32::MAX);
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let command = if cmdline.is_empty() {
        format!("[{}]", field(status, "Name:").unwrap_or("?"))
    } else {
        String::from_utf8_lossy(&cmdline)
            .replace('\0', " ")
            .trim_end()
            .to_string()
    };
    // After the command's closing parenthesis (a command may hold any byte): state, ppid,
    // ..., utime and stime (the 12th and 13th), starttime (the 20th).
    let stat = kernfile::read(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let at = |i: usize| after.get(i).copied().unwrap_or(0);
    ProcessInfo {
        start: at(19),
        cpu_ticks: at(11) + at(12),
        rss_kib: field(status, "VmRSS:")
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0),
        cpu_permille: None,
        host_pid: pid,
        container_pid: level.and_then(|l| nspid.get(l).copied()),
        host_ppid: field(status, "PPid:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        user: users.name(uid),
        state: field(status, "State:")
            .and_then(|v| v.chars().next())
            .unwrap_or('?'),
        command,
    }
}

/// Namespace ids of `pid` against those of this process (which lives in the host's).
pub fn namespaces(pid: i32) -> Vec<NamespaceRow> {
    let link = |p: &str, kind: &str| {
        std::fs::read_link(format!("/proc/{p}/ns/{kind}"))
            .ok()
            .map(|l| l.to_string_lossy().into_owned())
    };
    NAMESPACE_KINDS
        .iter()
        .map(|&kind| NamespaceRow {
            kind,
            container: link(&pid.to_string(), kind),
            host: link("self", kind),
        })
        .collect()
}

/// The hostnames of these processes' UTS namespaces, those that could be read. Root enters
/// each namespace in the calling thread and comes back, so call it from a thread of its own,
/// never one that other code relies on. A rootless user enters a container's namespaces only
/// as root of its user namespace, which a threaded process cannot join: [`look_as_user`].
pub fn hostnames_of(pids: &[i32]) -> HashMap<i32, String> {
    if pids.is_empty() {
        return HashMap::new();
    }
    if !crate::state::as_root::needed() {
        return pids
            .iter()
            .filter_map(|&pid| Some((pid, hostname_of(pid).ok()?)))
            .collect();
    }
    look_as_user(Look::Hostname, pids)
}

/// The hidden verb of [`look_as_user`]: `__look KIND PID...`.
pub const LOOK_ARG: &str = "__look";

/// What [`look_as_user`] reads of each container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Its hostname, as its UTS namespace says.
    Hostname,
    /// Its network as the inspector shows it ([`super::net::view::Seen`], as JSON).
    Net,
}

impl Look {
    const ALL: [(Look, &'static str); 2] = [(Look::Hostname, "hostname"), (Look::Net, "net")];

    fn name(self) -> &'static str {
        Look::ALL
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("", |(_, n)| n)
    }

    fn parse(name: &str) -> Option<Look> {
        Look::ALL.iter().find(|(_, n)| *n == name).map(|(l, _)| *l)
    }
}

/// What a rootless user's look at these containers found, by PID: one process of ours a
/// look (`__look KIND PID...`), a fork for each container joining its user namespace (its
/// owner, the user, may), then what the look reads. Each answer is one line, `PID TEXT`, the
/// text escaped (a container chooses its hostname, newlines included) and kept only for a
/// PID asked: a container can speak only for itself.
pub fn look_as_user(look: Look, pids: &[i32]) -> HashMap<i32, String> {
    let out = std::process::Command::new("/proc/self/exe")
        .arg(LOOK_ARG)
        .arg(look.name())
        .args(pids.iter().map(i32::to_string))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    text.unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (pid, said) = line.split_once(' ')?;
            let pid: i32 = pid.parse().ok()?;
            pids.contains(&pid).then(|| (pid, said.to_string()))
        })
        .collect()
}

/// `my-container-tui __look KIND PID...` (see [`look_as_user`]): single-threaded, a fork for
/// each process, which joins its user namespace, reads (entering the namespaces it reads
/// for good: as root of the container's user namespace, it cannot go back to the host's),
/// and prints `PID TEXT`.
pub fn look_main() -> ! {
    use std::io::Write;
    let mut args = std::env::args().skip(2);
    let Some(look) = args.next().as_deref().and_then(Look::parse) else {
        std::process::exit(super::exit::RUNTIME_ERROR)
    };
    for pid in args.filter_map(|p| p.parse::<i32>().ok()) {
        let child = match super::sys::fork() {
            Ok(nix::unistd::ForkResult::Child) => {
                let joined = File::open(format!("/proc/{pid}/ns/user"))
                    .map_err(anyhow::Error::from)
                    .and_then(|user| super::rootless::join_container(&user));
                let said = joined.ok().and_then(|()| match look {
                    Look::Hostname => hostname_in(pid).ok(),
                    Look::Net => serde_json::to_string(&super::net::view::seen_inside(pid)).ok(),
                });
                if let Some(said) = said {
                    let line = format!("{pid} {}\n", crate::printable::escaped(&said));
                    let _ = std::io::stdout().lock().write_all(line.as_bytes());
                }
                // SAFETY: _exit ends this forked child without running the parent's exit work.
                unsafe { libc::_exit(0) }
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => child,
            Err(_) => continue,
        };
        let _ = nix::sys::wait::waitpid(child, None);
    }
    std::process::exit(0)
}

/// The hostname of `pid`'s UTS namespace, entered in the calling thread and left again.
fn hostname_of(pid: i32) -> std::io::Result<String> {
    let own = File::open("/proc/thread-self/ns/uts")?;
    let name = hostname_in(pid);
    setns(&own, CloneFlags::CLONE_NEWUTS)?;
    name
}

/// The hostname of `pid`'s UTS namespace, which the calling thread enters and stays in.
fn hostname_in(pid: i32) -> std::io::Result<String> {
    let theirs = File::open(format!("/proc/{pid}/ns/uts"))?;
    setns(&theirs, CloneFlags::CLONE_NEWUTS)?;
    let name = nix::sys::utsname::uname()?;
    Ok(name.nodename().to_string_lossy().into_owned())
}

/// The host's hostname.
pub fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// User names by uid, from `/etc/passwd`.
#[derive(Debug, Default, Clone)]
pub struct Users(HashMap<u32, String>);

impl Users {
    pub fn load() -> Users {
        Users::parse(&std::fs::read_to_string(Path::new("/etc/passwd")).unwrap_or_default())
    }

    pub fn parse(passwd: &str) -> Users {
        Users(
            passwd
                .lines()
                .filter_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    let uid = f.nth(1)?.parse().ok()?;
                    Some((uid, name.to_string()))
                })
                .collect(),
        )
    }

    pub fn name(&self, uid: u32) -> String {
        self.0.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str =
        "Name:\tbash\nState:\tS (sleeping)\nPPid:\t4041\nUid:\t0\t0\t0\t0\nNSpid:\t4242\t1\n";

    #[test]
    fn nspid_lists_the_pid_in_each_namespace() {
        assert_eq!(parse_nspid(STATUS), vec![4242, 1]);
        assert_eq!(parse_nspid("NSpid:\t17\n"), vec![17]);
        assert_eq!(parse_nspid("Name:\tx\n"), Vec::<i32>::new());
    }

    #[test]
    fn container_pid_is_taken_at_the_containers_level() {
        let users = Users::parse("root:x:0:0:root:/root:/bin/bash\n");
        let p = process_info(4242, STATUS, Some(1), &users);
        assert_eq!(
            (p.host_pid, p.container_pid, p.host_ppid),
            (4242, Some(1), 4041)
        );
        assert_eq!((p.user.as_str(), p.state), ("root", 'S'));
        assert_eq!(process_info(4242, STATUS, None, &users).container_pid, None);
    }

    #[test]
    fn security_fields_parse() {
        let s = Security::parse("CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n");
        assert_eq!(
            (s.cap_eff, s.no_new_privs, s.seccomp),
            (0xa80425fb, true, 2)
        );
        let names = s.capability_names();
        assert_eq!(names.len(), 14);
        assert!(names.contains(&"NET_BIND_SERVICE".to_string()));
        assert!(!names.contains(&"SYS_ADMIN".to_string()));
    }

    #[test]
    fn unknown_uids_show_as_numbers() {
        assert_eq!(Users::parse("").name(1234), "1234");
    }

    #[test]
    fn a_namespace_is_isolated_when_ids_differ() {
        let row = |c: &str, h: &str| NamespaceRow {
            kind: "uts",
            container: Some(c.into()),
            host: Some(h.into()),
        };
        assert!(row("uts:[1]", "uts:[2]").isolated());
        assert!(!row("uts:[1]", "uts:[1]").isolated());
    }
}
