//! Names users give: containers, volumes and networks share Docker's one rule.

/// Checks a name given with `--name` or `rename` (Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn validate_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= 128;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))
    }
}

/// 32 random bytes in hex, as Docker's ids: a container's, an anonymous volume's name.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    // getrandom(2) blocks only before the pool is ready at boot, and never fails for 32 bytes
    // once it is; a shortfall is filled from the clock and PID rather than failing.
    // SAFETY: the buffer is ours and as long as we say.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n < bytes.len() as isize {
        let salt = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            ^ (u64::from(std::process::id()) << 32);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b ^= (salt >> ((i % 8) * 8)) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
