//! Command-line arguments: parsed once, at the edge, into a [`ContainerSpec`] (run, the
//! dashboard) or into one of the lifecycle [`verbs`].

mod attach;
pub(crate) mod control;
mod exec;
mod image;
pub use image::size as image_size;
mod logs;
mod network;
mod ps;
mod show;
pub mod verbs;
mod volume;

use crate::headless;
use crate::runtime::ContainerSpec;
use crate::runtime::cgroups::limits::{self, Limits};
use crate::runtime::devices::Device;
use crate::runtime::exit::RUNTIME_ERROR;
use crate::runtime::rootfs::{Rootfs, Writes};
use crate::runtime::security::Hardening;
use crate::runtime::volumes::Volume;
use crate::state::RestartPolicy;
use crate::state::store::NewRecord;
use crate::tui;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Resource limits go through a cgroup per container, my-container-tui/<id>: on cgroup v2 the
memory, pids and cpu controllers; on v1 and hybrid hosts the memory, pids, cpu and cpuacct
hierarchies.

Exit status:
  the command's own     when it exits
  128+N                 when it is killed by signal N (137 also when out of memory)
  125                   a runtime error (bad option, not root, a namespace refused)
  126                   the command was found but cannot be executed
  127                   the command was not found";

/// A Linux container shell manager: namespaced shells, headless or in a dashboard.
///
/// With no command, opens the dashboard; with --run (or `run`), runs one container headless.
/// `oci VERB` (or this binary named `mct-runc`) is runc's command line, for containerd.
#[derive(Debug, Parser)]
#[command(name = "my-container-tui", version)]
struct Cli {
    #[command(flatten)]
    options: RunOptions,

    /// Run CMD headless in a new container and exit with its status, like `docker run --rm`.
    /// Everything after --run is the command; a single argument with spaces runs via /bin/sh -c
    #[arg(long, value_name = "CMD", num_args = 1.., allow_hyphen_values = true)]
    run: Option<Vec<String>>,

    #[command(flatten)]
    dashboard: tui::Options,

