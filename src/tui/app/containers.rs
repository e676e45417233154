//! The sessions' containers: starting them (a monitor each), keeping the list in step with the
//! store, exec shells, starting again, removing, and what quitting or detaching ends.

use super::App;
use crate::client::ops;
use crate::runtime::ContainerSpec;
use crate::runtime::rootfs::{Rootfs, Writes};
use crate::runtime::rootpath::InRoot;
use crate::session::Session;
use crate::state::store;
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

    /// The first `session-N` that no container of our namespace is named.
    pub(super) fn free_number(&self) -> u64 {
        let taken: Vec<String> = store::visible().into_iter().map(|r| r.name).collect();
        (self.next_id..)
            .find(|n| !taken.contains(&format!("session-{n}")))
            .unwrap_or(self.next_id)
    }

    pub(super) fn defaults(&self) -> [String; 4] {
        let n = self.free_number();
        let rootfs = match &self.template.rootfs {
            Some(r) => r.dir.display().to_string(),
            None => "(none: the host's files)".to_string(),
        };
        let shell = App::default_command(self.template.rootfs.as_ref());
        [
            format!("session-{n}"),
            format!("my-container-{n}"),
            shell,
            rootfs,
        ]
    }

    /// Starts a session; empty fields take their defaults.
    pub fn start_session(&mut self, values: [String; 4]) -> Result<(), String> {
        let [name, hostname, command, rootfs] = values;
        let defaults = self.defaults();
        let pick = |v: String, d: &String| {
            if v.trim().is_empty() {
                d.clone()
            } else {
                v.trim().to_string()
            }
        };
        let mut spec = self.template.clone();
        if !rootfs.trim().is_empty() {
            let dir = std::env::current_dir()
                .unwrap_or_else(|_| "/".into())
                .join(rootfs.trim());
            spec.rootfs = Some(Rootfs {
                dir,
                mode: Writes::Overlay,
                layers: None,
            });
            spec.workdir = "/".into();
        }
        // The default shell is looked up in the root this session gets.
        let shell = App::default_command(spec.rootfs.as_ref());
        let (name, hostname, command) = (
            pick(name, &defaults[0]),
            pick(hostname, &defaults[1]),
            pick(command, &shell),
        );
        spec.command = ContainerSpec::command_from_words(vec![command]);
        spec.id = crate::state::record::new_id();
        spec.hostname = hostname;
        spec.tty = true;
        spec.term = Some("xterm-256color".into());
        spec.validate().map_err(|e| e.to_string())?;
        let id = self.next_id;
        let session = Session::launch(id, &name, spec, self.pty_size, self.notify.clone())
            .map_err(|e| format!("{e:#}"))?;
        self.next_id += 1;
        self.sessions.push(session);
        self.selected = self.sessions.len() - 1;
        Ok(())
    }

    /// Brings the list to the store: every container of our namespace is a session (new ones,
    /// started elsewhere, appear; removed ones go), each as its record says.
    pub fn sync(&mut self) {
        let records = store::visible();
        let notify = self.notify.clone();
        self.sessions
            .retain(|s| records.iter().any(|r| r.id == s.container));
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
        self.selected = self.selected.min(self.sessions.len().saturating_sub(1));
    }

    /// Opens another shell in the selected container, listed under it.
    pub(super) fn exec_selected(&mut self) {
        let Some(parent) = self.selected().filter(|s| s.is_running()) else {
            self.message = Some("no running container selected".into());
            return;
        };
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
                self.selected = at;
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
