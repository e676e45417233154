//! The sessions' containers: starting them (a monitor each), keeping the list in step with the
//! store, exec shells, starting again, removing, and what quitting or detaching ends.

use super::{App, Mode};
use crate::runtime::ContainerSpec;
use crate::runtime::rootpath::InRoot;
use crate::session::{Session, SessionEvent, Verb};
use crate::spec::limits::{self, human};
use crate::spec::options::{Built, COMMAND, FORM, Host, OptionError, Run, option};
use crate::spec::rootfs::Rootfs;
use crate::spec::run::{Launch, PullPolicy};
use crate::tui::backend::Listing;
use crate::tui::ui::commit::{self, CommitForm};
use crate::tui::ui::form::{FIELDS, FormView, Input, field, image_field};
use crate::tui::ui::images::{ImageList, ImageRow};

/// Why the form did not start a session, and the field at fault (the cursor goes there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: Option<usize>,
    pub message: String,
}

impl FormError {
    fn at(long: &str, message: String) -> FormError {
        FormError {
            field: Some(field(long)),
            message,
        }
    }

    fn general(message: String) -> FormError {
        FormError {
            field: None,
            message,
        }
    }
}

impl From<OptionError> for FormError {
    fn from(e: OptionError) -> Self {
        FormError {
            field: e.option.filter(|l| FORM.contains(l)).map(field),
            message: e.message,
        }
    }
}
use std::path::Path;

