#!/usr/bin/python3
"""Train the tiny DeeR model on sim demonstrations and export models/deer_tiny.

    /usr/bin/python3 tools/train/deer_tiny.py --train BAG [BAG...] --sample BAG --out models/deer_tiny
    # the same structure at width 512 with random weights, for wall-time benchmarks:
    /usr/bin/python3 tools/train/deer_tiny.py --untrained --width 512 --sample test/bags/sample_demo --out /tmp/wide512

DeeR-VLA in miniature (see the shared docs/deer-method.md):
- vision: a small conv net per camera (static 64x64 -> 8x8 patches, gripper
  32x32 -> 4x4) + learned positions, a perceiver-like resampler (N_RES
  learned queries), spatial-softmax keypoint tokens (stems and
  full-resolution colour detectors) and instruction-chosen keypoint tokens
  (the mean word embedding picks a 1x1 filter over the colour features: the
  named block's image position) -> N_VIS visual tokens. Always runs
  (encoder stage).
- text: word embedding + positions over the instruction (max 8 words).
- decoder: N_LAYERS = 2 * N_EXITS Flamingo-style layers (tanh-gated
  cross-attention to the visual tokens, causal self-attention, MLP), as in
  the paper: exit i follows layer 2i, and layer 1 (the reference feature)
  runs in the encoder stage but is costed with exit 1. An exit's
  feature is its hidden state max-pooled over the real text tokens.
- ONE shared head: LayerNorm + LSTM + two MLPs (tanh pose 6, sigmoid gripper).
- training: stage 1 pretrains vision and decoder on single frames against
  the true sim state of -state demos (block positions by colour, effector;
  per exit: target block minus effector, held, closed, bin minus block);
  stage 2: per-step and per-segment random exit sampling through the shared
  head, plus auxiliary per-exit MLP heads; loss Huber(pose) + 0.01 BCE(grip)
  + the stage-1 state losses. A later round (DAgger, --init) continues
  from earlier weights over expert and on-policy demonstrations.
  Episodes are cut into windows of WINDOW steps (truncated BPTT); the LSTM
  state is carried, detached, from window to window of the same episode, so
  training sees the state the engine has at run time.

Writes encoder.onnx, block_1..N.onnx, head.onnx, manifest.yaml, vocab.txt,
parity.json (torch eager reference of the first sample-bag steps) and
train_log.txt into --out.
"""

import argparse
import json
import math
import os
import random
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcap_cdr  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEED = 20241104

D = 32
HEADS = 2
MLP_HIDDEN = 2 * D
N_RES = 8              # resampler queries
MAX_TOKENS = 8
STATIC_HW = 64
GRIPPER_HW = 32
N_EXITS = 6
N_KP = 4               # visual tokens from spatial-softmax keypoints
KP_STATIC = 16
KP_GRIPPER = 8
KP_PIX = 12            # full-resolution colour keypoints per camera
KP_PIX_HIDDEN = 16
N_LANG = 2             # instruction-chosen keypoints per camera
N_LT = 2 * N_LANG      # one visual token per instruction-chosen keypoint
N_LK_FEAT = 5          # per instruction-chosen keypoint: x, y, presence, four-fold orientation (2)
N_VIS = N_RES + N_KP + N_LT
N_LAYERS = 2 * N_EXITS
H = 64                 # LSTM hidden
MEAN = [0.5, 0.5, 0.5]
STD = [0.25, 0.25, 0.25]
OPSET = 13
N_EXIT_STATE = 11      # auxiliary exit targets: target - effector xyz, yaw error, held, closed,
                       # bin - target xy, target - effector xyz within 15 cm
N_VIS_STATE = 21 + N_EXIT_STATE  # vision: 4 colours x (present, xyz), effector xyz, closed, held + exit targets
BIN_CENTRES = {1: (-0.75, 0.0), 2: (0.75, 0.0)}
MASK_NEG = -1e9
PUNCT = ".,!?;:"
PAD, UNK = "<pad>", "<unk>"


# ---------------------------------------------------------------- tokenizer
def tokenize(text, index):
    ids = []
    for w in text.lower().split():
        w = w.strip(PUNCT)
        if w:
            ids.append(index.get(w, 1))
    ids = ids[:MAX_TOKENS]
    mask = [1.0] * len(ids) + [0.0] * (MAX_TOKENS - len(ids))
    return ids + [0] * (MAX_TOKENS - len(ids)), mask


def build_vocab(instructions):
    words = set()
    for s in instructions:
        for w in s.lower().split():
            w = w.strip(PUNCT)
            if w:
                words.add(w)
    return [PAD, UNK] + sorted(words)


def images_to_tensor(u8):
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W], (x/255 - mean)/std."""
    x = torch.from_numpy(np.ascontiguousarray(u8)).float() / 255.0
    x = x.movedim(-1, -3)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (x - mean) / std


# ---------------------------------------------------------------- modules
class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, ctx, bias=None):
        b, t, s = x.shape[0], x.shape[1], ctx.shape[1]
        q = self.q(x).reshape(b, t, self.heads, self.dh).transpose(1, 2)
        k = self.k(ctx).reshape(b, s, self.heads, self.dh).transpose(1, 2)
        v = self.v(ctx).reshape(b, s, self.heads, self.dh).transpose(1, 2)
        att = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(self.dh))
        if bias is not None:
            att = att + bias
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, t, self.heads * self.dh)
        return self.o(y)


def coord_grid(n):
    """[n*n, 2] pixel-centre coordinates in [-1, 1], row-major (x, y)."""
    c = (torch.arange(n, dtype=torch.float32) + 0.5) / n * 2 - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


def spatial_softmax(x, grid):
    """[B, C, H, W] -> [B, 2C]: the expected (x, y) of each channel's softmax."""
    b, c = x.shape[0], x.shape[1]
    att = torch.softmax(x.reshape(b, c, -1), dim=-1)
    return torch.matmul(att, grid).reshape(b, 2 * c)


