#!/usr/bin/python3
"""Times Pillow + HF CLIPImageProcessor semantics (scripts/hf_clip_preprocess.py)
on the 12 MP JPEG that pkg/imageproc's BenchmarkDecodePreprocess12MP wrote,
plainly and with Image.draft("RGB", (2S, 2S)) first (what clip does by
default), and, given those benchmarks' output, prints the Go/Pillow ratios.

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
from PIL import Image  # noqa: E402


def default_jpeg():
    return os.environ.get("CLIP_BENCH_JPEG") or os.path.join(tempfile.gettempdir(), "clip-bench-12mp.jpg")


def go_ns_per_op(path, name="BenchmarkDecodePreprocess12MP"):
    with open(path) as f:
        for line in f:
            m = re.match(re.escape(name) + r"(?:-\d+)?\s+\d+\s+(\d+(?:\.\d+)?) ns/op", line)
            if m:
                return float(m.group(1))
    return None


def preprocess_draft(path):
    """clip's default path in Pillow: draft to twice the shortest edge."""
    im = Image.open(path)
    s = ref.OPENAI_CLIP_CONFIG["size"]["shortest_edge"]
    im.draft("RGB", (2 * s, 2 * s))
    return ref.preprocess(im)


def median_time(fn, path, n):
    """Median wall time and median CPU time (this process, all threads)."""
    fn(path)  # warm-up (imports, file cache)
    times, cpus = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(path)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpus)


def go_cpu_ms(path, name):
    with open(path) as f:
        for line in f:
            if re.match(re.escape(name) + r"(?:-\d+)?\s", line):
                m = re.search(r"(\d+(?:\.\d+)?) cpu-ms/op", line)
                return float(m.group(1)) if m else None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jpeg", default=default_jpeg())
    ap.add_argument("--go-bench", help="output of the Go benchmark, to print the ratio")
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args()
    if not os.path.exists(args.jpeg):
        sys.exit(f"{args.jpeg}: missing; run the Go benchmark first (it writes the file)")
    pil, pil_cpu = median_time(ref.preprocess, args.jpeg, args.n)
    pil_draft, pil_draft_cpu = median_time(preprocess_draft, args.jpeg, args.n)
    print(f"Pillow {PIL.__version__} decode+preprocess 12MP: {pil * 1e3:.1f} ms/op, "
          f"{pil_cpu * 1e3:.1f} cpu-ms/op (median of {args.n})")
    print(f"Pillow {PIL.__version__} decode+preprocess 12MP with draft: {pil_draft * 1e3:.1f} ms/op, "
          f"{pil_draft_cpu * 1e3:.1f} cpu-ms/op (median of {args.n})")
    if not args.go_bench:
        return
    for name, label, ref_wall, ref_cpu, ref_name in (
            ("BenchmarkDecodePreprocess12MP", "exact", pil, pil_cpu, "Pillow"),
            ("BenchmarkDecodePreprocess12MPReduced", "reduced (default)", pil_draft, pil_draft_cpu, "Pillow-draft")):
        ns = go_ns_per_op(args.go_bench, name)
        if ns is None:
            if name == "BenchmarkDecodePreprocess12MP":
                sys.exit(f"{args.go_bench}: no {name} line")
            continue
        go = ns / 1e9
        line = f"clip (Go) decode+preprocess 12MP {label}: {go * 1e3:.1f} ms/op; Go/{ref_name} time ratio {go / ref_wall:.2f}"
        cpu = go_cpu_ms(args.go_bench, name)
        if cpu is not None:
            line += f"; {cpu:.1f} cpu-ms/op, CPU ratio {cpu / 1e3 / ref_cpu:.2f}"
        print(line)

if __name__ == "__main__":
    main()
