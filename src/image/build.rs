//! `build`: a Dockerfile run as Docker's classic builder runs it, step by step, each step's
//! result an image config over a list of layers.
//!
//! - `RUN` is a container of ours, started by our own `run` (the one start path, its
//!   containment whole, shown by `ps` and the dashboard while it runs), its writable layer
//!   then made a layer through [`super::layer`] as `commit` makes one.
//! - `COPY` and `ADD` read the context through [`super::context`] (hostile input) and write a
//!   layer tar straight into [`super::layer`]; `--from` reads an earlier stage or an image
//!   through a read-only overlay mounted in a mount namespace of one thread's own.
//! - Every other instruction changes the config only ([`super::dockerfile::apply_to_config`],
//!   the code `commit -c` uses).
//!
//! The cache is keyed as Docker's: the parent's config digest, the instruction as run (after
//! substitution, with the build args `RUN` sees), and for `COPY`/`ADD` the digest of the very
//! tar the step writes (its files' names, modes, owners and contents). A hit gives the step's
//! config digest back, so an unchanged rebuild makes the same image id and starts nothing.

use super::context::Context;
use super::dockerfile::{self, Command, Instruction};
use super::layer::{self, Compression};
use super::platform::Platform;
use super::store::{Image, Store};
use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `build` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub context: PathBuf,
    /// `-f`: a Dockerfile on the host (else `Dockerfile` in the context).
    pub dockerfile: Option<PathBuf>,
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub platform: Option<Platform>,
    pub no_cache: bool,
    /// `RUN`'s network (`--network`): the default bridge unless told.
    pub network: Option<String>,
    pub quiet: bool,
}

/// Where a build is: an image config (its `rootfs` always the layers below) and its digest.
#[derive(Debug, Clone)]
struct State {
    config: Value,
    layers: Vec<String>,
    id: String,
}

impl State {
    fn new(mut config: Value, layers: Vec<String>) -> State {
        config["rootfs"] = json!({ "type": "layers", "diff_ids": layers });
        let id = digest(&serde_json::to_vec(&config).unwrap_or_default());
        State { config, layers, id }
    }

    fn short(&self) -> &str {
        let hex = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        &hex[..12]
    }

    fn workdir(&self) -> PathBuf {
        let dir = self.config["config"]["WorkingDir"].as_str().unwrap_or("");
        PathBuf::from(if dir.is_empty() { "/" } else { dir })
    }

    fn env(&self) -> BTreeMap<String, String> {
        self.config["config"]["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", super::unpack::hex(&Sha256::digest(bytes)))
}

/// A writer that only hashes (the content key of a `COPY`).
struct HashSink(Sha256);

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Builder<'a> {
    store: &'a Store,
    options: &'a Options,
    out: &'a mut dyn Write,
    stages: Vec<(Option<String>, State)>,
    cache: PathBuf,
}

/// Builds; returns the image recorded (tagged as asked).
pub fn build(store: &Store, options: &Options, out: &mut dyn Write) -> anyhow::Result<Image> {
    let context = Context::open(&options.context)?;
    let text = match &options.dockerfile {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the Dockerfile {}", path.display()))?,
        None => context.read(Path::new("Dockerfile"))?,
    };
    let parsed = dockerfile::parse(&text)?;
    for tag in &options.tags {
        super::reference::Ref::parse(tag).with_context(|| format!("-t {tag}"))?;
    }
    // Layers made here are held by nothing until the image is recorded: no deleter meanwhile.
    let _using = store.using()?;
    let cache = store.dir().join(super::store::BUILD_CACHE);
    std::fs::create_dir_all(&cache).context("cannot make the build cache")?;
    let mut builder = Builder {
        store,
        options,
        out,
        stages: Vec::new(),
        cache,
    };
    for note in &parsed.notes {
        builder.say(&format!("Note: {note}"));
    }
    let state = builder.run(&context, &parsed.instructions)?;
    let image = super::compose::record(store, state.config, &state.layers, &options.tags)?;
    builder.say(&format!("Successfully built {}", image.short_id()));
    for tag in &options.tags {
        let r = super::reference::Ref::parse(tag)?;
        builder.say(&format!(
            "Successfully tagged {}",
            super::pull::shown_ref(&r)
        ));
    }
    Ok(image)
}

