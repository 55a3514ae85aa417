# Sourced by scripts/demo.sh and scripts/test.sh: checks for Go and exports
# ONNXRUNTIME_SHARED_LIBRARY_PATH, fetching ONNX Runtime if needed.
if ! command -v go >/dev/null 2>&1; then
  echo "$(basename "$0"): Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2
  exit 1
fi
ONNXRUNTIME_SHARED_LIBRARY_PATH="${ONNXRUNTIME_SHARED_LIBRARY_PATH:-$(scripts/fetch_onnxruntime.sh)}"
export ONNXRUNTIME_SHARED_LIBRARY_PATH
