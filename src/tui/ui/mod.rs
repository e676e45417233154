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

/// A panel drawn again only when what it shows changes: its key (a hash of what it is drawn
/// from) or its place. The frame's buffer is kept from one frame to the next
/// ([`crate::tui::paint`]), so a panel whose key and place are the same is already in it,
/// and on the terminal: it is neither drawn nor compared. A keystroke's echo draws a frame;
/// the inspector's tables, formatted and laid out again for each, cost more than the echo's
/// own path, and change once a second.
#[derive(Default)]
pub struct Cached {
    drawn: Option<(u64, Rect)>,
}

impl Cached {
    /// Draws the panel at `area` with `draw` unless it is there already (the same `key`
    /// and `area` as last drawn, in a frame that is not drawn `whole`); returns where it
    /// drew, for the frame's damage.
    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        key: u64,
        whole: bool,
        draw: impl FnOnce(&mut Frame),
    ) -> Option<Rect> {
        if !whole && self.drawn == Some((key, area)) {
            return None;
        }
        if !whole {
            crate::screen::clear(frame.buffer_mut(), area);
        }
        draw(frame);
        self.drawn = Some((key, area));
        Some(area)
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Areas {
    pub sessions: Rect,
    /// The shell's place: the one pane, or the place the panes share.
    pub terminal: Rect,
    pub inspector: Option<Rect>,
    /// The inspector folded to one line (a narrow window with the inspector closed).
    pub summary: Option<Rect>,
    /// With several sessions shown, their panes, in the order of [`tile`]; else empty.
    pub panes: Vec<Rect>,
    pub status: Rect,
}

impl Areas {
    /// Splits `area`: the session list on top (one row per session), the terminal taking the
    /// rest, and the status line at the bottom. The inspector (`show_inspector`) goes beside
    /// the terminal in a window of [`SIDE_BY_SIDE`] columns or more, below it in a narrower
    /// one; closed in a narrow window, it leaves a one-line summary under the terminal.
    pub fn new(area: Rect, sessions: usize, show_inspector: bool) -> Areas {
        Areas::tiled(area, sessions, show_inspector, None)
    }

    /// The same, the terminal's place shared by `panes` sessions arranged as their layout
    /// says.
    pub fn tiled(
        area: Rect,
        sessions: usize,
        show_inspector: bool,
        panes: Option<(PaneLayout, usize)>,
    ) -> Areas {
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
        Areas {
            sessions,
            terminal,
            inspector,
            summary,
            panes: panes.map_or_else(Vec::new, |(how, n)| tile(terminal, n, how)),
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
            panes: Vec::new(),
            status,
        }
    }

    /// Pane `i`'s place: with one session shown, the terminal's.
    pub fn pane(&self, i: usize) -> Rect {
        self.panes.get(i).copied().unwrap_or(self.terminal)
    }
}

/// How sessions shown at once share the terminal's place: tmux's layouts of the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneLayout {
    /// Side by side, each as wide as the others (tmux's even-horizontal).
    EvenHorizontal,
    /// One above the other (even-vertical).
    EvenVertical,
    /// In rows and columns as near a square as the count allows (tiled).
    Tiled,
}

impl PaneLayout {
    /// The next layout, as tmux's `next-layout` goes round them.
    pub fn next(self) -> PaneLayout {
        match self {
            PaneLayout::EvenHorizontal => PaneLayout::EvenVertical,
            PaneLayout::EvenVertical => PaneLayout::Tiled,
            PaneLayout::Tiled => PaneLayout::EvenHorizontal,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PaneLayout::EvenHorizontal => "even-horizontal",
            PaneLayout::EvenVertical => "even-vertical",
            PaneLayout::Tiled => "tiled",
        }
    }
}

/// The smallest pane inside its border that a layout makes: one that would be smaller is
/// not added (a shell 15 columns wide shows nothing to compare).
pub const MIN_PANE: (u16, u16) = (4, 24);

/// `n` panes in `area`, left to right then top to bottom. Tiled takes rows and columns as
/// tmux does (rows grow first, then columns, until they hold `n`); a last row with fewer
/// panes shares its width among them rather than leaving a hole.
pub fn tile(area: Rect, n: usize, how: PaneLayout) -> Vec<Rect> {
    let n = n.max(1);
    let (rows, cols) = match how {
        PaneLayout::EvenHorizontal => (1, n),
        PaneLayout::EvenVertical => (n, 1),
        PaneLayout::Tiled => {
            let (mut rows, mut cols) = (1, 1);
            while rows * cols < n {
                rows += 1;
                if rows * cols < n {
                    cols += 1;
                }
            }
            (rows, cols)
        }
    };
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows]).split(area);
    let mut panes = Vec::with_capacity(n);
    for (r, row) in row_areas.iter().enumerate() {
        let in_row = cols.min(n - r * cols);
        if in_row == 0 {
            break;
        }
        panes.extend(
            Layout::horizontal(vec![Constraint::Fill(1); in_row])
                .split(*row)
                .iter()
                .copied(),
        );
    }
    panes
}

