#!/usr/bin/python3
"""Writes the reduced-size JPEG decoding fixtures (Pillow's Image.draft,
i.e. libjpeg-turbo's scale_num/scale_denom DCT-domain scaling) for
pkg/imageproc's tests:

  testdata/images-draft/*.jpg   small JPEGs made from skimage's photos: every
                                chroma sampling, gray, progressive, restart
                                intervals, odd sizes, EXIF orientation, CMYK
  testdata/golden/draft/
    <image>.s<N>.decoded.npy    uint8 [H,W,3]: Pillow's pixels after
                                draft("RGB", (W//N, H//N)) (a 1/N decode),
                                convert("RGB") and EXIF transpose
    <image>.S<S>.crop.npy       uint8 [3,S,S]: the CLIPImageProcessor crop
                                (shortest edge S, bicubic, center crop S)
                                after draft("RGB", (2S, 2S)), which is
                                what `clip` does by default
    MANIFEST.json               versions, and per golden its scale and size

    /usr/bin/python3 scripts/jpeg_draft_golden.py
"""

import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps, features
from skimage import data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_clip_preprocess as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
IMAGES = os.path.join(ROOT, "testdata", "images")
DRAFT_IMAGES = os.path.join(ROOT, "testdata", "images-draft")
OUT = os.path.join(ROOT, "testdata", "golden", "draft")


def exif_with_orientation(o):
    ex = Image.Exif()
    ex[0x0112] = o
    return ex.tobytes()


def make_images():
    os.makedirs(DRAFT_IMAGES, exist_ok=True)
    astro = Image.fromarray(data.astronaut())
    coffee = Image.fromarray(data.coffee())
    # Odd sizes (not multiples of the 8/16-pixel MCUs) at every scale.
    a = astro.resize((203, 141), Image.LANCZOS)
    c = coffee.resize((157, 109), Image.LANCZOS)
    noise = Image.fromarray(np.random.RandomState(16).randint(0, 256, (109, 157, 3), dtype=np.uint8))
    specs = [
        ("s420.jpg", a, dict(quality=90, subsampling=2)),
        ("s444.jpg", a, dict(quality=90, subsampling=0)),
        ("s422.jpg", c, dict(quality=90, subsampling=1)),
        ("gray.jpg", a.convert("L"), dict(quality=90)),
        ("progressive420.jpg", c, dict(quality=85, subsampling=2, progressive=True)),
        ("progressive444.jpg", a, dict(quality=85, subsampling=0, progressive=True)),
        ("restart420.jpg", a, dict(quality=88, subsampling=2, restart_marker_blocks=3)),
        ("orient6_420.jpg", c, dict(quality=90, subsampling=2, exif=exif_with_orientation(6))),
        ("cmyk.jpg", c.convert("CMYK"), dict(quality=90)),
        ("q100_420.jpg", a, dict(quality=100, subsampling=2)),
        # Noise at quality 100: blocks whose last coefficient is coded
        # (no end of block), and progressive bands that end on a coded
        # coefficient, the edges of the two-coefficient Huffman lookup.
        ("noise_q100_444.jpg", noise, dict(quality=100, subsampling=0)),
        ("noise_q100_progressive.jpg", noise, dict(quality=100, subsampling=0, progressive=True)),
    ]
    for name, im, kw in specs:
        im.save(os.path.join(DRAFT_IMAGES, name), **kw)
    # 4:4:0 and 4:1:1 are not reachable through Pillow's save.
    return [s[0] for s in specs]


def draft_open(path, size):
    im = Image.open(path)
    im.draft("RGB", size)
    im.load()
    return im


def main():
    names = make_images()
    # Samplings Pillow cannot write, made by scripts/make_test_images.py.
    existing = ["sampling_440.jpg", "sampling_411.jpg", "progressive_restart.jpg"]
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "made_by": "scripts/jpeg_draft_golden.py",
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "numpy": np.__version__,
        "decoded": {},
        "crops": {},
    }
    for name in names + existing:
        rel = ("../images-draft/" + name) if name in names else name
        path = os.path.join(IMAGES, rel)
        w, h = Image.open(path).size
        for n in (2, 4, 8):
            im = draft_open(path, (w // n, h // n))
            want = ((w + n - 1) // n, (h + n - 1) // n)
            assert im.size == want, (name, n, im.size, want)
            rgb = ImageOps.exif_transpose(im).convert("RGB")
            out = f"{name}.s{n}.decoded.npy"
            np.save(os.path.join(OUT, out), np.asarray(rgb, dtype=np.uint8))
            manifest["decoded"][out] = {"image": rel, "scale": n}
    # End to end: the default (draft) path of a CLIP config with shortest
    # edge S; small S reach 1/4 and 1/8 on small files.
    crops = [("retina_2mp.jpg", 112), ("astronaut.jpg", 64), ("chelsea.jpg", 64),
             ("coffee.jpg", 32), ("rocket.jpg", 24)]
    crops += [("../images-draft/" + n, 24) for n in names if n != "cmyk.jpg"] + [("../images-draft/s420.jpg", 16)]
    for rel, s in crops:
        path = os.path.join(IMAGES, rel)
        w, h = Image.open(path).size
        im = draft_open(path, (2 * s, 2 * s))
        scale = next((n for n in (2, 4, 8) if im.size == ((w + n - 1) // n, (h + n - 1) // n)), 1)
        assert scale > 1, (rel, s, "draft does not reduce")
        cfg = dict(ref.OPENAI_CLIP_CONFIG, size={"shortest_edge": s}, crop_size={"height": s, "width": s})
        crop = ref.resized_uint8(ImageOps.exif_transpose(im), cfg)
        out = f"{os.path.basename(rel)}.S{s}.crop.npy"
        np.save(os.path.join(OUT, out), np.ascontiguousarray(crop.transpose(2, 0, 1)))
        manifest["crops"][out] = {"image": rel, "shortest_edge": s, "scale": scale,
                                  "draft_width": im.size[0], "draft_height": im.size[1]}
    with open(os.path.join(OUT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
