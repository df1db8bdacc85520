#!/usr/bin/python3
"""Writes testdata/images/: real photos from Debian's python3-skimage data
folder (public domain / CC0) re-encoded small, plus edge cases for the
decoders and converters of pkg/imageproc.

Deterministic: same Pillow + libjpeg-turbo/zlib/libwebp => same bytes.
Run with Debian's /usr/bin/python3 (python3-pil, python3-skimage).

    /usr/bin/python3 scripts/make_test_images.py [OUT_DIR]
"""

import io
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image, features

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"


def src(name):
    im = Image.open(os.path.join(SKIMAGE_DATA, name))
    im.load()
    return im


def fit(im, limit=512):
    """Shrinks so the long side is at most `limit` (Pillow BICUBIC)."""
    if max(im.size) <= limit:
        return im
    s = limit / max(im.size)
    return im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)


def write_png16(filename, arr, color_type):
    """Writes a 16-bit PNG from a uint16 array (Pillow cannot write 16-bit
    colour PNGs): color_type 2 = RGB, 6 = RGBA, 4 = gray + alpha."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(filename, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def exif_with_orientation(o):
    exif = Image.Exif()
    exif[0x0112] = o
    return exif.tobytes()


# For EXIF orientation o, the stored pixels are the inverse of what
# ImageOps.exif_transpose applies, so every file displays as the same picture.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.FLIP_LEFT_RIGHT,
    3: Image.ROTATE_180,
    4: Image.FLIP_TOP_BOTTOM,
    5: Image.TRANSPOSE,
    6: Image.ROTATE_90,  # exif_transpose applies ROTATE_270
    7: Image.TRANSVERSE,
    8: Image.ROTATE_270,  # exif_transpose applies ROTATE_90
}


def main(out):
    os.makedirs(out, exist_ok=True)

    def path(name):
        return os.path.join(out, name)

    # --- real photos -----------------------------------------------------
    fit(src("astronaut.png")).save(path("astronaut.jpg"), quality=90)
    fit(src("chelsea.png")).save(path("chelsea.jpg"), quality=90)
    fit(src("coffee.png")).save(path("coffee.jpg"), quality=90)
    fit(src("rocket.jpg")).save(path("rocket.jpg"), quality=90)
    # The largest photo of the set (1411x1411, ~2 MP) kept at full size so
    # tests resize something realistic.
    src("retina.jpg").save(path("retina_2mp.jpg"), quality=90)
    # A real RGBA PNG (silhouette on transparent background), unchanged.
    src("horse.png").save(path("horse_rgba.png"), optimize=False)

    # --- edge cases, made from a crop of a real photo ----------------------
    base = src("coffee.png").convert("RGB").crop((100, 60, 196, 124))  # 96x64
    arr = np.asarray(base)

    gray = base.convert("L")
    gray.save(path("gray.jpg"), quality=90)
    gray.save(path("gray.png"))

    # 16-bit grayscale covering the whole range: Pillow clips (not scales)
    # values above 255 when converting to 8 bits, so most pixels saturate.
    g16 = (np.asarray(gray).astype(np.uint32) * 257 // 4).astype(np.uint16)
    g16[:, :8] = np.arange(8, dtype=np.uint16)[None, :] * 37  # some < 256
    Image.fromarray(g16, "I;16").save(path("gray16.png"))

    Image.fromarray(g16, "I;16").save(path("gray16.tiff"))

    # 16-bit colour PNGs: Pillow keeps the high byte of each sample.
    wide = arr.astype(np.uint16) * 257 + np.arange(arr.shape[1], dtype=np.uint16)[None, :, None]
    write_png16(path("rgb16.png"), wide, 2)
    a16 = (np.arange(arr.shape[1], dtype=np.uint32)[None, :] * 65535 // (arr.shape[1] - 1)).astype(np.uint16)
    a16 = np.broadcast_to(a16, arr.shape[:2])
    write_png16(path("rgba16.png"), np.dstack([wide, a16]), 6)
    write_png16(path("la16.png"), np.dstack([wide[:, :, 1], a16]), 4)

    base.convert("CMYK").save(path("cmyk.jpg"), quality=90)

    # RGBA with fully and partly transparent pixels whose colour is not
    # black, so "drop alpha" and "composite on black/white" differ.
    alpha = np.zeros(arr.shape[:2], np.uint8)
    alpha[:, 32:64] = 128
    alpha[:, 64:] = 255
    alpha[:8, :] = 0
    rgba = np.dstack([arr, alpha])
    Image.fromarray(rgba, "RGBA").save(path("rgba.png"))
    la = np.dstack([np.asarray(gray), alpha])
    Image.fromarray(la, "LA").save(path("la.png"))

    pal = base.quantize(colors=32, method=Image.MEDIANCUT, dither=Image.NONE)
    pal.info["transparency"] = 3
    pal.save(path("palette_transparent.png"), transparency=3)

    # Animated GIF: frames differ, the first frame is what counts.
    frames = [base.quantize(colors=64, dither=Image.NONE)]
    frames.append(base.transpose(Image.FLIP_LEFT_RIGHT).quantize(colors=64, dither=Image.NONE))
    frames.append(Image.new("RGB", base.size, (255, 0, 0)).quantize(colors=2))
    frames[0].save(path("animated.gif"), save_all=True, append_images=frames[1:],
                   duration=100, loop=0)

    # GIF with a transparent index whose colour is not black: Pillow keeps
    # the palette colour (Go's image/gif would turn it transparent black).
    pal.save(path("transparent.gif"), transparency=3)

    # First frame smaller than the logical screen: a Pillow-written 40x30
    # GIF whose screen is patched to 60x50 and frame moved to (10, 12).
    buf = io.BytesIO()
    base.crop((0, 0, 40, 30)).quantize(colors=16, dither=Image.NONE).save(buf, "GIF")
    g = bytearray(buf.getvalue())
    g[6:10] = (60).to_bytes(2, "little") + (50).to_bytes(2, "little")
    desc = g.index(b"\x2c", 13 + (3 << (g[10] & 7) if g[10] & 0x80 else 0))
    g[desc + 1:desc + 5] = (10).to_bytes(2, "little") + (12).to_bytes(2, "little")
    with open(path("offset_frame.gif"), "wb") as f:
        f.write(bytes(g))

    base.save(path("progressive.jpg"), quality=90, progressive=True)
    base.save(path("baseline_444.jpg"), quality=90, subsampling=0)
    base.save(path("baseline_422.jpg"), quality=90, subsampling=1)

    # EXIF orientations 1-8 of one asymmetric 64x48 picture (multiples of 16,
    # 4:4:4, q95 so that the eight decodes agree closely).
    pic = base.crop((0, 0, 64, 48))
    for o, method in STORE_FOR_ORIENTATION.items():
        stored = pic if method is None else pic.transpose(method)
        stored.save(path(f"exif_orientation_{o}.jpg"), quality=95, subsampling=0,
                    exif=exif_with_orientation(o))

    # Orientation 6 in a PNG eXIf chunk and a WebP EXIF chunk (lossless, so
    # the pixels are exact); exif_transpose honours both.
    o6 = pic.transpose(STORE_FOR_ORIENTATION[6])
    o6.save(path("exif_orientation_6.png"), exif=exif_with_orientation(6))
    if features.check("webp"):
        o6.save(path("exif_orientation_6.webp"), lossless=True, exif=exif_with_orientation(6))

    Image.new("RGB", (1, 1), (200, 30, 90)).save(path("tiny_1x1.png"))
    Image.new("RGB", (1, 1), (200, 30, 90)).save(path("tiny_1x1.jpg"), quality=90)

    strip = src("coffee.png").convert("RGB").resize((4000, 50), Image.BICUBIC)
    strip.save(path("wide_4000x50.jpg"), quality=90)
    strip.transpose(Image.ROTATE_90).save(path("tall_50x4000.png"))

    if features.check("webp"):
        base.save(path("lossless.webp"), lossless=True)
        base.save(path("lossy.webp"), quality=80, method=4)
        Image.fromarray(rgba, "RGBA").save(path("rgba_lossless.webp"), lossless=True, exact=True)
        # Animated WebP (first frame counts), lossless and lossy.
        flipped = base.transpose(Image.FLIP_LEFT_RIGHT)
        base.save(path("animated_lossless.webp"), save_all=True, append_images=[flipped],
                  duration=100, lossless=True)
        base.save(path("animated_lossy.webp"), save_all=True, append_images=[flipped],
                  duration=100, quality=80)
    else:
        print("Pillow has no WebP support: WebP test images not made", file=sys.stderr)

    base.save(path("image.bmp"))
    base.quantize(colors=200, dither=Image.NONE).save(path("palette.bmp"))
    base.save(path("image.tiff"))
    base.save(path("image_lzw.tiff"), compression="tiff_lzw")

    # --- libjpeg-turbo tools (Debian libjpeg-turbo-progs): restart markers,
    # rarer chroma layouts, arithmetic coding (which clip does not decode).
    if shutil.which("cjpeg") and shutil.which("jpegtran"):
        ppm = io.BytesIO()
        base.save(ppm, "PPM")

        def tool(args, data, name):
            out = subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout
            with open(path(name), "wb") as f:
                f.write(out)

        tool(["cjpeg", "-quality", "90", "-sample", "1x2,1x1,1x1"], ppm.getvalue(), "sampling_440.jpg")
        tool(["cjpeg", "-quality", "90", "-sample", "4x1,1x1,1x1"], ppm.getvalue(), "sampling_411.jpg")
        with open(path("baseline_422.jpg"), "rb") as f:
            b422 = f.read()
        tool(["jpegtran", "-restart", "3B"], b422, "restart_interval.jpg")
        tool(["jpegtran", "-progressive", "-restart", "1"], b422, "progressive_restart.jpg")
        tool(["jpegtran", "-arithmetic"], b422, "unsupported_arithmetic.jpg")
    else:
        print("cjpeg/jpegtran missing (apt-get install libjpeg-turbo-progs): "
              "restart/sampling/arithmetic JPEGs not made", file=sys.stderr)

    # --- broken files -----------------------------------------------------
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=90)
    jpg = buf.getvalue()
    with open(path("broken_truncated.jpg"), "wb") as f:
        f.write(jpg[: len(jpg) // 2])
    buf = io.BytesIO()
    base.save(buf, "PNG")
    png = buf.getvalue()
    with open(path("broken_truncated.png"), "wb") as f:
        f.write(png[: len(png) // 2])
    # Damaged but terminated: the entropy data stops early and an EOI
    # follows. libjpeg warns, fills gray, and Pillow returns the image.
    with open(path("chelsea.jpg"), "rb") as f:
        whole = f.read()
    with open(path("damaged_baseline.jpg"), "wb") as f:
        f.write(whole[: len(whole) * 2 // 3] + b"\xff\xd9")
    buf = io.BytesIO()
    src("chelsea.png").save(buf, "JPEG", quality=90, progressive=True)
    whole = buf.getvalue()
    with open(path("damaged_progressive.jpg"), "wb") as f:
        f.write(whole[: len(whole) * 3 // 5] + b"\xff\xd9")
    open(path("broken_empty.jpg"), "wb").close()
    with open(path("broken_text.jpg"), "w") as f:
        f.write("this is a text file, not a JPEG\n")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "testdata", "images"))
