#!/usr/bin/python3
"""Pillow's side of the photos section of `make bench`: decode + HF CLIP
preprocessing (scripts/hf_clip_preprocess.py) per photo, on every *.jpg of a
folder, plain and with Image.draft (libjpeg's DCT-domain downscaling to the
smallest scale still at least twice the 224 shortest edge, as issue 16 asks
clip's reduced decode to match). Prints two lines, wall time and the
process's CPU time (Pillow decodes on one thread; on a shared machine CPU
time moves less with other load):

    Pillow <version> photos plain: <ms> ms/photo, <ms> cpu-ms/photo
    Pillow <version> photos draft: <ms> ms/photo, <ms> cpu-ms/photo

usage: /usr/bin/python3 scripts/bench/pillow_photos.py DIR [-n PASSES]
"""
import argparse
import glob
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hf_clip_preprocess as ref  # noqa: E402
import PIL  # noqa: E402
from PIL import Image  # noqa: E402


def plain(path):
    ref.preprocess(path)


def draft(path):
    im = Image.open(path)
    s = ref.OPENAI_CLIP_CONFIG["size"]["shortest_edge"]
    im.draft("RGB", (2 * s, 2 * s))
    ref.preprocess(im)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("-n", type=int, default=2, help="passes over the folder (median taken)")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "*.jpg")))
    if not files:
        sys.exit(f"{args.dir}: no *.jpg")
    plain(files[0])  # warm-up: imports, file cache
    for name, fn in (("plain", plain), ("draft", draft)):
        passes, cpu = [], []
        for _ in range(args.n):
            t0, c0 = time.perf_counter(), time.process_time()
            for f in files:
                fn(f)
            passes.append((time.perf_counter() - t0) / len(files))
            cpu.append((time.process_time() - c0) / len(files))
        print(f"Pillow {PIL.__version__} photos {name}: {statistics.median(passes) * 1e3:.1f} ms/photo, "
              f"{statistics.median(cpu) * 1e3:.1f} cpu-ms/photo")


if __name__ == "__main__":
    main()
