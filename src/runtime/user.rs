//! `-u user[:group]` as ids, read from the container's own `/etc/passwd` and `/etc/group`
//! (called inside its mount namespace, after its root is in place). Those files are the
//! image's: small regular files only, never followed through a symlink, 1 MiB read at most.

use anyhow::anyhow;
use nix::unistd::{Gid, Uid};

/// Who the command runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: Uid,
    pub gid: Gid,
    /// Supplementary groups: every group that lists the user by name.
    pub groups: Vec<Gid>,
    /// The passwd entry's home, for `HOME` (`/` when there is no entry, as Docker).
    pub home: String,
}

fn read(path: &str) -> String {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
    else {
        return String::new();
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    let mut text = String::new();
    let _ = file.take(1 << 20).read_to_string(&mut text);
    text
}

/// Resolves `text` against the files at `/etc/passwd` and `/etc/group`.
pub fn resolve(text: &str) -> anyhow::Result<User> {
    resolve_in(text, &read("/etc/passwd"), &read("/etc/group"))
}

/// Who the container's command runs as: `-u` (root when not given) with `--group-add`'s
/// groups added; `None` when neither was given (root, as the process already is).
pub fn resolve_for(user: Option<&str>, group_add: &[String]) -> anyhow::Result<Option<User>> {
    if user.is_none() && group_add.is_empty() {
        return Ok(None);
    }
    let group = read("/etc/group");
    let mut resolved = resolve_in(user.unwrap_or("0"), &read("/etc/passwd"), &group)?;
    for extra in group_add {
        let gid = match extra.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => id_in(&group, extra).ok_or_else(|| {
                anyhow!("unable to find group {extra}: no matching entries in group file")
            })?,
        };
        if !resolved.groups.contains(&Gid::from_raw(gid)) {
            resolved.groups.push(Gid::from_raw(gid));
        }
    }
    Ok(Some(resolved))
}

fn fields(table: &str) -> impl Iterator<Item = Vec<&str>> {
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
}

/// The id of `name` in a table of `/etc/passwd`'s or `/etc/group`'s form (`name:x:ID:...`).
pub fn id_in(table: &str, name: &str) -> Option<u32> {
    fields(table)
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(2).and_then(|v| v.parse().ok()))
}

fn resolve_in(text: &str, passwd: &str, group: &str) -> anyhow::Result<User> {
    let (user, wanted_group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    if user.is_empty() {
        return Err(anyhow!("invalid user {text:?}"));
    }
    let num = |f: &[&str], i: usize| f.get(i).and_then(|v| v.parse::<u32>().ok());
    let entry = match user.parse::<u32>() {
        Ok(uid) => fields(passwd).find(|f| num(f, 2) == Some(uid)),
        Err(_) => Some(
            fields(passwd)
                .find(|f| f.first() == Some(&user))
                .ok_or_else(|| {
                    anyhow!("unable to find user {user}: no matching entries in passwd file")
                })?,
        ),
    };
    let uid = match user.parse::<u32>() {
        Ok(uid) => uid,
        Err(_) => entry
            .as_ref()
            .and_then(|f| num(f, 2))
            .ok_or_else(|| anyhow!("bad passwd entry for {user}"))?,
    };
    let primary = entry.as_ref().and_then(|f| num(f, 3)).unwrap_or(0);
    let name = entry
        .as_ref()
        .and_then(|f| f.first().map(|n| n.to_string()));
    let home = entry
        .as_ref()
        .and_then(|f| f.get(5))
        .filter(|h| !h.is_empty())
        .map_or_else(|| "/".to_string(), |h| h.to_string());
    let gid = match wanted_group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => id_in(group, g).ok_or_else(|| {
                anyhow!("unable to find group {g}: no matching entries in group file")
            })?,
        },
        None => primary,
    };
    let mut groups = vec![Gid::from_raw(gid)];
    if let Some(name) = &name {
        for f in fields(group) {
            let members = f.get(3).map_or(Vec::new(), |m| m.split(',').collect());
            if members.contains(&name.as_str())
                && let Some(g) = num(&f, 2)
                && !groups.contains(&Gid::from_raw(g))
            {
                groups.push(Gid::from_raw(g));
            }
        }
    }
    Ok(User {
        uid: Uid::from_raw(uid),
        gid: Gid::from_raw(gid),
        groups,
        home,
    })
}

/// Becomes `user`: groups, then gid, then uid (after which nothing can be changed back).
pub fn switch(user: &User) -> anyhow::Result<()> {
    use super::Sys;
    nix::unistd::setgroups(&user.groups).sys("cannot set supplementary groups")?;
    nix::unistd::setgid(user.gid).sys("setgid")?;
    nix::unistd::setuid(user.uid).sys("setuid")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,bob\naudio:x:29:bob\n";

    #[test]
    fn names_numbers_groups_and_home() {
        let u = resolve_in("www", PASSWD, GROUP).unwrap();
        assert_eq!((u.uid.as_raw(), u.gid.as_raw()), (33, 33));
        assert_eq!(u.groups, vec![Gid::from_raw(33), Gid::from_raw(50)]);
        assert_eq!(u.home, "/var/www");
        let u = resolve_in("1000:50", PASSWD, GROUP).unwrap();
        assert_eq!(
            (u.uid.as_raw(), u.gid.as_raw(), u.home.as_str()),
            (1000, 50, "/")
        );
        let u = resolve_in("33:staff", PASSWD, GROUP).unwrap();
        assert_eq!(u.gid.as_raw(), 50);
        assert!(resolve_in("nobody", PASSWD, GROUP).is_err());
        assert!(resolve_in("www:nogroup", PASSWD, GROUP).is_err());
    }
}
