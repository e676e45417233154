//! The monitor's clients: connections on its socket, each sent what it asked for without ever
//! blocking the monitor. A client that stops reading has its messages queued up to
//! `MAX_QUEUED` (8 MiB), and is then let go (tmux does the same with a client that cannot keep up).

use super::protocol::{Event, Request};
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
    /// Where the history it has not been sent ends ([`Request::History`]'s next page): the
    /// log at its attach, then each page's start; none once the log's start has been sent.
    pub history: Option<super::log::Mark>,
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
                history: None,
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
        super::protocol::with_inbox(|buf| self.receive_into(buf))
    }

    fn receive_into(&mut self, buf: &mut [u8]) -> Vec<Request> {
        let mut requests = Vec::new();
        loop {
            match recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::socketpair;

    fn pair() -> (Client, OwnedFd) {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        )
        .unwrap();
        let client = Client {
            fd: ours,
            attached: true,
            waiting: false,
            queue: VecDeque::new(),
            queued: 0,
            gone: false,
            history: None,
        };
        (client, theirs)
    }

    /// A client that reads nothing gets what its socket holds, then a queue, then is let go
    /// past [`MAX_QUEUED`]; the monitor never blocks on it.
    #[test]
    fn a_client_that_stops_reading_is_let_go() {
        let (mut client, _theirs) = pair();
        let chunk = Event::Output(super::super::protocol::Stream::Stdout, vec![b'x'; 60_000]);
        let mut sent = 0;
        while !client.gone && sent < 2 * MAX_QUEUED {
            client.send(&chunk);
            sent += 60_000;
        }
        assert!(client.gone, "still queued after {sent} bytes");
        assert!(sent > MAX_QUEUED);
    }

    /// Requests arrive typed; a hang-up is seen.
    #[test]
    fn requests_arrive_and_a_hang_up_is_seen() {
        let (mut client, theirs) = pair();
        send(
            theirs.as_raw_fd(),
            &Request::Wait.encode(),
            MsgFlags::empty(),
        )
        .unwrap();
        assert_eq!(client.receive(), [Request::Wait]);
        drop(theirs);
        assert!(client.receive().is_empty());
        assert!(client.gone);
    }
}
