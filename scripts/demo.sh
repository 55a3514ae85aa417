#!/usr/bin/env bash
# The main job on a fresh machine: fetch ONNX Runtime if needed, then replay
# the shipped sample bag through the node's control loop with the default
# model under an average compute budget, print the report, sweep the
# budget, and say where the plots are. Extra arguments go to
# deer_vla_replay (e.g. -p budget.avg_gflops:=0.002).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup_env.sh

plots="$PWD/out/plots"
mkdir -p "$plots"
go run ./nodes/deer_vla_replay \
  -params params/deer_vla.yaml \
  -p budget.avg_gflops:=0.001 \
  -plots "$plots" -sweep 5 \
  "$@" test/bags/sample_demo
echo
echo "demo: plots in $plots (open the .svg files in a web browser):"
echo "  $plots/exits.svg   the exit taken at each step"
echo "  $plots/sweep.svg   average compute against action error, over the budget sweep"
