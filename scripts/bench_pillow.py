#!/usr/bin/python3
"""Times Pillow + HF CLIPImageProcessor semantics (scripts/hf_clip_preprocess.py)
on the 12 MP JPEG that pkg/imageproc's BenchmarkDecodePreprocess12MP wrote,
and, given that benchmark's output, prints the Go/Pillow ratio.

    go test ./pkg/imageproc -run '^$' -bench DecodePreprocess12MP -benchtime 5x | tee /tmp/go-bench.txt
    /usr/bin/python3 scripts/bench_pillow.py [--jpeg PATH] [--go-bench /tmp/go-bench.txt] [-n 5]

PATH defaults to $CLIP_BENCH_JPEG or $TMPDIR/clip-bench-12mp.jpg, as in the
Go benchmark. Same machine, same run: numbers are only comparable when both
ran back to back.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_clip_preprocess as ref  # noqa: E402
import PIL  # noqa: E402


def default_jpeg():
    return os.environ.get("CLIP_BENCH_JPEG") or os.path.join(tempfile.gettempdir(), "clip-bench-12mp.jpg")


def go_ns_per_op(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"BenchmarkDecodePreprocess12MP\S*\s+\d+\s+(\d+(?:\.\d+)?) ns/op", line)
            if m:
                return float(m.group(1))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jpeg", default=default_jpeg())
    ap.add_argument("--go-bench", help="output of the Go benchmark, to print the ratio")
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args()
    if not os.path.exists(args.jpeg):
        sys.exit(f"{args.jpeg}: missing; run the Go benchmark first (it writes the file)")
    ref.preprocess(args.jpeg)  # warm-up (imports, file cache)
    times = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        ref.preprocess(args.jpeg)
        times.append(time.perf_counter() - t0)
    pil = statistics.median(times)
    print(f"Pillow {PIL.__version__} decode+preprocess 12MP: {pil * 1e3:.1f} ms/op (median of {args.n})")
    if args.go_bench:
        ns = go_ns_per_op(args.go_bench)
        if ns is None:
            sys.exit(f"{args.go_bench}: no BenchmarkDecodePreprocess12MP line")
        go = ns / 1e9
        print(f"clip (Go) decode+preprocess 12MP: {go * 1e3:.1f} ms/op; Go/Pillow time ratio {go / pil:.2f}")


if __name__ == "__main__":
    main()
