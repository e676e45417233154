//! `commit`: a container's writable layer made an image layer on top of its image's, and its
//! config (what it runs, its environment, user, working directory, ports and labels) made the
//! image's, with Dockerfile instructions (`-c 'CMD ["sh"]'`) applied last and a history
//! entry added, as `docker commit` does.

use super::changes::Writable;
use super::dockerfile;
use super::layer::{self, Compression};
use super::store::{Image, Store};
use crate::runtime::walk;
use crate::state::record::{Record, Status};
use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};
use std::path::Path;

/// What `commit` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub reference: Option<String>,
    pub changes: Vec<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    /// Freeze a running container while its layer is read (Docker's default).
    pub pause: bool,
    pub compression: Compression,
}

/// Writes the upper directory of `layer` as a layer tar to `out`, leaving our own `/etc` files
/// out. A rootless container's is read by a process of ours that is root of the user's
/// namespace ([`Task::WriteUpper`]): what its users wrote is owned by the user's subordinate
/// ids, in directories the user may not enter as themselves.
///
/// [`Task::WriteUpper`]: crate::state::as_root::Task::WriteUpper
pub fn write_upper(layer: &Writable, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    if crate::state::as_root::needed() {
        return write_upper_as_root(&layer.id, out);
    }
    write_upper_here(layer, out)
}

/// [`write_upper`] in this process.
fn write_upper_here(layer: &Writable, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let top = walk::open_path(&layer.upper)?;
    let mut tar = walk::Tar::new(
        out,
        walk::Form::Layer {
            clamp: layer::source_date_epoch(),
        },
    );
    walk::below(
        &top,
        Path::new(""),
        None,
        &mut |e| match layer.is_ours(e.path) {
            true => Ok(()),
            false => tar.entry(e),
        },
    )?;
    tar.finish().map(drop)
}

/// [`write_upper`] by the task: its standard output is the layer.
fn write_upper_as_root(id: &str, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    use crate::state::as_root::{Task, answer, command};
    let mut task = command(Task::WriteUpper, id.as_ref())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot start the layer's reader")?;
    let copied = task
        .stdout
        .take()
        .map(|mut from| std::io::copy(&mut from, out));
    answer(
        task.wait_with_output()
            .context("cannot wait for the layer's reader")?,
    )?;
    match copied {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(e).context("cannot write the layer"),
        None => bail!("the layer's reader gave no output"),
    }
}

/// [`crate::state::as_root::Task::WriteUpper`], as root of the user's namespace: writes
/// container `id`'s writable layer to standard output. Only a container id of the user's
/// state names what is read.
pub fn write_upper_task(id: &std::ffi::OsStr) -> anyhow::Result<()> {
    let id = crate::state::as_root::container_id(id)?;
    let writable =
        Writable::of_id(id)?.ok_or_else(|| anyhow!("container {id} has a read-only root"))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_upper_here(&writable, &mut out)?;
    std::io::Write::flush(&mut out).context("cannot write the layer")
}

/// Whether `reference` can name a committed image: a valid reference without a digest.
/// The dashboard asks before it commits, so its form can point at the field.
pub fn check_reference(reference: &str) -> anyhow::Result<()> {
    let r = super::reference::Ref::parse(reference)?;
    if r.0.digest().is_some() {
        bail!("{reference}: a digest is the content's own name, not a name to give");
    }
    Ok(())
}

