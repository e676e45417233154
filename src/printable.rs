//! Text from elsewhere made safe to print on a terminal: what a registry, an image config,
//! an archive or a container says may hold escape sequences (a window title, a screen clear,
//! an OSC 52 clipboard write) that must reach the user's terminal as visible text, never as
//! commands. Every error the CLI prints and every line of a pull's progress passes through
//! [`escaped`].

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) written as a visible `\u{..}` escape;
/// borrowed when it had none. Tabs stay (they only move the cursor right); newlines stay
/// when `lines` says the text may span lines.
pub fn escaped(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// As [`escaped`], keeping newlines (for multi-line reports).
pub fn escaped_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// `text` cut to `width` characters, the cut marked with `…`, as Docker's tables cut.
pub fn cut(text: &str, width: usize) -> String {
    match text.chars().count() > width {
        true => text
            .chars()
            .take(width.saturating_sub(1))
            .chain(['…'])
            .collect(),
        false => text.to_string(),
    }
}

/// `n` and `noun`, plural unless one: `1 layer`, `3 layers`.
pub fn counted(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

fn escape(text: &str, lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\t' && !(lines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_the_terminal_as_text() {
        assert!(matches!(escaped("linux/amd64"), Cow::Borrowed(_)));
        assert_eq!(
            escaped("a\x1b]0;owned\x07b\x1b[2J\u{9b}c"),
            "a\\u{1b}]0;owned\\u{7}b\\u{1b}[2J\\u{9b}c"
        );
        assert_eq!(escaped("one\ntwo"), "one\\u{a}two");
        assert_eq!(escaped_lines("one\ntwo\r"), "one\ntwo\\u{d}");
    }
}
