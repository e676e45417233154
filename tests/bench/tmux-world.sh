# Sourced by the benchmarks that drive the dashboard beside tmux (dashboard.sh, panes.sh),
# from the repository's top with `name` (the script's, for messages) set: root and tmux
# checked, the release build made (`tool`), a tmux server of their own (`t`) and a container
# namespace of their own, both gone at exit, and a wait for text on a screen.
[ "$(id -u)" = 0 ] || { echo "$name.sh: needs root: run with sudo" >&2; exit 125; }
command -v tmux >/dev/null || { echo "$name.sh: needs tmux (apt-get install tmux)" >&2; exit 127; }
cargo build --release --quiet
tool=$PWD/target/release/my-container-tui
sock=mct-bench-$name-$$
export MCT_NAMESPACE=bench-$name-$$
t() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() {
    t kill-server 2>/dev/null || true
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
    ids=$("$tool" ps -aq)
    [ -z "$ids" ] || "$tool" rm -f $ids >/dev/null
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

wait_for() { # session text [count]: until the screen shows the text count times (once)
    for _ in $(seq 1 900); do
        [ "$(t capture-pane -p -t "$1" | grep -o -- "$2" | wc -l)" -ge "${3:-1}" ] && return 0
        sleep 0.1
    done
    echo "$name.sh: timed out waiting for '$2' in $1" >&2; t capture-pane -p -t "$1" >&2; exit 1
}