impl Builder<'_> {
    fn say(&mut self, text: &str) {
        if !self.options.quiet {
            let _ = writeln!(self.out, "{}", crate::printable::escaped(text));
            let _ = self.out.flush();
        }
    }

    fn run(&mut self, context: &Context, instructions: &[Instruction]) -> anyhow::Result<State> {
        if instructions
            .first()
            .is_none_or(|i| i.keyword != "FROM" && i.keyword != "ARG")
        {
            bail!("the Dockerfile must begin with FROM (ARG may come before it)");
        }
        // Which instructions run: up to the end of --target's stage.
        let mut last = instructions.len();
        if let Some(target) = &self.options.target {
            let start = instructions
                .iter()
                .position(|i| {
                    i.keyword == "FROM"
                        && stage_name(&i.args).is_some_and(|n| n.eq_ignore_ascii_case(target))
                })
                .ok_or_else(|| anyhow!("target stage {target:?} could not be found"))?;
            last = instructions[start + 1..]
                .iter()
                .position(|i| i.keyword == "FROM")
                .map_or(instructions.len(), |p| start + 1 + p);
        }
        let instructions = &instructions[..last];
        let total = instructions.len();
        // ARGs before the first FROM: for FROM lines only.
        let mut meta = BTreeMap::new();
        let mut vars = BTreeMap::new();
        let mut state: Option<State> = None;
        let mut name: Option<String> = None;
        for (n, instruction) in instructions.iter().enumerate() {
            self.say(&format!("Step {}/{total} : {}", n + 1, instruction.shown()));
            let result = match (&instruction.keyword[..], &state) {
                ("ARG", None) => {
                    self.arg(instruction, &mut meta)?;
                    continue;
                }
                ("FROM", _) => {
                    if let Some(done) = state.take() {
                        self.stages.push((name.take(), done));
                    }
                    name = stage_name(&instruction.args).map(str::to_string);
                    vars = BTreeMap::new();
                    self.from(instruction, &meta)
                }
                (_, None) => bail!(
                    "Dockerfile line {}: {} before FROM",
                    instruction.line,
                    instruction.keyword
                ),
                ("ARG", Some(_)) => self
                    .arg(instruction, &mut vars)
                    .map(|()| state.clone().expect("a state")),
                (_, Some(current)) => self.step(context, instruction, current, &vars),
            };
            let next = result.map_err(|e| {
                anyhow!(
                    "Dockerfile line {}: {}: {e:#}",
                    instruction.line,
                    instruction.keyword
                )
            })?;
            self.say(&format!(" ---> {}", next.short()));
            state = Some(next);
        }
        state.ok_or_else(|| anyhow!("the Dockerfile has no FROM"))
    }

    /// `ARG NAME[=default]`: its value from `--build-arg`, else the default, else an outer
    /// (pre-FROM) one.
    fn arg(
        &mut self,
        instruction: &Instruction,
        vars: &mut BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        for (key, default) in dockerfile::pairs(&instruction.args, "ARG")? {
            let value = self
                .options
                .build_args
                .get(&key)
                .cloned()
                .unwrap_or(default);
            vars.insert(key, value);
        }
        Ok(())
    }

    fn from(
        &mut self,
        instruction: &Instruction,
        meta: &BTreeMap<String, String>,
    ) -> anyhow::Result<State> {
        let args = dockerfile::substitute(&instruction.args, meta);
        let reference = args
            .split_whitespace()
            .next()
            .ok_or_else(|| anyhow!("FROM needs an image"))?;
        if reference.eq_ignore_ascii_case("scratch") {
            let platform = self.options.platform.clone().unwrap_or_else(Platform::host);
            let mut config =
                json!({ "architecture": platform.arch, "os": platform.os, "config": {} });
            if let Some(variant) = &platform.variant {
                config["variant"] = variant.clone().into();
            }
            return Ok(State::new(config, Vec::new()));
        }
        if let Some((_, stage)) = self.stages.iter().rev().find(|(n, _)| {
            n.as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(reference))
        }) {
            return Ok(stage.clone());
        }
        let image = self.image(reference, instruction.flag("platform"))?;
        let config: Value = serde_json::from_slice(&self.store.blob(&image.id)?)?;
        Ok(State::new(config, image.layers.clone()))
    }

    /// An image from the store, pulled when missing (as `docker build` pulls a base).
    fn image(&mut self, reference: &str, platform: Option<&str>) -> anyhow::Result<Image> {
        let platform = match platform {
            Some(p) => Some(Platform::parse(p)?),
            None => self.options.platform.clone(),
        };
        let request = crate::spec::run::ImageRequest {
            reference: reference.to_string(),
            pull: crate::spec::run::PullPolicy::Missing,
            platform,
            entrypoint: None,
            command: Vec::new(),
            workdir_given: false,
            insecure: Vec::new(),
        };
        super::obtain(self.store, &request)
    }

    /// The step's cache entry: the config digest it made before.
    fn cached(&self, key: &str) -> Option<State> {
        if self.options.no_cache {
            return None;
        }
        let id =
            std::fs::read_to_string(self.cache.join(key.trim_start_matches("sha256:"))).ok()?;
        let config: Value = serde_json::from_slice(&self.store.blob(id.trim()).ok()?).ok()?;
        let layers: Vec<String> =
            serde_json::from_value(config["rootfs"]["diff_ids"].clone()).ok()?;
        if layers.iter().any(|l| self.store.layer(l).is_none()) {
            return None;
        }
        Some(State::new(config, layers))
    }

    /// Keeps a step's result: its config as a blob, the cache entry naming it.
    fn keep(&self, key: &str, state: &State) -> anyhow::Result<()> {
        self.store
            .put_blob(&state.id, &serde_json::to_vec(&state.config)?)?;
        super::store::write_atomic(
            &self.cache.join(key.trim_start_matches("sha256:")),
            state.id.as_bytes(),
        )
    }

    /// The next state: `config` changed, a history entry added, over `layers`.
    fn next(
        &self,
        parent: &State,
        mut config: Value,
        layer: Option<String>,
        created_by: String,
    ) -> State {
        let mut history = config["history"].as_array().cloned().unwrap_or_default();
        let mut entry = json!({ "created": super::compose::now(), "created_by": created_by });
        if layer.is_none() {
            entry["empty_layer"] = true.into();
        }
        history.push(entry);
        config["history"] = history.into();
        config["created"] = super::compose::now().into();
        let mut layers = parent.layers.clone();
        layers.extend(layer);
        State::new(config, layers)
    }

    fn step(
        &mut self,
        context: &Context,
        instruction: &Instruction,
        parent: &State,
        vars: &BTreeMap<String, String>,
    ) -> anyhow::Result<State> {
        let keyword = instruction.keyword.as_str();
        // Substitution: the stage's ARGs, then its ENV over them.
        let mut scope = vars.clone();
        scope.extend(parent.env());
        let args = match keyword {
            "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" | "HEALTHCHECK" => instruction.args.clone(),
            _ => dockerfile::substitute(&instruction.args, &scope),
        };
        let run_env: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut key_text = format!("{}\n{keyword} {args}", parent.id);
        let content = match keyword {
            "RUN" => {
                key_text.push_str(&format!("\n{}", run_env.join("\n")));
                None
            }
            "COPY" | "ADD" => {
                let copy = self.copy_plan(context, instruction, &args, parent)?;
                let mut sink = HashSink(Sha256::new());
                self.write_copy(context, &copy, &mut sink)?;
                let hash = super::unpack::hex(&sink.0.finalize());
                key_text.push_str(&format!("\n{hash}"));
                Some(copy)
            }
            _ => None,
        };
        let key = digest(key_text.as_bytes());
        if let Some(state) = self.cached(&key) {
            self.say(" ---> Using cache");
            return Ok(state);
        }
        let shell: Vec<String> = serde_json::from_value(parent.config["config"]["Shell"].clone())
            .unwrap_or_else(|_| dockerfile::default_shell());
        let state = match (keyword, content) {
            ("RUN", _) => {
                let argv = Command::parse(&args).argv(&shell);
                let diff_id = self.run_step(parent, &argv, &run_env)?;
                let by = match Command::parse(&args) {
                    Command::Shell(line) => format!("{} {line}", shell.join(" ")),
                    Command::Exec(argv) => serde_json::to_string(&argv)?,
                };
                self.next(parent, parent.config.clone(), Some(diff_id), by)
            }
            (_, Some(copy)) => {
                let made = layer::make(self.store, Compression::Gzip, |out| {
                    self.write_copy(context, &copy, out)
                })?;
                let by = format!("/bin/sh -c #(nop) {keyword} {args}");
                self.next(parent, parent.config.clone(), Some(made.diff_id), by)
            }
            _ => {
                let mut config = parent.config.clone();
                if !dockerfile::apply_to_config(keyword, &args, &mut config)? {
                    bail!("{keyword} is not supported here");
                }
                let by = format!("/bin/sh -c #(nop)  {keyword} {args}");
                self.next(parent, config, None, by)
            }
        };
        self.keep(&key, &state)?;
        Ok(state)
    }

    /// Runs `argv` as a container of `parent`'s image with our own `run`, and makes its
    /// writable layer a layer; returns the layer's diff_id.
    fn run_step(
        &mut self,
        parent: &State,
        argv: &[String],
        env: &[String],
    ) -> anyhow::Result<String> {
        let image = {
            let existed = self.store.find(&parent.id);
            match existed {
                Some(image) => (image, false),
                None => (
                    super::compose::record(self.store, parent.config.clone(), &parent.layers, &[])?,
                    true,
                ),
            }
        };
        let result = self.run_container(&image.0, argv, env);
        if image.1 {
            let _ = self.store.untag(&image.0, None);
        }
        result
    }

    fn run_container(
        &mut self,
        image: &Image,
        argv: &[String],
        env: &[String],
    ) -> anyhow::Result<String> {
        let name = format!("build-{}", &crate::state::record::new_id()[..12]);
        self.say(&format!(" ---> Running in {name}"));
        let exe = std::env::current_exe().context("cannot find our own binary")?;
        let ours = |args: &[&str]| {
            let mut command = std::process::Command::new(&exe);
            command.args(args).stdin(std::process::Stdio::null());
            command
        };
        // Detached, so its record and writable layer stay after it ends; its output streamed
        // from its log as it runs; its exit code from `wait`.
        let mut run = ours(&[
            "run", "-d", "--name", &name, "--pull", "never", "--image", &image.id,
        ]);
        if let Some(network) = &self.options.network {
            run.args(["--network", network]);
        }
        for e in env {
            run.args(["-e", e]);
        }
        run.arg("--").args(argv).stdout(std::process::Stdio::null());
        let started = run.status().context("cannot start the step's container")?;
        let code = match started.success() {
            false => None,
            true => {
                let _ = ours(&["logs", "-f", &name]).status();
                ours(&["wait", &name]).output().ok().and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse::<i32>()
                        .ok()
                })
            }
        };
        let status = code.unwrap_or(125);
        let record = crate::runtime::reclaim::find(&name);
        let made = match (status, &record) {
            (0, Ok(record)) => self.layer_of(record),
            (code, _) => Err(anyhow!(
                "The command '{}' returned a non-zero code: {code}",
                crate::printable::escaped(&argv.join(" ")),
            )),
        };
        if record.is_ok() {
            let removed = ours(&["rm", "-f", "-v", &name])
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !removed {
                bail!("cannot remove the step's container {name}");
            }
            self.say(&format!("Removing intermediate container {name}"));
        }
        made
    }

    fn layer_of(&self, record: &crate::state::record::Record) -> anyhow::Result<String> {
        let spec = crate::state::store::spec(&record.id)?;
        let writable = super::changes::Writable::of(record, &spec)?
            .ok_or_else(|| anyhow!("the step's container had a read-only root"))?;
        let made = layer::make(self.store, Compression::Gzip, |out| {
            super::commit::write_upper(&writable, out)
        })?;
        Ok(made.diff_id)
    }

    fn copy_plan(
        &mut self,
        context: &Context,
        instruction: &Instruction,
        args: &str,
        parent: &State,
    ) -> anyhow::Result<Copy> {
        let words = match Command::parse(args) {
            Command::Exec(words) => words,
            Command::Shell(line) => dockerfile::words(&line)?,
        };
        let Some((dest, sources)) = words.split_last().filter(|(_, s)| !s.is_empty()) else {
            bail!("{} needs a source and a destination", instruction.keyword);
        };
        if instruction.keyword == "ADD"
            && let Some(url) = sources.iter().find(|s| s.contains("://"))
        {
            bail!(
                "ADD from a URL ({}) is not supported: download it into the build context and COPY it",
                crate::printable::escaped(url)
            );
        }
        let owner = match instruction.flag("chown") {
            Some(owner) => self.owner(owner, parent)?,
            None => (0, 0),
        };
        let from = match instruction.flag("from") {
            Some(from) => Some(self.source_layers(from)?),
            None => None,
        };
        let mut found = Vec::new();
        let globbed = sources.iter().any(|s| s.contains(['*', '?']));
        let lookup = |ctx: &Context| -> anyhow::Result<Vec<PathBuf>> {
            let mut all = Vec::new();
            for source in sources {
                all.extend(ctx.sources(source)?);
            }
            Ok(all)
        };
        if let Some(layers) = &from {
            with_root(self.store, layers, |root| lookup(&Context::of_root(root)?))?
        } else {
            lookup(context)?
        }
        .into_iter()
        .for_each(|p| found.push(p));
        let dest = parent.workdir().join(dest);
        let into_dir = args.trim_end().trim_end_matches(['"', ']']).ends_with('/')
            || found.len() > 1
            || globbed;
        Ok(Copy {
            add: instruction.keyword == "ADD",
            sources: found,
            dest,
            into_dir,
            owner,
            from,
        })
    }

    /// The layers of `--from=NAME`: an earlier stage (by name or index), else an image.
    fn source_layers(&mut self, from: &str) -> anyhow::Result<Vec<String>> {
        if let Some((_, s)) = self
            .stages
            .iter()
            .rev()
            .find(|(n, _)| n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(from)))
        {
            return Ok(s.layers.clone());
        }
        if let Ok(index) = from.parse::<usize>() {
            return self
                .stages
                .get(index)
                .map(|(_, s)| s.layers.clone())
                .ok_or_else(|| anyhow!("--from={from}: no such stage"));
        }
        Ok(self.image(from, None)?.layers)
    }

    fn write_copy(
        &self,
        context: &Context,
        copy: &Copy,
        out: &mut (dyn Write + Send),
    ) -> anyhow::Result<()> {
        match &copy.from {
            Some(layers) => with_root(self.store, layers, |root| {
                Context::of_root(root)?.copy(
                    &copy.sources,
                    &copy.dest,
                    copy.into_dir,
                    copy.owner,
                    out,
                )
            }),
            None if copy.add && copy.sources.len() == 1 && context.is_archive(&copy.sources[0]) => {
                context.unpack_archive(&copy.sources[0], &copy.dest, out)
            }
            None => context.copy(&copy.sources, &copy.dest, copy.into_dir, copy.owner, out),
        }
    }
}