    #[command(subcommand)]
    subcommand: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The same as --run: `my-container-tui run [OPTIONS] CMD [ARGS]...`
    Run {
        /// The command and its arguments (with --image, the image's Cmd when left out)
        #[arg(trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Build a root filesystem for --rootfs: `rootfs busybox DIR` makes a minimal one from the
    /// host's static busybox
    Rootfs {
        #[arg(value_enum)]
        kind: RootfsKind,
        /// Where to build it (created; must be empty if it exists)
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RootfsKind {
    /// The host's static busybox and its applets, with /etc/passwd and /etc/group
    Busybox,
}

#[derive(Debug, Clone, Default, Args)]
struct RunOptions {
    /// The container's hostname
    #[arg(long, value_name = "NAME", global = true)]
    hostname: Option<String>,
    /// Set an environment variable in the container (KEY=VALUE, or KEY to copy the host's)
    #[arg(short, long = "env", value_name = "KEY=VALUE", global = true)]
    env: Vec<String>,
    /// Working directory of the command [default: the current directory]
    #[arg(short, long, value_name = "DIR", global = true)]
    workdir: Option<PathBuf>,
    /// Run a minimal init as PID 1 that reaps zombies and forwards signals to the command
    #[arg(long, global = true)]
    init: bool,
    /// Give the container a pseudo-terminal even when stdin is not a terminal
    #[arg(short = 't', long, conflicts_with = "no_tty", global = true)]
    tty: bool,
    /// Never give the container a pseudo-terminal; pass stdio through as it is
    #[arg(short = 'T', long, global = true)]
    no_tty: bool,
    /// Memory limit (b, k, m, g), e.g. 64m; at least 6m
    #[arg(short, long, value_name = "SIZE", value_parser = limits::parse_bytes, allow_hyphen_values = true, global = true)]
    memory: Option<u64>,
    /// Memory plus swap (b, k, m, g), or -1 for unlimited swap [default: twice --memory]
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_swap, allow_hyphen_values = true, global = true)]
    memory_swap: Option<i64>,
    /// Most processes (and threads) at once, or -1 for no limit
    #[arg(long, value_name = "N", value_parser = limits::parse_pids, allow_hyphen_values = true, global = true)]
    pids_limit: Option<i64>,
    /// CPUs the container may use, e.g. 0.5 (CFS quota per 100 ms period)
    #[arg(long, value_name = "CPUS", value_parser = limits::parse_cpus, allow_hyphen_values = true, global = true)]
    cpus: Option<u64>,
    /// Relative CPU weight against other containers (2-262144, default 1024)
    #[arg(long, value_name = "N", value_parser = limits::parse_shares, allow_hyphen_values = true, global = true)]
    cpu_shares: Option<u64>,
    /// Use DIR as the container's root filesystem (copy-on-write over it by default)
    #[arg(long, value_name = "DIR", global = true)]
    rootfs: Option<PathBuf>,
    /// With --rootfs: write straight to DIR instead of a throw-away overlay
    #[arg(long, requires = "rootfs", conflicts_with = "read_only", global = true)]
    rootfs_persist: bool,
    /// With --rootfs or --image: make the container's / read-only
    #[arg(long, global = true)]
    read_only: bool,
    /// Use image REF as the root filesystem (pulled when missing); with no command, its
    /// Entrypoint and Cmd run
    #[arg(long, value_name = "REF", conflicts_with = "rootfs", global = true)]
    image: Option<String>,
    /// With --image: always, missing (pull when the store lacks it) or never
    #[arg(long, value_name = "WHEN", value_enum, default_value_t, global = true)]
    pull: crate::image::PullPolicy,
    /// With --image: the platform to pull and run, OS/ARCH[/VARIANT] [default: the host's]
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform, global = true)]
    platform: Option<crate::image::platform::Platform>,
    /// With --image: replace the image's Entrypoint ("" for none)
    #[arg(long, value_name = "CMD", global = true)]
    entrypoint: Option<String>,
    /// Run as this user: uid[:gid] or name[:group], looked up in the container's files
    #[arg(short, long, value_name = "USER[:GROUP]", global = true)]
    user: Option<String>,
    /// Reach this registry (host[:port]) over plain HTTP, as loopback ones are
    #[arg(long, value_name = "HOST", global = true)]
    insecure_registry: Vec<String>,
    /// Bind-mount a host file or directory: SRC:DST[:ro] (SRC absolute)
    #[arg(short, long = "volume", value_name = "SRC:DST[:ro]", value_parser = Volume::parse_bind, global = true)]
    volume: Vec<Volume>,
    /// Mount an empty tmpfs: DST[:size=64m]
    #[arg(long, value_name = "DST[:OPTIONS]", value_parser = Volume::parse_tmpfs, global = true)]
    tmpfs: Vec<Volume>,
    /// Turn off the default hardening (capabilities, no_new_privs, seccomp, masked paths)
    #[arg(long, global = true)]
    privileged: bool,
    /// Without --rootfs: let the container write the host's files, as the seed did (unsafe:
    /// root inside can then rewrite the host)
    #[arg(long, global = true)]
    host_rw: bool,
    /// Give the container a host device: HOST[:CONTAINER][:rwm]
    #[arg(long, value_name = "HOST[:CONTAINER][:rwm]", value_parser = parse_device, global = true)]
    device: Vec<Device>,
    /// Run the container in the background under a monitor of its own, and print its id
    #[arg(short = 'd', long, global = true)]
    detach: bool,
    /// The container's name (unique on the host) [default: a generated one]
    #[arg(long, value_name = "NAME", global = true)]
    name: Option<String>,
    /// With -d: remove the container when it ends (foreground runs always are)
    #[arg(long, global = true)]
    rm: bool,
    /// With -d: no, on-failure[:N], always or unless-stopped
    #[arg(long, value_name = "POLICY", value_parser = RestartPolicy::parse, global = true)]
    restart: Option<RestartPolicy>,
    /// The signal `stop` sends first [default: SIGTERM]
    #[arg(long, value_name = "SIGNAL", value_parser = control::parse_signal, global = true)]
    stop_signal: Option<nix::sys::signal::Signal>,
    /// With -d: keep the container's stdin open for attach (else it reads /dev/null)
    #[arg(short = 'i', long, global = true)]
    interactive: bool,
    /// The container's network: bridge (the default: NAT to the outside), none (loopback
    /// only, the most isolated), host, container:NAME, or a network made by `network create`
    #[arg(long, visible_alias = "net", value_name = "NETWORK", value_parser = parse_network, global = true)]
    network: Option<crate::runtime::net::Mode>,
    /// Publish a container port on the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]
    #[arg(short = 'p', long = "publish", value_name = "PORTS", value_parser = parse_publish, global = true)]
    publish: Vec<crate::runtime::net::Publish>,
    /// Another name the container's peers on a user network reach it by
    #[arg(long, value_name = "ALIAS", global = true)]
    network_alias: Vec<String>,
    /// Add a capability to the default set (e.g. NET_ADMIN, or ALL)
    #[arg(long, value_name = "CAP", global = true)]
    cap_add: Vec<String>,
    /// Drop a capability from the default set (e.g. NET_RAW, or ALL)
    #[arg(long, value_name = "CAP", global = true)]
    cap_drop: Vec<String>,
}

