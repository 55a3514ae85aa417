#!/usr/bin/env bash
# Runs every fuzz target of the module (func FuzzXxx in a _test.go file)
# for FUZZTIME each (default 1000x: a thousand inputs), one after another,
# and fails if any finds a fault. The default is a count, not a duration:
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when a duration runs out under CPU contention, no
# fault found (golang/go#75804, fixed in Go 1.27). scripts/test.sh runs it after the unit tests; run it with
# a larger FUZZTIME (FUZZTIME=100000x scripts/fuzz.sh) to search harder, or
# with arguments to fuzz only the named targets (scripts/fuzz.sh FuzzDecoder).
#
# A failure leaves the input that found it under the package's
# testdata/fuzz/FuzzXxx/, where plain `go test` replays it: commit it with
# the fix. Minimisation is capped so a target's time goes to fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-1000x}
failed=()
count=0
start=$SECONDS
while read -r file target; do
	if [ $# -gt 0 ] && [[ " $* " != *" $target "* ]]; then
		continue
	fi
	pkg=./$(dirname "$file")
	count=$((count + 1))
	if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 100x "$pkg" 2>&1); then
		echo "$out"
		failed+=("$pkg $target")
	fi
done < <(grep -rHo --include='*_test.go' --exclude-dir=testdata --exclude-dir=third_party '^func Fuzz[A-Za-z0-9_]*' . |
	sed -e 's|^\./||' -e 's|:func | |' | sort)

echo "fuzz: $count targets, $FUZZTIME each, $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: FAILED %s\n' "${failed[@]}"
	exit 1
fi
