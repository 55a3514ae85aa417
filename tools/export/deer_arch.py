"""Torch modules of a DeeR-VLA policy (RoboFlamingo/OpenFlamingo + MPT), as
the exporter runs and exports them.

Written from the public architecture (the DeeR-VLA paper and repository,
OpenFlamingo, open_clip, MosaicML's MPT): parameter names below follow the
original state-dict key layout, so the original weights load into these
modules with strict key checking. Everything here runs at batch 1 with static
shapes; the text is right-padded to max_tokens and `token_mask` marks the
real tokens (causal attention means padding never changes a real token).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# OpenFlamingo's attention geometry (PerceiverResampler, MaskedCrossAttention):
# heads of 64 channels. The head count is read from the weights' shapes.
FLAMINGO_DIM_HEAD = 64


class Norm(nn.Module):
    """LayerNorm whose bias may be absent (MPT's no_bias drops it)."""

    def __init__(self, dim, bias=True, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None
        # ONNX Runtime 1.24 crashes creating a session with a bias-less
        # LayerNormalization node, so an absent bias is exported as zeros.
        self.register_buffer("zero_bias", torch.zeros(dim), persistent=False)
        self.eps = eps

    def forward(self, x):
        bias = self.bias if self.bias is not None else self.zero_bias
        return F.layer_norm(x, (x.shape[-1],), self.weight, bias, self.eps)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


# ---------------------------------------------------------------- vision


class ResidualAttentionBlock(nn.Module):
    """One OpenAI CLIP ViT block (keys ln_1, attn.in_proj_*, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj)."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.Module()
        self.attn.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
        self.attn.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.attn.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def forward(self, x):
        b, n, w = x.shape
        h = self.heads
        qkv = F.linear(self.ln_1(x), self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.reshape(b, n, 3, h, w // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax((q * (w // h) ** -0.5) @ k.transpose(-1, -2), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(b, n, w)
        x = x + self.attn.out_proj(o)
        return x + self.mlp(self.ln_2(x))


class VisionTransformer(nn.Module):
    """OpenAI CLIP's visual tower; forward gives the patch tokens before ln_post,
    which is what RoboFlamingo feeds the resampler (visual(x)[1])."""

    def __init__(self, width, layers, patch, grid, out_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList(
            ResidualAttentionBlock(width, width // 64) for _ in range(layers))
        # ln_post and proj only act on the pooled class token, which the
        # policy does not use; they are kept so the state dict loads whole.
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.zeros(width, out_dim))

    def forward(self, img):
        x = self.conv1(img).flatten(2).transpose(1, 2)
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        for blk in self.transformer.resblocks:
            x = blk(x)
        return x[:, 1:]


# ---------------------------------------------------------------- resampler


def flamingo_ff(dim, inner):
    """OpenFlamingo's FeedForward: LayerNorm, Linear, GELU, Linear (keys 0, 1, 3)."""
    return nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, inner, bias=False), nn.GELU(),
                         nn.Linear(inner, dim, bias=False))


def _heads(x, h):
    b, n, c = x.shape
    return x.reshape(b, n, h, c // h).transpose(1, 2)


class PerceiverAttention(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.heads = inner // FLAMINGO_DIM_HEAD
        self.norm_media = nn.LayerNorm(dim)
        self.norm_latents = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, x, latents):
        x = self.norm_media(x)
        latents = self.norm_latents(latents)
        h = self.heads
        q = _heads(self.to_q(latents), h) * FLAMINGO_DIM_HEAD ** -0.5
        k, v = self.to_kv(torch.cat([x, latents], dim=1)).chunk(2, dim=-1)
        att = torch.softmax(q @ _heads(k, h).transpose(-1, -2), dim=-1)
        o = (att @ _heads(v, h)).transpose(1, 2).flatten(2)
        return self.to_out(o)


class PerceiverResampler(nn.Module):
    def __init__(self, dim, depth, num_latents, inner, ff_inner):
        super().__init__()
        self.latents = nn.Parameter(torch.zeros(num_latents, dim))
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim, inner), flamingo_ff(dim, ff_inner)]) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        lat = self.latents.unsqueeze(0).expand(x.shape[0], -1, -1)
        for attn, ff in self.layers:
            lat = attn(x, lat) + lat
            lat = ff(lat) + lat
        return self.norm(lat)


# ---------------------------------------------------------------- decoder


class MaskedCrossAttention(nn.Module):
    def __init__(self, dim, dim_visual, inner):
        super().__init__()
        self.heads = inner // FLAMINGO_DIM_HEAD
        self.norm = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim_visual, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, x, media, text_time):
        """text_time [1,T]: how many <image> tokens precede each text token
        (inclusive). With one image, a token attends to it when text_time is
        1; a token before any image gets no visual input at all."""
        h = self.heads
        q = _heads(self.to_q(self.norm(x)), h) * FLAMINGO_DIM_HEAD ** -0.5
        k, v = self.to_kv(media).chunk(2, dim=-1)
        sim = q @ _heads(k, h).transpose(-1, -2)
        sees = (text_time == 1).reshape(1, 1, -1, 1)
        sim = sim.masked_fill(~sees, -torch.finfo(torch.float32).max)
        att = torch.softmax(sim, dim=-1)
        att = att.masked_fill((text_time == 0).reshape(1, 1, -1, 1), 0.0)
        o = (att @ _heads(v, h)).transpose(1, 2).flatten(2)
        return self.to_out(o)