/// A `COPY` or `ADD`, resolved.
struct Copy {
    add: bool,
    sources: Vec<PathBuf>,
    dest: PathBuf,
    into_dir: bool,
    owner: (u32, u32),
    from: Option<Vec<String>>,
}

impl Builder<'_> {
    /// `--chown=USER[:GROUP]`: ids as given, names looked up in the stage's own `/etc/passwd`
    /// and `/etc/group` (read inside its root, never through a link out of it). A user without
    /// a group gives its uid as the gid too, as Docker's builder does.
    fn owner(&self, text: &str, parent: &State) -> anyhow::Result<(u32, u32)> {
        let (user, group) = text.split_once(':').unwrap_or((text, ""));
        let numeric = |s: &str| s.parse::<u32>().ok();
        if user.is_empty() || (group.is_empty() && text.contains(':')) {
            bail!("--chown={text}: give USER[:GROUP], as names or ids");
        }
        let (mut passwd, mut groups) = (String::new(), String::new());
        if (numeric(user).is_none() || (!group.is_empty() && numeric(group).is_none()))
            && !parent.layers.is_empty()
        {
            (passwd, groups) = with_root(self.store, &parent.layers, |root| {
                let root = crate::runtime::rootpath::InRoot::open(root, Path::new("/"))?;
                let read = |path: &str| {
                    use std::io::Read;
                    let mut text = String::new();
                    if let Ok(file) = root.read_file(Path::new(path)) {
                        let _ = file.take(1 << 20).read_to_string(&mut text);
                    }
                    text
                };
                Ok((read("/etc/passwd"), read("/etc/group")))
            })?;
        }
        let uid = match numeric(user) {
            Some(uid) => uid,
            None => crate::runtime::user::id_in(&passwd, user).ok_or_else(|| {
                anyhow!("--chown={text}: no user {user} in the stage's /etc/passwd")
            })?,
        };
        let gid = match (group, numeric(group)) {
            ("", _) => uid,
            (_, Some(gid)) => gid,
            (name, None) => crate::runtime::user::id_in(&groups, name).ok_or_else(|| {
                anyhow!("--chown={text}: no group {name} in the stage's /etc/group")
            })?,
        };
        Ok((uid, gid))
    }
}

