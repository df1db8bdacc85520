#!/usr/bin/env bash
# Rerun the reference runners (onnxruntime-node, transformers.js) on the committed
# inputs into a temporary directory and fail if the committed goldens differ
# (outputs bit-identical, or within a small tolerance with a warning; tool versions
# equal). CI runs this; it takes well under a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d scripts/reference/node_modules/onnxruntime-node ] || \
   [ ! -d scripts/reference/node_modules/@huggingface/transformers ]; then
  (cd scripts/reference && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node scripts/reference/ort_run.mjs --out "$tmp/ort" >/dev/null
node scripts/reference/ort_compare.mjs --golden testdata/golden/ort --fresh "$tmp/ort"
node scripts/reference/zeroshot_run.mjs --out "$tmp/zeroshot.json" >/dev/null
node scripts/reference/ort_compare.mjs --zeroshot testdata/golden/zeroshot/tiny-shapes.json --fresh "$tmp/zeroshot.json"
echo "check_goldens: goldens reproduce"
