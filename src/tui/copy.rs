//! Copy mode (`prefix [`, or a mouse drag), as tmux's in vi keys: a cursor over the session's
//! whole text (history, then the screen), searches, and a selection copied to the outer
//! terminal's clipboard with OSC 52 (which works through ssh and tmux) and kept for
//! `prefix ]`.
//!
//! Positions are (line, column) in characters, line 0 the oldest line of history; the text
//! is the plain text of each line ([`crate::screen::Screen::text_lines`]).

/// A place in the text: line, then column (characters).
pub type Pos = (usize, usize);

/// The state of copy mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copy {
    pub cursor: Pos,
    /// Where the selection started (`v` or Space, or a mouse press); the selection runs from
    /// it to the cursor.
    pub anchor: Option<Pos>,
    /// A search being typed: forward (`/`) or backward (`?`), and its text.
    pub typing: Option<(bool, String)>,
    /// The last search, for `n` and `N`.
    pub last: Option<(bool, String)>,
    /// The selection is a rectangle (`Ctrl-v`): the same columns of each line.
    pub rectangle: bool,
    /// The number of the text's first line when these positions were taken
    /// ([`crate::screen::Screen::first_line`]).
    pub base: i64,
}

/// What kind of character a word is made of, as vi tells words apart: letters, digits and `_`;
/// other printable characters; blanks (which end a word).
fn class(c: char) -> u8 {
    match c {
        c if c.is_whitespace() => 0,
        c if c.is_alphanumeric() || c == '_' => 1,
        _ => 2,
    }
}

/// The class of the character at `pos` in `lines` (a blank past a line's end).
fn at(lines: &[String], (l, col): Pos) -> u8 {
    lines
        .get(l)
        .and_then(|t| t.chars().nth(col))
        .map_or(0, class)
}

/// What a key in copy mode asks of the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Leave,
    /// The selection's text: to the clipboard, and leave.
    Copied(String),
    /// A search found nothing: say so.
    NotFound(String),
}

impl Copy {
    /// Copy mode with the cursor on the last non-blank line of `lines`.
    pub fn at_bottom(lines: &[String]) -> Copy {
        let line = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .unwrap_or(0);
        Copy {
            cursor: (line, lines.get(line).map_or(0, |l| l.chars().count())),
            ..Copy::default()
        }
    }

    /// The same places after lines came above them (older history paged in) or went (past
    /// the history's limit): the text's first line is now numbered `first`.
    pub fn rebase(&mut self, first: i64) {
        let shift = self.base - first;
        let moved = move |(line, col): Pos| ((line as i64 + shift).max(0) as usize, col);
        self.anchor = self.anchor.map(moved);
        self.cursor = moved(self.cursor);
        self.base = first;
    }

    /// The selection, ordered, when there is one.
    pub fn selection(&self) -> Option<(Pos, Pos)> {
        let anchor = self.anchor?;
        Some(if anchor <= self.cursor {
            (anchor, self.cursor)
        } else {
            (self.cursor, anchor)
        })
    }

    /// Whether `pos` is in the selection: between its ends, or in a rectangle's columns.
    pub fn selects(&self, pos: Pos) -> bool {
        self.selection()
            .is_some_and(|(from, to)| match self.rectangle {
                false => from <= pos && pos <= to,
                true => {
                    (from.0..=to.0).contains(&pos.0)
                        && (from.1.min(to.1)..=from.1.max(to.1)).contains(&pos.1)
                }
            })
    }

