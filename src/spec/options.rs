//! The run options, once: each row is one option with its flag, help, value name, the
//! dashboard form's label (if the form offers it) and how its value changes a [`Run`].
//!
//! The command line's arguments (clap's, built from [`OPTIONS`]), the dashboard's new-session
//! form, README's option table (held to this one by a test) and the checks on what they give
//! all come from here, so a run option means the same wherever it is typed. Adding an option
//! is one row (and, when it is new data, a field of the spec).

use super::device::Device;
use super::limits;
use super::network::{Network, Publish};
use super::platform::Platform;
use super::rootfs::{Rootfs, Writes};
use super::run::{ImageRequest, Launch, PullPolicy, RestartPolicy, names_image, parse_signal};
use super::volume::{Mount, Volume};
use super::{ContainerSpec, InvalidSpec};
use std::path::PathBuf;

/// How an option takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// A switch: present or not.
    Flag,
    /// One value; given again, the last wins.
    One,
    /// A value each time it is given (`-e A=1 -e B=2`); the form takes several, separated
    /// by blanks.
    Many,
}

/// One run option.
pub struct Opt {
    /// `--long`, without the dashes; also the option's id.
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in the help (`SIZE`); empty for a flag.
    pub value: &'static str,
    pub takes: Takes,
    pub help: &'static str,
    /// The dashboard form's label, for the options the form offers.
    pub form: Option<&'static str>,
    /// The form's hint when the field is empty and the template sets nothing.
    pub example: &'static str,
    /// Another name for the flag (`--net`).
    pub alias: Option<&'static str>,
    /// Values may start with `-` (`--memory-swap -1`).
    pub hyphen_values: bool,
    /// Options that cannot be given with this one.
    pub conflicts: &'static [&'static str],
    /// An option this one needs.
    pub requires: Option<&'static str>,
    /// The words the value may be, when it is one of a few.
    pub words: &'static [&'static str],
    /// Changes the run as the value says (a flag's value is empty), or says why it cannot.
    pub apply: fn(&mut Run, &str) -> Result<(), String>,
}

impl Opt {
    const fn new(
        long: &'static str,
        value: &'static str,
        takes: Takes,
        help: &'static str,
        apply: fn(&mut Run, &str) -> Result<(), String>,
    ) -> Opt {
        Opt {
            long,
            short: None,
            value,
            takes,
            help,
            form: None,
            example: "",
            alias: None,
            hyphen_values: false,
            conflicts: &[],
            requires: None,
            words: &[],
            apply,
        }
    }

    const fn flag(
        long: &'static str,
        help: &'static str,
        apply: fn(&mut Run, &str) -> Result<(), String>,
    ) -> Opt {
        Opt::new(long, "", Takes::Flag, help, apply)
    }

    const fn one(
        long: &'static str,
        value: &'static str,
        help: &'static str,
        apply: fn(&mut Run, &str) -> Result<(), String>,
    ) -> Opt {
        Opt::new(long, value, Takes::One, help, apply)
    }

    const fn many(
        long: &'static str,
        value: &'static str,
        help: &'static str,
        apply: fn(&mut Run, &str) -> Result<(), String>,
    ) -> Opt {
        Opt::new(long, value, Takes::Many, help, apply)
    }

    const fn short(mut self, c: char) -> Opt {
        self.short = Some(c);
        self
    }

    const fn form(mut self, label: &'static str, example: &'static str) -> Opt {
        self.form = Some(label);
        self.example = example;
        self
    }

    const fn hyphens(mut self) -> Opt {
        self.hyphen_values = true;
        self
    }

    const fn conflicts(mut self, with: &'static [&'static str]) -> Opt {
        self.conflicts = with;
        self
    }

    const fn requires(mut self, option: &'static str) -> Opt {
        self.requires = Some(option);
        self
    }

    const fn alias(mut self, alias: &'static str) -> Opt {
        self.alias = Some(alias);
        self
    }

    const fn words(mut self, words: &'static [&'static str]) -> Opt {
        self.words = words;
        self
    }

    /// How the option is shown in messages: `--memory`.
    pub fn shown(&self) -> String {
        format!("--{}", self.long)
    }
}

