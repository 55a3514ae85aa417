"""Reading a user's DeeR-VLA files into the exporter's torch modules.

Inputs, as a user has them: the DeeR checkpoint (.pth: `model_state_dict`
with the `module.` prefix, holding only the trained parts, plus the training
flags), the language model's folder (config.json + pytorch_model.bin, its
sharded index, or .safetensors), OpenAI's CLIP ViT-L/14 weights (a state
dict or OpenAI's TorchScript archive) and the GPT-NeoX tokenizer.json.
Anything not understood fails here, before any export, naming the keys or
the flag.
"""

import json
import os
import struct

import numpy as np
import torch

import deer_arch as A


class ExportError(Exception):
    pass


# ---------------------------------------------------------------- flags

# The defaults DeeR's evaluation uses when a checkpoint lacks a flag.
FLAG_DEFAULTS = {
    "head_type": "deterministic",
    "early_exit_layer": -1,
    "multi_exit": False,
    "share_exit": False,
    "exit_interval": 1,
    "exit_dropout": 0.0,
    "lstm_dropout": 0.0,
    "dropout_mode": "wo_last",
    "mlp_layernorm": False,
    "lstm_layernorm": False,
    "mlp_num_hidden_layers": 3,
    "lstm_num_layers": 4,
    "pooling": "max",
}

# DeeR's MLP heads: hidden widths 1024, 512, 256 (read from the weights here).
HEAD_MLP_DIMS = 3


def read_flags(ckpt, n_layers):
    f = {k: ckpt.get(k, v) for k, v in FLAG_DEFAULTS.items()}
    if "layernorm" in ckpt:  # older checkpoints' name for mlp_layernorm
        f["mlp_layernorm"] = ckpt["layernorm"]
    if f["head_type"] != "deterministic":
        raise ExportError(f"flag head_type={f['head_type']!r}: only the deterministic LSTM head is supported")
    if f["dropout_mode"] not in ("layerwise", "last", "wo_last"):
        raise ExportError(f"flag dropout_mode={f['dropout_mode']!r}: want layerwise, last or wo_last")
    if f["dropout_mode"] in ("layerwise", "last") and not 1 <= f["mlp_num_hidden_layers"] <= 3:
        raise ExportError(f"flag mlp_num_hidden_layers={f['mlp_num_hidden_layers']}: want 1..3")
    if f["dropout_mode"] == "wo_last" and f["mlp_layernorm"] and f["mlp_num_hidden_layers"] != 3:
        raise ExportError("flag mlp_num_hidden_layers=%d with dropout_mode='wo_last' and mlp_layernorm: "
                          "DeeR builds no such gripper head (it needs 3)" % f["mlp_num_hidden_layers"])
    if f["pooling"] not in ("max", "mean", "avg"):
        raise ExportError(f"flag pooling={f['pooling']!r}: want max or mean")
    f["pooling"] = "max" if f["pooling"] == "max" else "mean"
    if not isinstance(f["lstm_num_layers"], int) or f["lstm_num_layers"] < 1:
        raise ExportError(f"flag lstm_num_layers={f['lstm_num_layers']!r}: want a positive integer")
    eel = f["early_exit_layer"]
    if eel < 0:
        eel += n_layers
    if not 0 <= eel < n_layers:
        raise ExportError(f"flag early_exit_layer={f['early_exit_layer']}: the language model has {n_layers} layers")
    f["early_exit_layer"] = eel
    iv = f["exit_interval"]
    if not isinstance(iv, int) or iv < 1:
        raise ExportError(f"flag exit_interval={iv!r}: want a positive integer")
    # DeeR's exits: every exit_interval layers, plus the last kept layer.
    exits = list(range(iv - 1, eel, iv)) + [eel]
    if exits[0] == 0:
        raise ExportError("flag exit_interval=1 puts an exit on layer 0, whose output is the reference "
                          "feature of exit 1; the staged contract needs at least one layer per exit")
    f["exit_layers"] = exits
    return f


# ---------------------------------------------------------------- language model config


