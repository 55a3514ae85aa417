#!/usr/bin/env bash
# Runs every test that needs no ROS: fetches ONNX Runtime if needed, then
# go vet and go test over the whole module. CI (.ci/run) runs exactly this.
# Output is plain go test's (a line per package, failures in full), then
# the tests that did not run and why (e.g. the ROS 2 integration test
# without /opt/ros/humble), and last one line: N passed, N failed, N skipped.
# Extra arguments go to go test (e.g. -run TestReplay).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/setup_env.sh
# The DeeR exporter's test (test/export) runs Debian's python3-torch.
scripts/install_python_deps.sh

go vet ./...
# Every fuzz target briefly (FUZZTIME=1000x each), before the unit tests so
# that their summary stays the last line.
scripts/fuzz.sh
# The fleet replay on Apache Beam is its own Go module (see its go.mod).
(cd nodes/deer_vla_fleet && go vet ./...)
go build -o "${TMPDIR:-/tmp}/deer_vla_testsummary.$$" ./scripts/testsummary
trap 'rm -f "${TMPDIR:-/tmp}/deer_vla_testsummary.$$"' EXIT
# Both modules' results go to one summary, which fails the script if any
# test or build failed (go test's own status is left to it).
{
  go test -count=1 -timeout 30m -json "$@" ./... || true
  (cd nodes/deer_vla_fleet && go test -count=1 -timeout 30m -json "$@" ./...) || true
} | "${TMPDIR:-/tmp}/deer_vla_testsummary.$$"
