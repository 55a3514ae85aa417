#!/usr/bin/python3
"""Record the public DeeR-VLA reference on one episode and write it as a
parity golden (the format tools/export/parity reads), so that an exported
model folder can be checked against the reference itself, not only against
the exporter's own torch modules:

  python3 tools/export/reference_golden.py --deer-repo ~/DeeR-VLA \\
      --checkpoint DEER.pth --lm-dir MPT_DIR --clip ViT-L-14.pt \\
      --out reference_golden.json [--steps 10] [--images DIR]
  go run ./nodes/deer_vla_export_check -model MODEL_DIR -golden reference_golden.json

Run it in the environment the DeeR-VLA repository's eval runs in (its
requirements: open_clip 2.20, transformers, einops, einops_exts; the MPT
folder holding DeeR's mosaic_gpt_3b.py as mosaic_gpt.py, as its README
asks). Nothing of the reference is copied here: the model is built by the
repository's own robot_flamingo.models.factory.create_model_and_transforms
with the flags eval_calvin.py reads from the checkpoint, and each step runs
the repository's MPTFlamingo.forward with its ActionValueNet and
ExitController (L2 distance between consecutive exits' actions, as the
paper's published thresholds are), in fp32 on the CPU.

Per step it records: PIL's resize and crop of both cameras, the token ids,
the visual tokens, the reference feature (decoder layer 0 max-pooled, what
exit 1's distance is taken against) and every exit's feature at full
depth; then two runs of the exit rule over the episode: thresholds 0 (every
step at the deepest exit) and thresholds given by the per-exit medians of
the first run's distances (a mix of exits), each with the distances, chosen
exit, action and committed LSTM state.

The reference feeds the prompt unpadded (padding="longest" on one
instruction); the engine pads it to max_tokens with a mask. The golden's
token ids are the reference's, right-padded with the pad id to max_tokens.
"""
import argparse
import base64
import glob
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

INSTRUCTION = " take the red block and rotate it to the right "  # CALVIN rotate_red_block_right; spaces test strip()


