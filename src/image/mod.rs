//! Images: references, the registry client, the layer store, safe unpacking, platforms, and
//! how an image becomes a container's root and defaults.
//!
//! [`reference`](mod@reference) parses Docker's names; [`pull`] speaks the distribution API; [`store`] keeps
//! blobs, unpacked layers and image records under `$MCT_ROOT/image`; [`unpack`] applies a layer
//! without letting it write outside itself; [`archive`] reads `import` and `load` tarballs;
//! [`platform`] says whether the host can run an image's architecture; [`auth`] keeps
//! registry credentials in Docker's file.

pub mod archive;
pub mod auth;
pub mod build;
pub mod changes;
pub mod commit;
pub mod compose;
pub mod context;
pub mod digest;
pub mod dockerfile;
pub mod layer;
pub mod platform;
pub mod positional;
pub mod pull;
pub mod push;
pub mod reference;
pub mod remove;
pub mod save;
pub mod store;
pub mod transport;
pub mod unpack;

use crate::runtime::ContainerSpec;
use crate::spec::ImageUse;
use crate::spec::rootfs::{Layers, Rootfs, Writes};
use crate::spec::run::{ImageRequest, PullPolicy};
use crate::spec::volume::Volume;
use anyhow::{anyhow, bail};
use platform::Platform;
use std::io::IsTerminal;
use std::path::PathBuf;
use store::{Image, Store};

/// The image `request` names, if the store has it for the platform asked (the host's unless
/// `--platform` says otherwise): what runs without a pull.
pub fn local(store: &Store, request: &ImageRequest) -> Option<Image> {
    let platform = request.platform.clone().unwrap_or_else(Platform::host);
    store.find(&request.reference).filter(|i| {
        Platform::parse(&i.platform)
            .is_ok_and(|p| platform.matches(&p.os, &p.arch, p.variant.as_deref()))
    })
}

/// The image `request` names, from the store or pulled (progress to stderr, as
/// `docker run` shows it).
pub fn obtain(store: &Store, request: &ImageRequest) -> anyhow::Result<Image> {
    let platform = request.platform.clone().unwrap_or_else(Platform::host);
    let local = local(store, request);
    match (request.pull, local) {
        (PullPolicy::Never, None) => bail!(
            "image {} ({platform}) is not in the store, and --pull never forbids pulling it",
            request.reference
        ),
        (PullPolicy::Missing | PullPolicy::Never, Some(image)) => Ok(image),
        (policy, _) => {
            if policy == PullPolicy::Missing {
                eprintln!("Unable to find image '{}' locally", request.reference);
            }
            let options = pull::Options {
                platform,
                insecure: request.insecure.clone(),
            };
            let progress =
                pull::Progress::Lines(Box::new(std::io::stderr()), std::io::stderr().is_terminal());
            pull::pull(store, &request.reference, &options, progress)
        }
    }
}

/// Makes `spec` run `request`'s image: its layers under the container's own upper layer, and
/// its config's defaults with Docker's precedence (the command line wins).
pub fn prepare(spec: &mut ContainerSpec, request: &ImageRequest) -> anyhow::Result<()> {
    let store = Store::open()?;
    let image = obtain(&store, request)?;
    apply(spec, request, &store, &image)
}

/// [`prepare`] for a dashboard session, a shell: with no command given, an image with no
/// Entrypoint or Cmd (a `docker import`ed root, say) runs `/bin/sh`.
pub fn prepare_shell(spec: &mut ContainerSpec, request: &ImageRequest) -> anyhow::Result<()> {
    let store = Store::open()?;
    let image = obtain(&store, request)?;
    let defaults = store.config(&image)?.config().clone().unwrap_or_default();
    let has_command = defaults
        .entrypoint()
        .as_ref()
        .is_some_and(|e| !e.is_empty())
        || defaults.cmd().as_ref().is_some_and(|c| !c.is_empty());
    let mut request = request.clone();
    if request.command.is_empty() && !has_command {
        request.command = vec!["/bin/sh".into()];
    }
    apply(spec, &request, &store, &image)
}

