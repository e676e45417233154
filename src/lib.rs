//! my-container-tui: a Linux container shell manager.
//!
//! [`runtime`] starts containers (namespaces, mounts, the re-exec helper, `exec`'s setns path)
//! and knows nothing of terminal UIs; [`state`] is what the host knows of its containers (the
//! records, and the one owner of ids, liveness and clean-up); [`monitor`] is the per-container
//! process that outlives its launcher, and [`client`] its other side; [`session`] is one
//! dashboard session with its emulated screen; [`tui`] is the dashboard; [`headless`] is `--run`
//! and `run -d`; [`cli`] turns arguments into a spec or a lifecycle verb; [`oci`] is runc's
//! command line over an OCI bundle, for containerd.

pub mod cli;
pub mod client;
pub mod headless;
pub mod image;
pub mod monitor;
pub mod oci;
pub mod printable;
pub mod runtime;
pub mod screen;
pub mod session;
pub mod spec;
pub mod state;
pub mod tui;
