// Measure transformers.js's tokenizer on the tokenizer corpus and on a ~1 MB
// string, the same inputs as pkg/tokenizer's BenchmarkEncodeCorpus and
// BenchmarkEncode1MB, so scripts/tokenizer_bench.sh can print the ratio.
//
//   node scripts/reference/tokenize_bench.mjs --corpus testdata/golden/tokenizer/corpus.json --model DIR [--mb1 0]
//
// --mb1 0 skips the ~1 MB string (a Unigram lattice over 1 MB is what the
// comparison of scripts/unigram_bench.sh leaves out).
// Prints one JSON object: tokens per second for each input.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadLocalTokenizer } from "./tokenize.mjs";

function args() {
  const out = { passes: "5", mb1: "1" };
  const argv = process.argv.slice(2);
  for (let i = 0; i + 1 < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  if (!out.corpus || !out.model) throw new Error("usage: tokenize_bench.mjs --corpus FILE --model DIR [--passes N]");
  return out;
}

const a = args();
const texts = JSON.parse(readFileSync(a.corpus, "utf8")).texts;
const tok = await loadLocalTokenizer(a.model);
const encode = (text) => tok(text, { return_tensor: false }).input_ids.length;

// Corpus: one warm-up pass (fills the BPE cache, as the Go benchmark's
// first iteration does), then timed passes.
for (const t of texts) encode(t);
const passes = Number(a.passes);
let tokens = 0;
let t0 = performance.now();
for (let p = 0; p < passes; p++) for (const t of texts) tokens += encode(t);
const corpusSeconds = (performance.now() - t0) / 1000;

// ~1 MB: the corpus joined by newlines, repeated until it reaches 1,000,000 UTF-8 bytes.
const joined = texts.join("\n") + "\n";
const joinedBytes = Buffer.byteLength(joined);
const big = a.mb1 === "0" ? "" : joined.repeat(Math.ceil(1_000_000 / joinedBytes));
encode(big);
let bigTokens = 0;
t0 = performance.now();
const bigPasses = a.mb1 === "0" ? 0 : 3;
for (let p = 0; p < bigPasses; p++) bigTokens += encode(big);
const bigSeconds = (performance.now() - t0) / 1000;

console.log(JSON.stringify({
  tool: "transformers.js",
  node: process.version,
  corpus_texts: texts.length,
  corpus_tokens_per_s: Math.round(tokens / corpusSeconds),
  corpus_pass_seconds: corpusSeconds / passes,
  mb1_bytes: Buffer.byteLength(big),
  mb1_tokens_per_s: Math.round(bigTokens / bigSeconds),
  mb1_seconds: bigSeconds / bigPasses,
}));
