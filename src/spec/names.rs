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
