//! my-container-tui: a Linux container shell manager.
//!
//! [`runtime`] starts containers (namespaces, mounts, the re-exec helper) and knows nothing of
//! terminal UIs; [`session`] is one container on a pty with its emulated screen; [`tui`] is the
//! dashboard; [`headless`] is `--run`, relaying a container's I/O like `docker run --rm`; [`cli`]
//! turns arguments into a spec.

pub mod cli;
pub mod client;
pub mod headless;
pub mod monitor;
pub mod runtime;
pub mod session;
pub mod state;
pub mod tui;
