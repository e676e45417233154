//! The dashboard in a private tmux server: started in a pane, driven with send-keys, read with
//! capture-pane, waiting for text rather than sleeping.

use crate::support::*;
use std::process::Command;

/// A private tmux server running the dashboard in one pane; killed on drop.
pub struct Tmux {
    socket: String,
    /// The test's environment, to remove what its dashboards leave running when it fails.
    env: [(&'static str, String); 2],
}

impl Tmux {
    /// Starts `my-container-tui` (its environment carrying the test's marker and namespace)
    /// in a `width` x `height` window. The pane stays after the tool exits and shows its
    /// status.
    pub fn start(t: &Ctx, width: u16, height: u16) -> Result<Tmux, String> {
        Tmux::start_with(t, width, height, "")
    }

    /// The same, with `options` on the dashboard's command line.
    pub fn start_with(t: &Ctx, width: u16, height: u16, options: &str) -> Result<Tmux, String> {
        Tmux::start_as(t, "", width, height, options)
    }

    /// The same on a tmux server of its own named by `second` too (a second terminal).
    pub fn start_as(
        t: &Ctx,
        second: &str,
        width: u16,
        height: u16,
        options: &str,
    ) -> Result<Tmux, String> {
        Tmux::start_in(t, &t.namespace(), second, width, height, options)
    }

    /// The same in containerd namespace `namespace` rather than the test's own (the CRI's,
    /// `k8s.io`, which Kubernetes' containers are in).
    pub fn start_in(
        t: &Ctx,
        namespace: &str,
        second: &str,
        width: u16,
        height: u16,
        options: &str,
    ) -> Result<Tmux, String> {
        let env: Vec<String> = t
            .env()
            .iter()
            .map(|(k, v)| match *k {
                "MCT_NAMESPACE" => format!("'{k}={namespace}'"),
                _ => format!("'{k}={v}'"),
            })
            .collect();
        let script = format!(
            "env {} {BIN} {options}; echo EXITED rc=$?; sleep 1000",
            env.join(" ")
        );
        Tmux::start_script(t, second, width, height, &script)
    }

    /// A pane running the shell command `script` (which starts the dashboard its own way:
    /// as another user, say), on a server named for `t` and `second`.
    pub fn start_script(
        t: &Ctx,
        second: &str,
        width: u16,
        height: u16,
        script: &str,
    ) -> Result<Tmux, String> {
        let tmux = Tmux {
            socket: format!(
                "mct-test-{}-{}{second}",
                std::process::id(),
                t.name.replace(':', "-")
            ),
            env: t.env(),
        };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &w,
            "-y",
            &h,
            script,
        ])?;
        Ok(tmux)
    }

    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .map_err(|e| format!("tmux: {e} (apt-get install tmux)"))?;
        if !out.status.success() {
            return Err(format!(
                "tmux {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn keys(&self, keys: &[&str]) -> TestResult {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend(keys);
        self.run(&args)?;
        Ok(())
    }

    pub fn line(&self, text: &str) -> TestResult {
        self.run(&["send-keys", "-t", "main", "-l", text])?;
        self.keys(&["Enter"])
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
            .unwrap_or_default()
    }

    pub fn wait_for(&self, text: &str) -> Result<String, libtest_mimic::Failed> {
        let mut seen = String::new();
        wait_until(&format!("{text:?} on the dashboard"), || {
            seen = self.screen();
            seen.contains(text)
        })
        .map_err(|_| format!("timed out waiting for {text:?}; the screen:\n{seen}"))?;
        Ok(seen)
    }

    /// Opens a second session from the form with its defaults (Enter alone).
    pub fn second_session(&self) -> TestResult {
        self.keys(&["C-a", "c"])?;
        self.wait_for("New session")?;
        self.keys(&["Enter"])?;
        self.wait_for("root@my-container-2").map(|_| ())
    }

    /// Quits, ending the sessions it started, and waits for the dashboard's exit status 0.
    pub fn quit(&self) -> TestResult {
        self.keys(&["C-a", "q"])?;
        self.wait_for("Quit?")?;
        self.keys(&["e"])?;
        self.wait_for("EXITED rc=0").map(|_| ())
    }

    /// The dashboard's PID: the pane runs a shell, whose child `env` exec'd the dashboard.
    pub fn dashboard_pid(&self) -> Result<i32, String> {
        let pane = self.run(&["display-message", "-p", "-t", "main", "#{pane_pid}"])?;
        let pane: i32 = pane
            .trim()
            .parse()
            .map_err(|_| format!("pane pid {pane:?}"))?;
        procs()
            .into_iter()
            .find(|p| p.ppid == pane && p.cmdline.first().map(String::as_str) == Some(BIN))
            .map(|p| p.pid)
            .ok_or_else(|| "the dashboard is not running in the pane".to_string())
    }
}

impl Drop for Tmux {
    /// Closes the terminal (the dashboard detaches, as it does when its terminal goes), and
    /// removes the test's containers that are still there: a test that failed halfway leaves
    /// them running.
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        // A killed server leaves its socket file behind: the test's goes with it.
        let dir = std::env::var("TMUX_TMPDIR").unwrap_or_else(|_| "/tmp".into());
        // SAFETY: geteuid reads no memory.
        let uid = unsafe { libc::geteuid() };
        let _ = std::fs::remove_file(format!("{dir}/tmux-{uid}/{}", self.socket));
        let ids = Command::new(BIN)
            .args(["ps", "-aq"])
            .envs(self.env.clone())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = Command::new(BIN)
                .args(["rm", "-f"])
                .args(&ids)
                .envs(self.env.clone())
                .output();
        }
    }
}

/// The embedded terminal's inner size (rows, cols), measured from its border on the screen.
pub fn pane_size(screen: &str, title: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = screen.lines().collect();
    let top = lines.iter().position(|l| l.contains(title))?;
    let width = lines[top].chars().position(|c| c == '┐')? + 1;
    let bottom = lines
        .iter()
        .skip(top + 1)
        .position(|l| l.starts_with('└'))?
        + top
        + 1;
    Some((bottom - top - 1, width - 2))
}
