#!/usr/bin/python3
"""Export a DeeR-VLA checkpoint to the staged ONNX model folder the Go engine
runs (docs/model-contract.md); check an export against the exporter's torch
modules; generate a tiny random checkpoint in DeeR's key layout.

  deer_export.py export --checkpoint DEER.pth --lm-dir MPT_DIR --clip CLIP.pt \\
      --tokenizer tokenizer.json --out MODEL_DIR [--golden FILE]
  deer_export.py check  --checkpoint ... --lm-dir ... --clip ... --tokenizer ... \\
      --model MODEL_DIR [--golden FILE]
  deer_export.py tiny   --out DIR

See tools/export/README.md. Runs on Debian's python3-torch and python3-onnx
(/usr/bin/python3).
"""

import argparse
import base64
import gc
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deer_load as L  # noqa: E402
import deer_stages as S  # noqa: E402
import deer_tokenizer as T  # noqa: E402

OPSET = 17
# Prompt length the paper's per-layer figure is compared at (README): a
# CALVIN instruction of 10 words in DeeR's prompt.
PAPER_TOKENS = 13
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ONNX


def save_onnx(module, args, inputs, outputs, path, external):
    """Exports module; with external, its weights go to path + ".data" (one
    file, the contract's `data:`), which also lifts ONNX's 2 GB limit."""
    module.eval()
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
        tmp_path = os.path.join(tmp, "stage.onnx")
        with torch.no_grad():
            torch.onnx.export(module, tuple(args), tmp_path, input_names=inputs, output_names=outputs,
                              opset_version=OPSET, do_constant_folding=True)
        model = onnx.load(tmp_path)  # pulls in any per-tensor files torch wrote for a >2 GB graph
        model.doc_string = ""
        model.graph.doc_string = ""
        for n in model.graph.node:
            n.doc_string = ""
        if external:
            data = os.path.basename(path) + ".data"
            if os.path.exists(path + ".data"):
                os.remove(path + ".data")
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=data, size_threshold=1024)
        else:
            onnx.save_model(model, path)
        del model
    onnx.checker.check_model(path)
    return os.path.basename(path) + ".data" if external else None


# ---------------------------------------------------------------- recorded episode


def recorded_episode(seed=21):
    """Seeded camera images of CALVIN's sizes (static 200x200, gripper 84x84,
    rgb8) and two instructions: 6 steps of one, 4 of another (with white
    space the prompt strips)."""
    rng = np.random.RandomState(seed)
    steps = []
    for i in range(10):
        ep, instr = (0, "push the pink block to the left") if i < 6 else (1, "  open the drawer\n")
        # Smooth scenes plus noise, so the bicubic resize sees both edges and texture.
        yy, xx = np.mgrid[0:200, 0:200]
        base = np.stack([(xx * (1 + c) + yy * (3 - c) + 37 * i) % 256 for c in range(3)], -1)
        static = np.clip(base + rng.randint(-40, 41, base.shape), 0, 255).astype(np.uint8)
        gripper = rng.randint(0, 256, (84, 84, 3)).astype(np.uint8)
        steps.append({"episode": ep, "instruction": instr, "static": static, "gripper": gripper})
    return steps


def b64(a):
    return base64.b64encode(np.ascontiguousarray(np.asarray(a, dtype="<f4")).tobytes()).decode()


def image_json(rgb):
    h, w = rgb.shape[:2]
    return {"width": w, "height": h, "encoding": "rgb8", "data": base64.b64encode(rgb.tobytes()).decode()}


# ---------------------------------------------------------------- pipeline