def masked_max(hidden, mask):
    return torch.max(hidden + (1.0 - mask).unsqueeze(-1) * MASK_NEG, dim=1)[0]


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_x = nn.LayerNorm(D)
        self.xattn = Attention(D, HEADS)
        self.gate = nn.Parameter(torch.tensor([1.0]))
        self.ln_s = nn.LayerNorm(D)
        self.sattn = Attention(D, HEADS)
        self.ln_m = nn.LayerNorm(D)
        self.fc1 = nn.Linear(D, MLP_HIDDEN)
        self.fc2 = nn.Linear(MLP_HIDDEN, D)
        self.register_buffer("causal", torch.triu(torch.full((MAX_TOKENS, MAX_TOKENS), MASK_NEG),
                                                  diagonal=1), persistent=False)

    def forward(self, h, vis, mask):
        t = h.shape[1]
        h = h + torch.tanh(self.gate) * self.xattn(self.ln_x(h), vis)
        bias = self.causal.view(1, 1, t, t) + ((1.0 - mask) * MASK_NEG).view(-1, 1, 1, t)
        hs = self.ln_s(h)
        h = h + self.sattn(hs, hs, bias)
        return h + self.fc2(F.gelu(self.fc1(self.ln_m(h))))


class Encoder(nn.Module):
    """Both cameras -> visual tokens; text -> decoder layer 1."""

    def __init__(self, n_vocab, layer1):
        super().__init__()
        self.static_stem = nn.Sequential(
            nn.Conv2d(3, 8, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(8, 16, 4, 2, 1), nn.ReLU())               # 16x16
        self.static_patch = nn.Conv2d(16, D, 4, 2, 1)           # 8x8
        self.gripper_stem = nn.Sequential(
            nn.Conv2d(3, 8, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(8, 16, 4, 2, 1), nn.ReLU())               # 8x8
        self.gripper_patch = nn.Conv2d(16, D, 4, 2, 1)          # 4x4
        # spatial-softmax keypoints: expected (x, y) of each channel
        self.static_kp = nn.Conv2d(16, KP_STATIC, 1)
        self.gripper_kp = nn.Conv2d(16, KP_GRIPPER, 1)
        self.register_buffer("grid_s", coord_grid(STATIC_HW // 4), persistent=False)
        self.register_buffer("grid_g", coord_grid(GRIPPER_HW // 4), persistent=False)
        # full-resolution colour features: per-pixel 1x1 convs (a colour
        # detector); KP_PIX fixed keypoints of their own (hand, shadow,
        # bins) and N_LANG keypoints whose 1x1 filter the instruction
        # chooses (the named block, the named bin): the image position of
        # the thing the instruction is about, in one step.
        self.static_pix = nn.Sequential(nn.Conv2d(3, KP_PIX_HIDDEN, 1), nn.ReLU())
        self.gripper_pix = nn.Sequential(nn.Conv2d(3, KP_PIX_HIDDEN, 1), nn.ReLU())
        self.static_pix_kp = nn.Conv2d(KP_PIX_HIDDEN, KP_PIX, 1)
        self.gripper_pix_kp = nn.Conv2d(KP_PIX_HIDDEN, KP_PIX, 1)
        self.static_lang = nn.Linear(D, N_LANG * (KP_PIX_HIDDEN + 1))
        self.gripper_lang = nn.Linear(D, N_LANG * (KP_PIX_HIDDEN + 1))
        self.register_buffer("grid_sp", coord_grid(STATIC_HW), persistent=False)
        self.register_buffer("sobel_x", torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
                             .view(1, 1, 3, 3), persistent=False)
        self.register_buffer("grid_gp", coord_grid(GRIPPER_HW), persistent=False)
        n_kp_in = 2 * (KP_STATIC + KP_GRIPPER + 2 * KP_PIX) + N_LK_FEAT * N_LT
        self.kp_proj = nn.Linear(n_kp_in, N_KP * D)
        self.kp_ln = nn.LayerNorm(D)
        # one token per language keypoint: identity + x, y and presence
        self.lt_id = nn.Parameter(0.5 * torch.randn(1, N_LT, D))
        self.lt_w = nn.Parameter(0.5 * torch.randn(1, N_LT, N_LK_FEAT, D))
        self.lt_ln = nn.LayerNorm(D)
        self.n_patches = (STATIC_HW // 8) ** 2 + (GRIPPER_HW // 8) ** 2
        self.patch_pos = nn.Parameter(0.1 * torch.randn(1, self.n_patches, D))
        self.ln_p = nn.LayerNorm(D)
        self.queries = nn.Parameter(0.5 * torch.randn(1, N_RES, D))
        self.r_attn = Attention(D, HEADS)
        self.r_ln = nn.LayerNorm(D)
        self.r_fc1 = nn.Linear(D, MLP_HIDDEN)
        self.r_fc2 = nn.Linear(MLP_HIDDEN, D)
        self.tok_emb = nn.Embedding(n_vocab, D)
        self.pos_emb = nn.Parameter(0.1 * torch.randn(1, MAX_TOKENS, D))
        self.layer1 = layer1

    def lang_keypoints(self, feat, lang, proj, grid, orientation):
        """feat [B, C, H, W], lang [B, D] -> [B, N_LANG, N_LK_FEAT]: for each
        instruction-chosen 1x1 filter's heat map, the (x, y) of its spatial
        softmax, its presence (log mean exp) and its edges' four-fold
        orientation: the normalised sum of (gx + i gy)^4 over the heat
        map's (Sobel) gradients, (cos 4a, sin 4a) for a square seen at angle a,
        i.e. a block's yaw modulo a quarter turn, which keypoints cannot
        see and grasping needs. With orientation False the two orientation
        values are zeros: the static camera sees a block as about 4 px, too
        few for its yaw, and its 64x64 Sobel pass would double the training
        time per iteration."""
        b, c, h, w = feat.shape
        f = proj(lang).reshape(b, N_LANG, c + 1)
        flat = feat.reshape(b, c, h * w)
        heat = torch.matmul(f[:, :, :c], flat) + f[:, :, c:]          # [B, N_LANG, HW]
        att = torch.softmax(heat, dim=-1)
        xy = torch.matmul(att, grid)                                   # [B, N_LANG, 2]
        pres = torch.logsumexp(heat, dim=-1, keepdim=True) - math.log(h * w)
        if not orientation:
            return torch.cat([xy, torch.tanh(0.25 * pres), torch.zeros_like(xy)], dim=-1)
        hm = heat.reshape(b * N_LANG, 1, h, w)
        gx = F.conv2d(hm, self.sobel_x)                                # Sobel: far less grid
        gy = F.conv2d(hm, self.sobel_x.transpose(2, 3))                # bias than differences
        gx2, gy2 = gx * gx, gy * gy
        re = (gx2 * gx2 - 6 * gx2 * gy2 + gy2 * gy2).sum((2, 3)).reshape(b, N_LANG)
        im = (4 * gx * gy * (gx2 - gy2)).sum((2, 3)).reshape(b, N_LANG)
        norm = ((gx2 + gy2) ** 2).sum((2, 3)).reshape(b, N_LANG) + 1e-6
        orient = torch.stack([re / norm, im / norm], dim=-1)           # [B, N_LANG, 2]
        return torch.cat([xy, torch.tanh(0.25 * pres), orient], dim=-1)

    def vision(self, static_image, gripper_image, lang):
        xs = self.static_stem(static_image)
        xg = self.gripper_stem(gripper_image)
        s = self.static_patch(xs).flatten(2).transpose(1, 2)
        g = self.gripper_patch(xg).flatten(2).transpose(1, 2)
        p = self.ln_p(torch.cat([s, g], dim=1) + self.patch_pos)
        b = p.shape[0]
        q = self.queries.expand(b, N_RES, D)
        q = q + self.r_attn(q, p)
        q = q + self.r_fc2(F.gelu(self.r_fc1(self.r_ln(q))))
        ps = self.static_pix(static_image)
        pg = self.gripper_pix(gripper_image)
        lk = torch.cat([self.lang_keypoints(ps, lang, self.static_lang, self.grid_sp, False),
                        self.lang_keypoints(pg, lang, self.gripper_lang, self.grid_gp, True)], dim=1)  # [B, N_LT, N_LK_FEAT]
        kp = torch.cat([spatial_softmax(self.static_kp(xs), self.grid_s),
                        spatial_softmax(self.gripper_kp(xg), self.grid_g),
                        spatial_softmax(4.0 * self.static_pix_kp(ps), self.grid_sp),
                        spatial_softmax(4.0 * self.gripper_pix_kp(pg), self.grid_gp),
                        lk.reshape(b, N_LK_FEAT * N_LT)], dim=1)
        k = self.kp_ln(self.kp_proj(kp).reshape(b, N_KP, D))
        lt = self.lt_ln(self.lt_id + torch.matmul(lk.unsqueeze(2), self.lt_w).squeeze(2))
        return torch.cat([q, k, lt], dim=1)

    def forward(self, static_image, gripper_image, tokens, token_mask):
        e = self.tok_emb(tokens)
        m = token_mask.unsqueeze(-1)
        lang = (e * m).sum(1) / m.sum(1).clamp(min=1.0)
        vis = self.vision(static_image, gripper_image, lang)
        h1 = self.layer1(e + self.pos_emb, vis, token_mask)
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
    """Shared recurrent head: LayerNorm, 1-layer LSTM, tanh pose MLP and
    sigmoid gripper MLP."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(D)
        self.lstm = nn.LSTM(D, H, num_layers=1)
        self.pose1 = nn.Linear(H + D, 128)
        self.pose2 = nn.Linear(128, 6)
        self.grip1 = nn.Linear(H + D, 64)
        self.grip2 = nn.Linear(64, 1)

    def seq(self, feats, state):
        """feats [T, B, D], state (h, c) [1, B, H] -> pose [T,B,6], grip logit [T,B,1], state."""
        x = self.ln(feats)
        y, st = self.lstm(x, state)
        z = torch.cat([y, x], dim=-1)
        pose = torch.tanh(self.pose2(F.relu(self.pose1(z))))
        logit = self.grip2(F.relu(self.grip1(z)))
        return pose, logit, st

    def forward(self, head_feature, h_in, c_in):
        pose, logit, (h_out, c_out) = self.seq(head_feature.unsqueeze(0), (h_in, c_in))
        return pose[0], torch.sigmoid(logit[0]), h_out, c_out


class Net(nn.Module):
    def __init__(self, n_vocab):
        super().__init__()
        layers = [DecoderLayer() for _ in range(N_LAYERS)]
        self.encoder = Encoder(n_vocab, layers[0])
        # block i runs the layers after hidden_k_in up to hidden_k_out (1-based)
        self.blocks = nn.ModuleList(Block(layers[slice(*block_io(i))]) for i in range(N_EXITS))
        self.head = Head()
        self.aux = nn.ModuleList(nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 64), nn.ReLU(),
                                               nn.Linear(64, 7)) for _ in range(N_EXITS))
        # auxiliary true-state readouts (training only, never exported)
        self.vis_state = nn.Sequential(nn.LayerNorm(N_VIS * D), nn.Linear(N_VIS * D, 128), nn.ReLU(),
                                       nn.Linear(128, N_VIS_STATE))
        self.exit_state = nn.ModuleList(nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 64), nn.ReLU(),
                                                      nn.Linear(64, N_EXIT_STATE)) for _ in range(N_EXITS))

    def features(self, st, gr, tok, mask, with_vis=False):
        """-> [feature_1, exit 1 .. exit N features], each [B, D] (and the
        visual tokens with with_vis)."""
        vis, h, f1 = self.encoder(st, gr, tok, mask)
        feats = [f1]
        for b in self.blocks:
            h, f = b(h, vis, mask)
            feats.append(f)
        if with_vis:
            return feats, vis
        return feats


# ---------------------------------------------------------------- costs
def lin(n_in, n_out, rows):
    return n_in * n_out * rows


def attention_macs(t, s):
    return lin(D, D, t) * 2 + lin(D, D, s) * 2 + t * s * D * 2


def decoder_layer_macs():
    return attention_macs(MAX_TOKENS, N_VIS) + attention_macs(MAX_TOKENS, MAX_TOKENS) + \
        lin(D, MLP_HIDDEN, MAX_TOKENS) * 2


def conv_macs(cnn, hw):
    """MACs of the convs of cnn on an hw x hw input (stride 2 or 1)."""
    m = 0
    for c in cnn:
        if isinstance(c, nn.Conv2d):
            hw //= c.stride[0]
            m += hw * hw * c.in_channels * c.out_channels * c.kernel_size[0] * c.kernel_size[1]
    return m


def encoder_macs(enc):
    n_p = enc.n_patches
    s4, g4 = STATIC_HW // 4, GRIPPER_HW // 4
    pixels = STATIC_HW ** 2 + GRIPPER_HW ** 2
    n_kp_in = 2 * (KP_STATIC + KP_GRIPPER + 2 * KP_PIX) + N_LK_FEAT * N_LT
    return conv_macs(enc.static_stem, STATIC_HW) + conv_macs([enc.static_patch], s4) + \
        conv_macs(enc.gripper_stem, GRIPPER_HW) + conv_macs([enc.gripper_patch], g4) + \
        conv_macs([enc.static_kp], s4) + conv_macs([enc.gripper_kp], g4) + \
        s4 * s4 * KP_STATIC * 2 + g4 * g4 * KP_GRIPPER * 2 + \
        pixels * (3 * KP_PIX_HIDDEN + KP_PIX_HIDDEN * KP_PIX + 3 * KP_PIX) + \
        2 * lin(D, N_LANG * (KP_PIX_HIDDEN + 1), 1) + pixels * N_LANG * (KP_PIX_HIDDEN + 30) + \
        lin(n_kp_in, N_KP * D, 1) + N_LK_FEAT * N_LT * D + \
        attention_macs(N_RES, n_p) + lin(D, MLP_HIDDEN, N_RES) * 2


def head_macs():
    return 4 * H * (D + H) + (H + D) * 128 + 128 * 6 + (H + D) * 64 + 64


def gflops(macs):
    return 2.0 * macs / 1e9


def param_bytes(module):
    return 4 * sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------- data
def quarter_wrap(a):
    q = math.pi / 2
    return (a + q / 2) % q - q / 2


def state_targets(states):
    """true sim states -> (vision targets [T, N_VIS_STATE], vision mask,
    exit targets [T, N_EXIT_STATE]); positions in metres x 2."""
    T = len(states)
    vis = np.zeros((T, N_VIS_STATE), np.float32)
    vmask = np.ones((T, N_VIS_STATE), np.float32)
    ext = np.zeros((T, N_EXIT_STATE), np.float32)
    for t, st in enumerate(states):
        e = st["effector"]
        for c in range(4):
            vmask[t, 4 * c + 1:4 * c + 4] = 0
        for b in st["blocks"]:
            c = int(b[0]) - 1
            vis[t, 4 * c] = 1
            vis[t, 4 * c + 1:4 * c + 4] = [2 * b[1], 2 * b[2], 2 * b[3]]
            vmask[t, 4 * c + 1:4 * c + 4] = 1
        vis[t, 16:19] = [2 * e[0], 2 * e[1], 2 * e[2]]
        vis[t, 19] = e[4]
        vis[t, 20] = 1.0 if st["held"] >= 0 else 0.0
        tb = st["blocks"][st["target"]]
        ext[t, 0:3] = np.clip([2 * (tb[1] - e[0]), 2 * (tb[2] - e[1]), 2 * (tb[3] - e[2])], -2, 2)
        ext[t, 3] = quarter_wrap(tb[4] - e[3]) / 0.8
        ext[t, 4] = 1.0 if st["held"] == st["target"] else 0.0
        ext[t, 5] = e[4]
        if st["bin"] in BIN_CENTRES:
            bx, by = BIN_CENTRES[st["bin"]]
            ext[t, 6:8] = [2 * (bx - tb[1]), 2 * (by - tb[2])]
        # the same vector at grasping precision: saturates beyond 15 cm
        ext[t, 8:11] = np.clip([(tb[1] - e[0]) / 0.15, (tb[2] - e[1]) / 0.15, (tb[3] - e[2]) / 0.15], -1, 1)
    vis[:, 21:] = ext
    return vis, vmask, ext


class Data:
    def __init__(self, episodes, index):
        self.eps = []
        self.has_state = all(e.get("states") for e in episodes) and len(episodes) > 0
        for e in episodes:
            ids, mask = tokenize(e["instruction"], index)
            if self.has_state:
                sv, sm, se = state_targets(e["states"])
            else:
                n = len(e["pose"])
                sv, sm, se = (np.zeros((n, N_VIS_STATE), np.float32), np.zeros((n, N_VIS_STATE), np.float32),
                              np.zeros((n, N_EXIT_STATE), np.float32))
            self.eps.append({
                "svis": torch.from_numpy(sv), "smask": torch.from_numpy(sm), "sexit": torch.from_numpy(se),
                "static": e["static"], "gripper": e["gripper"],
                "pose": torch.from_numpy(e["pose"]),
                "grip": torch.from_numpy((e["grip"] > 0).astype(np.float32)),
                "release": torch.from_numpy(release_steps(e["grip"] > 0)),
                "tokens": torch.tensor(ids), "mask": torch.tensor(mask),
                "n": len(e["pose"]), "instruction": e["instruction"],
            })

    def batches(self, rng, batch):
        """episode index batches of similar length, in random order."""
        order = list(range(len(self.eps)))
        rng.shuffle(order)
        groups = [order[i:i + batch * 8] for i in range(0, len(order), batch * 8)]
        out = []
        for g in groups:
            g.sort(key=lambda i: self.eps[i]["n"])
            out += [g[i:i + batch] for i in range(0, len(g), batch)]
        rng.shuffle(out)
        return out


def release_steps(open_):
    """1 where the gripper label is open after an earlier close (a place's
    release: one step per expert demonstration, as the episode ends when the
    block rests), else 0."""
    closed_before = np.cumsum(~open_) > 0
    return (open_ & closed_before).astype(np.float32)


def pretrain_vision(net, data, args, log):
    """stage 1: from single random frames, the visual tokens learn the true
    state (block positions by colour, effector) and every exit's feature the
    instruction's target block relative to the effector: localisation and
    colour selection are learnt far faster from these dense targets than
    from actions."""
    enc, head = net.encoder, net.vis_state
    params = list(enc.parameters()) + list(head.parameters()) + list(net.blocks.parameters()) + \
        list(net.exit_state.parameters())
    opt = torch.optim.AdamW(params, lr=args.pretrain_lr, weight_decay=1e-4)
    rng = np.random.RandomState(args.seed)
    sizes = np.array([e["n"] for e in data.eps])
    cum = np.cumsum(sizes)
    t_start = time.time()
    bs = args.pretrain_batch
    for it in range(args.pretrain_steps):
        for g in opt.param_groups:
            g["lr"] = args.pretrain_lr * 0.5 * (1 + math.cos(math.pi * it / args.pretrain_steps))
        flat = rng.randint(0, cum[-1], bs)
        ei = np.searchsorted(cum, flat, side="right")
        ti = flat - (cum[ei] - sizes[ei])
        st = np.stack([data.eps[e]["static"][t] for e, t in zip(ei, ti)])
        gr = np.stack([data.eps[e]["gripper"][t] for e, t in zip(ei, ti)])
        tv = torch.stack([data.eps[e]["svis"][t] for e, t in zip(ei, ti)])
        tm = torch.stack([data.eps[e]["smask"][t] for e, t in zip(ei, ti)])
        te = torch.stack([data.eps[e]["sexit"][t] for e, t in zip(ei, ti)])
        tok = torch.stack([data.eps[e]["tokens"] for e in ei])
        msk = torch.stack([data.eps[e]["mask"] for e in ei])
        feats, vis = net.features(images_to_tensor(st), images_to_tensor(gr), tok, msk, with_vis=True)
        lv = (((head(vis.reshape(bs, -1)) - tv) ** 2) * tm).mean()
        le = 0.0
        for i in range(N_EXITS):
            le = le + ((net.exit_state[i](feats[i + 1]) - te) ** 2).mean() / N_EXITS
        loss = lv + le
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if (it + 1) % 200 == 0:
            log("  pretrain %d/%d state loss %.4f  %.0fs" % (it + 1, args.pretrain_steps, float(loss),
                                                          time.time() - t_start))
            log("    vision %.4f exits %.4f" % (float(lv), float(le)))


def train(net, data, args, log):
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    exit_w = None
    if args.exit_weights:
        exit_w = torch.tensor([float(x) for x in args.exit_weights.split(",")])
        n_w = N_EXITS + 1 if args.train_ref else N_EXITS
        if len(exit_w) != n_w or (exit_w < 0).any() or exit_w.sum() <= 0:
            raise SystemExit("--exit-weights: want %d non-negative weights" % n_w)
    def n_windows(b):
        eps = [data.eps[i] for i in b]
        return (max(e["n"] for e in eps) + args.window - 1) // args.window
    total = args.epochs * sum(n_windows(b) for b in data.batches(random.Random(0), args.batch))
    it = 0
    t_start = time.time()
    L = args.window
    for epoch in range(args.epochs):
        sums = np.zeros(5)
        count = 0
        for b in data.batches(rng, args.batch):
            eps = [data.eps[i] for i in b]
            n_max = max(e["n"] for e in eps)
            state = (torch.zeros(1, len(eps), H), torch.zeros(1, len(eps), H))
            for t0 in range(0, n_max, L):
                lr = args.lr * 0.5 * (1 + math.cos(math.pi * it / total))
                if it < 100:
                    lr *= (it + 1) / 100
                for g in opt.param_groups:
                    g["lr"] = lr
                it += 1
                opt.zero_grad()
                act = [k for k, e in enumerate(eps) if e["n"] > t0]
                ae = [eps[k] for k in act]
                l = min(L, max(e["n"] for e in ae) - t0)
                B = len(ae)
                st = np.zeros((B, l, STATIC_HW, STATIC_HW, 3), np.uint8)
                gr = np.zeros((B, l, GRIPPER_HW, GRIPPER_HW, 3), np.uint8)
                pose = torch.zeros(B, l, 6)
                grip = torch.zeros(B, l)
                gw = torch.ones(B, l)                               # gripper loss weight per step
                valid = torch.zeros(B, l)
                svis = torch.zeros(B, l, N_VIS_STATE)
                smask = torch.zeros(B, l, N_VIS_STATE)
                sexit = torch.zeros(B, l, N_EXIT_STATE)
                for k, e in enumerate(ae):
                    m = min(l, e["n"] - t0)
                    st[k, :m] = e["static"][t0:t0 + m]
                    gr[k, :m] = e["gripper"][t0:t0 + m]
                    pose[k, :m] = e["pose"][t0:t0 + m]
                    grip[k, :m] = e["grip"][t0:t0 + m]
                    gw[k, :m] = 1 + (args.release_w - 1) * e["release"][t0:t0 + m]
                    valid[k, :m] = 1
                    svis[k, :m] = e["svis"][t0:t0 + m]
                    smask[k, :m] = e["smask"][t0:t0 + m]
                    sexit[k, :m] = e["sexit"][t0:t0 + m]
                tok = torch.stack([e["tokens"] for e in ae]).repeat_interleave(l, 0)
                msk = torch.stack([e["mask"] for e in ae]).repeat_interleave(l, 0)
                feats = net.features(images_to_tensor(st.reshape(B * l, STATIC_HW, STATIC_HW, 3)),
                                     images_to_tensor(gr.reshape(B * l, GRIPPER_HW, GRIPPER_HW, 3)),
                                     tok, msk, with_vis=True)
                feats, vis = feats
                F_all = torch.stack(feats[1:])                     # [E, B*l, D]
                F_all = F_all.view(N_EXITS, B, l, D)
                # --train-ref: the head also learns the reference feature
                F_pick = torch.stack(feats).view(N_EXITS + 1, B, l, D) if args.train_ref else F_all
                n_pick = F_pick.shape[0]
                idx = torch.tensor(act)
                s_in = (state[0][:, idx], state[1][:, idx])
                # per-step random exits
                if exit_w is None:
                    pick = torch.randint(0, n_pick, (B, l), generator=gen)
                else:
                    pick = torch.multinomial(exit_w, B * l, replacement=True, generator=gen).view(B, l)
                f_step = torch.gather(F_pick, 0, pick.view(1, B, l, 1).expand(1, B, l, D))[0]
                p1, g1, s_out = net.head.seq(f_step.transpose(0, 1), s_in)
                # per-segment random exit
                if exit_w is None:
                    seg = torch.randint(0, n_pick, (B,), generator=gen)
                else:
                    seg = torch.multinomial(exit_w, B, replacement=True, generator=gen)
                f_seg = F_pick[seg, torch.arange(B)]                 # [B, l, D]
                p2, g2, _ = net.head.seq(f_seg.transpose(0, 1), s_in)
                vm = valid.transpose(0, 1)                          # [l, B]
                tgt_p = pose.transpose(0, 1)
                tgt_g = grip.transpose(0, 1).unsqueeze(-1)
                n_valid = vm.sum()

                def act_loss(p, g, vmask, tp, tg, w):
                    lp = (F.huber_loss(p, tp, reduction="none", delta=args.huber).mean(-1) * vmask).sum() / n_valid
                    lg = (F.binary_cross_entropy_with_logits(g, tg, reduction="none")[..., 0] * w * vmask).sum() / n_valid
                    return lp, lg

                gwt = gw.transpose(0, 1)
                lp1, lg1 = act_loss(p1, g1, vm, tgt_p, tgt_g, gwt)
                lp2, lg2 = act_loss(p2, g2, vm, tgt_p, tgt_g, gwt)
                aux = 0.0
                for i in range(N_EXITS):
                    o = net.aux[i](F_all[i])                         # [B, l, 7]
                    lpa, lga = act_loss(torch.tanh(o[..., :6]), o[..., 6:], valid, pose, grip.unsqueeze(-1), gw)
                    aux = aux + (lpa + args.grip_w * lga) / N_EXITS
                loss = lp1 + args.grip_w * lg1 + lp2 + args.grip_w * lg2 + args.aux_w * aux
                ls = torch.zeros(())
                if data.has_state and args.state_w > 0:
                    vflat = valid.reshape(B * l)
                    pv = net.vis_state(vis.reshape(B * l, N_VIS * D))
                    lv = (((pv - svis.reshape(B * l, -1)) ** 2) * smask.reshape(B * l, -1)).mean(-1)
                    ls = (lv * vflat).sum() / n_valid
                    for i in range(N_EXITS):
                        pe = net.exit_state[i](F_all[i])               # [B, l, 8]
                        le = ((pe - sexit) ** 2).mean(-1)
                        ls = ls + (le * valid).sum() / n_valid / N_EXITS
                    loss = loss + args.state_w * ls
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sums += np.array([float(lp1), float(lg1), float(lp2), float(aux), float(ls)])
                count += 1
                if it % 100 == 0:
                    log("  it %d/%d loss %.4f pose %.4f  %.0fs" % (it, total, float(loss), float(lp1), time.time() - t_start))
                # carry the state (detached) for the next window
                h_new, c_new = state[0].clone(), state[1].clone()
                h_new[:, idx] = s_out[0].detach()
                c_new[:, idx] = s_out[1].detach()
                state = (h_new, c_new)
        sums /= max(count, 1)
        log("epoch %d/%d  pose(step) %.4f grip(step) %.4f pose(seg) %.4f aux %.4f state %.4f  lr %.2e  %.0fs"
            % (epoch + 1, args.epochs, sums[0], sums[1], sums[2], sums[3], sums[4], lr, time.time() - t_start))


@torch.no_grad()
def evaluate(net, data, log, max_eps=40):
    """teacher-forced per-exit pose error (RMS) on held-out episodes, head
    state committed from the same exit."""
    err = np.zeros(N_EXITS + 1)
    gacc = np.zeros(N_EXITS + 1)
    serr = np.zeros(N_EXITS + 1)
    n = 0
    for e in data.eps[:max_eps]:
        T = e["n"]
        tok = e["tokens"].unsqueeze(0).repeat(T, 1)
        msk = e["mask"].unsqueeze(0).repeat(T, 1)
        feats, vis = net.features(images_to_tensor(e["static"]), images_to_tensor(e["gripper"]), tok, msk,
                                  with_vis=True)
        if data.has_state:
            pv = net.vis_state(vis.reshape(T, -1))
            serr[0] += float((((pv - e["svis"]) ** 2) * e["smask"]).mean(-1).sum())
            for i in range(N_EXITS):
                serr[i + 1] += float(((net.exit_state[i](feats[i + 1])[:, :3] - e["sexit"][:, :3]) ** 2).mean(-1).sum())
        for i, f in enumerate(feats):
            p, g, _ = net.head.seq(f.unsqueeze(1), (torch.zeros(1, 1, H), torch.zeros(1, 1, H)))
            err[i] += float(((p[:, 0] - e["pose"]) ** 2).mean(-1).sum())
            gacc[i] += float(((g[:, 0, 0] > 0).float() == e["grip"]).float().sum())
        n += T
    log("held-out teacher-forced pose RMS per exit (ref, 1..%d): %s" % (
        N_EXITS, " ".join("%.4f" % math.sqrt(x / n) for x in err)))
    log("held-out gripper accuracy per exit: %s" % " ".join("%.3f" % (x / n) for x in gacc))
    if data.has_state:
        log("held-out state RMS (vision tokens; exits 1..%d target-effector, metres): %s" % (
            N_EXITS, " ".join("%.3f" % (math.sqrt(x / n) / 2) for x in serr)))


# ---------------------------------------------------------------- export
def export(module, args, path, in_names, out_names):
    import onnx
    torch.onnx.export(module, args, path, opset_version=OPSET, input_names=in_names,
                      output_names=out_names, do_constant_folding=True, export_params=True,
                      training=torch.onnx.TrainingMode.EVAL, verbose=False)
    m = onnx.load(path)
    m.doc_string = ""
    for node in m.graph.node:
        node.doc_string = ""
    onnx.checker.check_model(m)
    onnx.save(m, path)


def fmt_list(xs):
    return "[" + ", ".join(str(x) for x in xs) + "]"


def block_io(i):
    """-> (k_in, k_out): block i (0-based) maps hidden_k_in to hidden_k_out;
    block 0 continues from the encoder's layer 1."""
    return (1 if i == 0 else 2 * i), 2 + 2 * i


def write_manifest(path, costs, tensors, name):
    enc, exits, head = costs
    L = ["# Generated by tools/train/deer_tiny.py -- do not edit by hand;",
         "# rerun: tools/train/train.sh",
         "format: deer-vla/v1", "name: %s" % name, "cameras:"]
    for slot, tensor, hw in (("static", "static_image", STATIC_HW), ("gripper", "gripper_image", GRIPPER_HW)):
        L += ["  - slot: %s" % slot, "    tensor: %s" % tensor, "    width: %d" % hw,
              "    height: %d" % hw, "    channels: rgb", "    mean: %s" % fmt_list(MEAN),
              "    std: %s" % fmt_list(STD), "    resize: bilinear"]
    L += ["tokenizer:", "  kind: words", "  vocab: vocab.txt", "  lowercase: true",
          "  max_tokens: %d" % MAX_TOKENS, "  pad_id: 0", "  unk_id: 1",
          "  tokens_tensor: tokens", "  mask_tensor: token_mask",
          "encoder:", "  file: encoder.onnx",
          "  inputs: [static_image, gripper_image, tokens, token_mask]",
          "  outputs: [visual_tokens, hidden_1, feature_1]",
          "  gflops: %r" % enc[0], "  weight_bytes: %d" % enc[1],
          "reference_feature: feature_1", "exits:"]
    for i, (g, w) in enumerate(exits):
        k_in, k_out = block_io(i)
        L += ["  - file: block_%d.onnx" % (i + 1),
              "    inputs: [hidden_%d, visual_tokens, token_mask]" % k_in,
              "    outputs: [hidden_%d, feature_%d]" % (k_out, k_out),
              "    feature: feature_%d" % k_out, "    gflops: %r" % g, "    weight_bytes: %d" % w]
    L += ["head:", "  file: head.onnx", "  feature: head_feature", "  state_inputs: [h_in, c_in]",
          "  state_outputs: [h_out, c_out]", "  pose: pose", "  gripper: gripper",
          "  gflops: %r" % head[0], "  weight_bytes: %d" % head[1],
          "action:", "  names: [x, y, z, roll, pitch, yaw, gripper]",
          "  pose_scale: [1, 1, 1, 1, 1, 1]", "  gripper_threshold: 0.5", "tensors:"]
    for n, t in tensors.items():
        L.append("  %s: {dtype: %s, shape: %s}" % (n, t[0], fmt_list(t[1])))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def export_all(net, vocab, out, name):
    net.eval()
    tensors = {
        "static_image": ("float32", [1, 3, STATIC_HW, STATIC_HW]),
        "gripper_image": ("float32", [1, 3, GRIPPER_HW, GRIPPER_HW]),
        "tokens": ("int64", [1, MAX_TOKENS]),
        "token_mask": ("float32", [1, MAX_TOKENS]),
        "visual_tokens": ("float32", [1, N_VIS, D]),
    }
    for k in [1] + [block_io(i)[1] for i in range(N_EXITS)]:
        tensors["hidden_%d" % k] = ("float32", [1, MAX_TOKENS, D])
        tensors["feature_%d" % k] = ("float32", [1, D])
    tensors["head_feature"] = ("float32", [1, D])
    for n in ("h_in", "c_in", "h_out", "c_out"):
        tensors[n] = ("float32", [1, 1, H])
    tensors["pose"] = ("float32", [1, 6])
    tensors["gripper"] = ("float32", [1, 1])

    # Two layers per exit. Exit 1's are layer 1, which the encoder stage runs
    # for the reference feature, and layer 2: the paper counts every LLM
    # layer a step runs, so the encoder's figure leaves layer 1 out.
    block_g = [gflops(2 * decoder_layer_macs())] * N_EXITS
    block_w = [param_bytes(b) for b in net.blocks]
    costs = ((gflops(encoder_macs(net.encoder)), param_bytes(net.encoder)),
             [(sum(block_g[:i + 1]), sum(block_w[:i + 1])) for i in range(N_EXITS)],
             (gflops(head_macs()), param_bytes(net.head)))
    ids, mask = tokenize("pick up the red block", {w: i for i, w in enumerate(vocab)})
    ex_tok = torch.tensor([ids])
    ex_mask = torch.tensor([mask])
    export(net.encoder, (torch.zeros(1, 3, STATIC_HW, STATIC_HW), torch.zeros(1, 3, GRIPPER_HW, GRIPPER_HW),
                         ex_tok, ex_mask), os.path.join(out, "encoder.onnx"),
           ["static_image", "gripper_image", "tokens", "token_mask"],
           ["visual_tokens", "hidden_1", "feature_1"])
    for i, b in enumerate(net.blocks):
        k_in, k_out = block_io(i)
        export(b, (torch.zeros(1, MAX_TOKENS, D), torch.zeros(1, N_VIS, D), ex_mask),
               os.path.join(out, "block_%d.onnx" % (i + 1)),
               ["hidden_%d" % k_in, "visual_tokens", "token_mask"], ["hidden_%d" % k_out, "feature_%d" % k_out])
    export(net.head, (torch.zeros(1, D), torch.zeros(1, 1, H), torch.zeros(1, 1, H)),
           os.path.join(out, "head.onnx"), ["head_feature", "h_in", "c_in"], ["pose", "gripper", "h_out", "c_out"])
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    write_manifest(os.path.join(out, "manifest.yaml"), costs, tensors, name)
    return costs


# ---------------------------------------------------------------- parity goldens
def rms(a, b):
    return math.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(a, b)) / 6.0)


def f32(t):
    return [float(v) for v in t.detach().reshape(-1).numpy().astype(np.float32)]


@torch.no_grad()
def exit_rule(steps, net, thresholds, max_exit):
    """plain-Python DeeR exit rule over recorded steps (torch eager head)."""
    res = []
    state = None
    prev_ep = None
    for s in steps:
        if s["episode"] != prev_ep:
            state = (torch.zeros(1, 1, H), torch.zeros(1, 1, H))
            prev_ep = s["episode"]
        feats = s["features"]

        def cand(i):
            p, g, h, c = net.head(feats[i], state[0], state[1])
            return {"pose": f32(p), "grip": f32(g)[0], "state": (h, c)}
        prev = cand(0)
        dists = []
        for i in range(1, max_exit + 1):
            c = cand(i)
            d = rms(c["pose"], prev["pose"])
            dists.append(d)
            if d <= thresholds[i - 1] or i == max_exit:
                break
            prev = c
        state = c["state"]
        res.append({"exit": i, "pose": c["pose"], "gripper_prob": c["grip"], "distances": dists})
    return res


@torch.no_grad()
def write_parity(net, vocab, sample_bag, out, n_episodes, log):
    """torch eager reference for the first steps of the sample bag."""
    net.eval()
    index = {w: i for i, w in enumerate(vocab)}
    eps = mcap_cdr.load_episodes(sample_bag)[:n_episodes]
    steps = []
    for k, e in enumerate(eps):
        ids, mask = tokenize(e["instruction"], index)
        for t in range(len(e["pose"])):
            feats = net.features(images_to_tensor(e["static"][t:t + 1]), images_to_tensor(e["gripper"][t:t + 1]),
                                 torch.tensor([ids]), torch.tensor([mask]))
            steps.append({"episode": k, "stamp": e["stamps"][t], "features": feats})
    full = exit_rule(steps, net, [-1.0] * N_EXITS, N_EXITS)
    cols = [sorted(r["distances"][i] for r in full) for i in range(N_EXITS)]
    runs = [{"name": "full_depth", "thresholds": [-1.0] * N_EXITS, "max_exit": N_EXITS, "results": full}]
    # fixed exits alone and DeeR at a few quantile threshold sets, nudged so
    # that no distance lies within 1% of its threshold.
    runs.append({"name": "exit_1_only", "thresholds": [1e30] * N_EXITS, "max_exit": 1,
                 "results": exit_rule(steps, net, [1e30] * N_EXITS, 1)})
    for q in (0.3, 0.5, 0.7):
        thr = []
        for i in range(N_EXITS - 1):
            col = cols[i]
            t = col[min(len(col) - 1, int(q * len(col)))]
            while any(abs(d - t) <= 0.01 * t for d in col):
                t *= 1.013
            thr.append(t)
        thr.append(1e30)
        runs.append({"name": "deer_q%02d" % int(q * 100), "thresholds": thr, "max_exit": N_EXITS,
                     "results": exit_rule(steps, net, thr, N_EXITS)})
    for r in runs:
        hist = [0] * N_EXITS
        for x in r["results"]:
            hist[x["exit"] - 1] += 1
        log("parity run %-12s exits %s" % (r["name"], hist))
    doc = {"generator": "tools/train/deer_tiny.py",
           "source": "torch eager stages + plain-Python exit rule (rms metric)",
           "bag": os.path.relpath(os.path.abspath(sample_bag), REPO_ROOT),
           "episodes": n_episodes, "tolerance": 1e-4, "steps": len(steps),
           "stamps": [s["stamp"] for s in steps], "runs": runs}
    with open(os.path.join(out, "parity.json"), "w") as f:
        f.write("{\n")
        keys = list(doc)
        for j, k in enumerate(keys):
            if k != "runs":
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(doc[k])))
        f.write(' "runs": [\n')
        for j, r in enumerate(runs):
            f.write('  {"name": %s, "thresholds": %s, "max_exit": %d, "results": [\n'
                    % (json.dumps(r["name"]), json.dumps(r["thresholds"]), r["max_exit"]))
            f.write(",\n".join("   " + json.dumps(x) for x in r["results"]))
            f.write("\n  ]}%s\n" % ("," if j < len(runs) - 1 else ""))
        f.write(" ]\n}\n")


# ---------------------------------------------------------------- main
def log_params(net, log):
    log("params: encoder %d, blocks %d, head %d" % (
        param_bytes(net.encoder) // 4, sum(param_bytes(b) for b in net.blocks) // 4, param_bytes(net.head) // 4))


def export_untrained(args, log):
    """Exports the model's structure with random weights: a timing variant
    (e.g. width 512), where layer compute dominates ONNX Runtime's per-call
    overhead as in a real VLA. Its actions mean nothing."""
    vocab = build_vocab(e["instruction"] for e in mcap_cdr.load_episodes(args.sample))
    net = Net(len(vocab))
    net.eval()
    log("untrained, width %d" % D)
    log_params(net, log)
    costs = export_all(net, vocab, args.out, args.name)
    log("costs: encoder %r, exits %r, head %r" % costs)


def main():
    global D, MLP_HIDDEN
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", nargs="+", help="demonstration bags for training (required unless --untrained)")
    ap.add_argument("--val", help="held-out demonstration bag (teacher-forced report)")
    ap.add_argument("--sample", required=True, help="sample bag for the parity goldens")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="deer_tiny")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--huber", type=float, default=0.2)
    ap.add_argument("--grip-w", type=float, default=0.01)
    ap.add_argument("--aux-w", type=float, default=0.5)
    ap.add_argument("--state-w", type=float, default=2.0, help="weight of the true-state auxiliary loss")
    ap.add_argument("--pretrain-steps", type=int, default=800, help="vision pretraining steps on the true state")
    ap.add_argument("--pretrain-batch", type=int, default=64)
    ap.add_argument("--pretrain-lr", type=float, default=2e-3)
    ap.add_argument("--max-episodes", type=int, default=0, help="use only the first N episodes of each training bag")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parity-episodes", type=int, default=2)
    ap.add_argument("--release-w", type=float, default=1.0,
                    help="weight of the gripper loss at release steps (open after a close); 1: unweighted")
    ap.add_argument("--train-ref", action="store_true",
                    help="sample the reference feature (layer 1) among the exits the shared head trains on")
    ap.add_argument("--exit-weights", help="comma-separated sampling weights of the exits the shared head trains on (default: uniform)")
    ap.add_argument("--checkpoint", help="save/load the trained weights here")
    ap.add_argument("--init", help="start from these weights (a --checkpoint of an earlier round)")
    ap.add_argument("--skip-train", action="store_true", help="load --checkpoint instead of training")
    ap.add_argument("--width", type=int, default=D,
                    help="token and decoder width (the trained model's is %d)" % D)
    ap.add_argument("--untrained", action="store_true",
                    help="export the structure with its random initial weights, no training and no parity "
                    "goldens (with --width 512: the wide timing variant); the vocabulary comes from --sample")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="seed of initialisation, batches and exit sampling (runs differ a lot between seeds)")
    args = ap.parse_args()
    if not args.train and not args.untrained:
        ap.error("--train is required unless --untrained")
    # Every layer reads the width from these globals when it is built, and
    # the cost functions when they run.
    D, MLP_HIDDEN = args.width, 2 * args.width

    warnings.filterwarnings("ignore", category=UserWarning)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log_lines = []

    def log(s):
        print(s, flush=True)
        log_lines.append(s)

    t0 = time.time()
    if args.untrained:
        export_untrained(args, log)
        return
    episodes = []
    for path in args.train:
        eps = mcap_cdr.load_episodes(path)
        if args.max_episodes:
            eps = eps[:args.max_episodes]
        episodes += eps
    vocab = build_vocab(e["instruction"] for e in episodes)
    index = {w: i for i, w in enumerate(vocab)}
    data = Data(episodes, index)
    log("train: %d episodes, %d steps, vocab %d (load %.0fs)" % (
        len(episodes), sum(e["n"] for e in data.eps), len(vocab), time.time() - t0))
    net = Net(len(vocab))
    log_params(net, log)
    if args.skip_train:
        net.load_state_dict(torch.load(args.checkpoint))
    else:
        net.train()
        if args.init:
            # a later round (DAgger): continue from the earlier weights
            net.load_state_dict(torch.load(args.init))
            log("initialised from %s" % args.init)
        elif data.has_state and args.pretrain_steps > 0:
            pretrain_vision(net, data, args, log)
        train(net, data, args, log)
        if args.checkpoint:
            torch.save(net.state_dict(), args.checkpoint)
    net.eval()
    if args.val:
        evaluate(net, Data(mcap_cdr.load_episodes(args.val), index), log)
    costs = export_all(net, vocab, args.out, args.name)
    log("costs: encoder %r, exits %r, head %r" % costs)
    write_parity(net, vocab, args.sample, args.out, args.parity_episodes, log)
    log("total %.0fs" % (time.time() - t0))
    with open(os.path.join(args.out, "train_log.txt"), "w") as f:
        f.write("\n".join(log_lines) + "\n")


if __name__ == "__main__":
    main()
