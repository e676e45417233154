//! Without a terminal, stdio passes through byte for byte and end-of-file reaches the command.

use crate::root_tests;
use crate::support::*;
use libtest_mimic::{Failed, Trial};
use std::io::{Read, Write};
use std::process::Stdio;

pub fn tests() -> Vec<Trial> {
    root_tests![
        ten_mib_of_random_bytes_round_trip_exactly,
        sha256_inside_matches_the_host,
        end_of_file_reaches_the_container,
        stdout_and_stderr_stay_apart,
    ]
}

fn random_bytes(len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Feeds `input` to `args` on stdin, returning stdout's bytes and the exit code.
fn pipe_through(t: &Ctx, args: &[&str], input: Vec<u8>) -> Result<(Vec<u8>, Option<i32>), Failed> {
    let mut child = Running::spawn(t.tool(args).stdin(Stdio::piped()).stdout(Stdio::piped()))?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    writer.join().unwrap().map_err(|e| e.to_string())?;
    let status = wait_child(&mut child)?;
    Ok((out, status.code()))
}

fn ten_mib_of_random_bytes_round_trip_exactly(t: &Ctx) -> TestResult {
    let input = random_bytes(10 << 20)?;
    let (out, code) = pipe_through(t, &["--run", "cat"], input.clone())?;
    ensure_eq(code, Some(0))?;
    ensure(
        out == input,
        format!(
            "{} bytes came back, not the {} sent",
            out.len(),
            input.len()
        ),
    )
}

/// The issue's own check: `head -c 10M /dev/urandom | my-container-tui --run sha256sum`.
fn sha256_inside_matches_the_host(t: &Ctx) -> TestResult {
    let input = random_bytes(10 << 20)?;
    let (inside, code) = pipe_through(t, &["--run", "sha256sum"], input.clone())?;
    ensure_eq(code, Some(0))?;
    let mut host = std::process::Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = host.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut expected = Vec::new();
    host.stdout
        .take()
        .unwrap()
        .read_to_end(&mut expected)
        .map_err(|e| e.to_string())?;
    writer.join().unwrap().map_err(|e| e.to_string())?;
    host.wait().map_err(|e| e.to_string())?;
    ensure_eq(
        String::from_utf8_lossy(&inside),
        String::from_utf8_lossy(&expected),
    )
}

fn end_of_file_reaches_the_container(t: &Ctx) -> TestResult {
    let (out, code) = pipe_through(t, &["--run", "wc", "-c"], b"abc".to_vec())?;
    ensure_eq(code, Some(0))?;
    ensure_eq(String::from_utf8_lossy(&out).trim(), "3")
}

fn stdout_and_stderr_stay_apart(t: &Ctx) -> TestResult {
    let out = t
        .run(&["--run", "sh", "-c", "echo out; echo err >&2"])?
        .success()?;
    ensure_eq(out.stdout.as_str(), "out\n")?;
    ensure_eq(out.stderr.as_str(), "err\n")
}
