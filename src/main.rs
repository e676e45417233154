use my_container_tui::{cli, monitor, oci, runtime, state};

fn main() {
    // Whom we work for is settled now, before any of our processes can be root of a user
    // namespace that would make it look like root (state::owner).
    state::owner::rootless();
    // The re-exec helper is checked first and by hand: it must start fast and single-threaded.
    if std::env::args_os().nth(1).as_deref() == Some(runtime::launch::HELPER_ARG.as_ref()) {
        // See launch::SEAL_VAR for when the helper needs a sealed copy.
        if std::env::var_os(runtime::launch::SEAL_VAR).is_some() {
            runtime::sealed::enter();
        }
        runtime::helper::main();
    }
    if std::env::args_os().nth(1).as_deref() == Some(monitor::MONITOR_ARG.as_ref()) {
        monitor::main();
    }
    if std::env::args_os().nth(1).as_deref() == Some(runtime::reclaim::REMOVE_FS_ARG.as_ref()) {
        let id = std::env::args().nth(2).unwrap_or_default();
        runtime::reclaim::remove_fs_main(&id);
    }
    if std::env::args_os().nth(1).as_deref() == Some(runtime::reclaim::SWEEP_ARG.as_ref()) {
        runtime::reclaim::sweep_main();
    }
    // As `mct-runc` (or `my-container-tui oci ...`), runc's command line, for containerd.
    if oci::invoked_as_runc() {
        std::process::exit(oci::main(std::env::args_os().collect()));
    }
    if std::env::args_os().nth(1).as_deref() == Some("oci".as_ref()) {
        std::process::exit(oci::main(std::env::args_os().skip(1).collect()));
    }
    std::process::exit(cli::main());
}
