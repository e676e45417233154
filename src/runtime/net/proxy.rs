//! Published TCP ports of a container on a rootless user's network (rootlessport's part, or
//! docker-proxy's): the kernel's DNAT cannot carry a connection from the host's network
//! namespace into the user's (see [`super::holder`]), so a process of ours holds both ends:
//! sockets listening on the host's ports, bound in the host's namespace before the helper
//! left it (a socket keeps the namespace it was made in), and for each connection accepted
//! there, one to the container's address made in the user's namespace, where the helper is.
//!
//! Written by hand: a copy each way per connection, on threads of a process forked from the
//! helper, which no crate would make simpler. It dies with the helper (`PR_SET_PDEATHSIG`)
//! and is ended by it when the container ends. The container sees connections from the
//! bridge's side, not the client's address, as behind docker-proxy.

use crate::spec::network::Publish;
use anyhow::Context;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};

/// The running proxy of one container.
#[derive(Debug)]
pub struct Proxy(nix::unistd::Pid);

impl Proxy {
    /// Ends it (the container has ended) and reaps it.
    pub fn stop(self) {
        let _ = nix::sys::signal::kill(self.0, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.0, None);
    }
}

/// Forwards each of `held` (bound to `publish`'s host ports, in their order) to `ip` at its
/// container port. Forks: call it single-threaded.
pub fn start(held: Vec<OwnedFd>, publish: &[Publish], ip: Ipv4Addr) -> anyhow::Result<Proxy> {
    let mut listeners = Vec::new();
    for (fd, p) in held.into_iter().zip(publish) {
        nix::sys::socket::listen(&fd, nix::sys::socket::Backlog::new(128)?)
            .with_context(|| format!("cannot listen on port {}", p.host_port))?;
        listeners.push((
            TcpListener::from(fd),
            SocketAddrV4::new(ip, p.container_port),
        ));
    }
    match crate::runtime::sys::fork()? {
        nix::unistd::ForkResult::Child => {
            let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
            // Its listeners alone: not the helper's cleaner pipe, run lock or reports.
            let keep: Vec<_> = listeners.iter().map(|(l, _)| l.as_raw_fd()).collect();
            crate::runtime::sys::close_all_but(&keep);
            serve(listeners)
        }
        nix::unistd::ForkResult::Parent { child } => Ok(Proxy(child)),
    }
}

/// The proxy: a thread accepting on each listener, never returning.
fn serve(listeners: Vec<(TcpListener, SocketAddrV4)>) -> ! {
    let accepting: Vec<_> = listeners
        .into_iter()
        .filter_map(|(listener, target)| {
            std::thread::Builder::new()
                .spawn(move || accept(listener, target))
                .ok()
        })
        .collect();
    for thread in accepting {
        let _ = thread.join();
    }
    // SAFETY: _exit ends this forked child without running the helper's exit work.
    unsafe { libc::_exit(0) }
}

fn accept(listener: TcpListener, target: SocketAddrV4) {
    for client in listener.incoming().flatten() {
        let _ = std::thread::Builder::new().spawn(move || relay(client, target));
    }
}

/// One connection: the container's side made, then a copy each way until both have ended.
fn relay(client: TcpStream, target: SocketAddrV4) {
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    let (Ok(client_back), Ok(server_back)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::Builder::new().spawn(move || pass(client, server));
    pass(server_back, client_back);
    if let Ok(up) = up {
        let _ = up.join();
    }
}

/// Copies `from` to `to` until `from` ends, then ends `to`'s writing half.
fn pass(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
