#!/usr/bin/env bash
# The "photos" section of `make bench` (issue 16), runnable alone:
#
#   bash scripts/bench/photos.sh [CLIP_BINARY]      # default: builds tmp/bench/clip
#
# On 16 phone-size JPEGs (scripts/bench/make_photos.py: 12 MP, q92, 4:2:0,
# ~3 MB) and a few 12 MP HEICs, in one run: end-to-end images/s of `clip
# classify` (default, and --exact-decode when the binary has it) and of
# transformers.js's zero-shot pipeline (tjs_classify.mjs), clip's
# inference-only images/s (`clip onnx bench`, vision batch 8), per-photo
# decode+preprocess ms of clip (Go benchmark) and of Pillow with and without
# draft, per-HEIC decode ms of clip against heif-convert, and the peak RSS
# of each classify. BENCH_PHOTOS_BASELINE=BINARY also times an older clip
# (full decode, no --exact-decode flag) beside them, e.g. one built from the
# commit before the reduced decode, for the exact mode's speed-up. Writes $BENCH_WORK/results/photos.md (the report appends
# it to BENCHMARKS.md) and raw files beside it. Environment as run.sh's;
# BENCH_PHOTO_ROUNDS (2) alternations of the end-to-end runs.
set -uo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
PY=${PY:-/usr/bin/python3}
NODE=${NODE:-node}
MODEL_DIR=${BENCH_MODEL_DIR:-bench-models/clip-vit-base-patch32-random}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_PHOTO_ROUNDS:-2}
WORK=${BENCH_WORK:-tmp/bench}
RES=$WORK/results
OUT=$RES/photos
PHOTOS=$WORK/photos
LABELS=cat,dog,car,person
mkdir -p "$OUT"
LOG=$WORK/photos-log.txt
: >"$LOG"
say() { echo "bench photos: $*" | tee -a "$LOG" >&2; }
notes=()
note() { notes+=("$*"); say "NOTE: $*"; }

