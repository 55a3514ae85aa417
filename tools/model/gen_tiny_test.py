#!/usr/bin/python3
"""Generate models/tiny_test: a tiny random-weight DeeR-VLA style staged model.

Run with Debian's interpreter (it has python3-torch and python3-onnx):

    /usr/bin/python3 tools/model/gen_tiny_test.py [--out models/tiny_test]

Writes manifest.yaml, encoder.onnx, block_1..4.onnx, head.onnx, vocab.txt and
golden.json. The output is deterministic: running the script twice gives
byte-identical files.

The golden values come from an INDEPENDENT reference: the stages run in torch
eager mode (never through ONNX Runtime) and the exit rule is a plain-Python
re-implementation of docs/model-contract.md + the DeeR exit criterion. Go
tests run the ONNX files through ONNX Runtime and the Go engine and compare
with these values (tolerance 1e-5).
"""

import argparse
import hashlib
import json
import math
import os
import random
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
import onnx.shape_inference

SEED = 20241104

# ---------------------------------------------------------------- model shape
D = 16                 # width
HEADS = 2
MLP_HIDDEN = 4 * D
N_VIS = 4              # visual tokens (resampler queries)
MAX_TOKENS = 8
STATIC_HW = 16
GRIPPER_HW = 8
PATCH = 4
N_LAYERS = 9           # layer 1 in the encoder, 2 per exit block
N_EXITS = 4
MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]
OPSET = 13
MASK_NEG = -1e9        # additive mask for excluded positions

# Residual branches of decoder layer l are scaled by RES_SCALE * RES_DECAY**(l-1)
# so that the exit features (and thus candidate actions) of successive exits
# differ, with the differences shrinking with depth.
RES_SCALE = 1.0
RES_DECAY = 0.75
# Head gains: LSTM input weights and both pose MLP weight matrices.
HEAD_LSTM_GAIN = 2.0
HEAD_POSE_GAIN = 3.0
# Gripper MLP gain and output bias: probabilities on both sides of 0.5.
HEAD_GRIP_GAIN = 4.0
HEAD_GRIP_BIAS = 1.3

VOCAB = [
    "<pad>", "<unk>",
    "move", "to", "the", "red", "green", "blue", "yellow", "block",
    "pick", "up", "put", "in", "left", "right", "bin", "push",
    "open", "close", "drawer", "slide", "and", "lift", "rotate", "turn",
    "on", "off", "light", "switch",
]
PAD_ID = 0
UNK_ID = 1

# One instruction per episode. Episode 1 has an unknown word ("purple"),
# episode 2 is longer than MAX_TOKENS (truncated) and has punctuation.
INSTRUCTIONS = [
    "Pick up the red block!",
    "slide the purple block to the left",
    "Open the drawer, and push the yellow block to the right.",
]
STEPS_PER_EPISODE = 8

PUNCT = ".,!?;:"

# Mixed-run thresholds must sit at least this far (relative) from every
# distance they are compared with, so float differences between torch and
# ONNX Runtime (~1e-7) cannot flip an exit decision.
MIN_MARGIN = 5e-3


