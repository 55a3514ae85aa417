#!/usr/bin/python3
"""Writes golden data for resize: clip (policy/preprocess_clip_test.go).

Run with Debian's python3 (python3-pil, python3-numpy) from the repository
root:  /usr/bin/python3 policy/testdata/gen_clip_golden.py

For each case it writes a seeded random RGB image (in_<name>.png) and what
the reference's CLIP transform makes of it before ToTensor
(out_<name>.png): torchvision's Resize(size, BICUBIC) on a PIL image, which
is PIL's Image.resize((w, h), Image.BICUBIC) with the shorter side at size
and the longer at int(size * long / short), then CenterCrop(size) with
offsets round((in - size) / 2). torchvision is not needed: those two steps
are written out here as torchvision writes them.
"""
import json
import os

import numpy as np
import PIL
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clip")

# name, width, height, model size. The 224 cases are the real ones: CALVIN's
# static (200x200) and gripper (84x84) cameras upscaled, a 640x480 camera
# downscaled. The small ones add odd sizes, portrait frames, crops whose
# offset rounds a half (to even) and strong shrinking.
CASES = [
    ("calvin_static", 200, 200, 224),
    ("calvin_gripper", 84, 84, 224),
    ("vga", 640, 480, 224),
    ("portrait_down", 45, 70, 16),
    ("odd_up", 13, 10, 24),
    ("half_crop", 29, 20, 20),
    ("shrink_5x", 97, 83, 16),
    ("square_same", 16, 16, 16),
]


def image(rng, w, h):
    """Noise, a smooth gradient and hard-edged blocks, so that the filter's
    overshoot is clipped and its averaging shows."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.uint8)
    for c in range(3):
        grad = (x * (3 + c) + y * (5 - c)) * 255 // max(1, 3 * w + 5 * h)
        blocks = rng.integers(0, 2, size=((h + 6) // 7, (w + 6) // 7))[y // 7, x // 7] * 255
        noise = rng.integers(0, 256, size=(h, w))
        # Noise on top (at most 24 rows, to keep the files small), then a
        # gradient, then blocks.
        noisy = y < min(h // 3, 24)
        img[..., c] = np.where(noisy, noise, np.where(y < (h * 2) // 3, grad, blocks))
    return img


def clip_transform(im, size):
    w, h = im.size
    if w <= h:
        rw, rh = size, int(size * h / w)
    else:
        rw, rh = int(size * w / h), size
    im = im.resize((rw, rh), Image.BICUBIC)
    top = int(round((rh - size) / 2.0))
    left = int(round((rw - size) / 2.0))
    return im.crop((left, top, left + size, top + size))


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(21)
    cases = []
    for name, w, h, size in CASES:
        src = Image.fromarray(image(rng, w, h), "RGB")
        src.save(os.path.join(HERE, f"in_{name}.png"), optimize=True)
        clip_transform(src, size).save(os.path.join(HERE, f"out_{name}.png"), optimize=True)
        cases.append({"name": name, "size": size})
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"pillow": PIL.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
