//! Kubernetes' way to the OCI runtime: containerd's CRI plugin drives `mct-runc` as a kubelet
//! asks it to, over the CRI's gRPC API, with a pod network made by Debian's CNI plugins.
//!
//! The suite speaks the API itself, through the `k8s-cri` crate's client: crictl and critest
//! are Go programs Debian does not package, and CI reaches no other source.

use crate::oci::{Containerd, IMAGE, cgroup_dirs, cgroup_file};
use crate::registry::Layout;
use crate::support::*;
use k8s_cri::v1 as cri;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use libtest_mimic::{Failed, Trial};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn tests() -> Vec<Trial> {
    crate::root_tests![
        a_pod_of_two_containers_shares_the_sandboxs_namespaces,
        runc_runs_the_same_pod,
        the_dashboard_lists_a_pod_under_its_sandbox,
    ]
}

/// The image a pod's sandbox runs: busybox sleeping for ever, as `pause` waits.
const PAUSE: &str = "docker.io/mct/pause:latest";

/// The pod network: a bridge of the test's own, host-local addresses kept in the scratch
/// directory, no masquerade and no gateway (either would change the host's firewall or
/// `ip_forward`). The test gives the bridge the host's address itself, so the host can reach
/// a pod with nothing routed.
struct PodNetwork {
    name: String,
    /// `10.A.B`: the /24 the pods are given addresses in.
    prefix: String,
    /// The sandboxes attached: containerd 1.6 leaves each one's loopback result cached.
    sandboxes: std::cell::RefCell<Vec<String>>,
}

/// Where libcni caches each attachment's result, whatever the configuration says.
const CNI_CACHE: &str = "/var/lib/cni";

/// How many pod networks of this run are up, and whether the cache was there before the
/// first: the last to go removes it if it was not (one test's end must not take it from
/// another).
static CACHE_USERS: std::sync::Mutex<(usize, Option<bool>)> = std::sync::Mutex::new((0, None));

impl PodNetwork {
    /// Network `n` of this run (`n` < 10): its bridge is `mctcri{n}-{pid}`, 15 bytes at most
    /// (IFNAMSIZ) as pids reach 7 digits.
    fn new(n: u32) -> PodNetwork {
        let pid = std::process::id();
        let mut users = CACHE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        users.1.get_or_insert_with(|| Path::new(CNI_CACHE).exists());
        users.0 += 1;
        PodNetwork {
            name: format!("mctcri{n}-{pid}"),
            prefix: format!("10.{}.{}", 231 + n, pid % 250 + 1),
            sandboxes: Default::default(),
        }
    }

    /// The CNI configuration list, with leases under `dir`.
    fn conflist(&self, dir: &Path) -> String {
        serde_json::json!({
            "cniVersion": "1.0.0",
            "name": self.name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.name,
                    "isGateway": false,
                    "ipMasq": false,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": dir.join("leases"),
                        "ranges": [[{
                            "subnet": format!("{}.0/24", self.prefix),
                            "rangeStart": format!("{}.10", self.prefix),
                        }]],
                    },
                },
                {"type": "loopback"},
            ],
        })
        .to_string()
    }

    /// Addresses leased to pods and not yet given back.
    fn leases(&self, dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir.join("leases").join(&self.name))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&self.prefix))
            .collect()
    }
}

impl Drop for PodNetwork {
    fn drop(&mut self) {
        // The bridge plugin leaves its bridge when the last pod goes, as the kubelet expects.
        let _ = Command::new("ip")
            .args(["link", "del", &self.name])
            .output();
        let results = Path::new(CNI_CACHE).join("results");
        let sandboxes = self.sandboxes.borrow();
        for entry in std::fs::read_dir(&results).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let attached = |id: &String| name.starts_with(&format!("cni-loopback-{id}-"));
            if name.starts_with(&format!("{}-", self.name)) || sandboxes.iter().any(attached) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let mut users = CACHE_USERS.lock().unwrap_or_else(|e| e.into_inner());
        users.0 -= 1;
        if users.0 == 0 && users.1 == Some(false) {
            let _ = std::fs::remove_dir(&results);
            let _ = std::fs::remove_dir(CNI_CACHE);
        }
    }
}

