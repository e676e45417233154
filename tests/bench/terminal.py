#!/usr/bin/env python3
"""The dashboard as a terminal, against tmux in the same run, each driven on a pty of its own
as a person's terminal would drive it:

 - keystroke echo: a key written to the client's pty, until the client draws its echo
   (the shell in the session echoes it, the client redraws); median and 90th percentile
   of 200 keys, each typed after 30 ms without output, to the dashboard and tmux in turn;
 - scrollback memory: the growth of the resident memory that holds the history (the
   dashboard process, once copy mode has been to the top of it; tmux's server) after 10,000
   lines of 90 columns, and after 10,000 short lines, each in a fresh session with a
   10,000-line history (tmux: history-limit), and for the dashboard 100,000 lines of 90
   columns with --history 100000.

The containers live in a namespace of their own (MCT_NAMESPACE) and are removed at the end.

    sudo tests/bench/terminal.py        # needs root, tmux and a release build
"""
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.environ.get("MCT_TOOL") or os.path.join(ROOT, "target", "release", "my-container-tui")
# The dashboard at 150x45 gives its terminal pane 98x37 (ui::Areas); tmux gets that size.
DASH_SIZE, PANE_SIZE = (45, 150), (37, 98)
SOCK = f"mct-bench-{os.getpid()}"
# A tmux server of its own for each measure: one killed may still hold its socket while
# it exits, and a client that reaches it then is told "server exited unexpectedly".
RUN = [0]


def sock():
    return f"{SOCK}-{RUN[0]}"
NAMESPACE = f"bench-{os.getpid()}"


class Client:
    """A program on a pty of its own, read as its terminal would read it."""

    def __init__(self, argv, size, env=None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))

        def controlling():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            preexec_fn=controlling, env=dict(env or os.environ, TERM="xterm-256color"),
        )
        os.close(slave)
        self.fd = master
        self.seen = b""

    def read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return b""
        self.seen = (self.seen + data)[-65536:]
        return data

    def drain(self, quiet=0.05):
        while self.read(quiet):
            pass

    def wait_for(self, text, timeout=30):
        end = time.monotonic() + timeout
        self.seen = b""
        while time.monotonic() < end:
            self.read(0.1)
            if text in self.seen:
                return
        sys.exit(f"terminal.py: timed out waiting for {text!r}; the terminal got: {self.seen[-300:]!r}")

    def type(self, text):
        os.write(self.fd, text)

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        os.close(self.fd)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def echo_latency(client):
    """Milliseconds from a key written to its echo drawn."""
    client.drain(0.03)
    start = time.monotonic()
    client.type(b"~")
    while True:
        data = client.read(1.0)
        if not data:
            sys.exit("terminal.py: an echo never came")
        if b"~" in data:
            return (time.monotonic() - start) * 1000


def echo_latencies(clients, keys=int(os.environ.get("MCT_BENCH_KEYS", "200"))):
    """Each client's echo latencies over `keys` keys, typed to each in turn (a key to one,
    then the same to the next), so that the machine's moods fall on all alike."""
    times = [[] for _ in clients]
    for i in range(keys):
        for client, own in zip(clients, times):
            own.append(echo_latency(client))
            if i % 50 == 49:
                client.type(b"\x15")  # Ctrl-U: the line typed goes before it wraps
    return times


def tmux(*args):
    out = subprocess.run(["tmux", "-L", sock(), "-f", "/dev/null", *args],
                         check=True, capture_output=True, text=True).stdout
    if args[:1] == ("kill-server",):
        forget_socket()
    return out


def forget_socket():
    """A killed tmux server leaves its socket file behind: the run's goes with it."""
    directory = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.geteuid()}")
    try:
        os.unlink(os.path.join(directory, sock()))
    except FileNotFoundError:
        pass


def open_tmux():
    RUN[0] += 1
    client = Client(["tmux", "-L", sock(), "-f", "/dev/null", "new-session",
                     "env PS1='$ ' bash --norc"], PANE_SIZE)
    client.wait_for(b"$")
    tmux("set-option", "-g", "history-limit", "10000")
    tmux("set-option", "-g", "status", "off")
    # history-limit applies to windows made after it is set: measure in a fresh one.
    tmux("new-window", "env PS1='$ ' bash --norc")
    time.sleep(1)
    client.drain()
    return client, int(tmux("display-message", "-p", "#{pid}").strip())


