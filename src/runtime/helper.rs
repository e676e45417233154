//! The host side of one container, and its re-exec entry (`my-container-tui __helper`).
//!
//! [`contain`] must run in a single-threaded process, since it forks: it creates the PID
//! namespace, forks the container's PID 1 (see [`super::init`]), relays its failure report,
//! forwards signals to it, and exits with its status.
//!
//! A multithreaded launcher (the dashboard) or one that needs a pseudo-terminal (headless with a
//! tty) re-executes this binary as the helper, whose [`main`] ties its life to the launcher's and
//! then calls [`contain`]. The headless launcher without a tty is already single-threaded and has
//! nothing else to do, so it calls [`contain`] itself and saves an exec.

use super::cgroups::{Cgroup, Layout};
use super::cleaner::{self, Leftovers};
use super::exit::RUNTIME_ERROR;
use super::launch::HANDOFF_VAR;
use super::supervise::Supervisor;
use super::{console, devices, handoff, init, namespaces, net, report};
use crate::spec::limits::human;
use crate::spec::{ContainerSpec, Share};
use crate::state::{Process, store, tree as state};
use nix::sys::prctl::{set_dumpable, set_pdeathsig};
use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, getppid, setsid};

fn die(message: &str) -> ! {
    super::exit::print_error(message);
    std::process::exit(RUNTIME_ERROR)
}

/// The re-exec entry; never returns.
pub fn main() -> ! {
    let address = std::env::var(HANDOFF_VAR)
        .ok()
        .and_then(|a| handoff::Address::parse(&a))
        .unwrap_or_else(|| {
            die("this entry point is internal: run `my-container-tui --help` for usage")
        });
    // Die with the launcher; if it died before this line, getppid no longer names it.
    if set_pdeathsig(Signal::SIGKILL).is_err() || getppid().as_raw() != address.launcher {
        std::process::exit(RUNTIME_ERROR);
    }
    let spec = address
        .receive_spec()
        .and_then(|spec| spec.validate().map(|()| spec).map_err(anyhow::Error::new))
        .unwrap_or_else(|e| {
            let message = format!("{e:#}");
            address.report_ending(handoff::Ending {
                oom_killed: false,
                failure: Some(message.clone()),
            });
            die(&message)
        });
    // Our own session (unless portable-pty already made us a leader), so a Ctrl-C typed at the
    // launcher's terminal reaches the container once, forwarded, rather than twice.
    let _ = setsid();
    contain(&spec, Some(&address))
}

