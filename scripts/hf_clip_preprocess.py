#!/usr/bin/python3
"""Reference CLIP image preprocessing on Pillow + NumPy (Debian python3-pil).

This is an independent re-implementation of the semantics of Hugging Face
`transformers.CLIPImageProcessor` (the processor behind every HF CLIP
export), written from its documented behaviour and source, so that the Go
port in pkg/imageproc can be held to it without installing transformers:

  1. load: PIL.Image.open, then ImageOps.exif_transpose (what
     transformers.image_utils.load_image does for paths/URLs)
  2. do_convert_rgb: image.convert("RGB")  (alpha is dropped, not composited)
  3. do_resize: shortest edge -> size["shortest_edge"], long edge
     int(size * long / short) (truncated), PIL resize with `resample`
     (3 = BICUBIC by default) on the uint8 image
     (or {"height","width"} -> exact size)
  4. do_center_crop: top = (H - crop_h) // 2, left = (W - crop_w) // 2;
     zero-padded first when the image is smaller than the crop
     (transformers.image_transforms.center_crop)
  5. do_rescale: float64(x) * rescale_factor, cast to float32
  6. do_normalize: (x - float32(mean)) / float32(std) in float32
  7. HWC -> CHW, batch axis added: float32 [1, 3, H, W]

`crop_rounding="openai"` switches step 4 to torchvision's
round((H - crop) / 2.0) (Python's round: half to even), as OpenAI's clip
and open_clip use.

Usage as a library:  preprocess(path_or_image, config_dict) -> np.ndarray
Usage as a script:   hf_clip_preprocess.py IMAGE [preprocessor_config.json] OUT.npy
"""

import json
import math
import sys

import numpy as np
from PIL import Image, ImageOps

# OpenAI CLIP ViT-B/32 preprocessor_config.json as published on the Hub
# (openai/clip-vit-base-patch32, also Xenova/clip-vit-base-patch32).
OPENAI_CLIP_CONFIG = {
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}


def load_image(path_or_image, exif_transpose=True):
    """Opens an image the way transformers.image_utils.load_image does."""
    if isinstance(path_or_image, Image.Image):
        im = path_or_image
    else:
        im = Image.open(path_or_image)
        im.load()
    if exif_transpose:
        im = ImageOps.exif_transpose(im)
    return im


def _size_pair(value, default_to_square):
    """Returns ("shortest", n) or ("exact", (h, w)) from an HF size entry."""
    if isinstance(value, int):
        return ("exact", (value, value)) if default_to_square else ("shortest", value)
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return _size_pair(int(value[0]), default_to_square)
        return ("exact", (int(value[0]), int(value[1])))
    if "shortest_edge" in value:
        return ("shortest", int(value["shortest_edge"]))
    return ("exact", (int(value["height"]), int(value["width"])))


def resize_output_size(width, height, size_spec):
    """(new_w, new_h) following transformers.get_resize_output_image_size."""
    kind, val = size_spec
    if kind == "exact":
        h, w = val
        return w, h
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = val, int(val * long / short)
    if width <= height:
        return new_short, new_long
    return new_long, new_short


def resized_uint8(im, config):
    """Steps 1-4 on a PIL image: returns the uint8 HWC array fed to rescale."""
    if config.get("do_convert_rgb", True):
        im = im.convert("RGB")
    if config.get("do_resize", True):
        # CLIPImageProcessor calls get_size_dict(size, default_to_square=False)
        spec = _size_pair(config.get("size", {"shortest_edge": 224}), False)
        new_w, new_h = resize_output_size(im.width, im.height, spec)
        resample = int(config.get("resample", 3))
        if (new_w, new_h) != im.size:
            im = im.resize((new_w, new_h), resample=resample)
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if config.get("do_center_crop", True):
        crop = config.get("crop_size", {"height": 224, "width": 224})
        _, (ch, cw) = _size_pair(crop, True)
        arr = center_crop(arr, ch, cw, config.get("crop_rounding", "hf"))
    return arr


def _offset(orig, crop, rounding):
    if rounding == "openai":
        return int(round((orig - crop) / 2.0))
    return (orig - crop) // 2


def center_crop(arr, ch, cw, rounding="hf"):
    """HWC center crop with transformers' zero padding for small images."""
    h, w = arr.shape[:2]
    top, left = _offset(h, ch, rounding), _offset(w, cw, rounding)
    if top >= 0 and left >= 0 and top + ch <= h and left + cw <= w:
        return arr[top:top + ch, left:left + cw]
    nh, nw = max(ch, h), max(cw, w)
    padded = np.zeros((nh, nw) + arr.shape[2:], dtype=arr.dtype)
    tp, lp = math.ceil((nh - h) / 2), math.ceil((nw - w) / 2)
    padded[tp:tp + h, lp:lp + w] = arr
    top, left = top + tp, left + lp
    return padded[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]


def normalize_chw(arr_uint8, config):
    """Steps 5-7: uint8 HWC -> float32 [1, C, H, W]."""
    x = arr_uint8
    if config.get("do_rescale", True):
        x = (x.astype(np.float64) * float(config.get("rescale_factor", 1 / 255))).astype(np.float32)
    else:
        x = x.astype(np.float32)
    if config.get("do_normalize", True):
        mean = np.array(config["image_mean"], dtype=np.float32)
        std = np.array(config["image_std"], dtype=np.float32)
        x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None].astype(np.float32))


def preprocess(path_or_image, config=None, exif_transpose=True):
    """Full CLIPImageProcessor pipeline: returns float32 [1, 3, H, W]."""
    config = dict(OPENAI_CLIP_CONFIG if config is None else config)
    im = load_image(path_or_image, exif_transpose=exif_transpose)
    return normalize_chw(resized_uint8(im, config), config)


def open_clip_preprocess(path_or_image, size=224, mean=None, std=None, interpolation="bicubic"):
    """open_clip's inference transform for resize_mode "shortest" (what
    immich's preprocess_cfg.json describes), on Pillow + torch:
    Resize(size) on the image in its own mode (torchvision: PIL resize to
    shortest edge, long side int(size * long / short)), CenterCrop(size)
    with round((H - size) / 2.0), then convert("RGB"), ToTensor (float32
    x / 255) and Normalize ((x - mean) / std in float32). Returns [1,3,H,W].
    Note the order: RGBA images are resized before alpha is dropped (Pillow
    premultiplies alpha while resizing them)."""
    import torch

    mean = OPENAI_CLIP_CONFIG["image_mean"] if mean is None else mean
    std = OPENAI_CLIP_CONFIG["image_std"] if std is None else std
    im = load_image(path_or_image)
    resample = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[interpolation]
    new_w, new_h = resize_output_size(im.width, im.height, ("shortest", size))
    if (new_w, new_h) != im.size:
        im = im.resize((new_w, new_h), resample)
    if size > im.width or size > im.height:
        raise ValueError("padding crops are not reproduced here")
    top = int(round((im.height - size) / 2.0))
    left = int(round((im.width - size) / 2.0))
    im = im.crop((left, top, left + size, top + size)).convert("RGB")
    t = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)
    m = torch.tensor(mean, dtype=torch.float32)[:, None, None]
    s = torch.tensor(std, dtype=torch.float32)[:, None, None]
    return ((t - m) / s).unsqueeze(0).numpy()


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    config = OPENAI_CLIP_CONFIG
    if len(argv) == 4:
        with open(argv[2]) as f:
            config = json.load(f)
    np.save(argv[-1], preprocess(argv[1], config))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
