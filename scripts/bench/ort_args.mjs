// What ort_bench.mjs and ort_profile.mjs share: their command line and the
// inputs `clip onnx bench --save-inputs DIR` wrote, as onnxruntime tensors.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNpy } from '../reference/ort_npy.mjs';

// parseArgs reads `MODEL.onnx --inputs DIR [--name value]...` over the
// string defaults (numbers come back as numbers); usage is the error text.
export function parseArgs(argv, defaults, usage) {
  const o = { ...defaults };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[++i];
    else rest.push(argv[i]);
  }
  if (rest.length !== 1 || !o.inputs) throw new Error(`usage: ${usage}`);
  const out = { model: resolve(rest[0]), inputs: resolve(o.inputs) };
  for (const k of Object.keys(defaults)) out[k] = Number(o[k]);
  // --output NAME: fetch only that graph output, as clip classify asks
  // only for the embedding.
  if (o.output) out.output = o.output;
  return out;
}

// loadFeeds returns the saved inputs as ort.Tensors by input name, and the
// batch (the first input's leading dimension, 1 without one).
export function loadFeeds(ort, dir) {
  const index = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'));
  const feeds = {};
  let batch = 0;
  for (const [name, e] of Object.entries(index)) {
    const t = readNpy(join(dir, e.file));
    feeds[name] = new ort.Tensor(t.dtype, t.data, t.dims);
    if (!batch && t.dims.length) batch = t.dims[0];
  }
  return { feeds, batch: batch || 1 };
}
