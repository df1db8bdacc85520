// Tokenize the tokenizer test corpus with transformers.js and write golden ids.
//
//   node scripts/reference/tokenize.mjs --corpus testdata/golden/tokenizer/corpus.json \
//        --model DIR --name real --out testdata/golden/tokenizer/ids-real.json
//
// DIR is a local model directory (tokenizer.json, tokenizer_config.json, …);
// nothing is fetched (env.allowRemoteModels = false). The ids are the full
// encoding with special tokens and no truncation or padding, so the Go test
// can check truncation against them too. The output records the tool and
// versions that made it, and hashes of the corpus and tokenizer.json.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { AutoTokenizer, env } from "@huggingface/transformers";

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
      throw new Error(`usage: tokenize.mjs --corpus FILE --model DIR --name NAME --out FILE (bad argument ${argv[i]})`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ["corpus", "model", "name", "out"]) {
    if (!out[k]) throw new Error(`tokenize.mjs: --${k} is required`);
  }
  return out;
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

function packageVersion(name) {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
      if (pkg.name === name) return pkg.version;
    } catch {}
    const up = path.dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}

export async function loadLocalTokenizer(modelDir) {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const abs = path.resolve(modelDir);
  env.localModelPath = path.dirname(abs) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(abs));
}

async function main() {
  const a = args();
  const corpusBytes = readFileSync(a.corpus);
  const corpus = JSON.parse(corpusBytes.toString("utf8"));
  const tok = await loadLocalTokenizer(a.model);
  const ids = corpus.texts.map((text) => tok(text, { return_tensor: false }).input_ids);
  let tokenizerJSONHash = null;
  try {
    tokenizerJSONHash = sha256(readFileSync(path.join(a.model, "tokenizer.json")));
  } catch {}
  const meta = {
    tool: "transformers.js",
    transformers_version: packageVersion("@huggingface/transformers"),
    tokenizers_version: packageVersion("@huggingface/tokenizers"),
    node: process.version,
    node_unicode: process.versions.unicode,
    made_by: "scripts/reference/tokenize.mjs",
    tokenizer: a.name,
    tokenizer_json_sha256: tokenizerJSONHash,
    corpus_sha256: sha256(corpusBytes),
    count: ids.length,
    model_max_length: tok.model_max_length,
    pad_token_id: tok.pad_token_id ?? null,
    note: "ids: full encodings (special tokens, no truncation, no padding), one per corpus text, in order",
  };
  // One line per text keeps the file diffable.
  const head = JSON.stringify(meta, null, 1).replace(/\n}$/, "");
  const body = ids.map((x) => JSON.stringify(x)).join(",\n");
  writeFileSync(a.out, `${head},\n "ids": [\n${body}\n]}\n`);
  const tokens = ids.reduce((n, x) => n + x.length, 0);
  console.error(`${a.out}: ${ids.length} texts, ${tokens} tokens (${meta.tool} ${meta.transformers_version})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
