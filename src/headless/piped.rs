//! Without a terminal: this process becomes the container's helper itself. The container
//! inherits our stdin, stdout and stderr file descriptors, so bytes pass through untouched and
//! end-of-file reaches it as it is.

use crate::runtime::ContainerSpec;
use crate::runtime::helper;

/// Never returns: exits with the container's status.
pub fn run(spec: &ContainerSpec) -> ! {
    // Nothing in the CLI has started a thread, so forking here is safe.
    helper::contain(spec)
}