/// Every run option, in the order `--help` lists them.
pub static OPTIONS: [Opt; 70] = [
    Opt::one("hostname", "NAME", "The container's hostname", |r, v| {
        r.spec.hostname = v.to_string();
        Ok(())
    })
    .form("Hostname", ""),
    Opt::many(
        "env",
        "KEY=VALUE",
        "Set an environment variable in the container (KEY=VALUE, or KEY to copy the host's)",
        |r, v| {
            if v.is_empty() || v.starts_with('=') {
                return Err(format!("invalid environment variable {v:?}: expected KEY=VALUE"));
            }
            r.env.push(v.to_string());
            Ok(())
        },
    )
    .short('e')
    .form("Env", "e.g. DEBUG=1 LANG=C.UTF-8"),
    Opt::one(
        "workdir",
        "DIR",
        "Working directory of the command [default: the current directory]",
        |r, v| {
            if v.is_empty() {
                return Err("the working directory must not be empty".into());
            }
            r.workdir = Some(PathBuf::from(v));
            Ok(())
        },
    )
    .short('w')
    .form("Workdir", ""),
    Opt::flag(
        "init",
        "Run a minimal init as PID 1 that reaps zombies and forwards signals to the command",
        |r, _| {
            r.spec.init = true;
            Ok(())
        },
    ),
    Opt::flag(
        "tty",
        "Give the container a pseudo-terminal even when stdin is not a terminal",
        |r, _| {
            r.tty = Some(true);
            Ok(())
        },
    )
    .short('t')
    .conflicts(&["no-tty"]),
    Opt::flag(
        "no-tty",
        "Never give the container a pseudo-terminal; pass stdio through as it is",
        |r, _| {
            r.tty = Some(false);
            Ok(())
        },
    )
    .short('T'),
    Opt::one(
        "memory",
        "SIZE",
        "Memory limit (b, k, m, g), e.g. 64m; at least 6m",
        |r, v| {
            r.spec.limits.memory = Some(limits::parse_bytes(v)?);
            Ok(())
        },
    )
    .short('m')
    .hyphens()
    .form("Memory", "(no limit) e.g. 256m"),
    Opt::one(
        "memory-swap",
        "SIZE",
        "Memory plus swap (b, k, m, g), or -1 for unlimited swap [default: twice --memory]",
        |r, v| {
            r.spec.limits.memory_swap = Some(limits::parse_swap(v)?);
            Ok(())
        },
    )
    .hyphens(),
    Opt::one(
        "pids-limit",
        "N",
        "Most processes (and threads) at once, or -1 for no limit",
        |r, v| {
            r.spec.limits.pids = u64::try_from(limits::parse_pids(v)?).ok();
            Ok(())
        },
    )
    .hyphens(),
    Opt::one(
        "cpus",
        "CPUS",
        "CPUs the container may use, e.g. 0.5 (CFS quota per 100 ms period)",
        |r, v| {
            r.spec.limits.cpu_quota_us = Some(limits::parse_cpus(v)?);
            Ok(())
        },
    )
    .hyphens()
    .form("CPUs", "(no limit) e.g. 0.5"),
    Opt::one(
        "cpu-shares",
        "N",
        "Relative CPU weight against other containers (2-262144, default 1024)",
        |r, v| {
            r.spec.limits.cpu_shares = Some(limits::parse_shares(v)?);
            Ok(())
        },
    )
    .hyphens(),
    Opt::one(
        "memory-reservation",
        "SIZE",
        "A soft memory limit the kernel reclaims toward under pressure (below --memory)",
        |r, v| {
            r.spec.limits.memory_reservation = Some(limits::parse_bytes(v)?);
            Ok(())
        },
    ),
    Opt::one(
        "cpuset-cpus",
        "CPUS",
        "The CPUs the container may run on (0-3, 0,1)",
        |r, v| {
            r.spec.limits.cpuset_cpus = Some(limits::parse_cpuset(v)?);
            Ok(())
        },
    ),
    Opt::one(
        "cpuset-mems",
        "NODES",
        "The memory nodes the container may use (0-3, 0,1)",
        |r, v| {
            r.spec.limits.cpuset_mems = Some(limits::parse_cpuset(v)?);
            Ok(())
        },
    ),
    Opt::one(
        "shm-size",
        "SIZE",
        "The size of the container's /dev/shm (b, k, m, g) [default: 64m]",
        |r, v| {
            let size = limits::parse_bytes(v)?;
            if size == 0 {
                return Err("--shm-size must be more than 0".into());
            }
            r.spec.shm_size = Some(size);
            Ok(())
        },
    ),
    Opt::one(
        "rootfs",
        "DIR",
        "Use DIR as the container's root filesystem (copy-on-write over it by default)",
        |r, v| {
            if v.is_empty() {
                return Err("the rootfs directory must not be empty".into());
            }
            r.rootfs = Some(PathBuf::from(v));
            Ok(())
        },
    )
    .form("Rootfs", "(none: the host's files)"),
    Opt::flag(
        "rootfs-persist",
        "With --rootfs: write straight to DIR instead of a throw-away overlay",
        |r, _| {
            r.persist = true;
            Ok(())
        },
    )
    .requires("rootfs")
    .conflicts(&["read-only"]),
    Opt::flag(
        "read-only",
        "With --rootfs or --image: make the container's / read-only",
        |r, _| {
            r.read_only = true;
            Ok(())
        },
    ),
    Opt::one(
        "image",
        "REF",
        "Use image REF as the root filesystem (pulled when missing); with no command, its Entrypoint and Cmd run",
        |r, v| {
            if v.is_empty() {
                return Err("the image reference must not be empty".into());
            }
            r.image = Some(v.to_string());
            Ok(())
        },
    )
    .conflicts(&["rootfs"])
    .form("Image", "(none)"),
    Opt::flag(
        "host",
        "The command is the host's even when its name is an image's (the first word after `run` is an image when it has a tag, digest or registry, or names one in the store)",
        |r, _| {
            r.host_command = true;
            Ok(())
        },
    )
    .conflicts(&["image", "rootfs"]),
    Opt::one(
        "pull",
        "WHEN",
        "With --image: always, missing (pull when the store lacks it) or never [default: missing]",
        |r, v| {
            r.pull = PullPolicy::parse(v)?;
            Ok(())
        },
    )
    .words(&PullPolicy::WORDS),
    Opt::one(
        "platform",
        "PLATFORM",
        "With --image: the platform to pull and run, OS/ARCH[/VARIANT] [default: the host's]",
        |r, v| {
            r.platform = Some(Platform::parse(v).map_err(|e| e.to_string())?);
            Ok(())
        },
    ),
    Opt::one(
        "entrypoint",
        "CMD",
        "With --image: replace the image's Entrypoint (\"\" for none)",
        |r, v| {
            r.entrypoint = Some(v.to_string());
            Ok(())
        },
    ),
    Opt::one(
        "user",
        "USER[:GROUP]",
        "Run as this user: uid[:gid] or name[:group], looked up in the container's files",
        |r, v| {
            if v.is_empty() {
                return Err("the user must not be empty".into());
            }
            r.spec.user = Some(v.to_string());
            Ok(())
        },
    )
    .short('u'),
    Opt::many(
        "insecure-registry",
        "HOST",
        "Reach this registry (host[:port]) over plain HTTP, as loopback ones are",
        |r, v| {
            r.insecure.push(v.to_string());
            Ok(())
        },
    ),
    Opt::many(
        "volume",
        "SRC:DST[:OPTS]",
        "Bind-mount a host file or directory, or a named volume: SRC:DST[:ro][,idmap] (SRC absolute, or a volume's name; idmap: seen through --userns's maps)",
        |r, v| {
            match Volume::parse_anonymous(v)? {
                Some((dst, read_only)) => r.spec.add_anonymous(dst, read_only),
                None => r.binds.push(Volume::parse_bind(v)?),
            }
            Ok(())
        },
    )
    .short('v')
    .form("Volumes", "e.g. /srv/data:/data:ro"),
    Opt::many(
        "mount",
        "type=…,source=…,target=…",
        "Mount a bind, a named volume or a tmpfs, Docker's long form: type=bind|volume|tmpfs,source=…,target=…[,readonly][,tmpfs-size=…][,tmpfs-mode=…]",
        |r, v| {
            match Volume::parse_mount(v)? {
                Mount::Volume(tmpfs @ Volume::Tmpfs { .. }) => r.tmpfs.push(tmpfs),
                Mount::Volume(other) => r.binds.push(other),
                Mount::Anonymous { dst, read_only } => r.spec.add_anonymous(dst, read_only),
            }
            Ok(())
        },
    ),
    Opt::many(
        "tmpfs",
        "DST[:OPTIONS]",
        "Mount an empty tmpfs: DST[:size=64m]",
        |r, v| {
            r.tmpfs.push(Volume::parse_tmpfs(v)?);
            Ok(())
        },
    ),
    Opt::flag(
        "privileged",
        "Turn off the default hardening (capabilities, no_new_privs, seccomp, masked paths)",
        |r, _| {
            r.spec.hardening.privileged = true;
            Ok(())
        },
    ),
    Opt::flag(
        "host-rw",
        "Without --rootfs: let the container write the host's files, as the seed did (unsafe: root inside can then rewrite the host)",
        |r, _| {
            r.spec.hardening.host_rw = true;
            Ok(())
        },
    ),
    Opt::many(
        "device",
        "HOST[:CONTAINER][:rwm]",
        "Give the container a host device: HOST[:CONTAINER][:rwm]",
        |r, v| {
            r.spec
                .devices
                .push(Device::parse(v).map_err(|e| format!("{e:#}"))?);
            Ok(())
        },
    ),
    Opt::flag(
        "detach",
        "Run the container in the background under a monitor of its own, and print its id",
        |r, _| {
            r.launch.detach = true;
            Ok(())
        },
    )
    .short('d'),
    Opt::one(
        "name",
        "NAME",
        "The container's name (unique on the host) [default: a generated one]",
        |r, v| {
            super::names::validate_name(v)?;
            r.launch.name = Some(v.to_string());
            Ok(())
        },
    )
    .form("Name", ""),
    Opt::flag(
        "rm",
        "With -d: remove the container when it ends (foreground runs always are)",
        |r, _| {
            r.rm = true;
            Ok(())
        },
    ),
    Opt::one(
        "restart",
        "POLICY",
        "With -d: no, on-failure[:N], always or unless-stopped",
        |r, v| {
            r.restart = Some(RestartPolicy::parse(v)?);
            Ok(())
        },
    ),
    Opt::many(
        "label",
        "KEY=VALUE",
        "Set metadata on the container (KEY=VALUE, or KEY for an empty value)",
        |r, v| {
            let (key, value) = v.split_once('=').unwrap_or((v, ""));
            if key.is_empty() {
                return Err(format!("invalid label {v:?}: expected KEY=VALUE"));
            }
            r.spec.labels.insert(key.to_string(), value.to_string());
            Ok(())
        },
    )
    .short('l'),
    Opt::one(
        "stop-signal",
        "SIGNAL",
        "The signal `stop` sends first [default: SIGTERM]",
        |r, v| {
            r.launch.stop_signal = Some(parse_signal(v)?);
            Ok(())
        },
    ),
    Opt::one(
        "stop-timeout",
        "SECS",
        "Seconds `stop` waits for the container before SIGKILL [default: 10]",
        |r, v| {
            r.launch.stop_timeout = Some(
                v.parse()
                    .map_err(|_| format!("invalid --stop-timeout {v:?}: a number of seconds"))?,
            );
            Ok(())
        },
    ),
    Opt::many(
        "env-file",
        "FILE",
        "Read environment variables from FILE: KEY=VALUE lines (KEY alone copies the host's; # comments)",
        |r, v| {
            r.env.extend(super::run::read_env_file(std::path::Path::new(v))?);
            Ok(())
        },
    ),
    Opt::one(
        "cidfile",
        "FILE",
        "Write the container's id to FILE (which must not exist)",
        |r, v| {
            if v.is_empty() {
                return Err("the cidfile must not be empty".into());
            }
            r.launch.cidfile = Some(PathBuf::from(v));
            Ok(())
        },
    ),
    Opt::many(
        "group-add",
        "GROUP",
        "Another supplementary group for the container's user (a number, or a name in its /etc/group)",
        |r, v| {
            if v.is_empty() || v.contains(':') {
                return Err(format!("invalid --group-add {v:?}"));
            }
            r.spec.group_add.push(v.to_string());
            Ok(())
        },
    ),
    Opt::one(
        "health-cmd",
        "CMD",
        "With -d: a shell command the monitor runs in the container to check its health (exit 0: healthy)",
        |r, v| {
            if v.trim().is_empty() {
                return Err("--health-cmd must not be empty".into());
            }
            r.spec.health.get_or_insert_with(Default::default).test =
                vec!["/bin/sh".into(), "-c".into(), v.to_string()];
            Ok(())
        },
    )
    .conflicts(&["no-healthcheck"]),
    Opt::one(
        "health-interval",
        "DURATION",
        "Time between health checks (30s, 1m) [default: 30s]",
        |r, v| {
            r.spec.health.get_or_insert_with(Default::default).interval_ms =
                super::run::parse_duration_ms(v)?;
            Ok(())
        },
    ),
    Opt::one(
        "health-timeout",
        "DURATION",
        "How long a health check may run before it counts as failed [default: 30s]",
        |r, v| {
            r.spec.health.get_or_insert_with(Default::default).timeout_ms =
                super::run::parse_duration_ms(v)?;
            Ok(())
        },
    ),
    Opt::one(
        "health-start-period",
        "DURATION",
        "A first while in which failed checks do not count [default: 0s]",
        |r, v| {
            r.spec.health.get_or_insert_with(Default::default).start_period_ms =
                super::run::parse_duration_ms(v)?;
            Ok(())
        },
    ),
    Opt::one(
        "health-retries",
        "N",
        "Consecutive failed checks that make the container unhealthy [default: 3]",
        |r, v| {
            r.spec.health.get_or_insert_with(Default::default).retries = v
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("invalid --health-retries {v:?}: a number from 1"))?;
            Ok(())
        },
    ),
    Opt::flag(
        "no-healthcheck",
        "Run no health check, not even the image's",
        |r, _| {
            r.spec.no_healthcheck = true;
            Ok(())
        },
    ),
    Opt::one(
        "log-driver",
        "DRIVER",
        "With -d: json-file (the default: `logs` reads it) or none (nothing kept)",
        |r, v| {
            r.spec.logging.keep = v == "json-file";
            Ok(())
        },
    )
    .words(&super::run::Logging::DRIVERS),
    Opt::many(
        "log-opt",
        "KEY=VALUE",
        "The json-file log's max-size=SIZE (rotated past it) and max-file=N (files kept) [default: 8m, 2]",
        |r, v| r.spec.logging.apply_option(v),
    ),
    Opt::flag(
        "interactive",
        "With -d: keep the container's stdin open for attach (else it reads /dev/null)",
        |r, _| {
            r.launch.interactive = true;
            Ok(())
        },
    )
    .short('i'),
    Opt::one(
        "network",
        "NETWORK",
        "The container's network: bridge (the default: NAT to the outside; pasta for a user without root), none (loopback only, the most isolated), host, pasta (user-mode: the user's own sockets), container:NAME, or a network made by `network create`",
        |r, v| {
            r.spec.network.mode = Network::parse_mode(v)?;
            Ok(())
        },
    )
    .alias("net")
    .form("Network", ""),
    Opt::one(
        "uts",
        "host",
        "Share the host's UTS namespace (its hostname) instead of one of its own",
        |r, v| {
            r.spec.shared.uts = super::Share::parse("uts", v, false)?;
            Ok(())
        },
    )
    .conflicts(&["hostname"]),
    Opt::one(
        "ipc",
        "MODE",
        "The IPC namespace: private (the default), shareable, host, or container:NAME",
        |r, v| {
            r.spec.shared.ipc = super::Share::parse("ipc", v, true)?;
            Ok(())
        },
    ),
    Opt::one(
        "pid",
        "MODE",
        "Share a PID namespace: host, or container:NAME's (its processes seen and signalled)",
        |r, v| {
            r.spec.shared.pid = super::Share::parse("pid", v, true)?;
            Ok(())
        },
    ),
    Opt::one(
        "userns",
        "MODE",
        "The user namespace: host (the default: container root is the host's root), or auto[:size=N] (65,536 host ids no other container holds, from /etc/subuid and /etc/subgid's ranges for the user my-container-tui: container root is no one on the host)",
        |r, v| {
            r.spec.userns = super::userns::UserNs::parse(v)?;
            Ok(())
        },
    )
    .conflicts(&["uidmap", "gidmap"]),
    Opt::many(
        "uidmap",
        "C:H:N",
        "A user namespace of its own with container uids C.. as host uids H.. (N of them); with --gidmap",
        |r, v| {
            let range = super::userns::IdRange::parse("uidmap", v)?;
            r.spec.userns.add_range(true, range);
            Ok(())
        },
    )
    .requires("gidmap"),
    Opt::many(
        "gidmap",
        "C:H:N",
        "The same for group ids; with --uidmap",
        |r, v| {
            let range = super::userns::IdRange::parse("gidmap", v)?;
            r.spec.userns.add_range(false, range);
            Ok(())
        },
    )
    .requires("uidmap"),
    Opt::many(
        "publish",
        "PORTS",
        "Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]",
        |r, v| {
            r.spec.network.publish.push(Publish::parse(v)?);
            Ok(())
        },
    )
    .short('p')
    .form("Ports", "(none) e.g. 8080:80 53:53/udp"),
    Opt::flag(
        "publish-all",
        "Publish every exposed port (--expose, the image's ExposedPorts) on a free host port",
        |r, _| {
            r.spec.network.publish_all = true;
            Ok(())
        },
    )
    .short('P'),
    Opt::many(
        "expose",
        "PORT[/PROTO]",
        "A port the container serves (published by -P): PORT[-PORT][/tcp|/udp]",
        |r, v| {
            for port in super::network::Network::parse_expose(v)? {
                if !r.spec.network.expose.contains(&port) {
                    r.spec.network.expose.push(port);
                }
            }
            Ok(())
        },
    ),
    Opt::many(
        "network-alias",
        "ALIAS",
        "Another name the container's peers on a user network reach it by",
        |r, v| {
            super::names::validate_name(v).map_err(|e| e.replace("container name", "alias"))?;
            r.spec.network.aliases.push(v.to_string());
            Ok(())
        },
    ),
    Opt::many(
        "add-host",
        "NAME:IP",
        "Add a line to the container's /etc/hosts: NAME:IP",
        |r, v| {
            let host = super::network::NameService::parse_host(v)?;
            r.spec.network.names.hosts.push(host);
            Ok(())
        },
    ),
    Opt::many(
        "dns",
        "IP",
        "A DNS server for the container's /etc/resolv.conf (instead of the host's)",
        |r, v| {
            let ip = v
                .parse()
                .map_err(|_| format!("invalid --dns {v:?}: not an IP address"))?;
            r.spec.network.names.servers.push(ip);
            Ok(())
        },
    ),
    Opt::many(
        "dns-search",
        "DOMAIN",
        "A DNS search domain for the container (instead of the host's; \".\" for none)",
        |r, v| {
            let domain = super::network::NameService::parse_domain(v)?;
            r.spec.network.names.search.push(domain);
            Ok(())
        },
    ),
    Opt::many(
        "dns-option",
        "OPTION",
        "A resolver option for the container (e.g. ndots:2; instead of the host's)",
        |r, v| {
            let option = super::network::NameService::parse_option(v)?;
            r.spec.network.names.options.push(option);
            Ok(())
        },
    ),
    Opt::many(
        "security-opt",
        "OPTION",
        "no-new-privileges[=true|false], seccomp=unconfined, apparmor=unconfined, label=disable",
        |r, v| super::hardening::security_opt(&mut r.spec.hardening, v),
    ),
    Opt::many(
        "sysctl",
        "KEY=VALUE",
        "A namespaced kernel setting in the container (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)",
        |r, v| {
            let (key, value) = v
                .split_once('=')
                .ok_or_else(|| format!("invalid --sysctl {v:?}: expected KEY=VALUE"))?;
            if key.is_empty() || value.contains('\n') || value.len() > 4096 {
                return Err(format!("invalid --sysctl {v:?}"));
            }
            r.spec.sysctls.retain(|(k, _)| k != key);
            r.spec.sysctls.push((key.to_string(), value.to_string()));
            Ok(())
        },
    ),
    Opt::many(
        "ulimit",
        "NAME=SOFT[:HARD]",
        "A resource limit of the container's processes (nofile=1024:2048, nproc=512, core=0; -1 for unlimited)",
        |r, v| {
            let limit = super::limits::Ulimit::parse(v)?;
            r.spec.ulimits.retain(|u| u.name != limit.name);
            r.spec.ulimits.push(limit);
            Ok(())
        },
    ),
    Opt::many(
        "cap-add",
        "CAP",
        "Add a capability to the default set (e.g. NET_ADMIN, or ALL)",
        |r, v| {
            super::hardening::parse_cap(v)?;
            r.spec.hardening.cap_add.push(v.to_string());
            Ok(())
        },
    ),
    Opt::many(
        "cap-drop",
        "CAP",
        "Drop a capability from the default set (e.g. NET_RAW, or ALL)",
        |r, v| {
            super::hardening::parse_cap(v)?;
            r.spec.hardening.cap_drop.push(v.to_string());
            Ok(())
        },
    ),
];

