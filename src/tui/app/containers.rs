//! The sessions' containers: starting them (a monitor each), keeping the list in step with the
//! store, exec shells, starting again, removing, and what quitting or detaching ends.

use super::App;
use crate::client::ops;
use crate::runtime::ContainerSpec;
use crate::runtime::cgroups::limits::{self, human};
use crate::runtime::rootfs::{Rootfs, Writes};
use crate::runtime::rootpath::InRoot;
use crate::session::Session;
use crate::state::store;
use crate::tui::ui::form::FIELDS;
use std::path::Path;

impl App {
    /// The command a new session runs unless told: `$SHELL`, else bash, else sh, whichever
    /// exists in the container's root (`rootfs`, or the host's `/`).
    pub fn default_command(rootfs: Option<&Rootfs>) -> String {
        // Looked up inside the image, its links followed as the container would follow them:
        // an image's `/bin/bash -> /etc/shadow` must not make us probe the host's file.
        let root = rootfs.map_or(Path::new("/"), |r| r.dir.as_path());
        let image = InRoot::open(root, Path::new("/")).ok();
        let exists = |p: &str| image.as_ref().is_some_and(|i| i.resolves(Path::new(p)));
        std::env::var("SHELL")
            .ok()
            .filter(|s| s.starts_with('/'))
            .into_iter()
            .chain(["/bin/bash".to_string()])
            .find(|s| exists(s))
            .unwrap_or_else(|| "/bin/sh".to_string())
    }

    /// The first N for which no container of our namespace is named `session-N` and no
    /// session has the hostname `my-container-N`: a new session's name and hostname share
    /// their number, whatever the sessions before were named.
    pub(super) fn free_number(&self) -> u64 {
        let names: Vec<String> = store::visible().into_iter().map(|r| r.name).collect();
        (1..)
            .find(|n| {
                !names.contains(&format!("session-{n}"))
                    && !self
                        .sessions
                        .iter()
                        .any(|s| s.spec.hostname == format!("my-container-{n}"))
            })
            .unwrap_or(self.next_id)
    }

    pub(super) fn defaults(&self) -> [String; FIELDS] {
        let n = self.free_number();
        let rootfs = match &self.template.rootfs {
            Some(_) if self.template.image.is_some() => "(the image's)".to_string(),
            Some(r) => r.dir.display().to_string(),
            None => "(none: the host's files)".to_string(),
        };
        let image = match &self.template.image {
            Some(i) => i.reference.clone(),
            None => "(none)".to_string(),
        };
        let shell = self.shell_of(&self.template);
        let ports = match self.template.network.publish.as_slice() {
            [] => "(none) e.g. 8080:80 53:53/udp".to_string(),
            ports => ports
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        };
        let limits = &self.template.limits;
        let memory = limits.memory.map_or("(no limit) e.g. 256m".into(), human);
        let cpus = limits
            .cpu_quota_us
            .map_or("(no limit) e.g. 0.5".into(), |q| {
                format!(
                    "{}",
                    q as f64 / crate::runtime::cgroups::limits::CPU_PERIOD_US as f64
                )
            });
        [
            format!("session-{n}"),
            format!("my-container-{n}"),
            shell,
            rootfs,
            image,
            self.template.network.mode_shown(),
            ports,
            memory,
            cpus,
            "(none more) e.g. DEBUG=1 LANG=C.UTF-8".into(),
            "(none more) e.g. /srv/data:/data:ro".into(),
            self.template.workdir.display().to_string(),
        ]
    }

    /// The local images, as the form offers them.
    pub(super) fn local_images() -> Vec<String> {
        let Some(store) = crate::image::store::Store::existing() else {
            return Vec::new();
        };
        store
            .images()
            .iter()
            .rev()
            .flat_map(|i| i.tags.iter())
            .filter_map(|t| crate::image::reference::Ref::parse(t).ok())
            .map(|r| crate::image::pull::shown_ref(&r))
            .collect()
    }

    /// The command a session of `spec` runs unless told: an image's Entrypoint and Cmd, else
    /// a shell found in its root.
    fn shell_of(&self, spec: &ContainerSpec) -> String {
        match &spec.image {
            Some(_) => spec.command.join(" "),
            None => App::default_command(spec.rootfs.as_ref()),
        }
    }

