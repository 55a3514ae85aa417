# Sourced after a ROS 2 setup.bash: exports the cgo flags that
# `go build -tags ros2` needs for rclgo and the bindings in msgs/rosgen,
# from every prefix on AMENT_PREFIX_PATH (ROS's include/<pkg> layout).
_deer_cflags="" _deer_ldflags=""
IFS=: read -r -a _deer_prefixes <<< "${AMENT_PREFIX_PATH:?source a ROS 2 setup.bash first}"
for _p in "${_deer_prefixes[@]}"; do
  for _inc in "$_p"/include/*/; do
    [ -d "$_inc" ] && _deer_cflags="$_deer_cflags -I${_inc%/}"
  done
  [ -d "$_p/lib" ] && _deer_ldflags="$_deer_ldflags -L$_p/lib -Wl,-rpath=$_p/lib"
done
export CGO_CFLAGS="${CGO_CFLAGS:-}$_deer_cflags"
export CGO_LDFLAGS="${CGO_LDFLAGS:-}$_deer_ldflags"
unset _deer_cflags _deer_ldflags _deer_prefixes _p _inc
