#!/usr/bin/env bash
# Speed of pkg/tokenizer's Unigram tokenizer against transformers.js on the
# same tokenizer.json (the byte-fallback SentencePiece fixture) and the
# same corpus, in one run. Compared per pass over the corpus, not per
# token: the two emit different token counts where transformers.js
# ignores byte fallback (pkg/tokenizer/testdata/unigram/README.md).
# Needs scripts/reference/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
CORPUS=testdata/golden/tokenizer/corpus.json
MODEL=tmp/unigram/bench-bytefallback
mkdir -p "$MODEL"
gzip -dc pkg/tokenizer/testdata/unigram/bytefallback.tokenizer.json.gz >"$MODEL/tokenizer.json"
cp pkg/tokenizer/testdata/unigram/bytefallback.tokenizer_config.json "$MODEL/tokenizer_config.json"
gobench=$("$GO" test -run '^$' -bench 'BenchmarkUnigramEncodeCorpus$' -benchtime 5x -count 3 ./pkg/tokenizer/)
echo "$gobench" | grep '^Benchmark'
js=$(node scripts/reference/tokenize_bench.mjs --corpus "$CORPUS" --model "$MODEL" --mb1 0)
echo "transformers.js: $js"
# Best of the Go runs (ns per pass over the corpus).
go_ns=$(echo "$gobench" | awk '/^BenchmarkUnigramEncodeCorpus/ {if (best == "" || $3 < best) best = $3} END {print best}')
js_s=$(echo "$js" | sed -E 's/.*"corpus_pass_seconds":([0-9.e+-]+).*/\1/')
awk -v g="$go_ns" -v j="$js_s" 'BEGIN {
  printf "unigram corpus pass: Go %.1f ms, transformers.js %.1f ms, Go is %.2fx as fast\n", g / 1e6, j * 1e3, j * 1e9 / g
}'
