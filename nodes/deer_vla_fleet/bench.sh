#!/usr/bin/env bash
# Benchmark of the fleet replay (not in CI): bags per second on Prism with
# 1 and 2 workers against a shell loop of deer_vla_replay over the same
# bags, side by side in one run; Beam's overhead per bag; peak memory.
#
#   nodes/deer_vla_fleet/bench.sh [BAGS [EPISODES]] [extra deer_vla_replay/fleet flags]
#
# BAGS (default 24) demonstration bags of EPISODES episodes each (default
# 4, about 150 steps) are written by deer_vla_demos into a temporary folder. Peak resident memory comes from
# GNU time (/usr/bin/time); without it those columns say n/a.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/setup_env.sh
n=${1:-24}
episodes=${2:-4}
shift 2 || shift $# || true
extra=("-p" "budget.avg_gflops:=0.0012" "$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bin/" ./nodes/deer_vla_demos ./nodes/deer_vla_replay
(cd nodes/deer_vla_fleet && go build -o "$tmp/bin/" .)
tasks=(reach push pick place)
for i in $(seq 0 $((n - 1))); do
  "$tmp/bin/deer_vla_demos" -out "$tmp/bags/demo_$(printf %03d "$i")" -episodes "$episodes" -seed $((700 + 10 * i)) -tasks "${tasks[$((i % 4))]}" >/dev/null
done

# timed CMD...: runs CMD, prints "seconds peak_kB" (peak n/a without GNU time).
timed() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    cat "$tmp/time"
  else
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }; e=$(date +%s.%N)
    echo "$(echo "$e - $s" | bc) n/a"
  fi
}

loop() { for b in "$tmp"/bags/*; do "$tmp/bin/deer_vla_replay" -bag "$b" "${extra[@]}" >/dev/null; done; }
export -f loop; export tmp
read -r loop_s _ < <(timed bash -c 'extra=("$@"); loop' _ "${extra[@]}")
# One replay alone, for the per-process memory of the loop.
read -r _ loop_kb < <(timed "$tmp/bin/deer_vla_replay" -bag "$tmp/bags/demo_000" "${extra[@]}")
read -r w1_s w1_kb < <(timed "$tmp/bin/deer_vla_fleet" -workers 1 -out "$tmp/out1" "${extra[@]}" "$tmp"/bags/*)
read -r w2_s w2_kb < <(timed "$tmp/bin/deer_vla_fleet" -workers 2 -out "$tmp/out2" "${extra[@]}" "$tmp"/bags/*)
# The bags' own replay time on the workers, from the rows.
replay_s=$(grep -o '"seconds":[0-9.e+-]*' "$tmp/out1/rows.jsonl" | cut -d: -f2 | paste -sd+ | bc -l)

rate() { echo "scale=2; $n / $1" | bc -l; }
echo "fleet benchmark: $n bags of $episodes episodes, $(nproc) cores, flags: ${extra[*]}"
printf '%-34s %10s %10s %14s\n' "" "wall s" "bags/s" "peak RSS MB"
mb() { [ "$1" = n/a ] && echo n/a || echo $(( $1 / 1024 )); }
printf '%-34s %10.1f %10s %14s\n' "shell loop of deer_vla_replay" "$loop_s" "$(rate "$loop_s")" "$(mb "$loop_kb") (one)"
printf '%-34s %10.1f %10s %14s\n' "deer_vla_fleet, Prism, 1 worker" "$w1_s" "$(rate "$w1_s")" "$(mb "$w1_kb")"
printf '%-34s %10.1f %10s %14s\n' "deer_vla_fleet, Prism, 2 workers" "$w2_s" "$(rate "$w2_s")" "$(mb "$w2_kb")"
echo "Beam's overhead per bag, 1 worker: $(echo "scale=3; ($w1_s - $replay_s) / $n" | bc -l) s (wall minus the rows' replay seconds, over $n bags)"
echo "against the shell loop, per bag:    $(echo "scale=3; ($w1_s - $loop_s) / $n" | bc -l) s"
if [ "$w1_kb" != n/a ]; then
  echo "memory per extra worker:            $(( (w2_kb - w1_kb) / 1024 )) MB (2 workers' peak minus 1 worker's)"
fi