CLIP=${1:-$WORK/clip}
if [ $# -eq 0 ]; then
  CGO_ENABLED=0 $GO build -tags nodynamic -o "$CLIP" ./cmd/clip 2>>"$LOG" || { note "go build failed"; CLIP=; }
fi

say "making the photo set in $PHOTOS"
"$PY" scripts/bench/make_photos.py "$PHOTOS" 16 2 2>>"$LOG" || note "make_photos.py failed (see $LOG)"
jpegs=("$PHOTOS"/photo*.jpg)
heics=("$PHOTOS"/heic/*.heic)
n=${#jpegs[@]}
mb=$(du -cb "${jpegs[@]}" 2>/dev/null | tail -1 | awk -v n="$n" '{printf "%.1f", $1/n/1e6}')

# classify NAME ARGS...: one timed end-to-end run over the JPEGs.
classify() {
  local name=$1 r=$2; shift 2
  /usr/bin/time -f '%e %M' -o "$OUT/$name.$r.time" "$CLIP" --model "$MODEL_DIR" --threads "$THREADS" -q \
    classify "${jpegs[@]}" --labels "$LABELS" --no-cache --batch-size 8 --format json \
    --summary "$OUT/$name.$r.summary.json" "$@" >/dev/null 2>>"$LOG" ||
    { rm -f "$OUT/$name.$r.time"; note "clip classify ($name) failed (see $LOG)"; }
}
modes=(default)
# (not grep -q: it closes the pipe early, and under pipefail clip's SIGPIPE
# would fail the test)
if [ -n "$CLIP" ] && "$CLIP" classify --help 2>/dev/null | grep -c -- '--exact-decode' >/dev/null; then
  modes+=(exact)
else
  note "this clip has no --exact-decode: only the default decode is timed"
fi
have_model=; [ -f "$MODEL_DIR/onnx/model.onnx" ] && [ -n "$CLIP" ] && have_model=1
[ -z "$have_model" ] && note "no $MODEL_DIR/onnx/model.onnx (make bench-models): no end-to-end or inference numbers"
have_tjs=; command -v "$NODE" >/dev/null && [ -d scripts/reference/node_modules/@huggingface/transformers ] && have_tjs=1
if [ -n "$have_model" ] && [ "$n" -gt 0 ]; then
  for r in $(seq 1 "$ROUNDS"); do
    say "clip classify, $n photos (round $r)"
    classify default "$r"
    if [[ " ${modes[*]} " == *" exact "* ]]; then
      say "clip classify --exact-decode (round $r)"
      classify exact "$r" --exact-decode
    fi
    if [ -n "${BENCH_PHOTOS_BASELINE:-}" ]; then
      say "clip classify, baseline $BENCH_PHOTOS_BASELINE (round $r)"
      CLIP=$BENCH_PHOTOS_BASELINE classify baseline "$r"
    fi
    # inference alone in every round too: on a shared machine the load
    # moves between rounds, and a ratio wants both sides under the same load
    say "inference only: clip onnx bench vision batch 8 (round $r)"
    "$CLIP" onnx bench "$MODEL_DIR/onnx/vision_model.onnx" --batch 8 --runs 4 --warmup 1 --threads "$THREADS" --format json \
      >"$OUT/vision_b8.$r.json" 2>>"$LOG" || { rm -f "$OUT/vision_b8.$r.json"; note "clip onnx bench failed (see $LOG)"; }
    if [ -n "$have_tjs" ]; then
      say "transformers.js, $n photos (round $r)"
      "$NODE" scripts/bench/tjs_classify.mjs --model "$MODEL_DIR" --labels "$LABELS" --batch 8 --threads "$THREADS" \
        --runs 1 "${jpegs[@]}" >"$OUT/tjs.$r.json" 2>>"$LOG" || { rm -f "$OUT/tjs.$r.json"; note "tjs_classify failed (see $LOG)"; }
    fi
  done
  [ ${#heics[@]} -gt 0 ] && [ -f "${heics[0]}" ] && {
    say "clip classify, ${#heics[@]} HEICs"
    /usr/bin/time -f '%e %M' -o "$OUT/heic.time" "$CLIP" --model "$MODEL_DIR" --threads "$THREADS" -q \
      classify "${heics[@]}" --labels "$LABELS" --no-cache --format json >/dev/null 2>>"$LOG" || { rm -f "$OUT/heic.time"; note "clip classify on HEICs failed"; }
  }
  if [ -f "$PHOTOS/big/big99mp.jpg" ]; then
    say "clip classify, one 99 MP JPEG"
    /usr/bin/time -f '%e %M' -o "$OUT/big.time" "$CLIP" --model "$MODEL_DIR" --threads "$THREADS" -q \
      classify "$PHOTOS/big/big99mp.jpg" --labels "$LABELS" --no-cache --format json >/dev/null 2>>"$LOG" || { rm -f "$OUT/big.time"; note "clip classify on the 99 MP JPEG failed"; }
  fi
fi
[ -z "$have_tjs" ] && note "no transformers.js (scripts/reference/node_modules): no reference end-to-end numbers"

say "decode+preprocess per photo: Go"
# a 12 MP HEIC takes seconds in WebAssembly: fewer iterations for those
gobench() { CLIP_BENCH_PHOTOS=$PWD/$PHOTOS $GO test -tags nodynamic -run '^$' -bench "$1" -benchtime "$2" -count 1 ./pkg/imageproc/ 2>>"$LOG"; }
{ gobench 'BenchmarkDecodePreprocessPhotos$|BenchmarkDecodePreprocessPhotosExact$' 16x && gobench 'BenchmarkDecodePreprocessHEIC$|BenchmarkHEIFCompile$|BenchmarkHEIFCompileCached$' 2x; } \
  >"$OUT/go.txt" || note "Go photo benchmarks failed (see $LOG)"
say "decode+preprocess per photo: Pillow"
"$PY" scripts/bench/pillow_photos.py "$PHOTOS" -n 2 >"$OUT/pillow.txt" 2>>"$LOG" || note "pillow_photos.py failed (see $LOG)"
if command -v heif-convert >/dev/null && [ -f "${heics[0]:-}" ]; then
  say "heif-convert per HEIC"
  # wall and CPU (user + system) ms per file, processes included
  /usr/bin/time -f '%e %U %S' -o "$OUT/heif_convert.time" bash -c 'for h in "$@"; do heif-convert --quiet "$h" "$0" >/dev/null || exit 1; done' \
    "$WORK/heif-convert.y4m" "${heics[@]}" 2>>"$LOG" &&
    awk -v n="${#heics[@]}" '{printf "%.0f %.0f\n", $1*1000/n, ($2+$3)*1000/n}' "$OUT/heif_convert.time" >"$OUT/heif_convert_ms.txt"
  rm -f "$WORK/heif-convert.y4m"
fi

# --- the report fragment ---------------------------------------------------------
med() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print ""; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# images/s of the image phase (after the model and prompts are ready, as
# transformers.js's second pass): the --summary timing, median over rounds.
rate() { for f in "$OUT"/$1.*.summary.json; do jsonf "$f" images_per_second; done | med | awk 'NF {printf "%.2f", $1}'; }
rss() { cat "$OUT"/$1.*.time 2>/dev/null | awk '{print $2}' | med | awk 'NF {printf "%.0f", $1/1024}'; }
jsonf() { sed -nE "s/.*\"$2\": *([0-9.eE+-]+).*/\1/p" "$1" 2>/dev/null | head -1; }
clip_def=$(rate default); clip_exact=$(rate exact); clip_base=$(rate baseline)
tjs=$(for f in "$OUT"/tjs.*.json; do jsonf "$f" images_per_second; done | med | awk 'NF {printf "%.2f", $1}')
infer=$(for f in "$OUT"/vision_b8.*.json; do jsonf "$f" items_per_second; done | med | awk 'NF {printf "%.2f", $1}')
gons() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" {printf "%.1f", $3/1e6}' "$OUT/go.txt" 2>/dev/null; }
gocpu() { awk -v b="$1" '$1 ~ "^"b"(-[0-9]+)?$" {for (i = 4; i < NF; i++) if ($(i+1) == "cpu-ms/op") printf "%.1f", $i}' "$OUT/go.txt" 2>/dev/null; }
go_photo=$(gons BenchmarkDecodePreprocessPhotos); go_heic=$(gons BenchmarkDecodePreprocessHEIC); go_wasm=$(gons BenchmarkHEIFCompile); go_wasm_cached=$(gons BenchmarkHEIFCompileCached)
go_exact=$(gons BenchmarkDecodePreprocessPhotosExact)
go_photo_cpu=$(gocpu BenchmarkDecodePreprocessPhotos); go_exact_cpu=$(gocpu BenchmarkDecodePreprocessPhotosExact); go_heic_cpu=$(gocpu BenchmarkDecodePreprocessHEIC)
pil_plain=$(sed -nE 's/.*photos plain: ([0-9.]+) ms.*/\1/p' "$OUT/pillow.txt" 2>/dev/null)
pil_draft=$(sed -nE 's/.*photos draft: ([0-9.]+) ms.*/\1/p' "$OUT/pillow.txt" 2>/dev/null)
pil_plain_cpu=$(sed -nE 's/.*photos plain: .* ([0-9.]+) cpu-ms.*/\1/p' "$OUT/pillow.txt" 2>/dev/null)
pil_draft_cpu=$(sed -nE 's/.*photos draft: .* ([0-9.]+) cpu-ms.*/\1/p' "$OUT/pillow.txt" 2>/dev/null)
hc=$(awk '{print $1}' "$OUT/heif_convert_ms.txt" 2>/dev/null); hc_cpu=$(awk '{print $2}' "$OUT/heif_convert_ms.txt" 2>/dev/null)
x() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f×", a/b}'; }
{
  echo "## Photos: 12 MP JPEGs and HEICs end to end"
  echo
  echo "$n phone-size JPEGs (4000×3000 and 3000×4000, q92, 4:2:0, ${mb:-?} MB each, \`scripts/bench/make_photos.py\`),"
  echo "ViT-B/32 ($MODEL_DIR), labels $LABELS, batch 8, $THREADS threads; median of $ROUNDS alternated rounds."
  echo "images/s is the image phase, after the model and prompts are ready (clip: \`--summary\`; transformers.js: its second pass);"
  echo "peak RSS is the whole process's."
  echo
  echo "| what | images/s | vs transformers.js | vs clip inference-only | peak RSS |"
  echo "|---|---|---|---|---|"
  echo "| clip classify (default decode) | ${clip_def:--} | $(x "$clip_def" "$tjs") | $(x "$clip_def" "$infer") | $(rss default) MiB |"
  [ -n "$clip_exact" ] && echo "| clip classify --exact-decode | $clip_exact | $(x "$clip_exact" "$tjs") | $(x "$clip_exact" "$infer") | $(rss exact) MiB |"
  [ -n "$clip_base" ] && echo "| clip before the reduced decode ($(basename "$BENCH_PHOTOS_BASELINE"), full decode) | $clip_base | $(x "$clip_base" "$tjs") | $(x "$clip_base" "$infer") | $(rss baseline) MiB |"
  [ -n "$clip_base" ] && [ -n "$clip_exact" ] && echo "|  --exact-decode vs that older clip | $(x "$clip_exact" "$clip_base") | | | |"
  echo "| transformers.js zero-shot pipeline | ${tjs:--} | 1× | $(x "$tjs" "$infer") | |"
  echo "| clip onnx bench, vision batch 8 (inference only) | ${infer:--} | | 1× | |"
  echo
  echo "| decode + CLIP preprocessing, per photo | ms | CPU ms (all threads) |"
  echo "|---|---|---|"
  echo "| clip default, 12 MP JPEG, reduced decode (\`BenchmarkDecodePreprocessPhotos\`) | ${go_photo:--} | ${go_photo_cpu:--} |"
  echo "| Pillow, \`draft\` | ${pil_draft:--} | ${pil_draft_cpu:--} |"
  echo "| clip --exact-decode, 12 MP JPEG (\`BenchmarkDecodePreprocessPhotosExact\`) | ${go_exact:--} | ${go_exact_cpu:--} |"
  echo "| Pillow, plain | ${pil_plain:--} | ${pil_plain_cpu:--} |"
  echo "| clip, 12 MP HEIC (libheif in WebAssembly, \`BenchmarkDecodePreprocessHEIC\`) | ${go_heic:--} | ${go_heic_cpu:--} |"
  echo "| heif-convert (native libheif $(dpkg-query -W -f '${Version}' libheif1 2>/dev/null), decode + y4m write, process included) | ${hc:--} | ${hc_cpu:--} |"
  echo "| clip, once per run with a HEIC: compile libheif's WebAssembly (\`BenchmarkHEIFCompile\`) | ${go_wasm:--} | |"
  echo "| the same, loaded from the compilation cache in the model store (\`BenchmarkHEIFCompileCached\`) | ${go_wasm_cached:--} | |"
  echo
  echo "Per round (images/s), to show the spread on a shared machine:"
  for m in default exact baseline; do
    v=$(for f in "$OUT"/$m.*.summary.json; do jsonf "$f" images_per_second; done | awk 'NF {printf "%s%.2f", s, $1; s=", "}')
    [ -n "$v" ] && echo "clip $m: $v;"
  done
  v=$(for f in "$OUT"/tjs.*.json; do jsonf "$f" images_per_second; done | awk 'NF {printf "%s%.2f", s, $1; s=", "}'); [ -n "$v" ] && echo "transformers.js: $v;"
  v=$(for f in "$OUT"/vision_b8.*.json; do jsonf "$f" items_per_second; done | awk 'NF {printf "%s%.2f", s, $1; s=", "}'); [ -n "$v" ] && echo "inference only: $v."
  [ -f "$OUT/heic.time" ] && echo && echo "clip classify on ${#heics[@]} HEICs (12 MP), fresh process: $(awk '{printf "%.1f s wall, peak RSS %.0f MiB", $1, $2/1024}' "$OUT/heic.time")."
  [ -f "$OUT/big.time" ] && echo && echo "clip classify on one 99 MP JPEG (11500×8600), fresh process: $(awk '{printf "%.1f s wall, peak RSS %.0f MiB", $1, $2/1024}' "$OUT/big.time")."
  for s in "${notes[@]}"; do echo; echo "- $s"; done
} >"$RES/photos.md"
say "wrote $RES/photos.md"
cat "$RES/photos.md" >&2
