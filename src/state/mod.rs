//! What the host knows of its containers, and the one owner of ids, liveness and clean-up.
//!
//! [`tree`] is the directory everything lives in; [`record`] is one container's record;
//! [`store`] makes, finds, changes, repairs and removes records; [`process`] names a process
//! so that a reused PID is never mistaken for it.

pub mod as_root;
pub mod events;
pub mod idmaps;
pub mod kernfile;
pub mod name_index;
pub mod owner;
pub mod pins;
pub mod process;
pub mod record;
pub mod store;
pub mod tree;
pub mod volumes;

pub use process::Process;
pub use record::{Record, Status};
