//! cgroup v2 (unified): one directory per container, controllers delegated from the parents,
//! device access as a BPF program attached to the directory.

use super::{Cgroup, Controller, Usage, Version, keyed, read_u64, write};
use crate::runtime::devices;
use crate::spec::device::Rule;
use std::path::Path;

/// The v2 files.
#[derive(Debug)]
pub struct V2;

impl Version for V2 {
    fn prepare(&self, root: &Path, rel: &Path, extra: &[&str]) {
        // Let each ancestor and its children use the controllers (each may be unavailable).
        // Only what this container needs: on a hybrid host, a controller enabled in the
        // unified root's subtree could no longer be mounted as a v1 hierarchy.
        let mut dir = root.to_path_buf();
        for part in std::iter::once(None).chain(rel.parent().into_iter().flatten().map(Some)) {
            if let Some(part) = part {
                dir.push(part);
            }
            let _ = std::fs::create_dir(&dir);
            for c in ["memory", "pids", "cpu"].iter().chain(extra) {
                let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("+{c}"));
            }
        }
    }

    fn memory_reservation(&self, dir: &Path, bytes: u64) -> anyhow::Result<()> {
        // runc's mapping of Docker's reservation: memory.low, the protection below which
        // the kernel reclaims this cgroup's memory last.
        write(&dir.join("memory.low"), &bytes.to_string())
    }

    fn memory(&self, dir: &Path, memory: u64, swap_total: i64) -> anyhow::Result<()> {
        write(&dir.join("memory.max"), &memory.to_string())?;
        // v2 limits swap alone, not memory plus swap.
        let swap = if swap_total < 0 {
            "max".to_string()
        } else {
            (swap_total as u64 - memory).to_string()
        };
        let swap_max = dir.join("memory.swap.max");
        if swap_max.exists() {
            write(&swap_max, &swap)?;
        }
        Ok(())
    }

    fn cpu_quota(&self, dir: &Path, quota_us: u64, period_us: u64) -> anyhow::Result<()> {
        write(&dir.join("cpu.max"), &format!("{quota_us} {period_us}"))
    }

    fn hugetlb(&self, dir: &Path, size: &str, bytes: u64) -> anyhow::Result<()> {
        write(&dir.join(format!("hugetlb.{size}.max")), &bytes.to_string())
    }

    fn cpuset(&self, dir: &Path, cpus: Option<&str>, mems: Option<&str>) -> anyhow::Result<()> {
        if let Some(cpus) = cpus {
            write(&dir.join("cpuset.cpus"), cpus)?;
        }
        if let Some(mems) = mems {
            write(&dir.join("cpuset.mems"), mems)?;
        }
        Ok(())
    }

    fn cpu_shares(&self, dir: &Path, shares: u64) -> anyhow::Result<()> {
        // The conversion runc and crun use from shares (2..262144) to weight (1..10000).
        let weight = 1 + ((shares - 2) * 9999) / 262_142;
        write(&dir.join("cpu.weight"), &weight.to_string())
    }

    fn devices(&self, dir: &Path, rules: &[Rule]) -> anyhow::Result<()> {
        devices::apply_v2(dir, rules)
    }

    fn oom_kills(&self, memory: &Path) -> Option<u64> {
        keyed(&memory.join("memory.events"), "oom_kill")
    }

    fn usage(&self, cg: &Cgroup) -> Usage {
        let mem = cg.dir(Controller::Memory);
        Usage {
            cpu_ns: cg
                .dir(Controller::Cpu)
                .and_then(|d| keyed(&d.join("cpu.stat"), "usage_usec"))
                .map(|u| u * 1000),
            memory: mem.and_then(|d| read_u64(&d.join("memory.current"))),
            memory_limit: mem.and_then(|d| read_u64(&d.join("memory.max"))),
            pids: cg
                .dir(Controller::Pids)
                .and_then(|d| read_u64(&d.join("pids.current"))),
        }
    }

    fn freeze(&self, dir: &Path, frozen: bool) -> anyhow::Result<()> {
        write(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
        // The kernel freezes asynchronously; `frozen 1` in cgroup.events says it is done.
        for _ in 0..1000 {
            if self.frozen(dir) == frozen {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        anyhow::bail!(
            "the cgroup {} did not {}",
            dir.display(),
            if frozen { "freeze" } else { "thaw" }
        )
    }

    fn frozen(&self, dir: &Path) -> bool {
        keyed(&dir.join("cgroup.events"), "frozen") == Some(1)
    }
}
