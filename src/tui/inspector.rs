//! The inspector's own thread: it looks at the selected container about once a second (and at
//! once when the selection changes), so reading `/proc` never holds up keys or drawing. It
//! enters containers' UTS namespaces to read their hostnames, which only this thread does.

use crate::runtime::inspect::{Inspection, Users};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

const PERIOD: Duration = Duration::from_secs(1);

/// Starts the thread. Send it the session to watch, `(id, helper PID)` or `None`; it calls
/// `report` with each inspection. It ends when the returned sender is dropped.
pub fn spawn(
    report: impl Fn(u64, Option<Inspection>) + Send + 'static,
) -> std::io::Result<Sender<Option<(u64, i32)>>> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("inspector".into())
        .spawn(move || watch(rx, report))?;
    Ok(tx)
}

fn watch(rx: Receiver<Option<(u64, i32)>>, report: impl Fn(u64, Option<Inspection>)) {
    let users = Users::load();
    let mut target = None;
    loop {
        match rx.recv_timeout(PERIOD) {
            Ok(t) => target = t,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Some((id, helper)) = target {
            report(id, Inspection::take(helper, &users));
        }
    }
}
