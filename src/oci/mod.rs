//! runc's command line, so containerd's runc shim (and so Kubernetes) can drive this binary
//! as its runtime: `mct-runc VERB ...` (the binary under that name) or `my-container-tui oci
//! VERB ...`.
//!
//! The verbs and flags are runc's (1.1), checked against what containerd 1.6's shim calls;
//! errors follow runc's conventions (exit status 1; with `--log-format json`, a JSON line in
//! `--log` that containerd shows its user), not the rest of the tool's 125.

mod create;
mod exec;
mod log;
pub mod pod;
pub mod state;
mod verbs;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The name this binary answers to as an OCI runtime.
pub const RUNC_NAME: &str = "mct-runc";

/// A runc-compatible OCI runtime (my-container-tui's)
#[derive(Debug, Parser)]
#[command(name = RUNC_NAME, version)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    verb: Verb,
}

/// runc's global flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Globals {
    /// Where container state is kept
    #[arg(long, default_value = state::DEFAULT_ROOT, value_name = "DIR")]
    root: PathBuf,
    /// Where errors (and with --debug, more) are logged [default: stderr only]
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// text or json
    #[arg(long, value_enum, default_value_t = log::Format::Text)]
    log_format: log::Format,
    /// Drive cgroups through systemd (refused: this runtime drives cgroupfs)
    #[arg(long)]
    systemd_cgroup: bool,
    /// Log more
    #[arg(long)]
    debug: bool,
    /// runc's rootless mode (only "false" or "auto" as root are accepted)
    #[arg(long, value_name = "true|false|auto")]
    rootless: Option<String>,
    /// runc's checkpoint tool (checkpointing is not supported; accepted for compatibility)
    #[arg(long, hide = true)]
    criu: Option<String>,
}

/// `create` and `run`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The bundle directory (config.json and the root)
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Write the container's init PID here
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// A unix socket to send the pty master to (process.terminal)
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Accepted for compatibility; the root is always entered with pivot_root
    #[arg(long)]
    no_pivot: bool,
    /// Accepted for compatibility; no session keyring is made
    #[arg(long)]
    no_new_keyring: bool,
    /// Pass this many descriptors after stdio to the container
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    id: String,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Create a container: set it up and park it before the user's process
    Create(CreateArgs),
    /// Start the user's process of a created container
    Start { id: String },
    /// Create and start a container, and (without --detach) wait for it and delete it
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Return once started
        #[arg(short, long)]
        detach: bool,
    },
    /// Print the state of a container as JSON
    State { id: String },
    /// Send a signal (default SIGTERM) to the container's init, or with --all to every process
    Kill {
        #[arg(short, long)]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Delete a stopped (or, with --force, any) container and everything it held
    Delete {
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Run a process in a running container
    Exec(exec::ExecArgs),
    /// The container's processes (host PIDs)
    Ps {
        /// table or json
        #[arg(short, long, default_value = "table")]
        format: String,
        id: String,
        /// Options for ps(1) with the table format
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Freeze every process of the container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// Change a container's resource limits
    Update {
        /// linux.resources as JSON, from a file or - for stdin
        #[arg(short, long, value_name = "FILE")]
        resources: Option<PathBuf>,
        /// Memory limit in bytes
        #[arg(long)]
        memory: Option<i64>,
        /// Most processes at once
        #[arg(long)]
        pids_limit: Option<i64>,
        /// CPU quota per period, in microseconds
        #[arg(long)]
        cpu_quota: Option<i64>,
        /// CPU period, in microseconds
        #[arg(long)]
        cpu_period: Option<u64>,
        /// CPU shares
        #[arg(long)]
        cpu_share: Option<u64>,
        id: String,
    },
    /// What this runtime supports, as runc's JSON
    Features,
    /// The containers of --root
    List {
        /// table or json
        #[arg(short, long, default_value = "table")]
        format: String,
        /// Only the ids
        #[arg(short, long)]
        quiet: bool,
    },
    /// Write a default config.json
    Spec {
        /// Where to write it
        #[arg(short, long, default_value = ".")]
        bundle: PathBuf,
        /// Accepted for compatibility (no rootless spec is made)
        #[arg(long)]
        rootless: bool,
    },
    /// Resource usage: once with --stats, else every --interval until the container stops
    Events {
        #[arg(long)]
        stats: bool,
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        interval: std::time::Duration,
        id: String,
    },
}

/// True when this process was started as [`RUNC_NAME`].
pub fn invoked_as_runc() -> bool {
    std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n == RUNC_NAME))
        .unwrap_or(false)
}

/// Runs the OCI CLI on `args` (`args[0]` the program name) and returns the exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let logger = log::Logger::new(cli.globals.log.clone(), cli.globals.log_format);
    match run(&cli.globals, cli.verb) {
        Ok(code) => code,
        Err(e) => {
            logger.error(&format!("{e:#}"));
            1
        }
    }
}

fn run(globals: &Globals, verb: Verb) -> anyhow::Result<i32> {
    if globals.systemd_cgroup {
        anyhow::bail!("--systemd-cgroup is not supported: this runtime drives cgroupfs only");
    }
    if let Some(mode) = &globals.rootless
        && mode != "false"
        && mode != "auto"
    {
        anyhow::bail!("--rootless {mode}: rootless containers are not supported");
    }
    let needs_root = !matches!(verb, Verb::Features | Verb::Spec { .. });
    if needs_root {
        crate::runtime::require_host_root("the OCI runtime").map_err(anyhow::Error::msg)?;
    }
    let root = state::Root(std::path::absolute(&globals.root)?);
    if matches!(verb, Verb::Create(_) | Verb::Run { .. } | Verb::Exec(_)) {
        // These fork into a container: from a sealed copy of this binary, not dumpable.
        crate::runtime::sealed::enter();
    }
    match verb {
        Verb::Create(args) => create::create(&root, &args).map(|_| 0),
        Verb::Run { create, detach } => create::run(&root, &create, detach),
        Verb::Start { id } => verbs::start(&root, &id).map(|()| 0),
        Verb::State { id } => verbs::state(&root, &id).map(|()| 0),
        Verb::Kill { all, id, signal } => {
            verbs::kill(&root, &id, signal.as_deref().unwrap_or("SIGTERM"), all).map(|()| 0)
        }
        Verb::Delete { force, id } => verbs::delete(&root, &id, force).map(|()| 0),
        Verb::Exec(args) => exec::exec(&root, &args),
        Verb::Ps {
            format,
            id,
            ps_args,
        } => verbs::ps(&root, &id, &format, &ps_args).map(|()| 0),
        Verb::Pause { id } => verbs::pause(&root, &id, true).map(|()| 0),
        Verb::Resume { id } => verbs::pause(&root, &id, false).map(|()| 0),
        Verb::Update {
            resources,
            memory,
            pids_limit,
            cpu_quota,
            cpu_period,
            cpu_share,
            id,
        } => {
            let flags = verbs::UpdateFlags {
                memory,
                pids_limit,
                cpu_quota,
                cpu_period,
                cpu_share,
            };
            verbs::update(&root, &id, resources.as_deref(), &flags).map(|()| 0)
        }
        Verb::Features => verbs::features().map(|()| 0),
        Verb::List { format, quiet } => verbs::list(&root, &format, quiet).map(|()| 0),
        Verb::Spec { bundle, .. } => verbs::spec(&bundle).map(|()| 0),
        Verb::Events {
            stats,
            interval,
            id,
        } => verbs::events(&root, &id, stats, interval).map(|()| 0),
    }
}
