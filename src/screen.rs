//! A session's screen: the VT emulator (vt100) for what is shown, and the lines that left it.
//!
//! vt100 keeps its own scrollback as full-width rows of 32-byte cells: a line of history costs
//! `32 × columns` bytes whatever it holds (2.9 KiB for a 90-column pane, so 28 MiB for 10,000
//! lines). The emulator here keeps none. Each row pushed off the top of the main screen
//! reaches `History` through vt100's `on_scroll`, as its text with the SGR runs that colour
//! it, trailing blanks trimmed (as tmux keeps lines that left the screen): a 90-column line
//! then costs about 130 bytes, a short one about 40.
//!
//! Shrinking the window pushes rows off the top the same way (vt100 keeps the cursor's row
//! and moves those above it into history), so nothing the program drew is lost to a resize.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::collections::VecDeque;
use std::num::NonZeroU16;
use vt100::capture::{BasicFormattedCaptureState, RowContents};

/// Lines of history a session keeps unless told (`--history`), as tmux's history-limit.
pub const SCROLLBACK: usize = 10_000;

/// The emulator and its history.
pub struct Screen {
    parser: vt100::Parser<History>,
    /// The live screen as last drawn by [`Screen::render_changes`], to tell the rows that
    /// changed since (vt100 compares its own rows far faster than it lends cells out one
    /// at a time).
    drawn: Option<vt100::Screen>,
    /// Output or a resize came since the last [`Screen::render_changes`].
    changed: bool,
}

/// Lines that left the screen, oldest first, and how far back the view looks.
struct History {
    lines: VecDeque<Box<str>>,
    limit: usize,
    /// Lines of history above the screen's top shown: 0 shows the live screen.
    offset: usize,
    /// The oldest line's number ([`Screen::first_line`]).
    first: i64,
    /// The program rang the bell since [`Screen::take_bell`] last looked.
    bell: bool,
    /// Lines that leave the screen are not kept ([`Screen::pause_history`]).
    paused: bool,
}

impl vt100::Callbacks for History {
    fn on_scroll(&mut self, row: RowContents<'_>, alternate_screen: bool) {
        // A full-screen program's rows are its own business, as in tmux: not history.
        if alternate_screen || self.limit == 0 {
            return;
        }
        // Not kept, but counted, as a line past the limit: a line's number stays its own.
        if self.paused {
            self.first += 1;
            return;
        }
        let mut text = String::new();
        // A fresh state per row: each line reads alone, from default attributes.
        let _ = row.write_formatted_basic(&mut text, &mut BasicFormattedCaptureState::new());
        self.lines.push_back(text.into_boxed_str());
        if self.lines.len() > self.limit {
            self.lines.pop_front();
            self.first += 1;
        }
        // Someone looking back keeps looking at the same lines while output goes on.
        if self.offset > 0 {
            self.offset = (self.offset + 1).min(self.lines.len());
        }
    }

    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }
}

/// A line of history (text with SGR runs, as vt100's basic capture writes it) cut to `cols`
/// cells: the escapes kept, the characters past the width dropped.
fn cut_formatted(line: &str, cols: usize) -> String {
    let mut out = String::with_capacity(line.len());
    let mut used = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // An SGR sequence: copied whole, to its final `m`.
            out.push(c);
            for e in chars.by_ref() {
                out.push(e);
                if e.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        let width = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + width > cols {
            break;
        }
        used += width;
        out.push(c);
    }
    out
}

/// Resets the cells of `area` (within the buffer), as a fresh frame's are: what is drawn
/// there next draws over a blank place, as it would in a frame drawn whole.
pub fn clear(buf: &mut Buffer, area: Rect) {
    let area = area.intersection(buf.area);
    let width = usize::from(area.width);
    for y in area.top()..area.bottom() {
        let at = buf.index_of(area.x, y);
        buf.content[at..at + width]
            .iter_mut()
            .for_each(ratatui::buffer::Cell::reset);
    }
}