class Exporter:
    """Builds the stages one at a time from the user's files, exports each
    (unless only checking) and, for a golden, runs each on the recorded
    steps before freeing it."""

    def __init__(self, a):
        self.a = a
        t0 = time.time()
        self.m = L.DeerModel(a.checkpoint, a.lm_dir, a.cross_attn_every)
        f, lm = self.m.flags, self.m.lm
        log(f"checkpoint: layers 0..{f['early_exit_layer']} kept of {lm.n_layers}, exits after layers "
            f"{f['exit_layers']}, cross-attention every {self.m.cross_attn_every} layer(s); {lm.describe()}")
        with open(a.tokenizer) as fh:
            self.tok_json, self.tok_ids, n_tok = T.add_deer_tokens(json.load(fh))
        if self.m.wte.shape[0] != n_tok:
            raise L.ExportError(f"the checkpoint's word embeddings have {self.m.wte.shape[0]} rows, the tokenizer "
                                f"with DeeR's added tokens {n_tok}: is {a.tokenizer} the language model's?")
        self.media_id = self.tok_ids["<image>"]
        self.pad_id = self.tok_ids["<PAD>"]
        self.T = a.max_tokens
        self.load_time = time.time() - t0

    def run(self, out_dir, write_onnx, golden_path):
        a, m, lm = self.a, self.m, self.m.lm
        os.makedirs(out_dir, exist_ok=True)
        ext_min = a.external_data_above_mb * 1e6
        exits = m.flags["exit_layers"]
        pooling = m.flags["pooling"]
        steps = recorded_episode() if golden_path else []
        bpe = T.BPE(self.tok_json)
        stats = {"stages": []}

        # ---- encoder
        t0 = time.time()
        vis, image_size = L.build_vit(L.load_clip_visual(a.clip))
        layer0 = m.decoder_layers([0])[0]
        enc = S.Encoder(vis, m.perceiver, m.perceiver_gripper, m.wte, m.wpe, layer0, lm, self.media_id, pooling)
        n_vis = 2 * m.perceiver.latents.shape[0]
        enc_macs = 2 * S.vit_macs(vis) + S.perceiver_macs(m.perceiver, vis.positional_embedding.shape[0] - 1) * 2
        layer_macs = [S.layer_macs(layer0, lm, self.T, n_vis)]
        paper_macs = [S.layer_macs(layer0, lm, PAPER_TOKENS, n_vis)]
        layer_bytes = [S.params_bytes(layer0)]
        enc_bytes = S.params_bytes(enc)
        D, V = lm.d_model, m.vis_dim
        x_static = torch.zeros(1, 3, image_size, image_size)
        tokens = torch.zeros(1, self.T, dtype=torch.int64)
        mask = torch.ones(1, self.T)
        files = {}
        if write_onnx:
            files["encoder"] = save_onnx(enc, [x_static, x_static, tokens, mask],
                                         ["static_image", "gripper_image", "tokens", "token_mask"],
                                         ["visual_tokens", "hidden_1", "feature_1"],
                                         os.path.join(out_dir, "encoder.onnx"), enc_bytes > ext_min)
        stats["stages"].append(("encoder", time.time() - t0, enc_bytes))
        rec = []
        with torch.no_grad():
            for s in steps:
                u8s, xs = S.clip_preprocess(s["static"], image_size)
                u8g, xg = S.clip_preprocess(s["gripper"], image_size)
                ids, msk = T.prompt_tokens(bpe, s["instruction"], self.T, self.pad_id)
                tk, mk = torch.tensor([ids]), torch.tensor([msk])
                v, h, f1 = enc(xs, xg, tk, mk)
                rec.append({"tokens": tk, "mask": mk, "vis": v, "hidden": h, "features": [f1],
                            "static_u8": u8s, "gripper_u8": u8g, "ids": ids})
        del enc, vis, layer0
        m.perceiver = m.perceiver_gripper = None
        m.wte = None
        gc.collect()

        # ---- blocks
        prev = "hidden_1"
        exit_meta = []
        first = 1
        for k, last in enumerate(exits, start=1):
            t0 = time.time()
            layers = list(range(first, last + 1))
            blk = S.Block(m.decoder_layers(layers), lm, self.media_id, pooling)
            hname, fname = "hidden_%d" % (last + 1), "feature_%d" % (last + 1)
            ins = [prev, "token_mask"] + (["visual_tokens", "tokens"] if blk.uses_vision else [])
            args = [torch.zeros(1, self.T, D), mask] + ([torch.zeros(1, n_vis, V), tokens] if blk.uses_vision else [])
            b_bytes = S.params_bytes(blk)
            path = os.path.join(out_dir, "block_%d.onnx" % k)
            if write_onnx:
                files["block_%d" % k] = save_onnx(blk, args, ins, [hname, fname], path, b_bytes > ext_min)
            with torch.no_grad():
                for r in rec:
                    bargs = [r["hidden"], r["mask"]] + ([r["vis"], r["tokens"]] if blk.uses_vision else [])
                    r["hidden"], f = blk(*bargs)
                    r["features"].append(f)
            layer_macs += [S.layer_macs(l, lm, self.T, n_vis) for l in blk.layers]
            paper_macs += [S.layer_macs(l, lm, PAPER_TOKENS, n_vis) for l in blk.layers]
            layer_bytes += [S.params_bytes(l) for l in blk.layers]
            exit_meta.append({"file": "block_%d.onnx" % k, "inputs": ins, "outputs": [hname, fname],
                              "feature": fname, "gflops": sum(layer_macs) / 1e9,
                              "weight_bytes": sum(layer_bytes[1:]), "layers": layers})
            stats["stages"].append(("block_%d (layers %d-%d)" % (k, first, last), time.time() - t0, b_bytes))
            prev, first = hname, last + 1
            del blk
            gc.collect()

        # ---- head
        head = m.head
        if m.flags["lstm_layernorm"]:
            L_, H = head.rnn.n, head.rnn.layers[0].hidden_size
        else:
            L_, H = head.rnn.num_layers, head.rnn.hidden_size
        state = (L_, 1, H)
        h_bytes = S.params_bytes(head)
        if write_onnx:
            files["head"] = save_onnx(head, [torch.zeros(1, D), torch.zeros(state), torch.zeros(state)],
                                      ["head_feature", "h_in", "c_in"], ["pose", "gripper", "h_out", "c_out"],
                                      os.path.join(out_dir, "head.onnx"), h_bytes > ext_min)
            with open(os.path.join(out_dir, "tokenizer.json"), "w") as fh:
                json.dump(self.tok_json, fh, ensure_ascii=False)
            self.write_manifest(out_dir, image_size, n_vis, D, V, state, enc_macs, enc_bytes, exit_meta,
                                S.head_macs(head), h_bytes, files)
        stats["stages"].append(("head", 0.0, h_bytes))
        if golden_path:
            self.write_golden(golden_path, steps, rec, head, state, exit_meta)
        self.report(stats, layer_macs, paper_macs)

    def write_manifest(self, out, size, n_vis, D, V, state, enc_macs, enc_bytes, exits, head_macs, head_bytes, files):
        a, T_ = self.a, self.T
        cam = lambda slot: [
            f"  - slot: {slot}", f"    tensor: {slot}_image", f"    width: {size}", f"    height: {size}",
            "    channels: rgb", f"    mean: {S.CLIP_MEAN}", f"    std: {S.CLIP_STD}", "    resize: clip"]
        data = lambda key: [f"  data: {files[key]}"] if files.get(key) else []
        lines = ["# Written by tools/export/deer_export.py from " + os.path.basename(a.checkpoint) + ".",
                 "format: deer-vla/v1", f"name: {a.name}", "cameras:"] + cam("static") + cam("gripper")
        lines += ["tokenizer:", "  kind: hf", "  vocab: tokenizer.json",
                  '  prompt: "' + T.PROMPT + '"', f"  max_tokens: {T_}", f"  pad_id: {self.pad_id}",
                  "  tokens_tensor: tokens", "  mask_tensor: token_mask",
                  "encoder:", "  file: encoder.onnx"] + data("encoder")
        lines += ["  inputs: [static_image, gripper_image, tokens, token_mask]",
                  "  outputs: [visual_tokens, hidden_1, feature_1]",
                  f"  gflops: {enc_macs / 1e9:.9g}", f"  weight_bytes: {enc_bytes}",
                  "reference_feature: feature_1", "exits:"]
        tensors = {"static_image": ("float32", [1, 3, size, size]), "gripper_image": ("float32", [1, 3, size, size]),
                   "tokens": ("int64", [1, T_]), "token_mask": ("float32", [1, T_]),
                   "visual_tokens": ("float32", [1, n_vis, V]), "hidden_1": ("float32", [1, T_, D]),
                   "feature_1": ("float32", [1, D])}
        for k, e in enumerate(exits, start=1):
            lines += [f"  - file: {e['file']}"] + ["  " + x for x in data("block_%d" % k)]
            lines += [f"    inputs: [{', '.join(e['inputs'])}]", f"    outputs: [{', '.join(e['outputs'])}]",
                      f"    feature: {e['feature']}", f"    gflops: {e['gflops']:.9g}",
                      f"    weight_bytes: {e['weight_bytes']}"]
            tensors[e["outputs"][0]] = ("float32", [1, T_, D])
            tensors[e["outputs"][1]] = ("float32", [1, D])
        lines += ["head:", "  file: head.onnx"] + data("head")
        lines += ["  feature: head_feature", "  state_inputs: [h_in, c_in]", "  state_outputs: [h_out, c_out]",
                  "  pose: pose", "  gripper: gripper", f"  gflops: {head_macs / 1e9:.9g}",
                  f"  weight_bytes: {head_bytes}",
                  "action:", "  names: [x, y, z, roll, pitch, yaw, gripper]",
                  "  pose_scale: [1, 1, 1, 1, 1, 1]", "  gripper_threshold: 0.5", "tensors:"]
        tensors.update({"head_feature": ("float32", [1, D]), "h_in": ("float32", list(state)),
                        "c_in": ("float32", list(state)), "h_out": ("float32", list(state)),
                        "c_out": ("float32", list(state)), "pose": ("float32", [1, 6]), "gripper": ("float32", [1, 1])})
        for name, (dt, shape) in tensors.items():
            lines.append(f"  {name}: {{dtype: {dt}, shape: [{', '.join(map(str, shape))}]}}")
        with open(os.path.join(out, "manifest.yaml"), "w") as fh:
            fh.write("\n".join(lines) + "\n")

    def write_golden(self, path, steps, rec, head, state, exits):
        """Full depth (every exit's feature) and DeeR runs with given
        thresholds, the exit rule run on the recorded features."""
        head.eval()
        n = len(exits)

        def run(thresholds):
            h, c = torch.zeros(state), torch.zeros(state)
            out = []
            with torch.no_grad():
                for i, r in enumerate(rec):
                    if i > 0 and steps[i]["episode"] != steps[i - 1]["episode"]:
                        h, c = torch.zeros(state), torch.zeros(state)
                    cands = [head(r["features"][0], h, c)]
                    dists = []
                    for k in range(1, n + 1):
                        cands.append(head(r["features"][k], h, c))
                        dists.append(S.rms(cands[-1][0][0].tolist(), cands[-2][0][0].tolist()))
                        if dists[-1] <= thresholds[k - 1] or k == n:
                            break
                    pose, grip, h, c = cands[-1]
                    out.append({"exit": len(dists), "pose": pose[0].tolist(), "gripper_prob": float(grip[0, 0]),
                                "distances": dists, "h": b64(h), "c": b64(c)})
            return out

        full = run([-1.0] * n)
        med = [float(np.median([r["distances"][k] for r in full])) for k in range(n)]
        runs = [{"name": "full_depth", "thresholds": [-1.0] * n, "results": full},
                {"name": "deer_median", "thresholds": med, "results": run(med)},
                {"name": "exit_1", "thresholds": [1e9] * n, "results": run([1e9] * n)}]
        if self.a.thresholds:
            given = [float(x) for x in self.a.thresholds.split(",")]
            if len(given) != n:
                raise L.ExportError(f"--thresholds has {len(given)} values, the model {n} exits")
            runs.append({"name": "deer_given", "thresholds": given, "results": run(given)})
        doc = {"tolerance": 1e-4,
               "note": "written by tools/export/deer_export.py: the exporter's torch modules in eager mode, "
                       "the DeeR exit rule in plain Python, PIL preprocessing",
               "features": [e["feature"] for e in exits],
               "steps": [{"episode": s["episode"], "instruction": s["instruction"], "static": image_json(s["static"]),
                          "gripper": image_json(s["gripper"]), "tokens": r["ids"],
                          "static_crop": base64.b64encode(r["static_u8"].tobytes()).decode(),
                          "gripper_crop": base64.b64encode(r["gripper_u8"].tobytes()).decode(),
                          "visual_tokens": b64(r["vis"]), "feature_1": b64(r["features"][0]),
                          "exit_features": [b64(f) for f in r["features"][1:]]}
                         for s, r in zip(steps, rec)],
               "runs": runs}
        with open(path, "w") as fh:
            json.dump(doc, fh)
        log(f"golden: {path}; exits chosen with median thresholds: {[r['exit'] for r in runs[1]['results']]}")

    def report(self, stats, layer_macs, paper_macs):
        for name, secs, nbytes in stats["stages"]:
            log(f"  {name:28s} {nbytes / 1e6:10.1f} MB  {secs:6.1f} s")
        log(f"decoder GFLOPs (multiply-adds) per layer at {self.T} tokens: "
            + ", ".join("%.3g" % (x / 1e9) for x in layer_macs) + f"; {sum(layer_macs) / 1e9:.4g} in all")
        log(f"  at {PAPER_TOKENS} tokens (a CALVIN prompt): "
            + ", ".join("%.3g" % (x / 1e9) for x in paper_macs) + f"; {sum(paper_macs) / 1e9:.4g} in all")


