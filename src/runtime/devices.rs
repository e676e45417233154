//! Which device nodes a container may use: Docker's default allow list, plus `--device`.
//!
//! A container keeps `CAP_MKNOD` (as in Docker), so a node for any device can be made inside;
//! what stops it reaching the host's disks is the device controller of its cgroup, which
//! refuses to open every node not allowed here. On cgroup v1 that is the `devices` hierarchy
//! (`devices.deny`, then a [`Rule::v1_line`] each into `devices.allow`, written by the cgroups
//! module); on v2 it is a `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to the container's
//! cgroup, built from the same rules by [`bpf_program`].
//!
//! The program is assembled with rbpf's instruction builder and loaded with the `bpf(2)`
//! syscall by hand: the crates that load BPF (aya, libbpf-sys) want a compiled ELF object or
//! a C toolchain, while this program is a dozen instructions per rule. Its logic is tested in
//! rbpf's interpreter, and live against the kernel on a cgroup2 mount.

use crate::spec::device::{Device, Kind, MKNOD, READ, Rule, WRITE};
use anyhow::Context;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const fn chr(major: u32, minor: Option<u32>) -> Rule {
    Rule {
        kind: Kind::Char,
        major: Some(major),
        minor,
        access: MKNOD | READ | WRITE,
    }
}

/// The nodes every container's `/dev` holds (name, major, minor; all character devices),
/// made there by [`super::devfs`] and allowed here: one list for both.
pub const NODES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Docker's (and runc's) default: any node may be *made*, only these may be opened: the
/// [`NODES`], then `console`, `ptmx` and every pty.
pub const DEFAULT_RULES: [Rule; 11] = [
    Rule {
        kind: Kind::Char,
        major: None,
        minor: None,
        access: MKNOD,
    },
    Rule {
        kind: Kind::Block,
        major: None,
        minor: None,
        access: MKNOD,
    },
    node(0),
    node(1),
    node(2),
    node(3),
    node(4),
    node(5),
    chr(5, Some(1)), // console
    chr(5, Some(2)), // ptmx
    chr(136, None),  // pts/*
];

const fn node(i: usize) -> Rule {
    chr(NODES[i].1, Some(NODES[i].2))
}

impl Rule {
    /// The rule in cgroup v1 syntax: `c 1:3 rwm`, `b *:* m`.
    pub fn v1_line(&self) -> String {
        let kind = match self.kind {
            Kind::Char => 'c',
            Kind::Block => 'b',
            Kind::All => 'a',
        };
        let num = |n: Option<u32>| n.map_or("*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (bit, c) in [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')] {
            if self.access & bit != 0 {
                access.push(c);
            }
        }
        format!("{kind} {}:{} {access}", num(self.major), num(self.minor))
    }
}

/// The rules a container gets: the defaults and its `--device` nodes.
pub fn rules(devices: &[Device]) -> Vec<Rule> {
    DEFAULT_RULES
        .iter()
        .copied()
        .chain(devices.iter().map(|d| d.rule))
        .collect()
}

/// The `BPF_PROG_TYPE_CGROUP_DEVICE` program for `rules`: returns 1 (allow) when the access
/// matches a rule, 0 (deny) otherwise.
///
/// The kernel passes `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
/// in r1, `access_type` being `(access << 16) | type` with type 1 block, 2 char.
pub fn bpf_program(rules: &[Rule]) -> Vec<u8> {
    use rbpf::insn_builder::{Arch, BpfCode, Cond, Instruction, IntoBytes, MemSize, Source};
    let mut code = BpfCode::new();
    // r2 = type, r3 = access, r4 = major, r5 = minor.
    code.load_x(MemSize::Word)
        .set_dst(2)
        .set_src(1)
        .set_off(0)
        .push();
    code.bit_and(Source::Imm, Arch::X32)
        .set_dst(2)
        .set_imm(0xffff)
        .push();
    code.load_x(MemSize::Word)
        .set_dst(3)
        .set_src(1)
        .set_off(0)
        .push();
    code.right_shift(Source::Imm, Arch::X32)
        .set_dst(3)
        .set_imm(16)
        .push();
    code.load_x(MemSize::Word)
        .set_dst(4)
        .set_src(1)
        .set_off(4)
        .push();
    code.load_x(MemSize::Word)
        .set_dst(5)
        .set_src(1)
        .set_off(8)
        .push();
    for rule in rules {
        // Each test jumps past the rest of this rule's block when it fails; `left` counts the
        // instructions after the test, up to and including the block's exit.
        let tests = [
            match rule.kind {
                Kind::Block => Some((2, 1)),
                Kind::Char => Some((2, 2)),
                Kind::All => None,
            },
            rule.major.map(|m| (4, m)),
            rule.minor.map(|m| (5, m)),
        ];
        let tests: Vec<(u8, u32)> = tests.into_iter().flatten().collect();
        // The access test: (access & !allowed) != 0 fails; 3 instructions (mov, and, jne).
        let mut left = (tests.len() + 3 + 2) as i16;
        for (reg, value) in tests {
            left -= 1;
            code.jump_conditional(Cond::NotEquals, Source::Imm)
                .set_dst(reg)
                .set_imm(value as i32)
                .set_off(left)
                .push();
        }
        code.mov(Source::Reg, Arch::X32)
            .set_dst(1)
            .set_src(3)
            .push();
        code.bit_and(Source::Imm, Arch::X32)
            .set_dst(1)
            .set_imm(!(rule.access as i32) & 0x7)
            .push();
        code.jump_conditional(Cond::NotEquals, Source::Imm)
            .set_dst(1)
            .set_imm(0)
            .set_off(2)
            .push();
        code.mov(Source::Imm, Arch::X64)
            .set_dst(0)
            .set_imm(1)
            .push();
        code.exit().push();
    }
    code.mov(Source::Imm, Arch::X64)
        .set_dst(0)
        .set_imm(0)
        .push();
    code.exit().push();
    code.into_bytes().to_vec()
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of every ancestor still run too (a systemd unit's, say): each must allow.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The leading fields of `union bpf_attr` for `BPF_PROG_LOAD` (the kernel zero-fills the rest).
#[repr(C)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
}

/// The leading fields of `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &T) -> std::io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised repr(C) prefix of `union bpf_attr` of the size
    // passed; the kernel reads at most that many bytes and writes nothing back for these
    // commands (bar the log buffer, which is 0 here).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *const T,
            std::mem::size_of::<T>() as u32,
        )
    };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Loads the program for `rules` and attaches it to the cgroup v2 directory `dir`. It stays
