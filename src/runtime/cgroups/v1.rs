//! cgroup v1 (and hybrid hosts): a hierarchy per controller, each with its own files.

use super::{Cgroup, Controller, Usage, Version, keyed, read_u64, write};
use crate::spec::device::Rule;
use std::path::Path;

/// The v1 files.
#[derive(Debug)]
pub struct V1;

impl Version for V1 {
    fn memory_reservation(&self, dir: &Path, bytes: u64) -> anyhow::Result<()> {
        write(&dir.join("memory.soft_limit_in_bytes"), &bytes.to_string())
    }

    fn memory(&self, dir: &Path, memory: u64, swap_total: i64) -> anyhow::Result<()> {
        write(&dir.join("memory.limit_in_bytes"), &memory.to_string())?;
        // memsw exists only where the kernel accounts swap (swapaccount=1).
        let memsw = dir.join("memory.memsw.limit_in_bytes");
        if memsw.exists() {
            write(&memsw, &swap_total.to_string())?;
        }
        Ok(())
    }

    fn cpu_quota(&self, dir: &Path, quota_us: u64, period_us: u64) -> anyhow::Result<()> {
        write(&dir.join("cpu.cfs_period_us"), &period_us.to_string())?;
        write(&dir.join("cpu.cfs_quota_us"), &quota_us.to_string())
    }

    fn hugetlb(&self, dir: &Path, size: &str, bytes: u64) -> anyhow::Result<()> {
        write(
            &dir.join(format!("hugetlb.{size}.limit_in_bytes")),
            &bytes.to_string(),
        )
    }

    fn cpuset(&self, dir: &Path, cpus: Option<&str>, mems: Option<&str>) -> anyhow::Result<()> {
        // A v1 cpuset starts empty, and takes no task until both lists are set: each
        // directory from the hierarchy's root down gets its parent's, then ours the asked.
        let mut chain: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| d.join("cpuset.cpus").exists())
            .collect();
        chain.reverse();
        for pair in chain.windows(2) {
            for file in ["cpuset.cpus", "cpuset.mems"] {
                let mine = std::fs::read_to_string(pair[1].join(file)).unwrap_or_default();
                if mine.trim().is_empty() {
                    let parent = std::fs::read_to_string(pair[0].join(file)).unwrap_or_default();
                    write(&pair[1].join(file), parent.trim())?;
                }
            }
        }
        if let Some(cpus) = cpus {
            write(&dir.join("cpuset.cpus"), cpus)?;
        }
        if let Some(mems) = mems {
            write(&dir.join("cpuset.mems"), mems)?;
        }
        Ok(())
    }

    fn cpu_shares(&self, dir: &Path, shares: u64) -> anyhow::Result<()> {
        write(&dir.join("cpu.shares"), &shares.to_string())
    }

    fn devices(&self, dir: &Path, rules: &[Rule]) -> anyhow::Result<()> {
        // Everything denied, then each rule allowed.
        write(&dir.join("devices.deny"), "a")?;
        for rule in rules {
            write(&dir.join("devices.allow"), &rule.v1_line())?;
        }
        Ok(())
    }

    fn oom_kills(&self, memory: &Path) -> Option<u64> {
        keyed(&memory.join("memory.oom_control"), "oom_kill")
    }

    fn usage(&self, cg: &Cgroup) -> Usage {
        let mem = cg.dir(Controller::Memory);
        Usage {
            cpu_ns: cg
                .dir(Controller::CpuAcct)
                .and_then(|d| read_u64(&d.join("cpuacct.usage"))),
            memory: mem.and_then(|d| read_u64(&d.join("memory.usage_in_bytes"))),
            memory_limit: mem.and_then(|d| read_u64(&d.join("memory.limit_in_bytes"))),
            pids: cg
                .dir(Controller::Pids)
                .and_then(|d| read_u64(&d.join("pids.current"))),
        }
    }

    fn freeze(&self, dir: &Path, frozen: bool) -> anyhow::Result<()> {
        let want = if frozen { "FROZEN" } else { "THAWED" };
        write(&dir.join("freezer.state"), want)?;
        // FREEZING until every task is stopped.
        for _ in 0..1000 {
            if std::fs::read_to_string(dir.join("freezer.state")).is_ok_and(|s| s.trim() == want) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            write(&dir.join("freezer.state"), want)?;
        }
        anyhow::bail!("the cgroup {} stayed FREEZING", dir.display())
    }

    fn frozen(&self, dir: &Path) -> bool {
        crate::state::kernfile::read(dir.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
    }
}
