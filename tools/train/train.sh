#!/bin/sh
# Regenerate the demonstrations, train the tiny DeeR model, export it to
# models/deer_tiny and write its calibration. About 30 minutes on 2 CPU cores.
#
#   tools/train/train.sh            # work files (training set) in /tmp/deer_train
#   DEER_WORK=/elsewhere EPOCHS=4 tools/train/train.sh
set -eu
cd "$(dirname "$0")/../.."
WORK=${DEER_WORK:-/tmp/deer_train}
EPOCHS=${EPOCHS:-6}
mkdir -p "$WORK"
go build -o "$WORK/deer_vla_demos" ./nodes/deer_vla_demos
go build -o "$WORK/deer_vla_bench" ./nodes/deer_vla_bench
demos() { rm -rf "$1"; "$WORK/deer_vla_demos" -out "$@"; }
# Seeds: training 100000+, validation 700000+, calibration 500000+, sample
# bag 1+; the benchmark evaluates from 900000 (deer_vla_bench -seed).
demos "$WORK/train" -episodes 800 -seed 100000 -noise 0.1
demos "$WORK/val" -episodes 40 -seed 700000 -noise 0
demos "$WORK/calib" -episodes 80 -seed 500000 -noise 0.05
demos test/bags/sample_demo -episodes 6 -seed 1 -noise 0.05
/usr/bin/python3 tools/train/deer_tiny.py --train "$WORK/train" --val "$WORK/val" \
	--sample test/bags/sample_demo --out models/deer_tiny --epochs "$EPOCHS" \
	--checkpoint "$WORK/deer_tiny.pt"
"$WORK/deer_vla_bench" -model models/deer_tiny -calibrate "$WORK/calib"
