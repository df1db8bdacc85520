// Reference runner: onnxruntime-node on the fixed inputs of every golden case.
//
// For each testdata/golden/ort/<model-dir>/<stem>/inputs/cases.json (written by
// scripts/fixtures/make_ort_inputs.py) it loads the model file named there, runs
// every case and writes outputs/<case>.<output-name>.npy plus meta.json (tool,
// versions, session options, the cases' input provenance) under --out (default:
// the golden dir itself).
//
// usage: node scripts/reference/ort_run.mjs [--golden DIR] [--root PROJECT_ROOT] [--out DIR]
import * as ort from 'onnxruntime-node';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpy } from './ort_npy.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const root = resolve(args.root ?? join(here, '..', '..'));
const golden = resolve(args.golden ?? join(root, 'testdata', 'golden', 'ort'));
const out = resolve(args.out ?? golden);

const ortVersion = JSON.parse(readFileSync(join(here, 'node_modules', 'onnxruntime-node', 'package.json'))).version;
// One intra-op thread and sequential execution: the outputs must not depend on how
// many cores the machine has (reduction order), so CI reproduces them exactly.
const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all' };

function toOrt(t) {
  return new ort.Tensor(t.dtype === 'bool' ? 'bool' : t.dtype, t.data, t.dims);
}

function caseDirs() {
  const dirs = [];
  for (const model of readdirSync(golden).sort()) {
    const mdir = join(golden, model);
    if (!statSync(mdir).isDirectory()) continue; // README.md
    for (const stem of readdirSync(mdir).sort()) {
      if (existsSync(join(mdir, stem, 'inputs', 'cases.json'))) dirs.push([model, stem]);
    }
  }
  return dirs;
}

let failures = 0;
for (const [model, stem] of caseDirs()) {
  const inDir = join(golden, model, stem, 'inputs');
  const spec = JSON.parse(readFileSync(join(inDir, 'cases.json'), 'utf8'));
  const modelPath = join(root, spec.model);
  const session = await ort.InferenceSession.create(modelPath, sessionOptions);
  const outDir = join(out, model, stem, 'outputs');
  mkdirSync(outDir, { recursive: true });
  const meta = {
    tool: 'onnxruntime-node', version: ortVersion, node: process.version,
    made_by: 'scripts/reference/ort_run.mjs', model: spec.model, session_options: sessionOptions,
    inputs_made_by: spec.made_by, cases: {},
  };
  for (const [name, c] of Object.entries(spec.cases)) {
    const feeds = {};
    for (const input of Object.keys(c.inputs)) feeds[input] = toOrt(readNpy(join(inDir, `${name}.${input}.npy`)));
    let result;
    try {
      result = await session.run(feeds);
    } catch (e) {
      console.error(`${spec.model} case ${name}: ${e.message}`);
      failures++;
      continue;
    }
    meta.cases[name] = { inputs: c.inputs, how: c.how, outputs: {} };
    for (const outName of session.outputNames) {
      const t = result[outName];
      writeNpy(join(outDir, `${name}.${outName}.npy`), t.type, t.dims, t.data);
      meta.cases[name].outputs[outName] = { dtype: t.type, shape: t.dims };
    }
  }
  mkdirSync(join(out, model, stem), { recursive: true });
  writeFileSync(join(out, model, stem, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  console.log(`${model}/${stem}: ${Object.keys(meta.cases).length} cases`);
}
if (failures) {
  console.error(`${failures} case(s) failed`);
  process.exit(1);
}
