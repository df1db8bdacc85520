#!/usr/bin/python3
"""Writes testdata/heif/ (HEIC and AVIF test files) and their reference
crops in testdata/golden/heif/, for pkg/imageproc's HEIF tests.

The files are encoded by Debian's libheif-examples (`heif-enc`, x265 for HEIC,
aom for AVIF). heif-enc 1.15 cannot write grid (tiled) images, as iPhones do,
nor rotated/mirrored ones, so for those this script encodes each tile (or the
whole picture) with heif-enc and re-wraps the coded HEVC data in a HEIF
container it writes itself (ISO/IEC 23008-12: a 'grid' item referencing the
tiles through 'dimg', or 'irot'/'imir' properties on the primary item).

The reference pixels come from libheif itself: `heif-convert` to PNG, then
Pillow's convert("RGB") (alpha dropped) and the HF CLIP preprocessing of
scripts/hf_clip_preprocess.py (shortest edge 224 bicubic, centre crop 224):

  <file>.crop.npy   uint8 [3,224,224]
  <file>.{y,cb,cr}.npy  for the single-item HEICs in PLANE_FILES: the planes
                    Debian's libde265 (the decoder heif-convert runs) decodes
                    from the file's HEVC stream, uint8 or uint16 (>8 bits)
  <file>.rgb.npy    uint8 [h,w,3]: heif-convert's RGB for those files
  MANIFEST.json     tool versions; per file: size after libheif's transforms,
                    or "error" for files heif-convert refuses

    /usr/bin/python3 scripts/make_heif_testdata.py
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import PIL
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_clip_preprocess as ref  # noqa: E402

# Files whose decoded planes are stored, so that the colour conversion is
# tested on its own against heif-convert's (see de265_planes).
PLANE_FILES = ["plain.heic", "10bit.heic", "bt709_limited.heic"]

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "testdata", "heif")
GOLDEN = os.path.join(ROOT, "testdata", "golden", "heif")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def write_png16(path, rgb16):
    """A 16-bit RGB PNG (Pillow cannot write one): heif-enc -b 10 input."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# --- ISOBMFF reading (enough for heif-enc's single-image files) -------------

