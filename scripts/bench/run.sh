#!/usr/bin/env bash
# `make bench`: every speed comparison of issue 10 in ONE run on this machine,
# written to BENCHMARKS.md (regenerated here, never edited by hand):
#
#   - the float32 FMA peak (AVX2 as the kernels use, and AVX-512 if present),
#   - short Go micro-benchmarks (Sgemm on the ViT-B/32 shapes),
#   - `clip onnx bench` vs onnxruntime-node (scripts/bench/ort_bench.mjs) on the
#     same files and inputs: ViT-B/32 vision and text at batch 1 and 8, and the
#     quantized vision file,
#   - the AVX2-only path (what an AVX2 machine runs): `clip onnx bench --isa
#     avx2` on ViT-B/32 vision fp32 batch 1 and 8 and int8 batch 8, in the same
#     rounds as the default-level and onnxruntime runs, and Sgemm's AVX2 kernels
#     on the ViT shapes (skipped when AVX2 is already this CPU's best level),
#   - `clip classify` end to end on 32 images vs transformers.js' pipeline
#     (scripts/bench/tjs_classify.mjs), and a cold one-image `clip classify`,
#   - tokenizer tokens/s vs transformers.js (CLIP's BPE, and a SentencePiece Unigram
#     fixture), 12 MP JPEG decode+preprocess vs Pillow,
#   - photos (scripts/bench/photos.sh): 16 phone-size JPEGs and a few HEICs end
#     to end, clip vs transformers.js vs clip's inference alone, and per-photo
#     decode+preprocess of clip and Pillow (plain and draft),
#   - exporter patterns (issue 20): every full-size export of
#     scripts/fixtures/make_exporter_patterns.py --full (HF 4-D eager, OpenCLIP,
#     torch 2.x SDPA; vision and text, fp32, batch 8) vs onnxruntime, beside
#     our own export's rows,
#   - SigLIP (issue 17): scripts/fixtures/make_bench_siglip.py's random-weight
#     base/16 (224 px; text at its 64 positions), vision and text, batch 8,
#     vs onnxruntime,
#   - index (scripts/bench/index.sh): a 1M-image index of synthetic CLIP-like
#     vectors; cold `clip search` wall time and RSS, in-process p50/p99 per
#     query, file size per image, recall@10 per precision.
#
# A missing piece (no bench-models/, no node_modules, no Python) becomes a line
# in BENCHMARKS.md, not a failure. Tunables (environment): BENCH_MODEL_DIR
# (default bench-models/clip-vit-base-patch32-random), BENCH_THREADS (2),
# BENCH_ROUNDS (3: each comparison alternates ours/theirs this many times),
# BENCH_RUNS_B1 (10), BENCH_RUNS_B8 (4), BENCH_OUT (BENCHMARKS.md),
# BENCH_WORK (tmp/bench), BENCH_PATTERN_DIR (bench-models/exporter-patterns-b32),
# BENCH_SIGLIP_DIR (bench-models/siglip-base-patch16-224-random),
# BENCH_ONLY=patterns (only the exporter-pattern section and our export's
# batch-8 rows it is compared with), BENCH_ONLY=siglip (only the SigLIP
# section), BENCH_ONLY=index (only the index section;
# BENCH_INDEX_COUNT, BENCH_INDEX_ROUNDS as index.sh says). About 20-25 minutes on 2 shared cores.
set -uo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
PY=${PY:-/usr/bin/python3}
NODE=${NODE:-node}
MODEL_DIR=${BENCH_MODEL_DIR:-bench-models/clip-vit-base-patch32-random}
PATTERN_DIR=${BENCH_PATTERN_DIR:-bench-models/exporter-patterns-b32}
SIGLIP_DIR=${BENCH_SIGLIP_DIR:-bench-models/siglip-base-patch16-224-random}
ONLY=${BENCH_ONLY:-}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
RUNS_B1=${BENCH_RUNS_B1:-10}
RUNS_B8=${BENCH_RUNS_B8:-4}
OUT=${BENCH_OUT:-BENCHMARKS.md}
WORK=${BENCH_WORK:-tmp/bench}
RES=$WORK/results
LABELS=cat,dog,car,person

