# Sourced by the benchmarks that drive the dashboard beside tmux (dashboard.sh, panes.sh):
# a tmux server of their own (`t`), a container namespace of their own, both gone at exit,
# and a wait for text on a screen. Needs `tool` and `name` (the script's, for messages) set.
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
