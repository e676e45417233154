//! The image verbs: `pull`, `images`, `rmi`, `import`, `load`, `image prune|ls|rm|inspect`,
//! `login`, `logout` ([`crate::image`]).

use super::error::{CliError, Outcome, fail};
use super::template::Format;
use crate::image::reference::Ref;
use crate::image::store::{Image, Store};
use crate::image::{archive, auth, pull};
use crate::spec::limits::decimal;
use crate::spec::platform::Platform;
use std::io::IsTerminal;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The image: NAME[:TAG] or NAME@DIGEST
    reference: String,
    /// OS/ARCH[/VARIANT] to pull from an image index [default: the host's]
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform)]
    platform: Option<Platform>,
    /// Print only the image's reference
    #[arg(short, long)]
    quiet: bool,
    /// Reach this registry (host[:port]) over plain HTTP, as loopback ones are
    #[arg(long, value_name = "HOST")]
    insecure_registry: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The image: NAME[:TAG], a name the image has here
    reference: String,
    /// Print only the pushed manifest's digest
    #[arg(short, long)]
    quiet: bool,
    /// Reach this registry (host[:port]) over plain HTTP, as loopback ones are
    #[arg(long, value_name = "HOST")]
    insecure_registry: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Print image ids only
    #[arg(short, long)]
    quiet: bool,
    /// Keep only images that match: dangling=true|false, reference=PATTERN (`*` any run of
    /// characters but `/`)
    #[arg(short, long, value_name = "FILTER")]
    filter: Vec<ImageFilter>,
    /// `table` (the default), `json` (one object a line), or a Go template
    /// (`{{.Repository}}:{{.Tag}}`)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

/// One `images --filter KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageFilter {
    Dangling(bool),
    Reference(String),
}

impl std::str::FromStr for ImageFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<ImageFilter, String> {
        match text.split_once('=') {
            Some(("dangling", "true" | "1")) => Ok(ImageFilter::Dangling(true)),
            Some(("dangling", "false" | "0")) => Ok(ImageFilter::Dangling(false)),
            Some(("dangling", v)) => Err(format!("invalid filter 'dangling={v}' (true or false)")),
            Some(("reference", v)) => Ok(ImageFilter::Reference(v.to_string())),
            _ => Err(format!("invalid filter {text:?} (dangling=, reference=)")),
        }
    }
}

/// Whether `text` matches `pattern`, whose `*` stands for any run of characters but `/`
/// (Go's `path.Match`, as Docker's reference filter uses it).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i) && !rest[..i].contains('/'))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// Whether an image row (repository, tag) passes the filters: each kind given must match.
fn image_passes(filters: &[ImageFilter], repo: &str, tag: &str) -> bool {
    let dangling = repo == "<none>";
    let references: Vec<&String> = filters
        .iter()
        .filter_map(|f| match f {
            ImageFilter::Reference(p) => Some(p),
            _ => None,
        })
        .collect();
    filters.iter().all(|f| match f {
        ImageFilter::Dangling(want) => *want == dangling,
        ImageFilter::Reference(_) => true,
    }) && (references.is_empty()
        || references.iter().any(|p| {
            let short = repo.strip_prefix("docker.io/library/").unwrap_or(repo);
            [repo, short]
                .iter()
                .any(|r| glob(p, r) || glob(p, &format!("{r}:{tag}")))
        }))
}