/// The kubelet's share: a pod's cgroup parent, made by the kubelet and removed by it.
struct PodCgroup(String);

impl Drop for PodCgroup {
    fn drop(&mut self) {
        for dir in cgroup_dirs(&self.0) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A CRI client on a private containerd's socket, with its own single-threaded runtime.
struct Cri {
    rt: tokio::runtime::Runtime,
    client: RuntimeServiceClient<tonic::transport::Channel>,
}

impl Cri {
    fn connect(socket: &str) -> Result<Cri, Failed> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let socket = socket.to_string();
        let channel = rt
            .block_on(
                // The address is a placeholder: every connection is the unix socket.
                tonic::transport::Endpoint::from_static("http://[::1]:1")
                    .timeout(PATIENCE)
                    .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                        let socket = socket.clone();
                        async move {
                            let stream = tokio::net::UnixStream::connect(socket).await?;
                            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                        }
                    })),
            )
            .map_err(|e| format!("connecting to the CRI: {e}"))?;
        Ok(Cri {
            rt,
            client: RuntimeServiceClient::new(channel),
        })
    }

    /// Runs one call, its error as the test's failure, named by `what`.
    fn call<T, F>(
        &mut self,
        what: &str,
        call: impl FnOnce(RuntimeServiceClient<tonic::transport::Channel>) -> F,
    ) -> Result<T, Failed>
    where
        F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let client = self.client.clone();
        self.rt
            .block_on(call(client))
            .map(|r| r.into_inner())
            .map_err(|s| format!("{what}: {}", s.message()).into())
    }

    fn sandbox_status(
        &mut self,
        id: &str,
        verbose: bool,
    ) -> Result<cri::PodSandboxStatusResponse, Failed> {
        let req = cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.into(),
            verbose,
        };
        self.call("PodSandboxStatus", |mut c| async move {
            c.pod_sandbox_status(req).await
        })
    }

    fn container_status(
        &mut self,
        id: &str,
        verbose: bool,
    ) -> Result<cri::ContainerStatusResponse, Failed> {
        let req = cri::ContainerStatusRequest {
            container_id: id.into(),
            verbose,
        };
        self.call("ContainerStatus", |mut c| async move {
            c.container_status(req).await
        })
    }

    /// The pid of a container (or, with `sandbox`, a pod's sandbox) on the host, from
    /// containerd's verbose status (the runtime's state, not anything the container said).
    fn pid(&mut self, id: &str, sandbox: bool) -> Result<i32, Failed> {
        let info = match sandbox {
            true => self.sandbox_status(id, true)?.info,
            false => self.container_status(id, true)?.info,
        };
        let info: serde_json::Value = serde_json::from_str(info.get("info").ok_or("no info")?)
            .map_err(|e| format!("verbose info: {e}"))?;
        info["pid"]
            .as_i64()
            .map(|p| p as i32)
            .ok_or_else(|| format!("no pid in {info}").into())
    }

    /// Runs a pod's sandbox under `handler` (empty: the default), recorded on `net`, whose
    /// end removes what containerd leaves of its network.
    fn run_pod(
        &mut self,
        net: &PodNetwork,
        config: &cri::PodSandboxConfig,
        handler: &str,
    ) -> Result<String, Failed> {
        let req = cri::RunPodSandboxRequest {
            config: Some(config.clone()),
            runtime_handler: handler.into(),
        };
        let sandbox = self
            .call("RunPodSandbox", |mut c| async move {
                c.run_pod_sandbox(req).await
            })?
            .pod_sandbox_id;
        net.sandboxes.borrow_mut().push(sandbox.clone());
        Ok(sandbox)
    }

    /// Creates a container in `sandbox` (made from `pod`) and starts it; returns its id.
    fn start_container(
        &mut self,
        sandbox: &str,
        pod: &cri::PodSandboxConfig,
        config: cri::ContainerConfig,
    ) -> Result<String, Failed> {
        let req = cri::CreateContainerRequest {
            pod_sandbox_id: sandbox.into(),
            config: Some(config),
            sandbox_config: Some(pod.clone()),
        };
        let id = self
            .call("CreateContainer", |mut c| async move {
                c.create_container(req).await
            })?
            .container_id;
        let req = cri::StartContainerRequest {
            container_id: id.clone(),
        };
        self.call("StartContainer", |mut c| async move {
            c.start_container(req).await
        })?;
        Ok(id)
    }

    /// The kubelet's end of a pod: stop, then remove.
    fn remove_pod(&mut self, sandbox: &str) -> TestResult {
        let req = cri::StopPodSandboxRequest {
            pod_sandbox_id: sandbox.into(),
        };
        self.call("StopPodSandbox", |mut c| async move {
            c.stop_pod_sandbox(req).await
        })?;
        let req = cri::RemovePodSandboxRequest {
            pod_sandbox_id: sandbox.into(),
        };
        self.call("RemovePodSandbox", |mut c| async move {
            c.remove_pod_sandbox(req).await
        })?;
        Ok(())
    }

    fn exec(&mut self, id: &str, cmd: &[&str]) -> Result<cri::ExecSyncResponse, Failed> {
        let req = cri::ExecSyncRequest {
            container_id: id.into(),
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: 30,
        };
        self.call("ExecSync", |mut c| async move { c.exec_sync(req).await })
    }
}

