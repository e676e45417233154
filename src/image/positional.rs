//! Docker's `run IMAGE [CMD]` beside the seed's `run CMD`, decided one way for the command line
//! and the dashboard's form: [`crate::spec::run::names_image`]'s rule with this store asked
//! about a bare name, and the one line a user gets when the word named neither a command nor
//! an image.

use super::reference::Ref;
use crate::spec::options::{Built, OptionError, Run};

/// Whether the store (if this host has one) holds an image `word` names, for any platform:
/// by a tag or digest its record lists, or by its id (12 hex digits or more). Asked on every
/// `run WORD` whose word could be either, so it only reads: the records' directory, and each
/// record's bytes searched for the quoted reference (no store opened, no JSON parsed).
pub fn in_store(word: &str) -> bool {
    let dir = crate::state::volumes::root().join("image").join("images");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let quoted = Ref::parse(word).ok().map(|r| format!("\"{r}\""));
    let id = (word.len() >= 12 && word.bytes().all(|b| b.is_ascii_hexdigit())).then_some(word);
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        id.is_some_and(|id| name.to_string_lossy().starts_with(id))
            || quoted.as_ref().is_some_and(|q| {
                std::fs::read(entry.path())
                    .is_ok_and(|bytes| bytes.windows(q.len()).any(|w| w == q.as_bytes()))
            })
    })
}

/// Takes the image from the front of `words` when the first word names one (see
/// [`Run::take_image_word`]).
pub fn take(run: &mut Run, words: &mut Vec<String>) -> Result<bool, OptionError> {
    run.take_image_word(words, in_store)
}

/// Why `built`'s command cannot run from the host's files, said before anything starts (exit
/// 127), with the image the user may have meant: one in the store (they gave `--host`), or a
/// name that only a registry may have. `None` when the command is there, has a path (the
/// container reports those), or runs in a root of its own.
pub fn missing_command(built: &Built) -> Option<String> {
    let spec = &built.spec;
    if built.launch.image.is_some() || spec.rootfs.is_some() {
        return None;
    }
    // An empty command is the spec's to refuse (125), a path the container's to look up.
    let name = spec
        .command
        .first()
        .filter(|n| !n.is_empty() && !n.contains('/'))?;
    let path = crate::runtime::execve::path_of(&spec.environment());
    crate::runtime::execve::look_up(&spec.command, &path).err()?;
    // As the container would say it (a shell's words), then what may have been meant.
    let missing = format!("{}: command not found", crate::printable::escaped(name));
    Some(match (in_store(name), Ref::parse(name).is_ok()) {
        (true, _) => format!("{missing}; did you mean the image {name}? (leave out --host)"),
        (false, true) => format!(
            "{missing}, and the store has no image {name} (--image {name} pulls it; `pull {name}` first makes `run {name}` run it)"
        ),
        (false, false) => missing,
    })
}