    /// Acts on a key (its character, or the named keys as `'\n'` Enter, `'\x1b'` Esc,
    /// `'\x08'` Backspace; arrows and pages mapped by the caller to h/j/k/l, `\x02`/`\x06`)
    /// over `lines`, with `page` lines a page.
    pub fn key(&mut self, c: char, lines: &[String], page: usize) -> Outcome {
        if let Some((forward, text)) = self.typing.as_mut() {
            match c {
                '\x1b' => self.typing = None,
                '\x08' => {
                    text.pop();
                }
                '\n' => {
                    let search = (*forward, std::mem::take(text));
                    self.typing = None;
                    if search.1.is_empty() {
                        return Outcome::Stay;
                    }
                    self.last = Some(search.clone());
                    return self.find(lines, search.0, &search.1);
                }
                c if !c.is_control() => text.push(c),
                _ => {}
            }
            return Outcome::Stay;
        }
        let last_line = lines.len().saturating_sub(1);
        let (line, col) = self.cursor;
        let width = |l: usize| lines.get(l).map_or(0, |t| t.chars().count());
        match c {
            'q' | '\x1b' if self.anchor.is_some() && c == '\x1b' => self.anchor = None,
            'q' | '\x1b' => return Outcome::Leave,
            'h' => self.cursor.1 = col.saturating_sub(1),
            'l' => self.cursor.1 = (col + 1).min(width(line)),
            'k' => self.cursor.0 = line.saturating_sub(1),
            'j' => self.cursor.0 = (line + 1).min(last_line),
            '\x02' => self.cursor.0 = line.saturating_sub(page),
            '\x06' => self.cursor.0 = (line + page).min(last_line),
            'w' => self.cursor = next_word(lines, self.cursor),
            'b' => self.cursor = previous_word(lines, self.cursor),
            'e' => self.cursor = word_end(lines, self.cursor),
            '\x16' => self.rectangle = !self.rectangle,
            'g' => self.cursor = (0, 0),
            'G' => self.cursor = (last_line, 0),
            '0' => self.cursor.1 = 0,
            '$' => self.cursor.1 = width(line),
            'v' | ' ' => {
                self.anchor = match self.anchor {
                    Some(_) => None,
                    None => Some(self.cursor),
                }
            }
            '\n' | 'y' => {
                return match (self.selection(), self.rectangle) {
                    (Some((from, to)), false) => Outcome::Copied(text_between(lines, from, to)),
                    (Some((from, to)), true) => Outcome::Copied(rectangle(lines, from, to)),
                    (None, _) => Outcome::Leave,
                };
            }
            '/' => self.typing = Some((true, String::new())),
            '?' => self.typing = Some((false, String::new())),
            'n' | 'N' => {
                if let Some((forward, text)) = self.last.clone() {
                    return self.find(lines, forward == (c == 'n'), &text);
                }
            }
            _ => {}
        }
        self.cursor.1 = self.cursor.1.min(width(self.cursor.0));
        Outcome::Stay
    }