/// A private containerd with its CRI plugin: `mct` the default runtime handler (our
/// runtime, as a RuntimeClass would name it), `runc` beside it, the test's pod network, and
/// the busybox and pause images imported into the plugin's namespace. Our runtime keeps its
/// state under `mct_root` (its shim adds the namespace), by default in the scratch directory.
fn containerd_with_cri(
    t: &Ctx,
    net: &PodNetwork,
    mct_root: Option<&Path>,
) -> Result<(Containerd, Cri), Failed> {
    let conflist = net.conflist(Path::new("PLACEHOLDER"));
    let settings = |dir: &Path| -> String {
        let cni = dir.join("cni");
        let _ = std::fs::create_dir_all(&cni);
        let _ = std::fs::write(
            cni.join("10-mct.conflist"),
            conflist.replace("PLACEHOLDER", &dir.to_string_lossy()),
        );
        let runc = dir.join("mct-runc");
        let p = |p: PathBuf| p.to_string_lossy().into_owned();
        format!(
            "  sandbox_image = {PAUSE:?}\n\
             # The pods' network namespaces mounted in the state directory, which lives in\n\
             # the daemon's own mount namespace, not in the host's /run/netns.\n\
             netns_mounts_under_state_dir = true\n\
             {oom}\
             [plugins.\"io.containerd.grpc.v1.cri\".cni]\n\
             bin_dir = \"/usr/lib/cni\"\n\
             conf_dir = {cni:?}\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n\
             default_runtime_name = \"mct\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.mct]\n\
             runtime_type = \"io.containerd.runc.v2\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.mct.options]\n\
             BinaryName = {runc:?}\n\
             Root = {root:?}\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n\
             runtime_type = \"io.containerd.runc.v2\"\n\
             [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n\
             Root = {runc_root:?}\n",
            oom = match can_lower_oom_score_adj() {
                true => "",
                // A sandbox asks for -998, which takes CAP_SYS_RESOURCE: hosts whose bounding
                // set lacks it (this one's did) fail every runtime's create, runc's as ours.
                // containerd's own setting for such hosts keeps scores at its own or above.
                false => "restrict_oom_score_adj = true\n",
            },
            cni = p(cni),
            runc = p(runc),
            root = p(mct_root.map_or_else(|| dir.join("runc"), Path::to_path_buf)),
            runc_root = p(dir.join("runc-reference")),
        )
    };
    let c = Containerd::start_with(t, Some(&settings))?;
    let layout = Layout::new(&format!("cri-{}", t.namespace()))?;
    layout.busybox(t, "latest")?;
    layout.config(
        "latest",
        &[
            "--tag",
            "pause",
            "--config.entrypoint",
            "/bin/sleep",
            "--config.cmd",
            "2147483647",
        ],
    )?;
    c.import(&layout, "latest", IMAGE)?;
    c.import(&layout, "pause", PAUSE)?;
    let cri = Cri::connect(&c.socket())?;
    Ok((c, cri))
}

