//! The commit form (prefix `C`): the image name to give the selected session's container
//! once committed, and a message for its history. An error is drawn under the field it is
//! about, with the cursor there.

use super::form::Input;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The fields: label, and what an empty one means.
pub const FIELDS: [(&str, &str); 2] = [
    ("Image", "(untagged: the image id only) e.g. myapp:1"),
    ("Message", "(none) e.g. added the config"),
];
pub const IMAGE: usize = 0;
pub const MESSAGE: usize = 1;

const LABEL: u16 = 9;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitForm {
    /// The session committed (its name, for the title).
    pub name: String,
    pub values: [Input; FIELDS.len()],
    pub focus: usize,
    /// The field an error is about, and the error.
    pub error: Option<(usize, String)>,
}

impl CommitForm {
    pub fn new(name: &str) -> CommitForm {
        CommitForm {
            name: name.to_string(),
            ..CommitForm::default()
        }
    }

    pub fn focused(&mut self) -> &mut Input {
        &mut self.values[self.focus]
    }

    pub fn text(&self, field: usize) -> Option<String> {
        Some(self.values[field].text().trim().to_string()).filter(|t| !t.is_empty())
    }
}

pub fn render(frame: &mut Frame, area: Rect, form: &CommitForm) {
    super::form::render_fields(
        frame,
        area,
        &super::form::Fields {
            title: format!(" Commit {} to an image ", form.name),
            fields: FIELDS
                .iter()
                .zip(&form.values)
                .map(|((label, empty), input)| (*label, input, *empty))
                .collect(),
            label: LABEL,
            focus: form.focus,
            error: form.error.as_ref().map(|(at, e)| (Some(*at), e.as_str())),
            notes: vec!["Tab: field · Enter: commit · Esc: cancel".to_string()],
            width: 72,
        },
    );
}