/// A screen dimension as vt100 takes it: at least 1 (a pane squeezed to nothing is one cell).
pub fn dimension(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// A session's history as its pages arrive from the monitor, newest first
/// ([`crate::monitor::protocol::Request::History`]): each page's lines go above those of the
/// pages after it. A page starts at an entry of the log, not at a line: its first line is kept
/// back until the page before it arrives, whose end it finishes.
#[derive(Default)]
pub struct Pages {
    page: Vec<u8>,
    /// The first line of the oldest page put above so far.
    carry: Vec<u8>,
    /// Pages put above so far.
    pages: usize,
}

impl Pages {
    /// Part of the page arriving.
    pub fn part(&mut self, bytes: &[u8]) {
        self.page.extend_from_slice(bytes);
    }

    /// The page has arrived: its lines go above `screen`'s history. `start`: it began at the
    /// log's start (so its first line is whole, and there is no more).
    pub fn end(&mut self, screen: &mut Screen, start: bool) {
        let mut text = std::mem::take(&mut self.page);
        text.append(&mut self.carry);
        if !start {
            let cut = text
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |i| i + 1);
            self.carry = text.drain(..cut).collect();
        }
        // The first page runs up to what the screen shows; the others end where the next
        // began.
        screen.prepend_history(&text, self.pages == 0);
        self.pages += 1;
    }
}

impl Screen {
    /// A blank `rows`×`cols` screen keeping up to `history` lines that leave it.
    pub fn new(rows: u16, cols: u16, history: usize) -> Screen {
        let callbacks = History {
            lines: VecDeque::new(),
            limit: history,
            offset: 0,
            first: 0,
            bell: false,
            paused: false,
        };
        Screen {
            parser: vt100::Parser::new_with_callbacks(
                dimension(rows),
                dimension(cols),
                0,
                callbacks,
            ),
            drawn: None,
            changed: true,
        }
    }

    /// Starts over blank, at the same size and history limit, its history gone: what comes
    /// next (a monitor's redraw) draws it whole.
    pub fn restart(&mut self) {
        let (rows, cols) = self.vt().size();
        let limit = self.parser.callbacks().limit;
        *self = Screen::new(rows.get(), cols.get(), limit);
    }

    /// Keeps no more lines that leave the screen, until [`Screen::resume_history`]: they are
    /// formatted for nothing while a flood is redrawn, and come back from the log once it is
    /// over.
    pub fn pause_history(&mut self) {
        self.parser.callbacks_mut().paused = true;
    }

    /// Keeps the lines that leave the screen again, the history emptied: it comes back whole
    /// from the log, as pages put above the screen ([`Pages`]).
    pub fn resume_history(&mut self) {
        let history = self.parser.callbacks_mut();
        history.paused = false;
        history.first += history.lines.len() as i64;
        history.lines.clear();
        history.offset = 0;
        self.changed = true;
    }

    pub fn process(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
        self.changed = true;
    }