    /// Starts a session; empty fields take their defaults. With an image the store lacks, the
    /// session waits, its screen showing the pull, and starts when the pull ends.
    pub fn start_session(&mut self, values: [String; FIELDS]) -> Result<(), String> {
        let [
            name,
            hostname,
            command,
            rootfs,
            image,
            network,
            ports,
            memory,
            cpus,
            env,
            volumes,
            workdir,
        ] = values;
        let defaults = self.defaults();
        let pick = |v: String, d: &String| {
            if v.trim().is_empty() {
                d.clone()
            } else {
                v.trim().to_string()
            }
        };
        let mut spec = self.template.clone();
        spec.id = crate::state::record::new_id();
        let name = pick(name, &defaults[0]);
        let image = image.trim().to_string();
        if !rootfs.trim().is_empty() {
            let dir = std::env::current_dir()
                .unwrap_or_else(|_| "/".into())
                .join(rootfs.trim());
            spec.rootfs = Some(Rootfs {
                dir,
                mode: Writes::Overlay,
                layers: None,
            });
            spec.image = None;
            spec.workdir = "/".into();
        }
        spec.hostname = pick(hostname, &defaults[1]);
        if !network.trim().is_empty() {
            spec.network.mode = crate::runtime::net::Network::parse_mode(network.trim())?;
        }
        if !ports.trim().is_empty() {
            spec.network.publish = ports
                .split([' ', ','])
                .filter(|p| !p.is_empty())
                .map(crate::runtime::net::Publish::parse)
                .collect::<Result<_, _>>()?;
        }
        if !memory.trim().is_empty() {
            spec.limits.memory = Some(limits::parse_bytes(&memory)?);
        }
        if !cpus.trim().is_empty() {
            spec.limits.cpu_quota_us = Some(limits::parse_cpus(&cpus)?);
        }
        for pair in env.split_whitespace() {
            if !pair.contains('=') || pair.starts_with('=') {
                return Err(format!(
                    "invalid environment entry {pair:?}: expected KEY=value"
                ));
            }
            let key = pair.split('=').next().unwrap_or_default();
            spec.env.retain(|e| e.split('=').next() != Some(key));
            spec.env.push(pair.to_string());
        }
        for volume in volumes.split_whitespace() {
            spec.volumes
                .push(crate::runtime::volumes::Volume::parse_bind(volume)?);
        }
        if !workdir.trim().is_empty() {
            let dir = workdir.trim();
            if !dir.starts_with('/') {
                return Err(format!("the working directory {dir:?} must be absolute"));
            }
            spec.workdir = dir.into();
            spec.workdir_is_default = false;
        }
        spec.tty = true;
        spec.term = Some("xterm-256color".into());
        if image.is_empty() {
            return self.launch(name, spec, command);
        }
        if !rootfs.trim().is_empty() {
            return Err("give a rootfs or an image, not both".into());
        }
        let request = crate::image::Request {
            reference: image.clone(),
            pull: crate::image::PullPolicy::Missing,
            platform: None,
            entrypoint: None,
            command: Vec::new(),
            workdir_given: !workdir.trim().is_empty(),
            insecure: Vec::new(),
        };
        crate::image::reference::Ref::parse(&image).map_err(|e| format!("{e:#}"))?;
        let store = crate::image::store::Store::open().map_err(|e| format!("{e:#}"))?;
        if store.find(&image).is_some() {
            crate::image::prepare_shell(&mut spec, request, &command)
                .map_err(|e| format!("{e:#}"))?;
            return self.launch(name, spec, command);
        }
        // Not here: pulled on a thread, its progress on the waiting session's screen.
        let id = self.next_id;
        self.next_id += 1;
        let session = Session::pending(id, &name, spec, self.pty_size, &image);
        let say = session.progress(self.notify.clone());
        let notify = self.notify.clone();
        self.pending.insert(id, (request, command));
        std::thread::spawn(move || {
            say(&format!("Pulling {image} ..."));
            let options = crate::image::pull::Options {
                platform: crate::image::platform::Platform::host(),
                insecure: Vec::new(),
            };
            let progress =
                crate::image::pull::Progress::Callback(std::sync::Arc::new(move |line: String| {
                    say(&line)
                }));
            let result = crate::image::pull::pull(&store, &image, &options, progress)
                .map(drop)
                .map_err(|e| format!("{e:#}"));
            notify(crate::session::SessionEvent::Pulled(id, result));
        });
        self.sessions.push(session);
        self.select(self.sessions.len() - 1);
        Ok(())
    }

