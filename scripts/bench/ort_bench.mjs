// onnxruntime-node's side of `make bench` (scripts/bench/run.sh): time one ONNX
// file on the very inputs `clip onnx bench --save-inputs DIR` wrote, with the
// same warm-up and timed runs, and print one JSON object shaped like clip's.
//
//   node scripts/bench/ort_bench.mjs MODEL.onnx --inputs DIR [--threads 2] [--runs 10] [--warmup 2] [--output NAME]
//
// Session: intra-op threads --threads (2 = both cores here), one inter-op
// thread, sequential execution, all graph optimisations — onnxruntime's
// fastest CPU setting for one model on a small machine.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadFeeds, parseArgs } from './ort_args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// The reference packages live in scripts/reference/node_modules.
const require = createRequire(join(here, '..', 'reference', 'package.json'));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

async function main() {
  const a = parseArgs(process.argv.slice(2), { threads: '2', runs: '10', warmup: '2' },
    'ort_bench.mjs MODEL.onnx --inputs DIR [--threads N] [--runs R] [--warmup W] [--output NAME]');
  const ort = require('onnxruntime-node');
  const ortVersion = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;
  const { feeds, batch } = loadFeeds(ort, a.inputs);
  // With --output, onnxruntime computes only what that output needs and
  // returns it alone.
  const run = a.output ? () => session.run(feeds, [a.output]) : () => session.run(feeds);

  let t0 = performance.now();
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const createMs = performance.now() - t0;

  let firstRunMs = 0;
  for (let i = 0; i < Math.max(a.warmup, 1); i++) {
    t0 = performance.now();
    await run();
    if (i === 0) firstRunMs = performance.now() - t0;
  }
  const times = [];
  for (let i = 0; i < a.runs; i++) {
    t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  const med = median(times);
  console.log(JSON.stringify({
    tool: 'onnxruntime-node',
    ort_version: ortVersion,
    node: process.version,
    model: a.model,
    output: a.output ?? null,
    batch,
    threads: a.threads,
    runs: a.runs,
    warmup: a.warmup,
    median_ms: med,
    min_ms: Math.min(...times),
    ms_per_item: med / batch,
    items_per_second: (batch * 1000) / med,
    session_create_ms: createMs,
    first_run_ms: firstRunMs,
    // resourceUsage().maxRSS is in kilobytes.
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  }));
}

main().catch((e) => {
  console.error(`ort_bench: ${e.message ?? e}`);
  process.exit(1);
});