    /// Resizes; rows a shrink pushes off the top go to history, and a grow takes them back
    /// ([`Screen::refill_top`]).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.changed = true;
        let before = self.vt().cursor_position().0;
        self.parser.set_size(dimension(rows), dimension(cols));
        // Grown, vt100 keeps the cursor as far from the bottom as it was: the rows it adds
        // go on top, blank (it keeps no history of its own to fill them from).
        let added = self.vt().cursor_position().0.saturating_sub(before);
        if added > 0 {
            self.refill_top(added);
        }
    }

    /// Fills the `added` blank rows a grow put on the screen's top with the newest lines of
    /// history, as tmux does: the lines a shrink pushed off come back, rather than blank rows
    /// above the prompt. Where history has fewer, the screen moves up to meet them (the blank
    /// rows go to the bottom, as a fresh terminal's). Done as the terminal would be told
    /// (delete lines, draw each line in place, put the cursor and the attributes back), each
    /// line cut to the width so that none wraps.
    fn refill_top(&mut self, added: u16) {
        let cols = usize::from(self.vt().size().1.get());
        let history = self.parser.callbacks_mut();
        let n = usize::from(added).min(history.lines.len());
        let pulled: Vec<Box<str>> = history.lines.drain(history.lines.len() - n..).collect();
        history.offset = history.offset.min(history.lines.len());
        let up = usize::from(added) - n;
        let (row, col) = self.vt().cursor_position();
        let attributes = self.vt().attributes_formatted();
        let mut out = String::from("\x1b[H");
        if up > 0 {
            out.push_str(&format!("\x1b[{up}M"));
        }
        for (i, line) in pulled.iter().enumerate() {
            out.push_str(&format!("\x1b[{};1H\x1b[m", i + 1));
            out.push_str(&cut_formatted(line, cols));
        }
        out.push_str(&format!(
            "\x1b[m{attributes}\x1b[{};{}H",
            usize::from(row) - up + 1,
            col + 1
        ));
        self.parser.process(out.as_bytes());
    }

    /// Puts the lines of `earlier` (output from before this screen began, as the log keeps
    /// it) above the history, the newest kept when they are more than it holds. With
    /// `on_screen`, `earlier` runs up to what the screen shows now, so only the lines it
    /// pushed off a screen of this size are history; without, every line it drew is (an
    /// older page, whose end the newer pages follow). The view stays on the lines it shows.
    pub fn prepend_history(&mut self, earlier: &[u8], on_screen: bool) {
        let (rows, cols) = self.vt().size();
        let limit = self.parser.callbacks().limit;
        let mut before = Screen::new(rows.get(), cols.get(), limit);
        before.process(earlier);
        if !on_screen {
            // The rows down to the cursor's pushed off too (its own only if written on).
            let (row, col) = before.vt().cursor_position();
            let drawn = usize::from(row) + usize::from(col > 0);
            let push = format!("\x1b[{};1H{}", rows.get(), "\n".repeat(drawn));
            before.process(push.as_bytes());
        }
        let history = self.parser.callbacks_mut();
        let mut lines = std::mem::take(&mut before.parser.callbacks_mut().lines);
        let added = lines.len();
        lines.extend(history.lines.drain(..));
        let excess = lines.len().saturating_sub(limit);
        lines.drain(..excess);
        history.lines = lines;
        history.first -= added as i64 - excess as i64;
        self.changed = true;
    }

    /// The number of the oldest line of history: it grows as lines fall off the limit's end
    /// and shrinks as older ones are put above ([`Screen::prepend_history`]), so a place
    /// held as a line number (copy mode's) can follow its line.
    pub fn first_line(&self) -> i64 {
        self.parser.callbacks().first
    }

    /// What the emulator shows now.
    pub fn vt(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// The history holds all the lines it may.
    pub fn history_full(&self) -> bool {
        let history = self.parser.callbacks();
        history.lines.len() >= history.limit
    }

    /// Lines of history kept.
    pub fn history_len(&self) -> usize {
        self.parser.callbacks().lines.len()
    }

    /// How many lines back the view looks (0: the live screen).
    pub fn scrolled(&self) -> usize {
        self.parser.callbacks().offset
    }

    /// Looks `lines` back (at most the whole history); returns where the view settled.
    pub fn scroll_to(&mut self, lines: usize) -> usize {
        let history = self.parser.callbacks_mut();
        history.offset = lines.min(history.lines.len());
        history.offset
    }

    /// Moves the view `delta` lines (positive: back in time); returns where it settled.
    pub fn scroll_by(&mut self, delta: isize) -> usize {
        self.scroll_to(self.scrolled().saturating_add_signed(delta))
    }

    /// Whether the bell rang since the last call.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.parser.callbacks_mut().bell)
    }

    /// The plain text of every line, history then screen, top to bottom (copy mode's search).
    pub fn text_lines(&self) -> Vec<String> {
        let history = self
            .parser
            .callbacks()
            .lines
            .iter()
            .map(|l| vt100::capture::basic_formatted_to_plain(l).collect::<String>());
        let (rows, cols) = self.vt().size();
        let live = self
            .vt()
            .rows(0, cols.get())
            .take(usize::from(rows.get()))
            .map(|r| r.trim_end().to_string());
        history.chain(live).collect()
    }

    /// Draws the view (history lines above the live screen when scrolled back) into `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let lines = &self.parser.callbacks().lines;
        let offset = self.scrolled().min(lines.len());
        let first = lines.len() - offset;
        for y in 0..area.height {
            let index = first + usize::from(y);
            let (x, row) = (area.x, area.y + y);
            if let Some(line) = lines.get(index) {
                buf.set_line(x, row, &styled(line), area.width);
            } else if let Ok(live) = u16::try_from(index - lines.len()) {
                self.render_row(live, Rect::new(x, row, area.width, 1), buf);
            }
        }
    }

    /// Draws into `area`, which holds this screen as drawn by the last call, the rows of the
    /// live screen that changed since; all of them (and history when scrolled back) when
    /// told `whole`, when it has been looking back, or on the first call. Returns the rows
    /// drawn, as places in `buf`.
    pub fn render_changes(&mut self, area: Rect, buf: &mut Buffer, whole: bool) -> Vec<Rect> {
        let live = self.scrolled() == 0;
        let row_at = |y: u16| Rect::new(area.x, area.y + y, area.width, 1);
        let changed: Vec<u16> = match (&self.drawn, whole || !live) {
            (Some(drawn), false) if drawn.size() == self.vt().size() => {
                if !self.changed {
                    return Vec::new();
                }
                let cols = self.vt().size().1.get();
                self.vt()
                    .rows_diff(drawn, 0, cols)
                    .enumerate()
                    .filter(|(_, diff)| !diff.is_empty())
                    .filter_map(|(row, _)| u16::try_from(row).ok())
                    .filter(|row| *row < area.height)
                    .collect()
            }
            _ => {
                clear(buf, area);
                self.render(area, buf);
                self.drawn = live.then(|| self.vt().clone());
                self.changed = false;
                return vec![area];
            }
        };
        for &row in &changed {
            clear(buf, row_at(row));
            self.render_row(row, row_at(row), buf);
        }
        self.drawn = Some(self.vt().clone());
        self.changed = false;
        changed.into_iter().map(row_at).collect()
    }

    fn render_row(&self, row: u16, area: Rect, buf: &mut Buffer) {
        let screen = self.vt();
        for col in 0..area.width {
            let Some(cell) = screen.cell(row, col) else {
                return;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let Some(target) = buf.cell_mut((area.x + col, area.y)) else {
                return;
            };
            if cell.has_contents() {
                target.set_symbol(cell.contents());
            } else {
                target.set_symbol(" ");
            }
            // The cell was reset for this frame: its style is the vt100 cell's, set whole.
            let style = cell_style(cell);
            target.fg = style.fg.unwrap_or(Color::Reset);
            target.bg = style.bg.unwrap_or(Color::Reset);
            target.modifier = style.add_modifier;
        }
    }
}