/// [`prepare`] for an image already in the store.
pub fn apply(
    spec: &mut ContainerSpec,
    request: &ImageRequest,
    store: &Store,
    image: &Image,
) -> anyhow::Result<()> {
    // Held until the pin is written: no deleter removes the layers in between.
    let _using = store.using()?;
    let platform = Platform::parse(&image.platform)?;
    if let Some(emulator) = platform.runner()?
        && !emulator.fix_binary
    {
        // Without binfmt_misc's F flag the kernel opens the interpreter by path when the
        // container execs: the container must see it there.
        let real = std::fs::canonicalize(&emulator.interpreter).map_err(|e| {
            anyhow!(
                "image platform {platform}: interpreter {}: {e}",
                emulator.interpreter.display()
            )
        })?;
        spec.volumes.push(Volume::Bind {
            src: real,
            dst: emulator.interpreter.clone(),
            read_only: true,
            idmap: false,
        });
    }
    let config = store.config(image)?;
    let defaults = config.config().clone().unwrap_or_default();
    // The image's Volumes: an anonymous volume each, where the run gives none.
    for path in defaults.volumes().clone().unwrap_or_default() {
        let (dst, _) = Volume::parse_anonymous(&path)
            .ok()
            .flatten()
            .ok_or_else(|| {
                anyhow!(
                    "image {} declares the volume {:?}, which cannot be a volume's target",
                    request.reference,
                    crate::printable::escaped(&path)
                )
            })?;
        if !spec.volumes.iter().any(|v| v.dst() == dst) {
            spec.add_anonymous(dst, false);
        }
    }
    for port in defaults.exposed_ports().clone().unwrap_or_default() {
        // An image's word for a port it cannot say is skipped, not trusted.
        for exposed in crate::spec::network::Network::parse_expose(&port).unwrap_or_default() {
            if !spec.network.expose.contains(&exposed) {
                spec.network.expose.push(exposed);
            }
        }
    }
    // Docker's Healthcheck is no field of the OCI config: read from the config's own JSON.
    if !spec.no_healthcheck && spec.health.as_ref().is_none_or(|h| h.test.is_empty()) {
        let raw: Option<serde_json::Value> = store
            .blob(&image.id)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let theirs = raw.and_then(|v| {
            crate::spec::run::Healthcheck::from_image(v.get("config")?.get("Healthcheck")?)
        });
        match (&mut spec.health, theirs) {
            // Timings given on the command line, the image's test.
            (Some(ours), Some(theirs)) => ours.test = theirs.test,
            (None, theirs) => spec.health = theirs,
            (Some(_), None) => {}
        }
    }
    for (key, value) in defaults.labels().clone().unwrap_or_default() {
        spec.labels.entry(key).or_insert(value);
    }
    let mut env = defaults.env().clone().unwrap_or_default();
    env.append(&mut spec.env);
    spec.env = env;
    let (entrypoint, cmd) = match &request.entrypoint {
        Some(e) if e.is_empty() => (Vec::new(), Vec::new()),
        Some(e) => (vec![e.clone()], Vec::new()),
        None => (
            defaults.entrypoint().clone().unwrap_or_default(),
            defaults.cmd().clone().unwrap_or_default(),
        ),
    };
    let cmd = match request.command.is_empty() {
        // One word with spaces is a shell line only when nothing comes before it.
        false if entrypoint.is_empty() => {
            ContainerSpec::command_from_words(request.command.clone())
        }
        false => request.command.clone(),
        true => cmd,
    };
    spec.command = [entrypoint, cmd].concat();
    if spec.command.is_empty() {
        bail!(
            "no command specified: image {} has no Entrypoint or Cmd, give one",
            request.reference
        );
    }
    if !request.workdir_given {
        spec.workdir = defaults
            .working_dir()
            .as_deref()
            .filter(|w| !w.is_empty())
            .map_or_else(|| PathBuf::from("/"), |w| PathBuf::from("/").join(w));
    }
    spec.workdir_is_default = false;
    spec.create_workdir = true;
    if spec.user.is_none() {
        spec.user = defaults.user().clone().filter(|u| !u.is_empty());
    }
    let mut links = Vec::new();
    for diff_id in image.layers.iter().rev() {
        if store.layer(diff_id).is_none() {
            bail!(
                "image {}: layer {diff_id} is missing or incomplete in the store: pull the image again",
                request.reference
            );
        }
        links.push(store.layer_link(diff_id)?);
    }
    let top = image
        .layers
        .last()
        .and_then(|d| store.layer(d))
        .ok_or_else(|| anyhow!("image {} has no layers", request.reference))?;
    let mode = match spec.rootfs.as_ref().map(|r| r.mode) {
        Some(Writes::ReadOnly) => Writes::ReadOnly,
        _ => Writes::Overlay,
    };
    spec.rootfs = Some(Rootfs {
        dir: top,
        mode,
        layers: Some(Layers {
            base: store.dir().to_path_buf(),
            links,
        }),
    });
    spec.image = Some(ImageUse {
        reference: request.reference.clone(),
        id: image.id.clone(),
        layers: image.layers.clone(),
        size: image.size,
        platform: image.platform.clone(),
        store: store.dir().to_path_buf(),
        stop_signal: defaults.stop_signal().clone(),
    });
    store.pin(&spec.id, &image.layers)
}
