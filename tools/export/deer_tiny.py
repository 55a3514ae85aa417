"""A tiny random DeeR-VLA checkpoint and the files a user would have beside
it, in the original key layouts, at small shapes:

  deer_tiny.pth        DeeR checkpoint: flags + model_state_dict (module.*):
                       perceiver, gated cross-attention (under both of its
                       names), resized word embeddings, extra_exit (the head
                       DeeR runs), lm_head (the last layer's own head) and
                       the kept layers' frozen MPT weights (old_decoder_blocks)
  mpt/config.json      a small MPT-1B-style "mosaic_gpt" config (ALiBi,
                       QK-LayerNorm, no biases), 8 layers of width 32
  mpt/pytorch_model.bin  its weights under MosaicGPT's names
  clip.pt              OpenAI CLIP's state dict (visual.* plus a text tower),
                       ViT of width 64, 2 layers, 7x7 patches, 28x28 images
  tokenizer.json       a GPT-NeoX-style byte-level BPE tokenizer, merges
                       learnt from CALVIN-like instructions

The resampler and cross-attention keep OpenFlamingo's fixed geometry (64
latents, 6 layers, 8 heads of 64) and the head DeeR's MLP widths pattern, so
the public reference code can load the same files with a small config.
"""

import collections
import json
import os

import torch

import deer_arch as A
import deer_tokenizer as T

D, HEADS, N_LAYERS, EARLY_EXIT_LAYER = 32, 4, 8, 5
VIS_WIDTH, VIT_LAYERS, PATCH, IMAGE = 64, 2, 7, 28
HEAD_HIDDEN = 1024  # DeeR's DeterministicDecoder width (fixed in its code)

FLAGS = {
    "epoch": 0,
    "head_type": "deterministic",
    "early_exit_layer": EARLY_EXIT_LAYER,
    "multi_exit": False,
    "share_exit": False,
    "exit_interval": 2,
    "exit_dropout": 0.1,
    "lstm_dropout": 0.1,
    "dropout_mode": "layerwise",
    "mlp_layernorm": True,
    "lstm_layernorm": False,
    "mlp_num_hidden_layers": 2,
    "lstm_num_layers": 2,
    "pooling": "max",
    "precision": "fp32",
}

CORPUS = [
    "push the pink block to the left", "push the red block to the right", "open the drawer",
    "close the drawer", "lift the blue block from the table", "place the block in the slider",
    "turn on the light bulb", "turn off the led", "rotate the pink block right", "stack the blocks",
    "move the slider to the left", "go push the blue block into the drawer",
]


def bpe_tokenizer(n_merges=120):
    """Learns byte-level BPE merges from CORPUS; ids 0 and 1 are GPT-NeoX's
    <|endoftext|> and <|padding|>, then the 256 bytes, then the merges."""
    b2u = T.bytes_to_unicode()
    words = collections.Counter()
    for line in CORPUS:
        for w in T._PRETOKEN.findall(line):
            words[tuple(b2u[b] for b in w.encode())] += 1
    vocab = {"<|endoftext|>": 0, "<|padding|>": 1}
    for b in range(256):
        vocab[b2u[b]] = len(vocab)
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, n in words.items():
            for i in range(len(w) - 1):
                pairs[(w[i], w[i + 1])] += n
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        vocab.setdefault(best[0] + best[1], len(vocab))
        new = collections.Counter()
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += n
        words = new
    special = lambda i, c: {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(0, "<|endoftext|>"), special(1, "<|padding|>")],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


class _Cfg:
    d_model, n_heads, n_layers, expansion, bias = D, HEADS, N_LAYERS, 4, False
    alibi, alibi_bias_max, qk_ln, clip_qkv = True, 8, True, None
    softmax_scale = (D / HEADS) ** -0.5
    names = {"norm_1": "ln_1", "norm_2": "ln_2", "mlp": "mlp", "up": "mlp_up", "down": "mlp_down"}


class _Cfg9B(_Cfg):
    qk_ln = False
    names = {"norm_1": "norm_1", "norm_2": "norm_2", "mlp": "ffn", "up": "up_proj", "down": "down_proj"}


# DeeR-9B's shape of things: MPT-7B's "mpt" config and names, cross-attention
# every 4th layer (so layer 0 and exit 1's block have none), every layer
# kept, and another head layout: no MLP dropout with "wo_last" (Linear
# layers at 0, 2, 4, 6) and LayerNorm-LSTM recurrence.
FLAGS_9B = dict(FLAGS, early_exit_layer=N_LAYERS - 1, exit_dropout=0.0, dropout_mode="wo_last",
                mlp_layernorm=False, lstm_layernorm=True, mlp_num_hidden_layers=3, lstm_num_layers=2)
CROSS_ATTN_EVERY_9B = 4


