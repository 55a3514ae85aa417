"""The staged model (docs/model-contract.md): encoder, one block per exit,
the shared head; their costs as the paper counts them; CLIP's image
preprocessing and the exit rule's distance for the torch reference run."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import deer_arch as A

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class Encoder(nn.Module):
    """Both cameras through the ViT (one batch) and the resampler, the
    prompt's embedding, decoder layer 0 and the reference feature."""

    def __init__(self, vit, perceiver, perceiver_gripper, wte, wpe, layer0, lm, media_id, pooling):
        super().__init__()
        self.vit, self.perceiver, self.perceiver_gripper = vit, perceiver, perceiver_gripper
        self.wte = nn.Parameter(wte, requires_grad=False)
        self.wpe = nn.Parameter(wpe, requires_grad=False) if wpe is not None else None
        self.layer0 = layer0
        self.lm, self.media_id, self.pooling = lm, media_id, pooling

    def forward(self, static_image, gripper_image, tokens, token_mask):
        patches = self.vit(torch.cat([static_image, gripper_image], dim=0))
        s = self.perceiver(patches[0:1])
        g = (self.perceiver_gripper or self.perceiver)(patches[1:2])
        vis = torch.cat([s, g], dim=1)
        x = F.embedding(tokens, self.wte)
        if self.wpe is not None:
            x = x + self.wpe[: tokens.shape[1]].unsqueeze(0)
        h = self.layer0(x, vis, A.text_time(tokens, self.media_id), A.attention_bias(self.lm, token_mask))
        return vis, h, A.pool(h, token_mask, self.pooling)


class Block(nn.Module):
    """The decoder layers from the previous exit to this one."""

    def __init__(self, layers, lm, media_id, pooling):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.lm, self.media_id, self.pooling = lm, media_id, pooling
        self.uses_vision = any(l.xattn is not None for l in layers)

    def forward(self, hidden, token_mask, visual_tokens=None, tokens=None):
        tt = A.text_time(tokens, self.media_id) if self.uses_vision else None
        bias = A.attention_bias(self.lm, token_mask)
        for layer in self.layers:
            hidden = layer(hidden, visual_tokens, tt, bias)
        return hidden, A.pool(hidden, token_mask, self.pooling)


# ---------------------------------------------------------------- costs


def params_bytes(module):
    return 4 * sum(p.numel() for p in module.parameters())


def vit_macs(vit):
    w = vit.conv1.weight.shape[0]
    p = vit.conv1.weight.shape[-1]
    n = vit.positional_embedding.shape[0]
    conv = (n - 1) * w * 3 * p * p
    per_block = n * 12 * w * w + 2 * n * n * w
    return conv + len(vit.transformer.resblocks) * per_block


def perceiver_macs(perc, n_media):
    lat, dim = perc.latents.shape
    total = 0
    for attn, ff in perc.layers:
        inner = attn.to_q.weight.shape[0]
        kv = n_media + lat
        total += lat * dim * inner + kv * dim * 2 * inner + 2 * lat * kv * inner + lat * inner * dim
        total += 2 * lat * dim * ff[1].weight.shape[0]
    return total


def layer_macs(layer, lm, t, n_vis):
    """Multiply-adds of one decoder layer at t text tokens: projections, MLP
    and attention matmuls (scores and weighted sums over all t keys), plus
    its gated cross-attention to the n_vis visual tokens. Norms, softmax
    and element-wise work are not counted (fvcore's convention, as the
    DeeR code counts)."""
    d = lm.d_model
    macs = t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * d * lm.expansion
    x = layer.xattn
    if x is not None:
        inner = x.attn.to_q.weight.shape[0]
        vis = x.attn.to_kv.weight.shape[1]
        macs += t * d * inner + n_vis * vis * 2 * inner + 2 * t * n_vis * inner + t * inner * d
        macs += 2 * t * d * x.ff[1].weight.shape[0]
    return macs


def head_macs(head):
    total = 0
    for name, p in head.named_parameters():
        if p.dim() == 2:  # Linear and LSTM weight matrices, one row per output
            total += p.shape[0] * p.shape[1]
    return total


# ---------------------------------------------------------------- preprocessing


def clip_preprocess(rgb, size):
    """CLIP's image transform, as RoboFlamingo applies it: PIL bicubic resize
    of the shorter side to size, centre crop, /255, OpenAI mean and std.
    Returns the cropped uint8 image and the float tensor [1,3,size,size]."""
    im = Image.fromarray(rgb)
    w, h = im.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    im = im.resize((nw, nh), Image.BICUBIC)
    top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
    im = im.crop((left, top, left + size, top + size))
    u8 = np.asarray(im, dtype=np.uint8)
    x = u8.astype(np.float32) / 255.0
    x = (x - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return u8, torch.from_numpy(x.transpose(2, 0, 1).copy()).unsqueeze(0)


# ---------------------------------------------------------------- exit rule


def rms(a, b):
    """The DeeR code's distance: RMS of the six pose values' differences."""
    d = np.asarray(a[:6], np.float64) - np.asarray(b[:6], np.float64)
    return float(np.sqrt(np.mean(d * d)))
