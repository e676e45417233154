//! Turning key presses into the bytes a terminal application expects, and the prefix key.
//!
//! Cursor keys follow the application-cursor mode the program inside asked for (`ESC O A`
//! rather than `ESC [ A`), or vim and htop would not see their arrows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use vt100::{MouseProtocolEncoding, MouseProtocolMode};

/// The bytes for `key`, or `None` for keys a terminal cannot send.
pub fn encode(key: &KeyEvent, application_cursor: bool) -> Option<Vec<u8>> {
    let mods = key.modifiers;
    let alt = mods.contains(KeyModifiers::ALT);
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    let mut out = match key.code {
        KeyCode::Char(c) if ctrl => vec![control_byte(c)?],
        KeyCode::Char(c) => c.to_string().into_bytes(),
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Backspace if ctrl => vec![0x08],
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => cursor(b'A', mods, application_cursor),
        KeyCode::Down => cursor(b'B', mods, application_cursor),
        KeyCode::Right => cursor(b'C', mods, application_cursor),
        KeyCode::Left => cursor(b'D', mods, application_cursor),
        KeyCode::Home => cursor(b'H', mods, application_cursor),
        KeyCode::End => cursor(b'F', mods, application_cursor),
        KeyCode::Insert => tilde(2, mods),
        KeyCode::Delete => tilde(3, mods),
        KeyCode::PageUp => tilde(5, mods),
        KeyCode::PageDown => tilde(6, mods),
        KeyCode::F(n @ 1..=4) => match modifier_param(mods) {
            1 => vec![0x1b, b'O', b'P' + n - 1],
            m => format!("\x1b[1;{m}{}", (b'P' + n - 1) as char).into_bytes(),
        },
        KeyCode::F(n @ 5..=12) => tilde([15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)], mods),
        _ => return None,
    };
    if alt
        && !matches!(
            key.code,
            KeyCode::Up | KeyCode::Down | KeyCode::Left | KeyCode::Right
        )
    {
        out.insert(0, 0x1b);
    }
    Some(out)
}