/// attached until the cgroup is removed.
pub fn apply_v2(dir: &Path, rules: &[Rule]) -> anyhow::Result<()> {
    let insns = bpf_program(rules);
    let license = c"Apache-2.0";
    let load = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: (insns.len() / 8) as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 0,
        log_size: 0,
        log_buf: 0,
    };
    let prog = bpf(BPF_PROG_LOAD, &load).context("cannot load the device-access BPF program")?;
    // SAFETY: BPF_PROG_LOAD returned a new descriptor that nothing else owns.
    let prog = unsafe { OwnedFd::from_raw_fd(prog as i32) };
    let cgroup = std::fs::File::open(dir).with_context(|| format!("{}", dir.display()))?;
    let attach = ProgAttach {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &attach).with_context(|| {
        format!(
            "cannot attach the device-access BPF program to {}",
            dir.display()
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program in rbpf's interpreter on one access, as the kernel would.
    fn allows(rules: &[Rule], kind: u32, access: u32, major: u32, minor: u32) -> bool {
        let prog = bpf_program(rules);
        let vm = rbpf::EbpfVmRaw::new(Some(&prog)).unwrap();
        let mut ctx = Vec::new();
        for v in [(access << 16) | kind, major, minor] {
            ctx.extend_from_slice(&v.to_ne_bytes());
        }
        vm.execute_program(&mut ctx).unwrap() == 1
    }

    const B: u32 = 1;
    const C: u32 = 2;
    const R: u32 = READ as u32;
    const W: u32 = WRITE as u32;
    const M: u32 = MKNOD as u32;

    #[test]
    fn the_default_program_denies_host_devices_and_allows_the_safe_ones() {
        let rules = rules(&[]);
        assert!(!allows(&rules, B, R, 7, 0), "read of a loop device");
        assert!(!allows(&rules, B, W, 8, 0), "write of a disk");
        assert!(!allows(&rules, C, R | W, 10, 232), "/dev/kvm");
        assert!(!allows(&rules, C, R, 1, 11), "/dev/kmsg");
        assert!(!allows(&rules, C, R | W, 4, 0), "/dev/tty0");
        assert!(!allows(&rules, C, R, 10, 229), "/dev/fuse");
        assert!(!allows(&rules, C, R, 1, 1), "/dev/mem");
        assert!(allows(&rules, B, M, 7, 0), "mknod is allowed, as in Docker");
        assert!(allows(&rules, C, M, 10, 232));
        assert!(!allows(&rules, B, M | R, 7, 0), "mknod does not carry read");
        for (major, minor) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 1),
            (5, 2),
        ] {
            assert!(allows(&rules, C, R | W, major, minor), "{major}:{minor}");
            assert!(!allows(&rules, B, R, major, minor), "block {major}:{minor}");
        }
        assert!(allows(&rules, C, R | W, 136, 4), "a pty");
    }

    #[test]
    fn a_device_rule_adds_exactly_its_node_and_access() {
        let loop0 = Rule {
            kind: Kind::Block,
            major: Some(7),
            minor: Some(0),
            access: READ,
        };
        let rules = rules(&[Device {
            host: "/dev/loop0".into(),
            container: "/dev/loop0".into(),
            rule: loop0,
            mode: 0o660,
        }]);
        assert!(allows(&rules, B, R, 7, 0));
        assert!(!allows(&rules, B, W, 7, 0));
        assert!(!allows(&rules, B, R, 7, 1));
        assert!(!allows(&rules, C, R, 7, 0));
    }

    #[test]
    fn v1_lines_are_dockers() {
        let lines: Vec<String> = DEFAULT_RULES.iter().map(Rule::v1_line).collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert_eq!(lines[2], "c 1:3 rwm");
        assert_eq!(lines[10], "c 136:* rwm");
    }

    #[test]
    fn device_options_parse() {
        let d = Device::parse("/dev/null").unwrap();
        assert_eq!(d.container, Path::new("/dev/null"));
        assert_eq!(d.rule.v1_line(), "c 1:3 rwm");
        let d = Device::parse("/dev/zero:/dev/z:r").unwrap();
        assert_eq!(d.container, Path::new("/dev/z"));
        assert_eq!(d.rule.v1_line(), "c 1:5 r");
        assert!(Device::parse("/etc/passwd").is_err());
        assert!(Device::parse("dev/null").is_err());
        assert!(Device::parse("/dev/null:/dev/../etc/x").is_err());
        assert!(Device::parse("/dev/null:/dev/n:rwx").is_err());
        assert!(Device::parse("/dev/null:/mnt/null").is_err());
    }
}
