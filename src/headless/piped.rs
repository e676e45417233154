//! Without a terminal: this process becomes the container's helper itself. The container
//! inherits our stdin, stdout and stderr file descriptors, so bytes pass through untouched and
//! end-of-file reaches it as it is.

use crate::runtime::ContainerSpec;
use crate::runtime::helper;

/// Never returns: exits with the container's status.
pub fn run(spec: &ContainerSpec) -> ! {
    assert!(
        helper::single_threaded(),
        "the headless launcher must not have started a thread before it forks"
    );
    // SAFETY: checked just above: nothing in the CLI has started a thread.
    unsafe { helper::contain(spec, None) }
}