#[derive(Debug, clap::Args)]
pub struct RmiArgs {
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Remove even when containers use it (their layers stay until they are gone)
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A root filesystem tarball (plain, gzip or zstd), or - for stdin
    file: String,
    /// The reference to give it
    reference: String,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// A `docker save` or OCI image-layout archive [default: stdin]
    #[arg(short, long, value_name = "FILE")]
    input: Option<std::path::PathBuf>,
    /// Print nothing but errors
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The registry (host[:port]) [default: Docker Hub]
    server: Option<String>,
    #[arg(short, long)]
    username: Option<String>,
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// Reach this registry over plain HTTP
    #[arg(long, value_name = "HOST")]
    insecure_registry: Vec<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List images
    Ls(ImagesArgs),
    /// Pull an image
    Pull(PullArgs),
    /// Remove images
    Rm(RmiArgs),
    /// Remove untagged images and every layer no image or container uses
    Prune {
        /// Do not ask for confirmation
        #[arg(short, long)]
        force: bool,
    },
    /// Print images' details as JSON
    Inspect {
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Import a root filesystem tarball as an image
    Import(ImportArgs),
    /// Load images from a `docker save` or OCI archive
    Load(LoadArgs),
    /// Give an image another name: `tag SOURCE TARGET`
    Tag { source: String, target: String },
    /// Show how an image was made: its config's history, newest first
    History(HistoryArgs),
    /// Write images to an archive (docker-archive or oci-archive)
    Save(SaveArgs),
    /// Push an image to a registry
    Push(PushArgs),
    /// Make an image of a container's changes
    Commit(CommitArgs),
    /// Build an image from a Dockerfile
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    image: String,
    /// Print image ids only (the image's own for its top entry, `<missing>` below)
    #[arg(short, long)]
    quiet: bool,
    /// Show CREATED BY whole (else cut to 45 characters)
    #[arg(long)]
    no_trunc: bool,
    /// `table` (the default), `json`, or a Go template (`{{.CreatedBy}}`)
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    container: String,
    /// The new image's name (REPOSITORY[:TAG]); untagged without
    reference: Option<String>,
    /// Author (e.g. "Jane <jane@example.com>")
    #[arg(short, long)]
    author: Option<String>,
    /// A Dockerfile instruction to apply (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER,
    /// VOLUME, WORKDIR, STOPSIGNAL)
    #[arg(short, long = "change", value_name = "CHANGE")]
    change: Vec<String>,
    /// Commit message (the history entry's comment)
    #[arg(short, long)]
    message: Option<String>,
    /// Freeze a running container while it is committed
    #[arg(short, long, num_args = 0..=1, default_value = "true", default_missing_value = "true",
          action = clap::ArgAction::Set)]
    pause: bool,
    /// The new layer's compression: gzip or zstd
    #[arg(long, default_value = "gzip", value_parser = parse_compression)]
    compression: crate::image::layer::Compression,
}

fn parse_compression(text: &str) -> Result<crate::image::layer::Compression, String> {
    crate::image::layer::Compression::parse(text).map_err(|e| e.to_string())
}

/// `commit CONTAINER [REF]`: prints the new image's id.
pub fn commit(args: &CommitArgs) -> Outcome {
    let record = crate::runtime::reclaim::find(&args.container)?;
    let options = crate::image::commit::Options {
        reference: args.reference.clone(),
        changes: args.change.clone(),
        message: args.message.clone(),
        author: args.author.clone(),
        pause: args.pause,
        compression: args.compression,
    };
    let image = crate::image::commit::commit(&record, &options)?;
    println!("{}", image.id);
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    #[arg(required = true)]
    images: Vec<String>,
    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// docker-archive (read by docker load, podman load and ours) or oci-archive
    #[arg(long, default_value = "docker-archive", value_parser = parse_save_format)]
    format: crate::image::save::Format,
}

fn parse_save_format(text: &str) -> Result<crate::image::save::Format, String> {
    crate::image::save::Format::parse(text).map_err(|e| e.to_string())
}