def b64f(t):
    return base64.b64encode(t.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode()


def b64u8(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()


def episode_images(d, steps, seed=20240521):
    """Seeded noise images at CALVIN's sizes (200x200 static, 84x84 gripper):
    the hardest case for matching PIL's bicubic resize."""
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    for t in range(steps):
        for cam, size in (("static", 200), ("gripper", 84)):
            p = os.path.join(d, "%s_%02d.png" % (cam, t))
            a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            if not os.path.exists(p):
                Image.fromarray(a).save(p)


def eval_flags(checkpoint):
    """The flags robot_flamingo/eval/eval_calvin.py reads with readout_args."""
    f = {}
    for name, default in [("early_exit_layer", -1), ("exit_interval", 1), ("exit_dropout", 0.0), ("lstm_dropout", 0.0),
                          ("dropout_mode", "wo_last"), ("mlp_layernorm", False), ("lstm_layernorm", False),
                          ("mlp_num_hidden_layers", 3), ("lstm_num_layers", 4), ("pooling", "max"),
                          ("head_type", "deterministic")]:
        f[name] = checkpoint.get(name, default)
    if "layernorm" in checkpoint:
        f["mlp_layernorm"] = checkpoint["layernorm"]
    if f["early_exit_layer"] < 0:
        f["early_exit_layer"] += 24  # mpt_dolly_3b
    return f


def build(a, flags):
    import open_clip
    import open_clip.openai
    from robot_flamingo.models import factory as rf
    # open_clip looks for OpenAI's ViT-L-14.pt in clip_path and would
    # download it otherwise: point it at the user's file.
    open_clip.openai.get_pretrained_url = lambda name, tag: "file://" + os.path.abspath(a.clip)
    open_clip.openai.download_pretrained_from_url = lambda url, cache_dir=None: os.path.abspath(a.clip)
    orig = open_clip.create_model_and_transforms

    def vision_only(*args, **kw):
        # DeeR never runs CLIP's text tower: free it (0.5 GB at ViT-L/14).
        m, pt, pv = orig(*args, **kw)
        for n in ("transformer", "token_embedding", "ln_final", "positional_embedding", "text_projection"):
            if hasattr(m, n):
                delattr(m, n)
        return m, pt, pv
    open_clip.create_model_and_transforms = vision_only
    if a.clip_config:
        import shutil
        import tempfile
        d = tempfile.mkdtemp()
        shutil.copy(a.clip_config, os.path.join(d, a.clip_name + ".json"))
        open_clip.add_model_config(os.path.join(d, a.clip_name + ".json"))
    rf.clip_path = os.path.dirname(os.path.abspath(a.clip))
    model, image_processor, tokenizer = rf.create_model_and_transforms(
        a.clip_name, "openai", a.lm_dir, a.lm_dir, cross_attn_every_n_layers=a.cross_attn_every,
        use_local_files=True, window_size=12, use_gripper=True, fusion_mode="post", llm_name=a.llm_name,
        return_feature=True, decoder_type="lstm", head_type=flags["head_type"], pooling=flags["pooling"],
        early_exit_layer=flags["early_exit_layer"], multi_exit=False, exit_interval=flags["exit_interval"],
        exit_dropout=flags["exit_dropout"], lstm_dropout=flags["lstm_dropout"], dropout_mode=flags["dropout_mode"],
        mlp_layernorm=flags["mlp_layernorm"], lstm_layernorm=flags["lstm_layernorm"],
        lstm_num_layers=flags["lstm_num_layers"], mlp_num_hidden_layers=flags["mlp_num_hidden_layers"],
        layerwise_exit_eval=False, use_media_placement_augmentation=False)
    return model, image_processor, tokenizer


def load_checkpoint(model, sd):
    """eval_calvin.py's ddp_model.load_state_dict(ckpt_dict, False) on the
    `module.`-prefixed keys."""
    class DDPLike(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.module = m
    res = DDPLike(model).load_state_dict(sd, False)
    missing = [k for k in res.missing_keys if "vision_encoder" not in k and "old_decoder_blocks" not in k
               and ".decoder_layer." not in k and "ln_f" not in k]
    return res, missing


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deer-repo", required=True, help="a checkout of github.com/yueyang130/DeeR-VLA")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--lm-dir", required=True, help="the MPT folder (config.json, weights, mosaic_gpt.py, tokenizer)")
    p.add_argument("--clip", required=True, help="OpenAI's ViT-L-14.pt (or a state dict in its layout)")
    p.add_argument("--clip-name", default="ViT-L-14", help="open_clip model name (ViT-L-14 for DeeR)")
    p.add_argument("--clip-config", default=None,
                   help="an open_clip model config JSON to register first, named after --clip-name (test shapes)")
    p.add_argument("--llm-name", default="mpt_dolly_3b")
    p.add_argument("--cross-attn-every", type=int, default=1, help="mpt_dict's cross_attn_every_n_layers (1 for 3B)")
    p.add_argument("--max-tokens", type=int, default=32, help="the export's max_tokens (pads the golden's ids)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--images", default=None, help="folder for the episode's PNGs (default: beside --out)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="written into the golden for deer_vla_export_check")
    p.add_argument("--drop-frozen-aliases", action="store_true",
                   help="memory saver: drop the checkpoint's lang_encoder.old_decoder_blocks.* (aliases of the frozen "
                        "MPT weights that get_checkpoint keeps) before building, checking a sample of each against "
                        "the MPT weights the model loads")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    for sub in ("", "open_flamingo"):
        sys.path.insert(0, os.path.join(os.path.abspath(a.deer_repo), sub))
    import torch.distributed as dist
    if not dist.is_initialized() and os.environ.get("DEER_REF_NO_DIST") is None:
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=0, world_size=1)
    from robot_flamingo.data.data import preprocess_image, preprocess_text_calvin
    from robot_flamingo.models.value_net import ActionValueNet, ExitController

    torch.set_grad_enabled(False)
    checkpoint = torch.load(a.checkpoint, map_location="cpu")
    flags = eval_flags(checkpoint)
    sd = checkpoint["model_state_dict"]
    del checkpoint
    # The eval model has no lm_exit_modules (multi_exit off): load_state_dict
    # ignores those keys; drop them before building to save memory.
    for k in [k for k in sd if ".lm_exit_modules." in k]:
        del sd[k]
    samples = {}
    if a.drop_frozen_aliases:
        for k in [k for k in sd if ".old_decoder_blocks." in k]:
            samples[k[len("module."):]] = sd.pop(k).reshape(-1)[:64].clone()
    model, image_processor, tokenizer = build(a, flags)
    msd = model.state_dict()
    bad = [k for k, v in samples.items() if not torch.equal(msd[k].reshape(-1)[:64].float(), v.float())]
    if bad:
        sys.exit("--drop-frozen-aliases: the checkpoint's copies differ from the MPT weights: %s" % bad[:5])
    del msd
    res, missing = load_checkpoint(model, sd)
    if missing:
        sys.exit("checkpoint lacks trained parts the model has: %s" % missing[:20])
    del sd
    model.float().eval()
    exit_ids = model.get_all_exit_idx()
    max_layer = flags["early_exit_layer"] + 1
    n = len([x for x in exit_ids if x <= max_layer - 1])

    img_dir = a.images or os.path.join(os.path.dirname(os.path.abspath(a.out)), "episode")
    episode_images(img_dir, a.steps)
    resize_crop = [t for t in image_processor.transforms[:2]]  # Resize(224, bicubic), CenterCrop(224)
    pad_id = tokenizer.pad_token_id if hasattr(tokenizer, "pad_token_id") else tokenizer.vocab[tokenizer.pad_token]

    # The runs below see the same images as the recording: serve the visual
    # tokens computed there (the reference's own output for these
    # inputs) instead of running the ViT twice more per step. The wrapper does
    # what _encode_multi_vision_post_fusion does with them: condition every
    # decoder layer.
    cache = {}
    encode = model._encode_multi_vision_post_fusion

    def cached_encode(vision_rgb, vision_gripper, state_tensor=None, **kw):
        key = (vision_rgb.data_ptr(), vision_gripper.data_ptr())
        if key not in cache:
            cache[key] = encode(vision_rgb, vision_gripper, state_tensor, **kw)
        for layer in model.lang_encoder._get_decoder_layers():
            layer.condition_vis_x(cache[key])
        return cache[key]
    model._encode_multi_vision_post_fusion = cached_encode

    steps, rec = [], []
    for t in range(a.steps):
        ims = {}
        for cam in ("static", "gripper"):
            im = Image.open(os.path.join(img_dir, "%s_%02d.png" % (cam, t))).convert("RGB")
            crop = im
            for tr in resize_crop:
                crop = tr(crop)
            ims[cam] = (im, np.asarray(crop))
        image_x = preprocess_image([ims["static"][0]], image_processor).unsqueeze(1).unsqueeze(1)
        gripper = preprocess_image([ims["gripper"][0]], image_processor).unsqueeze(1).unsqueeze(1)
        text_x, mask = preprocess_text_calvin([INSTRUCTION], tokenizer)
        vis = cached_encode(image_x, gripper)
        hs = model.lang_encoder(input_ids=text_x, attention_mask=mask.bool(), output_hidden_states=True).hidden_states
        pooled = [h[0].max(0).values for h in hs]  # DeterministicDecoder's AdaptiveMaxPool1d over tokens
        ids = text_x[0].tolist()
        ids = ids + [pad_id] * (a.max_tokens - len(ids))
        steps.append({"episode": 0, "instruction": INSTRUCTION,
                      "static": {"width": ims["static"][0].width, "height": ims["static"][0].height, "encoding": "rgb8",
                                 "data": b64u8(np.asarray(ims["static"][0]))},
                      "gripper": {"width": ims["gripper"][0].width, "height": ims["gripper"][0].height, "encoding": "rgb8",
                                  "data": b64u8(np.asarray(ims["gripper"][0]))},
                      "tokens": ids, "static_crop": b64u8(ims["static"][1]), "gripper_crop": b64u8(ims["gripper"][1]),
                      "visual_tokens": b64f(vis[0, 0]), "feature_1": b64f(pooled[0]),
                      "exit_features": [b64f(pooled[i]) for i in exit_ids]})
        rec.append((image_x, gripper, text_x, mask))
        print("step %d: %d prompt tokens, visual tokens %s" % (t, text_x.shape[1], tuple(vis.shape)), file=sys.stderr)


    def run(name, thresholds):
        vn = ActionValueNet(exit_list=exit_ids, exit_head=model.extra_exit, interval=flags["exit_interval"],
                            window_size=12, threshold_type="L2")
        ctl = ExitController(vn, exit_id_list=exit_ids, steps_per_stage=1, leq=True, exit_dist="exp", max_layer=max_layer)
        ctl._set_threshold_value(thresholds)
        model.clear_all_exit_memory()  # ModelWrapper.reset()
        model.set_all_exit_window_size(1)  # ModelWrapper.step at inference
        results = []
        for t, (image_x, gripper, text_x, mask) in enumerate(rec):
            ctl.set_timestep(t)
            deltas = []
            orig = vn.forward

            def spy(feats, i=None, **kw):
                v = orig(feats, i, **kw)
                deltas.append(float(v.reshape(-1)[0]))
                return v
            vn.forward = spy
            o = model(vision_x=image_x, lang_x=text_x, attention_mask=mask, vision_gripper=gripper, state_tensor=None,
                      return_feature=True, deterministic=True, exit_id=None, dynamic_early_exit=True, exit_controller=ctl)
            vn.forward = orig
            h, c = model.extra_exit.hidden_state
            results.append({"exit": exit_ids.index(int(o.exit_layer)) + 1, "pose": o.logits[0].reshape(-1).tolist(),
                            "gripper_prob": float(o.logits[1].reshape(-1)[0]), "distances": deltas,
                            "h": b64f(h), "c": b64f(c)})
            print("run %s step %d: exit %d distances %s" % (name, t, results[-1]["exit"], ["%.5g" % d for d in deltas]),
                  file=sys.stderr)
        return results

    full = run("deepest", [0.0] * n)
    med = [float(np.median([r["distances"][k] for r in full])) for k in range(n - 1)] + [0.0]
    given = run("median", med)
    golden = {"tolerance": a.tolerance, "source": "DeeR-VLA reference (%s)" % os.path.basename(a.checkpoint),
              # the exporter's names: feature_<decoder layers run> (exit k ends at layer exit_ids[k-1])
              "features": ["feature_%d" % (i + 1) for i in exit_ids],
              "steps": steps,
              "runs": [{"name": "deepest", "thresholds": [0.0] * n, "results": full},
                       {"name": "median", "thresholds": med, "results": given}]}
    with open(a.out, "w") as fh:
        json.dump(golden, fh)
    print("wrote %s: %d steps, exits chosen with the median thresholds: %s"
          % (a.out, len(steps), [r["exit"] for r in given]), file=sys.stderr)


if __name__ == "__main__":
    main()