class LMConfig:
    """The decoder's architecture, read from the language model's config.json."""

    def __init__(self, path):
        with open(path) as fh:
            c = json.load(fh)
        self.model_type = c.get("model_type")
        need = lambda k, d=c: _need(d, k, path)
        self.d_model = need("d_model")
        self.n_heads = need("n_heads")
        self.n_layers = need("n_layers")
        self.bias = not c.get("no_bias", False)
        self.vocab_size = c.get("vocab_size")
        if self.model_type == "mosaic_gpt":  # MPT-1B (DeeR-3B)
            self.expansion = need("mlp_ratio")
            self.alibi = c.get("alibi", False)
            self.alibi_bias_max = c.get("alibi_bias_max", 8)
            self.qk_ln = c.get("attn_qk_ln", False)
            self.clip_qkv = c.get("attn_clip_qkv")
            self.softmax_scale = c.get("softmax_scale")
            self.names = {"norm_1": "ln_1", "norm_2": "ln_2", "mlp": "mlp", "up": "mlp_up", "down": "mlp_down"}
            self.final_norm = "ln_f"
            if c.get("prefix_lm"):
                raise ExportError(f"{path}: prefix_lm is not supported")
        elif self.model_type == "mpt":  # MPT-7B (DeeR-9B)
            self.expansion = c.get("expansion_ratio", 4)
            a = c.get("attn_config", {})
            if a.get("attn_type", "multihead_attention") != "multihead_attention":
                raise ExportError(f"{path}: attn_config.attn_type={a['attn_type']!r} is not supported")
            if a.get("kv_n_heads", self.n_heads) != self.n_heads or a.get("rope") or a.get("prefix_lm"):
                raise ExportError(f"{path}: grouped-query, rotary or prefix-LM attention is not supported")
            self.alibi = a.get("alibi", False)
            self.alibi_bias_max = a.get("alibi_bias_max", 8)
            self.qk_ln = a.get("qk_ln", False)
            self.clip_qkv = a.get("clip_qkv")
            self.softmax_scale = a.get("softmax_scale")
            norm = c.get("norm_type", "low_precision_layernorm")
            if norm not in ("layernorm", "low_precision_layernorm"):
                raise ExportError(f"{path}: norm_type={norm!r} is not supported (layernorm only)")
            ffn = c.get("ffn_config", {}).get("ffn_type", "mptmlp")
            if ffn != "mptmlp":
                raise ExportError(f"{path}: ffn_config.ffn_type={ffn!r} is not supported")
            self.names = {"norm_1": "norm_1", "norm_2": "norm_2", "mlp": "ffn", "up": "up_proj", "down": "down_proj"}
            self.final_norm = "norm_f"
        else:
            raise ExportError(f"{path}: model_type {self.model_type!r} is not an MPT config "
                              "(want mosaic_gpt for MPT-1B or mpt for MPT-7B)")
        if self.d_model % self.n_heads:
            raise ExportError(f"{path}: d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if self.softmax_scale is None:
            self.softmax_scale = (self.d_model / self.n_heads) ** -0.5
        # MosaicGPT embeds positions only without ALiBi; MPT follows its
        # learned_pos_emb (default true), ALiBi or not.
        self.learned_pos = c.get("learned_pos_emb", True) if self.model_type == "mpt" else not self.alibi

    def describe(self):
        return (f"{self.model_type}: {self.n_layers} layers, d_model {self.d_model}, {self.n_heads} heads, "
                f"MLP x{self.expansion}, {'ALiBi' if self.alibi else 'learned positions'}, "
                f"{'QK-LayerNorm, ' if self.qk_ln else ''}{'biases' if self.bias else 'no biases'}")


def _need(d, k, path):
    if k not in d:
        raise ExportError(f"{path}: no {k!r}")
    return d[k]


# ---------------------------------------------------------------- weight files

_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path, want=None):
    """A .safetensors file as float32 tensors (Debian has no reader: the format
    is an 8-byte header length, a JSON header and raw little-endian data)."""
    out = {}
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        base = 8 + n
        for k, meta in header.items():
            if k == "__metadata__" or (want is not None and not want(k)):
                continue
            a, b = meta["data_offsets"]
            fh.seek(base + a)
            raw = fh.read(b - a)
            if meta["dtype"] == "BF16":
                arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
            elif meta["dtype"] in _ST_DTYPES:
                arr = np.frombuffer(raw, dtype=_ST_DTYPES[meta["dtype"]])
            else:
                raise ExportError(f"{path}: tensor {k} has dtype {meta['dtype']}")
            out[k] = torch.from_numpy(arr.astype(np.float32).reshape(meta["shape"]))
    return out


