//! With a terminal: the container gets its own pty as controlling terminal, follows resizes,
//! Ctrl-C interrupts the foreground job inside, and the host terminal is restored after.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

pub fn tests() -> Vec<Trial> {
    root_tests![
        terminal_session_behaves_like_a_terminal,
        forced_tty_and_refused_tty,
        input_the_container_does_not_read_never_stalls_its_output,
    ]
}

fn size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn local_flags(master: &dyn portable_pty::MasterPty) -> Option<u64> {
    master.get_termios().map(|t| t.local_flags.bits() as u64)
}

/// A terminal the test types into, reading back what it shows.
struct Terminal {
    master: Box<dyn portable_pty::MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<String>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// The local mode bits before the tool started (it makes the terminal raw at once).
    cooked: Option<u64>,
}

impl Terminal {
    fn start(t: &Ctx, args: &[&str]) -> Result<Terminal, String> {
        let pair = native_pty_system()
            .openpty(size(24, 80))
            .map_err(|e| e.to_string())?;
        let mut cmd = CommandBuilder::new(BIN);
        cmd.arg("-e");
        cmd.arg(t.marker());
        cmd.args(args);
        cmd.env("TERM", "xterm");
        cmd.cwd("/");
        let cooked = local_flags(&*pair.master);
        let child = pair.slave.spawn_command(cmd).map_err(|e| e.to_string())?;
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let writer = pair.master.take_writer().map_err(|e| e.to_string())?;
        Ok(Terminal {
            master: pair.master,
            writer,
            screen,
            child,
            cooked,
        })
    }

    fn type_line(&mut self, text: &str) -> TestResult {
        self.writer
            .write_all(format!("{text}\r").as_bytes())
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn type_bytes(&mut self, bytes: &[u8]) -> TestResult {
        self.writer.write_all(bytes).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn wait_for(&self, text: &str) -> TestResult {
        wait_until(&format!("{text:?} on the terminal"), || {
            self.screen.lock().unwrap().contains(text)
        })
        .map_err(|e| {
            format!(
                "{}; the screen shows: {:?}",
                e.message().unwrap_or(""),
                self.screen.lock().unwrap()
            )
            .into()
        })
    }

    /// The terminal's local mode bits (ICANON, ECHO, ...), as the master sees them now.
    fn local_flags(&self) -> Option<u64> {
        local_flags(&*self.master)
    }

    fn exit_code(&mut self) -> Result<u32, Failed> {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status.exit_code());
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                return Err("the tool did not exit".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

use libtest_mimic::Failed;

fn terminal_session_behaves_like_a_terminal(t: &Ctx) -> TestResult {
    let mut term = Terminal::start(t, &["--run", "sh"])?;
    let cooked = term.cooked;
    // A pty of the container's own devpts, as runc gives it (the launcher's pty, on the host's
    // devpts, is relayed by the helper and never reaches the container).
    term.type_line("tty; echo pid=$$")?;
    term.wait_for("/dev/pts/0")?;
    term.wait_for("pid=1")?;

    term.type_line("stty size")?;
    term.wait_for("24 80")?;
    term.master
        .resize(size(31, 101))
        .map_err(|e| e.to_string())?;
    // The resize reaches the tool as SIGWINCH, concurrently with what we type: poll inside.
    term.type_line(r#"until [ "$(stty size)" = "31 101" ]; do sleep 0.01; done; echo resized"#)?;
    term.wait_for("\nresized")?;

    // Ctrl-C interrupts the foreground job, not the shell.
    term.type_line("sleep 1000")?;
    wait_until("sleep in the container", || {
        t.processes()
            .iter()
            .any(|p| p.cmdline.first().map(String::as_str) == Some("sleep"))
    })?;
    term.type_bytes(b"\x03")?;
    term.type_line("echo after-$?")?;
    term.wait_for("after-130")?;

    // Job control: Ctrl-Z stops the foreground job, `fg` gives it the terminal back, and
    // Ctrl-C then reaches it.
    term.type_line("sleep 1001")?;
    let sleep_state = || {
        t.processes()
            .into_iter()
            .find(|p| p.cmdline.get(1).map(String::as_str) == Some("1001"))
            .map(|p| p.state)
    };
    wait_until("the second sleep", || sleep_state() == Some('S'))?;
    term.type_bytes(b"\x1a")?;
    term.wait_for("Stopped")?;
    wait_until("the sleep to be stopped", || sleep_state() == Some('T'))?;
    term.type_line("fg")?;
    wait_until("the sleep to run again", || sleep_state() == Some('S'))?;
    term.type_bytes(b"\x03")?;
    term.type_line("echo fg-$?")?;
    term.wait_for("fg-130")?;

    term.type_line("exit 3")?;
    ensure_eq(term.exit_code()?, 3)?;
    ensure_eq(term.local_flags(), cooked)
        .map_err(|e| format!("terminal not restored: {e:?}").into())
}

/// `-T` passes our terminal through as plain stdio, with no controlling terminal inside;
/// `-t` gives the container a pty even with stdin from a pipe.
fn forced_tty_and_refused_tty(t: &Ctx) -> TestResult {
    let probe = "if (: </dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi";
    let mut term = Terminal::start(t, &["-T", "--run", "sh", "-c", probe])?;
    term.wait_for("-ctty")?;
    ensure_eq(term.exit_code()?, 0)?;
    let screen = term.screen.lock().unwrap().clone();
    ensure(
        screen.contains("no-ctty"),
        format!("-T still gave a controlling tty: {screen:?}"),
    )?;

    let out = t.run(&["-t", "--run", "sh", "-c", "tty"])?.success()?;
    let ttys = out
        .stdout
        .lines()
        .filter(|l| l.trim_end() == "/dev/pts/0")
        .count();
    ensure(ttys == 1, format!("-t gave no tty: {:?}", out.stdout))
}

/// 256 KiB of input a raw-mode program never reads (a paste into a busy editor) while it writes
/// 1.3 MB: the output all arrives and the container ends, through the helper's relay of the
/// container's own pty. (In raw mode the pty stops taking input once its buffer is full; a
/// relay that blocked writing it would never read the output again: a deadlock, which an
/// earlier version of the relay had.)
fn input_the_container_does_not_read_never_stalls_its_output(t: &Ctx) -> TestResult {
    use std::io::Write;
    let mut cmd = t.tool(&["-t", "--run", "sh", "-c", "stty raw -echo; seq 1 200000"]);
    cmd.stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::null());
    let mut child = Running::spawn(&mut cmd)?;
    let mut stdin = child.stdin.take().unwrap();
    // The tool may stop reading once the container has ended: errors here are expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&vec![b'x'; 256 * 1024]);
    });
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut text);
        text
    });
    let status = wait_child(&mut child)?;
    let text = reader.join().unwrap();
    drop(writer);
    ensure_eq(status.code(), Some(0))?;
    ensure(
        text.lines().any(|l| l.trim_end() == "200000"),
        format!("the output was cut: {} bytes", text.len()),
    )
}