def open_dashboard(history=10000):
    env = dict(os.environ, MCT_NAMESPACE=NAMESPACE, SHELL="/bin/bash")
    client = Client([TOOL, "--history", str(history)], DASH_SIZE, env)
    client.wait_for(b"my-container-1")
    time.sleep(2)
    client.drain()
    return client, client.proc.pid


def remove_containers():
    env = dict(os.environ, MCT_NAMESPACE=NAMESPACE)
    ids = subprocess.run([TOOL, "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([TOOL, "rm", "-f", *ids], env=env, capture_output=True)


def growth(client, pid, command, marker, scroll_back=False):
    """KiB the process `pid` grew while `command` printed into the client's session; with
    `scroll_back`, once copy mode has been to the top of its history (the dashboard is sent a
    flood as redraws, and takes its lines from the container's log as the view reaches them:
    scrolled to the top, it holds them all, as tmux does)."""
    before = rss_kib(pid)
    client.type(command.encode() + f"; echo {marker}$((6*7))\r".encode())
    client.wait_for(f"{marker}42".encode(), timeout=120)
    time.sleep(1)
    client.drain()
    if scroll_back:
        client.type(b"\x01[")
        for _ in range(40):
            client.type(b"g")
            time.sleep(0.1)
            client.drain()
        client.type(b"q")
        time.sleep(0.5)
        client.drain()
    return rss_kib(pid) - before


LONG = "seq -f %090.0f 1 {n}"
SHORT = "seq 1 {n}"


def measure(open_client, runs):
    results = {}
    for name, command, n in runs:
        client, pid = open_client()
        try:
            results[name] = growth(client, pid, command.format(n=n), "bench-done-", True)
        finally:
            client.close()
            remove_containers()
    return results


def main():
    if os.geteuid() != 0:
        sys.exit("terminal.py: needs root: run with sudo")
    if not os.path.exists(TOOL):
        sys.exit(f"terminal.py: build first: cargo build --release ({TOOL})")
    try:
        ours_client, _ = open_dashboard()
        theirs_client, _ = open_tmux()
        ours, theirs = echo_latencies([ours_client, theirs_client])
        ours_client.close()
        remove_containers()
        theirs_client.close()
        tmux("kill-server")

        runs = [("long", LONG, 10000), ("short", SHORT, 10000)]
        mem_ours = measure(open_dashboard, runs)
        mem_theirs = {}
        for name, command, n in runs:
            client, pid = open_tmux()
            mem_theirs[name] = growth(client, pid, command.format(n=n), "bench-done-")
            client.close()
            tmux("kill-server")
        big = measure(lambda: open_dashboard(100000), [("long", LONG, 100000)])["long"]
    finally:
        remove_containers()
        subprocess.run(["tmux", "-L", sock(), "kill-server"], capture_output=True)
        forget_socket()

    def q(values, p):
        return sorted(values)[int(p * (len(values) - 1))]

    def ratio(a, b):
        return f"{a / b:.2f}×" if b else "-"

    mo, mt = statistics.median(ours), statistics.median(theirs)
    print("| measure | my-container-tui | tmux | ratio |")
    print("|---|---|---|---|")
    print(f"| keystroke echo, median of {len(ours)} (ms) | {mo:.2f} | {mt:.2f} | {ratio(mo, mt)} |")
    print(f"| keystroke echo, 90th percentile (ms) | {q(ours, 0.9):.2f} | {q(theirs, 0.9):.2f} | "
          f"{ratio(q(ours, 0.9), q(theirs, 0.9))} |")
    for name, label in [("long", "10,000 lines of 90 columns"), ("short", "10,000 short lines")]:
        a, b = mem_ours[name], mem_theirs[name]
        print(f"| scrollback memory growth, {label} (MiB) | {a / 1024:.1f} | {b / 1024:.1f} | {ratio(a, b)} |")
    print(f"| scrollback memory growth, 100,000 lines of 90 columns, --history 100000 (MiB) | "
          f"{big / 1024:.1f} | | |")


if __name__ == "__main__":
    main()