/// How a container is run: in the foreground (removed when it ends) or detached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub detach: bool,
    pub name: Option<String>,
    pub auto_remove: bool,
    pub interactive: bool,
    pub restart: RestartPolicy,
    pub stop_signal: nix::sys::signal::Signal,
    /// `--image`: resolved (pulled if need be) just before the container starts.
    pub image: Option<crate::image::Request>,
}

impl Launch {
    /// What the store records of it.
    pub fn record(&self, tty: bool) -> NewRecord<'_> {
        NewRecord {
            name: self.name.as_deref(),
            detached: self.detach,
            auto_remove: self.auto_remove,
            tty,
            interactive: self.interactive,
            restart: self.restart,
            stop_signal: self.stop_signal as i32,
        }
    }
}

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Run one container headless, or detached.
    Run(Box<ContainerSpec>, Launch),
    /// Build a busybox root filesystem in this directory.
    BusyboxRootfs(PathBuf),
    /// No command given: the dashboard, with this prefix key.
    /// The dashboard, with its prefix key and the template its sessions start from (limits,
    /// hardening, rootfs, volumes, environment given on the command line).
    Dashboard(
        tui::Options,
        Box<ContainerSpec>,
        Option<crate::image::Request>,
    ),
}

/// Parses `args` (without the program name's special cases) into an [`Action`].
pub fn parse<I, T>(args: I) -> Result<Action, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    // The verbs' summary costs a second parser's construction: only for the help.
    let asks_help = args
        .iter()
        .any(|a| a == "--help" || a == "-h" || a == "help");
    let command = if asks_help {
        Cli::command().after_help(format!("{}\n{EXIT_CODES}", verbs::summary()))
    } else {
        Cli::command()
    };
    let matches = command.try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let (options, command) = match (cli.subcommand, cli.run) {
        (Some(Command::Run { command }), None) => (cli.options, command),
        (None, Some(command)) => (cli.options, command),
        (None, None) => {
            let image = image_request(&cli.options, &[]);
            let template = spec_from(cli.options, vec!["sh".into()]);
            return Ok(Action::Dashboard(cli.dashboard, Box::new(template), image));
        }
        (
            Some(Command::Rootfs {
                kind: RootfsKind::Busybox,
                dir,
            }),
            None,
        ) => {
            return Ok(Action::BusyboxRootfs(absolute(dir)));
        }
        (Some(_), Some(_)) => {
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--run and the run subcommand cannot be used together",
            ));
        }
    };
    if command.is_empty() && options.image.is_none() {
        return Err(Cli::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "a command is required (or --image, whose Cmd runs)",
        ));
    }
    if options.read_only && options.rootfs.is_none() && options.image.is_none() {
        return Err(Cli::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--read-only needs --rootfs or --image",
        ));
    }
    let launch = Launch {
        image: image_request(&options, &command),
        detach: options.detach,
        name: options.name.clone(),
        auto_remove: options.rm || !options.detach,
        interactive: options.interactive,
        restart: options.restart.unwrap_or_default(),
        stop_signal: options
            .stop_signal
            .unwrap_or(nix::sys::signal::Signal::SIGTERM),
    };
    if !options.detach && options.restart.is_some_and(|r| r != RestartPolicy::No) {
        return Err(Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--restart needs -d: a foreground container is removed when it ends",
        ));
    }
    if options.rm && options.restart.is_some_and(|r| r != RestartPolicy::No) {
        return Err(Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--restart and --rm cannot be used together",
        ));
    }
    Ok(Action::Run(Box::new(spec_from(options, command)), launch))
}

