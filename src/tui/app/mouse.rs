//! What the mouse does: clicks select sessions and focus panes or the process list; over
//! the terminal, reports for a program that asked for them, the wheel, and drags that copy.

use super::{App, Mode};
use crate::tui::copy::Copy;
use crate::tui::encode;
use crate::tui::ui::{self, Areas};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

impl App {
    /// A click in the list selects; in the terminal pane, what the program there asked for:
    /// its mouse reports (in its own coordinates) when it turned reporting on, arrow keys for
    /// the wheel on the alternate screen (less, vim, as tmux does), else the wheel scrolls
    /// back through history.
    pub fn handle_mouse(&mut self, mouse: MouseEvent, areas: &Areas) {
        self.rebase_copy();
        let at = ratatui::layout::Position::new(mouse.column, mouse.row);
        // A click in another pane moves the focus there first.
        if let MouseEventKind::Down(MouseButton::Left) = mouse.kind
            && let Some(i) = areas.panes.iter().position(|p| p.contains(at))
            && i != self.focused_index()
        {
            self.focus_pane(i);
            return;
        }
        let inner = ratatui::widgets::Block::bordered().inner(self.focused_pane(areas));
        if self.mode == Mode::Normal
            && inner.contains(at)
            && let Some(s) = self.selected_mut().filter(|s| s.attached())
        {
            let (mode, encoding, alternate, app_cursor) = {
                let screen = s.screen();
                let vt = screen.vt();
                (
                    vt.mouse_protocol_mode(),
                    vt.mouse_protocol_encoding(),
                    vt.alternate_screen(),
                    vt.application_cursor(),
                )
            };
            if mode != vt100::MouseProtocolMode::None {
                let (col, row) = (mouse.column - inner.x, mouse.row - inner.y);
                if let Some(bytes) = encode::encode_mouse(&mouse, col, row, mode, encoding) {
                    s.write(&bytes);
                }
                return;
            }
            let arrow = match mouse.kind {
                MouseEventKind::ScrollUp => Some(KeyCode::Up),
                MouseEventKind::ScrollDown => Some(KeyCode::Down),
                _ => None,
            };
            if alternate && let Some(code) = arrow {
                let key = KeyEvent::new(code, KeyModifiers::NONE);
                if let Some(bytes) = encode::encode(&key, app_cursor) {
                    s.write(&bytes.repeat(3));
                }
                return;
            }
        }
        // A drag over the text selects it and copies it on release, as in tmux.
        if matches!(self.mode, Mode::Normal | Mode::Copy(_)) && inner.width > 0 && inner.height > 0
        {
            let col = mouse.column.clamp(inner.x, inner.right() - 1) - inner.x;
            let row = mouse.row.clamp(inner.y, inner.bottom() - 1) - inner.y;
            let pos = self.text_pos(col, row);
            match (&mut self.mode, mouse.kind, pos) {
                (_, MouseEventKind::Down(MouseButton::Left), Some(pos)) if inner.contains(at) => {
                    self.mode = Mode::Copy(Box::new(Copy {
                        cursor: pos,
                        anchor: Some(pos),
                        base: self.first_line(),
                        ..Copy::default()
                    }));
                    return;
                }
                (Mode::Copy(copy), MouseEventKind::Drag(MouseButton::Left), Some(pos)) => {
                    copy.cursor = pos;
                    return;
                }
                (Mode::Copy(copy), MouseEventKind::Up(MouseButton::Left), _)
                    if copy.anchor.is_some() =>
                {
                    let selection = copy.selection().filter(|(from, to)| from != to);
                    match selection {
                        Some((from, to)) => {
                            let lines = self
                                .selected()
                                .map(|s| s.screen().text_lines())
                                .unwrap_or_default();
                            self.copied(crate::tui::copy::text_between(&lines, from, to));
                        }
                        None => {
                            self.set_scroll(0);
                            self.mode = Mode::Normal;
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let (Some(area), Some((_, ins))) = (areas.inspector, &self.inspection)
                    && area.contains(at)
                {
                    // The list takes the keys; a click on one of its rows selects that row.
                    let [_, panels] = super::view::inspector_parts(area);
                    let mounts = self
                        .selected()
                        .map(|s| super::view::mounts_of(&s.spec))
                        .unwrap_or_default();
                    if let Some(row) = ui::inspector::process_at(
                        panels,
                        ins,
                        &mounts,
                        self.host_view,
                        &self.processes,
                        mouse.row,
                    ) {
                        self.processes.selected = row;
                    }
                    self.mode = Mode::Processes;
                    return;
                }
                if let Some(i) = ui::sessions::row_at(
                    areas.sessions,
                    self.sessions.len(),
                    self.selected,
                    mouse.row,
                ) && mouse.column >= areas.sessions.x
                    && mouse.column < areas.sessions.right()
                {
                    self.select(i);
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
                if matches!(self.mode, Mode::Normal | Mode::Copy(_)) =>
            {
                let up = mouse.kind == MouseEventKind::ScrollUp;
                let offset = self.scroll_by(if up { 3 } else { -3 });
                let mut copy = match std::mem::replace(&mut self.mode, Mode::Normal) {
                    Mode::Copy(copy) => copy,
                    _ => {
                        let lines = self
                            .selected()
                            .map(|s| s.screen().text_lines())
                            .unwrap_or_default();
                        Box::new(Copy::at_bottom(&lines))
                    }
                };
                if offset == 0 && !up && copy.anchor.is_none() {
                    return;
                }
                // The cursor stays in the view the wheel moved.
                if let (Some(top), Some(bottom)) = (
                    self.text_pos(0, 0),
                    self.text_pos(0, self.pty_size.0.saturating_sub(1)),
                ) {
                    copy.cursor.0 = copy.cursor.0.clamp(top.0, bottom.0);
                }
                self.mode = Mode::Copy(copy);
            }
            _ => {}
        }
    }
}