/// The dashboard form's fields, top to bottom, by the `--long` of their row; [`COMMAND`] is
/// the session's command, which is no option. Each row with a form label is here once.
pub const FORM: [&str; 12] = [
    "name", "hostname", COMMAND, "rootfs", "image", "network", "publish", "memory", "cpus", "env",
    "volume", "workdir",
];

/// The form's command field in [`FORM`].
pub const COMMAND: &str = "";

/// The form's label of field `long` (a [`FORM`] entry).
pub fn form_label(long: &str) -> &'static str {
    match long {
        COMMAND => "Command",
        long => option(long).and_then(|o| o.form).unwrap_or("?"),
    }
}

/// The row of `--long`.
pub fn option(long: &str) -> Option<&'static Opt> {
    OPTIONS.iter().find(|o| o.long == long)
}

/// A value that cannot make a container, and the option it came from (for the form, the
/// field to put the cursor on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// `--long` of the option at fault, when one is.
    pub option: Option<&'static str>,
    pub message: String,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for OptionError {}

impl From<InvalidSpec> for OptionError {
    fn from(e: InvalidSpec) -> Self {
        OptionError {
            option: None,
            message: e.0,
        }
    }
}

fn at(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option: Some(option),
        message: message.into(),
    }
}

/// What a run is started from besides its options: where it was typed, whether stdin is a
/// terminal, and the host environment `-e KEY` and `TERM` come from.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub cwd: PathBuf,
    pub stdin_terminal: bool,
    pub env: Vec<(String, String)>,
}