class GatedCrossAttentionBlock(nn.Module):
    def __init__(self, dim, dim_visual, inner, ff_inner):
        super().__init__()
        self.attn = MaskedCrossAttention(dim, dim_visual, inner)
        self.attn_gate = nn.Parameter(torch.zeros(1))
        self.ff = flamingo_ff(dim, ff_inner)
        self.ff_gate = nn.Parameter(torch.zeros(1))

    def forward(self, x, media, text_time):
        x = self.attn(x, media, text_time) * self.attn_gate.tanh() + x
        return self.ff(x) * self.ff_gate.tanh() + x


class MPTAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.Wqkv = nn.Linear(d, 3 * d, bias=cfg.bias)
        if cfg.qk_ln:
            self.q_ln = Norm(d, cfg.bias)
            self.k_ln = Norm(d, cfg.bias)
        self.out_proj = nn.Linear(d, d, bias=cfg.bias)

    def forward(self, x, attn_bias):
        cfg = self.cfg
        qkv = self.Wqkv(x)
        if cfg.clip_qkv:
            qkv = qkv.clamp(min=-cfg.clip_qkv, max=cfg.clip_qkv)
        q, k, v = qkv.chunk(3, dim=2)
        if cfg.qk_ln:
            q, k = self.q_ln(q), self.k_ln(k)
        h = cfg.n_heads
        w = (_heads(q, h) @ _heads(k, h).transpose(-1, -2)) * cfg.softmax_scale + attn_bias
        o = (torch.softmax(w, dim=-1) @ _heads(v, h)).transpose(1, 2).flatten(2)
        return self.out_proj(o)


class MPTBlock(nn.Module):
    """An MPT decoder block under its checkpoint's own names: MPT-1B's
    mosaic_gpt (ln_1, attn, ln_2, mlp.mlp_up/mlp_down) or MPT-7B's mpt
    (norm_1, attn, norm_2, ffn.up_proj/down_proj)."""

    def __init__(self, cfg):
        super().__init__()
        d, hidden = cfg.d_model, cfg.d_model * cfg.expansion
        self.names = cfg.names
        setattr(self, cfg.names["norm_1"], Norm(d, cfg.bias))
        self.attn = MPTAttention(cfg)
        setattr(self, cfg.names["norm_2"], Norm(d, cfg.bias))
        mlp = nn.Module()
        setattr(mlp, cfg.names["up"], nn.Linear(d, hidden, bias=cfg.bias))
        setattr(mlp, cfg.names["down"], nn.Linear(hidden, d, bias=cfg.bias))
        setattr(self, cfg.names["mlp"], mlp)

    def forward(self, x, attn_bias):
        n = self.names
        x = x + self.attn(getattr(self, n["norm_1"])(x), attn_bias)
        mlp = getattr(self, n["mlp"])
        m = getattr(self, n["norm_2"])(x)
        return x + getattr(mlp, n["down"])(F.gelu(getattr(mlp, n["up"])(m)))


def alibi_slopes(n_heads, bias_max):
    """ALiBi slopes as MPT computes them (a power of two of heads, interleaved
    when the head count is not one)."""
    n = 2 ** math.ceil(math.log2(n_heads))
    m = torch.arange(1, n + 1, dtype=torch.float32) * (bias_max / n)
    s = 1.0 / torch.pow(2.0, m)
    if n != n_heads:
        s = torch.cat([s[1::2], s[::2]])[:n_heads]
    return s


def attention_bias(cfg, token_mask):
    """[1,H,T,T]: ALiBi (or zero), then -inf-like where a key is in the future
    or is padding, as MPT's torch attention masks them."""
    t = token_mask.shape[1]
    pos = torch.arange(t, dtype=torch.float32)
    if cfg.alibi:
        rel = (pos - (t - 1)).reshape(1, 1, 1, t)
        bias = rel * alibi_slopes(cfg.n_heads, cfg.alibi_bias_max).reshape(1, -1, 1, 1)
        bias = bias.expand(1, cfg.n_heads, t, t)
    else:
        bias = torch.zeros(1, cfg.n_heads, t, t)
    allowed = (pos.reshape(1, t) <= pos.reshape(t, 1)).reshape(1, 1, t, t) & (token_mask > 0.5).reshape(1, 1, 1, t)
    return bias.masked_fill(~allowed, torch.finfo(torch.float32).min)


