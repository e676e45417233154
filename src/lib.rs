//! my-container-tui: a Linux container shell manager.
//!
//! The layers, each using only those below it (`tests/layers.rs` holds every import to it):
//!
//! - [`spec`]: plain data, nothing of ours imported: [`spec::ContainerSpec`] and its parts,
//!   and the one table of run options ([`spec::options`]) the CLI, the dashboard's form and
//!   README's option table come from.
//! - [`state`]: what the host knows of its containers: records, ids, names, volumes, pins.
//! - [`runtime`]: starting containers (the re-exec helper; [`runtime::process`], the one init
//!   and the one way into a running container; mounts, cgroups, network, hardening; the
//!   [`runtime::sys`] seam) and releasing what they held ([`runtime::reclaim`]).
//! - [`image`], [`oci`], [`monitor`]: images and registries; runc's command line over an OCI
//!   bundle, for containerd; the per-container process that outlives its launcher.
//! - [`client`], [`session`]: the monitor's other side; one dashboard session with its
//!   emulated screen.
//! - [`headless`], [`tui`]: `--run` and `run -d`; the dashboard, which asks the host through
//!   [`tui::backend`].
//! - [`cli`]: arguments into a run or a lifecycle verb.

pub mod cast;
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
