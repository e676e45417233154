//! What to run: the plain-data description of one container, validated once at the edge.
//! The bottom layer: nothing here imports anything else of ours.
//!
//! The CLI, the dashboard's form and the OCI bundle converter build a [`ContainerSpec`]; the
//! CLI and the form through the one option table ([`options`]). The re-exec helper receives it
//! serialized in a memory file of its launcher's, and a detached container's monitor in its
//! record's `spec.json`, so everything here must be serde data and nothing live.

pub mod device;
pub mod hardening;
pub mod limits;
pub mod names;
pub mod network;
pub mod options;
pub mod platform;
pub mod rootfs;
pub mod run;
pub mod userns;
pub mod volume;

use device::Device;
use hardening::Hardening;
use limits::Limits;
use network::{Mode, Network};
use rootfs::Rootfs;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use volume::Volume;

/// The hostname a container gets unless told otherwise (the seed's behaviour).
pub const DEFAULT_HOSTNAME: &str = "my-container";

/// The `PATH` a container starts with, the same as Docker's default.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One container to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// argv of the command; `command[0]` is looked up in the container's `PATH`.
    pub command: Vec<String>,
    /// The container's hostname (UTS namespace).
    pub hostname: String,
    /// Extra `KEY=VALUE` pairs, applied after the defaults so they can override them.
    pub env: Vec<String>,
    /// `TERM` to pass through, if the host has one (or a tty is attached).
    pub term: Option<String>,
    /// Absolute working directory of the command.
    pub workdir: PathBuf,
    /// The working directory is only the launcher's own (no `-w`): when the container cannot
    /// see it (a host path under its private /tmp, say), it starts at `/` instead.
    #[serde(default)]
    pub workdir_is_default: bool,
    /// Whether stdin is a terminal the container should take as its controlling tty.
    pub tty: bool,
    /// Put a minimal reaping init at PID 1 with the command as its child (`docker run --init`).
    pub init: bool,
    /// The name of the container's cgroup, unique on this host while the launcher runs.
    pub id: String,
    /// Resource limits, applied through the container's cgroup.
    pub limits: Limits,
    /// A root filesystem of its own; `None` keeps the host's (in a private mount namespace).
    pub rootfs: Option<Rootfs>,
    /// The default hardening, and what the user changed of it.
    pub hardening: Hardening,
    /// Bind mounts and tmpfs mounts.
    pub volumes: Vec<Volume>,
    /// `--device` nodes, made in the container's `/dev` and allowed by its device controller.
    pub devices: Vec<Device>,
    /// The image the root filesystem is made of (`--image`): its layers are the overlay's
    /// lower directories, and held in the image store while this spec is recorded.
    #[serde(default)]
    pub image: Option<ImageUse>,
    /// `-u` (or the image's `User`): `user[:group]`, names looked up in the container's own
    /// `/etc/passwd` and `/etc/group` once its root is in place.
    #[serde(default)]
    pub user: Option<String>,
    /// Make the working directory when it is missing (an image's `WorkingDir`, `-w` with an
    /// image), as Docker does.
    #[serde(default)]
    pub create_workdir: bool,
    /// `--network`, `-p`, `--network-alias`: the default bridge unless told otherwise.
    #[serde(default)]
    pub network: Network,
    /// `--health-cmd` and friends (or the image's `Healthcheck`): what its monitor runs to
    /// tell healthy from not. An empty test takes the image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<run::Healthcheck>,
    /// `--no-healthcheck`: none, not even the image's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_healthcheck: bool,
    /// `--log-driver`, `--log-opt`: what its monitor keeps of its output.
    #[serde(default, skip_serializing_if = "is_default")]
    pub logging: run::Logging,
    /// `--sysctl`: namespaced kernel settings written in its own `/proc/sys` at start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sysctls: Vec<(String, String)>,
    /// `--uts`, `--ipc`, `--pid`: namespaces shared rather than made.
    #[serde(default, skip_serializing_if = "is_default")]
    pub shared: Shared,
    /// Names of the anonymous volumes made for it (`-v /dst`, the image's `Volumes`): removed
    /// with it when it is removed on its end (`--rm`, a foreground run) or by `rm -v`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anonymous: Vec<String>,
    /// `--ulimit`: resource limits its processes start with (else the launcher's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<limits::Ulimit>,
    /// `--shm-size`: bytes of its `/dev/shm` (Docker's 64 MiB when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u64>,
    /// `--group-add`: more supplementary groups for its user, numbers or names in its own
    /// `/etc/group`.
    #[serde(default)]
    pub group_add: Vec<String>,
    /// `--label` and the image's `Labels` (ours win): metadata `ps --filter label=` reads.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `--userns`, `--uidmap`, `--gidmap`: the host's ids (the default) or a range of its own.
    #[serde(default, skip_serializing_if = "is_default")]
    pub userns: userns::UserNs,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// `--uts`, `--ipc`, `--pid`: a namespace made for the container (the default), or one it