/// Ctrl with a character: letters and `@[\]^_` map to 0..=31, space to NUL, `?` to DEL.
fn control_byte(c: char) -> Option<u8> {
    match c.to_ascii_lowercase() {
        c @ 'a'..='z' => Some(c as u8 - b'a' + 1),
        ' ' | '@' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '-' | '7' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

/// xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4).
fn modifier_param(mods: KeyModifiers) -> u8 {
    1 + u8::from(mods.contains(KeyModifiers::SHIFT))
        + 2 * u8::from(mods.contains(KeyModifiers::ALT))
        + 4 * u8::from(mods.contains(KeyModifiers::CONTROL))
}

fn cursor(letter: u8, mods: KeyModifiers, application: bool) -> Vec<u8> {
    match modifier_param(mods) {
        1 if application => vec![0x1b, b'O', letter],
        1 => vec![0x1b, b'[', letter],
        m => format!("\x1b[1;{m}{}", letter as char).into_bytes(),
    }
}

fn tilde(number: u8, mods: KeyModifiers) -> Vec<u8> {
    match modifier_param(mods) {
        1 => format!("\x1b[{number}~").into_bytes(),
        m => format!("\x1b[{number};{m}~").into_bytes(),
    }
}

/// Pasted text, wrapped in bracketed-paste markers when the program asked for them.
pub fn paste(text: &str, bracketed: bool) -> Vec<u8> {
    if bracketed {
        [b"\x1b[200~".as_slice(), text.as_bytes(), b"\x1b[201~"].concat()
    } else {
        text.replace("\r\n", "\r").replace('\n', "\r").into_bytes()
    }
}

/// The prefix key: a Ctrl-letter chord, `C-a` by default as in GNU screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix(pub char);

impl Default for Prefix {
    fn default() -> Self {
        Prefix('a')
    }
}

impl Prefix {
    /// Parses `C-a`, `C-b`, `^a`, ... (case-insensitive).
    pub fn parse(text: &str) -> Result<Prefix, String> {
        let lower = text.to_ascii_lowercase();
        let letter = lower.strip_prefix("c-").or_else(|| lower.strip_prefix('^'));
        match letter.map(|l| l.chars().collect::<Vec<_>>()).as_deref() {
            Some([c]) if c.is_ascii_lowercase() => Ok(Prefix(*c)),
            _ => Err(format!(
                "invalid prefix key {text:?}: expected C-<letter>, e.g. C-a or C-b"
            )),
        }
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(self.0)
    }

    /// The byte the prefix stands for, sent by `prefix a`.
    pub fn byte(&self) -> u8 {
        self.0 as u8 - b'a' + 1
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ctrl-{}", self.0)
    }
}

/// The report a program that asked for the mouse (`mode`, `encoding`) expects for `mouse`
/// at (`col`, `row`) of its screen, 0-based; `None` when its mode does not report that kind
/// of event (X10 mode has no releases, no mode but any-motion has moves).
pub fn encode_mouse(
    mouse: &MouseEvent,
    col: u16,
    row: u16,
    mode: MouseProtocolMode,
    encoding: MouseProtocolEncoding,
) -> Option<Vec<u8>> {
    use MouseProtocolMode as M;
    let button = |b: MouseButton| match b {
        MouseButton::Left => 0,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    };
    let (code, release) = match mouse.kind {
        MouseEventKind::Down(b) => (button(b), false),
        MouseEventKind::Up(b) if mode != M::Press => (button(b), true),
        MouseEventKind::Drag(b) if matches!(mode, M::ButtonMotion | M::AnyMotion) => {
            (button(b) + 32, false)
        }
        MouseEventKind::Moved if mode == M::AnyMotion => (3 + 32, false),
        MouseEventKind::ScrollUp => (64, false),
        MouseEventKind::ScrollDown => (65, false),
        _ => return None,
    };
    if mode == M::None {
        return None;
    }
    let mods = mouse.modifiers;
    let code =
        code + if mods.contains(KeyModifiers::SHIFT) {
            4
        } else {
            0
        } + if mods.contains(KeyModifiers::ALT) {
            8
        } else {
            0
        } + if mods.contains(KeyModifiers::CONTROL) {
            16
        } else {
            0
        };
    let (x, y) = (u32::from(col) + 1, u32::from(row) + 1);
    Some(match encoding {
        MouseProtocolEncoding::Sgr => {
            format!("\x1b[<{code};{x};{y}{}", if release { 'm' } else { 'M' }).into_bytes()
        }
        // X10's one byte per value: a release is button 3; beyond 223 it cannot say.
        MouseProtocolEncoding::Default | MouseProtocolEncoding::Utf8 => {
            let code = if release { 3 + (code & !3) } else { code };
            let byte = |v: u32| u8::try_from(v + 32).ok();
            vec![0x1b, b'[', b'M', byte(code)?, byte(x)?, byte(y)?]
        }
    })
}

/// How `key` reads in a message: `z`, `C-z`, `F5`, `Left`.
pub fn describe(key: &KeyEvent) -> String {
    let name = match key.code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        format!("C-{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn enc(code: KeyCode, mods: KeyModifiers, app: bool) -> Vec<u8> {
        encode(&key(code, mods), app).unwrap()
    }

    const NONE: KeyModifiers = KeyModifiers::NONE;

    #[test]
    fn plain_characters_and_editing_keys() {
        assert_eq!(enc(KeyCode::Char('a'), NONE, false), b"a");
        assert_eq!(enc(KeyCode::Char('é'), NONE, false), "é".as_bytes());
        assert_eq!(enc(KeyCode::Char('A'), KeyModifiers::SHIFT, false), b"A");
        assert_eq!(enc(KeyCode::Enter, NONE, false), b"\r");
        assert_eq!(enc(KeyCode::Backspace, NONE, false), b"\x7f");
        assert_eq!(enc(KeyCode::Tab, NONE, false), b"\t");
        assert_eq!(enc(KeyCode::BackTab, KeyModifiers::SHIFT, false), b"\x1b[Z");
        assert_eq!(enc(KeyCode::Esc, NONE, false), b"\x1b");
    }

    #[test]
    fn control_and_alt_combinations() {
        assert_eq!(
            enc(KeyCode::Char('c'), KeyModifiers::CONTROL, false),
            b"\x03"
        );
        assert_eq!(
            enc(KeyCode::Char('d'), KeyModifiers::CONTROL, false),
            b"\x04"
        );
        assert_eq!(
            enc(KeyCode::Char(' '), KeyModifiers::CONTROL, false),
            b"\x00"
        );
        assert_eq!(
            enc(KeyCode::Char('['), KeyModifiers::CONTROL, false),
            b"\x1b"
        );
        assert_eq!(enc(KeyCode::Char('x'), KeyModifiers::ALT, false), b"\x1bx");
        assert_eq!(
            enc(
                KeyCode::Char('x'),
                KeyModifiers::ALT | KeyModifiers::CONTROL,
                false
            ),
            b"\x1b\x18"
        );
    }

    #[test]
    fn arrows_follow_application_cursor_mode() {
        assert_eq!(enc(KeyCode::Up, NONE, false), b"\x1b[A");
        assert_eq!(enc(KeyCode::Up, NONE, true), b"\x1bOA");
        assert_eq!(enc(KeyCode::Left, NONE, true), b"\x1bOD");
        assert_eq!(enc(KeyCode::Home, NONE, false), b"\x1b[H");
        assert_eq!(enc(KeyCode::End, NONE, true), b"\x1bOF");
        assert_eq!(
            enc(KeyCode::Right, KeyModifiers::CONTROL, true),
            b"\x1b[1;5C"
        );
        assert_eq!(
            enc(KeyCode::Up, KeyModifiers::SHIFT | KeyModifiers::ALT, false),
            b"\x1b[1;4A"
        );
    }

    #[test]
    fn function_and_navigation_keys() {
        assert_eq!(enc(KeyCode::F(1), NONE, false), b"\x1bOP");
        assert_eq!(enc(KeyCode::F(4), NONE, false), b"\x1bOS");
        assert_eq!(enc(KeyCode::F(5), NONE, false), b"\x1b[15~");
        assert_eq!(enc(KeyCode::F(12), NONE, false), b"\x1b[24~");
        assert_eq!(enc(KeyCode::F(2), KeyModifiers::SHIFT, false), b"\x1b[1;2Q");
        assert_eq!(enc(KeyCode::PageUp, NONE, false), b"\x1b[5~");
        assert_eq!(
            enc(KeyCode::Delete, KeyModifiers::CONTROL, false),
            b"\x1b[3;5~"
        );
        assert_eq!(encode(&key(KeyCode::F(20), NONE), false), None);
    }

    #[test]
    fn paste_is_bracketed_when_asked() {
        assert_eq!(paste("a\nb", true), b"\x1b[200~a\nb\x1b[201~");
        assert_eq!(paste("a\nb", false), b"a\rb");
    }

    #[test]
    fn prefix_parses_and_matches() {
        assert_eq!(Prefix::parse("C-b"), Ok(Prefix('b')));
        assert_eq!(Prefix::parse("^A"), Ok(Prefix('a')));
        assert!(Prefix::parse("b").is_err());
        assert!(Prefix::parse("C-ab").is_err());
        let p = Prefix::default();
        assert!(p.matches(&key(KeyCode::Char('a'), KeyModifiers::CONTROL)));
        assert!(!p.matches(&key(KeyCode::Char('a'), NONE)));
        assert_eq!(p.byte(), 1);
        assert_eq!(p.to_string(), "Ctrl-a");
    }

    #[test]
    fn mouse_reports_follow_the_mode_and_encoding_asked_for() {
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        let up = MouseEvent {
            kind: MouseEventKind::Up(MouseButton::Left),
            ..click
        };
        let sgr = MouseProtocolEncoding::Sgr;
        assert_eq!(
            encode_mouse(&click, 4, 9, MouseProtocolMode::PressRelease, sgr),
            Some(b"\x1b[<0;5;10M".to_vec())
        );
        assert_eq!(
            encode_mouse(&up, 4, 9, MouseProtocolMode::PressRelease, sgr),
            Some(b"\x1b[<0;5;10m".to_vec())
        );
        assert_eq!(encode_mouse(&up, 4, 9, MouseProtocolMode::Press, sgr), None);
        assert_eq!(
            encode_mouse(&click, 4, 9, MouseProtocolMode::None, sgr),
            None
        );
        let wheel = MouseEvent {
            kind: MouseEventKind::ScrollUp,
            ..click
        };
        assert_eq!(
            encode_mouse(
                &wheel,
                0,
                0,
                MouseProtocolMode::Press,
                MouseProtocolEncoding::Default
            ),
            Some(vec![0x1b, b'[', b'M', 32 + 64, 33, 33])
        );
    }
}