impl Host {
    /// This process's.
    pub fn current() -> Host {
        use std::io::IsTerminal;
        Host {
            cwd: std::env::current_dir().unwrap_or_else(|_| "/".into()),
            stdin_terminal: std::io::stdin().is_terminal(),
            env: std::env::vars().collect(),
        }
    }

    /// `-e` values as `KEY=VALUE` pairs: Docker's `-e KEY` takes the host's value, or nothing
    /// when the host has none (`run` and `exec` alike).
    pub fn env_pairs(&self, given: Vec<String>) -> Vec<String> {
        given
            .into_iter()
            .filter_map(|kv| match kv.contains('=') {
                true => Some(kv),
                false => self.var(&kv).map(|v| format!("{kv}={v}")),
            })
            .collect()
    }

    fn var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A run being built: the options applied so far, over the defaults. Cloned, it is the
/// dashboard's template, which the form's fields apply to in turn.
#[derive(Debug, Clone)]
pub struct Run {
    pub spec: ContainerSpec,
    pub launch: Launch,
    env: Vec<String>,
    workdir: Option<PathBuf>,
    tty: Option<bool>,
    rootfs: Option<PathBuf>,
    persist: bool,
    read_only: bool,
    image: Option<String>,
    host_command: bool,
    pull: PullPolicy,
    platform: Option<Platform>,
    entrypoint: Option<String>,
    insecure: Vec<String>,
    binds: Vec<Volume>,
    tmpfs: Vec<Volume>,
    rm: bool,
    restart: Option<RestartPolicy>,
}

/// A run ready to start: the spec, how it runs, and the image it asks for (its layers and
/// config are [`crate::image`]'s to apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub spec: ContainerSpec,
    pub launch: Launch,
}

