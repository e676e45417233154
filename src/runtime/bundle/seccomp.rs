//! A bundle's `linux.seccomp` profile as BPF programs for `seccompiler`.
//!
//! libseccomp (which runc uses) compiles one filter with an action per rule; `seccompiler`
//! compiles filters with one match action each. The kernel runs every filter installed and
//! keeps the result of highest precedence (kill > trap > errno > trace > log > allow), so the
//! profile becomes:
//!
//! - one filter per distinct rule action: the rules of that action match it, all else allows;
//! - one last filter: every rule's syscall (with its conditions) allows, all else gets the
//!   profile's default action.
//!
//! A syscall a rule names therefore gets its rule's action, any other the default; where two
//! rules for one syscall overlap, the stronger action wins. Syscall names unknown on this
//! architecture are skipped, as libseccomp skips them (Docker's profile names syscalls of
//! every architecture).

use anyhow::{anyhow, bail};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// Refuses what cannot be translated (user notification, filter flags), naming the field.
pub fn check(profile: &LinuxSeccomp) -> anyhow::Result<()> {
    if profile.listener_path().is_some() {
        bail!("config.json: linux.seccomp.listenerPath is not supported by this runtime");
    }
    if profile.flags().as_ref().is_some_and(|f| !f.is_empty()) {
        bail!("config.json: linux.seccomp.flags are not supported by this runtime");
    }
    action(profile.default_action(), profile.default_errno_ret())
        .map_err(|e| anyhow!("linux.seccomp.defaultAction: {e}"))?;
    for (i, rule) in profile.syscalls().iter().flatten().enumerate() {
        action(rule.action(), rule.errno_ret())
            .map_err(|e| anyhow!("linux.seccomp.syscalls[{i}].action: {e}"))?;
    }
    Ok(())
}

fn action(action: LinuxSeccompAction, errno: Option<u32>) -> anyhow::Result<SeccompAction> {
    Ok(match action {
        LinuxSeccompAction::ScmpActAllow => SeccompAction::Allow,
        LinuxSeccompAction::ScmpActErrno => {
            SeccompAction::Errno(errno.unwrap_or(libc::EPERM as u32))
        }
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            SeccompAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => SeccompAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => SeccompAction::Trap,
        LinuxSeccompAction::ScmpActTrace => {
            SeccompAction::Trace(errno.unwrap_or(libc::EPERM as u32))
        }
        LinuxSeccompAction::ScmpActLog => SeccompAction::Log,
        LinuxSeccompAction::ScmpActNotify => bail!("SCMP_ACT_NOTIFY is not supported"),
    })
}

/// A key to group rules by action (SeccompAction is not Ord).
fn key(action: &SeccompAction) -> String {
    format!("{action:?}")
}

fn condition(
    arg: &oci_spec::runtime::LinuxSeccompArg,
) -> anyhow::Result<seccompiler::SeccompCondition> {
    let index = u8::try_from(arg.index())
        .ok()
        .filter(|&i| i < 6)
        .ok_or_else(|| anyhow!("seccomp: argument index {} out of range", arg.index()))?;
    let (op, value) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (SeccompCmpOp::Ne, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (SeccompCmpOp::Lt, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (SeccompCmpOp::Le, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (SeccompCmpOp::Eq, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (SeccompCmpOp::Ge, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (SeccompCmpOp::Gt, arg.value()),
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| anyhow!("seccomp: {e}"))
}

/// Rules per syscall number: `None` matches the syscall whatever its arguments (seccompiler
/// spells that as an empty rule list), `Some` when every rule has conditions.
type Rules = BTreeMap<i64, Option<Vec<SeccompRule>>>;

fn add(rules: &mut Rules, nr: i64, conditions: &[SeccompCondition]) -> anyhow::Result<()> {
    if conditions.is_empty() {
        rules.insert(nr, None);
        return Ok(());
    }
    let rule = SeccompRule::new(conditions.to_vec()).map_err(|e| anyhow!("seccomp: {e}"))?;
    // `None`: already matched whatever the arguments; a condition adds nothing.
    if let Some(list) = rules.entry(nr).or_insert_with(|| Some(Vec::new())) {
        list.push(rule);
    }
    Ok(())
}

fn filter(
    rules: Rules,
    mismatch: SeccompAction,
    matched: SeccompAction,
    arch: seccompiler::TargetArch,
) -> anyhow::Result<BpfProgram> {
    let err = |e: seccompiler::BackendError| anyhow!("seccomp filter: {e}");
    let rules = rules
        .into_iter()
        .map(|(nr, r)| (nr, r.unwrap_or_default()))
        .collect();
    SeccompFilter::new(rules, mismatch, matched, arch)
        .map_err(err)?
        .try_into()
        .map_err(err)
}

/// The filters for `profile`, in the order to install them.
pub fn compile(profile: &LinuxSeccomp) -> anyhow::Result<Vec<BpfProgram>> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|_| anyhow!("seccomp: unsupported architecture"))?;
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut by_action: BTreeMap<String, (SeccompAction, Rules)> = BTreeMap::new();
    let mut named = Rules::new();
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        let conditions: Vec<SeccompCondition> = rule
            .args()
            .iter()
            .flatten()
            .map(condition)
            .collect::<anyhow::Result<_>>()?;
        for name in rule.names() {
            let Ok(sysno) = name.parse::<syscalls::Sysno>() else {
                continue;
            };
            let nr = i64::from(sysno.id());
            add(&mut named, nr, &conditions)?;
            if act != SeccompAction::Allow {
                let group = by_action
                    .entry(key(&act))
                    .or_insert_with(|| (act.clone(), Rules::new()));
                add(&mut group.1, nr, &conditions)?;
            }
        }
    }
    let mut programs = Vec::new();
    for (_, (act, rules)) in by_action {
        programs.push(filter(rules, SeccompAction::Allow, act, arch)?);
    }
    if default != SeccompAction::Allow {
        programs.push(filter(named, default, SeccompAction::Allow, arch)?);
    }
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: serde_json::Value) -> LinuxSeccomp {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_profile_compiles_to_one_filter_per_action_and_a_default() {
        let p = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["read", "write", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            ]
        }));
        check(&p).unwrap();
        assert_eq!(compile(&p).unwrap().len(), 2);
    }

    #[test]
    fn notify_is_refused() {
        let p = profile(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
        }));
        let e = format!("{:#}", check(&p).unwrap_err());
        assert!(e.contains("syscalls[0].action"), "{e}");
    }
}
