"""Writes testdata/golden/preprocess/<image>.siglip<H>x<W>.tensor.npy: what
SiglipImageProcessor does with Pillow (Debian python3-pil) and numpy, written out
step by step: convert to RGB, squash to W x H with im.resize((W, H), BICUBIC) (no
aspect-preserving resize, no crop), rescale by 1/255 in float64 then float32 (HF's
rescale), normalise with mean = std = 0.5 in float32; float32 [1, 3, H, W].

    /usr/bin/python3 scripts/siglip_preprocess_golden.py
"""

import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGES = os.path.join(ROOT, "testdata", "images")
OUT = os.path.join(ROOT, "testdata", "golden", "preprocess")

# Lossless sources, so the decoded pixels are Pillow's exactly; sizes (H, W).
CASES = [("image.bmp", [(96, 96), (48, 80)]), ("tall_50x4000.png", [(64, 64)])]


def squash(img, h, w):
    img = img.convert("RGB")
    if img.size != (w, h):
        img = img.resize((w, h), resample=Image.BICUBIC)
    x = (np.asarray(img).astype(np.float64) * (1 / 255)).astype(np.float32)
    mean = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    std = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    x = (x - mean) / std
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def main():
    for name, sizes in CASES:
        with Image.open(os.path.join(IMAGES, name)) as img:
            for h, w in sizes:
                out = os.path.join(OUT, f"{name}.siglip{h}x{w}.tensor.npy")
                np.save(out, squash(img, h, w))
                print(out)


if __name__ == "__main__":
    main()