/// shares: the host's, or a running container's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Share {
    #[default]
    Own,
    Host,
    /// The running container of this name or id.
    Container(String),
}

impl Share {
    /// Parses Docker's words: `host`, `container:NAME` (where `containers` allows it), and
    /// the words that mean a namespace of its own (`private`, `shareable` for IPC).
    pub fn parse(option: &str, text: &str, containers: bool) -> Result<Share, String> {
        match text {
            "host" => Ok(Share::Host),
            "" | "private" | "shareable" => Ok(Share::Own),
            _ => match text.strip_prefix("container:") {
                Some(name) if containers && !name.is_empty() => Ok(Share::Container(name.into())),
                _ => Err(format!(
                    "invalid --{option} {text:?}: {}",
                    match (option, containers) {
                        ("ipc", _) => "host, container:NAME, private or shareable",
                        (_, true) => "host or container:NAME",
                        _ => "host",
                    }
                )),
            },
        }
    }
}

/// The namespaces a container shares rather than makes (`--uts`, `--ipc`, `--pid`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shared {
    pub uts: Share,
    pub ipc: Share,
    pub pid: Share,
}

/// What a container uses of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUse {
    /// The reference as the user gave it (`alpine`, `127.0.0.1:5000/x:1`).
    pub reference: String,
    /// `sha256:` of the image's config (Docker's image id).
    pub id: String,
    /// The layers' diff_ids, bottom first.
    pub layers: Vec<String>,
    /// Bytes of the layers' files.
    pub size: u64,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// The image store the layers are in (`--root`): a layer is held only in its own store.
    #[serde(default)]
    pub store: PathBuf,
    /// The config's `StopSignal`, as the image wrote it (`SIGQUIT`, `3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
}

/// A value the user gave that cannot make a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSpec(pub String);

impl std::fmt::Display for InvalidSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSpec {}

fn invalid(msg: String) -> Result<(), InvalidSpec> {
    Err(InvalidSpec(msg))
}

impl ContainerSpec {
    /// A spec with the seed's defaults: hostname `my-container`, no extra env, no tty. `id`
    /// is fresh ([`crate::state::record::new_id`] makes them).
    pub fn new(id: String, command: Vec<String>, workdir: PathBuf) -> Self {
        ContainerSpec {
            command,
            hostname: DEFAULT_HOSTNAME.to_string(),
            env: Vec::new(),
            term: None,
            workdir,
            workdir_is_default: false,
            tty: false,
            init: false,
            id,
            limits: Limits::default(),
            rootfs: None,
            hardening: Hardening::default(),
            volumes: Vec::new(),
            devices: Vec::new(),
            image: None,
            user: None,
            create_workdir: false,
            network: Network::bridged(),
            health: None,
            no_healthcheck: false,
            logging: run::Logging::default(),
            sysctls: Vec::new(),
            shared: Shared::default(),
            anonymous: Vec::new(),
            ulimits: Vec::new(),
            shm_size: None,
            group_add: Vec::new(),
            labels: Default::default(),
            userns: Default::default(),
        }
    }

    /// Docker's rule: only sysctls of a namespace the container has of its own (IPC, network)
    /// may be set; the rest are the host's.
    fn check_sysctl(&self, key: &str) -> Result<(), InvalidSpec> {
        const IPC: [&str; 8] = [
            "kernel.msgmax",
            "kernel.msgmnb",
            "kernel.msgmni",
            "kernel.sem",
            "kernel.shmall",
            "kernel.shmmax",
            "kernel.shmmni",
            "kernel.shm_rmid_forced",
        ];
        let ipc = IPC.contains(&key) || key.starts_with("fs.mqueue.");
        let net = key.starts_with("net.");
        match (ipc, net) {
            (true, _) if self.shared.ipc != Share::Own => invalid(format!(
                "--sysctl {key}: not allowed when the IPC namespace is shared (--ipc)"
            )),
            (_, true) if !self.network.own_namespace() => invalid(format!(
                "--sysctl {key}: not allowed with --network {} (the namespace is not the container's own)",
                self.network.mode_shown()
            )),
            (true, _) | (_, true) => Ok(()),
            _ => invalid(format!(
                "--sysctl {key}: not a namespaced sysctl (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*): it would be the host's"
            )),
        }
    }

