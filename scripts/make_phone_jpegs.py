#!/usr/bin/python3
"""Write N phone-camera-like JPEGs: 4000×3000 (every other one 3000×4000),
quality 92, 4:2:0, about 3 MB each. skimage's photos are upscaled and given
sensor-like noise (luma and weaker chroma Gaussian noise), so that the
entropy-coded data is as dense as a real photo's; a smooth upscale alone
would compress to a few hundred KB and flatter the Huffman decoder.
Deterministic (seeded).

usage: /usr/bin/python3 scripts/make_phone_jpegs.py OUT_DIR [N]
"""
import os
import sys

import numpy as np
from PIL import Image
from skimage import data


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4
    os.makedirs(out, exist_ok=True)
    srcs = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(12)
    for i in range(n):
        src = Image.fromarray(srcs[i % len(srcs)])
        w, h = (4000, 3000) if i % 2 == 0 else (3000, 4000)
        # Crop the source to the target aspect, then upscale.
        sw, sh = src.size
        if sw * h > sh * w:
            cw = sh * w // h
            src = src.crop(((sw - cw) // 2, 0, (sw - cw) // 2 + cw, sh))
        else:
            ch = sw * h // w
            src = src.crop((0, (sh - ch) // 2, sw, (sh - ch) // 2 + ch))
        im = np.asarray(src.resize((w, h), Image.BICUBIC), dtype=np.float32)
        luma = rng.normal(0, 5.0, (h, w, 1)).astype(np.float32)
        chroma = rng.normal(0, 2.0, (h, w, 3)).astype(np.float32)
        im = np.clip(im + luma + chroma, 0, 255).astype(np.uint8)
        path = os.path.join(out, f"photo{i:02d}.jpg")
        Image.fromarray(im).save(path, quality=92, subsampling=2)
        print(f"{path}: {w}x{h}, {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