/// Whether `n` panes laid out `how` in `area` each keep [`MIN_PANE`].
pub fn fits(area: Rect, n: usize, how: PaneLayout) -> bool {
    tile(area, n, how).iter().all(|p| {
        let (rows, cols) = inside(*p);
        rows >= MIN_PANE.0 && cols >= MIN_PANE.1
    })
}

/// The pane of `panes` nearest `from` in the direction (`dx`, `dy`) (one of them -1 or 1,
/// the other 0): among those wholly that way, the nearest of those overlapping `from` across
/// the direction, then the one overlapping most, then the first. As tmux's `select-pane -L/-R/-U/-D`, without wrapping.
pub fn neighbour(panes: &[Rect], from: usize, (dx, dy): (i8, i8)) -> Option<usize> {
    let here = *panes.get(from)?;
    let overlap = |a0: u16, a1: u16, b0: u16, b1: u16| a1.min(b1).saturating_sub(a0.max(b0));
    panes
        .iter()
        .enumerate()
        .filter(|&(i, p)| {
            i != from
                && match (dx, dy) {
                    (-1, _) => p.right() <= here.left(),
                    (1, _) => p.left() >= here.right(),
                    (_, -1) => p.bottom() <= here.top(),
                    _ => p.top() >= here.bottom(),
                }
        })
        .max_by_key(|&(i, p)| {
            let (across, distance) = match dx {
                0 => (
                    overlap(here.left(), here.right(), p.left(), p.right()),
                    p.y.abs_diff(here.y),
                ),
                _ => (
                    overlap(here.top(), here.bottom(), p.top(), p.bottom()),
                    p.x.abs_diff(here.x),
                ),
            };
            // Ties go to the first (left, top) pane.
            (
                across > 0,
                std::cmp::Reverse(distance),
                across,
                std::cmp::Reverse(i),
            )
        })
        .map(|(i, _)| i)
}

/// Rows and columns inside a bordered pane.
pub fn inside(pane: Rect) -> (u16, u16) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layout covers the terminal's place exactly, with no pane over another; tiled
    /// five is three rows of two, two and one (the last one as wide as the row).
    #[test]
    fn layouts_cover_the_place_without_overlap() {
        let area = Rect::new(3, 5, 151, 41);
        for how in [
            PaneLayout::EvenHorizontal,
            PaneLayout::EvenVertical,
            PaneLayout::Tiled,
        ] {
            for n in 1..=9 {
                let panes = tile(area, n, how);
                assert_eq!(panes.len(), n, "{how:?} {n}");
                let cells: u32 = panes.iter().map(|p| p.area()).sum();
                assert_eq!(cells, area.area(), "{how:?} {n}: {panes:?}");
                for (i, a) in panes.iter().enumerate() {
                    assert!(area.contains(a.as_position()), "{how:?} {n}: {a:?}");
                    for b in &panes[i + 1..] {
                        assert!(!a.intersects(*b), "{how:?} {n}: {a:?} {b:?}");
                    }
                }
            }
        }
        let five = tile(area, 5, PaneLayout::Tiled);
        let rows: Vec<u16> = five.iter().map(|p| p.y).collect();
        assert_eq!(rows.iter().filter(|y| **y == rows[0]).count(), 2);
        assert_eq!(five[4].width, area.width);
    }

    /// The arrows go to the pane that way, the one overlapping most across; none past the
    /// edge.
    #[test]
    fn the_neighbour_that_way_overlaps_most() {
        let area = Rect::new(0, 0, 120, 40);
        // Tiled five: 0 1 / 2 3 / 4 (4 spans the width).
        let panes = tile(area, 5, PaneLayout::Tiled);
        assert_eq!(neighbour(&panes, 0, (1, 0)), Some(1));
        assert_eq!(neighbour(&panes, 1, (1, 0)), None);
        assert_eq!(neighbour(&panes, 1, (0, 1)), Some(3));
        assert_eq!(neighbour(&panes, 3, (0, 1)), Some(4));
        assert_eq!(neighbour(&panes, 4, (0, -1)), Some(2));
        assert_eq!(neighbour(&panes, 2, (0, -1)), Some(0));
        assert_eq!(neighbour(&panes, 0, (-1, 0)), None);
        let row = tile(area, 3, PaneLayout::EvenHorizontal);
        assert_eq!(
            neighbour(&row, 0, (1, 0)),
            Some(1),
            "the nearest, not the farthest"
        );
        assert_eq!(neighbour(&row, 1, (0, 1)), None);
    }
}
