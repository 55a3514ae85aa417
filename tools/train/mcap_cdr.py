"""Minimal pure-Python reader for the demonstration bags of
nodes/deer_vla_demos: rosbag2 MCAP files with UNCOMPRESSED chunks (bag's
default, CompressionNone), and CDR decoding of the three message types they
hold (sensor_msgs/Image, std_msgs/String, deer_vla_msgs/Action).

Only the standard library and numpy. MCAP spec: https://mcap.dev/spec.
"""

import json
import os
import struct

import numpy as np

MAGIC = b"\x89MCAP0\r\n"
OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK = 0x03, 0x04, 0x05, 0x06
OP_FOOTER = 0x02


class MCAPError(Exception):
    pass


def _string(buf, off):
    (n,) = struct.unpack_from("<I", buf, off)
    off += 4
    return bytes(buf[off:off + n]).decode("utf-8"), off + n


def _records(buf, off, end):
    """yield (opcode, content memoryview) for the records in buf[off:end]."""
    while off < end:
        if off + 9 > end:
            raise MCAPError("truncated record header at %d" % off)
        op = buf[off]
        (n,) = struct.unpack_from("<Q", buf, off + 1)
        off += 9
        if off + n > end:
            raise MCAPError("record at %d runs past the end" % off)
        yield op, buf[off:off + n]
        off += n


def read_messages(path):
    """All messages of one .mcap file as a list of (log_time_ns, topic, data
    bytes), sorted by log time (stable: ties keep file order)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise MCAPError("%s: not an MCAP file" % path)
    buf = memoryview(data)
    channels = {}
    out = []

    def handle(op, rec):
        if op == OP_CHANNEL:
            (cid,) = struct.unpack_from("<H", rec, 0)
            topic, _ = _string(rec, 4)
            channels[cid] = topic
        elif op == OP_MESSAGE:
            cid, _seq, log_time, _pub = struct.unpack_from("<HIQQ", rec, 0)
            out.append((log_time, len(out), channels[cid], bytes(rec[22:])))

    for op, rec in _records(buf, 8, len(buf) - 8):
        if op == OP_CHUNK:
            off = 8 + 8 + 8 + 4  # start, end, uncompressed size, crc
            compression, off = _string(rec, off)
            if compression != "":
                raise MCAPError("%s: chunk compression %r is not supported; write the bag "
                                "with bag.CompressionNone" % (path, compression))
            (n,) = struct.unpack_from("<Q", rec, off)
            off += 8
            inner = rec[off:off + n]
            for op2, rec2 in _records(inner, 0, len(inner)):
                handle(op2, rec2)
        else:
            handle(op, rec)
        if op == OP_FOOTER:
            break
    out.sort(key=lambda m: (m[0], m[1]))
    return [(t, topic, d) for t, _, topic, d in out]


def bag_files(path):
    """The .mcap files of a bag folder (or the file itself), in name order."""
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".mcap"))
    return [path]


# ---------------------------------------------------------------- CDR
class CDR:
    """Little-endian CDR decoder; alignment counts from after the 4-byte
    encapsulation header."""

    def __init__(self, data):
        if len(data) < 4 or data[1] != 0x01:
            raise MCAPError("not CDR_LE data")
        self.b = data
        self.o = 4

    def align(self, n):
        r = (self.o - 4) % n
        if r:
            self.o += n - r

    def u8(self):
        v = self.b[self.o]
        self.o += 1
        return v

    def u32(self):
        self.align(4)
        (v,) = struct.unpack_from("<I", self.b, self.o)
        self.o += 4
        return v

    def i32(self):
        self.align(4)
        (v,) = struct.unpack_from("<i", self.b, self.o)
        self.o += 4
        return v

    def f32s(self, n):
        self.align(4)
        v = struct.unpack_from("<%df" % n, self.b, self.o)
        self.o += 4 * n
        return v

    def string(self):
        n = self.u32()
        s = self.b[self.o:self.o + n - 1].decode("utf-8")
        self.o += n
        return s

    def bytes_seq(self):
        n = self.u32()
        v = self.b[self.o:self.o + n]
        self.o += n
        return v


def _header(d):
    sec = d.i32()
    nsec = d.u32()
    frame = d.string()
    return sec * 1000000000 + nsec, frame


def decode_image(data):
    """sensor_msgs/Image -> (stamp_ns, frame_id, uint8 array [H, W, 3])."""
    d = CDR(data)
    stamp, frame = _header(d)
    h, w = d.u32(), d.u32()
    enc = d.string()
    d.u8()  # is_bigendian
    step = d.u32()
    px = d.bytes_seq()
    if enc != "rgb8" or step != w * 3:
        raise MCAPError("unsupported image: %s, step %d for width %d" % (enc, step, w))
    return stamp, frame, np.frombuffer(px, dtype=np.uint8).reshape(h, w, 3)


def decode_string(data):
    return CDR(data).string()


def decode_action(data):
    """deer_vla_msgs/Action -> dict."""
    d = CDR(data)
    stamp, frame = _header(d)
    pose = d.f32s(6)
    (grip, prob) = d.f32s(2)
    exit_index = d.u8()
    (gflops, latency) = d.f32s(2)
    return {"stamp": stamp, "frame_id": frame, "pose": pose, "gripper": grip,
            "gripper_probability": prob, "exit_index": exit_index,
            "gflops": gflops, "latency_ms": latency}


def load_episodes(path):
    """Demonstration episodes of a deer_vla_demos bag: a list of dicts with
    instruction, static uint8 [T,64,64,3], gripper uint8 [T,32,32,3],
    pose float32 [T,6], gripper float32 [T] (+1 open, -1 close), states (the
    /sim_state dicts of a -state bag, else None). Every
    /instruction message starts an episode; images and actions pair by stamp."""
    episodes = []
    cur = None

    def flush():
        if cur is None or not cur["steps"]:
            return
        stamps = sorted(cur["steps"])
        rows = [cur["steps"][s] for s in stamps]
        if any(not all(k in r for k in ("static", "gripper", "action")) for r in rows):
            raise MCAPError("step without all of static, gripper and action in episode %r"
                            % cur["instruction"])
        episodes.append({
            "instruction": cur["instruction"],
            "stamps": stamps,
            "static": np.stack([r["static"] for r in rows]),
            "gripper": np.stack([r["gripper"] for r in rows]),
            "pose": np.array([r["action"]["pose"] for r in rows], dtype=np.float32),
            "grip": np.array([r["action"]["gripper"] for r in rows], dtype=np.float32),
            # true sim states (dicts, see nodes/deer_vla_demos -state) or None
            "states": [r["state"] for r in rows] if all("state" in r for r in rows) else None,
        })

    for f in bag_files(path):
        for _t, topic, data in read_messages(f):
            if topic == "/instruction":
                flush()
                cur = {"instruction": decode_string(data), "steps": {}}
            elif cur is None:
                continue
            elif topic in ("/static_image", "/gripper_image"):
                stamp, _, img = decode_image(data)
                cur["steps"].setdefault(stamp, {})[topic[1:-6]] = img
            elif topic == "/sim_state":
                cur["steps"].setdefault(_t, {})["state"] = json.loads(decode_string(data))
            elif topic == "/expert_action":
                a = decode_action(data)
                cur["steps"].setdefault(a["stamp"], {})["action"] = a
    flush()
    return episodes