/// Runs `spec` (already validated) as a container and exits with its status; never returns.
/// With `report`, the launcher that re-executed us gets the [`handoff::Ending`] we leave there.
/// It forks through [`super::sys::fork`], which refuses a process with more than one thread.
pub fn contain(spec: &ContainerSpec, report: Option<&handoff::Address>) -> ! {
    // Not dumpable, nor is any child until it execs: the container's PID 1 is this binary
    // until then (and under --init after; then the helper runs from a sealed copy besides,
    // see launch::SEAL_VAR).
    let _ = set_dumpable(false);
    // A start that fails here tells the launcher why, as a failure after the fork does: a
    // monitor (`run -d`, the dashboard) has no other way to learn it than our stderr, which
    // is the container's log.
    let refuse = |message: &str| -> ! {
        if let Some(launcher) = report {
            launcher.report_ending(handoff::Ending {
                oom_killed: false,
                failure: Some(message.to_string()),
            });
        }
        die(message)
    };
    // Rootless: root of the user's own user namespace before anything is made, so that every
    // namespace, mount and file of the container is made inside it (see super::rootless).
    // On a user network, the user namespace is the user's network holder's, where their
    // bridges are (see net::holder): held joined until the lease is taken.
    let mut holder = None;
    let mut held = None;
    if crate::state::as_root::needed() {
        if let Some(launcher) = report {
            launcher.open_reports();
        }
        // Its published ports are the host's: bound before the host's network is left.
        let entered = match spec.network.bridge() {
            Some(_) => net::attach::hold_published(spec)
                .map(|published| held = Some(published))
                .and_then(|()| net::holder::join())
                .map(|joined| holder = Some(joined)),
            None => super::rootless::enter(),
        };
        entered.unwrap_or_else(|e| refuse(&format!("{e:#}")));
        // Changing our ids cleared the parent-death signal that ties us to the launcher.
        if let Some(launcher) = report
            && (set_pdeathsig(Signal::SIGKILL).is_err() || getppid().as_raw() != launcher.launcher)
        {
            std::process::exit(RUNTIME_ERROR);
        }
    }
    // With a tty, window changes reach us as SIGWINCH, to pass on to the container's pty.
    let extra: &[Signal] = if spec.tty { &[Signal::SIGWINCH] } else { &[] };
    let supervisor =
        Supervisor::new(extra).unwrap_or_else(|e| refuse(&format!("signalfd: {}", e.desc())));
    // The cleaner owns the cgroup and the state directory before they exist: a SIGKILL at any
    // point from here on leaves nothing behind. It is forked before the PID namespace is
    // made: a later child of ours would be born inside it, and PID 1's exit would then wait
    // for us to reap it.
    // Rootless, none: no cgroup is the user's to make (limits were refused before the start),
    // and its devices are the host's own nodes, bound, which its user may open anyway.
    let layout = (!crate::state::owner::rootless()).then(Layout::detect);
    // A foreground run not recorded yet is recorded by the cleaner, owned by the launcher.
    let record = (!store::exists(&spec.id)).then(|| {
        let launcher = report.and_then(|a| Process::of(a.launcher));
        (spec.clone(), launcher.unwrap_or_else(Process::me))
    });
    let leftovers = Leftovers {
        cgroup: layout
            .as_ref()
            .and_then(|l| l.as_ref().ok())
            .map(|l| Cgroup::at(l, &spec.id)),
        id: spec.id.clone(),
        record,
        bridged: spec.network.bridge().is_some(),
        kill_all: spec.shared.pid != Share::Own,
    };
    // A recorded container may be started again (`start`, a restart policy): its run lock,
    // taken before anything of this run exists and released by the cleaner once all of it
    // is gone, keeps the next run from making a cgroup of the same name that our cleaner
    // would remove.
    let run_lock = match leftovers.record {
        None => Some(
            state::RunLock::take(&spec.id)
                .unwrap_or_else(|e| refuse(&format!("cannot lock container {}: {e}", spec.id))),
        ),
        Some(_) => None,
    };
    let kept = run_lock.as_ref().map(state::RunLock::as_raw_fd);
    let cleaner_pipe = cleaner::spawn(&leftovers, kept)
        .unwrap_or_else(|e| refuse(&format!("cannot start the cleaner: {e:#}")));
    let fail = |message: String| -> ! {
        leftovers.remove();
        refuse(&message)
    };
    let cgroup = make_cgroup(spec, layout).unwrap_or_else(|e| fail(format!("{e:#}")));
    // The state directory holds a rootfs's overlay and the /etc files a container gets.
    let etc = (spec.rootfs.is_some() || spec.network.own_etc()).then(|| {
        state::prepare(&spec.id, spec.rootfs.is_some())
            .unwrap_or_else(|e| fail(format!("{e:#}")))
            .join("etc")
    });
    let network =
        net::attach::prepare(spec, etc.as_deref(), held).unwrap_or_else(|e| fail(format!("{e:#}")));
    drop(holder);
    // Its user namespace, maps written, for PID 1 to join once its mounts are made: made
    // before the PID namespace, whose first child the forked maker would otherwise be.
    let userns = spec
        .userns
        .own()
        .then(|| super::idmap::create(&spec.userns).unwrap_or_else(|e| fail(format!("{e:#}"))));
    // The PID namespace PID 1 is born in: its own (the default), the host's, or another
    // container's (entered here: only children enter one). --ipc container: opened here too,
    // joined by the child.
    let entered = match &spec.shared.pid {
        Share::Own => namespaces::enter_new(namespaces::PID),
        Share::Host => Ok(()),
        Share::Container(name) => namespaces::of_container(name, namespaces::PID)
            .and_then(|fd| namespaces::join_one(&fd, namespaces::PID.flag)),
    };
    entered.unwrap_or_else(|e| fail(format!("{e:#}")));
    let ipc = match &spec.shared.ipc {
        Share::Container(name) => Some(
            namespaces::of_container(name, namespaces::IPC)
                .unwrap_or_else(|e| fail(format!("{e:#}"))),
        ),
        _ => None,
    };
    let pipe_err = |e: nix::Error| -> ! { fail(format!("pipe: {}", e.desc())) };
    let (lifeline_r, lifeline_w) = report::lifeline().unwrap_or_else(|e| pipe_err(e));
    let (receiver, reporter) = report::channel().unwrap_or_else(|e| pipe_err(e));
    let (console_ours, console_theirs) = match spec.tty && spec.own_dev() {
        true => {
            let (ours, theirs) = console::channel().unwrap_or_else(|e| pipe_err(e));
            (Some(ours), Some(theirs))
        }
        false => (None, None),
    };

    let child = match super::sys::fork() {
        Ok(ForkResult::Child) => {
            drop(cleaner_pipe);
            drop(lifeline_w);
            drop(receiver);
            drop(console_ours);
            drop(network.reserved);
            // Pasta (and a proxy) are the helper's children, to end with the container: not
            // ours to kill.
            std::mem::forget(network.pasta);
            // Closed, not unlocked: the lock stays the helper's.
            drop(run_lock.map(state::RunLock::into_fd));
            let join = cgroup.as_ref().map(Cgroup::procs_files).unwrap_or_default();
            init::run(
                spec,
                join,
                lifeline_r,
                reporter,
                console_theirs,
                init::Readied {
                    netns: network.netns,
                    ipc,
                    userns,
                },
            )
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => fail(format!("{e:#}")),
    };
    drop(lifeline_r);
    drop(reporter);
    drop(console_theirs);
    // PID 1 holds its namespace now; ours would keep it (and the veth) after the container.
    drop(network.netns);
    drop(userns);
    // The container's own pty, once init has made it (none if init failed first): handed to
    // the monitor that asked for it, else relayed here.
    let console_socket = std::env::var_os(super::launch::CONSOLE_VAR);
    let mut relay =
        console_ours
            .as_ref()
            .and_then(console::receive)
            .and_then(|master| match &console_socket {
                Some(path) => {
                    if let Err(e) = console::hand_over(std::path::Path::new(path), &master) {
                        fail(format!("{e:#}"))
                    }
                    None
                }
                None => Some(console::Relay::new(master).unwrap_or_else(|e| {
                    fail(format!("cannot relay the container's terminal: {e}"))
                })),
            });
    let failure = receiver.read();
    if let Some(launcher) = report {
        match &failure {
            None => launcher.report_started(),
            Some((_, message)) => launcher.report_ending(handoff::Ending {
                oom_killed: false,
                failure: Some(message.clone()),
            }),
        }
    }
    // The start-up's heap (the spec, the network's lease record, netlink replies) and the
    // code that ran it are given back as the helper waits out the container's life: once it
    // has waited a while, so that a command that ends at once is not kept waiting for it.
    supervisor.when_quiet(super::resident::SETTLE_AFTER, super::resident::settle);
    let exit = supervisor
        .wait_relaying(child, false, |_| {}, relay.as_mut())
        .unwrap_or_else(|e| fail(format!("waitpid: {}", e.desc())));
    // Its network ends with it (pasta, or a proxy, would otherwise hold its ports until we
    // exit).
    if let Some(pasta) = network.pasta {
        pasta.stop();
    }
    if let Some(proxy) = network.proxy {
        proxy.stop();
    }
    // Without a PID namespace of its own, nothing ends its other processes with PID 1: they
    // are killed now, as runc kills them (its cgroup holds every one).
    if spec.shared.pid != Share::Own
        && let Some(cg) = &cgroup
    {
        cg.kill_all();
    }
    // The cgroup is empty now (PID 1 is reaped, so its namespace is gone); the cleaner removes
    // it, and the rootfs state, as soon as we exit, off the path that the caller waits on.
    let oom_killed = cgroup.as_ref().is_some_and(|cg| cg.oom_kills() > 0);
    if let Some((code, message)) = failure {
        super::exit::print_error(&message);
        std::process::exit(code);
    }
    if oom_killed && exit.code() == 137 {
        if let Some(launcher) = report {
            launcher.report_ending(handoff::Ending {
                oom_killed: true,
                failure: None,
            });
        }
        let limit = spec
            .limits
            .memory
            .map(|m| format!(" (limit {})", human(m)))
            .unwrap_or_default();
        super::exit::print_error(&format!(
            "the container ran out of memory{limit} and the OOM killer ended it"
        ));
    }
    // The lifeline stays open to the end: the child must never see it closed while we live.
    drop(lifeline_w);
    drop(cleaner_pipe);
    drop(network.reserved);
    drop(run_lock);
    std::process::exit(exit.code())
}

/// The container's cgroup, with its limits and device rules applied; none without a layout (a
/// rootless container). Only a privileged container without limits runs on a host where
/// cgroups cannot be made (no cgroupfs, a read-only one): every other container needs its
/// device controller.
fn make_cgroup(
    spec: &ContainerSpec,
    layout: Option<anyhow::Result<Layout>>,
) -> anyhow::Result<Option<Cgroup>> {
    let Some(layout) = layout else {
        return Ok(None);
    };
    let rules = (!spec.hardening.privileged).then(|| devices::rules(&spec.devices));
    let made =
        layout.and_then(|layout| Cgroup::create(&layout, &spec.id, &spec.limits, rules.as_deref()));
    match made {
        Ok(cg) => match cg.apply(&spec.limits) {
            Ok(()) => Ok(Some(cg)),
            Err(e) => {
                let _ = cg.remove();
                Err(e)
            }
        },
        // Without limits or device rules there is nothing a cgroup must enforce.
        Err(_) if spec.limits.is_empty() && spec.hardening.privileged => Ok(None),
        Err(e) => Err(e),
    }
}