fn can_lower_oom_score_adj() -> bool {
    caps::has_cap(
        None,
        caps::CapSet::Effective,
        caps::Capability::CAP_SYS_RESOURCE,
    )
    .unwrap_or(false)
}

fn ns(pid: i32, kind: &str) -> Result<PathBuf, Failed> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map_err(|e| format!("{kind} of {pid}: {e}").into())
}

/// A field of `/proc/PID/status`, as the host sees the process.
fn status_field(pid: i32, field: &str) -> Result<String, Failed> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status").into())
}

/// The pod a kubelet would make for `shareProcessNamespace: true`, and its two containers:
/// `web`, serving a file on port 8080, and `probe`, as a restricted pod spec runs it
/// (`runAsUser`, `runAsGroup`, `supplementalGroups`, `readOnlyRootFilesystem`,
/// `allowPrivilegeEscalation: false`, `seccompProfile: RuntimeDefault`).
fn a_pod_of_two_containers_shares_the_sandboxs_namespaces(t: &Ctx) -> TestResult {
    pod_of_two_containers(t, "mct", 0)
}

/// The same pod under Debian's runc, through the second runtime handler: the reference
/// that what the test asks is what Kubernetes gets from runc.
fn runc_runs_the_same_pod(t: &Ctx) -> TestResult {
    pod_of_two_containers(t, "runc", 1)
}

/// A pod's sandbox and `containers` (each sleeping, by name) under our runtime, started.
/// Returns the sandbox's id.
fn start_pod(
    cri: &mut Cri,
    net: &PodNetwork,
    t: &Ctx,
    pod: &str,
    containers: &[&str],
) -> Result<String, Failed> {
    let config = pod_config(t, pod, pod);
    let sandbox = cri.run_pod(net, &config, "")?;
    for name in containers {
        let spec = container_config(name, &["sleep", "2147483647"], Default::default());
        cri.start_container(&sandbox, &config, spec)?;
    }
    Ok(sandbox)
}

/// A pod's configuration: its name, the test's namespace, a uid of its own, its hostname.
fn pod_config(t: &Ctx, name: &str, hostname: &str) -> cri::PodSandboxConfig {
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: name.into(),
            namespace: t.namespace(),
            uid: format!("uid-{name}-{}", std::process::id()),
            attempt: 0,
        }),
        hostname: hostname.into(),
        ..Default::default()
    }
}