def boxes(b, off=0, end=None):
    end = len(b) if end is None else end
    while off + 8 <= end:
        size, kind = struct.unpack(">I4s", b[off:off + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", b[off + 8:off + 16])[0], 16
        elif size == 0:
            size = end - off
        yield kind.decode("latin1"), off, off + hdr, off + size
        off += size


def child(b, start, end, kind, full=False):
    for k, o, s, e in boxes(b, start + (4 if full else 0), end):
        if k == kind:
            return o, s, e
    raise KeyError(kind)


def coded_item(path, config="hvcC"):
    """(codec configuration box (hvcC or av1C), colr box or b"", coded data)
    of the primary item."""
    b = open(path, "rb").read()
    _, ms, me = child(b, 0, len(b), "meta")
    ms += 4  # FullBox header
    _, ps, pe = child(b, ms, me, "iprp")
    _, cs, ce = child(b, ps, pe, "ipco")
    props = {k: b[o:e] for k, o, s, e in boxes(b, cs, ce)}
    _, ls, le = child(b, ms, me, "iloc")
    _, ts, te = child(b, ms, me, "pitm")
    primary = struct.unpack(">H", b[ts + 4:ts + 6])[0]
    rd = lambda n, q: int.from_bytes(b[q:q + n], "big")  # noqa: E731
    ver = b[ls]
    p = ls + 4
    osz, lsz, bsz, isz = b[p] >> 4, b[p] & 15, b[p + 1] >> 4, (b[p + 1] & 15) if ver else 0
    p += 2
    idsz = 4 if ver == 2 else 2
    count = rd(idsz, p)
    p += idsz
    data = None
    for _ in range(count):
        iid = rd(idsz, p)
        p += idsz
        if ver:
            assert rd(2, p) & 15 == 0, "expected file-offset construction"
            p += 2
        p += 2  # data_reference_index
        base = rd(bsz, p)
        p += bsz
        n = rd(2, p)
        p += 2
        ext = b""
        for _ in range(n):
            p += isz
            off, ln = rd(osz, p), rd(lsz, p + osz)
            p += osz + lsz
            ext += b[base + off:base + off + ln]
        if iid == primary:
            data = ext
    return props[config], props.get("colr", b""), data


def de265_planes(path):
    """The Y, Cb, Cr planes Debian's libde265 (through ctypes) decodes from
    the primary item of a single-image HEIC: what heif-convert converts."""
    import ctypes
    de = ctypes.CDLL("libde265.so.0")
    de.de265_new_decoder.restype = ctypes.c_void_p
    de.de265_get_next_picture.restype = ctypes.c_void_p
    de.de265_get_image_plane.restype = ctypes.POINTER(ctypes.c_uint8)
    hvcc, _, data = coded_item(path)
    nals, p = [], 8 + 22  # hvcC box header + its fixed fields, then the NAL arrays
    count, p = hvcc[p], p + 1
    for _ in range(count):
        n = struct.unpack(">H", hvcc[p + 1:p + 3])[0]
        p += 3
        for _ in range(n):
            ln = struct.unpack(">H", hvcc[p:p + 2])[0]
            nals.append(hvcc[p + 2:p + 2 + ln])
            p += 2 + ln
    size = (hvcc[8 + 21] & 3) + 1
    q = 0
    while q < len(data):
        ln = int.from_bytes(data[q:q + size], "big")
        nals.append(data[q + size:q + size + ln])
        q += size + ln
    dec = ctypes.c_void_p(de.de265_new_decoder())
    for n in nals:
        de.de265_push_NAL(dec, ctypes.c_char_p(bytes(n)), len(n), ctypes.c_longlong(0), None)
    de.de265_flush_data(dec)
    more, img = ctypes.c_int(1), None
    while more.value and not img:
        de.de265_decode(dec, ctypes.byref(more))
        img = de.de265_get_next_picture(dec)
    img = ctypes.c_void_p(img)
    bpp = de.de265_get_bits_per_pixel(img, 0)
    out = []
    for c in range(3):
        w, h, stride = de.de265_get_image_width(img, c), de.de265_get_image_height(img, c), ctypes.c_int()
        ptr = de.de265_get_image_plane(img, c, ctypes.byref(stride))
        bps = 2 if bpp > 8 else 1
        a = np.ctypeslib.as_array(ptr, shape=(h * stride.value,)).reshape(h, stride.value)[:, :w * bps].copy()
        out.append(a.view("<u2") if bps == 2 else a)
    return out


# --- ISOBMFF writing -----------------------------------------------------------

def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload


def fullbox(kind, version, flags, payload):
    return box(kind, struct.pack(">I", version << 24 | flags) + payload)


def ispe(w, h):
    return fullbox("ispe", 0, 0, struct.pack(">II", w, h))


def write_heif(path, items, primary, props, assoc, dimg=None, brand=b"heic"):
    """items: [(id, type, data)]; props: property boxes (1-based indices);
    assoc: {item id: [(property index, essential)]}; dimg: (from, [to])."""
    iinf = fullbox("iinf", 0, 0, struct.pack(">H", len(items)) + b"".join(
        fullbox("infe", 2, 1 if dimg and i in dimg[1] else 0, struct.pack(">HH4s", i, 0, t.encode()) + b"\0")
        for i, t, _ in items))  # flags 1: tiles are hidden items
    iref = b""
    if dimg:
        src, dst = dimg
        iref = fullbox("iref", 0, 0, box("dimg", struct.pack(">HH", src, len(dst)) + b"".join(struct.pack(">H", d) for d in dst)))
    ipma = fullbox("ipma", 0, 0, struct.pack(">I", len(assoc)) + b"".join(
        struct.pack(">HB", i, len(a)) + bytes((0x80 if ess else 0) | idx for idx, ess in a) for i, a in sorted(assoc.items())))
    iprp = box("iprp", box("ipco", b"".join(props)) + ipma)
    ftyp = box("ftyp", brand + struct.pack(">I", 0) + b"mif1" + brand)

    def meta(offsets):
        iloc = fullbox("iloc", 0, 0, bytes([0x44, 0x00]) + struct.pack(">H", len(items)) + b"".join(
            struct.pack(">HHHII", i, 0, 1, off, len(d)) for (i, _, d), off in zip(items, offsets)))
        hdlr = fullbox("hdlr", 0, 0, struct.pack(">I4s12x", 0, b"pict") + b"\0")
        return fullbox("meta", 0, 0, hdlr + fullbox("pitm", 0, 0, struct.pack(">H", primary)) + iinf + iloc + iref + iprp)

    start = len(ftyp) + len(meta([0] * len(items))) + 8
    offsets, o = [], start
    for _, _, d in items:
        offsets.append(o)
        o += len(d)
    mdat = box("mdat", b"".join(d for _, _, d in items))
    with open(path, "wb") as f:
        f.write(ftyp + meta(offsets) + mdat)


def make_grid(tmp, src, path, tile, cols, rows, out_w, out_h, irot=None):
    """An iPhone-style grid: cols×rows HEVC tiles of tile×tile pixels, the
    output cropped to out_w×out_h (the right and bottom tiles overhang),
    turned by irot quarter turns anticlockwise if given."""
    items, props, assoc, ids = [], [], {}, []
    props.append(ispe(out_w, out_h))
    arr = np.asarray(src)
    for r in range(rows):
        for c in range(cols):
            t = np.zeros((tile, tile, 3), np.uint8)
            part = arr[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile]
            t[:part.shape[0], :part.shape[1]] = part
            png = os.path.join(tmp, f"tile{r}{c}.png")
            Image.fromarray(t).save(png)
            run("heif-enc", "-q", "85", "-o", png + ".heic", png)
            hvcc, colr, data = coded_item(png + ".heic")
            iid = 2 + len(ids)
            ids.append(iid)
            items.append((iid, "hvc1", data))
            props += [hvcc, ispe(tile, tile)]
            assoc[iid] = [(len(props) - 1, True), (len(props), False)]
    assoc[1] = [(1, False)]
    if colr:
        props.append(colr)
        assoc[1].append((len(props), False))
    if irot is not None:
        props.append(box("irot", bytes([irot & 3])))
        assoc[1].append((len(props), True))
    grid = struct.pack(">BBBBHH", 0, 0, rows - 1, cols - 1, out_w, out_h)
    write_heif(path, [(1, "grid", grid)] + items, 1, props, assoc, dimg=(1, ids))


def make_transformed(tmp, src, path, irot, imir, avif=False):
    """One HEVC (or AV1) item with 'irot' (anticlockwise quarter turns) then
    'imir' (libheif flips top-bottom for axis 0, left-right for 1), in that order."""
    png = os.path.join(tmp, "whole.png")
    Image.fromarray(np.asarray(src)).save(png)
    coded = png + (".avif" if avif else ".heic")
    run("heif-enc", *(["-A"] if avif else []), "-q", "85", "-o", coded, png)
    config, colr, data = coded_item(coded, "av1C" if avif else "hvcC")
    props = [config, ispe(*src.size)] + ([colr] if colr else [])
    a = [(1, True), (2, False)] + ([(3, False)] if colr else [])
    if irot is not None:
        props.append(box("irot", bytes([irot & 3])))
        a.append((len(props), True))
    if imir is not None:
        props.append(box("imir", bytes([imir & 1])))
        a.append((len(props), True))
    write_heif(path, [(1, "av01" if avif else "hvc1", data)], 1, props, {1: a}, brand=b"avif" if avif else b"heic")


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(GOLDEN, exist_ok=True)
    chelsea = Image.open(os.path.join(SKIMAGE, "chelsea.png")).convert("RGB")  # 451x300, CC0
    coffee = Image.open(os.path.join(SKIMAGE, "coffee.png")).convert("RGB")    # 600x400, CC0
    horse = Image.open(os.path.join(SKIMAGE, "horse.png"))                     # CC0 silhouette
    with tempfile.TemporaryDirectory() as tmp:
        def src(name, im):
            # through numpy: no ICC profile copied into the HEIF (libpng
            # refuses the skimage PNGs' sRGB profile when heif-convert
            # writes it back)
            p = os.path.join(tmp, name)
            Image.fromarray(np.asarray(im)).save(p)
            return p

        c = src("chelsea.png", chelsea)
        run("heif-enc", "-q", "80", "-o", os.path.join(OUT, "chelsea.heic"), c)
        run("heif-enc", "-A", "-q", "80", "-o", os.path.join(OUT, "chelsea.avif"), c)
        # alpha (dropped as for PNG): coffee with a soft transparent band
        rgba = coffee.resize((300, 200), Image.BICUBIC).convert("RGBA")
        alpha = np.full((200, 300), 255, np.uint8)
        alpha[:, 100:200] = np.linspace(0, 255, 100, dtype=np.uint8)[None, :]
        rgba.putalpha(Image.fromarray(alpha))
        a = src("alpha.png", rgba)
        run("heif-enc", "-q", "80", "-o", os.path.join(OUT, "alpha.heic"), a)
        # 10-bit from a 16-bit PNG (a smooth ramp, where 10 bits matter)
        arr = np.asarray(coffee.resize((240, 160), Image.BICUBIC)).astype(np.uint16) * 257
        ramp = np.linspace(0, 65535, 240).astype(np.uint16)
        arr[:40] = ramp[None, :, None]
        p16 = os.path.join(tmp, "ten.png")
        write_png16(p16, arr)
        run("heif-enc", "-b", "10", "-q", "80", "-o", os.path.join(OUT, "10bit.heic"), p16)
        # aom 3.6 asserts on 10-bit 4:2:0 and 4:4:4 from heif-enc 1.15 (a profile
        # mismatch); 4:2:2 works
        run("heif-enc", "-A", "-b", "10", "-p", "chroma=422", "-q", "80", "-o", os.path.join(OUT, "10bit.avif"), p16)
        # grid: 3x2 tiles of 128, output 360x230 (as an iPhone's 4032x3024 of 512-tiles)
        make_grid(tmp, chelsea, os.path.join(OUT, "grid.heic"), 128, 3, 2, 360, 230)
        make_grid(tmp, chelsea, os.path.join(OUT, "grid_rot270.heic"), 128, 3, 2, 360, 230, irot=3)
        small = chelsea.resize((240, 160), Image.BICUBIC)
        make_transformed(tmp, small, os.path.join(OUT, "rot90.heic"), 1, None)
        make_transformed(tmp, small, os.path.join(OUT, "rot270_mirror.heic"), 3, 1)
        # the same coded pictures untransformed: rotating our decode of these
        # must give our decode of the rotated files exactly
        make_transformed(tmp, small, os.path.join(OUT, "plain.heic"), None, None)
        make_transformed(tmp, small, os.path.join(OUT, "plain.avif"), None, None, avif=True)
        # plain.heic's coded picture said to be BT.709 limited range by an nclx
        # colr box (heif-enc 1.15 writes none for its --matrix_coefficients etc.)
        hvcc, _, data = coded_item(os.path.join(OUT, "plain.heic"))
        nclx = box("colr", b"nclx" + struct.pack(">HHHB", 1, 13, 1, 0))
        write_heif(os.path.join(OUT, "bt709_limited.heic"), [(1, "hvc1", data)], 1, [hvcc, ispe(*small.size), nclx],
                   {1: [(1, True), (2, False), (3, False)]})
        make_transformed(tmp, small, os.path.join(OUT, "rot90_mirror.avif"), 1, 0, avif=True)
        # broken: a truncated file and a valid-looking ftyp followed by junk
        whole = open(os.path.join(OUT, "chelsea.heic"), "rb").read()
        open(os.path.join(OUT, "broken_truncated.heic"), "wb").write(whole[:len(whole) // 2])
        open(os.path.join(OUT, "broken_junk.heic"), "wb").write(whole[:32] + bytes(range(256)) * 4)
        del horse
        # monochrome (4:0:0), from a greyscale PNG
        g = src("gray.png", chelsea.convert("L").crop((0, 0, 240, 160)))
        run("heif-enc", "-q", "80", "-o", os.path.join(OUT, "gray.heic"), g)
        run("heif-enc", "-A", "-q", "80", "-o", os.path.join(OUT, "gray.avif"), g)
        # one pixel: too small for the trailer of pkg/imageproc's AVIF plane copy
        run("heif-enc", "-A", "-q", "80", "-o", os.path.join(OUT, "tiny.avif"), src("one.png", Image.new("RGB", (1, 1), (200, 40, 90))))
        # narrower than libheif's 64-sample minimum plane stride
        run("heif-enc", "-q", "80", "-o", os.path.join(OUT, "narrow.heic"), src("narrow.png", chelsea.crop((200, 100, 240, 130))))

        manifest = {"made_by": "scripts/make_heif_testdata.py", "pillow": PIL.__version__,
                    "libheif": subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libheif-examples"], capture_output=True, text=True).stdout,
                    "config": ref.OPENAI_CLIP_CONFIG, "files": {}}
        for name in sorted(os.listdir(OUT)):
            path = os.path.join(OUT, name)
            png = os.path.join(tmp, name + ".png")
            r = subprocess.run(["heif-convert", "--quiet", path, png], capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(png) or os.path.getsize(png) == 0:
                manifest["files"][name] = {"error": (r.stderr or r.stdout).strip().splitlines()[-1:]}
                continue
            im = Image.open(png)
            rgb = im.convert("RGB")
            crop = ref.resized_uint8(rgb, ref.OPENAI_CLIP_CONFIG)
            np.save(os.path.join(GOLDEN, name + ".crop.npy"), np.ascontiguousarray(crop.transpose(2, 0, 1)))
            if name in PLANE_FILES:
                for k, plane in zip(("y", "cb", "cr"), de265_planes(path)):
                    np.save(os.path.join(GOLDEN, f"{name}.{k}.npy"), plane)
                np.save(os.path.join(GOLDEN, name + ".rgb.npy"), np.asarray(rgb))
            manifest["files"][name] = {"mode": im.mode, "width": rgb.width, "height": rgb.height,
                                       "bytes": os.path.getsize(path)}
    with open(os.path.join(GOLDEN, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
