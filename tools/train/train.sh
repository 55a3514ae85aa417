#!/bin/sh
# Regenerate the demonstrations, train the tiny DeeR model, export it to
# models/deer_tiny and write its calibrations. A rerun in a fresh clone
# reproduced the shipped model byte for byte in 30.6 minutes beside another
# training run; the previous model's, alone on 2 CPU cores, took 25.4 (see
# tools/train/README.md). Run as root, it
# installs Debian's OpenBLAS, python3-torch and python3-onnx when they are
# missing; it fetches ONNX Runtime (scripts/fetch_onnxruntime.sh) unless
# ONNXRUNTIME_SHARED_LIBRARY_PATH names one.
#
#   tools/train/train.sh            # work files (training set) in /tmp/deer_train
#   DEER_WORK=/elsewhere EPOCHS=4 DAGGER_EPOCHS=0 tools/train/train.sh   # no DAgger rounds
set -eu
cd "$(dirname "$0")/../.."
WORK=${DEER_WORK:-/tmp/deer_train}
EPOCHS=${EPOCHS:-4}
DAGGER_EPOCHS=${DAGGER_EPOCHS:-3}
DAGGER2_EPOCHS=${DAGGER2_EPOCHS:-2}
RELEASE_W=${RELEASE_W:-10}
THREADS=${THREADS:-1}
# Debian's python3-torch does its matrix products through the system BLAS
# (libblas.so.3), and the default one is the netlib reference
# implementation: OpenBLAS trains this model about 2x faster. Pin it (the
# OpenMP build, as torch uses OpenMP) rather than rely on the system's
# alternative, so every run uses the same kernels: results depend on them.
BLAS_DIR=/usr/lib/$(uname -m)-linux-gnu/openblas-openmp
if [ ! -f "$BLAS_DIR/libblas.so.3" ] || ! /usr/bin/python3 -c "import torch, onnx" 2>/dev/null; then
	PKGS="libopenblas0-openmp python3-torch python3-onnx"
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "train.sh: installing $PKGS with apt-get" >&2
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS >&2
	else
		echo "train.sh: needs Debian's $PKGS (sudo apt-get install $PKGS)" >&2
		exit 1
	fi
fi
export LD_LIBRARY_PATH="$BLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OMP_NUM_THREADS="$THREADS"
# The Go engine drives the DAgger rounds and writes the calibrations.
ONNXRUNTIME_SHARED_LIBRARY_PATH=${ONNXRUNTIME_SHARED_LIBRARY_PATH:-$(scripts/fetch_onnxruntime.sh)}
export ONNXRUNTIME_SHARED_LIBRARY_PATH
# glibc returns large freed blocks to the kernel and faults them in again at
# the next allocation; torch allocates the same ~18 MB activations every
# iteration, and with the DAgger round's bigger data set that cost about a
# third of each iteration. Keeping them in the heap changes no result.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
mkdir -p "$WORK"
START=$(date +%s)
go build -o "$WORK/deer_vla_demos" ./nodes/deer_vla_demos
go build -o "$WORK/deer_vla_bench" ./nodes/deer_vla_bench
demos() { rm -rf "$1"; "$WORK/deer_vla_demos" -out "$@"; }

train() {
	/usr/bin/python3 tools/train/deer_tiny.py --val "$WORK/val" --sample test/bags/sample_demo \
		--threads "$THREADS" --huber 1.0 --state-w 0.5 ${SEED:+--seed "$SEED"} --release-w "$RELEASE_W" "$@"
}
# Seeds: training 100000+, on-policy (DAgger) 300000+, validation 700000+,
# calibration 500000+, sample bag 1+; the benchmark evaluates from 900000
# (deer_vla_bench -seed). The training and validation sets also record the
# true sim state (/sim_state), the targets of the auxiliary state losses.
# The small sets are written on the second core while the training set is.
(
	demos "$WORK/val" -episodes 40 -seed 700000 -noise 0 -state
	demos "$WORK/calib" -episodes 80 -seed 500000 -noise 0.05
	demos test/bags/sample_demo -episodes 6 -seed 1 -noise 0.05
) &
P1=$!
demos "$WORK/train" -episodes 800 -seed 100000 -noise 0.1 -state
wait $P1
# Round 1: behaviour cloning of the expert.
ROUND1=models/deer_tiny
if [ "$DAGGER_EPOCHS" -gt 0 ]; then ROUND1="$WORK/round1"; fi
train --train "$WORK/train" --out "$ROUND1" --epochs "$EPOCHS" --pretrain-steps 400 \
	--checkpoint "$WORK/round1.pt"
# Round 2 (DAgger, DAGGER_EPOCHS > 0): the round-1 model drives the sim (the
# expert acts at 20% of the steps), the expert labels the states it reaches,
# and training goes on over all sets: the policy learns to recover from its
# own mistakes. Half the episodes run at full depth, half at exit 1 alone:
# under DeeR most steps exit early, so the shallow exits must recover from
# the states they lead to themselves.
# Round 3 (a second DAgger round, DAGGER2_EPOCHS > 0): the same with the
# round-2 model driving, new seeds, two epochs over all five sets at half the
# learning rate. Its states are the ones the better policy now reaches.
if [ "$DAGGER_EPOCHS" -gt 0 ]; then
	ROUND2=models/deer_tiny
	if [ "$DAGGER2_EPOCHS" -gt 0 ]; then ROUND2="$WORK/round2"; fi
	demos "$WORK/dagger" -episodes 200 -seed 300000 -noise 0 -state -model "$ROUND1" -beta 0.2 &
	P1=$!
	demos "$WORK/dagger_exit1" -episodes 200 -seed 300200 -noise 0 -state -model "$ROUND1" -beta 0.2 -exit 1
	wait $P1 # the two runs are independent: one core each (set -e: a failure stops here)
	train --train "$WORK/train" "$WORK/dagger" "$WORK/dagger_exit1" --out "$ROUND2" --epochs "$DAGGER_EPOCHS" --lr 1e-3 \
		--init "$WORK/round1.pt" --checkpoint "$WORK/round2.pt"
	if [ "$DAGGER2_EPOCHS" -gt 0 ]; then
		demos "$WORK/dagger2" -episodes 200 -seed 310000 -noise 0 -state -model "$ROUND2" -beta 0.2 &
		P1=$!
		demos "$WORK/dagger2_exit1" -episodes 200 -seed 310200 -noise 0 -state -model "$ROUND2" -beta 0.2 -exit 1
		wait $P1
		train --train "$WORK/train" "$WORK/dagger" "$WORK/dagger_exit1" "$WORK/dagger2" "$WORK/dagger2_exit1" \
			--out models/deer_tiny --epochs "$DAGGER2_EPOCHS" --lr 5e-4 --init "$WORK/round2.pt" --checkpoint "$WORK/deer_tiny.pt"
	fi
fi
# One calibration per exit metric the node may be switched to live:
# calibration.csv (rms), calibration_rms_gripper.csv, calibration_cosine.csv.
for metric in rms rms_gripper cosine; do
	"$WORK/deer_vla_bench" -model models/deer_tiny -calibrate "$WORK/calib" -metric $metric
done
echo "train.sh: done in $(($(date +%s) - START)) s" >&2