/// A container of the busybox image running `command`, joining the pod's namespaces (PID
/// too, as `shareProcessNamespace` asks), its log `NAME.log` in the pod's log directory.
fn container_config(
    name: &str,
    command: &[&str],
    security: cri::LinuxContainerSecurityContext,
) -> cri::ContainerConfig {
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: name.into(),
            attempt: 0,
        }),
        image: Some(cri::ImageSpec {
            image: IMAGE.into(),
            ..Default::default()
        }),
        command: command.iter().map(|s| s.to_string()).collect(),
        log_path: format!("{name}.log"),
        linux: Some(cri::LinuxContainerConfig {
            security_context: Some(cri::LinuxContainerSecurityContext {
                namespace_options: Some(cri::NamespaceOption {
                    pid: cri::NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                ..security
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The dashboard of the CRI's namespace, as on a Kubernetes node whose runtime is ours:
/// the pod's sandbox listed by the pod's name, its containers below it as `POD/NAME`, and
/// what each is said in its pane; gone when the kubelet removes the pod.
fn the_dashboard_lists_a_pod_under_its_sandbox(t: &Ctx) -> TestResult {
    let net = PodNetwork::new(2);
    // Our runtime's state where containerd's shim keeps it on a node, which the dashboard
    // reads: /run/containerd/runc/k8s.io (the Containerd removes it after, if it made it).
    let (c, mut cri) = containerd_with_cri(t, &net, Some(Path::new("/run/containerd/runc")))?;
    let pod = format!("pod-{}", std::process::id());
    let sandbox = start_pod(&mut cri, &net, t, &pod, &["web", "sidecar"])?;
    let result = (|| {
        let tmux = crate::tmux::Tmux::start_in(t, "k8s.io", "", 200, 40, "")?;
        let screen = tmux.wait_for(&format!("{pod}/sidecar"))?;
        let row = |name: &str| {
            screen
                .lines()
                .position(|l| l.split_whitespace().nth(2) == Some(name))
        };
        let rows = [
            row(&pod),
            row(&format!("{pod}/web")),
            row(&format!("{pod}/sidecar")),
        ];
        ensure(
            rows.iter().all(Option::is_some) && rows.is_sorted(),
            format!(
                "the pod's rows {rows:?} are not its sandbox's then its containers':\n{screen}"
            ),
        )?;
        // The IMAGE column: the image the kubelet asked for, the sandbox said as one.
        let line = |name: &str| {
            screen
                .lines()
                .find(|l| l.split_whitespace().nth(2) == Some(name))
                .unwrap_or_default()
        };
        ensure(
            line(&pod).contains("(pod sandbox)")
                && line(&format!("{pod}/web")).contains("mct/busybox"),
            format!("the pod's images are not shown:\n{screen}"),
        )?;
        tmux.wait_for(&format!("of Kubernetes pod {}/{pod}", t.namespace()))?;
        cri.remove_pod(&sandbox)?;
        wait_until("the pod's rows to go", || !tmux.screen().contains(&pod))?;
        // Nothing of its own ran: it quits at once.
        tmux.keys(&["C-a", "q"])?;
        tmux.wait_for("EXITED rc=0").map(drop)
    })();
    if result.is_err() {
        let _ = cri.remove_pod(&sandbox);
    }
    result?;
    wait_until("the shims to exit", || c.shims().is_empty())
}

/// A pod under runtime `handler`, on pod network `n`.
fn pod_of_two_containers(t: &Ctx, handler: &str, n: u32) -> TestResult {
    let net = PodNetwork::new(n);
    let (c, mut cri) = containerd_with_cri(t, &net, None)?;
    let version = cri.call("Version", |mut c| async move {
        c.version(cri::VersionRequest::default()).await
    })?;
    ensure_eq(version.runtime_name.as_str(), "containerd")?;

    let parent = PodCgroup(format!("mct-test-cri{n}-{}", std::process::id()));
    let logs = c.dir.path().join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let pod = cri::PodSandboxConfig {
        log_directory: logs.to_string_lossy().into_owned(),
        labels: HashMap::from([("mct-test".to_string(), t.namespace())]),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent: format!("/{}", parent.0),
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(cri::NamespaceOption {
                    pid: cri::NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..pod_config(t, "pod1", "podhost")
    };
    let sandbox = cri.run_pod(&net, &pod, handler)?;
    let specs = [
        container_config(
            "web",
            &[
                "sh",
                "-c",
                "echo hello from web; echo served by web > /tmp/index.html; \
                 exec httpd -f -p 8080 -h /tmp",
            ],
            Default::default(),
        ),
        container_config(
            "probe",
            &["sleep", "2147483647"],
            cri::LinuxContainerSecurityContext {
                run_as_user: Some(cri::Int64Value { value: 1000 }),
                run_as_group: Some(cri::Int64Value { value: 1000 }),
                supplemental_groups: vec![2000],
                readonly_rootfs: true,
                no_new_privs: true,
                // `seccompProfile: RuntimeDefault`: containerd's default profile, ours to apply.
                seccomp: Some(cri::SecurityProfile {
                    profile_type: cri::security_profile::ProfileType::RuntimeDefault as i32,
                    localhost_ref: String::new(),
                }),
                ..Default::default()
            },
        ),
    ];
    let mut ids = Vec::new();
    for spec in specs {
        ids.push(cri.start_container(&sandbox, &pod, spec)?);
    }
    let (web, probe) = (ids[0].clone(), ids[1].clone());
    // The handler asked for is the runtime that made them: each runtime has its own root.
    let root = c.dir.path().join(match handler {
        "mct" => "runc",
        _ => "runc-reference",
    });
    for id in [&sandbox, &web, &probe] {
        ensure(
            root.join("k8s.io").join(id).exists(),
            format!("{id} is not in {handler}'s root"),
        )?;
    }

    // The namespaces, as the host sees them: the sandbox's network, IPC, UTS and (shared
    // process namespace) PID namespaces are both containers', and none is the host's.
    let pause = cri.pid(&sandbox, true)?;
    let pids = [cri.pid(&web, false)?, cri.pid(&probe, false)?];
    for kind in ["net", "ipc", "uts", "pid"] {
        let theirs = ns(pause, kind)?;
        ensure(
            theirs != ns(std::process::id() as i32, kind)?,
            format!("the sandbox is in the host's {kind} namespace"),
        )?;
        for pid in pids {
            ensure(
                ns(pid, kind)? == theirs,
                format!("a container left the pod's {kind} namespace"),
            )?;
        }
    }
    // Each container has its own mount namespace and root.
    ensure(
        ns(pids[0], "mnt")? != ns(pids[1], "mnt")?,
        "the two containers share a mount namespace",
    )?;

    // The restricted container, from the host's side.
    let probe_pid = pids[1];
    ensure_eq(
        status_field(probe_pid, "Uid")?,
        "1000 1000 1000 1000".into(),
    )?;
    ensure_eq(
        status_field(probe_pid, "Gid")?,
        "1000 1000 1000 1000".into(),
    )?;
    // containerd lists the group among the supplementary ones, and root's group is not.
    ensure_eq(status_field(probe_pid, "Groups")?, "1000 2000".into())?;
    ensure_eq(status_field(probe_pid, "NoNewPrivs")?, "1".into())?;
    ensure_eq(
        status_field(probe_pid, "CapEff")?,
        "0000000000000000".into(),
    )?;
    // Filtered (mode 2), and web, asking for no profile, not.
    ensure_eq(status_field(probe_pid, "Seccomp")?, "2".into())?;
    ensure_eq(status_field(pids[0], "Seccomp")?, "0".into())?;
    let out = cri.exec(&probe, &["touch", "/written"])?;
    ensure(out.exit_code != 0, "a read-only root was written")?;

    // The pod's hostname, and its loopback shared: probe fetches what web serves.
    let out = cri.exec(&probe, &["hostname"])?;
    ensure_eq(String::from_utf8_lossy(&out.stdout).trim(), "podhost")?;
    let mut served = String::new();
    wait_until("web to serve", || {
        cri.exec(
            &probe,
            &["wget", "-qO-", "http://127.0.0.1:8080/index.html"],
        )
        .is_ok_and(|o| {
            served = String::from_utf8_lossy(&o.stdout).into_owned();
            o.exit_code == 0
        })
    })?;
    ensure_eq(served.trim(), "served by web")?;
    // And the process namespace: probe sees web's server.
    let out = cri.exec(&probe, &["ps", "-o", "args"])?;
    let ps = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure(
        ps.contains("httpd -f -p 8080"),
        format!("probe does not see web's server: {ps}"),
    )?;

    // The pod's address, from the host, over the test's bridge.
    let status = cri
        .sandbox_status(&sandbox, false)?
        .status
        .ok_or("no status")?;
    let ip = status.network.map(|n| n.ip).unwrap_or_default();
    ensure(
        ip.starts_with(&format!("{}.", net.prefix)),
        format!("pod address {ip:?} outside {}.0/24", net.prefix),
    )?;
    ensure_eq(net.leases(c.dir.path()), vec![ip.clone()])?;
    let out = run({
        let mut cmd = Command::new("ip");
        cmd.args([
            "addr",
            "add",
            &format!("{}.1/24", net.prefix),
            "dev",
            &net.name,
        ]);
        cmd
    })?;
    ensure(out.code == Some(0), format!("ip addr add: {}", out.stderr))?;
    let mut body = String::new();
    let mut stream = std::net::TcpStream::connect_timeout(
        &format!("{ip}:8080").parse().map_err(|e| format!("{e}"))?,
        PATIENCE,
    )
    .map_err(|e| format!("connecting to the pod: {e}"))?;
    stream
        .set_read_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /index.html HTTP/1.0\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut body))
        .map_err(|e| format!("fetching from the pod: {e}"))?;
    ensure(
        body.ends_with("served by web\n"),
        format!("the pod answered: {body:?}"),
    )?;

    // The kubelet's log: CRI's format, one line per line written, stream and tag named.
    let log = std::fs::read_to_string(logs.join("web.log")).map_err(|e| e.to_string())?;
    let line = log.lines().next().unwrap_or_default();
    let mut fields = line.splitn(4, ' ');
    let stamp = fields.next().unwrap_or_default();
    ensure(
        stamp.len() > 20 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
        format!("no RFC 3339 time on {line:?}"),
    )?;
    ensure_eq(
        fields.collect::<Vec<_>>(),
        vec!["stdout", "F", "hello from web"],
    )?;

    // Resources updated on a running container reach its cgroup.
    let limit = 64 << 20;
    let req = cri::UpdateContainerResourcesRequest {
        container_id: web.clone(),
        linux: Some(cri::LinuxContainerResources {
            memory_limit_in_bytes: limit,
            ..Default::default()
        }),
        ..Default::default()
    };
    cri.call("UpdateContainerResources", |mut c| async move {
        c.update_container_resources(req).await
    })?;
    let rel = format!("{}/{web}", parent.0);
    let set =
        cgroup_file(&rel, "memory.limit_in_bytes").or_else(|| cgroup_file(&rel, "memory.max"));
    ensure_eq(set, Some(limit.to_string()))?;

    // One container stopped and removed (a restart, a rollout) while its pod lives on: web's
    // server ends on SIGTERM, its state and cgroup go, and probe still runs in the pod.
    let req = cri::StopContainerRequest {
        container_id: web.clone(),
        timeout: 10,
    };
    cri.call("StopContainer", |mut c| async move {
        c.stop_container(req).await
    })?;
    let status = cri
        .container_status(&web, false)?
        .status
        .ok_or("no status")?;
    ensure_eq(
        (status.state, status.exit_code),
        (cri::ContainerState::ContainerExited as i32, 128 + 15),
    )?;
    let req = cri::RemoveContainerRequest {
        container_id: web.clone(),
    };
    cri.call("RemoveContainer", |mut c| async move {
        c.remove_container(req).await
    })?;
    ensure(!root.join("k8s.io").join(&web).exists(), "web's state left")?;
    ensure(cgroup_dirs(&rel).is_empty(), "web's cgroup left")?;
    ensure(
        !Path::new(&format!("/proc/{}", pids[0])).exists(),
        "web's server still runs",
    )?;
    ensure_eq(cri.exec(&probe, &["true"])?.exit_code, 0)?;

    // The kubelet's end of a pod. Nothing of it stays.
    cri.remove_pod(&sandbox)?;
    wait_until("the shims to exit", || c.shims().is_empty())?;
    for id in [&sandbox, &web, &probe] {
        ensure(
            !root.join("k8s.io").join(id).exists(),
            format!("state of {id} left in the runtime's root"),
        )?;
        let left = cgroup_dirs(&format!("{}/{id}", parent.0));
        ensure(left.is_empty(), format!("cgroups left: {left:?}"))?;
        for p in [pause, pids[0], pids[1]] {
            ensure(
                !Path::new(&format!("/proc/{p}")).exists(),
                format!("pod process {p} still running"),
            )?;
        }
    }
    ensure_eq(net.leases(c.dir.path()), Vec::<String>::new())?;
    // containerd's mount table: no container's root, no pod's network namespace.
    let table = std::fs::read_to_string(format!("/proc/{}/mountinfo", c.daemon.id()))
        .map_err(|e| e.to_string())?;
    let scratch = c.dir.path().to_string_lossy().into_owned();
    let left: Vec<&str> = table
        .lines()
        .filter(|l| {
            [&sandbox, &web, &probe]
                .iter()
                .any(|id| l.contains(id.as_str()))
        })
        .chain(
            table
                .lines()
                .filter(|l| l.contains(" nsfs ") && l.contains(&scratch)),
        )
        .collect();
    ensure(left.is_empty(), format!("mounts left: {left:?}"))?;
    Ok(())
}