/// `save IMAGE...`: one archive of them all, to a file (whole or not at all) or to stdout.
pub fn save(args: &SaveArgs) -> Outcome {
    use std::io::IsTerminal;
    let store = existing(&args.images[0])?;
    let mut saved = Vec::new();
    for name in &args.images {
        let image = store
            .find(name)
            .ok_or_else(|| CliError::msg(format!("No such image: {name}")))?;
        // Asked by a name it has: the archive carries that name; by id, none (as Docker).
        let tag = Ref::parse(name)
            .ok()
            .map(|r| r.to_string())
            .filter(|full| image.tags.contains(full));
        saved.push(crate::image::save::Saved { image, tag });
    }
    match &args.output {
        None if std::io::stdout().is_terminal() => Err(CliError::msg(
            "refusing to write an image archive to a terminal: use -o FILE or redirect",
        )),
        None => {
            crate::image::save::save(&store, &saved, args.format, std::io::stdout().lock())?;
            Ok(0)
        }
        Some(path) => {
            let tmp = path.with_file_name(format!(
                ".{}.{}.tmp",
                path.file_name()
                    .map_or("save".into(), |n| n.to_string_lossy()),
                std::process::id()
            ));
            let written = std::fs::File::create(&tmp)
                .map_err(|e| CliError::msg(format!("{}: {e}", path.display())))
                .and_then(|f| {
                    crate::image::save::save(
                        &store,
                        &saved,
                        args.format,
                        std::io::BufWriter::new(f),
                    )
                    .map_err(CliError::from)
                })
                .and_then(|()| {
                    std::fs::rename(&tmp, path)
                        .map_err(|e| CliError::msg(format!("{}: {e}", path.display())))
                });
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written.map(|()| 0)
        }
    }
}

/// `push NAME[:TAG]`.
pub fn push(args: &PushArgs) -> Outcome {
    use std::io::IsTerminal;
    let store = existing(&args.reference)?;
    let mut progress = crate::image::push::Progress {
        out: Box::new(std::io::stdout()),
        bars: std::io::stderr().is_terminal(),
        quiet: args.quiet,
    };
    let digest = crate::image::push::push(
        &store,
        &args.reference,
        &args.insecure_registry,
        &mut progress,
    )?;
    if args.quiet {
        println!("{digest}");
    }
    Ok(0)
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The build context: a directory
    context: std::path::PathBuf,
    /// Name the image (REPOSITORY[:TAG]); may be given more than once
    #[arg(short, long = "tag", value_name = "NAME")]
    tag: Vec<String>,
    /// The Dockerfile [default: CONTEXT/Dockerfile]
    #[arg(short, long, value_name = "FILE")]
    file: Option<std::path::PathBuf>,
    /// A build argument: KEY=VALUE, or KEY for the value in this environment
    #[arg(long, value_name = "KEY=VALUE")]
    build_arg: Vec<String>,
    /// Build up to this stage
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// OS/ARCH[/VARIANT] of the base images
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform)]
    platform: Option<Platform>,
    /// Do not use the cache
    #[arg(long)]
    no_cache: bool,
    /// The network RUN steps are on: bridge (the default), none, host
    #[arg(long, value_name = "NETWORK")]
    network: Option<String>,
    /// Print only the image id
    #[arg(short, long)]
    quiet: bool,
}

/// `build CONTEXT`.
pub fn build(args: &BuildArgs) -> Outcome {
    let store = store()?;
    let mut build_args = std::collections::BTreeMap::new();
    for arg in &args.build_arg {
        match arg.split_once('=') {
            Some((k, v)) => build_args.insert(k.to_string(), v.to_string()),
            None => std::env::var(arg)
                .ok()
                .and_then(|v| build_args.insert(arg.clone(), v)),
        };
    }
    let options = crate::image::build::Options {
        context: args.context.clone(),
        dockerfile: args.file.clone(),
        tags: args.tag.clone(),
        build_args,
        target: args.target.clone(),
        platform: args.platform.clone(),
        no_cache: args.no_cache,
        network: args.network.clone(),
        quiet: args.quiet,
    };
    let image = crate::image::build::build(&store, &options, &mut std::io::stdout())?;
    if args.quiet {
        println!("{}", image.id);
    }
    Ok(0)
}

/// The store, made on first use: for the verbs that add to it (`pull`, `import`, `load`).
fn store() -> Result<Store, CliError> {
    Ok(Store::open()?)
}

/// The store if this host has one: the verbs that only read or take away never make it (on
/// a host without, there is no image to name).
fn existing(first: &str) -> Result<Store, CliError> {
    Store::existing().ok_or_else(|| CliError::msg(format!("No such image: {first}")))
}

