//! The inspector's process list with the keys: moving through it, its order, and a signal
//! to the selected process.

use super::{App, Mode};
use crossterm::event::{KeyCode, KeyEvent};

impl App {
    /// The process selected in the inspector's list, in the order drawn.
    pub(super) fn selected_process(&self) -> Option<(crate::state::Process, String)> {
        let (_, ins) = self.inspection.as_ref()?;
        let rows = crate::tui::ui::inspector::ordered(ins, self.host_view, self.processes.sort);
        let p = rows.get(self.processes.selected.min(rows.len().saturating_sub(1)))?;
        Some((
            crate::state::Process {
                pid: p.host_pid,
                start: p.start,
            },
            p.command.clone(),
        ))
    }

    pub(super) fn key_processes(&mut self, key: KeyEvent) {
        let count = self.inspection.as_ref().map_or(0, |(_, ins)| {
            crate::tui::ui::inspector::ordered(ins, self.host_view, self.processes.sort).len()
        });
        let last = count.saturating_sub(1);
        let list = &mut self.processes;
        let page = 10;
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return,
            // Tab goes round: after the last pane's process list, the first pane.
            KeyCode::Tab => {
                if self.panes().is_some() {
                    self.focus_pane(0);
                }
                return;
            }
            KeyCode::Up => list.selected = list.selected.min(last).saturating_sub(1),
            KeyCode::Down => list.selected = (list.selected + 1).min(last),
            KeyCode::PageUp => list.selected = list.selected.min(last).saturating_sub(page),
            KeyCode::PageDown => list.selected = (list.selected + page).min(last),
            KeyCode::Home | KeyCode::Char('g') => list.selected = 0,
            KeyCode::End | KeyCode::Char('G') => list.selected = last,
            KeyCode::Char('s') => list.sort = list.sort.next(),
            KeyCode::Char('k') => {
                if let Some((process, command)) = self.selected_process() {
                    self.mode = Mode::ConfirmSignal(process, command);
                    return;
                }
            }
            _ => {}
        }
        self.mode = Mode::Processes;
    }

    /// After the question: the signal chosen goes to the process if it is still the one
    /// listed (its PID not reused since).
    pub(super) fn signal_process(&mut self, process: crate::state::Process, key: KeyEvent) {
        use nix::sys::signal::Signal;
        let signal = match key.code {
            KeyCode::Char('t' | 'T' | 'y' | 'Y') => Signal::SIGTERM,
            KeyCode::Char('9') => Signal::SIGKILL,
            _ => {
                self.mode = Mode::Processes;
                return;
            }
        };
        self.message = Some(match process.alive() {
            true => match nix::sys::signal::kill(nix::unistd::Pid::from_raw(process.pid), signal) {
                Ok(()) => format!(" Sent {} to PID {}", signal.as_str(), process.pid),
                Err(e) => format!(" Cannot signal PID {}: {e}", process.pid),
            },
            false => format!(" PID {} has already ended", process.pid),
        });
        self.mode = Mode::Processes;
    }
}
