#!/usr/bin/env bash
# Two sessions flooding at once, side by side: the dashboard's two panes (`Ctrl-a |`, typed
# into together with `Ctrl-a s`) against a tmux window of two synchronized panes of the same
# size, in one run, rounds alternated. Each round is `seq 1 2000000` in both panes at once;
# its time is the slower pane's (bash's `time`, real seconds), and the dashboard's CPU over it
# is reported too. Containers live in a namespace of their own and are removed at the end.
#
#   sudo tests/bench/panes.sh          # needs root and tmux; ROUNDS=6 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-6}
name=panes
. tests/bench/tmux-world.sh
slowest() { # the largest bash `time` real figure in the text on stdin, in seconds
    grep -o 'real[[:space:]]*[0-9]*m[0-9.]*s' | awk '{split($2,a,"m"); sub("s","",a[2]); print a[1]*60+a[2]}' | sort -n | tail -n 1
}
cpu_ms() { awk -v hz="$hz" '{print int(($14+$15) * 1000 / hz)}' "/proc/$1/stat"; }

# tmux: two 70x42 panes side by side, synchronized: the size of the dashboard's two panes at
# 200x50 (each pane's `stty size` says 42 70).
t new-session -d -s plain -x 141 -y 42 "bash --norc"
t split-window -h -t plain "bash --norc"
t set-window-option -t plain synchronize-panes on
# The dashboard at 200x50: two sessions in panes side by side, typed into together.
t new-session -d -s dash -x 200 -y 50 "$tool"
wait_for dash 'root@my-container-1'
t send-keys -t dash C-a c; sleep 0.3; t send-keys -t dash Enter
wait_for dash 'root@my-container-2'
t send-keys -t dash C-a '|'; sleep 0.5
t send-keys -t dash C-a s; sleep 1
pid=$(pgrep -f -n "^$tool\$")

round() { # session number: both panes flood; waits for both to finish
    t send-keys -t "$1" "clear; time seq 1 2000000; echo bench-done-\$((1000+$2))" Enter
    if [ "$1" = plain ]; then
        for _ in $(seq 1 900); do
            t capture-pane -p -t plain.0 | grep -q "bench-done-$((1000 + $2))" &&
                t capture-pane -p -t plain.1 | grep -q "bench-done-$((1000 + $2))" && return 0
            sleep 0.1
        done
        echo "panes.sh: tmux's round $2 did not end" >&2; exit 1
    fi
    wait_for "$1" "bench-done-$((1000 + $2))" 2
}
declare -a ours theirs cpu
for i in $(seq 1 "$rounds"); do
    round plain "$i"
    theirs+=("$( (t capture-pane -p -t plain.0; t capture-pane -p -t plain.1) | slowest)")
    c0=$(cpu_ms "$pid")
    round dash "$i"
    ours+=("$(t capture-pane -p -t dash | slowest)")
    cpu+=($(( $(cpu_ms "$pid") - c0 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "| measure | my-container-tui | tmux | ratio |"
echo "|---|---|---|---|"
echo "| two \`seq 1 2000000\` at once in two 70x42 panes, the slower, median of $rounds (s) | $mo | $mt | $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f×", a / b}') |"
echo "| the dashboard's CPU over such a round, median (ms) | $(median "${cpu[@]}") | | |"
