//! Resource limits as Docker spells them (`--memory 64m`, `--cpus 0.5`, ...), parsed and checked
//! before anything starts.

use serde::{Deserialize, Serialize};

/// Docker's floor: below this a container cannot even start its shell.
pub const MIN_MEMORY: u64 = 6 << 20;
/// The CFS period used for `--cpus`, in microseconds (Docker's).
pub const CPU_PERIOD_US: u64 = 100_000;

/// What the container may use. `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory, in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap, in bytes; `Some(-1)` is unlimited swap.
    pub memory_swap: Option<i64>,
    /// Most processes (threads included) at once.
    pub pids: Option<u64>,
    /// CPU quota per period, in microseconds (`--cpus 0.5` is 50 000).
    pub cpu_quota_us: Option<u64>,
    /// The CFS period of the quota, in microseconds; `None` is [`CPU_PERIOD_US`] (an OCI
    /// bundle's `linux.resources.cpu.period`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period_us: Option<u64>,
    /// CPUs and memory nodes the container may use (`0-3`, `0,2`): a bundle's cpuset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset_cpus: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset_mems: Option<String>,
    /// `--memory-reservation`: a soft limit, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<u64>,
    /// The memory controller's swappiness, 0-100 (an OCI bundle's; cgroup v1 alone has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_swappiness: Option<u64>,
    /// Kernel TCP buffer memory, in bytes (an OCI bundle's `kernelTCP`; cgroup v1 alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<u64>,
    /// No OOM killer: a task at the limit waits for memory instead (an OCI bundle's
    /// `disableOOMKiller`; cgroup v1 alone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oom_kill_disable: bool,
    /// Relative CPU weight, Docker's `--cpu-shares` (2..=262144, default 1024).
    pub cpu_shares: Option<u64>,
    /// Huge pages by page size (`2MB`, `1GB`): at most this many bytes of each (an OCI
    /// bundle's `hugepageLimits`; kubelet sends one, often 0, for every size a node has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hugepages: Vec<(String, u64)>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// The CFS period the quota is per.
    pub fn cpu_period(&self) -> u64 {
        self.cpu_period_us.unwrap_or(CPU_PERIOD_US)
    }

    /// Whether a cpuset is asked for.
    pub fn cpuset(&self) -> bool {
        self.cpuset_cpus.is_some() || self.cpuset_mems.is_some()
    }

    /// Checks the values against each other and against this machine.
    pub fn validate(&self) -> Result<(), String> {
        if let (Some(memory), Some(reservation)) = (self.memory, self.memory_reservation)
            && reservation > memory
        {
            return Err(format!(
                "--memory-reservation {} is above --memory {}: a soft limit must be below the limit",
                human(reservation),
                human(memory)
            ));
        }
        if let Some(s) = self.memory_swappiness
            && s > 100
        {
            return Err(format!("memory swappiness {s}: the kernel takes 0 to 100"));
        }
        if let Some(m) = self.memory
            && m < MIN_MEMORY
        {
            return Err(format!("--memory {}: the minimum is 6m", human(m)));
        }
        match (self.memory, self.memory_swap) {
            (None, Some(s)) if s != -1 => return Err("--memory-swap needs --memory".into()),
            (Some(m), Some(s)) if s != -1 && (s as u64) < m => {
                return Err(format!(
                    "--memory-swap {} is below --memory {}: it is memory plus swap",
                    human(s as u64),
                    human(m)
                ));
            }
            _ => {}
        }
        let period = self.cpu_period();
        if !(1_000..=1_000_000).contains(&period) {
            return Err(format!(
                "CPU period {period} us: the kernel takes 1000 to 1000000"
            ));
        }
        if let Some(q) = self.cpu_quota_us {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
            if q > cores * period {
                return Err(format!(
                    "--cpus {}: this machine has {cores} CPUs",
                    q as f64 / period as f64
                ));
            }
        }
        for (size, _) in &self.hugepages {
            // It names a file of the hugetlb controller: digits and a unit, nothing else.
            let digits = size
                .strip_suffix("KB")
                .or_else(|| size.strip_suffix("MB"))
                .or_else(|| size.strip_suffix("GB"));
            if !digits.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) {
                return Err(format!(
                    "huge page size {size:?}: a size such as 2MB or 1GB"
                ));
            }
        }
        for (what, list) in [("cpus", &self.cpuset_cpus), ("mems", &self.cpuset_mems)] {
            if let Some(list) = list
                && !list
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == '-')
            {
                return Err(format!("cpuset {what} {list:?}: a list such as 0-3,5"));
            }
        }
        Ok(())
    }
}

