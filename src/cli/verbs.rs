//! The lifecycle verbs (`ps`, `exec`, `logs`, `stop`, ...), Docker's names, flags and exit
//! codes. They have a parser of their own: the run options are global to the main one (`-e`,
//! `-t` before or after `run`), and `-t` means `--time` to `stop` and `--timestamps` to `logs`.
//!
//! As Docker's CLI, a verb exits 1 when the daemon's part fails (no such container, a running
//! one to remove); `exec` passes its command's status through, with 125-127 for its own.

use super::error::{CliError, Outcome, report};
use super::{
    attach, control, cp, events, exec, image, logs, network, ps, show, system, update, volume,
};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "my-container-tui", version)]
struct Verbs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// List containers
    Ps(ps::Args),
    /// Run a command in a running container
    Exec(exec::Args),
    /// Attach to a running container's terminal or output (detach with Ctrl-p Ctrl-q)
    Attach(attach::Args),
    /// Print a container's output
    Logs(logs::Args),
    /// Stop containers: the stop signal, then SIGKILL after the timeout
    Stop(control::StopArgs),
    /// Send a signal to containers' PID 1
    Kill(control::KillArgs),
    /// Start stopped containers again
    Start(control::Names),
    /// Stop, then start containers
    Restart(control::StopArgs),
    /// Wait until containers end, and print their exit codes
    Wait(control::Names),
    /// Remove containers
    Rm(control::RmArgs),
    /// Change running containers' limits (memory, CPUs, pids) and restart policy
    Update(update::Args),
    /// Pause every process of containers (the cgroup freezer)
    Pause(control::Names),
    /// Resume paused containers
    Unpause(control::Names),
    /// List a container's published ports, or the host address of one
    Port {
        container: String,
        /// PORT[/tcp|/udp]: print only where this container port is published
        private: Option<String>,
    },
    /// Rename a container
    Rename { old: String, new: String },
    /// Print containers' details as JSON
    Inspect(show::InspectArgs),
    /// Show a container's processes: PID inside beside PID on the host
    Top {
        container: String,
        /// Options for the host's `ps` (e.g. `-o pid,rss,args`), its rows cut to the container's
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_options: Vec<String>,
    },
    /// Show what happens to containers (create, start, die, oom, destroy, ...), as it happens
    Events(events::Args),
    /// Write a running container's root, flattened, as a tar stream
    Export {
        container: String,
        /// Write to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Copy files between a running container and the host (a tar stream with -)
    Cp(cp::Args),
    /// Show what a container changed in its root: A added, C changed, D deleted
    Diff { container: String },
    /// Show containers' CPU, memory, PIDs and network I/O
    Stats(show::StatsArgs),
    /// Manage containers (ls, prune)
    #[command(subcommand)]
    Container(system::Container),
    /// Disk use (df) and removing what nothing uses (prune)
    #[command(subcommand)]
    System(system::System),
    /// Manage named volumes
    #[command(subcommand)]
    Volume(volume::Command),
    /// Manage networks (create, ls, rm, inspect)
    #[command(subcommand)]
    Network(network::Command),
    /// Pull an image from a registry
    Pull(image::PullArgs),
    /// Build an image from a Dockerfile
    Build(image::BuildArgs),
    /// Push an image to a registry
    Push(image::PushArgs),
    /// List images
    Images(image::ImagesArgs),
    /// Remove images
    Rmi(image::RmiArgs),
    /// Give an image another name: `tag SOURCE TARGET`
    Tag { source: String, target: String },
    /// Show how an image was made: its config's history
    History(image::HistoryArgs),
    /// Make an image of a container's changes (its writable layer over its image)
    Commit(image::CommitArgs),
    /// Write images to an archive (docker-archive or oci-archive) that load reads
    Save(image::SaveArgs),
    /// Import a root filesystem tarball as an image
    Import(image::ImportArgs),
    /// Load images from a `docker save` or OCI image-layout archive
    Load(image::LoadArgs),
    /// Manage images (ls, pull, rm, prune, inspect, import, load)
    #[command(subcommand)]
    Image(image::Command),
    /// Store credentials for a registry (in Docker's ~/.docker/config.json)
    Login(image::LoginArgs),
    /// Remove stored credentials for a registry
    Logout { server: Option<String> },
}

