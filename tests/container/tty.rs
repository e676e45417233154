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
        a_client_behind_a_flood_is_redrawn_and_its_history_joins,
        a_redrawn_client_that_marks_is_sent_every_byte_after,
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

/// The monitor's next event: a failure if it hung up, or said nothing for [`PATIENCE`].
fn next(
    conn: &my_container_tui::client::Connection,
) -> Result<my_container_tui::monitor::protocol::Event, String> {
    if !conn.wait(PATIENCE) {
        return Err(format!("nothing from the monitor in {PATIENCE:?}"));
    }
    conn.recv().ok_or_else(|| "the monitor hung up".to_string())
}

/// A container started for the flood tests, and a client attached to it at 24x80, its
/// attach answered (which begins with `Skipped`: this monitor redraws).
fn flood_client(
    t: &Ctx,
    script: &str,
) -> Result<(String, my_container_tui::client::Connection), libtest_mimic::Failed> {
    use my_container_tui::client::Connection;
    use my_container_tui::monitor::protocol::{Event, Request};
    let out = t
        .run(&["run", "-d", "-i", "-t", "sh", "-c", script])?
        .success()?;
    let id = out.stdout.trim().to_string();
    let record = my_container_tui::state::store::load(&id).map_err(|e| e.to_string())?;
    let conn = Connection::open(&record).map_err(|e| e.to_string())?;
    conn.send(&Request::Attach {
        rows: 24,
        cols: 80,
        replay: true,
    })
    .map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    while !matches!(events.last(), Some(Event::Done)) {
        events.push(next(&conn)?);
    }
    ensure(
        events.first() == Some(&Event::Skipped),
        format!("the attach began with {:?}", events.first()),
    )?;
    Ok((id, conn))
}

/// Waits until the container's log holds `bytes`, its rotated files with it (JSON, so a
/// quarter more than `seq`'s output).
fn log_holds(id: &str, bytes: u64) -> TestResult {
    let dir = my_container_tui::state::tree::container(id);
    wait_until(&format!("{bytes} bytes in the log"), || {
        let files = std::fs::read_dir(&dir).into_iter().flatten().flatten();
        let logs = files.filter(|f| f.file_name().to_string_lossy().starts_with("log.json"));
        logs.filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum::<u64>()
            >= bytes
    })
}

/// Reads as a dashboard does until `done` holds of the screen: output into it, and each
/// redraw (`Skipped`) starting it afresh. Returns the bytes of output and the redraws read.
fn follow(
    conn: &my_container_tui::client::Connection,
    screen: &mut my_container_tui::screen::Screen,
    done: impl Fn(&my_container_tui::screen::Screen) -> bool,
) -> Result<(usize, usize), String> {
    use my_container_tui::monitor::protocol::Event;
    let (mut bytes, mut redraws) = (0, 0);
    while !done(screen) {
        match next(conn)? {
            Event::Output(_, out) => {
                bytes += out.len();
                screen.process(&out);
            }
            Event::Skipped => {
                redraws += 1;
                screen.restart();
            }
            other => return Err(format!("{other:?} in the output")),
        }
    }
    Ok((bytes, redraws))
}

