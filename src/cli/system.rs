//! `container prune`, `system df`, `system prune`: what containers, images and volumes hold
//! on this host, and giving back what nothing uses, as Docker's verbs of those names.

use super::error::{CliError, Outcome};
use crate::image::store::Store;
use crate::spec::limits::decimal;
use crate::state::{Record, Status, store, volumes};
use std::io::IsTerminal;

#[derive(Debug, clap::Subcommand)]
pub enum Container {
    /// List containers (as `ps`)
    #[command(alias = "list")]
    Ls(super::ps::Args),
    /// Remove every stopped container
    Prune(Force),
}

#[derive(Debug, clap::Subcommand)]
pub enum System {
    /// Show the space images, containers and volumes take, and what could be reclaimed
    Df,
    /// Remove stopped containers, unused networks and untagged images (and with -a every
    /// unused image, with --volumes unused volumes)
    Prune {
        /// Every image no container uses, not only untagged ones
        #[arg(short, long)]
        all: bool,
        /// Volumes no container uses too
        #[arg(long)]
        volumes: bool,
        #[command(flatten)]
        force: Force,
    },
}

#[derive(Debug, clap::Args)]
pub struct Force {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,
}

/// Asks before removing `what`, unless forced; on a stdin that is no terminal, `-f` is the
/// only yes (a script cannot answer).
pub fn confirm(force: bool, what: &str) -> Result<bool, CliError> {
    if force {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::msg(format!(
            "this removes {what}: confirm with -f"
        )));
    }
    eprint!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

/// Bytes under `dir`, its files' blocks as `du` counts them (links not followed, each inode
/// once), or 0 when it is not there.
fn disk_usage(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if seen.insert((meta.dev(), meta.ino())) {
            total += meta.blocks() * 512;
        }
        if meta.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    total
}

/// The bytes a container wrote: its overlay's upper layer.
fn written(record: &Record) -> u64 {
    disk_usage(
        &crate::state::tree::path(&record.id)
            .join("fs")
            .join("upper"),
    )
}

/// Removes every stopped container of this namespace; their ids and the bytes they held.
/// First, what crashes left on the host (cgroups, leases and directories no record names):
/// the one sweep a user asks for, as every container's end no longer sweeps.
fn prune_containers() -> (Vec<String>, u64) {
    crate::runtime::reclaim::sweep();
    let mut gone = Vec::new();
    let mut freed = 0;
    for r in crate::runtime::reclaim::visible() {
        if r.status != Status::Exited || r.owner.is_some_and(|o| o.alive()) {
            continue;
        }
        let size = written(&r);
        if crate::client::ops::remove(&r, false, false).is_ok() {
            gone.push(r.id);
            freed += size;
        }
    }
    (gone, freed)
}

pub fn container(command: Container) -> Outcome {
    match command {
        Container::Ls(args) => super::ps::run(&args),
        Container::Prune(Force { force }) => {
            if !confirm(force, "all stopped containers")? {
                return Ok(0);
            }
            let (gone, freed) = prune_containers();
            println!("Deleted Containers:");
            for id in gone {
                println!("{id}");
            }
            println!("\nTotal reclaimed space: {}", decimal(freed));
            Ok(0)
        }
    }
}

/// The images whose layers a container of any namespace uses.
fn images_in_use(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| store::spec(&r.id).ok()?.image.map(|i| i.id))
        .collect()
}

