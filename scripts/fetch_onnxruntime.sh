#!/usr/bin/env bash
# Fetches the CPU build of ONNX Runtime's shared library from the npm package
# onnxruntime-node (a registry package, so no install scripts and no CUDA
# downloads run), verifies its checksum and places it under
# third_party/onnxruntime/ of the repository, or of the folder given as the
# first argument (colcon builds fetch into their build folder). Prints the
# library's path. Idempotent.
#
# Robots with a GPU point the node at their own CUDA or TensorRT build of
# ONNX Runtime instead (flag -ort-lib or ONNXRUNTIME_SHARED_LIBRARY_PATH).
set -euo pipefail

version=1.24.3
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
case "$(uname -m)" in
  x86_64|amd64) arch=x64; sha=92ba8e44d31b80a34f5e805076a044122c3be1fffe0d88ed790de7267b0b2682 ;;
  aarch64|arm64) arch=arm64; sha=33032cb5b91c12edbf028d7c69fa40a31848d66c0095448758af237d5e0b07db ;;
  *) echo "fetch_onnxruntime: no ONNX Runtime build for $(uname -m) in onnxruntime-node" >&2; exit 1 ;;
esac
dest="$root/third_party/onnxruntime/$version/linux-$arch"
lib="$dest/libonnxruntime.so.1"

if [ -f "$lib" ] && echo "$sha  $lib" | sha256sum -c --status; then
  echo "$lib"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fetch_onnxruntime: installing npm with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm) >&2
  else
    echo "fetch_onnxruntime: npm is needed to fetch onnxruntime-node@$version (sudo apt-get install npm)" >&2
    exit 1
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$tmp/onnxruntime-node-$version.tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
got=$(sha256sum "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" | cut -d' ' -f1)
if [ "$got" != "$sha" ]; then
  echo "fetch_onnxruntime: checksum mismatch for libonnxruntime.so.1: got $got, want $sha" >&2
  exit 1
fi
mkdir -p "$dest"
mv "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$lib"
echo "$lib"
