//! What a long-lived process of ours keeps in memory once a container is running.
//!
//! A container's monitor and helper are this whole binary, re-executed: starting a container
//! touches some 4 MiB of its code and libc's, and each process keeps those pages mapped,
//! and counted in its resident size, for the container's whole life, though its steady
//! state (a poll loop, a wait) runs a few dozen KiB of them. [`settle`] gives back what
//! starting took: the heap's free pages, and the mappings of code and read-only data, which
//! are the page cache's (one copy for every process that maps the file). Dropped from this
//! process, a page it runs again comes back from the page cache on the next touch (a minor
//! fault); one it never runs again no longer pins the page cache, which the kernel may then
//! reclaim. A monitor's resident size goes from about 6 MiB to about 1 MiB, as conmon's.

/// How long a process waits on a container before it settles: a container that ends sooner
/// (`--run true`) is not kept waiting for [`settle`] (a read of `/proc/self/smaps`, a few
/// hundred microseconds).
pub const SETTLE_AFTER: std::time::Duration = std::time::Duration::from_millis(200);

/// Gives back the heap's free pages and this process's unmodified file-backed pages.
pub fn settle() {
    // SAFETY: malloc_trim only returns free heap pages; no pointer of ours is touched.
    unsafe { libc::malloc_trim(0) };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, end) in droppable(&smaps) {
        // SAFETY: the range is a private file mapping of code or read-only data with no page
        // of its own (`Anonymous: 0`): every page is the file's, unmodified, so a page
        // dropped reads back the same from the file when next touched, as after the kernel
        // reclaims it under memory pressure, which it may do to such pages at any time.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

/// The mappings of `/proc/self/smaps` that [`settle`] may drop: a file's (a path, not
/// `[vdso]` or the heap), private, not writable, and with no anonymous page: pages that were
/// written since (a relocated read-only-after-relocation section, a debugger's breakpoint)
/// would go back to the file's contents, so a mapping with any is kept whole.
fn droppable(smaps: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            let private_read_only = perms.starts_with('r')
                && perms.as_bytes().get(1) == Some(&b'-')
                && perms.ends_with('p');
            current = (private_read_only && path.starts_with('/')).then_some((start, end));
        } else if first == "Anonymous:"
            && let Some(range) = current.take()
            && fields.next() == Some("0")
        {
            found.push(range);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a file's private, unwritable mappings with no page of their own are dropped.
    #[test]
    fn only_unmodified_private_file_mappings_are_dropped() {
        let smaps = "\
5555aa000000-5555aa100000 r--p 00000000 08:01 42 /usr/bin/tool
Rss:                 100 kB
Anonymous:             0 kB
5555aa100000-5555aa500000 r-xp 00100000 08:01 42 /usr/bin/tool
Anonymous:             0 kB
5555aa500000-5555aa600000 r--p 00500000 08:01 42 /usr/bin/tool
Anonymous:            64 kB
5555aa600000-5555aa610000 rw-p 00600000 08:01 42 /usr/bin/tool
Anonymous:             8 kB
5555ab000000-5555ab100000 rw-p 00000000 00:00 0 [heap]
Anonymous:           512 kB
7f0000000000-7f0000100000 r-xs 00000000 08:01 43 /dev/shm/shared
Anonymous:             0 kB
7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
";
        assert_eq!(
            droppable(smaps),
            [
                (0x5555aa000000, 0x5555aa100000),
                (0x5555aa100000, 0x5555aa500000)
            ]
        );
    }

    /// The process goes on running the code it dropped.
    #[test]
    fn a_settled_process_runs_on() {
        settle();
        let text: String = (0..3).map(|i| i.to_string()).collect();
        assert_eq!(text, "012");
    }
}
