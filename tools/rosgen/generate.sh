#!/usr/bin/env bash
# Regenerates msgs/rosgen: rclgo-gen's Go bindings of the ROS 2 interfaces
# the node needs services or typed messages for (parameters, ~/reset,
# diagnostics). Topics with the package's own CDR codec need none.
#
# Needs a sourced ROS 2 Humble (source /opt/ros/humble/setup.bash). Each
# generated file gets a `//go:build ros2` line, so the main module builds and
# tests without ROS; rclgo-gen's own --license-header-path wraps its text in
# a block comment, where a build constraint has no effect.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../../msgs/rosgen"
: "${ROS_DISTRO:?source /opt/ros/humble/setup.bash first}"

rm -rf "$dest"
(cd "$here" && go run github.com/tiiuae/rclgo/cmd/rclgo-gen generate \
  -d "$dest" \
  --message-module-prefix github.com/deervla/deer_vla/msgs/rosgen \
  --include-package-deps rcl_interfaces \
  --include-package-deps std_srvs \
  --include-package-deps diagnostic_msgs \
  --cgo-flags-path "")
find "$dest" -name '*.go' -print0 | while IFS= read -r -d '' f; do
  { printf '//go:build ros2\n\n'; cat "$f"; } > "$f.tmp" && mv "$f.tmp" "$f"
done
gofmt -l "$dest" | xargs -r gofmt -w
echo "generated $(find "$dest" -name '*.go' | wc -l) files in msgs/rosgen"
