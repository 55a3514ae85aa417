// Package bag reads and writes rosbag2 recordings without ROS.
//
// [Open] reads a rosbag2 folder (metadata.yaml plus the storage files it
// lists), or a single .mcap or .db3 file. Both storage plugins are
// supported: MCAP (rosbag2_storage_mcap) and sqlite3 (Humble's default).
// [Reader.Next] streams the messages of all files in log-time (receive
// time) order; only a chunk of an MCAP file, or one row of an sqlite3
// file, is held in memory at a time, so bags much larger than memory can be
// read.
//
//	r, err := bag.Open("recording", bag.WithTopics("/camera/image_raw"))
//	if err != nil { ... }
//	defer r.Close()
//	var m bag.Message
//	for {
//		err := r.Next(&m)
//		if err == io.EOF {
//			break
//		}
//		if err != nil { ... }
//		// m.Data holds the CDR bytes until the next call to Next.
//	}
//
// [Create] writes a rosbag2 folder with one MCAP file and a metadata.yaml
// that Humble's `ros2 bag info` and `ros2 bag play` accept. Schemas carry
// the ros2msg definitions of package github.com/deervla/deer_vla/msgs, so
// the bags open in Foxglove. The output is deterministic: the same calls
// write byte-identical files (no wall-clock time is stored anywhere).
//
// Not supported: bags with rosbag2 file or message compression
// (compression_mode in metadata.yaml), and writing sqlite3 storage.
//
// # Security Considerations
//
// Malformed files give errors that name the file (and the topic and log
// time where that helps), never panics. MCAP chunk sizes are checked
// against the file before any chunk is loaded; an uncompressed chunk is
// limited to [MaxChunkBytes].
package bag
