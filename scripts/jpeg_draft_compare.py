#!/usr/bin/python3
"""Compares clip's default (reduced, Pillow-draft) JPEG decoding with the
full decode on photos, as issue 16 asks: for each JPEG,

  - the model input of `clip preprocess` (default) against Pillow's
    im.draft("RGB", (2S, 2S)) + CLIPImageProcessor, and of
    `clip preprocess --exact-decode` against plain Pillow (both should be 0)
  - reduced vs full model input (mean and max |difference|, in 1/255)
  - with --embed, the cosine similarity of `clip embed` with and without
    --exact-decode (needs a model: --model, e.g. testdata/models/tiny-shapes)

usage: /usr/bin/python3 scripts/jpeg_draft_compare.py --clip ./clip --model DIR JPEG... [--embed]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_clip_preprocess as ref  # noqa: E402


def load_config(model):
    with open(os.path.join(model, "preprocessor_config.json")) as f:
        return dict(ref.OPENAI_CLIP_CONFIG, **json.load(f))


def clip_tensor(clip, model, path, exact):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "t.npy")
        args = [clip, "preprocess", path, "--model", model, "--out", out, "-q"]
        if exact:
            args.append("--exact-decode")
        subprocess.run(args, check=True)
        return np.load(out)


def clip_embedding(clip, model, path, exact):
    args = [clip, "embed", "--model", model, path]
    if exact:
        args.append("--exact-decode")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return np.array(json.loads(out.splitlines()[0])["embedding"], dtype=np.float64)


def pixel_diff(a, b, cfg):
    """|a - b| of two normalised tensors in 1/255 of a pixel level."""
    std = np.array(cfg["image_std"], dtype=np.float64).reshape(1, 3, 1, 1)
    d = np.abs(a.astype(np.float64) - b.astype(np.float64)) * std * 255
    return d.mean(), d.max()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", default="./clip")
    ap.add_argument("--model", required=True)
    ap.add_argument("--embed", action="store_true")
    ap.add_argument("jpegs", nargs="+")
    args = ap.parse_args()
    cfg = load_config(args.model)
    s = cfg["size"]["shortest_edge"] if isinstance(cfg["size"], dict) else int(cfg["size"])
    rows = []
    for path in args.jpegs:
        full = ref.preprocess(path, cfg)
        im = Image.open(path)
        im.draft("RGB", (2 * s, 2 * s))
        draft = ref.preprocess(im, cfg)
        ours_red = clip_tensor(args.clip, args.model, path, False)
        ours_full = clip_tensor(args.clip, args.model, path, True)
        row = {
            "file": os.path.basename(path),
            "draft_size": "%dx%d" % im.size,
            "clip_reduced_vs_pillow_draft": pixel_diff(ours_red, draft, cfg),
            "clip_exact_vs_pillow": pixel_diff(ours_full, full, cfg),
            "pillow_draft_vs_full": pixel_diff(draft, full, cfg),
            "clip_reduced_vs_exact": pixel_diff(ours_red, ours_full, cfg),
        }
        if args.embed:
            a = clip_embedding(args.clip, args.model, path, False)
            b = clip_embedding(args.clip, args.model, path, True)
            row["cosine_reduced_vs_exact"] = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        rows.append(row)
        print(json.dumps(row))
    for key in ("clip_reduced_vs_pillow_draft", "clip_exact_vs_pillow", "clip_reduced_vs_exact"):
        print(f"{key}: mean {np.mean([r[key][0] for r in rows]):.4f}/255, "
              f"max {max(r[key][1] for r in rows):.3f}/255")
    if args.embed:
        print(f"cosine reduced vs exact: min {min(r['cosine_reduced_vs_exact'] for r in rows):.6f}")


if __name__ == "__main__":
    main()
