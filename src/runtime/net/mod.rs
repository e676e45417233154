//! A container's network: which namespace it gets (`--network`), and on a bridge its link to
//! the host, its address, its published ports and its name service files.
//!
//! - [`crate::spec::network::Network`] is the plain-data part of the spec (`--network`, `-p`, `--network-alias`).
//! - [`netlink`] talks to the kernel (links, addresses, routes); [`netns`] makes and enters
//!   namespaces from the host side.
//! - [`subnet`] is IPv4 arithmetic and the choice of a subnet no host route uses.
//! - [`leases`] is the one record of what is up (bridges, addresses, published ports), under a
//!   lock in the state tree; [`bridge`] brings a network up for a container and down after
//!   the last one; [`nat`] writes the nftables table from that record; [`dns`] the files.
//! - [`attach`] is the helper's side: everything a container's network needs before its PID 1
//!   is forked, and the release the cleaner runs after it ends.
//! - [`pasta`] is a rootless container's user-mode network; [`holder`] the namespace a rootless
//!   user's bridge networks live in, which is their "host"; [`proxy`] their published ports.

pub mod attach;
pub mod bridge;
pub mod defined;
pub mod dns;
pub mod holder;
pub mod leases;
pub mod nat;
pub mod netlink;
pub mod netns;
pub mod nftset;
pub mod pasta;
pub mod proxy;
pub mod subnet;
pub mod view;
