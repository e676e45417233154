//! What the dashboard asks of the host, behind one trait: the containers to list, and the
//! verbs (launch, exec, start, remove, rename). [`Host`] is the real one, over the record
//! store, the monitors and the OCI runtime's state; `fake::Fake` (in tests) keeps containers in
//! memory, so the dashboard's logic (keys, the form, the selection, panes) is tested
//! without root, namespaces or a terminal.

use crate::runtime::ContainerSpec;
use crate::session::{Notify, Session, Verb};
use crate::spec::run::Launch;

/// Where a verb run off the UI thread says how it went.
pub type Done = Box<dyn FnOnce(anyhow::Result<()>) + Send>;
/// Where a commit says what it made (the image's id).
pub type Made = Box<dyn FnOnce(anyhow::Result<String>) + Send>;
use crate::state::Record;

/// What the dashboard lists: our namespace's containers (repaired), newest first, and the
/// OCI runtime's live ones with the spec their bundle makes.
#[derive(Default)]
pub struct Listing {
    pub records: Vec<Record>,
    pub oci: Vec<(crate::oci::state::Record, ContainerSpec)>,
}

/// The host as the dashboard sees it.
pub trait Backend {
    fn list(&self) -> Listing;
    /// The names taken in our namespace, as the records say now (unrepaired: a name is
    /// taken until its record goes, and no lock is waited for).
    fn names(&self) -> Vec<String>;
    /// A session showing `record`'s container, attached to its monitor if it runs detached.
    fn attach(
        &self,
        id: u64,
        record: &Record,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session>;
    /// Starts `spec` as a new detached container, recorded as `launch` says (its name
    /// first), and attaches to it.
    fn launch(
        &self,
        id: u64,
        spec: ContainerSpec,
        launch: &Launch,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session>;
    /// Another shell in `parent`'s container.
    fn exec(
        &self,
        id: u64,
        parent: &Session,
        shell: &str,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session>;
    /// Container `id`'s record, as written last.
    fn record(&self, id: &str) -> anyhow::Result<Record>;
    /// Starts an exited container again (`start`) or removes one (`rm`; `rm -f` when
    /// `force`), and calls `done` with how it went: the real host on a thread, as both can
    /// wait seconds. The thread, if one was started, is returned, for the dashboard to join
    /// before it goes (a start cut short by the process's exit would leave a container
    /// half-made).
    fn run(
        &self,
        record: &Record,
        verb: Verb,
        force: bool,
        done: Done,
    ) -> Option<std::thread::JoinHandle<()>>;
    fn rename(&self, id: &str, name: &str) -> anyhow::Result<()>;
    /// The store's images, oldest first.
    fn images(&self) -> Vec<crate::image::store::Image>;
    /// Commits `record`'s container as `commit` does, and calls `made` with the image's id:
    /// the real host on a thread (a large layer takes seconds), returned to be joined.
    fn commit(
        &self,
        record: &Record,
        options: crate::image::commit::Options,
        made: Made,
    ) -> Option<std::thread::JoinHandle<()>>;
}

/// The real host.
pub struct Host;

impl Backend for Host {
    fn list(&self) -> Listing {
        let records = crate::runtime::reclaim::visible();
        // The OCI runtime's live containers (a stopped one is its client's to report).
        let oci = crate::oci::state::all_known()
            .into_iter()
            .filter(|(_, _, status)| *status != crate::oci::state::Status::Stopped)
            .map(|(root, r, _)| {
                let spec = root
                    .config(&r.id)
                    .ok()
                    .and_then(|c| {
                        crate::runtime::bundle::Bundle::from_config(r.bundle.clone(), c, &r.id).ok()
                    })
                    .map(|b| b.spec)
                    .unwrap_or_else(|| ContainerSpec::new(r.id.clone(), vec![], "/".into()));
                (r, spec)
            })
            .collect();
        Listing { records, oci }
    }

    fn names(&self) -> Vec<String> {
        let namespace = crate::state::record::namespace();
        crate::state::store::records()
            .into_iter()
            .filter(|r| r.namespace == namespace)
            .map(|r| r.name)
            .collect()
    }

    fn attach(
        &self,
        id: u64,
        record: &Record,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session> {
        Session::of(id, record, size, notify)
    }

    fn launch(
        &self,
        id: u64,
        spec: ContainerSpec,
        launch: &Launch,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session> {
        Session::launch(id, spec, launch, size, notify)
    }

    fn exec(
        &self,
        id: u64,
        parent: &Session,
        shell: &str,
        size: (u16, u16),
        notify: Notify,
    ) -> anyhow::Result<Session> {
        Session::exec(id, parent, shell, size, notify)
    }

    fn record(&self, id: &str) -> anyhow::Result<Record> {
        crate::state::store::load(id)
    }

    fn run(
        &self,
        record: &Record,
        verb: Verb,
        force: bool,
        done: Done,
    ) -> Option<std::thread::JoinHandle<()>> {
        let record = record.clone();
        Some(std::thread::spawn(move || {
            done(match verb {
                Verb::Start => crate::client::ops::start(&record),
                Verb::Remove => crate::client::ops::remove(&record, force, false),
            })
        }))
    }

    fn rename(&self, id: &str, name: &str) -> anyhow::Result<()> {
        crate::runtime::reclaim::rename(id, name)
    }

    fn images(&self) -> Vec<crate::image::store::Image> {
        crate::image::store::Store::existing()
            .map(|s| s.images())
            .unwrap_or_default()
    }

    fn commit(
        &self,
        record: &Record,
        options: crate::image::commit::Options,
        made: Made,
    ) -> Option<std::thread::JoinHandle<()>> {
        let record = record.clone();
        Some(std::thread::spawn(move || {
            made(crate::image::commit::commit(&record, &options).map(|i| i.id))
        }))
    }
}

#[cfg(test)]
pub mod fake {
    //! Containers in memory: records the tests set up, sessions that attach to nothing.

    use super::*;
    use crate::state::{Process, Status};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// The fake host; clones share their containers, so a test keeps one to look at.
    #[derive(Clone, Default)]
    pub struct Fake {
        pub records: Rc<RefCell<Vec<Record>>>,
        /// Every verb called, in order (`launch NAME`, `remove NAME`, ...).
        pub calls: Rc<RefCell<Vec<String>>>,
        /// The store's images.
        pub images: Rc<RefCell<Vec<crate::image::store::Image>>>,
        /// The OCI runtime's live containers, with their annotations.
        pub oci: Rc<RefCell<Vec<crate::oci::state::Record>>>,
    }

    impl Fake {
        /// A container named `name` in our namespace: running (in another terminal's
        /// foreground, so nothing attaches) or exited 0.
        pub fn add(&self, name: &str, running: bool) -> Record {
            let id = format!("{:0>64}", self.records.borrow().len() + 1);
            let record = Record {
                id,
                name: name.to_string(),
                namespace: crate::state::record::namespace(),
                status: match running {
                    true => Status::Running,
                    false => Status::Exited,
                },
                owner: None,
                init: running.then_some(Process { pid: 1, start: 1 }),
                exit_code: (!running).then_some(0),
                oom_killed: false,
                created: crate::state::record::now_ms(),
                started: Some(crate::state::record::now_ms()),
                finished: None,
                detached: false,
                auto_remove: false,
                tty: true,
                interactive: true,
                restart: Default::default(),
                restart_count: 0,
                stopped_by_user: false,
                stop_signal: libc::SIGTERM,
                stop_timeout: None,
                health: None,
                opener: None,
            };
            // Newest first, as the store lists them.
            self.records.borrow_mut().insert(0, record.clone());
            record
        }

        fn called(&self, what: String) {
            self.calls.borrow_mut().push(what);
        }

        fn find(&self, id: &str) -> anyhow::Result<Record> {
            self.records
                .borrow()
                .iter()
                .find(|r| r.id == id)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no such container: {id}"))
        }
    }

    impl Backend for Fake {
        fn list(&self) -> Listing {
            Listing {
                records: self.records.borrow().clone(),
                oci: self
                    .oci
                    .borrow()
                    .iter()
                    .map(|r| {
                        (
                            r.clone(),
                            ContainerSpec::new(r.id.clone(), vec![], "/".into()),
                        )
                    })
                    .collect(),
            }
        }

        fn names(&self) -> Vec<String> {
            self.records
                .borrow()
                .iter()
                .map(|r| r.name.clone())
                .collect()
        }

        fn attach(
            &self,
            id: u64,
            record: &Record,
            size: (u16, u16),
            _: Notify,
        ) -> anyhow::Result<Session> {
            let spec = ContainerSpec::new(record.id.clone(), vec!["sh".into()], "/".into());
            Ok(Session::unattached(id, record, spec, size))
        }

        fn launch(
            &self,
            id: u64,
            spec: ContainerSpec,
            launch: &Launch,
            size: (u16, u16),
            _: Notify,
        ) -> anyhow::Result<Session> {
            spec.validate()?;
            let name = launch.name.as_deref().unwrap_or("");
            self.called(format!("launch {name} {}", spec.command.join(" ")));
            let record = self.add(name, true);
            let mut session = Session::unattached(id, &record, spec, size);
            session.kind = crate::session::SessionKind::Container { mine: true };
            Ok(session)
        }

        fn exec(
            &self,
            id: u64,
            parent: &Session,
            shell: &str,
            size: (u16, u16),
            _: Notify,
        ) -> anyhow::Result<Session> {
            self.called(format!("exec {} {shell}", parent.name));
            let record = self.find(&parent.container)?;
            let mut session = Session::unattached(id, &record, parent.spec.clone(), size);
            session.kind = crate::session::SessionKind::Exec;
            session.name = format!("{}/exec", parent.name);
            Ok(session)
        }

        fn record(&self, id: &str) -> anyhow::Result<Record> {
            self.find(id)
        }

        fn run(
            &self,
            record: &Record,
            verb: Verb,
            force: bool,
            done: Done,
        ) -> Option<std::thread::JoinHandle<()>> {
            match verb {
                Verb::Start => {
                    self.called(format!("start {}", record.name));
                    for r in self.records.borrow_mut().iter_mut() {
                        if r.id == record.id {
                            r.status = Status::Running;
                            r.init = Some(Process { pid: 1, start: 1 });
                        }
                    }
                }
                Verb::Remove => {
                    self.called(format!("remove {} {force}", record.name));
                    self.records.borrow_mut().retain(|r| r.id != record.id);
                }
            }
            done(Ok(()));
            None
        }

        fn images(&self) -> Vec<crate::image::store::Image> {
            self.images.borrow().clone()
        }

        fn commit(
            &self,
            record: &Record,
            options: crate::image::commit::Options,
            made: Made,
        ) -> Option<std::thread::JoinHandle<()>> {
            self.called(format!(
                "commit {} {} {}",
                record.name,
                options.reference.as_deref().unwrap_or("-"),
                options.message.as_deref().unwrap_or("-")
            ));
            made(Ok(format!(
                "sha256:{:0<64}",
                self.images.borrow().len() + 1
            )));
            None
        }

        fn rename(&self, id: &str, name: &str) -> anyhow::Result<()> {
            self.called(format!("rename {name}"));
            for r in self.records.borrow_mut().iter_mut() {
                if r.id == id {
                    r.name = name.to_string();
                }
            }
            Ok(())
        }
    }
}
