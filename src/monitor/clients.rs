//! The monitor's clients: connections on its socket, each sent what it asked for without ever
//! blocking the monitor. A client that stops reading has its messages queued up to
//! `MAX_QUEUED` (8 MiB), and is then let go (tmux does the same with a client that cannot keep up).

use super::protocol::{Event, MAX_MESSAGE, Request};
use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, Backlog, MsgFlags, SockFlag, SockType, UnixAddr, accept4, bind, listen, recv,
    send, socket,
};
use std::collections::VecDeque;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Bytes queued for one client before it is let go.
const MAX_QUEUED: usize = 8 << 20;

/// One connection.
pub struct Client {
    fd: OwnedFd,
    /// It asked for output ([`Request::Attach`]).
    pub attached: bool,
    /// It asked to hear of the exit ([`Request::Wait`]).
    pub waiting: bool,
    queue: VecDeque<Vec<u8>>,
    queued: usize,
    /// It hung up, or fell too far behind.
    pub gone: bool,
}

/// Listens on `path` (made fresh; root's alone, as the directory it is in).
pub fn listen_at(path: &Path) -> nix::Result<OwnedFd> {
    let _ = std::fs::remove_file(path);
    let fd = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    bind(fd.as_raw_fd(), &UnixAddr::new(path)?)?;
    listen(&fd, Backlog::new(64)?)?;
    Ok(fd)
}

/// Takes the connections waiting on `listener`.
pub fn accept_all(listener: &OwnedFd, clients: &mut Vec<Client>) {
    loop {
        match accept4(listener, SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK) {
            Ok(fd) => clients.push(Client {
                fd,
                attached: false,
                waiting: false,
                queue: VecDeque::new(),
                queued: 0,
                gone: false,
            }),
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

impl Client {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn wants_to_write(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The requests that have arrived (none once it hung up).
    pub fn receive(&mut self) -> Vec<Request> {
        let mut requests = Vec::new();
        let mut buf = vec![0u8; MAX_MESSAGE + 1];
        loop {
            match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(0) => {
                    self.gone = true;
                    break;
                }
                Ok(n) => requests.extend(Request::decode(&buf[..n])),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    self.gone = true;
                    break;
                }
            }
        }
        requests
    }

    /// Sends `event`, or queues it behind what is waiting.
    pub fn send(&mut self, event: &Event) {
        if self.gone {
            return;
        }
        let message = event.encode();
        self.queued += message.len();
        self.queue.push_back(message);
        if self.queued > MAX_QUEUED {
            self.gone = true;
            return;
        }
        self.flush();
    }

    /// Sends what the socket takes now.
    pub fn flush(&mut self) {
        while let Some(message) = self.queue.front() {
            match send(self.fd.as_raw_fd(), message, MsgFlags::MSG_DONTWAIT) {
                Ok(_) => {
                    self.queued -= message.len();
                    self.queue.pop_front();
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.gone = true;
                    return;
                }
            }
        }
    }

    /// Sends what is queued, waiting for the socket as long as it takes up to `patience` (the
    /// last words to a client before the monitor exits).
    pub fn finish(&mut self, patience: std::time::Duration) {
        let deadline = std::time::Instant::now() + patience;
        while self.wants_to_write() && !self.gone && std::time::Instant::now() < deadline {
            let mut fds = [nix::poll::PollFd::new(
                self.fd.as_fd(),
                nix::poll::PollFlags::POLLOUT,
            )];
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(100u8));
            self.flush();
        }
    }
}
