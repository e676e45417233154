//! Frames drawn into the buffer kept from the last frame, and sent to the terminal as the
//! cells that changed in the places drawn again.
//!
//! ratatui's `Terminal::draw` starts every frame from a blank buffer and compares all of it
//! with the last one: a keystroke's echo, one cell of the shell's pane, cost laying out and
//! comparing every cell of the window (6,750 at 150x45; vt100's cell lookup alone is 16 ns a
//! cell). Here the frame's buffer is the terminal's own current buffer, never reset between
//! frames but for a whole one: a panel whose content is the same is not drawn
//! ([`crate::tui::ui::Cached`]), a pane draws the rows its screen changed, and each says
//! where it drew. Only those places are compared with what the terminal shows, a row at a
//! time with ratatui's own diff (its rules for wide characters included).
//!
//! A frame is drawn whole when the layout changes (the window, the panels' places, an
//! overlay), so a place nothing draws any more is never left showing what it used to.

use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect};

/// What a frame drew: the places drawn again (all of it when whole), and where the real
/// cursor goes (hidden when `None`).
#[derive(Debug, Default)]
pub struct Painted {
    pub damage: Vec<Rect>,
    pub cursor: Option<Position>,
}

/// What the terminal shows, to send it only what changed.
#[derive(Default)]
pub struct Painter {
    /// The cells on the terminal (`None`: unknown, or cleared by a resize).
    shown: Option<Buffer>,
    /// The last frame's layout key: a different one draws the frame whole.
    layout: Option<u64>,
    /// The cursor as last sent (`None`: not sent yet).
    cursor: Option<Option<Position>>,
}

impl Painter {
    /// The terminal was cleared (a resize): the next frame is drawn whole onto a blank one.
    pub fn cleared(&mut self) {
        self.shown = None;
        self.layout = None;
    }

    /// Draws a frame with `draw`, told whether to draw it whole (else the buffer holds the
    /// last frame), and sends the terminal what changed where it says it drew. The frame is
    /// whole when `layout` differs from the last frame's, or is `None`.
    pub fn paint<B: Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        layout: Option<u64>,
        draw: impl FnOnce(&mut Frame, bool) -> Painted,
    ) -> Result<(), B::Error> {
        let mut frame = terminal.get_frame();
        let area = frame.area();
        let whole = layout.is_none()
            || self.layout != layout
            || self.shown.as_ref().is_none_or(|shown| shown.area != area);
        if whole {
            frame.buffer_mut().reset();
        }
        let painted = draw(&mut frame, whole);
        self.layout = layout;
        let shown = match &mut self.shown {
            Some(shown) if shown.area == area => shown,
            other => other.insert(Buffer::empty(area)),
        };
        let next = terminal.current_buffer_mut();
        let updates: Vec<(u16, u16, Cell)> = if whole {
            let updates = shown
                .diff(next)
                .into_iter()
                .map(|(x, y, cell)| (x, y, cell.clone()))
                .collect();
            shown.content.clone_from_slice(&next.content);
            updates
        } else {
            let mut updates = Vec::new();
            for place in &painted.damage {
                let place = place.intersection(area);
                for y in place.top()..place.bottom() {
                    updates.extend(row_changes(shown, next, place.x, y, place.width));
                    let at = next.index_of(place.x, y);
                    let width = usize::from(place.width);
                    shown.content[at..at + width].clone_from_slice(&next.content[at..at + width]);
                }
            }
            updates
        };
        let backend = terminal.backend_mut();
        if !updates.is_empty() {
            backend.draw(updates.iter().map(|(x, y, cell)| (*x, *y, cell)))?;
        }
        match painted.cursor {
            None if self.cursor != Some(None) => backend.hide_cursor()?,
            None => {}
            Some(at) => {
                if self.cursor.flatten().is_none() {
                    backend.show_cursor()?;
                }
                // Drawing moved the terminal's cursor: it goes back even where it stays.
                if !updates.is_empty() || self.cursor != Some(Some(at)) {
                    backend.set_cursor_position(at)?;
                }
            }
        }
        self.cursor = Some(painted.cursor);
        backend.flush()
    }
}

/// The cells of the row segment at (`x`, `y`), `width` long, that differ between `shown` and
/// `next`, as ratatui's diff finds them (a wide character's shadow included).
fn row_changes(shown: &Buffer, next: &Buffer, x: u16, y: u16, width: u16) -> Vec<(u16, u16, Cell)> {
    let segment = Rect::new(x, y, width, 1);
    let cut = |buffer: &Buffer| {
        let at = buffer.index_of(x, y);
        Buffer {
            area: segment,
            content: buffer.content[at..at + usize::from(width)].to_vec(),
        }
    };
    let (before, after) = (cut(shown), cut(next));
    before
        .diff(&after)
        .into_iter()
        .map(|(x, y, cell)| (x, y, cell.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::Paragraph;

    /// Frames drawn in parts leave the terminal as ratatui's own `Terminal::draw`, drawing
    /// each whole, leaves it (the cells a wide character hides included).
    #[test]
    fn a_frame_drawn_in_parts_shows_what_a_whole_one_would() {
        let mut terminal = Terminal::new(TestBackend::new(20, 4)).unwrap();
        let mut reference = Terminal::new(TestBackend::new(20, 4)).unwrap();
        let mut painter = Painter::default();
        let line = Rect::new(2, 1, 12, 1);
        let texts = [
            "one",
            "two words",
            "中文 wide",
            "",
            "x",
            "wider 中文中文中文",
        ];
        for (i, text) in texts.iter().enumerate() {
            let cursor = Position::new(i as u16, 3);
            painter
                .paint(&mut terminal, Some(1), |frame, whole| {
                    if whole {
                        frame.render_widget(Paragraph::new("border"), Rect::new(0, 0, 20, 1));
                    }
                    crate::screen::clear(frame.buffer_mut(), line);
                    frame.render_widget(Paragraph::new(*text), line);
                    Painted {
                        damage: vec![line],
                        cursor: Some(cursor),
                    }
                })
                .unwrap();
            reference
                .draw(|frame| {
                    frame.render_widget(Paragraph::new("border"), Rect::new(0, 0, 20, 1));
                    frame.render_widget(Paragraph::new(*text), line);
                    frame.set_cursor_position(cursor);
                })
                .unwrap();
            assert_eq!(
                terminal.backend().buffer(),
                reference.backend().buffer(),
                "{text}"
            );
            terminal.backend_mut().assert_cursor_position(cursor);
        }
    }

    /// A changed layout draws whole: what an earlier frame put where nothing draws now goes.
    #[test]
    fn a_new_layout_leaves_nothing_of_the_old() {
        let mut terminal = Terminal::new(TestBackend::new(10, 2)).unwrap();
        let mut painter = Painter::default();
        let all = Rect::new(0, 0, 10, 2);
        let draw = |text: &'static str| {
            move |frame: &mut Frame, _whole: bool| {
                frame.render_widget(Paragraph::new(text), all);
                Painted {
                    damage: vec![all],
                    cursor: None,
                }
            }
        };
        painter
            .paint(&mut terminal, Some(1), draw("left over"))
            .unwrap();
        painter.paint(&mut terminal, Some(2), draw("")).unwrap();
        terminal.backend().assert_buffer(&Buffer::empty(all));
    }
}
