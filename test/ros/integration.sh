#!/usr/bin/env bash
# End-to-end test of the deer_vla node against a real ROS 2 Humble at
# /opt/ros/humble (override with ROS_SETUP): colcon build of the package,
# offline and without writing into the source tree, ros2 launch, images and
# an instruction from the CLI, actions out, the parameter CLI (list,
# describe, get, set; a live budget change shifting the exits; invalid
# values rejected with a reason in plain words; "[]" clearing the
# thresholds; dump then load; use_sim_time switched live), a shared
# bringup params file in a namespace, ~/reset, /diagnostics, and ros2 bag
# play --clock of the sample bag with use_sim_time.
#
# Where ROS 2 is not installed it says so and exits 0: it did not run.
# Prints one PASS/FAIL line per check and "N passed, M failed" at the end.
set -uo pipefail

ROS_SETUP=${ROS_SETUP:-/opt/ros/humble/setup.bash}
if [ ! -f "$ROS_SETUP" ]; then
  echo "ROS 2 integration test did not run: $ROS_SETUP not found (install ROS 2 Humble to run it)"
  exit 0
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
passed=0 failed=0
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" "$p" 2>/dev/null; done
  sleep 1
  for p in "${pids[@]}"; do kill -KILL -- "-$p" "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

check() { # check NAME COMMAND...: passes when COMMAND succeeds
  local name=$1; shift
  if "$@" >"$work/check.out" 2>&1; then
    echo "PASS $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; sed 's/^/    /' "$work/check.out" | tail -15; failed=$((failed + 1))
  fi
}
background() { # background LOG COMMAND...: in its own process group
  local log=$1; shift
  setsid "$@" >"$log" 2>&1 &
  pids+=($!)
}
# --foreground keeps the ros2 daemon alive; -k makes sure a command that
# ignores the first signal still ends.
t() { timeout --foreground -k 5 "$@"; }
export -f t

# A private, loopback-only DDS domain, so other nodes on the machine do not interfere.
export ROS_DOMAIN_ID=$((40 + RANDOM % 50)) ROS_LOCALHOST_ONLY=1
# Loopback has no multicast, so Cyclone DDS finds peers by unicast to each
# participant index; its default of 9 indices is fewer than the CLI
# processes of this test.
export CYCLONEDDS_URI=${CYCLONEDDS_URI:-'<CycloneDDS><Domain Id="any"><Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>120</MaxAutoParticipantIndex></Discovery></Domain></CycloneDDS>'}
# The system Python must run the ROS tools and CMake's Python probes: keep
# version managers' shims (pyenv) off PATH, keep Go.
export PATH="$(dirname "$(command -v go)"):/usr/sbin:/usr/bin:/sbin:/bin"
set +u; source "$ROS_SETUP"; set -u

echo "== colcon build (workspace $work/ws), offline, source tree untouched"
mkdir -p "$work/ws/src"
ln -s "$repo" "$work/ws/src/deer_vla"
# The build may not reach a network: ONNX Runtime comes from this machine
# (fetched now if need be, outside the build), Go modules from the module
# cache or vendor/. Where the kernel lets us, the build runs in a network
# namespace of its own, with no network at all.
ort=${ONNXRUNTIME_SHARED_LIBRARY_PATH:-}
[ -f "$ort" ] || ort=$("$repo/scripts/fetch_onnxruntime.sh" "$work/ort")
# rclgo is imported only under the ros2 build tag, so a plain go build or
# go test never puts it in the module cache: fill the cache now, outside
# the build, as a robot owner does on a connected computer (README).
if [ ! -d "$repo/vendor" ] && ! (cd "$repo" && t 600 go mod download) >"$work/modules.log" 2>&1; then
  tail -20 "$work/modules.log"
  echo "FAIL go mod download (fills the module cache for the offline build)"; echo "0 passed, 1 failed"; exit 1
fi
nonet=()
if unshare -n true 2>/dev/null; then nonet=(unshare -n); fi
echo "(build network: ${nonet[*]:-"not isolated (unshare -n not permitted); GOPROXY=off"})"
touch "$work/before-build"
sleep 1
if ! (cd "$work/ws" && GOPROXY=off t 900 "${nonet[@]}" colcon build --build-base "$work/build" --install-base "$work/install" \
      --cmake-args -DDEER_VLA_OFFLINE=ON "-DONNXRUNTIME_LIBRARY=$ort" >"$work/colcon.log" 2>&1); then
  tail -40 "$work/colcon.log"
  echo "FAIL colcon build"; echo "0 passed, 1 failed"; exit 1
