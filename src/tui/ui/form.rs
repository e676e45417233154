//! The new-session form: name, hostname, command, root filesystem, image, network and
//! published ports, each with a default so Enter alone starts a shell; the image field picks
//! from the local images.

use super::centered;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// The form's labels, in field order.
pub const LABELS: [&str; FIELDS] = [
    "Name", "Hostname", "Command", "Rootfs", "Image", "Network", "Ports",
];

/// How many fields the form has.
pub const FIELDS: usize = 7;

/// The image field's index in [`LABELS`].
pub const IMAGE: usize = 4;

/// What the form holds: typed values, the defaults shown when a value is empty, the focus,
/// and the last error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormView {
    pub values: [String; FIELDS],
    pub defaults: [String; FIELDS],
    pub focus: usize,
    pub error: Option<String>,
    /// The images in the store, for the image field's ←/→.
    pub images: Vec<String>,
}

impl FormView {
    /// ←/→ on the image field: the next (or previous) local image, then none again.
    pub fn pick_image(&mut self, forward: bool) {
        if self.images.is_empty() {
            return;
        }
        let n = self.images.len() as isize + 1;
        let at = self
            .images
            .iter()
            .position(|i| *i == self.values[IMAGE])
            .map_or(n - 1, |p| p as isize);
        let next = (at + if forward { 1 } else { -1 }).rem_euclid(n) as usize;
        self.values[IMAGE] = self.images.get(next).cloned().unwrap_or_default();
    }
}

pub fn render(frame: &mut Frame, area: Rect, form: &FormView) {
    let popup = centered(area, 64, FIELDS as u16 + 4);
    frame.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, label) in LABELS.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            Style::new().add_modifier(Modifier::BOLD).fg(Color::Cyan)
        } else {
            Style::new()
        };
        let value = if form.values[i].is_empty() {
            Span::styled(form.defaults[i].clone(), Style::new().fg(Color::DarkGray))
        } else {
            Span::raw(form.values[i].clone())
        };
        if focused {
            let x = popup.x + 1 + 11 + form.values[i].chars().count() as u16;
            cursor = Some(Position::new(
                x.min(popup.right().saturating_sub(2)),
                popup.y + 1 + i as u16,
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<10} "), label_style),
            value,
        ]));
    }
    let local = if form.images.is_empty() {
        "no local images (an image given here is pulled)".to_string()
    } else {
        format!("←/→ picks: {}", form.images.join(", "))
    };
    lines.push(Line::styled(local, Style::new().fg(Color::DarkGray)));
    match &form.error {
        Some(e) => lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red))),
        None => lines.push(Line::styled(
            "Tab: next field · Enter: start · Esc: cancel",
            Style::new().fg(Color::DarkGray),
        )),
    }
    let block = Block::bordered().title(" New session ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}