# ---------------------------------------------------------------- CLI


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def inputs(q):
        q.add_argument("--checkpoint", required=True, help="the DeeR checkpoint (.pth with model_state_dict)")
        q.add_argument("--lm-dir", required=True,
                       help="the language model's folder: config.json and pytorch_model.bin "
                            "(or its .index.json shards, or model.safetensors)")
        q.add_argument("--clip", required=True, help="OpenAI CLIP ViT-L/14 weights: a state dict or OpenAI's TorchScript .pt")
        q.add_argument("--tokenizer", required=True, help="the language model's tokenizer.json (GPT-NeoX)")
        q.add_argument("--max-tokens", type=int, default=32, help="prompt length the stages are exported for (32)")
        q.add_argument("--cross-attn-every", type=int, default=None,
                       help="cross-attention interval (default: read from the checkpoint's layers)")
        q.add_argument("--golden", default=None, help="also write torch goldens of a recorded episode to this JSON file")
        q.add_argument("--thresholds", default=None, metavar="T1,T2,...",
                       help="also run the golden's episode with these per-exit thresholds (RMS of the pose)")

    e = sub.add_parser("export", help="write a model folder")
    inputs(e)
    e.add_argument("--out", required=True, help="the model folder to write")
    e.add_argument("--name", default="deer_vla", help="manifest name")
    e.add_argument("--external-data-above-mb", type=float, default=100.0,
                   help="stages with more weights than this keep them in an external .data file (100)")
    c = sub.add_parser("check", help="compare an exported folder with the exporter's torch modules")
    inputs(c)
    c.add_argument("--model", required=True, help="the exported model folder")
    c.add_argument("--no-go", action="store_true", help="only write the golden; do not run the Go comparison")
    t = sub.add_parser("tiny", help="write a tiny random DeeR checkpoint and its inputs")
    t.add_argument("--out", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--drop-key", action="append", default=[], help="leave this checkpoint key (or every key under a prefix ending in \".\") out (tests)")
    t.add_argument("--variant", choices=["3b", "9b"], default="3b",
                   help="DeeR-3B's layout (MPT-1B, cross-attention on every layer) or DeeR-9B's (MPT-7B, every 4th)")
    t.add_argument("--set-flag", action="append", default=[], metavar="NAME=JSON",
                   help="override a checkpoint flag (tests), e.g. dropout_mode=\"last\"")
    t.add_argument("--head-hidden", type=int, default=1024,
                   help="the head's LSTM width (DeeR's is 1024; smaller makes a faster test model)")
    for q in (e, c, t):
        q.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores; 1 on a busy machine)")
    a = p.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    try:
        if a.cmd == "tiny":
            import deer_tiny
            flags = {k: json.loads(v) for k, v in (f.split("=", 1) for f in a.set_flag)}
            deer_tiny.write(a.out, a.seed, a.drop_key, a.head_hidden, flags, a.variant)
            return 0
        t0 = time.time()
        ex = Exporter(a)
        if a.cmd == "export":
            ex.run(a.out, True, a.golden)
            log(f"exported to {a.out} in {time.time() - t0:.1f} s")
            return 0
        golden = a.golden or os.path.join(a.model, "export_check.json")
        a.external_data_above_mb = 0
        with tempfile.TemporaryDirectory() as scratch:
            ex.run(scratch, False, golden)
        if a.no_go:
            return 0
        cmd = ["go", "run", "./nodes/deer_vla_export_check", "-model", os.path.abspath(a.model), "-golden", os.path.abspath(golden)]
        if not os.environ.get("ONNXRUNTIME_SHARED_LIBRARY_PATH"):
            # scripts/fetch_onnxruntime.sh fetches ONNX Runtime's CPU library and prints its path.
            lib = subprocess.run(["scripts/fetch_onnxruntime.sh"], cwd=REPO, capture_output=True, text=True).stdout.strip()
            cmd += ["-library", lib]
        log("running: " + " ".join(cmd))
        return subprocess.call(cmd, cwd=REPO)
    except L.ExportError as err:
        print(f"deer_export: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