/// What `--image` and its options ask for, if given.
fn image_request(options: &RunOptions, command: &[String]) -> Option<crate::image::Request> {
    Some(crate::image::Request {
        reference: options.image.clone()?,
        pull: options.pull,
        platform: options.platform.clone(),
        entrypoint: options.entrypoint.clone(),
        command: command.to_vec(),
        workdir_given: options.workdir.is_some(),
        insecure: options.insecure_registry.clone(),
    })
}

fn parse_platform(text: &str) -> Result<crate::image::platform::Platform, String> {
    crate::image::platform::Platform::parse(text).map_err(|e| e.to_string())
}

fn absolute(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .unwrap_or_else(|_| "/".into())
        .join(path)
}

fn spec_from(options: RunOptions, command: Vec<String>) -> ContainerSpec {
    let command = ContainerSpec::command_from_words(command);
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let mut spec = ContainerSpec::new(command, cwd.clone());
    if let Some(h) = options.hostname {
        spec.hostname = h;
    }
    // Inside an image, the command starts at its root, and a relative -w is taken from there.
    let base = if options.rootfs.is_some() || options.image.is_some() {
        PathBuf::from("/")
    } else {
        cwd
    };
    spec.workdir_is_default = options.workdir.is_none();
    spec.workdir = base.join(options.workdir.unwrap_or_default());
    spec.env = env_pairs(options.env);
    spec.init = options.init;
    if let Some(dir) = options.rootfs {
        let writes = match (options.rootfs_persist, options.read_only) {
            (true, _) => Writes::Persist,
            (_, true) => Writes::ReadOnly,
            _ => Writes::Overlay,
        };
        spec.rootfs = Some(Rootfs {
            dir: absolute(dir),
            mode: writes,
            layers: None,
        });
    }
    if options.image.is_some() && options.read_only {
        // The image's layers replace the directory when the image is resolved.
        spec.rootfs = Some(Rootfs {
            dir: PathBuf::from("/"),
            mode: Writes::ReadOnly,
            layers: None,
        });
    }
    spec.user = options.user;
    spec.hardening = Hardening {
        privileged: options.privileged,
        cap_add: options.cap_add,
        cap_drop: options.cap_drop,
        host_rw: options.host_rw,
    };
    spec.devices = options.device;
    if let Some(mode) = options.network {
        spec.network.mode = mode;
    }
    spec.network.publish = options.publish;
    spec.network.aliases = options.network_alias;
    spec.volumes = [options.volume, options.tmpfs].concat();
    spec.limits = Limits {
        memory: options.memory,
        memory_swap: options.memory_swap,
        pids: options.pids_limit.and_then(|n| u64::try_from(n).ok()),
        cpu_quota_us: options.cpus,
        cpu_shares: options.cpu_shares,
        ..Limits::default()
    };
    // Detached, only -t gives a terminal (Docker's rule); in the foreground, a terminal on
    // stdin does too.
    spec.tty =
        options.tty || (!options.detach && !options.no_tty && std::io::stdin().is_terminal());
    spec.term = std::env::var("TERM")
        .ok()
        .or_else(|| spec.tty.then(|| "xterm".to_string()));
    spec
}

/// `-e` values as `KEY=VALUE` pairs: Docker's `-e KEY` takes the host's value, or nothing when
/// the host has none.
fn env_pairs(given: Vec<String>) -> Vec<String> {
    given
        .into_iter()
        .filter_map(|kv| {
            if kv.contains('=') {
                Some(kv)
            } else {
                std::env::var(&kv).ok().map(|v| format!("{kv}={v}"))
            }
        })
        .collect()
}

fn parse_network(text: &str) -> Result<crate::runtime::net::Mode, String> {
    crate::runtime::net::Network::parse_mode(text)
}

fn parse_publish(text: &str) -> Result<crate::runtime::net::Publish, String> {
    crate::runtime::net::Publish::parse(text)
}

fn parse_device(text: &str) -> Result<Device, String> {
    Device::parse(text).map_err(|e| format!("{e:#}"))
}