impl Run {
    /// The defaults, for a container whose id is `id` (fresh).
    pub fn new(id: String) -> Run {
        Run {
            spec: ContainerSpec::new(id, Vec::new(), PathBuf::from("/")),
            launch: Launch {
                detach: false,
                name: None,
                auto_remove: true,
                interactive: false,
                restart: RestartPolicy::No,
                stop_signal: None,
                stop_timeout: None,
                cidfile: None,
                image: None,
            },
            env: Vec::new(),
            workdir: None,
            tty: None,
            rootfs: None,
            persist: false,
            read_only: false,
            image: None,
            host_command: false,
            pull: PullPolicy::default(),
            platform: None,
            entrypoint: None,
            insecure: Vec::new(),
            binds: Vec::new(),
            tmpfs: Vec::new(),
            rm: false,
            restart: None,
        }
    }

    /// Applies `value` of `option`; the error names the option.
    pub fn apply(&mut self, option: &'static Opt, value: &str) -> Result<(), OptionError> {
        (option.apply)(self, value).map_err(|e| at(option.long, e))
    }

    /// The form's field of `option` (a row with a form label): blank-separated values for a
    /// [`Takes::Many`] option, the trimmed text for another; nothing typed changes nothing.
    pub fn apply_typed(&mut self, option: &'static Opt, text: &str) -> Result<(), OptionError> {
        match option.takes {
            Takes::Many => text
                .split_whitespace()
                .try_for_each(|v| self.apply(option, v)),
            _ if text.trim().is_empty() => Ok(()),
            _ => self.apply(option, text.trim()),
        }
    }