class DecoderLayer(nn.Module):
    """RoboFlamingo's FlamingoLayer: gated cross-attention (on the layers that
    have one), then the language model's block."""

    def __init__(self, cfg, xattn):
        super().__init__()
        self.xattn = xattn
        self.block = MPTBlock(cfg)

    def forward(self, x, media, text_time, attn_bias):
        if self.xattn is not None:
            x = self.xattn(x, media, text_time)
        return self.block(x, attn_bias)


def pool(hidden, token_mask, mode):
    """The head's pooling over the real text tokens: max (DeeR's default) or mean."""
    m = (token_mask > 0.5).unsqueeze(-1)
    if mode == "max":
        return hidden.masked_fill(~m, -torch.finfo(torch.float32).max).amax(dim=1)
    w = token_mask.unsqueeze(-1)
    return (hidden * w).sum(dim=1) / w.sum(dim=1)


def text_time(tokens, media_id):
    return torch.cumsum((tokens == media_id).to(torch.int64), dim=1)


# ---------------------------------------------------------------- head


class LayerNormLSTM(nn.Module):
    """DeeR's lstm_layernorm recurrence: one-layer LSTMs, each followed by a
    LayerNorm (and a Dropout between them): keys layers.{3i}.*, layers.{3i+1}.*."""

    def __init__(self, d_in, hidden, layers):
        super().__init__()
        mods = []
        for i in range(layers):
            mods += [nn.LSTM(d_in if i == 0 else hidden, hidden, 1, batch_first=True), nn.LayerNorm(hidden)]
            if i < layers - 1:
                mods.append(nn.Dropout(0.0))
        self.layers = nn.ModuleList(mods)
        self.n = layers

    def forward(self, x, state):
        h, c = state
        hs, cs = [], []
        for i in range(self.n):
            x, (hi, ci) = self.layers[3 * i](x, (h[i:i + 1], c[i:i + 1]))
            x = self.layers[3 * i + 1](x)
            hs.append(hi)
            cs.append(ci)
        return x, (torch.cat(hs, 0), torch.cat(cs, 0))


def mlp_layout(flags, out_dim, dims):
    """The nn.Sequential DeeR builds for MLPTanhHead / MLPSigmoidHead, as a
    list of ("linear", in, out) | ("ln", n) | ("relu",) | ("drop",) | ("id",)
    | ("out",). `dims` are the hidden widths, 1024/512/256 in DeeR."""
    mode, ln, drop = flags["dropout_mode"], flags["mlp_layernorm"], flags["exit_dropout"]
    d_in = flags["hidden_size"]
    if mode in ("last", "layerwise"):
        n = flags["mlp_num_hidden_layers"]
        hidden = dims[:n]
        out = [("drop",)] if mode == "layerwise" else []
        cur = d_in
        for i, d in enumerate(hidden):
            out += [("linear", cur, d), ("ln", d) if ln else ("id",), ("relu",)]
            if mode == "layerwise" or i == n - 1:
                out.append(("drop",))
            cur = d
        return out + [("linear", cur, out_dim), ("out",)]
    # wo_last: the fixed three hidden layers
    out, cur = [], d_in
    for d in dims[:3]:
        if ln or drop > 0:
            out.append(("drop",))
        out.append(("linear", cur, d))
        if ln:
            out.append(("ln", d))
        out.append(("relu",))
        cur = d
    return out + [("linear", cur, out_dim), ("out",)]


def build_mlp(layout, final):
    mods = []
    for e in layout:
        kind = e[0]
        mods.append({"linear": lambda: nn.Linear(e[1], e[2]), "ln": lambda: nn.LayerNorm(e[1]),
                     "relu": nn.ReLU, "drop": lambda: nn.Dropout(0.0), "id": nn.Identity,
                     "out": final}[kind]())
    return nn.Sequential(*mods)


class Head(nn.Module):
    """DeeR's DeterministicDecoder at inference: the pooled feature of one
    step through the LSTM with the committed state, then the pose MLP (tanh)
    and the gripper MLP (sigmoid)."""

    def __init__(self, flags, d_model, hidden, dims):
        super().__init__()
        layers = flags["lstm_num_layers"]
        if flags["lstm_layernorm"]:
            self.rnn = LayerNormLSTM(d_model, hidden, layers)
        else:
            self.rnn = nn.LSTM(d_model, hidden, layers, batch_first=True)
        f = dict(flags, hidden_size=hidden)
        self.actions = nn.Module()
        self.actions.mlp = build_mlp(mlp_layout(f, 6, dims), nn.Tanh)
        self.gripper = nn.Module()
        self.gripper.mlp = build_mlp(mlp_layout(f, 1, dims), nn.Sigmoid)

    def forward(self, feature, h, c):
        y, (h2, c2) = self.rnn(feature.unsqueeze(1), (h, c))
        y = y[:, 0]
        return self.actions.mlp(y), self.gripper.mlp(y), h2, c2