rm -rf "$RES" && mkdir -p "$RES/onnx" "$WORK"
LOG=$WORK/log.txt
: >"$LOG"
started=$(date +%s)
say() { echo "bench: $*" | tee -a "$LOG" >&2; }
# note records a missing or failed piece for BENCHMARKS.md.
note() { echo "$*" >>"$RES/notes.txt"; say "NOTE: $*"; }
have_node() { command -v "$NODE" >/dev/null && [ -d scripts/reference/node_modules/onnxruntime-node ]; }
have_py() { "$PY" -c 'import PIL' >/dev/null 2>&1; }

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "cpu_id=family $(grep -m1 'cpu family' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | tr -d ' '), model $(grep -m1 -E '^model[[:space:]]+:' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | tr -d ' ')"
  echo "cores=$(nproc 2>/dev/null)"
  echo "cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512_vnni|avx_vnni' | tr '\n' ' ')"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null)"
  echo "go=$($GO version 2>/dev/null | cut -d' ' -f3-)"
  echo "node=$($NODE --version 2>/dev/null)"
  if [ -f scripts/reference/node_modules/onnxruntime-node/package.json ]; then
    echo "ort=$(sed -nE 's/^ *"version": *"([^"]+)".*/\1/p' scripts/reference/node_modules/onnxruntime-node/package.json | head -1)"
    echo "tjs=$(sed -nE 's/^ *"version": *"([^"]+)".*/\1/p' scripts/reference/node_modules/@huggingface/transformers/package.json | head -1)"
  fi
  echo "commit=$(git rev-parse --short=12 HEAD 2>/dev/null)$(git diff --quiet HEAD -- pkg cmd 2>/dev/null || echo '+dirty')"
  echo "threads=$THREADS"
  echo "rounds=$ROUNDS"
  echo "model_dir=$MODEL_DIR"
  echo "pattern_dir=$PATTERN_DIR"
  echo "siglip_dir=$SIGLIP_DIR"
  echo "only=$ONLY"
} >"$RES/env.txt"
say "$(tr '\n' ' ' <"$RES/env.txt")"

say "building clip and benchtool"
if ! CGO_ENABLED=0 $GO build -tags nodynamic -o "$WORK/clip" ./cmd/clip 2>>"$LOG"; then
  note "\`go build ./cmd/clip\` failed: no clip classify or clip onnx bench numbers (see $LOG)"
fi
if ! CGO_ENABLED=0 $GO build -o "$WORK/benchtool" ./scripts/bench/benchtool 2>>"$LOG"; then
  note "building scripts/bench/benchtool failed: no FMA peak, no report (see $LOG)"
  exit 1
fi
# `clip onnx bench` once the verb is registered; benchtool runs the very same
# command in-process until then.
if [ -x "$WORK/clip" ] && "$WORK/clip" onnx bench --help 2>/dev/null | grep -q -- '--batch'; then
  BENCH=("$WORK/clip" onnx bench)
  echo "bench_cmd=clip onnx bench" >>"$RES/env.txt"
else
  BENCH=("$WORK/benchtool" bench)
  echo "bench_cmd=benchtool bench (clip onnx bench not registered in this build)" >>"$RES/env.txt"
fi

# The AVX2-only path is timed beside the default one when this CPU has more
# than AVX2 (AVX-512F or AVX-VNNI); on an AVX2-only machine the default rows
# already are that path.
LOW_ISA=
if grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | grep -qwE 'avx512f|avx_vnni'; then
  if grep -m1 '^flags' /proc/cpuinfo | grep -qw avx2; then
    LOW_ISA=avx2
    SGEMM_LOW_ISA='(-avx2)?'  # sub-benchmarks ours-avx2, ours-prepacked-avx2
  fi
else
  note "AVX2-only path not timed separately: AVX2 is this CPU's best level, so the default rows are that path"
fi
echo "low_isa=$LOW_ISA" >>"$RES/env.txt"

# --- machine peak ---------------------------------------------------------
say "FMA peak"
"$WORK/benchtool" fma-peak --seconds 1 >"$RES/fma.json" 2>>"$LOG" || note "FMA peak not measured (no AVX2+FMA?)"

# --- Go micro-benchmarks ----------------------------------------------------
if [ -z "$ONLY" ]; then
say "Sgemm on the ViT shapes"
# ours-avx2: the same Sgemm on a Pool limited to AVX2 (run when this CPU has
# more; see LOW_ISA above).
$GO test -run '^$' -bench "BenchmarkSgemm/.*/^ours(-prepacked)?${SGEMM_LOW_ISA:-}\$/threads=2\$" -benchtime 10x -count 3 ./pkg/engine/kernels/ \
  >"$RES/sgemm.txt" 2>>"$LOG" || note "kernels Sgemm benchmark failed (see $LOG)"
fi

# --- ONNX models: clip onnx bench vs onnxruntime-node -------------------------
# onnx_pair NAME FILE BATCH RUNS [ISA [OWN [FLAG [SAME]]]]: ROUNDS alternations of
# ours and ORT on the same saved inputs; with ISA, each round also times ours
# at that instruction-set level (`--isa`, NAME.ISA.R.json) between the two;
# with OWN (an exporter pattern's file: our export of the same tower), each
# round first times ours on OWN (NAME.own.R.json), so that the pattern's time
# against our export's compares runs made under the same load; with SAME
# (another export of the tower to compare FILE with), each round then times
# ours on SAME (NAME.same.R.json), after OWN and before FILE; FLAG is one
# more `clip onnx bench` flag for ours on FILE (not on OWN or SAME): --fusion=generic.
#
# Both engines are asked for the file's pooled embedding alone (its output
# named *_embeds, else pooler_output; every output when it has neither), as
# `clip classify` asks for it: see pooled_output.
onnx_pair() {
  local name=$1 file=$2 batch=$3 runs=$4 isa=${5:-} own=${6:-} flag=${7:-} same=${8:-} warm=2 r
  local extra=() outflag=() out
  [ -n "$flag" ] && extra=("$flag")
  out=$(pooled_output "$file")
  if [ -n "$out" ]; then
    extra+=(--output "$out")
    outflag=(--output "$out")
  fi
  local ownout=() sameout=()
  [ -n "$own" ] && out=$(pooled_output "$own") && [ -n "$out" ] && ownout=(--output "$out")
  [ -n "$same" ] && out=$(pooled_output "$same") && [ -n "$out" ] && sameout=(--output "$out")
  [ "$batch" -gt 1 ] && warm=1
  for r in $(seq 1 "$ROUNDS"); do
    local in=$WORK/inputs/$name
    if [ -n "$own" ] && ! "${BENCH[@]}" "$own" --batch "$batch" --runs "$runs" --warmup "$warm" --threads "$THREADS" "${ownout[@]}" \
      --format json >"$RES/onnx/$name.own.$r.json" 2>>"$LOG"; then
      rm -f "$RES/onnx/$name.own.$r.json"
      note "clip onnx bench failed on $own batch $batch (see $LOG)"
      own=
    fi
    if [ -n "$same" ] && ! "${BENCH[@]}" "$same" --batch "$batch" --runs "$runs" --warmup "$warm" --threads "$THREADS" "${sameout[@]}" \
      --format json >"$RES/onnx/$name.same.$r.json" 2>>"$LOG"; then
      rm -f "$RES/onnx/$name.same.$r.json"
      note "clip onnx bench failed on $same batch $batch (see $LOG)"
      same=
    fi
    if ! "${BENCH[@]}" "$file" --batch "$batch" --runs "$runs" --warmup "$warm" --threads "$THREADS" "${extra[@]}" \
      --format json --save-inputs "$in" >"$RES/onnx/$name.ours.$r.json" 2>>"$LOG"; then
      rm -f "$RES/onnx/$name.ours.$r.json"
      note "clip onnx bench failed on $file batch $batch (see $LOG)"
      return
    fi
    if [ -n "$isa" ] && ! "${BENCH[@]}" "$file" --batch "$batch" --runs "$runs" --warmup "$warm" --threads "$THREADS" "${outflag[@]}" \
      --format json --isa "$isa" >"$RES/onnx/$name.$isa.$r.json" 2>>"$LOG"; then
      rm -f "$RES/onnx/$name.$isa.$r.json"
      note "clip onnx bench --isa $isa failed on $file batch $batch (see $LOG)"
      isa=
    fi
    if have_node; then
      "$NODE" scripts/bench/ort_bench.mjs "$file" --inputs "$in" --threads "$THREADS" --runs "$runs" --warmup "$warm" "${outflag[@]}" \
        >"$RES/onnx/$name.ort.$r.json" 2>>"$LOG" || { rm -f "$RES/onnx/$name.ort.$r.json"; note "ort_bench failed on $file batch $batch (see $LOG)"; }
    fi
  done
}
# pooled_output FILE prints the output a zero-shot run reads: the one named
# *_embeds, else pooler_output, else nothing.
pooled_output() {
  "$WORK/clip" onnx info "$1" --format json 2>/dev/null | "$PY" -c '
import json, sys
names = [o["name"] for o in json.load(sys.stdin).get("outputs", [])]
pick = [n for n in names if n.endswith("_embeds")] or [n for n in names if n == "pooler_output"]
print(pick[0] if pick and len(names) > 1 else "")' 2>/dev/null || true
}
if ! have_node; then
  note "no onnxruntime-node (scripts/reference/node_modules; \`cd scripts/reference && ONNXRUNTIME_NODE_INSTALL=skip npm ci\`): no reference numbers"
fi
ONNX=$MODEL_DIR/onnx

# --- exporter patterns (issue 20): other exporters' graphs vs onnxruntime ------
# Each full-size export of make_exporter_patterns.py --full at batch 8 (text at
# its 77-token context), named pattern_<stem>_b8; the report sets them beside
# our own export's vision_b8 and text_b8 rows of the same run.
patterns_section() {
  local f stem
  if ! ls "$PATTERN_DIR"/onnx/*_model.onnx >/dev/null 2>&1; then
    note "no exporter-pattern exports in $PATTERN_DIR/onnx (\`make bench-models\`, or \`$PY scripts/fixtures/make_exporter_patterns.py --full\`): no exporter-pattern numbers"
    return
  fi
  local own same
  for f in "$PATTERN_DIR"/onnx/*_model.onnx "$PATTERN_DIR"/onnx/*_model_quantized.onnx; do
    [ -f "$f" ] || continue
    stem=$(basename "$f" .onnx)
    # Our export of the same tower (int8 for an int8 pattern), timed in
    # every round beside the pattern.
    own=$ONNX/vision_model.onnx
    case $stem in *_text_*) own=$ONNX/text_model.onnx ;; esac
    # OpenCLIP's out_proj is a Gemm, which quantize_dynamic leaves float:
    # its int8 files are also timed against our int8 export with the
    # attention out_proj MatMuls left float (make_bench_models.py --quantize).
    same=
    case $stem in openclip_*_model_quantized) same=${own%.onnx}_floatproj_quantized.onnx ;; esac
    [ -f "$same" ] || same=
    case $stem in *_quantized) own=${own%.onnx}_quantized.onnx ;; esac
    [ -f "$own" ] || own=
    say "exporter pattern $stem batch 8"
    onnx_pair "pattern_${stem}_b8" "$f" 8 "$RUNS_B8" "" "$own" "" "$same"
  done
  # Our export as transformers.js's *_fp16.onnx files are made (float16
  # weights and values, Casts at the inputs and outputs), against our
  # float32 export of the same tower.
  for f in "$ONNX/vision_model_fp16.onnx" "$ONNX/text_model_fp16.onnx"; do
    [ -f "$f" ] || continue
    stem=fp16_$(basename "$f" _fp16.onnx)
    say "exporter pattern $stem batch 8 (our export in float16)"
    onnx_pair "pattern_${stem}_b8" "$f" 8 "$RUNS_B8" "" "${f%_fp16.onnx}.onnx"
  done
  # Our export with transformers.js's 4-bit weights (_q4: MatMulNBits;
  # _q4f16: the same in float16; _bnb4: MatMulBnb4, NF4), against our
  # float32 export, which is what we run once the weights are dequantized.
  for q in q4 q4f16 bnb4; do
    for f in "$ONNX/vision_model_$q.onnx" "$ONNX/text_model_$q.onnx"; do
      [ -f "$f" ] || continue
      stem=${q}_$(basename "$f" "_$q.onnx")
      say "exporter pattern $stem batch 8 (our export, $q weights)"
      onnx_pair "pattern_${stem}_b8" "$f" 8 "$RUNS_B8" "" "${f%_$q.onnx}.onnx"
    done
  done
  # Our vision export with uint8 weights, as transformers.js quantizes a
  # graph with a Conv, against our int8 export.
  if [ -f "$ONNX/vision_model_uint8.onnx" ]; then
    say "exporter pattern uint8_vision_model_quantized batch 8 (our export, uint8 weights)"
    onnx_pair pattern_uint8_vision_model_quantized_b8 "$ONNX/vision_model_uint8.onnx" 8 "$RUNS_B8" "" "$ONNX/vision_model_quantized.onnx"
  fi
  # A graph none of the pattern fusions recognises: our own export with
  # only the generic fusions (--fusion generic: elementwise chains), against
  # onnxruntime (which fuses it) and against our fully fused run of the same
  # file in each round.
  for f in "$ONNX/vision_model.onnx" "$ONNX/text_model.onnx"; do
    [ -f "$f" ] || continue
    stem=nopattern_$(basename "$f" .onnx)
    say "exporter pattern $stem batch 8 (our export, no pattern fusion)"
    onnx_pair "pattern_${stem}_b8" "$f" 8 "$RUNS_B8" "" "$f" --fusion=generic
  done
  # The int8 patterns are compared with our int8 export of the same tower
  # (the full run times the vision one already).
  if ls "$PATTERN_DIR"/onnx/*_text_model_quantized.onnx >/dev/null 2>&1 && [ -f "$ONNX/text_model_quantized.onnx" ]; then
    say "quantized text batch 8 (our export, for the int8 exporter patterns)"
    onnx_pair text_quantized_b8 "$ONNX/text_model_quantized.onnx" 8 "$RUNS_B8"
  fi
}
# --- SigLIP (issue 17): a full-size random base/16 vs onnxruntime --------------
# Batch 8; the text tower at its 64 positions (`clip onnx bench` reads them
# from the config.json beside the file; onnxruntime gets the same saved ids).
siglip_section() {
  if [ ! -f "$SIGLIP_DIR/onnx/vision_model.onnx" ] || [ ! -f "$SIGLIP_DIR/onnx/text_model.onnx" ]; then
    note "no SigLIP base/16 in $SIGLIP_DIR/onnx (\`make bench-models\`, or \`$PY scripts/fixtures/make_bench_siglip.py\`): no SigLIP numbers"
    return
  fi
  say "SigLIP base/16 vision batch 8"
  onnx_pair siglip_vision_b8 "$SIGLIP_DIR/onnx/vision_model.onnx" 8 "$RUNS_B8"
  say "SigLIP base/16 text batch 8"
  onnx_pair siglip_text_b8 "$SIGLIP_DIR/onnx/text_model.onnx" 8 "$RUNS_B8"
}
# --- index (issue 18): search over a 1M-image index -------------------------------
index_section() {
  say "index section"
  if [ -x "$WORK/clip" ]; then
    BENCH_WORK=$WORK bash scripts/bench/index.sh "$WORK/clip" 2>>"$LOG" || note "index section failed (see $LOG)"
  else
    note "index section skipped: no clip build"
  fi
}
# finish writes the end of env.txt and BENCHMARKS.md.
finish() {
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >>"$RES/env.txt"
  echo "elapsed_s=$(($(date +%s) - started))" >>"$RES/env.txt"
  say "writing $OUT"
  "$WORK/benchtool" report --dir "$RES" --out "$OUT" || { say "report failed"; exit 1; }
  say "done in $(($(date +%s) - started)) s"
}
if [ "$ONLY" = index ]; then
  note "BENCH_ONLY=index: only the index section was run"
  index_section
  finish
  exit 0
fi

if [ "$ONLY" = siglip ]; then
  note "BENCH_ONLY=siglip: only the SigLIP section was run"
  siglip_section
  finish
  exit 0
fi

if [ "$ONLY" = patterns ]; then
  note "BENCH_ONLY=patterns: only the exporter patterns and our export's batch-8 rows were run"
  if [ -f "$ONNX/vision_model.onnx" ]; then
    say "vision batch 8 (our export, for the exporter patterns)"
    onnx_pair vision_b8 "$ONNX/vision_model.onnx" 8 "$RUNS_B8"
    say "text batch 8 (our export, for the exporter patterns)"
    [ -f "$ONNX/text_model.onnx" ] && onnx_pair text_b8 "$ONNX/text_model.onnx" 8 "$RUNS_B8"
    if ls "$PATTERN_DIR"/onnx/*_model_quantized.onnx >/dev/null 2>&1 && [ -f "$ONNX/vision_model_quantized.onnx" ]; then
      say "quantized vision batch 8 (our export, for the int8 exporter patterns)"
      onnx_pair vision_quantized_b8 "$ONNX/vision_model_quantized.onnx" 8 "$RUNS_B8"
    fi
  else
    note "no $ONNX/vision_model.onnx (run \`make bench-models\`): exporter patterns not compared with our export"
  fi
  patterns_section
  finish
  exit 0
fi

if [ -f "$ONNX/vision_model.onnx" ]; then
  echo "file_bytes.vision=$(stat -c %s "$ONNX/vision_model.onnx")" >>"$RES/env.txt"
  echo "file_bytes.text=$(stat -c %s "$ONNX/text_model.onnx" 2>/dev/null || echo 0)" >>"$RES/env.txt"
  for b in 1 8; do
    runs=$RUNS_B1; [ "$b" -gt 1 ] && runs=$RUNS_B8
    say "vision batch $b"
    onnx_pair "vision_b$b" "$ONNX/vision_model.onnx" "$b" "$runs" "$LOW_ISA"
    say "text batch $b"
    [ -f "$ONNX/text_model.onnx" ] && onnx_pair "text_b$b" "$ONNX/text_model.onnx" "$b" "$runs"
  done
  if [ -f "$ONNX/vision_model_quantized.onnx" ]; then
    for b in 1 8; do
      runs=$RUNS_B1; [ "$b" -gt 1 ] && runs=$RUNS_B8
      say "quantized vision batch $b"
      low=; [ "$b" -gt 1 ] && low=$LOW_ISA
      onnx_pair "vision_quantized_b$b" "$ONNX/vision_model_quantized.onnx" "$b" "$runs" "$low"
    done
  else
    note "no $ONNX/vision_model_quantized.onnx (\`$PY scripts/fixtures/make_bench_models.py --quantize\`): no int8 numbers"
  fi
else
  note "no $ONNX/vision_model.onnx (run \`make bench-models\`): no ViT-B/32 numbers; the tiny fixture stands in"
  onnx_pair "tiny_vision_b8" testdata/models/tiny-shapes/onnx/vision_model.onnx 8 20
  onnx_pair "tiny_text_b8" testdata/models/tiny-shapes/onnx/text_model.onnx 8 20
fi

patterns_section
siglip_section

# --- end to end: clip classify vs transformers.js ------------------------------
IMAGES=$WORK/images
if have_py; then
  "$PY" scripts/bench/make_images.py "$IMAGES" 32 2>>"$LOG" || note "make_images.py failed (see $LOG)"
else
  note "no Python with Pillow at $PY: no end-to-end images, no Pillow comparison"
fi
if [ -f "$MODEL_DIR/onnx/model.onnx" ] && [ -f "$IMAGES/img000.jpg" ] && [ -x "$WORK/clip" ]; then
  # Cold: one image, nothing cached, a fresh process; wall time and peak RSS.
  for r in $(seq 1 "$ROUNDS"); do
    say "cold clip classify (round $r)"
    /usr/bin/time -f '%e %M' -o "$RES/classify_cold.$r.time" "$WORK/clip" --model "$MODEL_DIR" --threads "$THREADS" -q \
      classify "$IMAGES/img000.jpg" --labels "$LABELS" --no-cache --format json >/dev/null 2>>"$LOG" ||
      { rm -f "$RES/classify_cold.$r.time"; note "cold clip classify failed (see $LOG)"; }
  done
  for r in $(seq 1 "$ROUNDS"); do
    say "clip classify 32 images (round $r)"
    /usr/bin/time -f '%e %M' -o "$RES/classify_32.$r.time" "$WORK/clip" --model "$MODEL_DIR" --threads "$THREADS" -q \
      classify "$IMAGES" --labels "$LABELS" --no-cache --batch-size 8 --format json \
      --summary "$RES/classify_32.$r.summary.json" >/dev/null 2>>"$LOG" ||
      { rm -f "$RES/classify_32.$r.time"; note "clip classify on 32 images failed (see $LOG)"; }
    if have_node; then
      say "transformers.js 32 images (round $r)"
      "$NODE" scripts/bench/tjs_classify.mjs --model "$MODEL_DIR" --labels "$LABELS" --batch 8 --threads "$THREADS" \
        --runs 1 "$IMAGES"/*.jpg >"$RES/tjs.$r.json" 2>>"$LOG" || { rm -f "$RES/tjs.$r.json"; note "tjs_classify failed (see $LOG)"; }
    fi
  done
else
  note "end-to-end classify skipped: needs $MODEL_DIR/onnx/model.onnx, the 32 images and a clip build"
fi

# --- tokenizer: Go vs transformers.js -------------------------------------------
if [ -f "$MODEL_DIR/tokenizer.json" ] && [ -f testdata/golden/tokenizer/corpus.json ]; then
  say "tokenizer"
  $GO test -run '^$' -bench 'BenchmarkEncode(Corpus|1MB)$' -benchtime 3x -count 3 ./pkg/tokenizer/ \
    >"$RES/tokenizer_go.txt" 2>>"$LOG" || note "tokenizer Go benchmark failed (see $LOG)"
  if have_node; then
    "$NODE" scripts/reference/tokenize_bench.mjs --corpus testdata/golden/tokenizer/corpus.json --model "$MODEL_DIR" \
      >"$RES/tokenizer_js.json" 2>>"$LOG" || note "tokenize_bench.mjs failed (see $LOG)"
  fi
else
  note "tokenizer comparison skipped: needs $MODEL_DIR/tokenizer.json and testdata/golden/tokenizer/corpus.json"
fi

# --- Unigram tokenizer (SentencePiece fixture): Go vs transformers.js -----------
UNIGRAM_FIXTURE=pkg/tokenizer/testdata/unigram/bytefallback
if [ -f "$UNIGRAM_FIXTURE.tokenizer.json.gz" ]; then
  say "unigram tokenizer"
  UNIGRAM_DIR=$WORK/unigram-bytefallback
  mkdir -p "$UNIGRAM_DIR"
  gzip -dc "$UNIGRAM_FIXTURE.tokenizer.json.gz" >"$UNIGRAM_DIR/tokenizer.json"
  cp "$UNIGRAM_FIXTURE.tokenizer_config.json" "$UNIGRAM_DIR/tokenizer_config.json"
  $GO test -run '^$' -bench 'BenchmarkUnigramEncodeCorpus$' -benchtime 5x -count 3 ./pkg/tokenizer/ \
    >"$RES/unigram_go.txt" 2>>"$LOG" || note "Unigram tokenizer Go benchmark failed (see $LOG)"
  if have_node; then
    "$NODE" scripts/reference/tokenize_bench.mjs --corpus testdata/golden/tokenizer/corpus.json --model "$UNIGRAM_DIR" --mb1 0 \
      >"$RES/unigram_js.json" 2>>"$LOG" || note "tokenize_bench.mjs (Unigram) failed (see $LOG)"
  fi
fi

# --- 12 MP JPEG decode + preprocess: Go vs Pillow --------------------------------
say "12 MP JPEG decode+preprocess"
JPEG=$PWD/$WORK/clip-bench-12mp.jpg
CLIP_BENCH_JPEG=$JPEG $GO test -run '^$' -bench 'BenchmarkDecodePreprocess12MP(Reduced)?$' -benchtime 3x -count 3 ./pkg/imageproc/ \
  >"$RES/imageproc_go.txt" 2>>"$LOG" || note "imageproc benchmark failed (see $LOG)"
if have_py && [ -f scripts/bench_pillow.py ] && [ -f "$JPEG" ]; then
  "$PY" scripts/bench_pillow.py --jpeg "$JPEG" -n 5 >"$RES/pillow.txt" 2>>"$LOG" || note "bench_pillow.py failed (see $LOG)"
else
  note "Pillow comparison skipped (needs $PY with Pillow, scripts/bench_pillow.py and the 12 MP JPEG)"
fi

# --- photos: 12 MP JPEGs and HEICs end to end (issue 16) ---------------------------
say "photos section"
if [ -x "$WORK/clip" ]; then
  BENCH_WORK=$WORK bash scripts/bench/photos.sh "$WORK/clip" 2>>"$LOG" || note "photos section failed (see $LOG)"
else
  note "photos section skipped: no clip build"
fi

index_section
finish
