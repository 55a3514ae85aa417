#!/usr/bin/env bash
# Makes sure Debian's /usr/bin/python3 has torch, onnx and PIL: the DeeR
# exporter (tools/export/) and its CI test (test/export) run on them. As root
# it installs python3-torch python3-onnx python3-pil with apt-get when one is
# missing; otherwise it says what to install. Idempotent.
set -euo pipefail

py=/usr/bin/python3
if [ -x "$py" ] && "$py" -c "import torch, onnx, PIL" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install_python_deps: installing python3-torch python3-onnx python3-pil with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-torch python3-onnx python3-pil) >&2
  exit 0
fi
echo "install_python_deps: /usr/bin/python3 needs torch, onnx and PIL for tools/export and its tests:" >&2
echo "  sudo apt-get install python3-torch python3-onnx python3-pil" >&2
exit 1
