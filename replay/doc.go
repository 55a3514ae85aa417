// Package replay runs the node's control loop over a recorded rosbag2 bag,
// without ROS: messages are fed in log-time order to the same
// control.Loop the live node uses, on the bag's time, and every published
// action and step record is written to an output bag and summarised in a
// report. The same bag, model and parameters give the same actions.
//
// [Bag] replays one bag with a [Config] and returns its [Report]; [Run]
// does the same through a node the caller opened (to see every step, or
// to reuse the node). [Topics.Remap] reads a bag with other topic names,
// as ROS's --remap. A replay that ran returns a report even when no action
// came out: [Report.Check] then says why ([ErrNoStep], [ErrAllFailed]),
// and [Report.Missing] and [Report.NotRun] give the details.
//
// The bag is streamed, never loaded whole, and every figure of the report
// is kept in fixed-size state, so memory does not grow with bag length.
// At a fixed control rate, ticks where nothing new came in are jumped
// over, so replay time follows the messages, not the bag's duration.
package replay