    /// A pending session's pull ended: its container starts in its place, or it shows why not.
    pub(super) fn pulled(&mut self, id: u64, result: Result<(), String>) {
        let Some((request, command)) = self.pending.remove(&id) else {
            return;
        };
        // Removed while it waited (Ctrl-a x): nothing to start.
        let Some(at) = self.sessions.iter().position(|s| s.id == id) else {
            return;
        };
        let fail = |s: &mut Session, e: &str| {
            s.progress(std::sync::Arc::new(|_| {}))(&format!("my-container-tui: {e}"));
            s.exited(125);
        };
        if let Err(e) = result {
            fail(&mut self.sessions[at], &e);
            return;
        }
        let pending = self.sessions.remove(at);
        let mut spec = pending.spec.clone();
        let reference = request.reference.clone();
        let started = crate::image::prepare_shell(&mut spec, request, &command)
            .map_err(|e| format!("{e:#}"))
            .and_then(|()| self.launch(pending.name.clone(), spec, command));
        match started {
            Ok(()) => {
                // launch put it last; it takes the waiting session's place.
                if let Some(session) = self.sessions.pop() {
                    self.sessions.insert(at, session);
                }
                self.selected = at;
                self.message = Some(format!("{}: pulled {reference}", pending.name));
            }
            Err(e) => {
                let mut pending = pending;
                fail(&mut pending, &e);
                self.sessions.insert(at, pending);
            }
        }
    }

    /// Starts `spec` as session `name` running `command` (else its default).
    fn launch(
        &mut self,
        name: String,
        mut spec: ContainerSpec,
        command: String,
    ) -> Result<(), String> {
        let shell = self.shell_of(&spec);
        let command = if command.trim().is_empty() {
            shell
        } else {
            command.trim().to_string()
        };
        spec.command = ContainerSpec::command_from_words(vec![command]);
        spec.validate().map_err(|e| e.to_string())?;
        let id = self.next_id;
        let session = Session::launch(id, &name, spec, self.pty_size, self.notify.clone())
            .map_err(|e| format!("{e:#}"))?;
        self.next_id += 1;
        self.sessions.push(session);
        self.select(self.sessions.len() - 1);
        Ok(())
    }

