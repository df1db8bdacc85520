#!/usr/bin/env bash
# The "index" section of `make bench` (issue 18, scale), runnable alone:
#
#   bash scripts/bench/index.sh [CLIP_BINARY]   # default: builds tmp/bench/clip
#   BENCH_ONLY=index make bench                 # the same, through run.sh
#
# Builds a 1,000,000-image index without embedding a million images: `clip
# index` embeds one real image (testdata/images/astronaut.jpg) with the bench
# model, which records the model in the index, then scripts/bench/indexbench
# adds synthetic CLIP-like 512-d vectors (internal/clipsynth: a shared
# direction, 300 clusters, noise; unit length) and writes the vector file.
# Then, on that index: the index and vector file sizes per image; cold `clip
# search --image` (the real binary, a fresh process each time, page cache
# warm) wall time and peak RSS, beside the same search on the one-image index
# (the model's share) and with the vector file deleted first (the search
# rebuilds it from SQLite); in-process p50/p99 per query after one load
# (indexbench query, pkg/index's API as `clip serve` uses it); and
# BenchmarkSearch1M's recall@10 against float32 per precision. Writes
# $BENCH_WORK/results/index.md (the report appends it to BENCHMARKS.md).
# Environment as run.sh's; BENCH_INDEX_COUNT (1000000) synthetic images,
# BENCH_INDEX_ROUNDS (3) cold searches. The filled index is kept in
# $BENCH_WORK/index and reused while its count matches.
set -uo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
MODEL_DIR=${BENCH_MODEL_DIR:-bench-models/clip-vit-base-patch32-random}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_INDEX_ROUNDS:-3}
COUNT=${BENCH_INDEX_COUNT:-1000000}
WORK=${BENCH_WORK:-tmp/bench}
RES=$WORK/results
OUT=$RES/index
DIR=$WORK/index
IMG=testdata/images/astronaut.jpg
mkdir -p "$OUT" "$DIR"
LOG=$WORK/index-log.txt
: >"$LOG"
say() { echo "bench index: $*" | tee -a "$LOG" >&2; }
notes=()
note() { notes+=("$*"); say "NOTE: $*"; }

