//! `--userns`, `--uidmap`, `--gidmap`: whether a container's ids are the host's, or a range of
//! host ids no one else uses, so that its root is no one on the host.
//!
//! The request is kept as asked (`auto` stays `auto` in the spec, and a run gets its range
//! when it starts, [`crate::runtime::idmap`]); a given map is checked here, before anything
//! is made.

use serde::{Deserialize, Serialize};

/// The ids a container gets when `--userns=auto` does not say: 65,536, as Podman's.
pub const AUTO_SIZE: u32 = 65536;

/// Container ids `inside..inside+count` are host ids `outside..outside+count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

impl IdRange {
    /// `CONTAINER:HOST:COUNT`, as Podman's `--uidmap`.
    pub fn parse(option: &str, text: &str) -> Result<IdRange, String> {
        let numbers: Vec<Option<u32>> = text.split(':').map(|n| n.parse().ok()).collect();
        match numbers[..] {
            [Some(inside), Some(outside), Some(count)]
                if count > 0
                    && inside.checked_add(count).is_some()
                    && outside.checked_add(count).is_some() =>
            {
                Ok(IdRange {
                    inside,
                    outside,
                    count,
                })
            }
            _ => Err(format!(
                "invalid --{option} {text:?}: CONTAINER:HOST:COUNT, numbers with COUNT above 0 and no range past 4294967295"
            )),
        }
    }

    fn overlaps(&self, other: &IdRange, side: fn(&IdRange) -> u32) -> bool {
        let (a, b) = (side(self), side(other));
        a < b + other.count && b < a + self.count
    }
}

/// The user namespace a container gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserNs {
    /// The host's: container root is the host's root (capabilities trimmed).
    #[default]
    Host,
    /// A namespace of its own over `size` host ids no other container holds, from the
    /// ranges `/etc/subuid` and `/etc/subgid` give the tool.
    Auto { size: u32 },
    /// A namespace of its own with these maps (`--uidmap`, `--gidmap`).
    Map {
        uids: Vec<IdRange>,
        gids: Vec<IdRange>,
    },
}

impl UserNs {
    /// `--userns`: `host`, or `auto`, or `auto:size=N`.
    pub fn parse(text: &str) -> Result<UserNs, String> {
        let bad = || format!("invalid --userns {text:?}: host, auto, or auto:size=N");
        match text {
            "" | "host" => Ok(UserNs::Host),
            "auto" => Ok(UserNs::Auto { size: AUTO_SIZE }),
            _ => {
                let size = text.strip_prefix("auto:size=").ok_or_else(bad)?;
                let size: u32 = size.parse().map_err(|_| bad())?;
                if size == 0 {
                    return Err(bad());
                }
                Ok(UserNs::Auto { size })
            }
        }
    }

    /// Adds a `--uidmap` (`uid`) or `--gidmap` range.
    pub fn add_range(&mut self, uid: bool, range: IdRange) {
        if !matches!(self, UserNs::Map { .. }) {
            *self = UserNs::Map {
                uids: Vec::new(),
                gids: Vec::new(),
            };
        }
        if let UserNs::Map { uids, gids } = self {
            match uid {
                true => uids.push(range),
                false => gids.push(range),
            }
        }
    }

    /// The host uid and gid container root is, with a map of its own.
    pub fn root_ids(&self) -> Option<(u32, u32)> {
        let UserNs::Map { uids, gids } = self else {
            return None;
        };
        let root = |ranges: &[IdRange]| ranges.iter().find(|r| r.inside == 0).map(|r| r.outside);
        Some((root(uids)?, root(gids)?))
    }

    /// The mount options (`,uid=H,gid=G`) that give a tmpfs's root to container root, with
    /// a map of its own; none otherwise (the host's root is its root).
    pub fn owner_options(&self) -> String {
        self.root_ids()
            .map_or(String::new(), |(uid, gid)| format!(",uid={uid},gid={gid}"))
    }

    /// Whether the container gets a user namespace of its own.
    pub fn own(&self) -> bool {
        *self != UserNs::Host
    }

    /// A given map: both kinds present, no two ranges of one kind overlapping on either side,
    /// and container root (0) mapped, as the kernel and every image expect.
    pub fn check(&self) -> Result<(), String> {
        let UserNs::Map { uids, gids } = self else {
            return Ok(());
        };
        for (kind, ranges) in [("--uidmap", uids), ("--gidmap", gids)] {
            if ranges.is_empty() {
                return Err(format!(
                    "{kind} missing: --uidmap and --gidmap are given together"
                ));
            }
            if ranges.len() > 340 {
                return Err(format!("{kind}: at most 340 ranges (the kernel's limit)"));
            }
            for (i, a) in ranges.iter().enumerate() {
                for b in &ranges[i + 1..] {
                    if a.overlaps(b, |r| r.inside) || a.overlaps(b, |r| r.outside) {
                        return Err(format!("{kind}: ranges {a:?} and {b:?} overlap"));
                    }
                }
            }
            if !ranges.iter().any(|r| r.inside == 0) {
                return Err(format!("{kind}: container id 0 (root) must be mapped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_and_maps_docker_and_podman_take() {
        assert_eq!(UserNs::parse("host"), Ok(UserNs::Host));
        assert_eq!(UserNs::parse("auto"), Ok(UserNs::Auto { size: 65536 }));
        assert_eq!(
            UserNs::parse("auto:size=1024"),
            Ok(UserNs::Auto { size: 1024 })
        );
        for bad in [
            "keep-id",
            "auto:size=0",
            "auto:size=x",
            "auto:uidmapping=0:1:2",
        ] {
            assert!(UserNs::parse(bad).is_err(), "{bad}");
        }
        let range = IdRange::parse("uidmap", "0:100000:65536").unwrap();
        assert_eq!(
            (range.inside, range.outside, range.count),
            (0, 100000, 65536)
        );
        for bad in ["0:1", "0:1:0", "a:1:2", "0:4294967295:2", "0:1:2:3"] {
            assert!(IdRange::parse("uidmap", bad).is_err(), "{bad}");
        }
        let mut ns = UserNs::Host;
        ns.add_range(true, range);
        assert!(ns.check().unwrap_err().contains("--gidmap missing"));
        ns.add_range(false, range);
        assert_eq!(ns.check(), Ok(()));
        ns.add_range(true, IdRange::parse("uidmap", "70000:100:5").unwrap());
        assert_eq!(ns.check(), Ok(()));
        ns.add_range(true, IdRange::parse("uidmap", "80000:100004:5").unwrap());
        assert!(ns.check().unwrap_err().contains("overlap"));
        let mut rootless = UserNs::Host;
        rootless.add_range(true, IdRange::parse("uidmap", "1:100000:10").unwrap());
        rootless.add_range(false, range);
        assert!(rootless.check().unwrap_err().contains("root"));
    }
}