fi
echo "PASS colcon build"; passed=$((passed + 1))
check "colcon build left the source tree untouched" bash -c \
  "changed=\$(find '$repo/' -path '$repo/.git' -prune -o -newer '$work/before-build' -print | head); [ -z \"\$changed\" ] || { echo \"\$changed\"; false; }"
set +u; source "$work/install/setup.bash"; set -u
share="$work/install/deer_vla/share/deer_vla"

echo "== ros2 launch with images and an instruction from the CLI"
background "$work/launch.log" ros2 launch deer_vla deer_vla.launch.py "model:=$share/models/tiny_test"
node_up() { for _ in $(seq 30); do ros2 node list 2>/dev/null | grep -qx /deer_vla && return 0; sleep 1; done; return 1; }
check "node /deer_vla is up" node_up
img='{header: {frame_id: cam}, height: 2, width: 2, encoding: rgb8, step: 6, data: [10, 200, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]}'
# The CLI cannot stamp images with the current time: turn the age check off.
check "param set input.max_age_ms 0 (accepted)" bash -c "t 30 ros2 param set /deer_vla input.max_age_ms 0.0 | grep -q successful"
background "$work/pub1.log" ros2 topic pub -r 10 /static_image sensor_msgs/msg/Image "$img"
background "$work/pub2.log" ros2 topic pub -r 10 /gripper_image sensor_msgs/msg/Image "$img"
background "$work/pub3.log" ros2 topic pub -r 1 --qos-durability transient_local /instruction std_msgs/msg/String "{data: 'pick up the red block'}"
exits() { # exits N: the distinct exit indices of the next N actions, e.g. " 1 2 "
  echo " $(t 40 ros2 topic echo /action --field exit_index 2>/dev/null | grep -v -- --- | head -"$1" | sort -u | tr '\n' ' ')"
}
check "actions with frame_id copied from the image" bash -c "t 30 ros2 topic echo --once /action | grep -q 'frame_id: cam'"
check "step_stats published" bash -c "t 30 ros2 topic echo --once /deer_vla/step_stats | grep -q distances"

echo "== parameters through the standard CLI"
check "param list shows the budgets" bash -c "t 30 ros2 param list /deer_vla | grep -q budget.avg_gflops && t 30 ros2 param list /deer_vla | grep -q budget.window"
check "param describe has a range" bash -c "t 30 ros2 param describe /deer_vla exit.hold_steps | grep -q 'Max value: 1000'"
check "budget.window is an integer with a range" bash -c "t 30 ros2 param describe /deer_vla budget.window | grep -q 'Max value: 100000'"
check "param get" bash -c "t 30 ros2 param get /deer_vla exit.metric | grep -q cosine"
full=$(exits 10)
check "full depth by default: exit 4 only ($full)" bash -c "[ '$full' = ' 4 ' ]"
# ros2 param set sends "[]" as an empty bool array: it clears the thresholds.
check "param set explicit thresholds (accepted)" bash -c "t 30 ros2 param set /deer_vla exit.thresholds '[100.0, 100.0, 100.0, 100.0]' | grep -q successful"
sleep 1
th=$(exits 10)
check "explicit thresholds exit at 1 only ($th)" bash -c "[ '$th' = ' 1 ' ]"
check "param set exit.thresholds \"[]\" (accepted)" bash -c "t 30 ros2 param set /deer_vla exit.thresholds '[]' | grep -q successful"
sleep 1
cleared=$(exits 10)
check "\"[]\" returned the node to full depth, its budget ($cleared)" bash -c "[ '$cleared' = ' 4 ' ]"
check "param set budget.avg_gflops 0.0002 (accepted)" bash -c "t 30 ros2 param set /deer_vla budget.avg_gflops 0.0002 | grep -q successful"
sleep 1
low=$(exits 10)
check "a low average budget moves the exits off full depth ($low)" bash -c "[[ '$low' != *' 4 '* && '$low' == *' 1 '* ]]"
# ros2 param set exits 0 even when the node refuses: check the reason it prints.
check "an infeasible peak budget is rejected with a reason" bash -c "t 30 ros2 param set /deer_vla budget.peak_gflops 0.0001 2>&1 | grep -q 'below exit 1'"
check "an unknown metric is rejected with a reason" bash -c "t 30 ros2 param set /deer_vla exit.metric manhattan 2>&1 | grep -q 'want one of'"
check "a read-only parameter is rejected" bash -c "t 30 ros2 param set /deer_vla model.path /tmp 2>&1 | grep -q read-only"
check "an integer for a double is promoted" bash -c "t 30 ros2 param set /deer_vla action.clamp 2 | grep -q successful"
check "rejected values keep the old ones" bash -c "t 30 ros2 param get /deer_vla budget.peak_gflops | grep -q 'value is: 0.0'"
background "$work/events.log" bash -c "t 25 ros2 topic echo /parameter_events"
sleep 5
t 30 ros2 param set /deer_vla exit.hold_steps 1 >/dev/null 2>&1
sleep 3
check "/parameter_events carries changes" grep -q exit.hold_steps "$work/events.log"
t 30 ros2 param set /deer_vla exit.hold_steps 0 >/dev/null 2>&1