/// The run the form's `values` ask for over `template`, for session number `n`: each field
/// through its row of the option table, as the command line's option goes, then the same
/// checks. A session always has a terminal (`xterm-256color`, the dashboard's emulator).
pub fn form_run(
    template: &Run,
    values: &[String; FIELDS],
    n: u64,
    host: &Host,
    in_store: &dyn Fn(&str) -> bool,
) -> Result<Built, FormError> {
    let mut run = template.clone();
    run.spec.id = crate::state::record::new_id();
    let typed = |long: &str| values[field(long)].trim();
    // A root typed in the form replaces the template's, whichever kind each is.
    if !typed("rootfs").is_empty() || !typed("image").is_empty() {
        run.clear_root();
    }
    for long in FORM.iter().filter(|l| **l != COMMAND) {
        let text = match (*long, typed(long)) {
            ("name", "") => format!("session-{n}"),
            ("hostname", "") => format!("my-container-{n}"),
            (_, text) => text.to_string(),
        };
        let option = option(long).expect("FORM names rows of the table");
        run.apply_typed(option, &text)?;
    }
    // The command line's rule for `run IMAGE [CMD]`: a first word that names an image is the
    // image, the rest (a shell line when it has blanks) its command.
    let mut command = typed(COMMAND);
    if let Some(first) = command.split_whitespace().next() {
        let mut first_word = vec![first.to_string()];
        if run.take_image_word(&mut first_word, in_store)? {
            command = command[first.len()..].trim();
        }
    }
    let words = match command.is_empty() {
        true => Vec::new(),
        false => vec![command.to_string()],
    };
    let mut built = run.finish(words, host)?;
    built.spec.tty = true;
    built.spec.term = Some("xterm-256color".into());
    Ok(built)
}

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
        let names = self.backend.names();
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

    /// What the form shows in each empty field: the value the session gets when nothing is
    /// typed there (from the template, the dashboard's own options), or an example.
    pub(super) fn defaults(&self) -> [String; FIELDS] {
        let n = self.free_number();
        let template = self.template_spec();
        std::array::from_fn(|i| {
            let long = FORM[i];
            let example = || {
                let example = option(long).map_or("", |o| o.example);
                match long {
                    "env" | "volume" => format!("(none more) {example}"),
                    _ => example.to_string(),
                }
            };
            match long {
                "name" => format!("session-{n}"),
                "hostname" => format!("my-container-{n}"),
                COMMAND => self.shell_of(&template),
                "rootfs" => match (self.template.image(), self.template.rootfs()) {
                    (Some(_), _) => "(the image's)".to_string(),
                    (None, Some(dir)) => dir.display().to_string(),
                    (None, None) => example(),
                },
                "image" => self.template.image().map_or_else(example, str::to_string),
                "network" => template.network.mode_shown(),
                "publish" if !template.network.publish.is_empty() => template
                    .network
                    .publish
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                "memory" => template.limits.memory.map_or_else(example, human),
                "cpus" => template.limits.cpu_quota_us.map_or_else(example, |q| {
                    format!("{}", q as f64 / limits::CPU_PERIOD_US as f64)
                }),
                "workdir" => template.workdir.display().to_string(),
                _ => example(),
            }
        })
    }

    /// The template as a spec, for what the form shows of it.
    fn template_spec(&self) -> ContainerSpec {
        self.template
            .clone()
            .finish(Vec::new(), &self.host)
            .map(|b| b.spec)
            .unwrap_or_else(|_| self.template.spec.clone())
    }

    /// The local images, as the form offers them.
    fn local_images(&self) -> Vec<String> {
        self.backend
            .images()
            .iter()
            .rev()
            .flat_map(|i| i.tags.iter())
            .filter_map(|t| crate::image::reference::Ref::parse(t).ok())
            .map(|r| crate::image::pull::shown_ref(&r))
            .collect()
    }

    /// The new-session form, on `image` when one was chosen.
    pub(super) fn open_form(&mut self, image: Option<&str>) {
        let mut form = FormView {
            defaults: self.defaults(),
            images: self.local_images(),
            ..FormView::default()
        };
        if let Some(image) = image {
            form.values[image_field()] = Input::new(image);
            form.focus = image_field();
        }
        self.mode = Mode::NewSession(Box::new(form));
    }

    /// The image list: newest first, each with the sessions (of this dashboard's list) whose
    /// container runs it.
    pub(super) fn image_list(&self) -> ImageList {
        let rows = self
            .backend
            .images()
            .iter()
            .rev()
            .flat_map(|image| {
                let users: Vec<String> = self
                    .sessions
                    .iter()
                    .filter(|s| !s.is_exec())
                    .filter(|s| s.spec.image.as_ref().is_some_and(|i| i.id == image.id))
                    .map(|s| s.name.clone())
                    .collect();
                let row = |reference: String| ImageRow {
                    reference,
                    id: image.short_id().to_string(),
                    size: crate::spec::limits::decimal(image.size),
                    layers: image.layers.len(),
                    created: crate::state::record::since(image.created.as_deref()),
                    users: users.clone(),
                };
                let mut tags: Vec<String> = image
                    .tags
                    .iter()
                    .filter_map(|t| crate::image::reference::Ref::parse(t).ok())
                    .map(|r| crate::image::pull::shown_ref(&r))
                    .collect();
                if tags.is_empty() {
                    tags.push(image.short_id().to_string());
                }
                tags.into_iter().map(row).collect::<Vec<_>>()
            })
            .collect();
        ImageList { rows, selected: 0 }
    }

    /// Commits the selected session's container as `form` asks, off the UI thread
    /// ([`App::committed`] hears how it went); an error in a field is returned with it.
    pub(super) fn commit_selected(&mut self, form: &CommitForm) -> Result<(), (usize, String)> {
        let reference = form.text(commit::IMAGE);
        if let Some(r) = &reference {
            crate::image::commit::check_reference(r)
                .map_err(|e| (commit::IMAGE, format!("{e:#}")))?;
        }
        let Some(s) = self.selected() else {
            return Ok(());
        };
        let (id, name) = (s.id, s.name.clone());
        let record = self
            .backend
            .record(&s.container)
            .map_err(|e| (commit::IMAGE, format!("{e:#}")))?;
        let options = crate::image::commit::Options {
            reference,
            message: form.text(commit::MESSAGE),
            pause: true,
            ..Default::default()
        };
        let notify = self.notify.clone();
        let made = Box::new(move |result: anyhow::Result<String>| {
            notify(SessionEvent::Committed(
                id,
                result.map_err(|e| format!("{e:#}")),
            ))
        });
        self.message = Some(format!(" Committing {name}…"));
        self.verbs
            .extend(self.backend.commit(&record, options, made));
        Ok(())
    }

    /// A commit ended: what it made, on the status line.
    pub(super) fn committed(&mut self, id: u64, result: Result<String, String>) {
        let name = self
            .sessions
            .iter()
            .find(|s| s.id == id)
            .map_or_else(String::new, |s| s.name.clone());
        self.message = Some(match result {
            Ok(image) => format!(
                " Committed {name}: image {} · {} I lists the images",
                image
                    .strip_prefix("sha256:")
                    .unwrap_or(&image)
                    .get(..12)
                    .unwrap_or(&image),
                self.prefix
            ),
            Err(e) => format!(" Cannot commit {name}: {e}"),
        });
    }

    /// The command a session of `spec` runs unless told: an image's Entrypoint and Cmd (as
    /// its argv, quoted as a shell would need), else a shell found in its root.
    fn shell_of(&self, spec: &ContainerSpec) -> String {
        match self.template.image() {
            Some(_) => "(the image's Entrypoint and Cmd)".to_string(),
            None => App::default_command(spec.rootfs.as_ref()),
        }
    }

    /// Starts a session from the form's fields (empty ones take their defaults), through
    /// the option table as the command line's options go: the same row, the same parser, the
    /// same checks. With an image the store lacks, the session waits, its screen showing the
    /// pull, and starts when the pull ends.
    pub fn start_session(&mut self, values: [String; FIELDS]) -> Result<(), FormError> {
        let n = self.free_number();
        let in_store = crate::image::positional::in_store;
        let built = form_run(&self.template, &values, n, &self.host, &in_store)?;
        if let Some(message) = crate::image::positional::missing_command(&built) {
            return Err(FormError::at(COMMAND, message));
        }
        let Built {
            mut spec,
            mut launch,
        } = built;
        let name = launch
            .name
            .get_or_insert_with(|| format!("session-{n}"))
            .clone();
        let Some(request) = launch.image.clone() else {
            if spec.command.is_empty() {
                spec.command = vec![App::default_command(spec.rootfs.as_ref())];
            }
            return self.launch(spec, &launch).map_err(FormError::general);
        };
        let image = request.reference.clone();
        crate::image::reference::Ref::parse(&image)
            .map_err(|e| FormError::at("image", format!("{e:#}")))?;
        let store =
            crate::image::store::Store::open().map_err(|e| FormError::general(format!("{e:#}")))?;
        // In the store for the platform asked (or never to be pulled): started now, with no
        // pull (one would print under our screen); else pulled on a thread, below.
        let here = crate::image::local(&store, &request).is_some();
        if (here && request.pull != PullPolicy::Always) || request.pull == PullPolicy::Never {
            crate::image::prepare_shell(&mut spec, &request)
                .map_err(|e| FormError::at("image", format!("{e:#}")))?;
            return self.launch(spec, &launch).map_err(FormError::general);
        }
        // Not here: pulled on a thread, its progress on the waiting session's screen.
        let id = self.next_id;
        self.next_id += 1;
        let session = Session::pending(id, &name, spec, self.pty_size, &image);
        let say = session.progress(self.notify.clone());
        let notify = self.notify.clone();
        let options = crate::image::pull::Options {
            platform: request
                .platform
                .clone()
                .unwrap_or_else(crate::spec::platform::Platform::host),
            insecure: request.insecure.clone(),
        };
        self.pending.insert(id, launch);
        std::thread::spawn(move || {
            say(&format!("Pulling {image} ..."));
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
        let Some(launch) = self.pending.remove(&id) else {
            return;
        };
        let Some(mut request) = launch.image.clone() else {
            return;
        };
        // Just pulled: what the store has now is what runs (`--pull always` included).
        request.pull = PullPolicy::Missing;
        // Removed while it waited (Ctrl-a x): nothing to start.
        let Some(at) = self.sessions.iter().position(|s| s.id == id) else {
            return;
        };
        let fail = |s: &mut Session, e: &str| {
            s.progress(std::sync::Arc::new(|_| {}))(&crate::runtime::exit::error_line(e));
            s.exited(125);
        };
        if let Err(e) = result {
            fail(&mut self.sessions[at], &e);
            return;
        }
        let pending = self.sessions.remove(at);
        let mut spec = pending.spec.clone();
        let started = crate::image::prepare_shell(&mut spec, &request)
            .map_err(|e| format!("{e:#}"))
            .and_then(|()| self.launch(spec, &launch));
        match started {
            Ok(()) => {
                // launch put it last; it takes the waiting session's place.
                if let Some(session) = self.sessions.pop() {
                    self.sessions.insert(at, session);
                }
                self.selected = at;
                self.message = Some(format!("{}: pulled {}", pending.name, request.reference));
            }
            Err(e) => {
                let mut pending = pending;
                fail(&mut pending, &e);
                self.sessions.insert(at, pending);
            }
        }
    }

    /// Starts `spec` (its command decided) as a session, recorded as `launch` says.
    fn launch(&mut self, spec: ContainerSpec, launch: &Launch) -> Result<(), String> {
        let id = self.next_id;
        let session = self
            .backend
            .launch(id, spec, launch, self.pty_size, self.notify.clone())
            .map_err(|e| format!("{e:#}"))?;
        self.next_id += 1;
        self.sessions.push(session);
        self.select(self.sessions.len() - 1);
        self.changed = std::time::Instant::now();
        Ok(())
    }

    /// Brings the list to the store: every container of our namespace is a session (new ones,
    /// started elsewhere, appear; removed ones go), each as its record says.
    pub fn sync(&mut self) {
        let listing = self.backend.list();
        self.apply(listing);
    }

    /// A listing made off the UI thread, begun at `taken`: applied unless this dashboard
    /// changed its sessions since (a session launched after the listing began is not in it,
    /// and must not be dropped for that).
    pub fn listed(&mut self, listing: Listing, taken: std::time::Instant) {
        if taken >= self.changed {
            self.apply(listing);
        }
    }

    fn apply(&mut self, listing: Listing) {
        let Listing { records, oci } = listing;
        let notify = self.notify.clone();
        // A session waiting for its image's pull has no container yet.
        self.sessions.retain(|s| {
            records.iter().any(|r| r.id == s.container)
                || oci
                    .iter()
                    .any(|(r, _)| crate::session::oci_key(r) == s.container)
                || matches!(s.state, crate::session::State::Pulling { .. })
                || (s.container.is_empty() && !s.is_exec())
        });
        for s in &mut self.sessions {
            if let Some(r) = records.iter().find(|r| r.id == s.container) {
                s.refresh(r, &notify);
            }
        }
        // Oldest first, as they were made.
        for r in records.iter().rev() {
            if !self
                .sessions
                .iter()
                .any(|s| !s.is_exec() && s.container == r.id)
            {
                match self
                    .backend
                    .attach(self.next_id, r, self.pty_size, notify.clone())
                {
                    Ok(s) => {
                        self.next_id += 1;
                        self.sessions.push(s);
                    }
                    Err(e) => self.message = Some(format!("{}: {e:#}", r.name)),
                }
            }
        }
        // A Kubernetes pod's members listed together, under its sandbox: sandboxes first
        // (a member goes after the last of its pod), each kind in the order made.
        let mut oci = oci;
        oci.sort_by_cached_key(|(r, _)| {
            let member = crate::oci::pod::PodMember::of(&r.annotations);
            (
                member.is_some_and(|m| m.container.is_some()),
                r.created.clone(),
            )
        });
        for (r, spec) in oci {
            if !self
                .sessions
                .iter()
                .any(|s| s.container == crate::session::oci_key(&r))
            {
                let s = Session::oci(self.next_id, &r, spec, self.pty_size);
                self.next_id += 1;
                let at = s
                    .pod_sandbox()
                    .and_then(|pod| {
                        self.sessions
                            .iter()
                            .rposition(|o| o.pod_sandbox() == Some(pod))
                    })
                    .map_or(self.sessions.len(), |last| last + 1);
                if at <= self.selected && at < self.sessions.len() {
                    self.selected += 1;
                }
                self.sessions.insert(at, s);
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
        if parent.oci_cgroup().is_some() {
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
        match self.backend.exec(
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

    /// Starts the selected exited container again (`start`), under a new monitor, off the
    /// UI thread ([`App::done`] hears how it went).
    pub(super) fn restart_selected(&mut self) {
        let Some(s) = self.selected() else { return };
        if s.is_running() {
            self.message = Some(format!("{} is still running", s.name));
            return;
        }
        if s.is_exec() {
            self.message = Some(format!(
                "{} has ended: {} e opens another",
                s.name, self.prefix
            ));
            return;
        }
        let (id, container) = (s.id, s.container.clone());
        self.run_verb(id, &container, Verb::Start, false);
    }

    /// Asks the backend to run `verb` on session `id`'s container; the answer comes back as a
    /// [`SessionEvent::Done`].
    fn run_verb(&mut self, id: u64, container: &str, verb: Verb, force: bool) {
        let record = match self.backend.record(container) {
            Ok(record) => record,
            Err(e) => {
                self.message = Some(format!("{e:#}"));
                return;
            }
        };
        let notify = self.notify.clone();
        let done = Box::new(move |result: anyhow::Result<()>| {
            notify(SessionEvent::Done(
                id,
                verb,
                result.map_err(|e| format!("{e:#}")),
            ))
        });
        self.verbs
            .extend(self.backend.run(&record, verb, force, done));
    }

    /// Waits for the verbs still running off the UI thread: what the dashboard leaves must
    /// not be half-made.
    fn finish_verbs(&mut self) {
        for verb in self.verbs.drain(..) {
            let _ = verb.join();
        }
    }

    /// A verb run off the UI thread ended.
    pub(super) fn done(&mut self, id: u64, verb: Verb, result: Result<(), String>) {
        let name = self
            .sessions
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone());
        match (verb, result) {
            (Verb::Start, Ok(())) => self.sync(),
            (Verb::Start, Err(e)) => self.message = Some(format!("restart failed: {e}")),
            (Verb::Remove, Ok(())) => self.forget_session(id),
            (Verb::Remove, Err(e)) => {
                self.message = Some(format!("{}: {e}", name.unwrap_or_default()))
            }
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
        self.backend.rename(&container, name)?;
        self.changed = std::time::Instant::now();
        for s in self
            .sessions
            .iter_mut()
            .filter(|s| s.container == container)
        {
            s.name = match s.is_exec() {
                true => s.name.replacen(&old, name, 1),
                false => name.to_string(),
            };
        }
        Ok(())
    }

    /// Removes the selected exited session (and its container, as `rm`, off the UI thread).
    /// A container this dashboard's user did not start is asked about first (`confirmed`).
    pub(super) fn remove_selected(&mut self, confirmed: bool) {
        match self.selected() {
            Some(s) if s.is_running() => {
                self.message = Some(format!("{} is running: kill it first", s.name))
            }
            Some(s) if !confirmed && !s.mine() && !s.container.is_empty() => {
                self.mode = Mode::ConfirmRemove
            }
            Some(s) if s.is_exec() || s.container.is_empty() => {
                let id = s.id;
                self.forget_session(id)
            }
            Some(s) => {
                let (id, container) = (s.id, s.container.clone());
                self.run_verb(id, &container, Verb::Remove, false);
            }
            None => {}
        }
    }

    /// Takes session `id` off the list. The selection stays among this dashboard's own
    /// sessions when it has any: a second `x` must not reach a container someone else started.
    fn forget_session(&mut self, id: u64) {
        let Some(removed) = self.sessions.iter().position(|s| s.id == id) else {
            return;
        };
        let selected = self.selected().map(|s| s.id);
        self.sessions.remove(removed);
        self.changed = std::time::Instant::now();
        if selected != Some(id) {
            // Another session was selected meanwhile: it stays so.
            self.selected = selected
                .and_then(|sel| self.sessions.iter().position(|s| s.id == sel))
                .unwrap_or(0);
            return;
        }
        self.selected = (0..self.sessions.len())
            .filter(|&i| self.sessions[i].mine())
            .min_by_key(|&i| i.abs_diff(removed))
            .unwrap_or_else(|| removed.min(self.sessions.len().saturating_sub(1)));
    }

    /// Ends and removes every container this dashboard started, and its exec shells.
    pub fn end_mine(&mut self) {
        self.finish_verbs();
        for s in self.sessions.iter().filter(|s| s.is_exec()) {
            s.kill();
        }
        // All at once, each on its thread; the dashboard waits for the last (`rm -f` waits
        // for its container to go).
        let records: Vec<_> = self
            .sessions
            .iter()
            .filter(|s| s.mine() && !s.is_exec())
            .filter_map(|s| self.backend.record(&s.container).ok())
            .collect();
        for record in records {
            let done = Box::new(|_: anyhow::Result<()>| {});
            let running = self.backend.run(&record, Verb::Remove, true, done);
            self.verbs.extend(running);
        }
        self.finish_verbs();
    }

    /// Ends the exec shells (they live on this dashboard's ptys); containers keep running.
    pub fn detach(&mut self) {
        self.finish_verbs();
        for s in self.sessions.iter().filter(|s| s.is_exec()) {
            s.kill();
        }
    }
}
