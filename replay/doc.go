// Package replay runs the node's control loop over a recorded rosbag2 bag,
// without ROS: messages are fed in log-time order to the same
// control.Loop the live node uses, on the bag's time, and every published
// action and step record is written to an output bag and summarised in a
// report. The same bag, model and parameters give the same actions.
//
// The bag is streamed, never loaded whole, and every figure of the report
// is kept in fixed-size state, so memory does not grow with bag length.
package replay
