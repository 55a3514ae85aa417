#!/usr/bin/env bash
# Runs every test that needs no ROS: fetches ONNX Runtime if needed, then
# go vet and go test over the whole module. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  echo "test.sh: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2
  exit 1
fi
ONNXRUNTIME_SHARED_LIBRARY_PATH="${ONNXRUNTIME_SHARED_LIBRARY_PATH:-$(scripts/fetch_onnxruntime.sh)}"
export ONNXRUNTIME_SHARED_LIBRARY_PATH

go vet ./...
go test -count=1 "$@" ./...
