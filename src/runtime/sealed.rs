//! This binary as a container may see it: sealed, so that nothing inside can write to the
//! host's file through `/proc/PID/exe` (CVE-2019-5736).
//!
//! Every process of ours that a container can reach calls [`enter`] first: `exec`, the OCI
//! runtime's `create`, `run` and `exec` (a bundle's init stays parked as this binary until
//! `start`), and the helper of a container whose PID 1 stays this binary (`--init`; see
//! `launch::SEAL_VAR` for why the others need no copy).
//! It re-executes the process from a copy nothing can write to, then makes it non-dumpable,
//! so a process in the container is refused `/proc/PID/exe` (without `CAP_SYS_PTRACE`) and,
//! with that capability, reaches only the sealed copy. Non-dumpable alone would do while no
//! window exists; the sealed copy is for the window nobody saw (runc's fix of 2019, and its
//! overlayfs form of 2024).
//!
//! Two forms, the first that works:
//! - **A read-only overlayfs** made with the new mount API and never attached anywhere: its
//!   lower layers are the binary's directory and an empty one, and the binary is opened
//!   through it. Nothing is copied (O(1) in the binary's size) and nothing is charged to
//!   anyone's memory; a write through it is `EROFS`. The mount lives as long as the file.
//! - **A sealed memfd** (`F_SEAL_WRITE`, `F_SEAL_SHRINK`, `F_SEAL_GROW`, `F_SEAL_SEAL`): a
//!   copy of the binary in memory, for kernels without `lowerdir+` or a binary on a file
//!   system overlayfs cannot stack on. It costs the binary's size per process while it runs.
//!
//! If neither can be made (a kernel refusing both), the process goes on non-dumpable, which
//! closes the hole by itself; the sealed copy is defence in depth.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

/// Set across the re-exec so that a kernel we misread cannot make it a loop.
const REEXECUTED: &str = "_MCT_SEALED_EXE";

/// Re-executes this process from a sealed copy of its binary unless it already runs from
/// one, then makes it non-dumpable. Returns only in the sealed process (or, if no copy can
/// be made, in this one, non-dumpable).
///
/// Call it before the process starts a thread: it changes the environment.
pub fn enter() {
    let again = std::env::var_os(REEXECUTED).is_some();
    if again {
        // SAFETY: called before any thread starts (this function's contract).
        unsafe { std::env::remove_var(REEXECUTED) };
    }
    if !again
        && !is_sealed()
        && let Some(copy) = overlay_copy().or_else(memfd_copy)
    {
        reexec(&copy);
    }
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// True when `/proc/self/exe` cannot be written through: a memfd sealed against writes, or a
/// file on a read-only mount.
pub fn is_sealed() -> bool {
    let Ok(exe) = std::fs::File::open("/proc/self/exe") else {
        return false;
    };
    is_sealed_file(&exe)
}

fn is_sealed_file(file: &std::fs::File) -> bool {
    // SAFETY: F_GET_SEALS reads the descriptor's seals; on anything but a memfd it fails.
    let seals = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GET_SEALS) };
    if seals >= 0 {
        return seals & libc::F_SEAL_WRITE != 0 && seals & libc::F_SEAL_SEAL != 0;
    }
    nix::sys::statvfs::fstatvfs(file)
        .is_ok_and(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// The binary, opened through a read-only overlay of its directory that is mounted nowhere.
fn overlay_copy() -> Option<OwnedFd> {
    let path = std::fs::read_link("/proc/self/exe").ok()?;
    let (dir, name) = (path.parent()?, path.file_name()?);
    // overlayfs wants two lower layers when it has no upper one: the second is the root of
    // an empty tmpfs that is mounted nowhere either, so nothing is ever named on the host (a
    // directory made for it would be left behind by a SIGKILL at the wrong moment).
    let empty = super::mounts::detached_empty_tmpfs().ok()?;
    let empty_path = std::path::PathBuf::from(format!("/proc/self/fd/{}", empty.as_raw_fd()));
    let mount = super::mounts::read_only_overlay(&[dir, &empty_path]).ok()?;
    drop(empty);
    let name = CString::new(name.as_encoded_bytes()).ok()?;
    // SAFETY: `mount` is a mount's root descriptor, `name` NUL-terminated; the result is a
    // new descriptor we own.
    let fd = unsafe {
        libc::openat(
            mount.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: a new descriptor, ours alone.
    let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    is_sealed_file(&file).then(|| file.into())
}

/// A sealed in-memory copy of the binary.
fn memfd_copy() -> Option<OwnedFd> {
    const MFD_EXEC: libc::c_uint = 0x10;
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    let name = c"my-container-tui";
    // SAFETY: `name` is NUL-terminated; the flags are memfd_create's. MFD_EXEC (Linux 6.3)
    // asks for an executable memfd where vm.memfd_noexec would otherwise refuse it; older
    // kernels reject the flag, and then every memfd is executable.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_EXEC) };
    if fd < 0 {
        // SAFETY: as above, without MFD_EXEC.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return None;
    }
    // SAFETY: a new descriptor, ours alone.
    let memfd = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let mut exe = std::fs::File::open("/proc/self/exe").ok()?;
    std::io::copy(&mut exe, &mut &memfd).ok()?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS on our memfd, made with MFD_ALLOW_SEALING.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return None;
    }
    Some(memfd.into())
}

/// `execveat(copy, "", argv, environ + REEXECUTED, AT_EMPTY_PATH)`: this process again, from
/// the copy, with the same arguments. Returns only if the kernel refused.
fn reexec(copy: &OwnedFd) {
    let cstrings = |items: Vec<OsString>| -> Option<Vec<CString>> {
        items
            .into_iter()
            .map(|s| CString::new(s.into_vec()).ok())
            .collect()
    };
    let Some(args) = cstrings(std::env::args_os().collect()) else {
        return;
    };
    let env: Vec<OsString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut pair = k;
            pair.push("=");
            pair.push(v);
            pair
        })
        .chain(std::iter::once(OsString::from(format!("{REEXECUTED}=1"))))
        .collect();
    let Some(env) = cstrings(env) else {
        return;
    };
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = env
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: `copy` is an executable file's descriptor; argv and envp are NULL-terminated
    // arrays of NUL-terminated strings that outlive the call, which returns only on failure.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            copy.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
}