    /// Adds an anonymous volume at `dst`: a named volume of a fresh random name, made at start
    /// and removed with the container.
    pub fn add_anonymous(&mut self, dst: PathBuf, read_only: bool) {
        let name = names::random_id();
        self.anonymous.push(name.clone());
        self.volumes.push(Volume::Named {
            name,
            dst,
            read_only,
        });
    }

    /// Whether the container gets a `/dev` of its own (and so, with a tty, a pty of its own
    /// devpts): always with a rootfs, and without one unless the host's files are shared
    /// writable (`--host-rw`, `--privileged`), the seed's view with the host's `/dev`.
    pub fn own_dev(&self) -> bool {
        self.rootfs.is_some() || !self.hardening.host_writable()
    }

    /// What its root is made of, in a word: the image's reference, the rootfs directory, or
    /// `(host)` (the IMAGE of `ps`, `inspect` and the session list).
    pub fn root_shown(&self) -> String {
        match (&self.image, &self.rootfs) {
            (Some(image), _) => image.reference.clone(),
            (None, Some(root)) => root.dir.display().to_string(),
            (None, None) => "(host)".into(),
        }
    }

    /// The argv for what a user typed: one word with spaces in it is a shell line, run through
    /// `/bin/sh -c` (that is what `--run "ps aux"` means); anything else is argv as given.
    pub fn command_from_words(mut words: Vec<String>) -> Vec<String> {
        if words.len() == 1 && words[0].trim().contains(char::is_whitespace) {
            vec!["/bin/sh".into(), "-c".into(), words.remove(0)]
        } else {
            words
        }
    }

    /// Checks everything that can be checked before a process is started.
    pub fn validate(&self) -> Result<(), InvalidSpec> {
        match self.command.first() {
            None => return invalid("no command given".into()),
            Some(c) if c.is_empty() => return invalid("the command is an empty string".into()),
            _ => {}
        }
        if self.command.iter().any(|a| a.contains('\0')) {
            return invalid("the command contains a NUL byte".into());
        }
        validate_hostname(&self.hostname)?;
        for kv in &self.env {
            validate_env(kv)?;
        }
        self.limits.validate().map_err(InvalidSpec)?;
        if let Some(rootfs) = &self.rootfs {
            rootfs.validate().map_err(InvalidSpec)?;
        }
        self.hardening.check().map_err(InvalidSpec)?;
        self.userns.check().map_err(InvalidSpec)?;
        if !self.userns.own()
            && let Some(dst) = self.volumes.iter().find_map(|v| match v {
                volume::Volume::Bind {
                    idmap: true, dst, ..
                } => Some(dst),
                _ => None,
            })
        {
            return invalid(format!(
                "volume {}: idmap needs a user namespace of its own (--userns auto, --uidmap)",
                dst.display()
            ));
        }
        if self.userns.own() && self.hardening.privileged {
            return invalid("--privileged and --userns cannot be used together".into());
        }
        for volume in &self.volumes {
            volume.validate().map_err(InvalidSpec)?;
        }
        for (key, _) in &self.sysctls {
            self.check_sysctl(key)?;
        }
        let network = &self.network;
        if !network.publish.is_empty()
            && network.bridge().is_none()
            && network.mode != network::Mode::Pasta
        {
            return invalid(format!(
                "-p needs a bridge network or pasta, not --network {}",
                network.mode_shown()
            ));
        }
        if !network.aliases.is_empty()
            && network
                .bridge()
                .is_none_or(|n| n == network::DEFAULT_NETWORK)
        {
            return invalid("--network-alias needs a user network (network create)".into());
        }
        if let Mode::Bridge(name) = &network.mode {
            network::validate_name(name).map_err(InvalidSpec)?;
        }
        if !self.workdir.is_absolute() {
            return invalid(format!(
                "working directory {:?} is not an absolute path",
                self.workdir
            ));
        }
        Ok(())
    }

