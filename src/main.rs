use my_container_tui::{cli, monitor, runtime};

fn main() {
    // The re-exec helper is checked first and by hand: it must start fast and single-threaded.
    if std::env::args_os().nth(1).as_deref() == Some(runtime::launch::HELPER_ARG.as_ref()) {
        runtime::helper::main();
    }
    if std::env::args_os().nth(1).as_deref() == Some(monitor::MONITOR_ARG.as_ref()) {
        monitor::main();
    }
    std::process::exit(cli::main());
}