/// `64m`, `1g`, `512k`, `1048576` (bytes; `b` allowed), case-insensitive.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let shift = match unit.trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => {
            return Err(format!(
                "invalid size {text:?}: use a number with b, k, m or g, e.g. 64m"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            format!("invalid size {text:?}: use a positive number with b, k, m or g, e.g. 64m")
        })?;
    let bytes = value * (1u64 << shift) as f64;
    // Docker keeps sizes in an int64; beyond that a value would silently saturate.
    if bytes >= i64::MAX as f64 {
        return Err(format!(
            "invalid size {text:?}: too large (the most is 8 EiB)"
        ));
    }
    Ok(bytes as u64)
}

/// One `--ulimit`: a resource limit by its Docker (and `ulimit`) name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub name: String,
    /// `u64::MAX` is unlimited (`-1`).
    pub soft: u64,
    pub hard: u64,
}

impl Ulimit {
    /// The names Docker takes.
    pub const NAMES: [&str; 16] = [
        "as",
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];

    /// Parses `NAME=SOFT[:HARD]` (`-1`: unlimited; no HARD: the soft value).
    pub fn parse(text: &str) -> Result<Ulimit, String> {
        let bad = |why: &str| format!("invalid --ulimit {text:?}: {why}");
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=SOFT[:HARD]"))?;
        if !Ulimit::NAMES.contains(&name) {
            return Err(bad(&format!(
                "unknown name {name:?} ({})",
                Ulimit::NAMES.join(", ")
            )));
        }
        let number = |v: &str| -> Result<u64, String> {
            match v {
                "-1" | "unlimited" => Ok(u64::MAX),
                _ => v
                    .parse()
                    .map_err(|_| bad(&format!("{v:?} is not a number"))),
            }
        };
        let (soft, hard) = match values.split_once(':') {
            Some((s, h)) => (number(s)?, number(h)?),
            None => (number(values)?, number(values)?),
        };
        if soft > hard {
            return Err(bad("the soft limit is above the hard one"));
        }
        Ok(Ulimit {
            name: name.to_string(),
            soft,
            hard,
        })
    }
}

/// `--cpuset-cpus 0-3,6` and `--cpuset-mems`: a list of numbers and ranges, as the kernel's
/// `cpuset.cpus` takes it.
pub fn parse_cpuset(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.split(',').all(|part| {
            let mut ends = part.splitn(2, '-').map(|n| n.parse::<u32>());
            match (ends.next(), ends.next()) {
                (Some(Ok(_)), None) => true,
                (Some(Ok(a)), Some(Ok(b))) => a <= b,
                _ => false,
            }
        });
    match valid {
        true => Ok(text.to_string()),
        false => Err(format!(
            "invalid cpuset {text:?}: numbers and ranges, e.g. 0-3 or 0,2"
        )),
    }
}

/// `--memory-swap`: a size, or -1 for unlimited swap.
pub fn parse_swap(text: &str) -> Result<i64, String> {
    if text.trim() == "-1" {
        return Ok(-1);
    }
    parse_bytes(text).map(|b| b as i64)
}

/// `--cpus 0.5`: a positive number of CPUs, as a quota in microseconds per period.
pub fn parse_cpus(text: &str) -> Result<u64, String> {
    let cpus: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid --cpus {text:?}: expected a number such as 0.5"))?;
    if !cpus.is_finite() || cpus <= 0.0 {
        return Err(format!("invalid --cpus {text:?}: must be more than 0"));
    }
    if cpus > 1e6 {
        return Err(format!("invalid --cpus {text:?}: too large"));
    }
    let quota = (cpus * CPU_PERIOD_US as f64).round() as u64;
    if quota < 1000 {
        return Err(format!("invalid --cpus {text:?}: the minimum is 0.01"));
    }
    Ok(quota)
}

