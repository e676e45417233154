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

/// The output a reader has parsed in the current frame, and when it last asked for a redraw.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    frame: Instant,
    parsed: usize,
    redrawn: Option<Instant>,
}

impl Pace {
    pub fn new(now: Instant) -> Pace {
        Pace {
            frame: now,
            parsed: 0,
            redrawn: None,
        }
    }

    /// `bytes` more were parsed at `now`; true when a redraw is due: the frame's budget is
    /// spent, and none was asked for within a frame (a reader that asked again as soon as its
    /// redraw came made its monitor redraw hundreds of times a second, and the flood slower).
    pub fn parsed(&mut self, bytes: usize, now: Instant) -> bool {
        if now.duration_since(self.frame) >= FRAME {
            self.frame = now;
            self.parsed = 0;
        }
        self.parsed += bytes;
        self.parsed > BUDGET
            && self
                .redrawn
                .is_none_or(|at| now.duration_since(at) >= FRAME)
    }

    /// A redraw was asked for at `now`: a frame begins.
    pub fn redraw(&mut self, now: Instant) {
        self.redrawn = Some(now);
        self.frame = now;
        self.parsed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame takes [`BUDGET`] and no more; the next frame starts afresh; a slow trickle
    /// never runs over, however long it goes on.
    #[test]
    fn a_frame_takes_its_budget() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert!(!pace.parsed(BUDGET, start));
        assert!(pace.parsed(1, start + Duration::from_millis(5)));
        let next = start + FRAME;
        assert!(!pace.parsed(BUDGET, next));
        let mut at = next + FRAME;
        for _ in 0..1000 {
            at += FRAME;
            assert!(!pace.parsed(BUDGET / 2, at));
        }
    }

    /// After a redraw, none is due again within a frame, however much is parsed.
    #[test]
    fn a_redraw_is_due_once_a_frame_at_most() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert!(pace.parsed(BUDGET + 1, start));
        pace.redraw(start);
        let soon = start + FRAME / 2;
        assert!(!pace.parsed(4 * BUDGET, soon));
        assert!(pace.parsed(BUDGET + 1, start + FRAME));
    }
}
