// Package ros is the thin rclgo glue of the deer_vla node: it subscribes,
// publishes and serves through ROS 2 and hands everything else to
// nodes/control. All of its code is built only with the ros2 build tag
// (go build -tags ros2, against a sourced ROS 2 Humble); without the tag
// this package is empty, and everything it calls is tested without ROS.
//
// Topics (relative, so namespaces and remaps apply):
//
//	static_image, gripper_image            sensor_msgs/Image, sensor-data QoS
//	static_image/compressed, ...           sensor_msgs/CompressedImage (jpeg, png)
//	instruction                            std_msgs/String, reliable + transient local
//	/clock                                 rosgraph_msgs/Clock, ROS time under use_sim_time
//	action (out)                           deer_vla_msgs/Action
//	~/step_stats (out)                     deer_vla_msgs/StepStats
//	/diagnostics (out)                     diagnostic_msgs/DiagnosticArray
//	/parameter_events (out)                rcl_interfaces/ParameterEvent
//
// Services: ~/reset (std_srvs/Trigger) and the rcl_interfaces parameter
// services, so ros2 param list/get/describe/set work.
package ros
