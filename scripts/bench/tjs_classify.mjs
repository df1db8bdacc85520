// transformers.js' side of the end-to-end comparison in `make bench`
// (scripts/bench/run.sh): the zero-shot-image-classification pipeline on a local
// model directory (Hugging Face layout, onnx/model.onnx), some image files and
// labels, with the same prompt template and batch size as `clip classify`.
//
//   node scripts/bench/tjs_classify.mjs --model DIR --labels a,b,c [--batch 8] [--threads 2] [--runs 2] IMAGE...
//
// Prints one JSON object: cold_ms (process start to the first image's labels:
// node start-up, import, pipeline creation, one image), images_per_second over
// all images (median of --runs passes after the cold one), peak RSS.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'reference', 'package.json'));

function parseArgs(argv) {
  const o = { batch: '8', threads: '2', runs: '2', template: 'a photo of a {}.' };
  const images = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[++i];
    else images.push(resolve(argv[i]));
  }
  if (!o.model || !o.labels || images.length === 0) {
    throw new Error('usage: tjs_classify.mjs --model DIR --labels a,b,c [--batch N] [--threads N] [--runs R] IMAGE...');
  }
  return { model: resolve(o.model), labels: o.labels.split(','), batch: Number(o.batch), threads: Number(o.threads),
    runs: Number(o.runs), template: o.template, images };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

async function main() {
  const a = parseArgs(process.argv.slice(2));
  // The ESM build, resolved from scripts/reference/node_modules.
  const entry = require.resolve('@huggingface/transformers').replace(/\.cjs$/, '.mjs');
  const { env, pipeline } = await import(pathToFileURL(entry).href);
  const version = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(a.model) + '/';
  env.useBrowserCache = false;
  env.useFSCache = false;

  const loadStart = performance.now();
  const classify = await pipeline('zero-shot-image-classification', basename(a.model), {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential' },
  });
  const loadMs = performance.now() - loadStart;
  const opts = { hypothesis_template: a.template };
  const first = await classify(a.images[0], a.labels, opts);
  // performance.now() counts from the process's time origin: this is the
  // whole cold path, node's start-up included.
  const coldMs = performance.now();
  const top = (Array.isArray(first[0]) ? first[0] : first)[0];

  const passes = [];
  for (let r = 0; r < a.runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < a.images.length; i += a.batch) {
      await classify(a.images.slice(i, i + a.batch), a.labels, opts);
    }
    passes.push(performance.now() - t0);
  }
  const med = median(passes);
  console.log(JSON.stringify({
    tool: 'transformers.js',
    version,
    node: process.version,
    model: a.model,
    images: a.images.length,
    labels: a.labels.length,
    batch: a.batch,
    threads: a.threads,
    runs: a.runs,
    cold_ms: coldMs,
    pipeline_load_ms: loadMs,
    first_label: top?.label,
    median_pass_ms: med,
    ms_per_image: med / a.images.length,
    images_per_second: (a.images.length * 1000) / med,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }));
}

main().catch((e) => {
  console.error(`tjs_classify: ${e.stack ?? e}`);
  process.exit(1);
});