/// Clap's error in one line: its first line, and when that ends in a colon (a list follows,
/// e.g. of missing arguments), the list joined onto it; its suggestions ("a similar argument
/// exists: '--run'", "[possible values: busybox]") kept after it.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let rest: Vec<&str> = lines.take_while(|l| !l.starts_with("Usage:")).collect();
    let (hints, list): (Vec<&str>, Vec<&str>) = rest
        .into_iter()
        .partition(|l| l.starts_with("tip:") || l.starts_with("[possible values:"));
    let mut line = match first.ends_with(':') {
        true => format!("{first} {}", list.join(", ")),
        false => first.to_string(),
    };
    for hint in hints {
        line.push_str("; ");
        line.push_str(hint.strip_prefix("tip: ").unwrap_or(hint));
    }
    line
}

/// Clap's error or help, printed our way; the exit code.
fn clap_exit(e: clap::Error) -> i32 {
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            let _ = e.print();
            0
        }
        _ => {
            let text = e.render().to_string();
            crate::runtime::exit::print_error(&format!("{} (see --help)", one_line(&text)));
            RUNTIME_ERROR
        }
    }
}

/// `--root DIR` (or `--root=DIR`) before everything else: the store's directory for images
/// and volumes, passed on as `MCT_ROOT` to every process we start (as Docker's `--data-root`).
///
/// # Safety
/// Sets an environment variable: only while the process has one thread.
unsafe fn take_root(args: &mut Vec<std::ffi::OsString>) -> Result<(), String> {
    let Some(first) = args.get(1).and_then(|a| a.to_str()).map(str::to_string) else {
        return Ok(());
    };
    let (dir, taken) = if first == "--root" {
        let dir = args.get(2).ok_or("--root needs a directory (see --help)")?;
        (std::path::PathBuf::from(dir), 2)
    } else if let Some(dir) = first.strip_prefix("--root=") {
        (std::path::PathBuf::from(dir), 1)
    } else {
        return Ok(());
    };
    let dir = absolute(dir);
    args.drain(1..1 + taken);
    // SAFETY: our caller guarantees a single thread (see above).
    unsafe { std::env::set_var("MCT_ROOT", dir) };
    Ok(())
}