/// The verbs and what they do, for the main `--help`.
pub fn summary() -> String {
    use clap::CommandFactory;
    let mut out = String::from("Container lifecycle (my-container-tui VERB --help for each):\n");
    for c in Verbs::command().get_subcommands() {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.push_str(&format!("  {:<9} {about}\n", c.get_name()));
    }
    out
}

/// Parses and runs a verb; the exit code.
pub fn main(args: Vec<std::ffi::OsString>) -> i32 {
    let verbs = match Verbs::try_parse_from(args) {
        Ok(v) => v,
        Err(e) => return report(super::clap_outcome(e)),
    };
    if !matches!(verbs.verb, Verb::Exec(_) | Verb::Attach(_)) {
        quiet_on_a_closed_pipe();
    }
    report(run(verbs.verb))
}

/// A verb that prints (`inspect C | head -1`) ends as `cat` does when its reader goes: killed
/// by SIGPIPE, silently, not with Rust's "failed printing to stdout" panic. Not for `exec` and
/// `attach`, whose relays see the closed pipe as an error of their own and end the session.
fn quiet_on_a_closed_pipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: restores the default disposition; no handler of ours is replaced.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Runs one verb, as root.
fn run(verb: Verb) -> Outcome {
    crate::runtime::require_root().map_err(CliError::msg)?;
    match verb {
        Verb::Ps(a) => ps::run(&a),
        Verb::Exec(a) => exec::run(a),
        Verb::Attach(a) => attach::run(&a),
        Verb::Logs(a) => logs::run(&a),
        Verb::Stop(a) => control::stop(&a),
        Verb::Kill(a) => control::kill(&a),
        Verb::Start(a) => control::start(&a),
        Verb::Restart(a) => control::restart(&a),
        Verb::Wait(a) => control::wait(&a),
        Verb::Rm(a) => control::rm(&a),
        Verb::Update(a) => update::run(&a),
        Verb::Pause(a) => control::pause(&a),
        Verb::Unpause(a) => control::unpause(&a),
        Verb::Port { container, private } => control::port(&container, private.as_deref()),
        Verb::Rename { old, new } => control::rename(&old, &new),
        Verb::Inspect(a) => show::inspect(&a),
        Verb::Top {
            container,
            ps_options,
        } => show::top(&container, &ps_options),
        Verb::Events(a) => events::run(&a),
        Verb::Cp(a) => cp::run(&a),
        Verb::Export { container, output } => cp::export(&container, output.as_deref()),
        Verb::Diff { container } => show::diff(&container),
        Verb::Stats(a) => show::stats(&a),
        Verb::Container(c) => system::container(c),
        Verb::System(c) => system::system(c),
        Verb::Volume(c) => volume::run(c),
        Verb::Network(c) => network::run(c),
        Verb::Pull(a) => image::pull(&a),
        Verb::Build(a) => image::build(&a),
        Verb::Push(a) => image::push(&a),
        Verb::Images(a) => image::images(&a),
        Verb::Rmi(a) => image::rmi(&a),
        Verb::Tag { source, target } => image::tag(&source, &target),
        Verb::History(a) => image::history(&a),
        Verb::Commit(a) => image::commit(&a),
        Verb::Save(a) => image::save(&a),
        Verb::Import(a) => image::import(&a),
        Verb::Load(a) => image::load(&a),
        Verb::Image(c) => image::image(c),
        Verb::Login(a) => image::login(&a),
        Verb::Logout { server } => image::logout(server.as_deref()),
    }
}
