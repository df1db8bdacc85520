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
# xlmr: the tiny M-CLIP's tokenizer (scripts/fixtures/make_tiny_mclip.py writes it and its
# SentencePiece ids).
for name in bytefallback unk xlmr; do
  model="tmp/unigram/$name"
  [ "$name" = xlmr ] && model=testdata/models/tiny-mclip/textual
  node scripts/reference/tokenize.mjs --corpus "$CORPUS" --model "$model" \
    --name "$name" --out "tmp/unigram/ids-tjs-$name.json"
  gzip -9 -n -c "tmp/unigram/ids-tjs-$name.json" >"$OUT/ids-tjs-$name.json.gz"
done