# ---------------------------------------------------------------- tokenizer
def tokenize(text, vocab=VOCAB, max_tokens=MAX_TOKENS):
    """lowercase, whitespace split, strip leading/trailing .,!?;: from each
    word (a word that becomes empty is dropped), vocab lookup (unknown ->
    unk), truncate to max_tokens, pad with pad_id; mask 1 for real tokens."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = []
    for w in text.lower().split():
        w = w.strip(PUNCT)
        if not w:
            continue
        ids.append(index.get(w, UNK_ID))
    ids = ids[:max_tokens]
    mask = [1.0] * len(ids) + [0.0] * (max_tokens - len(ids))
    ids = ids + [PAD_ID] * (max_tokens - len(ids))
    return ids, mask


# ---------------------------------------------------------------- images
def make_images():
    """Structured, seeded images: a smooth per-episode colour gradient plus a
    few coloured squares that move a little every step. Returns a list of
    (static uint8 [16,16,3], gripper uint8 [12,12,3]) per step."""
    rng = np.random.RandomState(SEED)
    out = []
    for ep in range(len(INSTRUCTIONS)):
        def episode_scene(hw, n_sq, sq):
            c0 = rng.uniform(0, 255, size=3)
            c1 = rng.uniform(0, 255, size=3)
            c2 = rng.uniform(0, 255, size=3)
            squares = []
            for _ in range(n_sq):
                pos = rng.randint(0, hw - sq, size=2).astype(np.int64)
                vel = rng.choice([-1, 1], size=2).astype(np.int64)
                col = rng.randint(0, 256, size=3)
                squares.append((pos, vel, col))
            return c0, c1, c2, squares
        scenes = {
            "static": (STATIC_HW, 3, 3) + episode_scene(STATIC_HW, 3, 3),
            "gripper": (12, 2, 3) + episode_scene(12, 2, 3),
        }
        for t in range(STEPS_PER_EPISODE):
            imgs = {}
            for key, (hw, n_sq, sq, c0, c1, c2, squares) in scenes.items():
                y = np.arange(hw, dtype=np.float64)[:, None, None] / (hw - 1)
                x = np.arange(hw, dtype=np.float64)[None, :, None] / (hw - 1)
                phase = 0.15 * t
                img = (c0 * (1 - x) * (1 - y) + c1 * x + c2 * y * (1 - x)) \
                    * (0.85 + 0.15 * math.cos(phase))
                img = np.clip(img, 0, 255)
                for pos, vel, col in squares:
                    p = pos + vel * t
                    # bounce inside the image
                    span = hw - sq
                    p = np.abs(((p % (2 * span)) + 2 * span) % (2 * span))
                    p = np.where(p > span, 2 * span - p, p)
                    img[p[0]:p[0] + sq, p[1]:p[1] + sq, :] = col
                imgs[key] = np.round(img).astype(np.uint8)
            out.append((imgs["static"], imgs["gripper"]))
    return out


def preprocess(img_u8, out_hw):
    """uint8 HWC rgb -> float32 [1,3,H,W]: x/255, bilinear resize (half-pixel
    centres, align_corners=False, no antialias), (x-mean)/std per channel."""
    x = torch.from_numpy(img_u8.astype(np.float32) / np.float32(255.0))
    x = x.permute(2, 0, 1).unsqueeze(0).contiguous()
    if x.shape[2] != out_hw or x.shape[3] != out_hw:
        x = F.interpolate(x, size=(out_hw, out_hw), mode="bilinear",
                          align_corners=False)
    mean = torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


# ---------------------------------------------------------------- modules
class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.dh = d // heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(self, x, ctx, bias=None):
        # x [1,T,D], ctx [1,S,D], bias additive broadcastable to [1,H,T,S]
        t, s = x.shape[1], ctx.shape[1]
        q = self.q(x).view(1, t, self.heads, self.dh).transpose(1, 2)
        k = self.k(ctx).view(1, s, self.heads, self.dh).transpose(1, 2)
        v = self.v(ctx).view(1, s, self.heads, self.dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(self.dh))
        if bias is not None:
            att = att + bias
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(1, t, self.heads * self.dh)
        return self.o(y)


def masked_max(hidden, mask):
    """max over text positions where mask == 1 (padded positions excluded)."""
    bias = (1.0 - mask).unsqueeze(-1) * MASK_NEG      # [1,T,1]
    return torch.max(hidden + bias, dim=1)[0]          # [1,D]


class DecoderLayer(nn.Module):
    """Flamingo-style: gated cross-attention to the visual tokens (tanh gate),
    then masked causal self-attention over the text tokens, then an MLP;
    pre-LayerNorm residual branches."""

    def __init__(self, d, heads, res_scale):
        super().__init__()
        self.res_scale = res_scale
        self.ln_x = nn.LayerNorm(d)
        self.xattn = Attention(d, heads)
        self.gate = nn.Parameter(torch.tensor([0.5]))
        self.ln_s = nn.LayerNorm(d)
        self.sattn = Attention(d, heads)
        self.ln_m = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, MLP_HIDDEN)
        self.fc2 = nn.Linear(MLP_HIDDEN, d)
        # causal mask (a constant, not a parameter)
        self.register_buffer(
            "causal", torch.triu(torch.full((MAX_TOKENS, MAX_TOKENS), MASK_NEG), diagonal=1),
            persistent=False)

    def forward(self, h, vis, mask):
        t = h.shape[1]
        h = h + self.res_scale * torch.tanh(self.gate) * self.xattn(self.ln_x(h), vis)
        causal = self.causal                                            # [T,T]
        key_pad = ((1.0 - mask) * MASK_NEG).view(1, 1, 1, t)           # [1,1,1,T]
        bias = causal.view(1, 1, t, t) + key_pad
        hs = self.ln_s(h)
        h = h + self.res_scale * self.sattn(hs, hs, bias)
        h = h + self.res_scale * self.fc2(F.gelu(self.fc1(self.ln_m(h))))
        return h


class Resampler(nn.Module):
    """Perceiver-like resampler: N_VIS learned queries cross-attend to the
    patch tokens of both cameras, then an MLP."""

    def __init__(self, d, heads, n_q):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(1, n_q, d))
        self.ln_kv = nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.ln_m = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, MLP_HIDDEN)
        self.fc2 = nn.Linear(MLP_HIDDEN, d)

    def forward(self, patches):
        q = self.queries + self.attn(self.queries, self.ln_kv(patches))
        return q + self.fc2(F.gelu(self.fc1(self.ln_m(q))))


class Encoder(nn.Module):
    def __init__(self, layer1):
        super().__init__()
        self.static_patch = nn.Conv2d(3, D, PATCH, stride=PATCH)
        self.gripper_patch = nn.Conv2d(3, D, PATCH, stride=PATCH)
        n_static = (STATIC_HW // PATCH) ** 2
        n_gripper = (GRIPPER_HW // PATCH) ** 2
        self.patch_pos = nn.Parameter(0.5 * torch.randn(1, n_static + n_gripper, D))
        self.resampler = Resampler(D, HEADS, N_VIS)
        self.tok_emb = nn.Embedding(len(VOCAB), D)
        self.pos_emb = nn.Parameter(0.5 * torch.randn(1, MAX_TOKENS, D))
        self.layer1 = layer1

    def forward(self, static_image, gripper_image, tokens, token_mask):
        s = self.static_patch(static_image).flatten(2).transpose(1, 2)    # [1,16,D]
        g = self.gripper_patch(gripper_image).flatten(2).transpose(1, 2)  # [1,4,D]
        patches = torch.cat([s, g], dim=1) + self.patch_pos
        vis = self.resampler(patches)                                     # [1,4,D]
        h = self.tok_emb(tokens) + self.pos_emb                           # [1,T,D]
        h1 = self.layer1(h, vis, token_mask)
        return vis, h1, masked_max(h1, token_mask)


class Block(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, hidden, visual_tokens, token_mask):
        h = hidden
        for layer in self.layers:
            h = layer(h, visual_tokens, token_mask)
        return h, masked_max(h, token_mask)


class Head(nn.Module):
    """1-layer LSTM (input D, hidden D) on the feature as a length-1 sequence,
    then pose = tanh(MLP), gripper = sigmoid(MLP)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(D, D, num_layers=1)
        self.pose1 = nn.Linear(D, 2 * D)
        self.pose2 = nn.Linear(2 * D, 6)
        self.grip1 = nn.Linear(D, D)
        self.grip2 = nn.Linear(D, 1)

    def forward(self, head_feature, h_in, c_in):
        y, (h_out, c_out) = self.lstm(head_feature.unsqueeze(0), (h_in, c_in))
        z = y[0]                                                           # [1,D]
        pose = torch.tanh(self.pose2(F.relu(self.pose1(z))))
        gripper = torch.sigmoid(self.grip2(F.relu(self.grip1(z))))
        return pose, gripper, h_out, c_out