echo "== parameters as rclcpp users expect"
check "a wrong type is refused in plain words" bash -c "t 30 ros2 param set /deer_vla exit.hold_steps abc 2>&1 | grep -q 'expects an integer, got a string'"
check "a non-empty array of the wrong type is refused in plain words" bash -c \
  "out=\$(t 30 ros2 param set /deer_vla exit.thresholds '[true]' 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'expects a double array, got a bool array' && ! echo \"\$out\" | grep -q 'Kind('"
# ros2 param dump, then ros2 param load of that file, with Humble's own CLI.
t 30 ros2 param dump /deer_vla >"$work/dump1.yaml" 2>"$work/dump.err"
check "param dump has no empty strings" bash -c "grep -q 'path: /' '$work/dump1.yaml' && ! grep -q \"''\" '$work/dump1.yaml'"
check "param load of the dump succeeds for every parameter" bash -c \
  "out=\$(t 60 ros2 param load /deer_vla '$work/dump1.yaml' 2>&1); rc=\$?; echo \"\$out\"; [ \$rc -eq 0 ] && ! echo \"\$out\" | grep -qiE 'failed|Traceback' && [ \$(echo \"\$out\" | grep -c successful) -ge 15 ]"
t 30 ros2 param dump /deer_vla >"$work/dump2.yaml" 2>>"$work/dump.err"
check "the values after load equal the dump" diff "$work/dump1.yaml" "$work/dump2.yaml"
# use_sim_time switches live between wall time and /clock: /diagnostics is stamped with ROS time.
background "$work/clockpub.log" ros2 topic pub -r 20 /clock rosgraph_msgs/msg/Clock '{clock: {sec: 1234, nanosec: 0}}'
sleep 2
diag_sec() { t 30 ros2 topic echo --once /diagnostics --field header.stamp.sec 2>/dev/null | grep -E '^[0-9]+$' | head -1; }
check "param set use_sim_time true (live)" bash -c "t 30 ros2 param set /deer_vla use_sim_time true | grep -q successful"
sleep 2
simsec=$(diag_sec)
check "under use_sim_time /diagnostics is on /clock time ($simsec)" bash -c "[ '$simsec' = 1234 ]"
check "param set use_sim_time false (live)" bash -c "t 30 ros2 param set /deer_vla use_sim_time false | grep -q successful"
sleep 2
wallsec=$(diag_sec)
check "back on wall time ($wallsec)" bash -c "[ '${wallsec:-0}' -gt 1000000000 ]"
kill -TERM -- "-${pids[-1]}" 2>/dev/null

echo "== services and diagnostics"
check "~/reset" bash -c "t 30 ros2 service call /deer_vla/reset std_srvs/srv/Trigger | grep -q success=True"
check "/diagnostics with latency and exits" bash -c "t 30 ros2 topic echo --once /diagnostics | grep -q 'latency p95 ms'"

for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
pids=()
sleep 2

echo "== a shared bringup params file, node names matched as rcl does, in a namespace"
cat >"$work/bringup.yaml" <<'YAML'
/**:
  ros__parameters:
    exit.hold_steps: 3
    unknown_key: 1                # another node's: ignored with a warning
    qos_overrides: {/tf: {publisher: {depth: 10}}}
    frames: [map, odom]
deer_vla:                         # only the root namespace's /deer_vla
  ros__parameters:
    exit.hold_steps: 7
/ns/*:
  ros__parameters:
    exit.average_last_two: true
/**/deer_vla:
  ros__parameters:
    action.clamp: 0.5
