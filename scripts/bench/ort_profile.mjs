// Where onnxruntime spends a run, per operator: the reference side of a
// profile of clip's engine (go test -bench … -cpuprofile in pkg/engine).
// Runs MODEL.onnx on the inputs `clip onnx bench --save-inputs DIR` wrote,
// with ort_bench.mjs's session settings and onnxruntime's own profiler, and
// prints each operator type's time per run (the first two runs, warm-up,
// left out).
//
//   node scripts/bench/ort_profile.mjs MODEL.onnx --inputs DIR [--threads 1] [--runs 10]
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFeeds, parseArgs } from './ort_args.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'reference', 'package.json'));

async function main() {
  const a = parseArgs(process.argv.slice(2), { threads: '1', runs: '10' },
    'ort_profile.mjs MODEL.onnx --inputs DIR [--threads N] [--runs R]');
  const ort = require('onnxruntime-node');
  const { feeds } = loadFeeds(ort, a.inputs);
  const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
  try {
    const session = await ort.InferenceSession.create(a.model, {
      intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
      enableProfiling: true, profileFilePrefix: join(dir, 'p'),
    });
    const warmup = 2;
    for (let i = 0; i < warmup + a.runs; i++) await session.run(feeds);
    session.endProfiling();
    const events = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'));
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const start = runs[warmup].ts;
    const byOp = new Map();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
      const op = e.args.op_name;
      const v = byOp.get(op) ?? { us: 0, n: 0 };
      v.us += e.dur;
      v.n++;
      byOp.set(op, v);
    }
    const total = [...byOp.values()].reduce((s, v) => s + v.us, 0);
    const runMs = runs.slice(warmup).map((r) => r.dur / 1000);
    console.log(`onnxruntime ${a.threads} thread(s), ${a.runs} runs: median run ${runMs.sort((x, y) => x - y)[runMs.length >> 1].toFixed(1)} ms (profiling on)`);
    for (const [op, v] of [...byOp].sort((x, y) => y[1].us - x[1].us)) {
      console.log(`${op.padEnd(28)} ${(v.us / a.runs / 1000).toFixed(2).padStart(8)} ms/run ${(100 * v.us / total).toFixed(1).padStart(5)}%  ${v.n / a.runs} per run`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`ort_profile: ${e.message ?? e}`);
  process.exit(1);
});
