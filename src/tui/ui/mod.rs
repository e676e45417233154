//! Drawing: one module per panel, each fed plain data, so each can be snapshot-tested with
//! fixture data and no container behind it.

pub mod buffers;
pub mod commit;
pub mod form;
pub mod help;
pub mod images;
pub mod inspector;
pub mod sessions;
pub mod status;
pub mod terminal;
pub mod usage;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// A panel drawn once and copied into the frames after while what it shows is the same (its
/// key: a hash of what it is drawn from, and its place). A keystroke's echo draws a frame;
/// the inspector's tables, formatted and laid out again for each, cost more than the echo's
/// own path, and change once a second.
#[derive(Default)]
pub struct Cached {
    key: Option<u64>,
    cells: Option<ratatui::buffer::Buffer>,
}

impl Cached {
    /// Copies the panel at `area` from the last frame it was drawn in when `key` is the same,
    /// else draws it with `draw` and keeps what it drew.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect, key: u64, draw: impl FnOnce(&mut Frame)) {
        let buf = frame.buffer_mut();
        if let Some(cells) = self
            .cells
            .as_ref()
            .filter(|c| self.key == Some(key) && c.area == area)
        {
            for y in area.top()..area.bottom() {
                for x in area.left()..area.right() {
                    if let (Some(to), Some(from)) = (buf.cell_mut((x, y)), cells.cell((x, y))) {
                        *to = from.clone();
                    }
                }
            }
            return;
        }
        draw(frame);
        let buf = frame.buffer_mut();
        let mut cells = ratatui::buffer::Buffer::empty(area);
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                if let (Some(to), Some(from)) = (cells.cell_mut((x, y)), buf.cell((x, y))) {
                    *to = from.clone();
                }
            }
        }
        self.cells = Some(cells);
        self.key = Some(key);
    }
}

/// A key for [`Cached`]: the hash of `what`.
pub fn key_of(what: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    what.hash(&mut hasher);
    hasher.finish()
}

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Width of the inspector column when shown beside the terminal.
const INSPECTOR_WIDTH: u16 = 56;
/// The narrowest window that has the inspector beside the terminal: the terminal pane keeps
/// 80 columns and more (a tmux user's shell is never squeezed to half a screen). Narrower,
/// the inspector goes below the terminal, or down to one line.
pub const SIDE_BY_SIDE: u16 = 80 + 2 + INSPECTOR_WIDTH;

/// Where each panel goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub sessions: Rect,
    pub terminal: Rect,
    pub inspector: Option<Rect>,
    /// The inspector folded to one line (a narrow window with the inspector closed).
    pub summary: Option<Rect>,
    /// With a split, the second terminal pane (right of, or below, `terminal`).
    pub second: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    /// Splits `area`: the session list on top (one row per session), the terminal taking the
    /// rest, and the status line at the bottom. The inspector (`show_inspector`) goes beside
    /// the terminal in a window of [`SIDE_BY_SIDE`] columns or more, below it in a narrower
    /// one; closed in a narrow window, it leaves a one-line summary under the terminal.
    pub fn new(area: Rect, sessions: usize, show_inspector: bool) -> Areas {
        Areas::split(area, sessions, show_inspector, None)
    }

    /// The same, the terminal's place split in two: side by side, or `stacked`.
    pub fn split(area: Rect, sessions: usize, show_inspector: bool, split: Option<Split>) -> Areas {
        // One row a session, up to six, fewer in a short window (at 24 rows, three): the
        // title says what is hidden.
        let rows = (area.height / 8).clamp(2, 6);
        let list_height = (sessions as u16).clamp(1, rows) + 3;
        let [sessions, main, status] = Layout::vertical([
            Constraint::Length(list_height),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        let wide = area.width >= SIDE_BY_SIDE;
        let (terminal, inspector, summary) = match (show_inspector, wide) {
            (true, true) => {
                let [t, i] =
                    Layout::horizontal([Constraint::Min(20), Constraint::Length(INSPECTOR_WIDTH)])
                        .areas(main);
                (t, Some(i), None)
            }
            (true, false) => {
                let [t, i] =
                    Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                        .areas(main);
                (t, Some(i), None)
            }
            (false, true) => (main, None, None),
            (false, false) => {
                let [t, s] =
                    Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(main);
                (t, None, Some(s))
            }
        };
        let (terminal, second) = match split {
            None => (terminal, None),
            Some(Split::SideBySide) => {
                let [a, b] = Layout::horizontal([Constraint::Fill(1); 2]).areas(terminal);
                (a, Some(b))
            }
            Some(Split::Stacked) => {
                let [a, b] = Layout::vertical([Constraint::Fill(1); 2]).areas(terminal);
                (a, Some(b))
            }
        };
        Areas {
            sessions,
            terminal,
            inspector,
            summary,
            second,
            status,
        }
    }

    /// The size (rows, cols) of the embedded terminal: its pane without the border.
    pub fn pty_size(&self) -> (u16, u16) {
        inside(self.terminal)
    }

    /// Zoomed (`prefix z`): the terminal takes the window but the status line, as tmux's zoom
    /// gives one pane the whole window.
    pub fn zoomed(area: Rect) -> Areas {
        let [terminal, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        Areas {
            sessions: Rect::new(area.x, area.y, area.width, 0),
            terminal,
            inspector: None,
            summary: None,
            second: None,
            status,
        }
    }

    /// The same for the second pane of a split.
    pub fn second_pty_size(&self) -> Option<(u16, u16)> {
        self.second.map(inside)
    }
}

/// How the terminal's place is split between two sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    SideBySide,
    Stacked,
}

/// Rows and columns inside a bordered pane.
fn inside(pane: Rect) -> (u16, u16) {
    (
        pane.height.saturating_sub(2).max(1),
        pane.width.saturating_sub(2).max(1),
    )
}

/// Whether `area` is too small to draw the dashboard in.
pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Draws the message shown instead of the dashboard in a terminal too small for it.
pub fn draw_too_small(frame: &mut Frame, prefix: &str) {
    let area = frame.area();
    let text = format!(
        "Terminal too small ({}x{}): the dashboard needs {MIN_WIDTH}x{MIN_HEIGHT}. {prefix} q quits.",
        area.width, area.height
    );
    frame.render_widget(
        ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
        area,
    );
}

/// A rectangle of `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