    /// The environment the command starts with: defaults first, then the user's `-e` pairs,
    /// a later key replacing an earlier one.
    pub fn environment(&self) -> Vec<String> {
        self.environment_with_home("/root")
    }

    /// [`Self::environment`] with `HOME` defaulting to `home` (the `-u` user's, from the
    /// container's `/etc/passwd`) unless the image or `-e` set it.
    pub fn environment_with_home(&self, home: &str) -> Vec<String> {
        let mut env: Vec<String> = vec![
            format!("PATH={DEFAULT_PATH}"),
            format!("HOSTNAME={}", self.hostname),
            format!("HOME={home}"),
        ];
        if let Some(term) = &self.term {
            env.push(format!("TERM={term}"));
        }
        for kv in &self.env {
            set_env(&mut env, kv);
        }
        env
    }

    /// The value of `PATH` the command will see.
    pub fn path_var(&self) -> String {
        self.environment()
            .iter()
            .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
            .unwrap_or_default()
    }
}

/// Sets `kv` (`KEY=VALUE`) in `env`, replacing the key's earlier value: the rule for every
/// environment laid over another (`-e` over the defaults, `exec -e` over the container's).
pub fn set_env(env: &mut Vec<String>, kv: &str) {
    let key = kv.split('=').next().unwrap_or(kv);
    env.retain(|e| e.split('=').next() != Some(key));
    env.push(kv.to_string());
}

/// RFC 1123 host name: at most 64 bytes (the kernel's limit), dot-separated labels of
/// letters, digits and inner hyphens.
pub fn validate_hostname(name: &str) -> Result<(), InvalidSpec> {
    if name.is_empty() {
        return invalid("hostname must not be empty".into());
    }
    if name.len() > 64 {
        return invalid(format!(
            "hostname {name:?} is {} characters long; the limit is 64",
            name.len()
        ));
    }
    for label in name.split('.') {
        let ok_chars = label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if label.is_empty() || !ok_chars || label.starts_with('-') || label.ends_with('-') {
            return invalid(format!(
                "invalid hostname {name:?}: use letters, digits, '-' and '.', \
                 with no label starting or ending in '-'"
            ));
        }
    }
    Ok(())
}

/// `KEY=VALUE` with a non-empty key made of no `=`, whitespace or NUL.
pub fn validate_env(kv: &str) -> Result<(), InvalidSpec> {
    let Some((key, value)) = kv.split_once('=') else {
        return invalid(format!(
            "invalid environment variable {kv:?}: expected KEY=VALUE"
        ));
    };
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == '\0') {
        return invalid(format!("invalid environment variable name {key:?}"));
    }
    if value.contains('\0') {
        return invalid(format!("environment variable {key} contains a NUL byte"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cmd: &[&str]) -> ContainerSpec {
        ContainerSpec::new(
            "0".repeat(64),
            cmd.iter().map(|s| s.to_string()).collect(),
            "/".into(),
        )
    }

    #[test]
    fn seed_defaults_validate() {
        let s = spec(&["/bin/bash"]);
        assert_eq!(s.hostname, "my-container");
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn empty_command_is_refused() {
        assert!(spec(&[]).validate().is_err());
        assert!(spec(&[""]).validate().is_err());
    }

    #[test]
    fn hostnames() {
        for good in ["a", "my-container", "web-1.example.com", &"x".repeat(64)] {
            assert_eq!(validate_hostname(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", "a-", "a..b", "a_b", "a b", "é", &"x".repeat(65)] {
            assert!(validate_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_pairs() {
        assert_eq!(validate_env("A=1"), Ok(()));
        assert_eq!(validate_env("A="), Ok(()));
        assert_eq!(validate_env("A=b=c"), Ok(()));
        for bad in ["A", "=1", "A B=1"] {
            assert!(validate_env(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_env_overrides_defaults() {
        let mut s = spec(&["env"]);
        s.term = Some("xterm".into());
        s.env = vec!["PATH=/bin".into(), "FOO=bar".into(), "FOO=baz".into()];
        let env = s.environment();
        assert_eq!(
            env,
            vec![
                "HOSTNAME=my-container",
                "HOME=/root",
                "TERM=xterm",
                "PATH=/bin",
                "FOO=baz"
            ]
        );
        assert_eq!(s.path_var(), "/bin");
    }
}