/// A client that falls behind a flood and asks for a redraw (as a dashboard does past a
/// frame's worth) is sent the screen once a frame while the flood goes on, not the flood: of
/// `seq 1 4000000`'s 29 MB, what its socket held when it asked (up to 7 MB on this kernel)
/// and the screens. A frame after the flood it is sent output again, and the log's history
/// pages join its screen with every line once. (That the output queued behind the socket is
/// dropped is `clients::skipping_drops_only_output`'s: this socket holds too much to tell.)
fn a_client_behind_a_flood_is_redrawn_and_its_history_joins(t: &Ctx) -> TestResult {
    use my_container_tui::monitor::protocol::{Event, Request};
    use my_container_tui::screen::{Pages, Screen};
    let script = "read x; seq 1 4000000; echo seq-done; read y; echo after-$y; read z; \
                  echo end-$z; exec sleep 600";
    let (id, conn) = flood_client(t, script)?;
    // The flood, not read while 3 MB of it goes by (4 MB in the log's JSON).
    my_container_tui::client::send_input(&conn, b"go\r").map_err(|e| e.to_string())?;
    log_holds(&id, 4 << 20)?;
    conn.send(&Request::Redraw).map_err(|e| e.to_string())?;
    let mut before = 0;
    loop {
        match next(&conn)? {
            Event::Skipped => break,
            Event::Output(_, bytes) => before += bytes.len(),
            _ => {}
        }
    }
    let mut screen = Screen::new(24, 80, 100_000);
    let (flooded, redraws) = follow(&conn, &mut screen, |s| {
        s.vt().contents().contains("seq-done")
    })?;
    ensure(
        redraws >= 1,
        "one redraw only, while the flood went on for more than a second",
    )?;
    ensure(
        before + flooded < 14_000_000,
        format!(
            "{before} bytes of output before the redraw and {flooded} in {redraws} redraws \
             after: the flood was sent on"
        ),
    )?;
    my_container_tui::client::send_input(&conn, b"7\r").map_err(|e| e.to_string())?;
    follow(&conn, &mut screen, |s| {
        s.vt().contents().contains("after-7")
    })?;
    // A frame without output: the output comes again, not redraws.
    std::thread::sleep(std::time::Duration::from_millis(200));
    my_container_tui::client::send_input(&conn, b"8\r").map_err(|e| e.to_string())?;
    let (_, redraws) = follow(&conn, &mut screen, |s| s.vt().contents().contains("end-8"))?;
    ensure_eq(redraws, 0)?;
    // Two pages back from the last redraw, as the dashboard asks for them.
    let mut pages = Pages::default();
    for _ in 0..2 {
        conn.send(&Request::History).map_err(|e| e.to_string())?;
        loop {
            match next(&conn)? {
                Event::History(part) => pages.part(&part),
                Event::HistoryEnd { start } => {
                    pages.end(&mut screen, start);
                    break;
                }
                _ => {}
            }
        }
    }
    let lines: Vec<String> = screen
        .text_lines()
        .iter()
        .map(|l| l.trim_end().to_string())
        .collect();
    let done = lines.iter().position(|l| l == "seq-done").ok_or(format!(
        "no seq-done in {:?}",
        &lines[lines.len().saturating_sub(30)..]
    ))?;
    ensure(done > 20_000, format!("only {done} lines above seq-done"))?;
    // Every line above it is the one before the next, from the oldest kept to 4000000.
    let numbers: Vec<u32> = lines[..done]
        .iter()
        .skip_while(|l| l.parse::<u32>().is_err())
        .map(|l| l.parse().map_err(|_| format!("{l:?} among the numbers")))
        .collect::<Result<_, _>>()?;
    ensure_eq(numbers.last().copied(), Some(4_000_000))?;
    for pair in numbers.windows(2) {
        ensure_eq(pair[1], pair[0] + 1)?;
    }
    let below = &lines[done + 1..];
    ensure(
        below.iter().any(|l| l == "after-7") && below.iter().any(|l| l == "end-8"),
        format!("the output after the flood is not below it: {below:?}"),
    )?;
    t.verb(&["rm", "-f", &id])?.success()?;
    Ok(())
}

/// A client redrawn through a flood that asks for a mark (a dashboard whose user scrolls
/// back, or whose flood is over) is sent a last redraw, the mark, and then every byte: copy
/// mode must see each line.
fn a_redrawn_client_that_marks_is_sent_every_byte_after(t: &Ctx) -> TestResult {
    use my_container_tui::monitor::protocol::{Event, Request};
    let (id, conn) = flood_client(t, "read x; seq 1 3000000; echo seq-done; exec sleep 600")?;
    my_container_tui::client::send_input(&conn, b"go\r").map_err(|e| e.to_string())?;
    log_holds(&id, 1 << 20)?;
    conn.send(&Request::Redraw).map_err(|e| e.to_string())?;
    // Redrawn twice: the flood is being paced.
    let mut redraws = 0;
    while redraws < 2 {
        if next(&conn)? == Event::Skipped {
            redraws += 1;
        }
    }
    conn.send(&Request::Mark).map_err(|e| e.to_string())?;
    while next(&conn)? != Event::Marked {}
    let mut after = Vec::new();
    while !after.ends_with(b"seq-done\r\n") {
        match next(&conn)? {
            Event::Output(_, bytes) => after.extend_from_slice(&bytes),
            other => return Err(format!("{other:?} after the mark").into()),
        }
    }
    let text = String::from_utf8_lossy(&after);
    let mut lines: Vec<&str> = text.split("\r\n").collect();
    lines.pop();
    ensure_eq(lines.pop(), Some("seq-done"))?;
    // The first line may have begun before the mark.
    let numbers: Vec<u32> = lines[1..]
        .iter()
        .map(|l| l.parse().map_err(|_| format!("{l:?} among the numbers")))
        .collect::<Result<_, _>>()?;
    ensure(
        numbers.len() > 1000,
        format!("only {} lines after the mark", numbers.len()),
    )?;
    ensure_eq(numbers.last().copied(), Some(3_000_000))?;
    for pair in numbers.windows(2) {
        ensure_eq(pair[1], pair[0] + 1)?;
    }
    t.verb(&["rm", "-f", &id])?.success()?;
    Ok(())
}
