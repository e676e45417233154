//! A connection to a container's monitor: typed messages on its `SOCK_SEQPACKET` socket.

use crate::monitor::protocol::{Event, MAX_MESSAGE, Request};
use crate::state::{Record, store};
use anyhow::Context;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, UnixAddr, connect, recv, send, socket,
};
use std::os::fd::{AsRawFd, OwnedFd};

/// A connection to a container's monitor.
pub struct Connection {
    fd: OwnedFd,
}

impl Connection {
    /// Connects to the monitor of container `record` (which must be running).
    pub fn open(record: &Record) -> anyhow::Result<Connection> {
        let fd = socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| anyhow::anyhow!("socket: {}", e.desc()))?;
        let path = store::socket(&record.id);
        // Held until connected: its directory's descriptor is part of the path.
        crate::state::tree::SocketPath::new(&path)
            .map_err(|_| nix::Error::ENAMETOOLONG)
            .and_then(|short| {
                UnixAddr::new(&short.path).and_then(|addr| connect(fd.as_raw_fd(), &addr))
            })
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot reach container {}'s monitor: {}",
                    record.name,
                    e.desc()
                )
            })?;
        Ok(Connection { fd })
    }

    /// A connection over a socket already made: a test's fake monitor at the other end.
    #[cfg(test)]
    pub(crate) fn from_fd(fd: OwnedFd) -> Connection {
        Connection { fd }
    }

    /// A second handle on the same connection (one thread reads while another writes).
    pub fn try_clone(&self) -> anyhow::Result<Connection> {
        Ok(Connection {
            fd: self.fd.try_clone().context("dup")?,
        })
    }

    pub fn send(&self, request: &Request) -> anyhow::Result<()> {
        let message = request.encode();
        loop {
            match send(self.fd.as_raw_fd(), &message, MsgFlags::MSG_NOSIGNAL) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => anyhow::bail!("the container's monitor is gone: {}", e.desc()),
                Ok(_) => return Ok(()),
            }
        }
    }

    /// The next event; `None` once the monitor has hung up.
    pub fn recv(&self) -> Option<Event> {
        crate::monitor::protocol::with_inbox(|buf| self.recv_into(buf))
    }

    fn recv_into(&self, buf: &mut [u8]) -> Option<Event> {
        loop {
            match recv(self.fd.as_raw_fd(), buf, MsgFlags::empty()) {
                Ok(0) => return None,
                Ok(n) => {
                    if let Some(event) = Event::decode(&buf[..n]) {
                        return Some(event);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Whether a message arrives within `timeout` (at once, with zero: one is waiting).
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let millis = PollTimeout::try_from(timeout.as_millis().min(i32::MAX as u128) as i32)
            .unwrap_or(PollTimeout::MAX);
        // A hang-up is readable too: the `recv` that follows sees it.
        poll(&mut fds, millis).is_ok_and(|n| n > 0)
    }

    /// Sends `request` and waits for its answer, skipping output.
    pub fn call(&self, request: &Request) -> anyhow::Result<()> {
        self.send(request)?;
        loop {
            match self.recv() {
                Some(Event::Done) => return Ok(()),
                Some(Event::Failed(message)) => anyhow::bail!(message),
                Some(_) => continue,
                None => anyhow::bail!("the container's monitor hung up"),
            }
        }
    }
}

/// Sends input in pieces that each fit a message.
pub fn send_input(conn: &Connection, bytes: &[u8]) -> anyhow::Result<()> {
    for chunk in bytes.chunks(MAX_MESSAGE - 1) {
        conn.send(&Request::Input(chunk.to_vec()))?;
    }
    Ok(())
}