fn color(c: vt100::Color) -> Color {
    match c {
        vt100::Color::Default => Color::Reset,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

fn cell_style(cell: &vt100::Cell) -> Style {
    let mut style = Style::new()
        .fg(color(cell.fgcolor()))
        .bg(color(cell.bgcolor()));
    for (on, modifier) in [
        (cell.bold(), Modifier::BOLD),
        (cell.dim(), Modifier::DIM),
        (cell.italic(), Modifier::ITALIC),
        (cell.underline(), Modifier::UNDERLINED),
        (cell.inverse(), Modifier::REVERSED),
    ] {
        if on {
            style = style.add_modifier(modifier);
        }
    }
    style
}

/// A history line (text with SGR sequences, as vt100 writes them) as styled spans.
fn styled(line: &str) -> Line<'_> {
    let mut spans = Vec::new();
    let mut style = Style::new();
    let mut rest = line;
    while let Some(at) = rest.find('\x1b') {
        if at > 0 {
            spans.push(Span::styled(&rest[..at], style));
        }
        let sequence = &rest[at + 1..];
        let Some(end) = sequence.find('m') else {
            rest = "";
            break;
        };
        style = sgr(style, sequence[..end].trim_start_matches('['));
        rest = &sequence[end + 1..];
    }
    if !rest.is_empty() {
        spans.push(Span::styled(rest, style));
    }
    Line::from(spans)
}

/// The colour of an extended SGR colour (`5;N` or `2;R;G;B`, after 38 or 48).
fn extended(numbers: &mut impl Iterator<Item = u16>) -> Option<Color> {
    match numbers.next()? {
        5 => Some(Color::Indexed(numbers.next()? as u8)),
        2 => Some(Color::Rgb(
            numbers.next()? as u8,
            numbers.next()? as u8,
            numbers.next()? as u8,
        )),
        _ => None,
    }
}

/// `style` after the SGR parameters `params` ("1;38;5;208").
fn sgr(mut style: Style, params: &str) -> Style {
    let mut numbers = params.split(';').map(|p| p.parse::<u16>().unwrap_or(0));
    while let Some(n) = numbers.next() {
        style = match n {
            0 => Style::new(),
            1 => style
                .remove_modifier(Modifier::DIM)
                .add_modifier(Modifier::BOLD),
            2 => style
                .remove_modifier(Modifier::BOLD)
                .add_modifier(Modifier::DIM),
            22 => style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            3 => style.add_modifier(Modifier::ITALIC),
            23 => style.remove_modifier(Modifier::ITALIC),
            4 => style.add_modifier(Modifier::UNDERLINED),
            24 => style.remove_modifier(Modifier::UNDERLINED),
            7 => style.add_modifier(Modifier::REVERSED),
            27 => style.remove_modifier(Modifier::REVERSED),
            30..=37 => style.fg(Color::Indexed((n - 30) as u8)),
            90..=97 => style.fg(Color::Indexed((n - 82) as u8)),
            39 => style.fg(Color::Reset),
            40..=47 => style.bg(Color::Indexed((n - 40) as u8)),
            100..=107 => style.bg(Color::Indexed((n - 92) as u8)),
            49 => style.bg(Color::Reset),
            38 => match extended(&mut numbers) {
                Some(c) => style.fg(c),
                None => style,
            },
            48 => match extended(&mut numbers) {
                Some(c) => style.bg(c),
                None => style,
            },
            _ => style,
        };
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(screen: &Screen) -> Vec<String> {
        let n = screen.history_len();
        screen.text_lines().into_iter().take(n).collect()
    }

    #[test]
    fn lines_that_leave_the_screen_are_kept_trimmed_with_their_colours() {
        let mut screen = Screen::new(3, 20, 100);
        screen.process(b"\x1b[31mred\x1b[m plain\r\none\r\ntwo\r\nthree");
        assert_eq!(history(&screen), ["red plain"]);
        let line = &screen.parser.callbacks().lines[0];
        assert!(line.len() < 20, "{line:?}");
        let spans = styled(line).spans;
        assert_eq!(spans[0].content, "red");
        assert_eq!(spans[0].style.fg, Some(Color::Indexed(1)));
        assert_eq!(spans[1].style, Style::new());
        assert!(spans[1].content.contains("plain"));
    }

    #[test]
    fn history_is_bounded_and_a_view_looking_back_stays_put() {
        let mut screen = Screen::new(2, 10, 5);
        for i in 0..4 {
            screen.process(format!("{i}\r\n").as_bytes());
        }
        assert_eq!(screen.scroll_to(2), 2);
        screen.process(b"4\r\n5\r\n");
        assert_eq!(screen.scrolled(), 4);
        for i in 6..20 {
            screen.process(format!("{i}\r\n").as_bytes());
        }
        assert_eq!(screen.history_len(), 5);
        assert_eq!(screen.scrolled(), 5);
        assert_eq!(history(&screen), ["14", "15", "16", "17", "18"]);
    }

    #[test]
    fn shrinking_pushes_rows_into_history_not_away() {
        let mut screen = Screen::new(45, 40, 100);
        for i in 1..=30 {
            screen.process(format!("{i}\r\n").as_bytes());
        }
        screen.resize(20, 30);
        screen.resize(45, 40);
        let text = screen.text_lines().join("\n");
        for i in 1..=30 {
            assert!(
                text.lines().any(|l| l == i.to_string()),
                "line {i} lost:\n{text}"
            );
        }
    }

    /// Grown back after a shrink, the screen takes its lines back from history onto its top,
    /// and the prompt and cursor move down with them: no blank rows above the prompt.
    #[test]
    fn growing_pulls_lines_back_from_history() {
        let mut screen = Screen::new(10, 20, 100);
        screen.process(b"\x1b[32mgreen\x1b[m\r\n");
        for i in 1..=8 {
            screen.process(format!("{i}\r\n").as_bytes());
        }
        screen.process(b"$ ");
        screen.resize(4, 20);
        assert_eq!(screen.vt().cursor_position(), (3, 2));
        screen.resize(10, 20);
        let rows: Vec<String> = screen.vt().rows(0, 20).collect();
        assert_eq!(rows[0], "green");
        assert_eq!(rows[1..9], ["1", "2", "3", "4", "5", "6", "7", "8"]);
        assert_eq!(rows[9], "$ ");
        assert_eq!(screen.vt().cursor_position(), (9, 2));
        assert_eq!(screen.history_len(), 0);
        assert_eq!(
            screen.vt().cell(0, 0).map(|c| c.fgcolor()),
            Some(vt100::Color::Idx(2))
        );
        // What the program writes next lands after its prompt, in its own colours.
        screen.process(b"\x1b[1mls");
        assert_eq!(screen.vt().rows(0, 20).nth(9).as_deref(), Some("$ ls"));
        assert!(screen.vt().cell(9, 2).is_some_and(|c| c.bold()));
    }

    /// A line of history wider than the screen grown back to comes back cut, not wrapped
    /// over the line below it.
    #[test]
    fn a_pulled_line_wider_than_the_screen_is_cut() {
        let mut screen = Screen::new(3, 30, 100);
        screen.process(b"abcdefghijklmnopqrstuvwxyz0123\r\nnext\r\n$ ");
        screen.resize(1, 10);
        screen.resize(3, 10);
        let rows: Vec<String> = screen.vt().rows(0, 10).collect();
        assert_eq!(rows, ["abcdefghij", "next", "$ "]);
    }

    /// The output before an attach, fetched later, goes above what scrolled off since: the
    /// screen the attach drew is not there twice, and the limit keeps the newest.
    #[test]
    fn history_fetched_after_the_attach_goes_above_the_lines_since() {
        let earlier: String = (1..=6).map(|i| format!("old-{i}\r\n")).collect();
        // The attach drew the screen as the earlier output left it: old-4 to old-6 and a
        // prompt; output since then pushed two of its rows off.
        let mut screen = Screen::new(4, 20, 5);
        screen.process(b"old-4\r\nold-5\r\nold-6\r\n$ new-1\r\nnew-2\r\n");
        assert_eq!(history(&screen), ["old-4", "old-5"]);
        screen.scroll_to(1);
        screen.prepend_history(earlier.as_bytes(), true);
        assert_eq!(
            history(&screen),
            ["old-1", "old-2", "old-3", "old-4", "old-5"]
        );
        assert_eq!(screen.scrolled(), 1, "the view stays on the line it showed");
        let mut full = Screen::new(4, 20, 4);
        full.process(b"old-4\r\nold-5\r\nold-6\r\n$ a\r\nb\r\nc\r\n");
        full.prepend_history(earlier.as_bytes(), true);
        assert_eq!(history(&full), ["old-3", "old-4", "old-5", "old-6"]);
    }

    /// Paused (a flood being redrawn), lines that leave the screen are counted, not kept; taken
    /// back, the history is emptied for the log's pages, and a line keeps its number through
    /// it all (copy mode holds places by number).
    #[test]
    fn a_paused_history_counts_its_lines_and_starts_again_empty() {
        let mut screen = Screen::new(3, 10, 100);
        screen.process(b"1\r\n2\r\n3\r\n4\r\n");
        assert_eq!((screen.first_line(), screen.history_len()), (0, 2));
        screen.pause_history();
        screen.process(b"5\r\n6\r\n7\r\n");
        assert_eq!((screen.first_line(), screen.history_len()), (3, 2));
        screen.resume_history();
        assert_eq!((screen.first_line(), screen.history_len()), (5, 0));
        // The top line, 5, has number 5 as before: its page puts 1-4 above as 1-4.
        let mut pages = Pages::default();
        pages.part(b"1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n");
        pages.end(&mut screen, true);
        assert_eq!((screen.first_line(), screen.history_len()), (0, 5));
        assert_eq!(screen.text_lines()[..6], ["1", "2", "3", "4", "5", "6"]);
    }

    /// History paged back from the log, cut anywhere (inside a line, inside an escape), gives
    /// the lines one parse of the whole output gives; line numbers follow the lines put above.
    #[test]
    fn pages_cut_anywhere_make_the_history_one_parse_makes() {
        let mut written = Vec::new();
        for i in 1..=40 {
            written.extend(format!("\x1b[3{}mline {i}\x1b[m\r\n", i % 8).as_bytes());
        }
        written.extend(b"$ ");
        let mut witness = Screen::new(5, 30, 100);
        witness.process(&written);
        for cuts in [
            vec![],
            vec![7],
            vec![100, 101, 333],
            vec![5, 250, 251, 400, 600],
        ] {
            let mut client = Screen::new(5, 30, 100);
            // The screen as the attach drew it: the witness's rows.
            client.process(written.rsplit(|b| *b == b'\n').next().unwrap());
            let mut pages = Pages::default();
            let mut end = written.len();
            for (k, from) in cuts.iter().rev().chain([&0]).enumerate() {
                pages.part(&written[*from..end]);
                pages.end(&mut client, *from == 0);
                assert_eq!(
                    client.first_line(),
                    -(client.history_len() as i64),
                    "page {k}"
                );
                end = *from;
            }
            assert_eq!(history(&client), history(&witness), "cut at {cuts:?}");
        }
        let mut limited = Screen::new(5, 30, 10);
        let mut pages = Pages::default();
        pages.part(&written);
        pages.end(&mut limited, true);
        assert_eq!(
            history(&limited),
            history(&witness)[history(&witness).len() - 10..]
        );
        assert!(limited.history_full());
    }

    #[test]
    fn the_alternate_screen_leaves_no_history() {
        let mut screen = Screen::new(2, 10, 100);
        screen.process(b"\x1b[?1049hA\r\nB\r\nC\r\nD\x1b[?1049l");
        assert_eq!(screen.history_len(), 0);
    }

    #[test]
    fn sgr_reads_indexed_rgb_and_resets() {
        let s = sgr(Style::new(), "1;38;5;208;48;2;1;2;3");
        assert_eq!(s.fg, Some(Color::Indexed(208)));
        assert_eq!(s.bg, Some(Color::Rgb(1, 2, 3)));
        assert!(s.add_modifier.contains(Modifier::BOLD));
        assert_eq!(sgr(s, ""), Style::new());
        assert_eq!(sgr(Style::new(), "95").fg, Some(Color::Indexed(13)));
    }
}