pub fn image(command: Command) -> Outcome {
    match command {
        Command::Ls(a) => images(&a),
        Command::Pull(a) => pull(&a),
        Command::Rm(a) => rmi(&a),
        Command::Prune { .. } => prune(),
        Command::Inspect { images } => inspect(&images),
        Command::Import(a) => import(&a),
        Command::Load(a) => load(&a),
        Command::Tag { source, target } => tag(&source, &target),
        Command::History(a) => history(&a),
        Command::Save(a) => save(&a),
        Command::Push(a) => push(&a),
        Command::Build(a) => build(&a),
        Command::Commit(a) => commit(&a),
    }
}

/// `tag SOURCE TARGET`: TARGET (normalised as a pull would) names SOURCE's image too; the
/// image it named before loses the name (removed if nothing else names it).
pub fn tag(source: &str, target: &str) -> Outcome {
    let store = existing(source)?;
    let Some(mut image) = store.find(source) else {
        return Err(CliError::msg(format!("No such image: {source}")));
    };
    let target = Ref::parse(target).map_err(|e| CliError::msg(format!("{e:#}")))?;
    if target.0.digest().is_some() {
        return Err(CliError::msg(format!(
            "{target}: a digest is the content's own name, not a tag to give"
        )));
    }
    let full = target.to_string();
    if !image.tags.contains(&full) {
        image.tags.push(full);
    }
    store.save(&image)?;
    Ok(0)
}

/// `history IMAGE`: the config's history entries, newest first, each non-empty one beside the
/// size of the layer it made (Docker's columns).
pub fn history(args: &HistoryArgs) -> Outcome {
    let store = existing(&args.image)?;
    let Some(image) = store.find(&args.image) else {
        return Err(CliError::msg(format!("No such image: {}", args.image)));
    };
    let config = store.config(&image)?;
    let entries = config.history().clone().unwrap_or_default();
    // Layers bottom first, as the entries that made them.
    let mut layers = image.layers.iter();
    let mut rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|h| {
            let empty = h.empty_layer().unwrap_or(false);
            let size = match empty {
                true => 0,
                false => layers.next().map_or(0, |l| store.size_of(std::slice::from_ref(l))),
            };
            let by = h.created_by().clone().unwrap_or_default();
            let created = h.created().clone().unwrap_or_default();
            serde_json::json!({
                "ID": "<missing>",
                "CreatedAt": created,
                "CreatedSince": crate::state::record::since(Some(&created)),
                "CreatedBy": if args.no_trunc { by.clone() } else { crate::printable::cut(&by, 45) },
                "Size": decimal(size),
                "Comment": h.comment().clone().unwrap_or_default(),
            })
        })
        .collect();
    rows.reverse();
    // The newest entry is the image itself (Docker's rule); the rest were never images here.
    if let Some(top) = rows.first_mut() {
        top["ID"] = image.short_id().into();
    }
    if args.quiet {
        rows.iter()
            .for_each(|r| println!("{}", r["ID"].as_str().unwrap_or("")));
        return Ok(0);
    }
    const TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
    const HEADERS: [(&str, &str); 4] = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
    ];
    let out = args
        .format
        .rows(&rows, TABLE, &HEADERS)
        .map_err(CliError::msg)?;
    print!("{out}");
    Ok(0)
}

