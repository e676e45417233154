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
use std::sync::mpsc::{Receiver, TryRecvError};

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
    /// A redraw being made ([`Client::redraw_with`]): what it is sent meanwhile waits here,
    /// to follow the screen.
    redraw: Option<Redraw>,
    /// It fell behind and is sent redraws rather than output ([`Request::Redraw`]).
    pub paced: Option<Paced>,
    /// It hung up, or fell too far behind.
    pub gone: bool,
}

/// A client sent redraws rather than output, as tmux sends its clients while a pane floods:
/// a dashboard that was sent every byte of `seq 1 2000000` spent 320 ms of CPU receiving
/// and dropping what it could not draw, on the cores the flood itself needed (40-60 ms
/// paced), and the flood took 1.2× tmux's time (0.93-1.01× paced).
#[derive(Debug, Clone, Copy)]
pub struct Paced {
    /// When it was last redrawn.
    pub at: std::time::Instant,
    /// Output came since then, which it has not been sent.
    pub behind: bool,
}

impl Paced {
    pub fn new(at: std::time::Instant) -> Paced {
        Paced { at, behind: false }
    }

    /// What is due at `now`: a redraw once a frame while output comes, the output again
    /// after a frame without any, or nothing yet.
    pub fn due(&self, now: std::time::Instant) -> Option<Due> {
        if now.duration_since(self.at) < super::protocol::FRAME {
            return None;
        }
        Some(match self.behind {
            true => Due::Redraw,
            false => Due::Output,
        })
    }
}

/// What a [`Paced`] client is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Redraw,
    Output,
}

/// A screen on its way, and the messages that come after it.
struct Redraw {
    screen: Receiver<Vec<u8>>,
    after: Vec<Vec<u8>>,
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
    let short = crate::state::tree::SocketPath::new(path).map_err(|_| nix::Error::ENAMETOOLONG)?;
    bind(fd.as_raw_fd(), &UnixAddr::new(&short.path)?)?;
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
                redraw: None,
                paced: None,
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
        if self.queued > MAX_QUEUED {
            self.gone = true;
            return;
        }
        match &mut self.redraw {
            Some(redraw) => redraw.after.push(message),
            None => {
                self.queue.push_back(message);
                self.flush();
            }
        }
    }

    /// Drops the output queued for it ([`Request::Redraw`]): what it was to be sent next is
    /// what came after; anything else queued (a page of history, an exit) still goes, in order.
    pub fn skip_output(&mut self) {
        self.queue
            .retain(|message| !super::protocol::is_output(message));
        self.queued = self.queue.iter().map(Vec::len).sum();
    }

    /// Sends the screen `screen` answers with, in messages of the largest size, once it has
    /// come ([`Client::redrawn`]); what it is sent until then follows it.
    pub fn redraw_with(&mut self, screen: Receiver<Vec<u8>>) {
        if self.redraw.is_none() {
            self.redraw = Some(Redraw {
                screen,
                after: Vec::new(),
            });
        }
    }

    /// Whether a redraw is on its way.
    pub fn redrawing(&self) -> bool {
        self.redraw.is_some()
    }

    /// Sends the redraw's screen and what waited behind it, if it has come (or, with
    /// `wait`, once it comes: the screen's thread answers or ends); a screen that never came
    /// is none.
    pub fn redrawn(&mut self, wait: bool) {
        let Some(redraw) = &self.redraw else { return };
        let screen = if wait {
            redraw.screen.recv().unwrap_or_default()
        } else {
            match redraw.screen.try_recv() {
                Ok(screen) => screen,
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => Vec::new(),
            }
        };
        let Some(redraw) = self.redraw.take() else {
            return;
        };
        let stdout = super::protocol::Stream::Stdout;
        self.queued = self.queue.iter().map(Vec::len).sum();
        for part in screen.chunks(super::protocol::MAX_MESSAGE - 1) {
            self.send(&Event::Output(stdout, part.to_vec()));
        }
        for message in redraw.after {
            self.queued += message.len();
            self.queue.push_back(message);
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
            redraw: None,
            paced: None,
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

    /// A redraw drops the output queued, nothing else, and the count follows.
    #[test]
    fn skipping_drops_only_output() {
        let (mut client, theirs) = pair();
        // Fill the socket, so the rest is queued.
        while !client.wants_to_write() {
            client.send(&output(b'x', 60_000));
        }
        client.send(&Event::HistoryEnd { start: true });
        client.send(&output(b'y', 10));
        client.skip_output();
        assert_eq!(
            client.queued,
            Event::HistoryEnd { start: true }.encode().len()
        );
        let events = drain(&mut client, &theirs);
        assert_eq!(events.last(), Some(&Event::HistoryEnd { start: true }));
        assert!(
            events[..events.len() - 1]
                .iter()
                .all(|e| matches!(e, Event::Output(_, bytes) if bytes[0] == b'x'))
        );
    }

    /// What is sent while a redraw's screen is being made follows that screen, whenever it
    /// comes; a screen that never comes lets it through.
    #[test]
    fn a_redraw_goes_before_what_came_while_it_was_made() {
        let (mut client, theirs) = pair();
        let (answer, screen) = std::sync::mpsc::channel();
        client.send(&output(b'a', 3));
        client.redraw_with(screen);
        client.send(&output(b'c', 3));
        client.send(&Event::HistoryEnd { start: false });
        client.redrawn(false);
        assert!(client.redrawing());
        answer.send(b"bbb".to_vec()).unwrap();
        client.redrawn(false);
        assert!(!client.redrawing());
        assert_eq!(
            drain(&mut client, &theirs),
            [
                output(b'a', 3),
                output(b'b', 3),
                output(b'c', 3),
                Event::HistoryEnd { start: false }
            ]
        );
        let (answer, screen) = std::sync::mpsc::channel::<Vec<u8>>();
        client.redraw_with(screen);
        client.send(&output(b'd', 1));
        drop(answer);
        client.redrawn(true);
        assert_eq!(drain(&mut client, &theirs), [output(b'd', 1)]);
    }

    fn output(byte: u8, n: usize) -> Event {
        Event::Output(super::super::protocol::Stream::Stdout, vec![byte; n])
    }

    /// Everything the client is sent, until it has nothing left to send.
    fn drain(client: &mut Client, theirs: &OwnedFd) -> Vec<Event> {
        let mut buf = vec![0u8; 70_000];
        let mut events = Vec::new();
        loop {
            client.flush();
            match recv(theirs.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(n) => events.extend(Event::decode(&buf[..n])),
                Err(_) if !client.wants_to_write() => return events,
                Err(_) => {}
            }
        }
    }

    /// A paced client is due a redraw a frame after its last while output comes, the output
    /// again after a frame without any, and nothing within a frame.
    #[test]
    fn a_paced_client_is_redrawn_a_frame_at_most() {
        use super::super::protocol::FRAME;
        let at = std::time::Instant::now();
        let mut paced = Paced::new(at);
        assert_eq!(paced.due(at + FRAME / 2), None);
        assert_eq!(paced.due(at + FRAME), Some(Due::Output));
        paced.behind = true;
        assert_eq!(paced.due(at + FRAME / 2), None);
        assert_eq!(paced.due(at + FRAME), Some(Due::Redraw));
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
