//! Bad input: a clear one-line error, exit 125, and nothing left behind.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::Trial;

pub fn tests() -> Vec<Trial> {
    root_tests![
        not_root_says_sudo_is_needed,
        unknown_flag,
        empty_command,
        bad_environment_variable,
        bad_hostname,
        missing_working_directory,
        dashboard_without_a_terminal,
        kernel_without_a_namespace,
    ]
}

/// Run as `nobody`, from a copy of the binary that `nobody` can reach wherever the checkout is.
fn not_root_says_sudo_is_needed(t: &Ctx) -> TestResult {
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("nonroot")?;
    let bin = dir.path().join("my-container-tui");
    std::fs::copy(BIN, &bin).map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["-e", &t.marker(), "--run", "true"])
        .current_dir("/")
        .uid(65534)
        .gid(65534);
    // Another test thread may fork while our copy's write descriptor is open (it is
    // close-on-exec, but open in that child until it execs): the exec then fails with ETXTBSY
    // for a moment. Retry that, and only that.
    let mut tries = 0;
    let out = loop {
        match run(std::mem::replace(&mut cmd, std::process::Command::new("/"))) {
            Err(e) if e.message().is_some_and(|m| m.contains("Text file busy")) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
                cmd = std::process::Command::new(&bin);
                cmd.args(["-e", &t.marker(), "--run", "true"])
                    .current_dir("/")
                    .uid(65534)
                    .gid(65534);
            }
            other => break other?,
        }
    };
    let out = out.expect_code(125)?;
    // nobody has no subordinate ids (the suite's rootless user has: rootless.rs).
    out.one_line_error("run as root (sudo)")?;
    ensure(
        out.stderr.contains("sudo"),
        "the message says sudo is needed",
    )
}

fn unknown_flag(t: &Ctx) -> TestResult {
    let out = t.run(&["--bogus", "--run", "true"])?.expect_code(125)?;
    out.one_line_error("'--bogus'")?;
    let out = t.run(&["run", "--bogus", "true"])?.expect_code(125)?;
    out.one_line_error("'--bogus'")
}

fn empty_command(t: &Ctx) -> TestResult {
    t.run(&["--run", ""])?
        .expect_code(125)?
        .one_line_error("empty")?;
    t.run(&["--run"])?
        .expect_code(125)?
        .one_line_error("--run")?;
    t.run(&["run"])?
        .expect_code(125)?
        .one_line_error("required")
}

fn bad_environment_variable(t: &Ctx) -> TestResult {
    t.run(&["-e", "=value", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("invalid environment variable")?;
    t.run(&["-e", "A B=1", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("invalid environment variable")
}

fn bad_hostname(t: &Ctx) -> TestResult {
    let long = "a".repeat(65);
    t.run(&["--hostname", &long, "--run", "true"])?
        .expect_code(125)?
        .one_line_error("limit is 64")?;
    t.run(&["--hostname", "bad_name", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("invalid hostname")?;
    t.run(&["--hostname", "", "--run", "true"])?
        .expect_code(125)?
        .one_line_error("empty")
}

fn missing_working_directory(t: &Ctx) -> TestResult {
    let out = t
        .run(&["-w", "/no/such/dir", "--run", "true"])?
        .expect_code(125)?;
    out.one_line_error("working directory /no/such/dir: No such file or directory")
}

/// No command means the dashboard, which needs a terminal: without one, a clear error.
fn dashboard_without_a_terminal(t: &Ctx) -> TestResult {
    t.run(&[])?
        .expect_code(125)?
        .one_line_error("the dashboard needs a terminal")
}

/// A kernel built without a namespace answers `unshare` with EINVAL. A seccomp filter makes
/// this kernel answer so for one namespace flag at a time, in the tool and all it starts.
fn kernel_without_a_namespace(t: &Ctx) -> TestResult {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule,
    };
    use std::os::unix::process::CommandExt;
    for (flag, name) in [
        (libc::CLONE_NEWPID, "pid"),
        (libc::CLONE_NEWNET, "net"),
        (libc::CLONE_NEWCGROUP, "cgroup"),
    ] {
        let flag = flag as u64;
        let only_flag = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )
        .and_then(|c| SeccompRule::new(vec![c]))
        .map_err(|e| e.to_string())?;
        let filter = SeccompFilter::new(
            [(libc::SYS_unshare, vec![only_flag])].into_iter().collect(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EINVAL as u32),
            std::env::consts::ARCH
                .try_into()
                .map_err(|_| "unknown architecture")?,
        )
        .map_err(|e| e.to_string())?;
        let program: BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| e.to_string())?;
        let mut cmd = t.tool(&["--run", "true"]);
        // SAFETY: the closure only makes the prctl and seccomp syscalls, on a program built before fork.
        unsafe {
            cmd.pre_exec(move || {
                seccompiler::apply_filter(&program).map_err(std::io::Error::other)
            });
        }
        let out = run(cmd)?.expect_code(125)?;
        out.one_line_error(&format!(
            "cannot create a {name} namespace: this kernel lacks support for it"
        ))?;
    }
    Ok(())
}