def build_model():
    torch.manual_seed(SEED)
    layers = [DecoderLayer(D, HEADS, RES_SCALE * RES_DECAY ** l) for l in range(N_LAYERS)]
    encoder = Encoder(layers[0])
    blocks = [Block(layers[1 + 2 * i: 3 + 2 * i]) for i in range(N_EXITS)]
    head = Head()
    with torch.no_grad():
        # Embeddings: unit-ish scale so that the text tokens matter.
        encoder.tok_emb.weight.normal_(0.0, 1.0)
        # Head: scale so that poses are spread in (-1, 1) but not saturated.
        head.lstm.weight_ih_l0.mul_(HEAD_LSTM_GAIN)
        head.pose1.weight.mul_(HEAD_POSE_GAIN)
        head.pose2.weight.mul_(HEAD_POSE_GAIN)
        head.pose2.bias.mul_(0.3)
        head.grip1.weight.mul_(HEAD_GRIP_GAIN)
        head.grip2.weight.mul_(HEAD_GRIP_GAIN)
        head.grip2.bias.fill_(HEAD_GRIP_BIAS)
    for m in [encoder, head] + blocks:
        m.eval()
    return encoder, blocks, head


# ---------------------------------------------------------------- flops
def linear_macs(rows, din, dout):
    return rows * din * dout


def attention_macs(t, s, d):
    # q proj (t rows), k and v proj (s rows), scores, weighted sum, out proj
    return linear_macs(t, d, d) + 2 * linear_macs(s, d, d) + t * s * d + t * s * d \
        + linear_macs(t, d, d)


def decoder_layer_macs():
    t = MAX_TOKENS
    return attention_macs(t, N_VIS, D) + attention_macs(t, t, D) \
        + linear_macs(t, D, MLP_HIDDEN) + linear_macs(t, MLP_HIDDEN, D)