/// Runs the program for the process's arguments and returns its exit code.
pub fn main() -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // SAFETY: first thing in main: the helper and the monitor returned earlier, and no
    // thread of ours exists yet.
    if let Err(e) = unsafe { take_root(&mut args) } {
        crate::runtime::exit::print_error(&e);
        return RUNTIME_ERROR;
    }
    // `exec` joins a container: it runs from a sealed copy of this binary, not dumpable
    // (runtime::sealed), re-executed before anything else is done twice.
    if args.get(1).is_some_and(|a| a == "exec") {
        crate::runtime::sealed::enter();
    }
    // A word first that the run parser has no subcommand for is a verb, or a mistake the
    // verbs' parser names; options first are the run parser's.
    if args.get(1).and_then(|a| a.to_str()).is_some_and(|w| {
        !w.starts_with('-') && w != "help" && Cli::command().find_subcommand(w).is_none()
    }) {
        return verbs::main(args);
    }
    match parse(args) {
        Ok(Action::Run(mut spec, launch)) => {
            if let Some(request) = &launch.image
                && let Err(e) = crate::runtime::require_root()
                    .map_err(anyhow::Error::msg)
                    .and_then(|()| crate::image::prepare(&mut spec, request))
            {
                crate::runtime::exit::print_error(&format!("{e:#}"));
                return RUNTIME_ERROR;
            }
            match launch.detach {
                true => headless::detached(&spec, &launch),
                false => headless::run(&spec, &launch),
            }
        }
        Ok(Action::BusyboxRootfs(dir)) => match crate::runtime::busybox::build(&dir) {
            Ok(built) => {
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                println!(
                    "made {}: {} with {} applets; run it with --rootfs {}",
                    dir.display(),
                    built.busybox.display(),
                    built.applets,
                    dir.display()
                );
                0
            }
            Err(e) => {
                crate::runtime::exit::print_error(&e.to_string());
                e.exit_code()
            }
        },
        Ok(Action::Dashboard(options, mut template, image)) => match image
            .map_or(Ok(()), |request| {
                crate::runtime::require_root()
                    .map_err(anyhow::Error::msg)
                    .and_then(|()| crate::image::prepare_shell(&mut template, request, ""))
            })
            .map_err(|e| format!("{e:#}"))
            .and_then(|()| template.validate().map_err(|e| e.to_string()))
        {
            Ok(()) => tui::run(options, *template),
            Err(e) => {
                crate::runtime::exit::print_error(&e.to_string());
                RUNTIME_ERROR
            }
        },
        Err(e) => clap_exit(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_of(args: &[&str]) -> Vec<String> {
        match parse(args) {
            Ok(Action::Run(spec, _)) => spec.command,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn everything_after_run_is_the_command() {
        assert_eq!(command_of(&["t", "--run", "ls", "-la"]), ["ls", "-la"]);
        assert_eq!(
            command_of(&["t", "--hostname", "h", "--run", "env", "--hostname", "x"]),
            ["env", "--hostname", "x"]
        );
    }

    #[test]
    fn one_word_with_spaces_is_a_shell_line() {
        assert_eq!(
            command_of(&["t", "--run", "ps aux"]),
            ["/bin/sh", "-c", "ps aux"]
        );
    }

    #[test]
    fn run_subcommand_is_an_alias() {
        assert_eq!(
            command_of(&["t", "run", "echo", "Hello World"]),
            ["echo", "Hello World"]
        );
        assert_eq!(command_of(&["t", "run", "ls", "-la"]), ["ls", "-la"]);
        match parse(["t", "--init", "run", "--hostname", "box", "true"]) {
            Ok(Action::Run(spec, _)) => {
                assert!(spec.init);
                assert_eq!(spec.hostname, "box");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_reach_the_spec() {
        let Ok(Action::Run(spec, _)) = parse([
            "t",
            "-e",
            "A=1",
            "--env",
            "B=2",
            "-w",
            "/tmp",
            "--hostname",
            "web",
            "-T",
            "--run",
            "env",
        ]) else {
            panic!("did not parse");
        };
        assert_eq!(spec.env, ["A=1", "B=2"]);
        assert_eq!(spec.workdir, PathBuf::from("/tmp"));
        assert_eq!(spec.hostname, "web");
        assert!(!spec.tty);
    }

    /// A mistyped option or value keeps clap's suggestion in the one line printed.
    #[test]
    fn errors_keep_clap_suggestions() {
        let line = |args: &[&str]| {
            one_line(
                &parse(args.iter().copied())
                    .err()
                    .unwrap()
                    .render()
                    .to_string(),
            )
        };
        let typo = line(&["t", "--memroy", "1m"]);
        assert!(
            typo.contains("a similar argument exists: '--memory'"),
            "{typo}"
        );
        let value = line(&["t", "rootfs", "bosybox", "/tmp/x"]);
        assert!(value.contains("[possible values: busybox]"), "{value}");
        assert!(!value.contains('\n'));
    }

    #[test]
    fn no_command_means_the_dashboard() {
        assert!(matches!(
            parse(["t"]),
            Ok(Action::Dashboard(
                tui::Options {
                    prefix: tui::keys::Prefix('a'),
                    history: 10_000
                },
                _,
                None
            ))
        ));
        let Ok(Action::Dashboard(options, template, _)) = parse([
            "t",
            "--prefix",
            "C-b",
            "--history",
            "100000",
            "--memory",
            "64m",
        ]) else {
            panic!("not the dashboard");
        };
        assert_eq!(options.prefix, tui::keys::Prefix('b'));
        assert_eq!(options.history, 100_000);
        assert_eq!(
            template.limits.memory,
            Some(64 << 20),
            "options become the sessions' template"
        );
        assert!(parse(["t", "--prefix", "b"]).is_err());
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(parse(["t", "--bogus", "--run", "true"]).is_err());
        assert!(parse(["t", "--run"]).is_err());
        assert!(parse(["t", "-t", "-T", "--run", "true"]).is_err());
    }

    /// README's option table has a row for every run option clap knows (one list, held to
    /// the other by this test).
    #[test]
    fn readme_lists_every_option() {
        let readme = include_str!("../../README.md");
        let command = Cli::command();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            // The dashboard's own (--prefix, --history) are in its section, on its command line.
            if ["help", "version", "run", "prefix", "history"].contains(&long) {
                continue;
            }
            let shown = format!("`--{long}");
            let short = arg.get_short().map(|c| format!("`-{c}, --{long}"));
            assert!(
                readme.contains(&format!("| {shown}"))
                    || short.is_some_and(|s| readme.contains(&format!("| {s}")))
                    || readme.contains(&format!(", {shown}")),
                "README's option table lacks --{long}"
            );
        }
    }
}
