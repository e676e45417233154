//! How a dashboard keeps up with a container that writes faster than a screen can be drawn.
//!
//! Every byte a dashboard is sent, it parses into its session's emulator, and each line that
//! scrolls off is formatted into history: during `seq 1 2000000` that parse was a third of the
//! machine's CPU, spent on screens nobody saw (a frame is drawn at most every 16 ms). tmux's
//! clients are sent redraws, not every byte. Here a session's reader parses up to [`BUDGET`]
//! bytes a frame; past it, with more waiting, it asks its monitor for a redraw
//! ([`crate::monitor::protocol::Request::Redraw`]): the monitor drops the output queued for
//! it and sends the screen as its own emulator has it now, then a screen a frame in place of
//! the output until a frame passes without any. What the reader skipped is in the
//! container's log, and comes back as history pages once the output pauses ([`QUIET`]).

use std::time::{Duration, Instant};

/// Output a reader parses in a frame before it asks for a redraw instead.
pub const BUDGET: usize = 64 * 1024;

pub use crate::monitor::protocol::FRAME;

/// The pause in the output after which a redrawn session takes its history back (a page
/// parsed at every redraw of a flood would cost more than the redraws save): short, since
/// until then a look back finds nothing.
pub const QUIET: Duration = Duration::from_millis(50);

/// The output a reader has parsed in the current frame and since it last caught up, and
/// when it last asked for a redraw.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    frame: Instant,
    parsed: usize,
    behind: usize,
    redrawn: Option<Instant>,
}

impl Pace {
    pub fn new(now: Instant) -> Pace {
        Pace {
            frame: now,
            parsed: 0,
            behind: 0,
            redrawn: None,
        }
    }

    /// `bytes` more were parsed at `now`, with more `waiting` after them or not; true when a
    /// redraw is due: more waits, and either the frame's budget is spent or a budget's worth
    /// was parsed without ever catching up (a reader slower than a budget a frame, as a
    /// debug build's is, never spent one in a frame, and fell behind until its monitor let it
    /// go); and none was asked for within a frame (a reader that asked again as soon as its
    /// redraw came made its monitor redraw hundreds of times a second, and the flood slower).
    pub fn parsed(&mut self, bytes: usize, now: Instant, waiting: bool) -> bool {
        if now.duration_since(self.frame) >= FRAME {
            self.frame = now;
            self.parsed = 0;
        }
        self.parsed += bytes;
        self.behind = match waiting {
            true => self.behind + bytes,
            false => 0,
        };
        waiting
            && (self.parsed > BUDGET || self.behind > BUDGET)
            && self
                .redrawn
                .is_none_or(|at| now.duration_since(at) >= FRAME)
    }

    /// A redraw was asked for at `now`: a frame begins.
    pub fn redraw(&mut self, now: Instant) {
        self.redrawn = Some(now);
        self.frame = now;
        self.parsed = 0;
        self.behind = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame takes [`BUDGET`] and no more; the next frame starts afresh; a slow trickle
    /// never runs over, however long it goes on; nothing is due with nothing waiting.
    #[test]
    fn a_frame_takes_its_budget() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert!(!pace.parsed(BUDGET, start, true));
        assert!(pace.parsed(1, start + Duration::from_millis(5), true));
        let next = start + FRAME;
        assert!(!pace.parsed(BUDGET + 1, next, false));
        let mut at = next + FRAME;
        for _ in 0..1000 {
            at += FRAME;
            assert!(!pace.parsed(BUDGET / 2, at, false));
        }
    }

    /// A reader that takes longer than a frame to parse each message is behind once a
    /// budget's worth has passed without catching up; one that catches up starts again.
    #[test]
    fn a_slow_reader_behind_for_a_budget_is_redrawn() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let mut at = start;
        assert!(!pace.parsed(BUDGET - 1, at, true));
        at += 4 * FRAME;
        assert!(!pace.parsed(BUDGET - 1, at, false));
        at += 4 * FRAME;
        assert!(!pace.parsed(BUDGET - 1, at, true));
        at += 4 * FRAME;
        assert!(pace.parsed(BUDGET - 1, at, true));
    }

    /// After a redraw, none is due again within a frame, however much is parsed.
    #[test]
    fn a_redraw_is_due_once_a_frame_at_most() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert!(pace.parsed(BUDGET + 1, start, true));
        pace.redraw(start);
        let soon = start + FRAME / 2;
        assert!(!pace.parsed(4 * BUDGET, soon, true));
        assert!(pace.parsed(BUDGET + 1, start + FRAME, true));
    }
}
