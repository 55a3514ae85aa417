#!/usr/bin/env bash
# The main job on a fresh machine: fetch ONNX Runtime if needed, then replay
# the shipped sample bag through the node's control loop with the default
# model under an average compute budget, print the report, and sweep the
# budget. Extra arguments go to deer_vla_replay (e.g. -p budget.avg_gflops:=0.5).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "demo.sh: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2
  exit 1
fi
ONNXRUNTIME_SHARED_LIBRARY_PATH="${ONNXRUNTIME_SHARED_LIBRARY_PATH:-$(scripts/fetch_onnxruntime.sh)}"
export ONNXRUNTIME_SHARED_LIBRARY_PATH

mkdir -p out
exec go run ./nodes/deer_vla_replay \
  -bag test/bags/sample_demo \
  -params params/deer_vla.yaml \
  -p budget.avg_gflops:=0.00025 \
  -plots out/plots -sweep 5 \
  "$@"
