// Package fleet replays and calibrates a fleet's rosbag2 bags with an
// Apache Beam pipeline (the Go SDK): on one machine with the in-process
// Prism runner by default, or on Flink, Spark or Dataflow when one machine
// is not enough. It schedules nothing itself.
//
// Every bag goes through the same code as deer_vla_replay (replay.Run on a
// control.Node), on an engine opened once per worker in the DoFn's Setup
// and restarted before each bag (policy.Engine.Restart), so a bag's actions
// are those of a single replay of that bag. A bag that cannot be read or
// replayed becomes a failed row with its reason; the others go on.
//
// The pipeline:
//
//	jobs (bag x sweep point) ─► shard ─► GroupByKey ─► replayFn ─► rows ─► rows.jsonl
//	                                                               └─► CombinePerKey(summaryFn) by sweep point ─► summary.json
//	bags ─► shard ─► GroupByKey ─► calibrateFn ─► Combine(calibrationFn) ─► calibration CSV
//
// Combined figures come from Beam combiners over the rows' additive totals
// (replay.Totals), never from re-reading the rows. The calibration orders
// bags by path, so it does not depend on the order workers finish in.
package fleet