def encoder_macs():
    n_static = (STATIC_HW // PATCH) ** 2
    n_gripper = (GRIPPER_HW // PATCH) ** 2
    conv = (n_static + n_gripper) * (3 * PATCH * PATCH) * D
    res = attention_macs(N_VIS, n_static + n_gripper, D) \
        + linear_macs(N_VIS, D, MLP_HIDDEN) + linear_macs(N_VIS, MLP_HIDDEN, D)
    return conv + res + decoder_layer_macs()


def head_macs():
    lstm = 4 * D * (D + D)  # input and recurrent matmuls of the 4 gates
    pose = linear_macs(1, D, 2 * D) + linear_macs(1, 2 * D, 6)
    grip = linear_macs(1, D, D) + linear_macs(1, D, 1)
    return lstm + pose + grip


def gflops(macs):
    return 2.0 * macs / 1e9


def param_bytes(module):
    return 4 * sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- reference
def f32list(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def dist(metric, a, b):
    """distance between two 6-dim poses (lists of python floats holding
    float32 values), computed in float64."""
    diff = [x - y for x, y in zip(a, b)]
    if metric == "rms":
        return math.sqrt(sum(d * d for d in diff) / len(diff))
    if metric == "l2":
        return math.sqrt(sum(d * d for d in diff))
    if metric == "max":
        return max(abs(d) for d in diff)
    if metric == "cosine":
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(y * y for y in b))
        if na == 0.0 and nb == 0.0:
            return 0.0
        if na == 0.0 or nb == 0.0:
            return 1.0
        return 1.0 - sum(x * y for x, y in zip(a, b)) / (na * nb)
    raise ValueError(metric)


class HeadRef:
    """Head evaluation in torch eager; results are plain Python floats."""

    def __init__(self, head):
        self.head = head

    def __call__(self, feature, state):
        h, c = state
        with torch.no_grad():
            pose, grip, h_out, c_out = self.head(
                torch.tensor([feature], dtype=torch.float32),
                torch.tensor(h, dtype=torch.float32).view(1, 1, D),
                torch.tensor(c, dtype=torch.float32).view(1, 1, D))
        return {"pose": f32list(pose), "gripper": f32list(grip)[0],
                "state": (f32list(h_out), f32list(c_out))}


def zero_state():
    return ([0.0] * D, [0.0] * D)


def run_exit_rule(steps, features, head_ref, metric, thresholds, max_exit,
                  hold_steps, average_last_two):
    """Plain-Python reference of the exit rule over all steps in order.
    features[s] = [feature_1 (reference), feature_3, feature_5, ...]."""
    results = []
    state = None
    hold_left = 0
    hold_exit = None
    prev_episode = None
    for s, step in enumerate(steps):
        if step["episode"] != prev_episode:
            state = zero_state()
            hold_left = 0
            hold_exit = None
            prev_episode = step["episode"]
        feats = features[s]
        if hold_left > 0:
            e = hold_exit
            cand = head_ref(feats[e], state)
            state = cand["state"]
            hold_left -= 1
            results.append({"exit": e, "held": True, "pose": cand["pose"],
                            "gripper_prob": cand["gripper"], "distances": []})
            continue
        prev = head_ref(feats[0], state)   # a_0: head on the reference feature
        distances = []
        chosen = None
        for i in range(1, max_exit + 1):
            cand = head_ref(feats[i], state)
            d = dist(metric, cand["pose"], prev["pose"])
            distances.append(d)
            if d <= thresholds[i - 1] or i == max_exit:
                chosen = (i, cand, prev)
                break
            prev = cand
        e, cand, before = chosen
        if average_last_two:
            pose = [(float(a) + float(b)) / 2.0 for a, b in zip(cand["pose"], before["pose"])]
            grip = (cand["gripper"] + before["gripper"]) / 2.0
        else:
            pose, grip = cand["pose"], cand["gripper"]
        state = cand["state"]
        if hold_steps > 0:
            hold_left = hold_steps
            hold_exit = e
        results.append({"exit": e, "held": False, "pose": pose,
                        "gripper_prob": grip, "distances": distances})
    return results


def histogram(results, n=N_EXITS):
    h = [0] * n
    for r in results:
        h[r["exit"] - 1] += 1
    return h


def decision_margin(results, thresholds):
    """smallest relative gap between any evaluated distance and the threshold
    it was compared with (so that float32 differences between torch and ONNX
    Runtime cannot flip a decision)."""
    m = float("inf")
    for r in results:
        for i, d in enumerate(r["distances"]):
            t = thresholds[i]
            if t <= 0 or t >= 1e29:
                continue
            m = min(m, abs(d - t) / t)
    return m


def choose_thresholds(steps, features, head_ref, metric, full_dist, need_all):
    """Greedy DeeR calibration (equal shares per exit) on the full-depth
    distances, with midpoints between sorted values; the shares are varied
    deterministically until the simulated run takes every exit at least twice
    (need_all) or at least 3 distinct exits, with a safe decision margin."""
    n = len(steps)
    share_sets = []
    for a in range(4, 10):
        for b in range(3, 9):
            for c in range(2, 8):
                if a + b + c < n - 1:
                    share_sets.append((a, b, c))
    share_sets.sort(key=lambda t: (abs(t[0] - 6) + abs(t[1] - 6) + abs(t[2] - 6), t))
    for counts in share_sets:
        remaining = list(range(n))
        thr = []
        for i in range(N_EXITS - 1):
            vals = sorted((full_dist[s][i], s) for s in remaining)
            k = counts[i]
            t = (vals[k - 1][0] + vals[k][0]) / 2.0
            thr.append(t)
            exited = {s for v, s in vals[:k]}
            remaining = [s for s in remaining if s not in exited]
        thr.append(1e30)
        res = run_exit_rule(steps, features, head_ref, metric, thr, N_EXITS, 0, False)
        hist = histogram(res)
        ok = all(h >= 2 for h in hist) if need_all else sum(1 for h in hist if h > 0) >= 3
        if ok and decision_margin(res, thr) > MIN_MARGIN:
            return thr
    raise RuntimeError("no thresholds found for metric " + metric)


# ---------------------------------------------------------------- export
def export(module, args, path, in_names, out_names):
    torch.onnx.export(module, args, path, opset_version=OPSET,
                      input_names=in_names, output_names=out_names,
                      do_constant_folding=True, export_params=True,
                      training=torch.onnx.TrainingMode.EVAL,
                      verbose=False)
    # Normalise: drop the producer-specific doc strings so the file only
    # depends on the graph and weights.
    m = onnx.load(path)
    m.doc_string = ""
    for node in m.graph.node:
        node.doc_string = ""
    onnx.save(m, path)


def check_onnx(path, in_names, out_names, tensors):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    inf = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    onnx.checker.check_model(inf)
    dtypes = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}

    def desc(vi):
        tt = vi.type.tensor_type
        return dtypes[tt.elem_type], [d.dim_value for d in tt.shape.dim]

    got_in = [vi.name for vi in inf.graph.input]
    inits = {i.name for i in inf.graph.initializer}
    got_in = [n for n in got_in if n not in inits]
    assert got_in == in_names, (path, got_in, in_names)
    assert [vi.name for vi in inf.graph.output] == out_names, path
    for vi in list(inf.graph.input) + list(inf.graph.output):
        if vi.name in inits:
            continue
        dt, shape = desc(vi)
        want = tensors[vi.name]
        assert dt == want["dtype"] and shape == want["shape"], (path, vi.name, dt, shape, want)
        assert all(d > 0 for d in shape), (path, vi.name, shape)
    # Shape inference must derive the declared output shapes on its own:
    # clear the exported output shapes and infer them again.
    bare = onnx.ModelProto()
    bare.CopyFrom(m)
    for o in bare.graph.output:
        o.type.tensor_type.ClearField("shape")
    again = onnx.shape_inference.infer_shapes(bare, strict_mode=True)
    for vi in again.graph.output:
        dt, shape = desc(vi)
        want = tensors[vi.name]
        assert dt == want["dtype"] and shape == want["shape"], \
            ("inferred", path, vi.name, dt, shape, want)
    return len(inf.graph.node)


# ---------------------------------------------------------------- json
def json_text(value, depth=0):
    """JSON with the outer structure indented and the leaves compact (one
    step / one result per line), to keep golden.json small but diffable.
    Floats are written with repr (the float64 repr of the float32 value)."""
    pad = " " * depth
    compact = lambda v: json.dumps(v, separators=(",", ":"), allow_nan=False)
    if isinstance(value, dict) and depth <= 2:
        items = [pad + " " + json.dumps(k) + ": " + json_text(v, depth + 1)
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = [pad + " " + json_text(v, depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return compact(value)


# ---------------------------------------------------------------- yaml
def fmt_float(x):
    return repr(float(x))


def fmt_list(xs):
    return "[" + ", ".join(str(x) for x in xs) + "]"


def write_manifest(path, stage_costs, tensors):
    enc, exits, head = stage_costs
    L = []
    L.append("# Generated by tools/model/gen_tiny_test.py -- do not edit by hand;")
    L.append("# rerun: /usr/bin/python3 tools/model/gen_tiny_test.py")
    L.append("format: deer-vla/v1")
    L.append("name: tiny_test")
    L.append("cameras:")
    for slot, tensor, hw in (("static", "static_image", STATIC_HW),
                             ("gripper", "gripper_image", GRIPPER_HW)):
        L.append("  - slot: %s" % slot)
        L.append("    tensor: %s" % tensor)
        L.append("    width: %d" % hw)
        L.append("    height: %d" % hw)
        L.append("    channels: rgb")
        L.append("    mean: %s" % fmt_list(MEAN))
        L.append("    std: %s" % fmt_list(STD))
        L.append("    resize: bilinear")
    L.append("tokenizer:")
    L.append("  kind: words")
    L.append("  vocab: vocab.txt")
    L.append("  lowercase: true")
    L.append("  max_tokens: %d" % MAX_TOKENS)
    L.append("  pad_id: %d" % PAD_ID)
    L.append("  unk_id: %d" % UNK_ID)
    L.append("  tokens_tensor: tokens")
    L.append("  mask_tensor: token_mask")
    L.append("encoder:")
    L.append("  file: encoder.onnx")
    L.append("  inputs: [static_image, gripper_image, tokens, token_mask]")
    L.append("  outputs: [visual_tokens, hidden_1, feature_1]")
    L.append("  gflops: %s" % fmt_float(enc[0]))
    L.append("  weight_bytes: %d" % enc[1])
    L.append("reference_feature: feature_1")
    L.append("exits:")
    for i, (g, w) in enumerate(exits):
        k_in, k_out = 1 + 2 * i, 3 + 2 * i
        L.append("  - file: block_%d.onnx" % (i + 1))
        L.append("    inputs: [hidden_%d, visual_tokens, token_mask]" % k_in)
        L.append("    outputs: [hidden_%d, feature_%d]" % (k_out, k_out))
        L.append("    feature: feature_%d" % k_out)
        L.append("    gflops: %s" % fmt_float(g))
        L.append("    weight_bytes: %d" % w)
    L.append("head:")
    L.append("  file: head.onnx")
    L.append("  feature: head_feature")
    L.append("  state_inputs: [h_in, c_in]")
    L.append("  state_outputs: [h_out, c_out]")
    L.append("  pose: pose")
    L.append("  gripper: gripper")
    L.append("  gflops: %s" % fmt_float(head[0]))
    L.append("  weight_bytes: %d" % head[1])
    L.append("action:")
    L.append("  names: [x, y, z, roll, pitch, yaw, gripper]")
    L.append("  pose_scale: [1, 1, 1, 1, 1, 1]")
    L.append("  gripper_threshold: 0.5")
    L.append("tensors:")
    for name, t in tensors.items():
        L.append("  %s: {dtype: %s, shape: %s}" % (name, t["dtype"], fmt_list(t["shape"])))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "models", "tiny_test"))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    # torch.onnx export prints advisory UserWarnings (constant folding,
    # shape inference); they do not affect the output.
    warnings.filterwarnings("ignore", category=UserWarning)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    encoder, blocks, head = build_model()

    # ---- tensors (every stage boundary tensor)
    tensors = {
        "static_image": {"dtype": "float32", "shape": [1, 3, STATIC_HW, STATIC_HW]},
        "gripper_image": {"dtype": "float32", "shape": [1, 3, GRIPPER_HW, GRIPPER_HW]},
        "tokens": {"dtype": "int64", "shape": [1, MAX_TOKENS]},
        "token_mask": {"dtype": "float32", "shape": [1, MAX_TOKENS]},
        "visual_tokens": {"dtype": "float32", "shape": [1, N_VIS, D]},
    }
    for k in range(1, N_LAYERS + 1, 2):
        tensors["hidden_%d" % k] = {"dtype": "float32", "shape": [1, MAX_TOKENS, D]}
        tensors["feature_%d" % k] = {"dtype": "float32", "shape": [1, D]}
    tensors["head_feature"] = {"dtype": "float32", "shape": [1, D]}
    for n in ("h_in", "c_in", "h_out", "c_out"):
        tensors[n] = {"dtype": "float32", "shape": [1, 1, D]}
    tensors["pose"] = {"dtype": "float32", "shape": [1, 6]}
    tensors["gripper"] = {"dtype": "float32", "shape": [1, 1]}

    # ---- costs
    enc_cost = (gflops(encoder_macs()), param_bytes(encoder))
    block_g = [gflops(2 * decoder_layer_macs()) for _ in blocks]
    block_w = [param_bytes(b) for b in blocks]
    exits_cost = [(sum(block_g[:i + 1]), sum(block_w[:i + 1])) for i in range(len(blocks))]
    head_cost = (gflops(head_macs()), param_bytes(head))

    # ---- export
    ex_static = torch.zeros(1, 3, STATIC_HW, STATIC_HW)
    ex_grip = torch.zeros(1, 3, GRIPPER_HW, GRIPPER_HW)
    ex_tok = torch.tensor([tokenize(INSTRUCTIONS[0])[0]], dtype=torch.int64)
    ex_mask = torch.tensor([tokenize(INSTRUCTIONS[0])[1]], dtype=torch.float32)
    stages = []
    stages.append((encoder, (ex_static, ex_grip, ex_tok, ex_mask), "encoder.onnx",
                   ["static_image", "gripper_image", "tokens", "token_mask"],
                   ["visual_tokens", "hidden_1", "feature_1"]))
    ex_hidden = torch.zeros(1, MAX_TOKENS, D)
    ex_vis = torch.zeros(1, N_VIS, D)
    for i, b in enumerate(blocks):
        k_in, k_out = 1 + 2 * i, 3 + 2 * i
        stages.append((b, (ex_hidden, ex_vis, ex_mask), "block_%d.onnx" % (i + 1),
                       ["hidden_%d" % k_in, "visual_tokens", "token_mask"],
                       ["hidden_%d" % k_out, "feature_%d" % k_out]))
    ex_state = torch.zeros(1, 1, D)
    stages.append((head, (torch.zeros(1, D), ex_state, ex_state), "head.onnx",
                   ["head_feature", "h_in", "c_in"], ["pose", "gripper", "h_out", "c_out"]))
    for module, ex_args, fname, ins, outs in stages:
        export(module, ex_args, os.path.join(out, fname), ins, outs)
        check_onnx(os.path.join(out, fname), ins, outs, tensors)

    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    write_manifest(os.path.join(out, "manifest.yaml"), (enc_cost, exits_cost, head_cost), tensors)

    # ---- reference forward (torch eager) over all steps
    images = make_images()
    steps = []
    features = []
    stage_tensors = []
    for s, (st_img, gr_img) in enumerate(images):
        ep = s // STEPS_PER_EPISODE
        instr = INSTRUCTIONS[ep]
        ids, mask = tokenize(instr)
        x_s = preprocess(st_img, STATIC_HW)
        x_g = preprocess(gr_img, GRIPPER_HW)
        tok = torch.tensor([ids], dtype=torch.int64)
        msk = torch.tensor([mask], dtype=torch.float32)
        with torch.no_grad():
            vis, h, f1 = encoder(x_s, x_g, tok, msk)
            feats = [f32list(f1)]
            hiddens = [f32list(h)]
            for b in blocks:
                h, f = b(h, vis, msk)
                feats.append(f32list(f))
                hiddens.append(f32list(h))
        features.append(feats)
        if s == 0:
            stage_tensors = {"static_image": f32list(x_s), "gripper_image": f32list(x_g),
                             "visual_tokens": f32list(vis), "hiddens": hiddens,
                             "features": feats}
        steps.append({
            "episode": ep, "instruction": instr,
            "static": {"width": int(st_img.shape[1]), "height": int(st_img.shape[0]),
                       "encoding": "rgb8", "data": [int(v) for v in st_img.reshape(-1)]},
            "gripper": {"width": int(gr_img.shape[1]), "height": int(gr_img.shape[0]),
                        "encoding": "rgb8", "data": [int(v) for v in gr_img.reshape(-1)]},
        })

    head_ref = HeadRef(head)

    # ---- stage check (step 0, zero state)
    feat_names = ["feature_%d" % k for k in range(1, N_LAYERS + 1, 2)]
    hid_names = ["hidden_%d" % k for k in range(1, N_LAYERS + 1, 2)]
    ids0, mask0 = tokenize(steps[0]["instruction"])
    stage_check = {
        "step": 0,
        "tokens": ids0, "token_mask": mask0,
        "static_image": stage_tensors["static_image"],
        "gripper_image": stage_tensors["gripper_image"],
        "visual_tokens": stage_tensors["visual_tokens"],
        "hidden": {n: v for n, v in zip(hid_names, stage_tensors["hiddens"])},
        "features": {n: v for n, v in zip(feat_names, stage_tensors["features"])},
        "head": [],
    }
    for n, fv in zip(feat_names, stage_tensors["features"]):
        r = head_ref(fv, zero_state())
        stage_check["head"].append({"feature": n, "pose": r["pose"], "gripper": r["gripper"],
                                    "h_out": r["state"][0], "c_out": r["state"][1]})

    # ---- runs
    never = [-1.0] * N_EXITS
    always = [1e30] * N_EXITS
    runs_cfg = [("full_depth", "rms", never, N_EXITS, 0, False),
                ("all_exit_1", "rms", always, N_EXITS, 0, False)]
    full_rms = run_exit_rule(steps, features, head_ref, "rms", never, N_EXITS, 0, False)
    full_dist_rms = [r["distances"] for r in full_rms]
    thresholds = {}
    for metric in ("rms", "l2", "max", "cosine"):
        fd = [r["distances"] for r in
              run_exit_rule(steps, features, head_ref, metric, never, N_EXITS, 0, False)]
        thresholds[metric] = choose_thresholds(steps, features, head_ref, metric, fd,
                                               need_all=(metric == "rms"))
        runs_cfg.append(("mixed_" + metric, metric, thresholds[metric], N_EXITS, 0, False))
    runs_cfg.append(("max_exit_2", "rms", thresholds["rms"], 2, 0, False))
    runs_cfg.append(("hold_2", "rms", thresholds["rms"], N_EXITS, 2, False))
    runs_cfg.append(("average_last_two", "rms", thresholds["rms"], N_EXITS, 0, True))

    runs = []
    summary = []
    for name, metric, thr, max_exit, hold, avg in runs_cfg:
        res = run_exit_rule(steps, features, head_ref, metric, thr, max_exit, hold, avg)
        hist = histogram(res)
        summary.append((name, metric, thr, hist, decision_margin(res, thr)))
        runs.append({"name": name, "metric": metric, "thresholds": [float(t) for t in thr],
                     "max_exit": max_exit, "hold_steps": hold, "average_last_two": avg,
                     "results": res})
        if name == "full_depth":
            assert hist == [0, 0, 0, len(steps)]
        if name == "all_exit_1":
            assert hist == [len(steps), 0, 0, 0]
        if name == "mixed_rms":
            assert all(h >= 2 for h in hist), hist
        if name.startswith("mixed_"):
            assert sum(1 for h in hist if h > 0) >= 3, (name, hist)
        if name == "max_exit_2":
            assert hist[2] == 0 and hist[3] == 0 and hist[1] > 0, hist
        if name == "hold_2":
            assert any(r["held"] for r in res)
        # the gripper mapping (prob > 0.5) must not be decided by float noise
        assert min(abs(r["gripper_prob"] - 0.5) for r in res) > 1e-3, name
        if name == "full_depth":
            assert 0 < sum(r["gripper_prob"] > 0.5 for r in res) < len(res)

    # sanity of the model's behaviour: exits differ, poses not saturated
    all_pose = [abs(v) for r in full_rms for v in r["pose"]]
    assert max(all_pose) < 0.99, max(all_pose)
    flat = [d for row in full_dist_rms for d in row]
    assert min(flat) > 1e-3, min(flat)

    token_table = []
    for instr in INSTRUCTIONS:
        ids, mask = tokenize(instr)
        token_table.append({"instruction": instr, "tokens": ids, "token_mask": mask})

    golden = {
        "generator": "tools/model/gen_tiny_test.py",
        "source": "torch eager stages + plain-Python exit rule (not ONNX Runtime)",
        "tolerance": 1e-5,
        "preprocess": "x/255; bilinear resize, half-pixel centres, align_corners=False, "
                      "no antialias; (x-mean)/std per channel; NCHW rgb",
        "tokenize": "lowercase; split on whitespace; strip leading/trailing .,!?;: "
                    "from each word (drop words left empty); vocab lookup, unknown -> "
                    "unk_id; truncate to max_tokens; pad with pad_id; mask 1 for real tokens",
        "steps": steps,
        "tokens": token_table,
        "stage_check": stage_check,
        "full_depth_distances_rms": full_dist_rms,
        "runs": runs,
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        f.write(json_text(golden) + "\n")

    # ---- report
    print("stage costs (gflops, weight_bytes):")
    print("  encoder", enc_cost)
    for i, c in enumerate(exits_cost):
        print("  exit %d (cumulative)" % (i + 1), c, " block", (block_g[i], block_w[i]))
    print("  head", head_cost)
    print("full-depth rms distances per exit (min/median/max):")
    for i in range(N_EXITS):
        col = sorted(r[i] for r in full_dist_rms)
        print("  exit %d: %.4g / %.4g / %.4g" % (i + 1, col[0], col[len(col) // 2], col[-1]))
    print("max |pose| at full depth: %.3f" % max(all_pose))
    gp = [r["gripper_prob"] for r in full_rms]
    print("gripper prob at full depth: %.3f..%.3f, %d of %d open"
          % (min(gp), max(gp), sum(p > 0.5 for p in gp), len(gp)))
    for name, metric, thr, hist, margin in summary:
        print("run %-17s %-6s thresholds=%s exits=%s margin=%.3g"
              % (name, metric, [float("%.6g" % t) for t in thr], hist, margin))
    total = 0
    for fn in sorted(os.listdir(out)):
        p = os.path.join(out, fn)
        with open(p, "rb") as f:
            data = f.read()
        total += len(data)
        print("  %-14s %7d  %s" % (fn, len(data), hashlib.sha256(data).hexdigest()[:16]))
    print("total bytes", total)


if __name__ == "__main__":
    main()
