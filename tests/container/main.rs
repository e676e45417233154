//! End-to-end tests of the real binary: real namespaces, real ptys, as root.
//!
//! Run with `cargo test` as root. Not as root, every test here is reported as ignored with the
//! reason; CI runs as root and fails if any was ignored.

mod containment;
mod cri;
mod dashboard;
mod docker;
mod errors;
mod hardening;
mod hostile;
mod images;
mod isolation;
mod lifecycle;
mod limits;
mod made;
mod network;
mod oci;
mod panes;
mod registry;
mod rootfs;
mod rootless;
mod seed;
mod signals;
mod status;
mod stdio;
mod support;
mod tmux;
mod tty;
mod userns;
mod world;

/// The command line, as cargo's own harness takes it: several names select the tests whose
/// names contain any of them (libtest-mimic takes one); everything else is libtest-mimic's.
fn arguments() -> (libtest_mimic::Arguments, Vec<String>) {
    const WITH_VALUE: [&str; 6] = [
        "--test-threads",
        "--skip",
        "--logfile",
        "--color",
        "--format",
        "-Z",
    ];
    let mut rest = Vec::new();
    let mut names = Vec::new();
    let mut argv = std::env::args();
    rest.extend(argv.next());
    while let Some(arg) = argv.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            rest.push(arg);
            rest.extend(argv.next());
        } else if arg.starts_with('-') {
            rest.push(arg);
        } else {
            names.push(arg);
        }
    }
    (libtest_mimic::Arguments::from_iter(rest), names)
}

/// The programs and files in `tests/requirements` this host lacks, each with the package
/// that provides it.
fn missing_requirements() -> Vec<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = |program: &str| match program.starts_with('/') {
        true => std::path::Path::new(program).exists(),
        false => std::env::split_paths(&path).any(|dir| dir.join(program).is_file()),
    };
    include_str!("../requirements")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .filter(|(program, _)| !found(program))
        .map(|(program, package)| format!("{program} ({package})"))
        .collect()
}

fn main() {
    let (args, names) = arguments();
    if support::is_root() {
        let missing = missing_requirements();
        if !missing.is_empty() {
            eprintln!(
                "the tests need what this host lacks: {}; install it with: bash tests/prepare.sh",
                missing.join(", ")
            );
            std::process::exit(101);
        }
    }
    let trials: Vec<libtest_mimic::Trial> = [
        seed::tests(),
        isolation::tests(),
        status::tests(),
        stdio::tests(),
        signals::tests(),
        tty::tests(),
        limits::tests(),
        rootfs::tests(),
        hardening::tests(),
        containment::tests(),
        userns::tests(),
        rootless::tests(),
        errors::tests(),
        lifecycle::tests(),
        network::tests(),
        dashboard::tests(),
        panes::tests(),
        oci::tests(),
        cri::tests(),
        hostile::tests(),
        made::tests(),
        docker::tests(),
        // Last: the heaviest (unpacking, pushing) start once the timing-sensitive lifecycle
        // tests are done.
        images::tests(),
    ]
    .into_iter()
    .flatten()
    .filter(|t| {
        names.is_empty()
            || names.iter().any(|n| match args.exact {
                true => t.name() == n,
                false => t.name().contains(n.as_str()),
            })
    })
    .collect();
    let _ = std::fs::create_dir_all(support::scratch_root());
    let mut temp_before = support::temp_entries();
    // The events journal is the host's, and lives as long as any container does: with other
    // containers on the host (another namespace's, a user's), it is theirs to keep, whether
    // or not one of their events had made it yet. Without, it must go with our last one.
    if temp_before
        .iter()
        .any(|e| e.starts_with("/run/my-container-tui/containers"))
    {
        temp_before.insert("/run/my-container-tui/events.json".to_string());
    }
    let ip_forward_before = support::ip_forward();
    // Other containers on the host (another namespace's, a user's) keep their cgroups, and
    // with them our parent directory: only what was not there before counts.
    let cgroups_before = support::our_cgroup_dirs();
    // Likewise their network: the bridge, veths, table and lease record they hold.
    let network_before = support::network_leftovers(&ip_forward_before);
    // The OCI tests' containerds make /run/containerd when the host has none.
    let containerd_dir = std::path::Path::new("/run/containerd");
    let containerd_before = containerd_dir.exists();
    // The default store: every test that makes images or volumes has a store of its own, and a
    // verb that only reads (`images`, `rmi`, `history`) must not make one.
    let default_store = std::path::Path::new("/var/lib/my-container-tui");
    let default_store_before = default_store.exists();
    let conclusion = libtest_mimic::run(&args, trials);
    // Ours alone: it goes when the tests leave it empty.
    let _ = std::fs::remove_dir(support::FALLBACK_SCRATCH);
    // A cleaner (nice 19) may still be finishing its last rmdir as the last test returns: an
    // entry counts as left behind only if it is still there after the whole patience, as
    // cgroups below.
    let left_now = || -> Vec<_> {
        support::temp_entries()
            .difference(&temp_before)
            .cloned()
            .collect()
    };
    // A record whose owner was killed (the tests kill CLIs on purpose) is repaired by whoever
    // looks next, as the tool promises: the harness looks once, as a user's `ps` would.
    if support::is_root() {
        let _ = std::process::Command::new(support::BIN)
            .args(["ps", "-a"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let _ = support::wait_until("our temporary entries to be removed", || {
        left_now().is_empty()
    });
    if !left_now().is_empty() && support::is_root() {
        // Known race, not yet found (see the closing note of issue 10): an empty container
        // directory (0755, as `tree::prepare` makes it) is sometimes left by a run early in
        // the suite, and removed by the next cleaner's sweep once older than the store's
        // 30 s grace. Start one container, as the next user would, and hold the sweep to it.
        let _ = std::process::Command::new(support::BIN)
            .args(["--run", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = support::wait_until("the sweep to remove them", || left_now().is_empty());
    }
    if support::is_root() && !default_store_before && default_store.exists() {
        eprintln!(
            "left behind: {} (a test made the default store)",
            default_store.display()
        );
        std::process::exit(101);
    }
    if !containerd_before && containerd_dir.exists() {
        eprintln!("left behind: /run/containerd (the OCI tests' containerds made it)");
        std::process::exit(101);
    }
    let left = left_now();
    if !left.is_empty() {
        eprintln!("left behind: {left:?}");
        std::process::exit(101);
    }
    let cgroups_left = || -> Vec<_> {
        support::our_cgroup_dirs()
            .difference(&cgroups_before)
            .cloned()
            .collect()
    };
    let cgroups_gone = || cgroups_left().is_empty();
    if support::is_root() && support::wait_until("our cgroups to be removed", cgroups_gone).is_err()
    {
        eprintln!("cgroups left behind: {:?}", cgroups_left());
        std::process::exit(101);
    }
    // The host's network as the suite found it: no bridge, veth, table or lease record of ours
    // (the network tests make theirs in worlds of their own; every other bridged run here
    // used the host's) but what other containers held before, and ip_forward back to what it
    // was.
    let mut network_left = Vec::new();
    if support::is_root()
        && support::wait_until("our network to be taken down", || {
            network_left = support::network_leftovers(&ip_forward_before);
            network_left.retain(|l| !network_before.contains(l));
            network_left.is_empty()
        })
        .is_err()
    {
        eprintln!("network left behind: {network_left:?}");
        std::process::exit(101);
    }
    conclusion.exit();
}
