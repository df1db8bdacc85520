#!/usr/bin/python3
"""Writes testdata/golden/preprocess/: what Pillow (Debian python3-pil) and
the HF CLIPImageProcessor semantics of scripts/hf_clip_preprocess.py give
for every file in testdata/images/, for pkg/imageproc's tests.

  <image>.crop.npy     uint8 [3,224,224]: the pixels after convert("RGB"),
                       EXIF transpose, shortest-edge-224 bicubic resize and
                       HF center crop, i.e. the tensor before rescale and
                       normalisation (OpenAI CLIP ViT-B/32 config)
  <image>.tensor.npy   float32 [1,3,224,224]: the full tensor, for a few images
  <image>.decoded.npy  uint8 [H,W,3]: Pillow's decoded RGB pixels (EXIF
                       transposed) for images up to 100k pixels
  resize_<filter>_<src>_<W>x<H>.npy  uint8 [H,W,3]: Image.resize alone
  MANIFEST.json        tool versions, per-image mode/size or Pillow's error

    /usr/bin/python3 scripts/preprocess_golden.py
"""

import hashlib
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, features

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_clip_preprocess as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGES = os.path.join(ROOT, "testdata", "images")
OUT = os.path.join(ROOT, "testdata", "golden", "preprocess")

# Orientations 2-8 are covered by their decoded pixels; their crops would
# repeat orientation 1's.
SKIP_CROP = {f"exif_orientation_{o}.jpg" for o in range(2, 9) if o != 6} | {
    # decoder-only cases: their decoded pixels are checked, resizing is not new
    "sampling_440.jpg", "sampling_411.jpg", "restart_interval.jpg",
    "progressive_restart.jpg", "unsupported_arithmetic.jpg",
}
FULL_TENSOR = {"chelsea.jpg"}
MAX_DECODED_PIXELS = 100_000

RESIZES = [
    # (source image, converted to RGB; lossless so Go decodes it exactly)
    ("image.bmp", [(224, 149), (97, 63), (31, 17), (96, 200), (150, 64), (1, 1)]),
    ("horse_rgba.png", [(224, 183), (57, 41), (400, 100)]),
    ("tall_50x4000.png", [(10, 800), (3, 4001)]),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "made_by": "scripts/preprocess_golden.py",
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "zlib": features.version("zlib"),
        "webp": features.version("webp"),
        "numpy": np.__version__,
        "torch": __import__("torch").__version__,  # open_clip tensors
        "config": ref.OPENAI_CLIP_CONFIG,
        "images": {},
        "resizes": [],
    }
    for name in sorted(os.listdir(IMAGES)):
        if name.endswith(".md"):
            continue
        path = os.path.join(IMAGES, name)
        entry = {}
        try:
            im = ref.load_image(path)
            rgb = im.convert("RGB")
        except Exception as e:  # Pillow refuses it: Go must refuse it too
            entry["error"] = f"{type(e).__name__}: {e}"
            manifest["images"][name] = entry
            continue
        entry.update(mode=Image.open(path).mode, width=rgb.width, height=rgb.height)
        if rgb.width * rgb.height <= MAX_DECODED_PIXELS:
            np.save(os.path.join(OUT, name + ".decoded.npy"), np.asarray(rgb, dtype=np.uint8))
            entry["decoded"] = True
        if name not in SKIP_CROP:
            crop = ref.resized_uint8(rgb, ref.OPENAI_CLIP_CONFIG)
            np.save(os.path.join(OUT, name + ".crop.npy"), np.ascontiguousarray(crop.transpose(2, 0, 1)))
            entry["crop"] = True
        if name in FULL_TENSOR:
            np.save(os.path.join(OUT, name + ".tensor.npy"), ref.preprocess(path, ref.OPENAI_CLIP_CONFIG))
            entry["tensor"] = True
        manifest["images"][name] = entry

    # An odd crop margin (rocket: 512x342 -> 335x224, margin 111) where
    # torchvision/OpenAI rounding (56) and HF's floor (55) differ.
    openai_cfg = dict(ref.OPENAI_CLIP_CONFIG, crop_rounding="openai")
    crop = ref.resized_uint8(ref.load_image(os.path.join(IMAGES, "rocket.jpg")).convert("RGB"), openai_cfg)
    np.save(os.path.join(OUT, "rocket.jpg.openai.crop.npy"), np.ascontiguousarray(crop.transpose(2, 0, 1)))

    # open_clip / immich semantics (preprocess_cfg.json): torchvision-style
    # crop rounding, ToTensor's float32 division, resize before RGB.
    # (size 96 keeps the files small; the arithmetic is the same at 224)
    for name in ("chelsea.jpg", "rocket.jpg", "horse_rgba.png", "rgba.png"):
        np.save(os.path.join(OUT, name + ".openclip96.tensor.npy"),
                ref.open_clip_preprocess(os.path.join(IMAGES, name), size=96))

    # No resize, crop larger than the image: HF pads with zeros
    # (ceil(margin/2) before), so the tensor holds -mean/std around it.
    pad_cfg = dict(ref.OPENAI_CLIP_CONFIG, do_resize=False, crop_size={"height": 81, "width": 120})
    crop = ref.resized_uint8(Image.open(os.path.join(IMAGES, "image.bmp")).convert("RGB"), pad_cfg)
    np.save(os.path.join(OUT, "image.bmp.pad81x120.crop.npy"), np.ascontiguousarray(crop.transpose(2, 0, 1)))

    # The project's shared RGBA picture (not committed here): its crop, and
    # a digest of Pillow's full decoded RGB pixels.
    shared = os.path.join(ROOT, "..", "shared", "images", "CLIP.png")
    if os.path.exists(shared):
        rgb = ref.load_image(shared).convert("RGB")
        crop = ref.resized_uint8(rgb, ref.OPENAI_CLIP_CONFIG)
        np.save(os.path.join(OUT, "shared_CLIP.png.crop.npy"), np.ascontiguousarray(crop.transpose(2, 0, 1)))
        manifest["shared_CLIP.png"] = {
            "mode": Image.open(shared).mode, "width": rgb.width, "height": rgb.height,
            "rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
        }

    for srcname, sizes in RESIZES:
        rgb = Image.open(os.path.join(IMAGES, srcname)).convert("RGB")
        filters = [("bicubic", Image.BICUBIC), ("bilinear", Image.BILINEAR)]
        if srcname == "image.bmp":  # the rarer filters HF configs may name
            filters += [("lanczos", Image.LANCZOS), ("box", Image.BOX), ("hamming", Image.HAMMING)]
        for filt, resample in filters:
            for w, h in sizes:
                out = f"resize_{filt}_{srcname}_{w}x{h}.npy"
                np.save(os.path.join(OUT, out), np.asarray(rgb.resize((w, h), resample), dtype=np.uint8))
                manifest["resizes"].append({"file": out, "source": srcname, "filter": filt, "width": w, "height": h})

    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