/// The `FROM ... AS name` of a FROM line.
fn stage_name(args: &str) -> Option<&str> {
    let words: Vec<&str> = args.split_whitespace().collect();
    match words.as_slice() {
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name),
        _ => None,
    }
}

/// Runs `f` on the merged, read-only root of `layers`: the layer itself when there is one,
/// else an overlay mounted in a thread that has a mount namespace of its own (so nothing is
/// mounted where anyone else could see it, and it is gone when the thread ends).
fn with_root<T: Send>(
    store: &Store,
    layers: &[String],
    f: impl FnOnce(&Path) -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    match layers {
        [] => bail!("the stage or image has no files"),
        [one] => f(&store
            .layer(one)
            .ok_or_else(|| anyhow!("layer {one} is missing"))?),
        _ => {
            let links: Vec<String> = layers
                .iter()
                .rev()
                .map(|l| store.layer_link(l))
                .collect::<anyhow::Result<_>>()?;
            let base = store.dir().to_path_buf();
            std::thread::scope(|scope| {
                scope
                    .spawn(move || {
                        use nix::mount::{MsFlags, mount};
                        use nix::sched::{CloneFlags, unshare};
                        unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS)
                            .map_err(|e| anyhow!("cannot make a mount namespace: {}", e.desc()))?;
                        crate::runtime::mounts::make_private()?;
                        nix::unistd::chdir(&base)?;
                        let target = base
                            .join("tmp")
                            .join(format!("from-{}", &crate::state::record::new_id()[..12]));
                        std::fs::create_dir_all(&target)?;
                        let options = format!("lowerdir={}", links.join(":"));
                        let mounted = mount(
                            Some("overlay"),
                            &target,
                            Some("overlay"),
                            MsFlags::MS_RDONLY,
                            Some(options.as_str()),
                        )
                        .map_err(|e| anyhow!("cannot mount the stage's layers: {}", e.desc()));
                        let result = mounted.and_then(|()| f(&target));
                        let _ = nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH);
                        let _ = std::fs::remove_dir(&target);
                        result
                    })
                    .join()
                    .map_err(|_| anyhow!("the stage reader panicked"))?
            })
        }
    }
}
