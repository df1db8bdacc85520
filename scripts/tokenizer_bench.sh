#!/usr/bin/env bash
# Tokens per second of pkg/tokenizer against transformers.js on the same
# inputs (the tokenizer corpus, and the same ~1 MB string), and the ratio.
# Needs ../shared/clip-vocab, scripts/reference/node_modules, /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
SHARED=${SHARED:-../shared}
GO=${GO:-go}
REAL=tmp/tokenizer/clip-vit-base-patch32
CORPUS=testdata/golden/tokenizer/corpus.json

[ -f "$REAL/tokenizer.json" ] ||
  "$PY" scripts/tokenizer_files.py --bpe "$SHARED/clip-vocab/bpe_simple_vocab_16e6.txt.gz" --out "$REAL"
gobench=$("$GO" test -run '^$' -bench 'BenchmarkEncode(Corpus|1MB)$' -benchtime 5x ./pkg/tokenizer/)
echo "$gobench" | grep '^Benchmark'
js=$(node scripts/reference/tokenize_bench.mjs --corpus "$CORPUS" --model "$REAL")
echo "transformers.js: $js"
go_corpus=$(echo "$gobench" | awk '/^BenchmarkEncodeCorpus/ {for (i = 1; i < NF; i++) if ($(i+1) == "tokens/s") print $i}')
go_1mb=$(echo "$gobench" | awk '/^BenchmarkEncode1MB-/ {for (i = 1; i < NF; i++) if ($(i+1) == "tokens/s") print $i}')
js_corpus=$(echo "$js" | sed -E 's/.*"corpus_tokens_per_s":([0-9.]+).*/\1/')
js_1mb=$(echo "$js" | sed -E 's/.*"mb1_tokens_per_s":([0-9.]+).*/\1/')
awk -v gc="$go_corpus" -v jc="$js_corpus" -v g1="$go_1mb" -v j1="$js_1mb" 'BEGIN {
  printf "tokenizer corpus: Go %.0f tokens/s, transformers.js %.0f tokens/s, Go/JS = %.2fx\n", gc, jc, gc / jc
  printf "tokenizer 1 MB:   Go %.0f tokens/s, transformers.js %.0f tokens/s, Go/JS = %.2fx\n", g1, j1, g1 / j1
}'