def _jitter(module, g):
    """Random weights with some spread: LayerNorm gains and biases, gates and
    biases are not left at their neutral values."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("_gate"):
                p.copy_(torch.rand(p.shape, generator=g) * 1.5 + 0.3)
            elif p.dim() == 1:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / p.shape[-1]) ** 0.5)


def write(out, seed=0, drop_keys=(), head_hidden=HEAD_HIDDEN, set_flags=None, variant="3b"):
    """variant "3b" is DeeR-3B's layout (MPT-1B), "9b" DeeR-9B's (MPT-7B)."""
    nine = variant == "9b"
    flags, cfg_cls = (FLAGS_9B, _Cfg9B) if nine else (FLAGS, _Cfg)
    eel = flags["early_exit_layer"]
    every = CROSS_ATTN_EVERY_9B if nine else 1
    os.makedirs(os.path.join(out, "mpt"), exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    tok = bpe_tokenizer()
    with open(os.path.join(out, "tokenizer.json"), "w") as fh:
        json.dump(tok, fh, ensure_ascii=False)
    _, _, n_tok = T.add_deer_tokens(tok)

    # The language model: MosaicGPT's names, a padded vocabulary as MPT ships.
    if nine:
        cfg = {"architectures": ["MPTForCausalLM"], "model_type": "mpt", "d_model": D, "n_heads": HEADS,
               "n_layers": N_LAYERS, "expansion_ratio": 4, "max_seq_len": 64, "vocab_size": 512,
               "attn_config": {"alibi": True, "alibi_bias_max": 8, "attn_impl": "torch", "attn_pdrop": 0,
                               "attn_type": "multihead_attention", "attn_uses_sequence_id": False,
                               "clip_qkv": None, "prefix_lm": False, "qk_ln": False, "softmax_scale": None},
               "no_bias": True, "norm_type": "low_precision_layernorm", "emb_pdrop": 0, "resid_pdrop": 0,
               "learned_pos_emb": True, "logit_scale": None, "init_device": "cpu", "torch_dtype": "float32"}
    else:
        cfg = {"architectures": ["MosaicGPT"], "model_type": "mosaic_gpt", "d_model": D, "n_heads": HEADS,
               "n_layers": N_LAYERS, "mlp_ratio": 4, "max_seq_len": 64, "vocab_size": 512, "alibi": True,
               "alibi_bias_max": 8, "attn_qk_ln": True, "attn_clip_qkv": None, "attn_impl": "torch",
               "softmax_scale": None, "no_bias": True, "low_precision_layernorm": True, "prefix_lm": False,
               "attn_uses_sequence_id": False, "embedding_fraction": 1.0, "emb_pdrop": 0.0, "resid_pdrop": 0.0,
               "attn_pdrop": 0.0, "logit_scale": None, "init_device": "cpu", "verbose": 0,
               "param_init_fn": "kaiming_normal_", "torch_dtype": "float32"}
    with open(os.path.join(out, "mpt", "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=2)
    lm = {"transformer.wte.weight": torch.randn(512, D, generator=g) * 0.5}
    lm["transformer.%s.weight" % ("norm_f" if nine else "ln_f")] = 1 + 0.1 * torch.randn(D, generator=g)
    if nine:
        lm["transformer.wpe.weight"] = torch.randn(64, D, generator=g) * 0.5
    sd = {}
    for i in range(N_LAYERS):
        blk = A.MPTBlock(cfg_cls)
        _jitter(blk, g)
        for k, v in blk.state_dict().items():
            lm["transformer.blocks.%d.%s" % (i, k)] = v
            if i <= eel:
                # DeeR's checkpoints carry the kept layers' frozen weights too
                # (get_checkpoint only drops a frozen parameter's first name).
                sd["lang_encoder.old_decoder_blocks.%d.%s" % (i, k)] = v
    torch.save(lm, os.path.join(out, "mpt", "pytorch_model.bin"))

    # OpenAI CLIP: the visual tower and a token text tower beside it.
    vit = A.VisionTransformer(VIS_WIDTH, VIT_LAYERS, PATCH, IMAGE // PATCH, 32)
    _jitter(vit, g)
    clip = {"visual." + k: v for k, v in vit.state_dict().items()}
    clip.update({"token_embedding.weight": torch.randn(100, 32, generator=g), "positional_embedding": torch.randn(8, 32, generator=g),
                 "ln_final.weight": torch.ones(32), "ln_final.bias": torch.zeros(32),
                 "text_projection": torch.randn(32, 32, generator=g), "logit_scale": torch.tensor(4.6)})
    torch.save(clip, os.path.join(out, "clip.pt"))

    # DeeR's trained parts.
    perc = A.PerceiverResampler(VIS_WIDTH, 6, 64, 8 * A.FLAMINGO_DIM_HEAD, 4 * VIS_WIDTH)
    _jitter(perc, g)
    sd.update({"perceiver." + k: v for k, v in perc.state_dict().items()})
    for i in range(every - 1, eel + 1, every):  # OpenFlamingo: after every `every` layers
        x = A.GatedCrossAttentionBlock(D, VIS_WIDTH, 8 * A.FLAMINGO_DIM_HEAD, 4 * D)
        _jitter(x, g)
        for k, v in x.state_dict().items():
            sd["lang_encoder.gated_cross_attn_layers.%d.%s" % (i, k)] = v
            sd["lang_encoder.transformer.blocks.%d.gated_cross_attn_layer.%s" % (i, k)] = v
    sd["lang_encoder.transformer.wte.weight"] = torch.randn(n_tok, D, generator=g) * 0.5
    dims = [head_hidden, head_hidden // 2, head_hidden // 4]
    for prefix in ("extra_exit.", "lm_head."):
        head = A.Head(flags, D, head_hidden, dims)
        _jitter(head, g)
        sd.update({prefix + k: v for k, v in head.state_dict().items()})
    for d in drop_keys:  # a key, or every key under a prefix ending in "."
        for k in [k for k in sd if k == d or (d.endswith(".") and k.startswith(d))]:
            sd.pop(k)
    ckpt = dict(flags)
    ckpt.update(set_flags or {})  # after the weights: tests make flags and weights disagree
    ckpt["model_state_dict"] = {"module." + k: v for k, v in sd.items()}
    ckpt["optimizer_state_dict"] = {}
    torch.save(ckpt, os.path.join(out, "deer_tiny.pth"))
