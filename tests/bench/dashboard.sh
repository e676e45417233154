#!/usr/bin/env bash
# Dashboard benchmark, run side by side with tmux in one go:
#  - throughput: `seq 1 2000000` in an embedded shell vs in a tmux pane of the same size
#    (bash's `time`, real seconds: how fast each drains its pty), and the CPU the dashboard
#    and the session's monitor spent on each;
#  - idle CPU of the dashboard with 10 idle sessions (utime+stime over 10 s);
#  - resident memory of the dashboard with 1 and with 20 sessions, and of the sessions'
#    monitors (each container's monitor holds its pty, log and screen copy).
# Its containers live in a namespace of their own (MCT_NAMESPACE) and are removed at the end.
#
#   sudo tests/bench/dashboard.sh          # needs root and tmux
set -euo pipefail
cd "$(dirname "$0")/../.."
name=dashboard
. tests/bench/tmux-world.sh
real_of() { # pane -> seconds from bash's `time` output
    t capture-pane -p -S -50 -t "$1" | grep -o 'real[^│]*' | tail -n 1 | awk '{split($2,a,"m"); sub("s","",a[2]); print a[1]*60+a[2]}'
}
dash_pid() { pgrep -f -n "^$tool\$"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
monitors_kb() { # the resident memory of every monitor of our namespace's containers
    local total=0
    for id in $("$tool" ps -q); do
        m=$(pgrep -f "__monitor $id" | head -n 1)
        [ -z "$m" ] || total=$((total + $(rss_kb "$m")))
    done
    echo "$total"
}
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# The dashboard at 150x45: its terminal pane is 98x37 (see ui::Areas); tmux gets the same.
t new-session -d -s dash -x 150 -y 45 "$tool"
wait_for dash 'root@my-container-1'
t new-session -d -s plain -x 98 -y 37 "bash --norc"
sleep 1
pid=$(dash_pid)
rss1=$(rss_kb "$pid"); mon1=$(monitors_kb)

run_seq() { # pane run-number
    t send-keys -t "$1" "clear; time seq 1 2000000; echo bench-done-\$((1000+$2))" Enter
    wait_for "$1" "bench-done-$((1000 + $2))"
}
declare -a ours theirs dash_cpu mon_cpu
mon=$(pgrep -f "__monitor $("$tool" ps -q | head -n 1)" | head -n 1)
for i in 1 2 3 4 5 6 7; do
    run_seq plain "$i"; theirs+=("$(real_of plain)")
    d0=$(cpu_ticks "$pid"); m0=$(cpu_ticks "$mon")
    run_seq dash "$i"; ours+=("$(real_of dash)")
    dash_cpu+=($(( ($(cpu_ticks "$pid") - d0) * 1000 / hz ))); mon_cpu+=($(( ($(cpu_ticks "$mon") - m0) * 1000 / hz )))
done
rss_full=$(rss_kb "$pid"); mon_full=$(monitors_kb)

for i in $(seq 2 10); do t send-keys -t dash C-a c; sleep 0.2; t send-keys -t dash Enter; wait_for dash "root@my-container-$i"; done
sleep 3
c0=$(cpu_ticks "$pid"); sleep 10; c1=$(cpu_ticks "$pid")
idle=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN {printf "%.2f", 100 * d / hz / 10}')

for i in $(seq 11 20); do t send-keys -t dash C-a c; sleep 0.2; t send-keys -t dash Enter; wait_for dash "root@my-container-$i"; done
sleep 2
rss20=$(rss_kb "$pid"); mon20=$(monitors_kb)

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${ours[@]}"); mt=$(median "${theirs[@]}")
echo "| measure | my-container-tui | tmux | ratio |"
echo "|---|---|---|---|"
echo "| \`seq 1 2000000\` in a 98x37 pane, median of 7 (s) | $mo | $mt | $(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2f×", a / b}') |"
echo "| CPU during one \`seq 1 2000000\`, median of 7: the dashboard + the session's monitor (ms) | $(median "${dash_cpu[@]}") + $(median "${mon_cpu[@]}") | | |"
echo "| idle CPU, 10 idle sessions (% of a core over 10 s) | $idle | | |"
echo "| resident memory, 1 fresh session: dashboard + monitor | $((rss1 / 1024)) MiB + $((mon1 / 1024)) MiB | | |"
echo "| resident memory, 1 session after the seq runs (10,000 lines of scrollback full) | $((rss_full / 1024)) MiB + $((mon_full / 1024)) MiB | | |"
echo "| resident memory, 20 sessions (19 fresh) | $((rss20 / 1024)) MiB ($(( (rss20 - rss_full) / 19 )) KiB more per fresh session) + monitors $((mon20 / 1024)) MiB | | |"