    /// Moves the cursor to the next match of `text` after it (`forward`) or before it,
    /// wrapping round; smart case: a query without capitals ignores case.
    fn find(&mut self, lines: &[String], forward: bool, text: &str) -> Outcome {
        let fold = !text.chars().any(char::is_uppercase);
        let norm = |s: &str| {
            if fold {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let needle = norm(text);
        let n = lines.len();
        let (line, col) = self.cursor;
        for step in 0..=n {
            let l = match forward {
                true => (line + step) % n.max(1),
                false => (line + n * 2 - step) % n.max(1),
            };
            let Some(hay) = lines.get(l).map(|h| norm(h)) else {
                continue;
            };
            let chars: Vec<(usize, char)> = hay.char_indices().collect();
            let at = |byte: usize| chars.iter().position(|(b, _)| *b == byte).unwrap_or(0);
            let found = match (forward, step) {
                (true, 0) => hay
                    .match_indices(&needle)
                    .map(|(b, _)| at(b))
                    .find(|c| *c > col),
                (true, _) => hay.match_indices(&needle).map(|(b, _)| at(b)).next(),
                (false, 0) => hay
                    .match_indices(&needle)
                    .map(|(b, _)| at(b))
                    .filter(|c| *c < col)
                    .last(),
                (false, _) => hay.match_indices(&needle).map(|(b, _)| at(b)).last(),
            };
            if let Some(c) = found {
                self.cursor = (l, c);
                return Outcome::Stay;
            }
        }
        Outcome::NotFound(text.to_string())
    }
}

/// The position after `pos` one step through the text (to the next line's start past a line's
/// end), or `None` at the very end.
fn step_forward(lines: &[String], (l, c): Pos) -> Option<Pos> {
    let width = lines.get(l).map_or(0, |t| t.chars().count());
    if c + 1 < width {
        Some((l, c + 1))
    } else if l + 1 < lines.len() {
        Some((l + 1, 0))
    } else {
        None
    }
}

fn step_back(lines: &[String], (l, c): Pos) -> Option<Pos> {
    if c > 0 {
        Some((l, c - 1))
    } else if l > 0 {
        let width = lines.get(l - 1).map_or(0, |t| t.chars().count());
        Some((l - 1, width.saturating_sub(1)))
    } else {
        None
    }
}

/// `w`: the start of the next word (a line's end ends a word too).
fn next_word(lines: &[String], from: Pos) -> Pos {
    let start = at(lines, from);
    let mut pos = from;
    // Out of this word...
    while let Some(next) = step_forward(lines, pos) {
        let line_break = next.0 != pos.0;
        pos = next;
        if line_break || at(lines, pos) != start {
            break;
        }
    }
    // ...and over the blanks after it.
    while at(lines, pos) == 0 {
        match step_forward(lines, pos) {
            Some(next) => pos = next,
            None => break,
        }
    }
    pos
}

/// `b`: the start of this word, or of the one before.
fn previous_word(lines: &[String], from: Pos) -> Pos {
    let mut pos = from;
    // Back over blanks (and at least one character)...
    loop {
        match step_back(lines, pos) {
            Some(prev) => pos = prev,
            None => return pos,
        }
        if at(lines, pos) != 0 {
            break;
        }
    }
    // ...then to the start of that word.
    let class = at(lines, pos);
    while let Some(prev) = step_back(lines, pos) {
        if prev.0 != pos.0 || at(lines, prev) != class {
            break;
        }
        pos = prev;
    }
    pos
}

/// `e`: the end of this word, or of the next.
fn word_end(lines: &[String], from: Pos) -> Pos {
    let mut pos = from;
    loop {
        match step_forward(lines, pos) {
            Some(next) => pos = next,
            None => return pos,
        }
        if at(lines, pos) != 0 {
            break;
        }
    }
    let class = at(lines, pos);
    while let Some(next) = step_forward(lines, pos) {
        if next.0 != pos.0 || at(lines, next) != class {
            break;
        }
        pos = next;
    }
    pos
}

/// A rectangle selection's text: the columns between `from`'s and `to`'s, both included, of
/// each line from `from`'s to `to`'s, trailing blanks trimmed.
pub fn rectangle(lines: &[String], from: Pos, to: Pos) -> String {
    let (left, right) = (from.1.min(to.1), from.1.max(to.1));
    (from.0..=to.0)
        .map(|l| {
            let line: String = lines
                .get(l)
                .map(|t| t.chars().skip(left).take(right + 1 - left).collect())
                .unwrap_or_default();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text from `from` to `to`, both included, lines joined with newlines.
pub fn text_between(lines: &[String], from: Pos, to: Pos) -> String {
    let mut out = Vec::new();
    let last = to.0.min(lines.len().saturating_sub(1));
    for (l, line) in lines.iter().enumerate().take(last + 1).skip(from.0) {
        let chars: Vec<char> = line.chars().collect();
        let start = if l == from.0 {
            from.1.min(chars.len())
        } else {
            0
        };
        let end = if l == to.0 {
            (to.1 + 1).min(chars.len())
        } else {
            chars.len()
        };
        out.push(chars[start..end.max(start)].iter().collect::<String>());
    }
    out.join("\n")
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines put above (history paged in) move the cursor and the anchor down by as many;
    /// lines gone past the limit move them up, never above the first line.
    #[test]
    fn positions_follow_their_lines_as_history_comes_and_goes() {
        let mut copy = Copy {
            cursor: (10, 3),
            anchor: Some((8, 1)),
            base: 0,
            ..Copy::default()
        };
        copy.rebase(-100);
        assert_eq!((copy.cursor, copy.anchor), ((110, 3), Some((108, 1))));
        copy.rebase(-91);
        assert_eq!((copy.cursor, copy.anchor), ((101, 3), Some((99, 1))));
        copy.rebase(20);
        assert_eq!((copy.cursor, copy.anchor), ((0, 3), Some((0, 1))));
    }

    fn lines() -> Vec<String> {
        ["alpha one", "beta Two", "gamma three", "delta two", ""]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn searches_find_both_ways_with_smart_case_and_repeat() {
        let lines = lines();
        let mut copy = Copy::at_bottom(&lines);
        assert_eq!(copy.cursor.0, 3);
        for c in "?two\n".chars() {
            copy.key(c, &lines, 2);
        }
        assert_eq!(
            copy.cursor,
            (3, 6),
            "the match on the cursor's line, before it"
        );
        copy.key('n', &lines, 2);
        assert_eq!(copy.cursor, (1, 5), "backward again, any case");
        copy.key('N', &lines, 2);
        assert_eq!(copy.cursor, (3, 6));
        for c in "/Two\n".chars() {
            copy.key(c, &lines, 2);
        }
        assert_eq!(copy.cursor, (1, 5), "capitals: exact case, wrapping round");
        for c in "/nowhere\n".chars() {
            assert_eq!(
                copy.key(c, &lines, 2) == Outcome::NotFound("nowhere".into()),
                c == '\n'
            );
        }
    }

    #[test]
    fn a_selection_copies_across_lines() {
        let lines = lines();
        let mut copy = Copy {
            cursor: (0, 6),
            ..Copy::default()
        };
        copy.key('v', &lines, 2);
        copy.key('j', &lines, 2);
        copy.key('0', &lines, 2);
        copy.key('l', &lines, 2);
        copy.key('l', &lines, 2);
        copy.key('l', &lines, 2);
        assert_eq!(
            copy.key('y', &lines, 2),
            Outcome::Copied("one\nbeta".into())
        );
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }

    /// `w`, `b` and `e` move by words as vi does: letters and digits apart from punctuation,
    /// blanks and line ends between them.
    #[test]
    fn word_motions_move_as_vi_does() {
        let lines: Vec<String> = ["ls -la /tmp", "  echo done"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut copy = Copy::default();
        let mut path = Vec::new();
        for _ in 0..6 {
            copy.key('w', &lines, 2);
            path.push(copy.cursor);
        }
        assert_eq!(path, [(0, 3), (0, 4), (0, 7), (0, 8), (1, 2), (1, 7)]);
        copy.key('b', &lines, 2);
        assert_eq!(copy.cursor, (1, 2));
        copy.key('b', &lines, 2);
        assert_eq!(copy.cursor, (0, 8), "back across the line's end");
        copy.key('e', &lines, 2);
        assert_eq!(copy.cursor, (0, 10));
        copy.key('e', &lines, 2);
        assert_eq!(copy.cursor, (1, 5));
    }

    /// `Ctrl-v` makes the selection a rectangle: the same columns of each line.
    #[test]
    fn a_rectangle_copies_columns() {
        let lines: Vec<String> = ["PID  USER  CMD", "1    root  init", "42   web   nginx"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut copy = Copy {
            cursor: (0, 5),
            ..Copy::default()
        };
        copy.key('\x16', &lines, 2);
        copy.key('v', &lines, 2);
        copy.key('j', &lines, 2);
        copy.key('j', &lines, 2);
        for _ in 0..3 {
            copy.key('l', &lines, 2);
        }
        assert_eq!(
            copy.key('y', &lines, 2),
            Outcome::Copied("USER\nroot\nweb".into())
        );
    }
}
