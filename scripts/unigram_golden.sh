#!/usr/bin/env bash
# Unigram tokenizer goldens: trains the SentencePiece models and writes
# SentencePiece's ids (scripts/unigram_fixtures.py), then transformers.js's
# ids on the same tokenizer.json files, into pkg/tokenizer/testdata/unigram.
# Needs /usr/bin/python3 with sentencepiece, scripts/reference/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
OUT=pkg/tokenizer/testdata/unigram
CORPUS=testdata/golden/tokenizer/corpus.json
"$PY" scripts/unigram_fixtures.py --work tmp/unigram --out "$OUT" --corpus "$CORPUS"
for name in bytefallback unk; do
  node scripts/reference/tokenize.mjs --corpus "$CORPUS" --model "tmp/unigram/$name" \
    --name "$name" --out "tmp/unigram/ids-tjs-$name.json"
  gzip -9 -n -c "tmp/unigram/ids-tjs-$name.json" >"$OUT/ids-tjs-$name.json.gz"
done
