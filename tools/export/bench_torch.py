#!/usr/bin/python3
"""PyTorch eager side of the real-size benchmark (tools/export/bench_real.sh):
the same weights the exporter reads, as the exporter's own torch stages
(tools/export/deer_stages.py: encoder, one block per exit, the shared head),
run in eager mode in fp32 on the CPU, timed like the Go engine's step:
the encoder (vision and resampler timed inside it with hooks), each block,
the head once on the reference feature and once per exit run. Also the
resident memory once loaded and after freeing the blocks past exit 1 (the
eager counterpart of the engine's live memory cap).

  bench_torch.py --checkpoint DEER.pth --lm-dir MPT_DIR --clip CLIP.pt \\
      --tokenizer tokenizer.json [--steps 5] [--threads 2] [--json FILE]
"""
import argparse
import ctypes
import gc
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deer_load as L  # noqa: E402
import deer_stages as S  # noqa: E402
import deer_tokenizer as T  # noqa: E402

INSTRUCTION = "take the red block and rotate it to the right"


def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024
    return float("nan")


def trim():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


class Timer:
    """Wall time of a module's forward calls, summed per step."""

    def __init__(self, module):
        self.total, self.t0 = 0.0, None
        module.register_forward_pre_hook(self.pre)
        module.register_forward_hook(self.post)

    def pre(self, *_):
        self.t0 = time.perf_counter()

    def post(self, *_):
        self.total += time.perf_counter() - self.t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--lm-dir", required=True)
    p.add_argument("--clip", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)

    rep = {"threads": a.threads, "steps": a.steps, "max_tokens": a.max_tokens, "rss_before_load_mb": rss_mb()}
    m = L.DeerModel(a.checkpoint, a.lm_dir)
    with open(a.tokenizer) as fh:
        tok_json, ids, _ = T.add_deer_tokens(json.load(fh))
    vit, size = L.build_vit(L.load_clip_visual(a.clip))
    pooling, exits = m.flags["pooling"], m.flags["exit_layers"]
    enc = S.Encoder(vit, m.perceiver, m.perceiver_gripper, m.wte, m.wpe, m.decoder_layers([0])[0], m.lm,
                    ids["<image>"], pooling).eval()
    blocks, first = [], 1
    for last in exits:
        blocks.append(S.Block(m.decoder_layers(list(range(first, last + 1))), m.lm, ids["<image>"], pooling).eval())
        first = last + 1
    head = m.head.eval()
    m.sd = None
    trim()
    rep["rss_loaded_mb"] = rss_mb()

    vt, lt = Timer(enc.vit), Timer(enc.layer0)
    rt = [Timer(enc.perceiver)] + ([Timer(enc.perceiver_gripper)] if enc.perceiver_gripper is not None else [])
    tk, mk = T.prompt_tokens(T.BPE(tok_json), INSTRUCTION, a.max_tokens, ids["<PAD>"])
    tokens, mask = torch.tensor([tk]), torch.tensor([mk], dtype=torch.float32)
    rng = np.random.default_rng(21)
    images = [torch.tensor(rng.standard_normal((1, 3, size, size)), dtype=torch.float32) for _ in range(4)]
    hs = head.rnn.num_layers if hasattr(head.rnn, "num_layers") else head.rnn.n
    hd = head.rnn.hidden_size if hasattr(head.rnn, "hidden_size") else head.rnn.layers[0].hidden_size
    state = (torch.zeros(hs, 1, hd), torch.zeros(hs, 1, hd))

    def phase(depth, steps):
        rows = []
        for s in range(steps + 1):
            vt.total = lt.total = 0.0
            for r in rt:
                r.total = 0.0
            t0 = time.perf_counter()
            vis, hidden, feat = enc(images[s % 4], images[(s + 1) % 4], tokens, mask)
            t_enc = time.perf_counter() - t0
            t1 = time.perf_counter()
            head(feat, *state)
            t_head = time.perf_counter() - t1
            t_blocks = []
            for b in blocks[:depth]:
                t1 = time.perf_counter()
                args = [hidden, mask] + ([vis, tokens] if b.uses_vision else [])
                hidden, feat = b(*args)
                t_blocks.append(time.perf_counter() - t1)
                t1 = time.perf_counter()
                head(feat, *state)
                t_head += time.perf_counter() - t1
            total = time.perf_counter() - t0
            if s > 0:  # the first step warms up
                rows.append((vt.total, sum(r.total for r in rt), t_enc, t_blocks, t_head, total, lt.total))
        med = lambda xs: 1000 * statistics.median(xs)
        return {"exit": depth, "vision_ms": med([r[0] for r in rows]), "resampler_ms": med([r[1] for r in rows]),
                "encoder_ms": med([r[2] for r in rows]), "layer0_ms": med([r[6] for r in rows]),
                "block_ms": [med([r[3][k] for r in rows]) for k in range(depth)],
                "head_ms": med([r[4] for r in rows]), "head_evaluations": depth + 1, "step_ms": med([r[5] for r in rows])}

    rep["full_depth"] = phase(len(blocks), a.steps)
    rep["rss_after_first_step_mb"] = rss_mb()
    del blocks[1:]
    trim()
    rep["exit_1"] = phase(1, a.steps)
    rep["rss_capped_exit1_mb"] = rss_mb()
    f, x = rep["full_depth"], rep["exit_1"]
    print("PyTorch %s eager, %d threads, median of %d steps, prompt padded to %d tokens" %
          (torch.__version__, a.threads, a.steps, a.max_tokens))
    print("resident memory: %.0f MB before load, %.0f MB loaded, %.0f MB after the first steps, %.0f MB with blocks past exit 1 freed"
          % (rep["rss_before_load_mb"], rep["rss_loaded_mb"], rep["rss_after_first_step_mb"], rep["rss_capped_exit1_mb"]))
    print("%-28s %10s %10s" % ("stage (ms)", "full", "exit 1"))
    for name, key in (("  vision (2 cameras)", "vision_ms"), ("  resampler (2)", "resampler_ms"),
                      ("  layer 0", "layer0_ms"), ("encoder (all of it)", "encoder_ms")):
        print("%-28s %10.1f %10.1f" % (name, f[key], x[key]))
    for k, t in enumerate(f["block_ms"]):
        print("%-28s %10.1f %10s" % ("block %d" % (k + 1), t, "%.1f" % x["block_ms"][k] if k < len(x["block_ms"]) else "-"))
    print("%-28s %10.1f %10.1f" % ("head (%d / %d evaluations)" % (f["head_evaluations"], x["head_evaluations"]), f["head_ms"], x["head_ms"]))
    print("%-28s %10.1f %10.1f" % ("step", f["step_ms"], x["step_ms"]))
    dF, dX = sum(f["block_ms"]), sum(x["block_ms"])
    print("decoder blocks: %.1f ms -> %.1f ms (wall-time saving %.1f%%)" % (dF, dX, 100 * (1 - dX / dF)))
    l0 = f["layer0_ms"]
    print("decoder with layer 0: %.1f ms -> %.1f ms (wall-time saving %.1f%%)" % (l0 + dF, l0 + dX, 100 * (1 - (l0 + dX) / (l0 + dF))))
    print("vision share of the step: %.0f%% at full depth, %.0f%% at exit 1" % (100 * f["vision_ms"] / f["step_ms"], 100 * x["vision_ms"] / x["step_ms"]))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rep, fh, indent=1)


if __name__ == "__main__":
    main()
