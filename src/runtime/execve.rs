//! Finding the user's command in the container's `PATH` and executing it, with failures
//! classified as shells and Docker do: 127 not found, 126 found but not executable.

use super::exit::{NOT_EXECUTABLE, NOT_FOUND, RUNTIME_ERROR};
use nix::errno::Errno;
use nix::unistd::execve;
use std::ffi::CString;

/// Where `name` is looked for: itself when it has a slash, else in each directory of `path`
/// (a `PATH` value; an empty entry is the current directory), in order.
fn candidates(name: &str, path: &str) -> Vec<String> {
    if name.contains('/') {
        return vec![name.to_string()];
    }
    path.split(':')
        .map(|dir| if dir.is_empty() { "." } else { dir })
        .map(|dir| format!("{dir}/{name}"))
        .collect()
}

/// `PATH` of an environment list (none: no search path).
pub fn path_of(env: &[String]) -> String {
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("")
        .to_string()
}

/// Finds the command before it is exec'd, as runc does before `create` returns, so a missing
/// one fails there rather than in the container.
pub fn look_up(argv: &[String], path: &str) -> Result<(), String> {
    use nix::unistd::{AccessFlags, access};
    let name = &argv[0];
    let found = |p: &str| {
        let p = std::path::Path::new(p);
        p.is_file() && access(p, AccessFlags::X_OK).is_ok()
    };
    match (
        candidates(name, path).iter().any(|c| found(c)),
        name.contains('/'),
    ) {
        (true, _) => Ok(()),
        (false, true) => Err(format!("exec: {name:?}: no such file or directory")),
        (false, false) => Err(format!(
            "exec: {name:?}: executable file not found in $PATH"
        )),
    }
}

/// Replaces this process with `argv`, searching `path` (a `PATH` value) when `argv[0]` has no
/// slash. Returns only on failure, with the exit code and a message that names the command.
pub fn exec(argv: &[String], env: &[String], path: &str) -> (i32, String) {
    let cstrings = |v: &[String]| -> Option<Vec<CString>> {
        v.iter().map(|s| CString::new(s.as_bytes()).ok()).collect()
    };
    let (Some(c_argv), Some(c_env)) = (cstrings(argv), cstrings(env)) else {
        return (
            RUNTIME_ERROR,
            "argument or environment contains a NUL byte".into(),
        );
    };
    let name = &argv[0];
    let candidates = candidates(name, path);
    let mut denied = None;
    for candidate in &candidates {
        let Ok(file) = CString::new(candidate.as_bytes()) else {
            continue;
        };
        let Err(err) = execve(&file, &c_argv, &c_env);
        match err {
            Errno::ENOENT | Errno::ENOTDIR => {}
            Errno::EACCES | Errno::EPERM | Errno::ENOEXEC | Errno::EISDIR => {
                denied.get_or_insert(err);
            }
            other => {
                return (
                    RUNTIME_ERROR,
                    format!("{name}: cannot execute: {}", other.desc()),
                );
            }
        }
    }
    match denied {
        Some(Errno::ENOEXEC) => (
            NOT_EXECUTABLE,
            format!("{name}: cannot execute: exec format error"),
        ),
        Some(_) => (
            NOT_EXECUTABLE,
            format!("{name}: permission denied (not an executable file)"),
        ),
        None if name.contains('/') => (NOT_FOUND, format!("{name}: no such file or directory")),
        None => (NOT_FOUND, format!("{name}: command not found")),
    }
}