    /// The restart policy asked for (`--restart`), if any.
    pub fn restart(&self) -> Option<RestartPolicy> {
        self.restart
    }

    /// The image asked for (`--image`), if any.
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// Whether `--host` said the command is the host's whatever its name.
    pub fn host_command(&self) -> bool {
        self.host_command
    }

    /// Docker's `run IMAGE [CMD]` beside the seed's `run CMD`: unless a root was asked for
    /// (`--image`, `--rootfs`) or `--host` was given, a first word that [`names_image`] (asking
    /// `in_store` whether the store holds an image of that name) is taken from `words` as the
    /// image. Whether it was.
    pub fn take_image_word(
        &mut self,
        words: &mut Vec<String>,
        in_store: impl FnOnce(&str) -> bool,
    ) -> Result<bool, OptionError> {
        if self.host_command || self.image.is_some() || self.rootfs.is_some() {
            return Ok(false);
        }
        match words.first() {
            Some(first) if names_image(first, in_store) => {
                let image = words.remove(0);
                self.apply(option("image").expect("a row of the table"), &image)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The rootfs directory asked for (`--rootfs`), if any.
    pub fn rootfs(&self) -> Option<&std::path::Path> {
        self.rootfs.as_deref()
    }

    /// Forgets the root asked for so far, image or directory: the form's typed one replaces
    /// the template's.
    pub fn clear_root(&mut self) {
        self.image = None;
        self.rootfs = None;
        self.spec.rootfs = None;
        self.spec.image = None;
    }

    /// The run for `command` (as typed: one word with blanks is a shell line), checked as
    /// `docker run` checks its options. With an image, an empty command means its Cmd; the
    /// dashboard passes an empty one without an image too, and fills in a shell.
    pub fn finish(self, command: Vec<String>, host: &Host) -> Result<Built, OptionError> {
        let Run {
            mut spec,
            mut launch,
            env,
            workdir,
            tty,
            rootfs,
            persist,
            read_only,
            image,
            host_command: _,
            pull,
            platform,
            entrypoint,
            insecure,
            binds,
            tmpfs,
            rm,
            restart,
        } = self;
        if image.is_some() && rootfs.is_some() {
            return Err(at("image", "give --rootfs or --image, not both"));
        }
        if read_only && rootfs.is_none() && image.is_none() {
            return Err(at("read-only", "--read-only needs --rootfs or --image"));
        }
        if persist && rootfs.is_none() {
            return Err(at("rootfs-persist", "--rootfs-persist needs --rootfs"));
        }
        if let Some(policy) = restart.filter(|r| *r != RestartPolicy::No) {
            if !launch.detach {
                return Err(at(
                    "restart",
                    "--restart needs -d: a foreground container is removed when it ends",
                ));
            }
            if rm {
                return Err(at("restart", "--restart and --rm cannot be used together"));
            }
            launch.restart = policy;
        }
        launch.auto_remove = rm || !launch.detach;
        if let Some(check) = &spec.health {
            if !launch.detach {
                return Err(at(
                    "health-cmd",
                    "health checks need -d: a detached container's monitor runs them",
                ));
            }
            if check.test.is_empty() && image.is_none() {
                return Err(at(
                    "health-cmd",
                    "--health-interval and the like need --health-cmd (or an image with a Healthcheck)",
                ));
            }
        }
        if !spec.logging.keep
            && spec.logging
                != (super::run::Logging {
                    keep: false,
                    ..Default::default()
                })
        {
            return Err(at(
                "log-opt",
                "--log-opt is json-file's: the none driver keeps nothing",
            ));
        }
        // Sharing the host's UTS namespace, it is called what the host is called.
        if spec.shared.uts == super::Share::Host {
            spec.hostname = nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        // Inside a root of its own, the command starts at its root, and a relative -w is
        // taken from there.
        let base = match rootfs.is_some() || image.is_some() {
            true => PathBuf::from("/"),
            false => host.cwd.clone(),
        };
        spec.workdir_is_default = workdir.is_none();
        spec.workdir = base.join(workdir.clone().unwrap_or_default());
        spec.env.extend(host.env_pairs(env));
        if let Some(dir) = rootfs {
            let mode = match (persist, read_only) {
                (true, _) => Writes::Persist,
                (_, true) => Writes::ReadOnly,
                _ => Writes::Overlay,
            };
            spec.rootfs = Some(Rootfs {
                dir: host.cwd.join(dir),
                mode,
                layers: None,
            });
        }
        if image.is_some() && read_only {
            // The image's layers replace the directory when the image is resolved.
            spec.rootfs = Some(Rootfs {
                dir: PathBuf::from("/"),
                mode: Writes::ReadOnly,
                layers: None,
            });
        }
        spec.volumes.extend(binds);
        spec.volumes.extend(tmpfs);
        // Detached, only -t gives a terminal (Docker's rule); in the foreground, a terminal
        // on stdin does too.
        spec.tty = tty.unwrap_or(!launch.detach && host.stdin_terminal);
        spec.term = host
            .var("TERM")
            .map(str::to_string)
            .or_else(|| spec.tty.then(|| "xterm".to_string()));
        launch.image = image.map(|reference| ImageRequest {
            reference,
            pull,
            platform,
            entrypoint,
            command: command.clone(),
            workdir_given: workdir.is_some(),
            insecure,
        });
        if launch.image.is_none() {
            spec.command = ContainerSpec::command_from_words(command);
        }
        Ok(Built { spec, launch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            cwd: "/home/u".into(),
            stdin_terminal: false,
            env: vec![("FROM_HOST".into(), "1".into())],
        }
    }

    #[test]
    fn the_table_has_one_row_per_flag() {
        let mut names: Vec<String> = OPTIONS
            .iter()
            .flat_map(|o| {
                [
                    Some(o.long.to_string()),
                    o.short.map(String::from),
                    o.alias.map(String::from),
                ]
            })
            .flatten()
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a flag is in the table twice");
        for o in &OPTIONS {
            for other in o.conflicts.iter().chain(o.requires.as_slice()) {
                assert!(option(other).is_some(), "--{} names --{other}", o.long);
            }
            assert_eq!(o.value.is_empty(), o.takes == Takes::Flag, "--{}", o.long);
        }
    }

    #[test]
    fn the_form_offers_each_labelled_row_once() {
        let labelled: Vec<&str> = OPTIONS
            .iter()
            .filter(|o| o.form.is_some())
            .map(|o| o.long)
            .collect();
        let mut offered: Vec<&str> = FORM.iter().copied().filter(|l| *l != COMMAND).collect();
        let mut expected = labelled.clone();
        offered.sort();
        expected.sort();
        assert_eq!(offered, expected);
        assert_eq!(FORM.iter().filter(|l| **l == COMMAND).count(), 1);
    }

    #[test]
    fn errors_name_their_option() {
        let mut run = Run::new("0".repeat(64));
        let e = run.apply(option("memory").unwrap(), "lots").unwrap_err();
        assert_eq!(e.option, Some("memory"));
        let e = run.apply(option("publish").unwrap(), "99999").unwrap_err();
        assert_eq!(e.option, Some("publish"));
        let mut run = Run::new("0".repeat(64));
        run.apply(option("read-only").unwrap(), "").unwrap();
        let e = run.finish(vec!["true".into()], &host()).unwrap_err();
        assert_eq!(e.option, Some("read-only"));
    }

    #[test]
    fn env_keys_are_taken_from_the_host() {
        let mut run = Run::new("0".repeat(64));
        for v in ["A=1", "FROM_HOST", "NOT_ON_HOST"] {
            run.apply(option("env").unwrap(), v).unwrap();
        }
        let built = run.finish(vec!["env".into()], &host()).unwrap();
        assert_eq!(built.spec.env, ["A=1", "FROM_HOST=1"]);
    }

    #[test]
    fn a_relative_workdir_is_taken_from_the_root() {
        let mut run = Run::new("0".repeat(64));
        run.apply(option("workdir").unwrap(), "src").unwrap();
        let built = run.clone().finish(vec!["pwd".into()], &host()).unwrap();
        assert_eq!(built.spec.workdir, PathBuf::from("/home/u/src"));
        run.apply(option("image").unwrap(), "alpine").unwrap();
        let built = run.finish(vec![], &host()).unwrap();
        assert_eq!(built.spec.workdir, PathBuf::from("/src"));
        let image = built.launch.image.unwrap();
        assert!(image.workdir_given && image.command.is_empty());
    }
}