def load_lm_weights(lm_dir, want):
    """The language model's tensors whose names pass want(), as float32,
    shard by shard so a sharded 7B model never sits in memory whole."""
    files = []
    for index in ("pytorch_model.bin.index.json", "model.safetensors.index.json"):
        p = os.path.join(lm_dir, index)
        if os.path.exists(p):
            with open(p) as fh:
                files = sorted(set(json.load(fh)["weight_map"].values()))
            break
    if not files:
        for name in ("pytorch_model.bin", "model.safetensors", "pytorch_model.pt"):
            if os.path.exists(os.path.join(lm_dir, name)):
                files = [name]
                break
    if not files:
        raise ExportError(f"{lm_dir}: no pytorch_model.bin, model.safetensors or their .index.json")
    out = {}
    for name in files:
        p = os.path.join(lm_dir, name)
        if name.endswith(".safetensors"):
            out.update(read_safetensors(p, want))
            continue
        sd = torch.load(p, map_location="cpu")
        for k in list(sd):
            v = sd.pop(k)
            if want(k):
                out[k] = v.float()
        del sd
    return out


def load_clip_visual(path):
    """The visual tower's tensors of OpenAI CLIP (a state dict, a checkpoint
    holding one under "state_dict", or OpenAI's TorchScript archive)."""
    try:
        sd = torch.load(path, map_location="cpu")
    except RuntimeError:
        sd = torch.jit.load(path, map_location="cpu").state_dict()
    if isinstance(sd, torch.jit.ScriptModule):
        sd = sd.state_dict()
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    out = {}
    for k, v in sd.items():
        k = k[len("module."):] if k.startswith("module.") else k
        if k.startswith("visual."):
            out[k[len("visual."):]] = v.float()
    if not out:
        raise ExportError(f"{path}: no visual.* tensors (want OpenAI CLIP ViT weights)")
    return out


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt:
        raise ExportError(f"{path}: not a DeeR checkpoint (no model_state_dict)")
    for k in [k for k in ckpt if "optimizer" in k or "scheduler" in k]:
        del ckpt[k]
    sd = {}
    for k, v in ckpt.pop("model_state_dict").items():
        sd[k[len("module."):] if k.startswith("module.") else k] = v.float() if v.is_floating_point() else v
    return ckpt, sd


# ---------------------------------------------------------------- key checking


def _indices(keys, prefix):
    out = set()
    for k in keys:
        if k.startswith(prefix):
            head = k[len(prefix):].split(".", 1)[0]
            if head.isdigit():
                out.add(int(head))
    return out


def check_keys(what, have, expected, ignored=()):
    """Fails listing every missing and unexpected key."""
    have = set(have)
    missing = sorted(expected - have)
    unexpected = sorted(k for k in have - expected if not any(k.startswith(p) for p in ignored))
    if missing or unexpected:
        msg = [f"{what} does not match the DeeR-VLA layout the exporter knows:"]
        if missing:
            msg.append(f"  {len(missing)} missing keys: " + ", ".join(missing))
        if unexpected:
            msg.append(f"  {len(unexpected)} unexpected keys: " + ", ".join(unexpected))
        raise ExportError("\n".join(msg))


def _names(module, prefix):
    return {prefix + k for k in module.state_dict()}


def load_into(module, sd, prefix, what):
    """Copies sd[prefix + name] into every parameter of module, checking shapes."""
    own = module.state_dict()
    for k, t in own.items():
        src = sd[prefix + k]
        if tuple(src.shape) != tuple(t.shape):
            raise ExportError(f"{what}: {prefix + k} has shape {tuple(src.shape)}, want {tuple(t.shape)}")
    module.load_state_dict({k: sd[prefix + k] for k in own}, strict=True)
    return module


# ---------------------------------------------------------------- building


def build_vit(vis):
    w = vis["conv1.weight"].shape[0]
    patch = vis["conv1.weight"].shape[-1]
    grid = int(round((vis["positional_embedding"].shape[0] - 1) ** 0.5))
    layers = len(_indices(vis, "transformer.resblocks."))
    out_dim = vis["proj"].shape[1] if "proj" in vis else w
    vit = A.VisionTransformer(w, layers, patch, grid, out_dim)
    check_keys("CLIP visual tower", {"visual." + k for k in vis}, _names(vit, "visual."))
    return load_into(vit, vis, "", "CLIP visual tower"), grid * patch


def build_perceiver(sd, prefix, dim):
    depth = len(_indices(sd, prefix + "layers."))
    lat = sd.get(prefix + "latents")
    q = sd.get(prefix + "layers.0.0.to_q.weight")
    ff = sd.get(prefix + "layers.0.1.1.weight")
    if lat is None or q is None or ff is None or depth == 0:
        return None
    if q.shape[0] % A.FLAMINGO_DIM_HEAD:
        raise ExportError(f"{prefix}: attention width {q.shape[0]} is not a multiple of {A.FLAMINGO_DIM_HEAD}")
    if lat.shape[1] != dim:
        raise ExportError(f"{prefix}latents width {lat.shape[1]} != the vision width {dim}")
    return A.PerceiverResampler(dim, depth, lat.shape[0], q.shape[0], ff.shape[0])