/// Commits the container `record` names; returns the image recorded.
pub fn commit(record: &Record, options: &Options) -> anyhow::Result<Image> {
    if let Some(reference) = &options.reference {
        check_reference(reference)?;
    }
    let spec = crate::state::store::spec(&record.id)?;
    let Some(used) = spec.image.as_ref() else {
        bail!(
            "container {} does not run an image (its root is a directory): import the directory as an image first",
            record.name
        );
    };
    let Some(writable) = Writable::of(record, &spec)? else {
        bail!(
            "container {} has a read-only root: there is nothing it can have changed",
            record.name
        );
    };
    let store = if used.store.as_os_str().is_empty() {
        Store::open()?
    } else {
        Store::at(&used.store)?
    };
    // Its layers stay while the new image is made on them.
    let _using = store.using()?;
    let base = store.blob(&used.id).with_context(|| {
        format!(
            "the image of container {} is gone from the store",
            record.name
        )
    })?;
    let mut config: Value =
        serde_json::from_slice(&base).context("the image's config is not valid")?;
    // Changes are read before anything is written: a bad one leaves nothing behind.
    let mut changes = Vec::new();
    for change in &options.changes {
        let change = change.trim();
        let (keyword, args) = change
            .split_once(char::is_whitespace)
            .unwrap_or((change, ""));
        let keyword = keyword.to_ascii_uppercase();
        const ALLOWED: [&str; 10] = [
            "CMD",
            "ENTRYPOINT",
            "ENV",
            "EXPOSE",
            "LABEL",
            "ONBUILD",
            "USER",
            "VOLUME",
            "WORKDIR",
            "STOPSIGNAL",
        ];
        if !ALLOWED.contains(&keyword.as_str()) {
            bail!(
                "{keyword} is not a change commit can make (it takes {})",
                ALLOWED.join(", ")
            );
        }
        changes.push((keyword, args.trim().to_string()));
    }
    from_container(&mut config, &spec);
    for (keyword, args) in &changes {
        dockerfile::apply_to_config(keyword, args, &mut config)
            .with_context(|| format!("--change {keyword} {args}"))?;
    }
    let created = super::compose::now();
    config["created"] = created.clone().into();
    if let Some(author) = &options.author {
        config["author"] = author.clone().into();
    }
    let mut history = config
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut entry = json!({ "created": created, "created_by": spec.command.join(" ") });
    if let Some(message) = &options.message {
        entry["comment"] = message.clone().into();
    }
    if let Some(author) = &options.author {
        entry["author"] = author.clone().into();
    }
    history.push(entry);
    config["history"] = history.into();
    let made = match options.pause {
        true => {
            crate::runtime::cgroups::still(&record.id, record.status == Status::Running, || {
                layer::make(&store, options.compression, |out| {
                    write_upper(&writable, out)
                })
            })
        }
        false => layer::make(&store, options.compression, |out| {
            write_upper(&writable, out)
        }),
    }
    .map_err(|e| anyhow!("cannot commit container {}: {e:#}", record.name))?;
    let mut layers = used.layers.clone();
    layers.push(made.diff_id);
    let tags: Vec<String> = options.reference.iter().cloned().collect();
    super::compose::record(&store, config, &layers, &tags)
}

/// The container's own settings into the config: what it runs, its environment, working
/// directory, user, ports and labels.
fn from_container(config: &mut Value, spec: &crate::runtime::ContainerSpec) {
    if !config.get("config").is_some_and(Value::is_object) {
        config["config"] = json!({});
    }
    let c = &mut config["config"];
    let entrypoint: Vec<String> = c
        .get("Entrypoint")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    // The image's entrypoint stays where the command still begins with it; the rest is Cmd.
    match spec.command.strip_prefix(entrypoint.as_slice()) {
        Some(cmd) if !entrypoint.is_empty() => c["Cmd"] = cmd.to_vec().into(),
        _ => {
            c["Entrypoint"] = Value::Null;
            c["Cmd"] = spec.command.clone().into();
        }
    }
    c["Env"] = spec.env.clone().into();
    c["WorkingDir"] = spec.workdir.to_string_lossy().into_owned().into();
    if let Some(user) = &spec.user {
        c["User"] = user.clone().into();
    }
    if !spec.labels.is_empty() {
        c["Labels"] = json!(spec.labels);
    }
    let mut ports = c
        .get("ExposedPorts")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    for (port, protocol) in &spec.network.expose {
        ports[format!("{port}/{}", protocol.name())] = json!({});
    }
    if ports.as_object().is_some_and(|p| !p.is_empty()) {
        c["ExposedPorts"] = ports;
    }
}