    /// Brings the list to the store: every container of our namespace is a session (new ones,
    /// started elsewhere, appear; removed ones go), each as its record says.
    pub fn sync(&mut self) {
        let records = store::visible();
        // The OCI runtime's live containers (a stopped one is its client's to report).
        let oci: Vec<_> = crate::oci::state::all_known()
            .into_iter()
            .filter(|(_, _, status)| *status != crate::oci::state::Status::Stopped)
            .collect();
        let notify = self.notify.clone();
        // A session waiting for its image's pull has no container yet.
        self.sessions.retain(|s| {
            records.iter().any(|r| r.id == s.container)
                || oci
                    .iter()
                    .any(|(_, r, _)| crate::session::oci_key(r) == s.container)
                || matches!(s.state, crate::session::State::Pulling { .. })
                || (s.container.is_empty() && !s.exec)
        });
        for s in &mut self.sessions {
            if let Some(r) = records.iter().find(|r| r.id == s.container) {
                s.refresh(r, &notify);
            }
        }
        // Oldest first, as they were made.
        for r in records.iter().rev() {
            if !self.sessions.iter().any(|s| !s.exec && s.container == r.id) {
                match Session::of(self.next_id, r, self.pty_size, notify.clone()) {
                    Ok(s) => {
                        self.next_id += 1;
                        self.sessions.push(s);
                    }
                    Err(e) => self.message = Some(format!("{}: {e:#}", r.name)),
                }
            }
        }
        for (root, r, _) in &oci {
            if !self
                .sessions
                .iter()
                .any(|s| s.container == crate::session::oci_key(r))
            {
                let spec = root
                    .config(&r.id)
                    .ok()
                    .and_then(|c| {
                        crate::runtime::bundle::Bundle::from_config(r.bundle.clone(), c, &r.id).ok()
                    })
                    .map(|b| b.spec)
                    .unwrap_or_else(|| ContainerSpec::new(vec![], "/".into()));
                let s = Session::oci(self.next_id, r, spec, self.pty_size);
                self.next_id += 1;
                self.sessions.push(s);
            }
        }
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    /// Opens another shell in the selected container, listed under it.
    pub(super) fn exec_selected(&mut self) {
        let Some(parent) = self.selected().filter(|s| s.is_running()) else {
            self.message = Some("no running container selected".into());
            return;
        };
        if parent.oci_cgroup.is_some() {
            self.message = Some(format!(
                "{} is an OCI container: exec through its runtime client (ctr task exec)",
                parent.name
            ));
            return;
        }
        let shell = App::default_command(parent.spec.rootfs.as_ref());
        let at = self
            .sessions
            .iter()
            .rposition(|s| s.container == parent.container)
            .unwrap_or(self.selected)
            + 1;
        match Session::exec(
            self.next_id,
            parent,
            &shell,
            self.pty_size,
            self.notify.clone(),
        ) {
            Ok(s) => {
                self.next_id += 1;
                self.sessions.insert(at, s);
                // The one selected moved down a row; select() then records it as the last.
                if self.selected >= at {
                    self.selected += 1;
                }
                self.select(at);
            }
            Err(e) => self.message = Some(format!("exec failed: {e:#}")),
        }
    }

    /// Starts the selected exited container again (`start`), under a new monitor.
    pub(super) fn restart_selected(&mut self) {
        let Some(s) = self.selected() else { return };
        if s.is_running() {
            self.message = Some(format!("{} is still running", s.name));
            return;
        }
        if s.exec {
            self.message = Some(format!(
                "{} has ended: {} e opens another",
                s.name, self.prefix
            ));
            return;
        }
        let started = store::load(&s.container).and_then(|r| ops::start(&r));
        match started {
            Ok(()) => self.sync(),
            Err(e) => self.message = Some(format!("restart failed: {e:#}")),
        }
    }

    /// Renames the selected session's container (as `rename`), and its exec shells with it.
    pub(super) fn rename_selected(&mut self, name: &str) -> anyhow::Result<()> {
        let Some(s) = self.selected() else {
            return Ok(());
        };
        let (container, old) = (s.container.clone(), s.name.clone());
        if name.is_empty() || name == old {
            return Ok(());
        }
        store::rename(&container, name)?;
        for s in self
            .sessions
            .iter_mut()
            .filter(|s| s.container == container)
        {
            s.name = match s.exec {
                true => s.name.replacen(&old, name, 1),
                false => name.to_string(),
            };
        }
        Ok(())
    }

    /// Removes the selected exited session (and its container, as `rm`).
    pub(super) fn remove_selected(&mut self) {
        match self.selected() {
            Some(s) if s.is_running() => {
                self.message = Some(format!("{} is running: kill it first", s.name))
            }
            Some(s) => {
                if !s.exec
                    && let Ok(record) = store::load(&s.container)
                    && let Err(e) = ops::remove(&record, false)
                {
                    self.message = Some(format!("{e:#}"));
                    return;
                }
                self.sessions.remove(self.selected);
                self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
            }
            None => {}
        }
    }

    /// Ends and removes every container this dashboard started, and its exec shells.
    pub fn end_mine(&self) {
        for s in self.sessions.iter().filter(|s| s.exec) {
            s.kill();
        }
        for s in self.sessions.iter().filter(|s| s.mine && !s.exec) {
            if let Ok(record) = store::load(&s.container) {
                let _ = ops::remove(&record, true);
            }
        }
    }

    /// Ends the exec shells (they live on this dashboard's ptys); containers keep running.
    pub fn detach(&self) {
        for s in self.sessions.iter().filter(|s| s.exec) {
            s.kill();
        }
    }
}
