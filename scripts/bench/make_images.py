#!/usr/bin/python3
"""Write N photo-sized JPEGs for the end-to-end classify benchmark of
scripts/bench/run.sh: crops of the project's test photos
(testdata/images/{astronaut,chelsea,coffee}.jpg) and ../shared/images/CLIP.png,
resized to 640×480 and saved at quality 90 with Pillow. Deterministic.

usage: /usr/bin/python3 scripts/bench/make_images.py OUT_DIR [N]
"""
import os
import sys

from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 32
    srcs = [os.path.join(ROOT, "testdata", "images", f) for f in ("astronaut.jpg", "chelsea.jpg", "coffee.jpg")]
    srcs.append(os.path.join(ROOT, "..", "shared", "images", "CLIP.png"))
    imgs = [Image.open(p).convert("RGB") for p in srcs if os.path.exists(p)]
    if not imgs:
        sys.exit("make_images: no source images found")
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        im = imgs[i % len(imgs)]
        w, h = im.size
        # A different crop per image: shrink by up to 30% and slide.
        f = 1 - 0.3 * ((i * 7) % 10) / 10
        cw, ch = max(8, int(w * f)), max(8, int(h * f))
        x, y = ((i * 37) % 10) * (w - cw) // 10, ((i * 53) % 10) * (h - ch) // 10
        im.crop((x, y, x + cw, y + ch)).resize((640, 480), Image.BICUBIC).save(
            os.path.join(out, f"img{i:03d}.jpg"), quality=90)


if __name__ == "__main__":
    main()
