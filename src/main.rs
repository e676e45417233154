use my_container_tui::{cli, image, monitor, oci, runtime, state};

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
    if std::env::args_os().nth(1).as_deref() == Some(runtime::net::holder::HOLDER_ARG.as_ref()) {
        runtime::net::holder::main();
    }
    if std::env::args_os().nth(1).as_deref() == Some(runtime::inspect::LOOK_ARG.as_ref()) {
        runtime::inspect::look_main();
    }
    if std::env::args_os().nth(1).as_deref() == Some(state::as_root::AS_ROOT_ARG.as_ref()) {
        as_root();
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

/// `my-container-tui __as-root TASK ARG` ([`state::as_root::command`]): enters the user's
/// namespace, single-threaded, and does the task. Only a rootless user's processes start it.
fn as_root() -> ! {
    use state::as_root::Task;
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(2).collect();
    let (Some(task), Some(arg), 2) = (
        args.first().and_then(|t| t.to_str()).and_then(Task::parse),
        args.get(1),
        args.len(),
    ) else {
        std::process::exit(runtime::exit::RUNTIME_ERROR);
    };
    if !state::owner::rootless() {
        std::process::exit(runtime::exit::RUNTIME_ERROR);
    }
    let done = runtime::rootless::enter().and_then(|()| match task {
        Task::RemoveFs => runtime::reclaim::remove_fs_task(arg),
        Task::RemoveStaged => image::store::remove_staged_task(arg),
        Task::RemoveVolume => state::volumes::remove_task(arg),
        Task::Unpack => image::unpack::unpack_task(arg),
        Task::WriteUpper => image::commit::write_upper_task(arg),
        Task::Diff => image::changes::listing_task(arg),
    });
    if let Err(e) = done {
        runtime::exit::print_error(&format!("{e:#}"));
        std::process::exit(runtime::exit::RUNTIME_ERROR);
    }
    std::process::exit(0)
}
