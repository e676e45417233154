//! A process named so that a reused PID is never mistaken for it: its PID and its start time
//! (clock ticks after boot, `/proc/PID/stat` field 22), which together are unique for as long
//! as the machine runs.

use serde::{Deserialize, Serialize};

/// One process, for as long as it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: i32,
    pub start: u64,
}

impl Process {
    /// The process with this PID now, if there is one.
    pub fn of(pid: i32) -> Option<Process> {
        let stat = super::kernfile::read(format!("/proc/{pid}/stat")).ok()?;
        let (state, start) = parse_stat(&stat)?;
        (state != 'Z' && state != 'X').then_some(Process { pid, start })
    }

    /// The calling process.
    pub fn me() -> Process {
        Process::of(std::process::id() as i32).unwrap_or(Process {
            pid: std::process::id() as i32,
            start: 0,
        })
    }

    /// True while this very process runs (not a zombie, not a later one with its PID).
    pub fn alive(&self) -> bool {
        Process::of(self.pid).is_some_and(|now| now.start == self.start)
    }
}

/// The PID 1 of a container that process `ancestor` started: the first process at most two
/// generations below it that lives in a PID namespace other than its own (a launcher's
/// helper's child, or a monitor's helper's child; the helper's cleaner stays in ours).
pub fn pid1_below(ancestor: Process) -> Option<Process> {
    let children = |pid: i32| -> Vec<i32> {
        super::kernfile::read(format!("/proc/{pid}/task/{pid}/children"))
            .map(|s| {
                s.split_whitespace()
                    .filter_map(|c| c.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let pid_ns = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    // A rootless helper is not dumpable and its user namespace is not ours: its user may
    // not read its namespaces, but it is always in its launcher's PID namespace, which is
    // ours (it made a new one for its child alone).
    let own = pid_ns(ancestor.pid).or_else(|| std::fs::read_link("/proc/self/ns/pid").ok())?;
    if !ancestor.alive() {
        return None;
    }
    let first = children(ancestor.pid);
    let second = first.iter().flat_map(|&c| children(c));
    first
        .iter()
        .copied()
        .chain(second)
        .find(|&c| pid_ns(c).is_some_and(|ns| ns != own))
        .and_then(Process::of)
}

/// (state, start time) from a `/proc/PID/stat` line. The command name in parentheses may hold
/// spaces and parentheses itself (a container names its processes as it likes), so the fields
/// are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 3 is the state; the start time is field 22.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_cannot_shift_the_fields() {
        let line = "42 (a) b) S) R 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 1000 10";
        assert_eq!(parse_stat(line), Some(('R', 777)));
        assert_eq!(parse_stat("42 (x"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_is_not() {
        let me = Process::me();
        assert!(me.alive());
        let other = Process {
            start: me.start + 1,
            ..me
        };
        assert!(!other.alive(), "a reused PID is another process");
    }
}