pub fn system(command: System) -> Outcome {
    match command {
        System::Df => df(),
        System::Prune {
            all,
            volumes: with_volumes,
            force: Force { force },
        } => {
            let what = match (all, with_volumes) {
                (false, false) => {
                    "all stopped containers, all networks not used by a container, all dangling images and all dangling build cache"
                }
                (true, false) => {
                    "all stopped containers, all networks not used by a container, all images without a container and all build cache"
                }
                (false, true) => {
                    "all stopped containers, all networks and volumes not used by a container, all dangling images and all dangling build cache"
                }
                (true, true) => {
                    "all stopped containers, all networks and volumes not used by a container, all images without a container and all build cache"
                }
            };
            if !confirm(force, what)? {
                return Ok(0);
            }
            let (gone, mut freed) = prune_containers();
            if !gone.is_empty() {
                println!("Deleted Containers:");
                gone.iter().for_each(|id| println!("{id}"));
                println!();
            }
            let mut networks = Vec::new();
            for net in crate::runtime::net::defined::list() {
                if crate::runtime::net::defined::remove(&net.name).is_ok() {
                    networks.push(net.name);
                }
            }
            if !networks.is_empty() {
                println!("Deleted Networks:");
                networks.iter().for_each(|n| println!("{n}"));
                println!();
            }
            if with_volumes {
                let mut removed = Vec::new();
                for name in volumes::list() {
                    let size = disk_usage(&volumes::data_dir(&name));
                    if volumes::users(&name).is_empty() && volumes::remove(&name).is_ok() {
                        removed.push(name);
                        freed += size;
                    }
                }
                if !removed.is_empty() {
                    println!("Deleted Volumes:");
                    removed.iter().for_each(|n| println!("{n}"));
                    println!();
                }
            }
            if let Some(images) = Store::existing() {
                let used = images_in_use(&crate::runtime::reclaim::list());
                let mut deleted = Vec::new();
                for image in images.images() {
                    let unused = !used.contains(&image.id);
                    if unused
                        && (all || image.tags.is_empty())
                        && images.untag(&image, None).is_ok()
                    {
                        deleted.push(image.id);
                    }
                }
                if !deleted.is_empty() {
                    println!("Deleted Images:");
                    deleted.iter().for_each(|i| println!("deleted: {i}"));
                    println!();
                }
                let cache = images.prune_build_cache(all);
                if cache > 0 {
                    println!("Deleted build cache objects: {cache}");
                    println!();
                }
                freed += images.collect_layers().map_err(CliError::runtime)?;
            }
            println!("Total reclaimed space: {}", decimal(freed));
            Ok(0)
        }
    }
}

fn percent(part: u64, whole: u64) -> String {
    match whole {
        0 => String::new(),
        _ => format!(" ({}%)", part * 100 / whole),
    }
}

fn df() -> Outcome {
    let all = crate::runtime::reclaim::list();
    let used = images_in_use(&all);
    let mut rows = vec![[
        "TYPE".to_string(),
        "TOTAL".into(),
        "ACTIVE".into(),
        "SIZE".into(),
        "RECLAIMABLE".into(),
    ]];
    let images = Store::existing().map(|s| s.images()).unwrap_or_default();
    let (total, active): (u64, u64) = images.iter().fold((0, 0), |(t, a), i| {
        (
            t + i.size,
            a + if used.contains(&i.id) { i.size } else { 0 },
        )
    });
    let in_use = images.iter().filter(|i| used.contains(&i.id)).count();
    rows.push([
        "Images".into(),
        images.len().to_string(),
        in_use.to_string(),
        decimal(total),
        format!(
            "{}{}",
            decimal(total - active),
            percent(total - active, total)
        ),
    ]);
    let containers = crate::runtime::reclaim::visible();
    let sizes: Vec<(u64, bool)> = containers
        .iter()
        .map(|r| (written(r), r.status == Status::Running))
        .collect();
    let size: u64 = sizes.iter().map(|(s, _)| s).sum();
    let stopped: u64 = sizes
        .iter()
        .filter(|(_, running)| !running)
        .map(|(s, _)| s)
        .sum();
    rows.push([
        "Containers".into(),
        containers.len().to_string(),
        sizes
            .iter()
            .filter(|(_, running)| *running)
            .count()
            .to_string(),
        decimal(size),
        format!("{}{}", decimal(stopped), percent(stopped, size)),
    ]);
    let names = volumes::list();
    let vols: Vec<(u64, bool)> = names
        .iter()
        .map(|n| {
            (
                disk_usage(&volumes::data_dir(n)),
                !volumes::users(n).is_empty(),
            )
        })
        .collect();
    let size: u64 = vols.iter().map(|(s, _)| s).sum();
    let unused: u64 = vols.iter().filter(|(_, u)| !u).map(|(s, _)| s).sum();
    rows.push([
        "Local Volumes".into(),
        vols.len().to_string(),
        vols.iter().filter(|(_, u)| *u).count().to_string(),
        decimal(size),
        format!("{}{}", decimal(unused), percent(unused, size)),
    ]);
    let lines: Vec<String> = rows.iter().map(|r| r.join("\t")).collect();
    print!("{}", super::template::aligned(&lines));
    Ok(0)
}
