//! Reading the kernel's small text files (`/proc/PID/stat`, a cgroup's `cgroup.procs` or
//! `freezer.state`) in one read.
//!
//! Why not `std::fs::read_to_string`: these files say their size is 0 (or 4096), so std
//! probes with a 32-byte read and doubles, six reads for a 300-byte `stat`. `ps` on a host of
//! a thousand containers read each owner's `stat` and each cgroup's state that way: half of
//! its 20,000 syscalls.

use std::io::Read;
use std::path::Path;

/// The whole of `path`, read a page at a time (one read for a file under a page, and one to
/// see its end). Bytes that are not UTF-8 become U+FFFD: a process's command name (in `stat`
/// and `status`) is any bytes it chose, and a container that named its PID 1 `\xff` must not
/// make the file unreadable, and so the process dead to us (it then escaped `stop` and `rm`).
pub fn read(path: impl AsRef<Path>) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(4096);
    loop {
        let len = bytes.len();
        bytes.resize(len + 4096, 0);
        let n = file.read(&mut bytes[len..])?;
        bytes.truncate(len + n);
        if n == 0 {
            break;
        }
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    /// A file longer than a page comes whole.
    #[test]
    fn reads_past_a_page() {
        let maps = super::read("/proc/self/maps").unwrap();
        assert_eq!(
            maps.lines().count(),
            std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .count()
        );
        assert!(
            super::read("/proc/self/stat")
                .unwrap()
                .starts_with(&std::process::id().to_string())
        );
    }
}
