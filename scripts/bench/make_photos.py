#!/usr/bin/python3
"""Write the phone-photo set of `make bench`'s "photos" section: 16 JPEGs of
12 MP (4000×3000, every other one 3000×4000), quality 92 with 4:2:0 chroma,
a few 12 MP HEICs (heif-enc, when libheif-examples is installed) under
heic/, and one 99 MP JPEG (11500×8600, under the default 100 MP cap) under
big/ for the decode-memory measurement.

The pictures are python3-skimage's data photos upscaled (bicubic) with
sensor-like noise added (Gaussian, stronger in the shadows, as shot noise
and read noise make it) so the files weigh about 3 MB like a phone's rather
than the 1 MB a noiseless upscale compresses to. Deterministic (seeded).

usage: /usr/bin/python3 scripts/bench/make_photos.py OUT_DIR [N_JPEG [N_HEIC]]
"""
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
SOURCES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "retina.jpg", "motorcycle_left.png"]


def photo(src, i, rng):
    w, h = (4000, 3000) if i % 2 == 0 else (3000, 4000)
    sw, sh = src.size
    # the largest crop of the source with the photo's aspect, slid per index
    if sw * h > sh * w:
        cw, ch = sh * w // h, sh
    else:
        cw, ch = sw, sw * h // w
    x0 = (sw - cw) * ((i * 37) % 11) // 10
    y0 = (sh - ch) * ((i * 53) % 11) // 10
    im = src.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.BICUBIC)
    a = np.asarray(im, dtype=np.float32)
    sigma = 3.0 + 5.0 * (1.0 - a.mean(axis=2, keepdims=True) / 255.0)
    a = a + rng.standard_normal(a.shape, dtype=np.float32) * sigma
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    n_heic = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    os.makedirs(out, exist_ok=True)
    srcs = [Image.open(os.path.join(SKIMAGE, s)).convert("RGB") for s in SOURCES if os.path.exists(os.path.join(SKIMAGE, s))]
    if not srcs:
        sys.exit(f"make_photos: no python3-skimage photos in {SKIMAGE}")
    rng = np.random.default_rng(2026)
    for i in range(n):
        path = os.path.join(out, f"photo{i:02d}.jpg")
        if not os.path.exists(path):
            photo(srcs[i % len(srcs)], i, rng).save(path, quality=92, subsampling=2)
    big = os.path.join(out, "big", "big99mp.jpg")
    if not os.path.exists(big):
        os.makedirs(os.path.dirname(big), exist_ok=True)
        srcs[0].resize((11500, 8600), Image.BILINEAR).save(big, quality=92, subsampling=2)
    heics = os.path.join(out, "heic")
    if n_heic and shutil.which("heif-enc"):
        os.makedirs(heics, exist_ok=True)
        for i in range(n_heic):
            path = os.path.join(heics, f"photo{i:02d}.heic")
            if not os.path.exists(path):
                subprocess.run(["heif-enc", "-q", "80", "-o", path, os.path.join(out, f"photo{i:02d}.jpg")],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif n_heic:
        print("make_photos: no heif-enc (Debian libheif-examples): no HEICs", file=sys.stderr)


if __name__ == "__main__":
    main()
