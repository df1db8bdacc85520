#!/usr/bin/env bash
# Regenerate testdata/golden/tokenizer/: the corpus (scripts/tokenizer_corpus.py)
# and transformers.js's ids for it (scripts/reference/tokenize.mjs) on
#   (a) CLIP's real vocabulary, as the Hugging Face files scripts/tokenizer_files.py
#       writes from ../shared/clip-vocab/bpe_simple_vocab_16e6.txt.gz (into the
#       git-ignored tmp/tokenizer/, 3.7 MB), and
#   (b) the tiny-shapes test model's tokenizer, when testdata/models/tiny-shapes exists.
# Needs /usr/bin/python3 (stdlib only) and scripts/reference/node_modules
# (cd scripts/reference && ONNXRUNTIME_NODE_INSTALL=skip npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
SHARED=${SHARED:-../shared}
OUT=testdata/golden/tokenizer
REAL=tmp/tokenizer/clip-vit-base-patch32

if [ ! -d scripts/reference/node_modules/@huggingface/transformers ]; then
  echo "tokenizer_golden.sh: scripts/reference/node_modules missing; run: (cd scripts/reference && ONNXRUNTIME_NODE_INSTALL=skip npm ci)" >&2
  exit 1
fi
"$PY" scripts/tokenizer_corpus.py --out "$OUT/corpus.json"
"$PY" scripts/tokenizer_files.py --bpe "$SHARED/clip-vocab/bpe_simple_vocab_16e6.txt.gz" --out "$REAL"
node scripts/reference/tokenize.mjs --corpus "$OUT/corpus.json" --model "$REAL" \
  --name openai/clip-vit-base-patch32 --out "$OUT/ids-real.json"
if [ -f testdata/models/tiny-shapes/tokenizer.json ]; then
  node scripts/reference/tokenize.mjs --corpus "$OUT/corpus.json" --model testdata/models/tiny-shapes \
    --name tiny-shapes --out "$OUT/ids-tiny-shapes.json"
else
  echo "tokenizer_golden.sh: no testdata/models/tiny-shapes/tokenizer.json; skipping its golden ids" >&2
fi
