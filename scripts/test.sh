#!/usr/bin/env bash
# Runs every test that needs no ROS: fetches ONNX Runtime if needed, then
# go vet and go test over the whole module. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup_env.sh

go vet ./...
go test -count=1 "$@" ./...
scripts/fuzz.sh # every fuzz target briefly: FUZZTIME=2s each