def build_xattn(sd, prefix, d_model, vis_dim):
    q = sd.get(prefix + "attn.to_q.weight")
    ff = sd.get(prefix + "ff.1.weight")
    if q is None or ff is None:
        return None
    return A.GatedCrossAttentionBlock(d_model, vis_dim, q.shape[0], ff.shape[0])


XATTN = "lang_encoder.gated_cross_attn_layers."
XATTN_ALIAS = "lang_encoder.transformer.blocks.%d.gated_cross_attn_layer."
WTE = "lang_encoder.transformer.wte.weight"
WPE = "lang_encoder.transformer.wpe.weight"
OLD_BLOCKS = "lang_encoder.old_decoder_blocks."


class DeerModel:
    """Everything the exporter needs, validated: flags, configs and the trained
    parts from the checkpoint. The frozen language-model and vision weights
    are read later, stage by stage."""

    def __init__(self, checkpoint, lm_dir, cross_attn_every=None):
        self.lm = LMConfig(os.path.join(lm_dir, "config.json"))
        self.lm_dir = lm_dir
        meta, sd = load_checkpoint(checkpoint)
        self.flags = read_flags(meta, self.lm.n_layers)
        eel = self.flags["early_exit_layer"]
        self.sd = sd
        have = set(sd)
        x_idx = _indices(have, XATTN) | {i for i in range(self.lm.n_layers) if any(k.startswith(XATTN_ALIAS % i) for k in have)}
        if cross_attn_every is None:
            if not x_idx:
                raise ExportError(f"{checkpoint}: no gated cross-attention layers ({XATTN}N.*)")
            cross_attn_every = min(x_idx) + 1
        self.cross_attn_every = cross_attn_every
        self.xattn_layers = [i for i in range(eel + 1) if (i + 1) % cross_attn_every == 0]
        # Accept the cross-attention layers under either name (the state dict
        # holds both: the ModuleList and the FlamingoLayer wrapping each).
        for i in self.xattn_layers:
            for k in [k for k in have if k.startswith(XATTN_ALIAS % i)]:
                sd.setdefault(XATTN + "%d." % i + k[len(XATTN_ALIAS % i):], sd[k])
        vis_dim = sd["perceiver.latents"].shape[1] if "perceiver.latents" in sd else 0
        self.vis_dim = vis_dim
        expected = set()
        self.perceiver = build_perceiver(sd, "perceiver.", vis_dim)
        if self.perceiver is None:
            expected |= {"perceiver.latents", "perceiver.layers.0.0.to_q.weight", "perceiver.layers.0.1.1.weight"}
        else:
            expected |= _names(self.perceiver, "perceiver.")
        self.perceiver_gripper = build_perceiver(sd, "perceiver_gripper.", vis_dim) if "perceiver_gripper.latents" in sd else None
        if self.perceiver_gripper is not None:
            expected |= _names(self.perceiver_gripper, "perceiver_gripper.")
        self.xattn = {}
        for i in self.xattn_layers:
            m = build_xattn(sd, XATTN + "%d." % i, self.lm.d_model, vis_dim)
            if m is None:
                expected |= {XATTN + "%d.attn.to_q.weight" % i, XATTN + "%d.ff.1.weight" % i}
                continue
            self.xattn[i] = m
            expected |= _names(m, XATTN + "%d." % i)
        expected.add(WTE)
        # The head DeeR runs at inference is extra_exit (lm_head when shared).
        self.head_prefix = "extra_exit." if any(k.startswith("extra_exit.") for k in have) or not self.flags["share_exit"] else "lm_head."
        self.head = self._build_head(sd, self.head_prefix)
        if self.head is None:
            expected |= {self.head_prefix + "rnn.weight_ih_l0", self.head_prefix + "actions.mlp.0.weight"}
        else:
            expected |= _names(self.head, self.head_prefix)
        # Trained but unused at inference: the last layer's own head and the
        # per-layer exit heads of multi-exit training; the cross-attention
        # aliases; cross-attention of layers the flags drop.
        ignored = ["lm_head.", "lm_exit_modules.", OLD_BLOCKS, WPE] + [XATTN_ALIAS % i for i in range(self.lm.n_layers)]
        ignored += [XATTN + "%d." % i for i in range(eel + 1, self.lm.n_layers)]
        check_keys(f"checkpoint {checkpoint}", set(sd), expected, ignored)
        extra_x = sorted(i for i in x_idx if i <= eel and i not in self.xattn_layers)
        if extra_x:
            raise ExportError(f"checkpoint {checkpoint}: cross-attention on layers {extra_x}, but every "
                              f"{cross_attn_every} layers from layer {cross_attn_every - 1} expected "
                              "(--cross-attn-every)")
        if self.perceiver is None or self.head is None:
            raise ExportError(f"checkpoint {checkpoint}: perceiver or head missing")
        load_into(self.perceiver, sd, "perceiver.", "perceiver")
        if self.perceiver_gripper is not None:
            load_into(self.perceiver_gripper, sd, "perceiver_gripper.", "perceiver_gripper")
        for i, m in self.xattn.items():
            load_into(m, sd, XATTN + "%d." % i, "cross-attention %d" % i)
        load_into(self.head, sd, self.head_prefix, "head")
        self.wte = sd[WTE]
        if self.wte.shape[1] != self.lm.d_model:
            raise ExportError(f"{WTE} has width {self.wte.shape[1]}, config.json d_model {self.lm.d_model}")
        # Position embeddings are frozen: the language model's file has them.
        self.wpe = None
        if self.lm.learned_pos:
            self.wpe = sd.get(WPE)
            if self.wpe is None:
                self.wpe = load_lm_weights(lm_dir, lambda k: k == "transformer.wpe.weight").get("transformer.wpe.weight")
            if self.wpe is None:
                raise ExportError(f"{lm_dir}: config.json asks for learned positions, but there is no transformer.wpe.weight")
        # DeeR's checkpoints also hold the kept layers' frozen language-model
        # weights (under old_decoder_blocks: get_checkpoint drops frozen
        # parameters by their first name only); use them when present.
        self.ckpt_blocks, self.file_blocks = {}, {}
        for k, v in sd.items():
            if k.startswith(OLD_BLOCKS):
                i, rest = k[len(OLD_BLOCKS):].split(".", 1)
                self.ckpt_blocks.setdefault(int(i), {})[rest] = v
        self.sd = None

    def _build_head(self, sd, prefix):
        f = self.flags
        if f["lstm_layernorm"]:
            w = sd.get(prefix + "rnn.layers.0.weight_hh_l0")
        else:
            w = sd.get(prefix + "rnn.weight_hh_l0")
        if w is None:
            return None
        hidden = w.shape[1]
        # MLP widths: read each hidden Linear's output size at its position.
        lay = A.mlp_layout(dict(f, hidden_size=hidden), 6, [0] * HEAD_MLP_DIMS)
        pos = [i for i, e in enumerate(lay) if e[0] == "linear"][:-1]
        dims = []
        for p in pos:
            t = sd.get(prefix + "actions.mlp.%d.weight" % p)
            dims.append(t.shape[0] if t is not None else 1)
        return A.Head(f, self.lm.d_model, hidden, dims + [1] * (HEAD_MLP_DIMS - len(dims)))

    def block_keys(self, layers):
        """The language model's own key names of the given decoder layers."""
        return lambda k: any(k.startswith("transformer.blocks.%d." % i) for i in layers)

    def decoder_layers(self, layers):
        """DecoderLayer modules for the given 0-based layers, with the frozen
        language-model weights read from its files now."""
        if any(i not in self.ckpt_blocks and i not in self.file_blocks for i in layers):
            # One pass over the language model's file for every kept layer
            # the checkpoint lacks (its file may be several GB).
            want = [i for i in range(self.flags["early_exit_layer"] + 1)
                    if i not in self.ckpt_blocks and i not in self.file_blocks]
            for k, v in load_lm_weights(self.lm_dir, self.block_keys(want)).items():
                i, rest = k[len("transformer.blocks."):].split(".", 1)
                self.file_blocks.setdefault(int(i), {})[rest] = v
        out = []
        for i in layers:
            layer = A.DecoderLayer(self.lm, self.xattn.get(i))
            if i in self.ckpt_blocks:
                block_sd, where = self.ckpt_blocks.pop(i), f"checkpoint {OLD_BLOCKS}{i}"
            else:
                block_sd = self.file_blocks.pop(i, {})
                where = f"language model layer {i} ({self.lm_dir})"
            check_keys(where, {"block." + k for k in block_sd}, _names(layer.block, "block."))
            load_into(layer.block, block_sd, "", f"language model layer {i}")
            out.append(layer)
        return out
