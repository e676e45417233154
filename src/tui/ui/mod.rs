//! Drawing: one module per panel, each fed plain data, so each can be snapshot-tested with
//! fixture data and no container behind it.

pub mod form;
pub mod help;
pub mod inspector;
pub mod sessions;
pub mod status;
pub mod terminal;
pub mod usage;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Width of the inspector column when shown.
const INSPECTOR_WIDTH: u16 = 56;

/// Where each panel goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub sessions: Rect,
    pub terminal: Rect,
    pub inspector: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    /// Splits `area`: the session list on top (one row per session), the terminal taking the
    /// rest beside the inspector, and the status line at the bottom.
    pub fn new(area: Rect, sessions: usize, show_inspector: bool) -> Areas {
        let list_height = (sessions.clamp(1, 6) as u16) + 3;
        let [sessions, main, status] = Layout::vertical([
            Constraint::Length(list_height),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(area);
        let inspector_width = INSPECTOR_WIDTH.min(area.width / 2);
        let (terminal, inspector) = if show_inspector {
            let [t, i] =
                Layout::horizontal([Constraint::Min(20), Constraint::Length(inspector_width)])
                    .areas(main);
            (t, Some(i))
        } else {
            (main, None)
        };
        Areas {
            sessions,
            terminal,
            inspector,
            status,
        }
    }

    /// The size (rows, cols) of the embedded terminal: its pane without the border.
    pub fn pty_size(&self) -> (u16, u16) {
        (
            self.terminal.height.saturating_sub(2).max(1),
            self.terminal.width.saturating_sub(2).max(1),
        )
    }
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
