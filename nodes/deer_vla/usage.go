package main

// usage heads deer_vla --help, with or without ROS support built in.
const usage = `usage: deer_vla [--help] [--ros-args [--params-file FILE] [-p name:=value] [-r from:=to] ...]

The deer_vla ROS 2 node: subscribes to static_image and gripper_image
(sensor_msgs/Image or <topic>/compressed), instruction (std_msgs/String),
and publishes action (deer_vla_msgs/Action), ~/step_stats, /diagnostics.
Services: ~/reset (std_srvs/Trigger) and the standard parameter services.

Parameters (live ones change with ros2 param set):
`
