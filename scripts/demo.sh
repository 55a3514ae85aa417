#!/usr/bin/env bash
# The main job on a fresh machine: fetch ONNX Runtime if needed, then replay
# the shipped sample bag through the node's control loop with the default
# model under an average compute budget, print the report, and sweep the
# budget. Extra arguments go to deer_vla_replay (e.g. -p budget.avg_gflops:=0.5).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup_env.sh

mkdir -p out
exec go run ./nodes/deer_vla_replay \
  -bag test/bags/sample_demo \
  -params params/deer_vla.yaml \
  -p budget.avg_gflops:=0.001 \
  -plots out/plots -sweep 5 \
  "$@"