other_node:
  ros__parameters:
    budget.avg_gflops: not a number
YAML
background "$work/launch_ns.log" ros2 launch deer_vla deer_vla.launch.py namespace:=ns "params_file:=$work/bringup.yaml" "model:=$share/models/tiny_test"
ns_up() { for _ in $(seq 30); do ros2 node list 2>/dev/null | grep -qx /ns/deer_vla && return 0; sleep 1; done; cat "$work/launch_ns.log"; return 1; }
check "node /ns/deer_vla is up with a bringup file naming other parameters" ns_up
check "undeclared overrides ignored with a warning" bash -c "grep -q 'ignoring parameter override unknown_key' '$work/launch_ns.log' && grep -q 'ignoring parameter override frames' '$work/launch_ns.log'"
check "/** applies, a plain deer_vla: key does not apply to /ns/deer_vla" bash -c "t 30 ros2 param get /ns/deer_vla exit.hold_steps | grep -q 'Integer value is: 3'"
check "/ns/* applies" bash -c "t 30 ros2 param get /ns/deer_vla exit.average_last_two | grep -q 'Boolean value is: True'"
check "/**/deer_vla applies" bash -c "t 30 ros2 param get /ns/deer_vla action.clamp | grep -q 'Double value is: 0.5'"
# rclpy matches node names with the same code as rclcpp: an rclpy node
# /ns/deer_vla (started once ours is gone) reads the same file the same way.
for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
pids=()
sleep 2
check "rclpy's /ns/deer_vla reads the file the same way" bash -c "t 30 python3 - --ros-args -r __ns:=/ns --params-file '$work/bringup.yaml' <<'PY' | tee /dev/stderr | grep -qx 'exit.hold_steps=3 exit.average_last_two=True action.clamp=0.5'
import rclpy
from rclpy.node import Node
rclpy.init()
node = Node('deer_vla', automatically_declare_parameters_from_overrides=True)
print(' '.join(f'{n}={node.get_parameter(n).value}' for n in ('exit.hold_steps', 'exit.average_last_two', 'action.clamp')))
PY"

echo "== ros2 bag play --clock of the sample bag, use_sim_time"
background "$work/launch2.log" ros2 launch deer_vla deer_vla.launch.py use_sim_time:=true "model:=$share/models/deer_tiny"
check "node /deer_vla is up with use_sim_time" node_up
check "use_sim_time is true" bash -c "t 30 ros2 param get /deer_vla use_sim_time | grep -q True"
# deer_tiny ships one calibration per metric: the metric switches live under
# an average budget; one without a calibration is refused, the old one kept.
check "param set budget.avg_gflops 0.001, then exit.metric rms_gripper (accepted)" bash -c "t 30 ros2 param set /deer_vla budget.avg_gflops 0.001 | grep -q successful && t 30 ros2 param set /deer_vla exit.metric rms_gripper | grep -q successful"
check "a metric without a calibration is rejected under a budget" bash -c "t 30 ros2 param set /deer_vla exit.metric l2 2>&1 | grep -q 'no calibration measured with metric l2'"
check "the rejected metric kept rms_gripper" bash -c "t 30 ros2 param get /deer_vla exit.metric | grep -q rms_gripper"
background "$work/echo.log" bash -c "t 90 ros2 topic echo /action --field exit_index"
sleep 3
check "ros2 bag play --clock (our MCAP bag)" t 120 ros2 bag play "$share/test/bags/sample_demo" --clock
sleep 2
n=$(grep -c -E '^[0-9]+$' "$work/echo.log")
images=$(t 30 ros2 bag info "$share/test/bags/sample_demo" | sed -n 's/.*Topic: \/static_image .*Count: \([0-9]*\).*/\1/p')
# One action per image: the first frames of a play can arrive together,
# and before the first /clock; they queue and each steps once the clock
# makes it fresh. Any image without an action is named in /diagnostics.
check "one action per static image on bag time: $n actions for ${images:-no} images" bash -c "[ '${images:-0}' -gt 0 ] && [ $n -eq '${images:-0}' ] || { t 20 ros2 topic echo /diagnostics --once | grep -B1 -A1 'no action in window'; false; }"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