CLIP=${1:-$WORK/clip}
if [ $# -eq 0 ]; then
  CGO_ENABLED=0 $GO build -tags nodynamic -o "$CLIP" ./cmd/clip 2>>"$LOG" || { note "go build failed"; CLIP=; }
fi
CGO_ENABLED=0 $GO build -tags nodynamic -o "$WORK/indexbench" ./scripts/bench/indexbench 2>>"$LOG" ||
  note "building scripts/bench/indexbench failed (see $LOG)"

SMALL=$DIR/one.sqlite
BIG=$DIR/big.sqlite
if [ -z "$CLIP" ] || [ ! -f "$MODEL_DIR/onnx/vision_model.onnx" ] || [ ! -x "$WORK/indexbench" ]; then
  note "index section skipped: needs a clip build, indexbench and $MODEL_DIR (\`make bench-models\`)"
else
  if [ "$(cat "$DIR/count" 2>/dev/null)" != "$COUNT" ] || [ ! -f "$BIG" ]; then
    say "indexing one image and adding $COUNT synthetic ones (a few minutes)"
    rm -f "$DIR"/*.sqlite* "$DIR/count"
    "$CLIP" --model "$MODEL_DIR" --threads "$THREADS" -q index --index "$SMALL" "$IMG" >/dev/null 2>>"$LOG" ||
      note "clip index $IMG failed (see $LOG)"
    cp "$SMALL" "$BIG"
    start=$(date +%s)
    if "$WORK/indexbench" fill --index "$BIG" --count "$COUNT" 2>>"$LOG"; then
      echo "$COUNT" >"$DIR/count"
      echo "fill_s=$(($(date +%s) - start))" >"$OUT/fill.txt"
    else
      note "indexbench fill failed (see $LOG)"
    fi
  fi
  images=$((COUNT + 1))
  db=$(du -cb "$BIG" "$BIG-wal" 2>/dev/null | tail -1 | cut -f1)
  vf=$(stat -c %s "$BIG.vectors" 2>/dev/null || echo 0)

  # search NAME INDEX: one cold `clip search --image`, wall s and peak RSS KB;
  # the astronaut must come first with score ≈ 1.
  search() {
    local name=$1 ix=$2
    /usr/bin/time -f '%e %M %U %S' -o "$OUT/$name.time" "$CLIP" --model "$MODEL_DIR" --threads "$THREADS" -q \
      search --index "$ix" --image "$IMG" -k 10 --format jsonl >"$OUT/$name.jsonl" 2>>"$LOG" ||
      { note "clip search ($name) failed (see $LOG)"; rm -f "$OUT/$name.time"; return; }
    head -1 "$OUT/$name.jsonl" | grep -q 'astronaut.jpg","score":1' ||
      note "clip search ($name): the query image is not the first hit: $(head -1 "$OUT/$name.jsonl")"
    cat "$OUT/$name.time" >>"$OUT/$name.all"
  }
  rm -f "$OUT"/*.all
  say "cold clip search: warm-up"
  search warmup "$BIG"
  search warmup "$SMALL"
  for r in $(seq 1 "$ROUNDS"); do
    say "cold clip search, round $r"
    search one "$SMALL"
    search big "$BIG"
  done
  say "cold clip search without the vector file (rebuilds it)"
  rm -f "$BIG.vectors"
  search rebuild "$BIG"
  search after "$BIG"
  say "in-process searches"
  "$WORK/indexbench" query --index "$BIG" --queries 100 >"$OUT/query.json" 2>>"$LOG" ||
    note "indexbench query failed (see $LOG)"
  say "recall@10 and in-memory p50 (BenchmarkSearch1M)"
  echo "loadavg=$(cut -d' ' -f1 /proc/loadavg)" >"$OUT/search_go.load"
  CGO_ENABLED=0 $GO test -tags nodynamic -run '^$' -bench 'BenchmarkSearch1M$' -benchtime 1x ./pkg/index/ \
    >"$OUT/search_go.txt" 2>>"$LOG" || note "BenchmarkSearch1M failed (see $LOG)"

  # med FILE COLUMN: median of a column of /usr/bin/time lines.
  med() { [ -s "$1" ] && sort -n -k"$2" "$1" | awk -v c="$2" '{a[NR]=$c} END {print a[int((NR+1)/2)]}' || echo -; }
  cpu() { [ -s "$1" ] && awk '{print $3 + $4}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' || echo -; }
  mib() { [ "$1" = - ] && echo - || awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
  metric() { awk -v m="$1" '/^BenchmarkSearch1M/ {for (i = 2; i <= NF; i++) if ($i == m) print $(i-1)}' "$OUT/search_go.txt" 2>/dev/null; }
  json() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" "$OUT/query.json" 2>/dev/null; }
  {
    echo "## Index and search at scale (issue 18)"
    echo
    echo "$images images in one index: one embedded by \`clip index\` ($IMG), the rest synthetic CLIP-like"
    echo "512-d unit vectors (internal/clipsynth: shared direction + one of 300 cluster centres + noise)."
    echo "Model $MODEL_DIR, $THREADS threads. Cold searches are \`clip search --image $IMG -k 10\`, a fresh"
    echo "process each (median of $ROUNDS, page cache warm); the one-image index gives the model's share."
    echo
    echo "| | value |"
    echo "|---|---|"
    echo "| SQLite index | $(awk -v b="$db" -v n="$images" 'BEGIN {printf "%.0f MB, %.0f bytes/image", b/1e6, b/n}') |"
    echo "| vector file (int8 + float16 + paths) | $(awk -v b="$vf" -v n="$images" 'BEGIN {printf "%.0f MB, %.0f bytes/image", b/1e6, b/n}') |"
    echo "| cold \`clip search\`, 1-image index | $(med "$OUT/one.all" 1) s wall, $(cpu "$OUT/one.all") s CPU, $(mib "$(med "$OUT/one.all" 2)") MiB peak RSS |"
    echo "| cold \`clip search\`, $images images | $(med "$OUT/big.all" 1) s wall, $(cpu "$OUT/big.all") s CPU, $(mib "$(med "$OUT/big.all" 2)") MiB peak RSS |"
    echo "| cold \`clip search\`, vector file deleted (rebuilt from SQLite) | $(med "$OUT/rebuild.all" 1) s, $(mib "$(med "$OUT/rebuild.all" 2)") MiB |"
    echo "| the next cold \`clip search\` | $(med "$OUT/after.all" 1) s |"
    echo "| in-process: open + load (mapped) | $(json load_ms) ms, $(json rss_mib) MiB peak RSS |"
    echo "| in-process per query (100 queries, k=10; load average $(sed -nE 's/.*"loadavg":"([^"]*)".*/\1/p' "$OUT/query.json" 2>/dev/null)) | p50 $(json p50_ms) ms, p99 $(json p99_ms) ms wall; $(json cpu_ms_per_query) ms CPU (both threads) |"
    echo "| in memory (BenchmarkSearch1M, 1M vectors; load average $(sed 's/loadavg=//' "$OUT/search_go.load" 2>/dev/null)) | p50 $(metric p50-ms) ms, p99 $(metric p99-ms) ms; float16 scan alone p50 $(metric float16-p50-ms) ms |"
    echo "| recall@10 vs float32 (20 queries, 1M vectors) | float16 $(metric recall-float16), int8 alone $(metric recall-int8), search (int8 scan + float16 rescoring) $(metric recall-search) |"
    [ -f "$OUT/fill.txt" ] && echo "| filling the index (indexbench) | $(sed 's/fill_s=//' "$OUT/fill.txt") s |"
    echo
    for n in "${notes[@]}"; do echo "- $n"; done
  } >"$RES/index.md"
fi
say "wrote $RES/index.md"
