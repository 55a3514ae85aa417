#!/bin/sh
# Real-size benchmark of an exported DeeR-VLA model (not in CI): exports the
# user's files with tools/export/deer_export.py (once), cuts the encoder's
# vision tower and resampler out as timing-only graphs, then runs the Go
# engine (nodes/deer_vla_export_bench) and PyTorch eager on the same
# weights (tools/export/bench_torch.py), one after the other, never at once.
#
#   tools/export/bench_real.sh --checkpoint DEER.pth --lm-dir MPT_DIR \
#       --clip ViT-L-14.pt --tokenizer tokenizer.json [--work DIR] [--steps N] [--threads N]
#
# Needs about 8 GB of free memory at DeeR-3B's shapes and 7 GB of disk for
# the export (kept in --work, default ./bench_real; delete it afterwards).
set -eu
cd "$(dirname "$0")/../.."
WORK=bench_real STEPS=5 THREADS=2
CKPT= LM= CLIP= TOK=
while [ $# -gt 0 ]; do
	case "$1" in
	--checkpoint) CKPT=$2 ;;
	--lm-dir) LM=$2 ;;
	--clip) CLIP=$2 ;;
	--tokenizer) TOK=$2 ;;
	--work) WORK=$2 ;;
	--steps) STEPS=$2 ;;
	--threads) THREADS=$2 ;;
	*) echo "bench_real.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift 2
done
if [ -z "$CKPT" ] || [ -z "$LM" ] || [ -z "$CLIP" ] || [ -z "$TOK" ]; then
	sed -n '2,13p' "$0" >&2
	exit 2
fi
: "${ONNXRUNTIME_SHARED_LIBRARY_PATH:=$(pwd)/third_party/onnxruntime/1.24.3/linux-x64/libonnxruntime.so.1}"
export ONNXRUNTIME_SHARED_LIBRARY_PATH
[ -f "$ONNXRUNTIME_SHARED_LIBRARY_PATH" ] || scripts/fetch_onnxruntime.sh
mkdir -p "$WORK"
if [ ! -f "$WORK/model/manifest.yaml" ]; then
	nice /usr/bin/python3 tools/export/deer_export.py export --checkpoint "$CKPT" --lm-dir "$LM" \
		--clip "$CLIP" --tokenizer "$TOK" --out "$WORK/model"
fi
[ -f "$WORK/split/split.json" ] || nice /usr/bin/python3 tools/export/bench_split.py "$WORK/model" "$WORK/split"
echo "== Go engine, ONNX Runtime (CPU)"
go build -o "$WORK/deer_vla_export_bench" ./nodes/deer_vla_export_bench
nice "$WORK/deer_vla_export_bench" -model "$WORK/model" -split "$WORK/split" -steps "$STEPS" \
	-threads "$THREADS" -json "$WORK/go.json"
echo "== PyTorch eager, same weights"
nice /usr/bin/python3 tools/export/bench_torch.py --checkpoint "$CKPT" --lm-dir "$LM" --clip "$CLIP" \
	--tokenizer "$TOK" --steps "$STEPS" --threads "$THREADS" --json "$WORK/torch.json"