/// `--pids-limit N`: at least 1, or -1 for no limit.
pub fn parse_pids(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n == -1 || n >= 1 => Ok(n),
        _ => Err(format!(
            "invalid --pids-limit {text:?}: expected a whole number of at least 1, or -1"
        )),
    }
}

/// `--cpu-shares N`: 2 to 262144.
pub fn parse_shares(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (2..=262_144).contains(&n) => Ok(n),
        _ => Err(format!(
            "invalid --cpu-shares {text:?}: expected a whole number from 2 to 262144"
        )),
    }
}

/// Sizes as Docker prints images' (`5.58MB`): decimal units, three significant digits.
/// Memory is in binary units ([`human`]), as Docker prints it too.
pub fn decimal(bytes: u64) -> String {
    let b = bytes as f64;
    let (v, unit) = match bytes {
        n if n >= 1_000_000_000 => (b / 1e9, "GB"),
        n if n >= 1_000_000 => (b / 1e6, "MB"),
        n if n >= 1_000 => (b / 1e3, "kB"),
        _ => return format!("{bytes}B"),
    };
    if v >= 100.0 {
        format!("{v:.0}{unit}")
    } else if v >= 10.0 {
        format!("{v:.1}{unit}")
    } else {
        format!("{v:.2}{unit}")
    }
}

/// `64 MiB`, `1.5 GiB`: memory, in binary units.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", units[unit])
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_dockers_units() {
        assert_eq!(parse_bytes("64m"), Ok(64 << 20));
        assert_eq!(parse_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_bytes("512kb"), Ok(512 << 10));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("1.5g"), Ok(3 << 29));
        for bad in ["banana", "", "-5m", "0", "12x", "m"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_swap("-1"), Ok(-1));
    }

    #[test]
    fn cpus_pids_and_shares() {
        assert_eq!(parse_cpus("0.5"), Ok(50_000));
        assert_eq!(parse_cpus("2"), Ok(200_000));
        for bad in ["0", "-1", "abc", "0.001", "NaN", "inf"] {
            assert!(parse_cpus(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_pids("20"), Ok(20));
        assert_eq!(parse_pids("-1"), Ok(-1));
        assert!(parse_pids("0").is_err());
        assert_eq!(parse_shares("512"), Ok(512));
        assert!(parse_shares("1").is_err());
    }

    #[test]
    fn limits_are_checked_together() {
        let l = |memory, memory_swap| Limits {
            memory,
            memory_swap,
            ..Limits::default()
        };
        assert!(l(Some(1 << 20), None).validate().is_err(), "below 6m");
        assert!(
            l(Some(64 << 20), Some(32 << 20)).validate().is_err(),
            "swap below memory"
        );
        assert!(
            l(None, Some(64 << 20)).validate().is_err(),
            "swap without memory"
        );
        assert!(l(Some(64 << 20), Some(-1)).validate().is_ok());
        assert!(l(Some(64 << 20), Some(128 << 20)).validate().is_ok());
        let cpus = Limits {
            cpu_quota_us: Some(1000 * CPU_PERIOD_US),
            ..Limits::default()
        };
        assert!(cpus.validate().is_err(), "more CPUs than the machine has");
        let pages = |size: &str| Limits {
            hugepages: vec![(size.to_string(), 0)],
            ..Limits::default()
        };
        assert!(pages("2MB").validate().is_ok());
        assert!(pages("1GB").validate().is_ok());
        for bad in ["../2MB", "2MB/x", "MB", "2mb", "2 MB", ""] {
            assert!(pages(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_read_back_for_people() {
        assert_eq!(human(32 << 20), "32 MiB");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert_eq!(human(100), "100 B");
    }
}
