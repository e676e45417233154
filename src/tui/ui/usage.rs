//! The selected session's resource use: CPU, memory against its limit, processes, and a
//! sparkline of CPU over the last minute.

use super::sessions::format_memory;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, Paragraph, Sparkline};

/// What the panel shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageView {
    pub cpu_percent: Option<f64>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub pids: Option<u64>,
    /// CPU percentages, oldest first, one a second.
    pub history: Vec<u64>,
}

impl std::hash::Hash for UsageView {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (
            self.cpu_percent.map(f64::to_bits),
            self.memory,
            self.memory_limit,
            self.pids,
            &self.history,
        )
            .hash(state)
    }
}

pub fn render(frame: &mut Frame, area: Rect, view: &UsageView) {
    let block = Block::bordered().title(" Usage (cgroup) ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text, spark] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let cpu = view
        .cpu_percent
        .map(|c| format!("{c:.0}%"))
        .unwrap_or_else(|| "-".into());
    let pids = view
        .pids
        .map(|p| p.to_string())
        .unwrap_or_else(|| "-".into());
    let line = format!(
        "CPU {cpu} · MEM {} · PIDS {pids}",
        format_memory(view.memory, view.memory_limit)
    );
    frame.render_widget(Paragraph::new(line), text);
    // Newest on the right, as much history as fits.
    let skip = view.history.len().saturating_sub(usize::from(spark.width));
    let data: Vec<u64> = view.history[skip..].to_vec();
    let sparkline = Sparkline::default()
        .data(&data)
        .max(100)
        .style(Style::new().fg(Color::Green));
    frame.render_widget(sparkline, spark);
}