pub fn pull(args: &PullArgs) -> Outcome {
    let store = store()?;
    let options = pull::Options {
        platform: args.platform.clone().unwrap_or_else(Platform::host),
        insecure: args.insecure_registry.clone(),
    };
    let progress = if args.quiet {
        pull::Progress::Quiet
    } else {
        pull::Progress::Lines(Box::new(std::io::stdout()), std::io::stderr().is_terminal())
    };
    match pull::pull(&store, &args.reference, &options, progress) {
        Ok(_) => {
            if let Ok(r) = Ref::parse(&args.reference) {
                println!("{r}");
            }
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// (repository, tag) rows of an image: one per tag, or `<none>` twice.
fn rows(image: &Image) -> Vec<(String, String)> {
    if image.tags.is_empty() {
        return vec![("<none>".into(), "<none>".into())];
    }
    image
        .tags
        .iter()
        .filter_map(|t| Ref::parse(t).ok())
        .map(|r| {
            (
                r.repository_shown(),
                r.0.tag().unwrap_or("<none>").to_string(),
            )
        })
        .collect()
}

pub fn images(args: &ImagesArgs) -> Outcome {
    let mut all = Store::existing().map(|s| s.images()).unwrap_or_default();
    all.reverse();
    let mut listed = Vec::new();
    for image in &all {
        for (repo, tag) in rows(image) {
            if image_passes(&args.filter, &repo, &tag) {
                listed.push((image, repo, tag));
            }
        }
    }
    let out = if args.quiet {
        let mut ids: Vec<&str> = listed.iter().map(|(i, _, _)| i.short_id()).collect();
        ids.dedup();
        ids.iter().map(|id| format!("{id}\n")).collect()
    } else {
        let values: Vec<serde_json::Value> = listed
            .iter()
            .map(|(image, repo, tag)| {
                serde_json::json!({
                    "Repository": repo, "Tag": tag, "ID": image.short_id(),
                    "Digest": image.digests.first().and_then(|d| d.split_once('@')).map_or("<none>", |(_, d)| d),
                    "CreatedSince": crate::state::record::since(image.created.as_deref()), "CreatedAt": image.created,
                    "Size": decimal(image.size),
                    "Platform": image.platform, "Layers": image.layers.len(),
                })
            })
            .collect();
        const TABLE: &str =
            "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        const HEADERS: [(&str, &str); 3] = [
            ("ID", "IMAGE ID"),
            ("CreatedSince", "CREATED"),
            ("CreatedAt", "CREATED AT"),
        ];
        args.format
            .rows(&values, TABLE, &HEADERS)
            .map_err(CliError::msg)?
    };
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(0)
}

/// Containers (by name) whose spec uses `image`, running ones first.
fn users(store: &Store, image: &Image) -> Vec<(String, bool)> {
    let mut users: Vec<(String, bool)> = crate::runtime::reclaim::list()
        .into_iter()
        .filter(|r| {
            crate::state::store::spec(&r.id)
                .ok()
                .and_then(|s| s.image)
                .is_some_and(|i| {
                    i.id == image.id && (i.store.as_os_str().is_empty() || i.store == store.dir())
                })
        })
        .map(|r| (r.name.clone(), r.status == crate::state::Status::Running))
        .collect();
    users.sort_by_key(|(_, running)| !running);
    users
}

pub fn rmi(args: &RmiArgs) -> Outcome {
    let store = existing(args.images.first().map_or("", String::as_str))?;
    let mut code = 0;
    for text in &args.images {
        let Some(image) = store.find(text) else {
            code = fail(format!("No such image: {text}"));
            continue;
        };
        // By tag: only that tag goes (the image with it when it was the last).
        let tag = Ref::parse(text)
            .ok()
            .map(|r| r.to_string())
            .filter(|t| image.tags.contains(t));
        let last = tag.is_none() || image.tags.len() <= 1;
        if last
            && !args.force
            && let Some((name, running)) = users(&store, &image).first()
        {
            code = fail(format!(
                "conflict: unable to remove image {text} (must force) - {} container {name} is using it",
                if *running { "running" } else { "stopped" }
            ));
            continue;
        }
        if tag.is_none() && image.tags.len() > 1 && !args.force {
            code = fail(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                image.short_id()
            ));
            continue;
        }
        let _deleting = match store.deleting() {
            Ok(l) => l,
            Err(e) => {
                code = fail(format!("{e:#}"));
                continue;
            }
        };
        let untag: Vec<String> = match &tag {
            Some(t) => vec![t.clone()],
            None => image.tags.clone(),
        };
        let mut gone = false;
        for t in &untag {
            match store.untag(&image, Some(t)) {
                Ok(g) => gone |= g,
                Err(e) => return Err(e.into()),
            }
            if let Ok(r) = Ref::parse(t) {
                println!("Untagged: {}", pull::shown_ref(&r));
            }
        }
        if untag.is_empty() {
            gone = store.untag(&image, None).unwrap_or(false);
        }
        if gone {
            println!("Deleted: {}", image.id);
        }
        drop(_deleting);
        if let Err(e) = store.collect_layers() {
            code = fail(format!("{e:#}"));
        }
    }
    Ok(code)
}

pub fn prune() -> Outcome {
    let Some(store) = Store::existing() else {
        println!("Total reclaimed space: 0B");
        return Ok(0);
    };
    for image in store.images().into_iter().filter(|i| i.tags.is_empty()) {
        if users(&store, &image).is_empty() && store.untag(&image, None).is_ok() {
            println!("Deleted: {}", image.id);
        }
    }
    match store.collect_layers() {
        Ok(freed) => {
            println!("Total reclaimed space: {}", decimal(freed));
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

fn inspect(names: &[String]) -> Outcome {
    let store = existing(names.first().map_or("", String::as_str))?;
    let mut out = Vec::new();
    let mut code = 0;
    for name in names {
        match store.find(name) {
            Some(image) => {
                let config = store
                    .config(&image)
                    .ok()
                    .and_then(|c| serde_json::to_value(c).ok());
                out.push(serde_json::json!({
                    "Id": image.id, "RepoTags": image.tags, "RepoDigests": image.digests,
                    "Created": image.created, "Size": image.size, "Platform": image.platform,
                    "RootFS": { "Type": "layers", "Layers": image.layers },
                    "Config": config.as_ref().and_then(|c| c.get("config")).cloned(),
                }));
            }
            None => code = fail(format!("No such image: {name}")),
        }
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(code)
}

pub fn import(args: &ImportArgs) -> Outcome {
    let store = store()?;
    let input: Box<dyn std::io::Read> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => Box::new(f),
            Err(e) => return Err(CliError::msg(format!("{}: {e}", args.file))),
        }
    };
    match archive::import(&store, input, &args.reference) {
        Ok(image) => {
            println!("{}", image.id);
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn load(args: &LoadArgs) -> Outcome {
    let store = store()?;
    let input: Box<dyn std::io::Read> = match &args.input {
        None => Box::new(std::io::stdin().lock()),
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => return Err(CliError::msg(format!("{}: {e}", path.display()))),
        },
    };
    match archive::load(&store, input) {
        Ok(images) => {
            if !args.quiet {
                for image in images {
                    if image.tags.is_empty() {
                        println!("Loaded image ID: {}", image.id);
                    }
                    for t in &image.tags {
                        if let Ok(r) = Ref::parse(t) {
                            println!("Loaded image: {}", pull::shown_ref(&r));
                        }
                    }
                }
            }
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

fn server_of(server: Option<&str>) -> String {
    match server {
        None => "docker.io".into(),
        Some(s) => s
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .trim_end_matches("/v2")
            .to_string(),
    }
}

pub fn login(args: &LoginArgs) -> Outcome {
    let server = server_of(args.server.as_deref());
    let Some(user) = args.username.clone() else {
        return Err(CliError::msg(
            "login: give a user name with -u (interactive login is not supported)",
        ));
    };
    let password = match (&args.password, args.password_stdin) {
        (Some(p), false) => p.clone(),
        (None, true) => {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                return Err(CliError::msg(format!("cannot read the password: {e}")));
            }
            text.trim_end_matches(['\n', '\r']).to_string()
        }
        (Some(_), true) => {
            return Err(CliError::msg(
                "--password and --password-stdin are mutually exclusive",
            ));
        }
        (None, false) => {
            return Err(CliError::msg(
                "login: give a password with -p or --password-stdin",
            ));
        }
    };
    if let Err(e) = pull::check_login(&server, &user, &password, &args.insecure_registry) {
        return Err(CliError::msg(format!("{e:#}")));
    }
    match auth::store(&server, &user, &password) {
        Ok(()) => {
            println!("Login Succeeded");
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn logout(server: Option<&str>) -> Outcome {
    let server = server_of(server);
    match auth::remove(&server) {
        Ok(true) => {
            println!("Removing login credentials for {server}");
            Ok(0)
        }
        Ok(false) => {
            println!("Not logged in to {server}");
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}
fn parse_platform(text: &str) -> Result<Platform, String> {
    Platform::parse(text).map_err(|e| e.to_string())
}
