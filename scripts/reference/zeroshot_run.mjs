// Zero-shot reference for the tiny-shapes CLIP: per test image, the probability of
// each label, computed two independent ways and recorded separately:
//
//  onnxruntime:      Pillow preprocessing (testdata/golden/zeroshot/tiny-shapes.pixel_values.npy,
//                    HF CLIPImageProcessor semantics) + transformers.js' tokenizer +
//                    onnxruntime-node on onnx/model.onnx (logits_per_image = logit_scale x
//                    cosine), softmax over the labels.
//  transformers_js:  @huggingface/transformers' zero-shot-image-classification pipeline on
//                    the model directory (its own image decoding and resize, which differ
//                    from Pillow's).
//
// It also checks that transformers.js' tokenizer gives the ids our Python BPE gave.
//
// usage: node scripts/reference/zeroshot_run.mjs [--root PROJECT_ROOT] [--out FILE]
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy } from './ort_npy.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const root = resolve(args.root ?? join(here, '..', '..'));
const modelName = 'tiny-shapes';
const goldDir = join(root, 'testdata', 'golden', 'zeroshot');
const outFile = resolve(args.out ?? join(goldDir, `${modelName}.json`));
const spec = JSON.parse(readFileSync(join(goldDir, `${modelName}.inputs.json`), 'utf8'));
const manifest = JSON.parse(readFileSync(join(root, 'testdata', 'shapes', 'manifest.json'), 'utf8'));
const pkgVersion = (p) => JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'))).version;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(root, 'testdata', 'models') + '/';
env.useBrowserCache = false;
env.useFSCache = false;
const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

// Tokenizer: transformers.js, checked against the Python BPE ids.
const tokenizer = await AutoTokenizer.from_pretrained(modelName);
const enc = tokenizer(spec.prompts, { padding: true, truncation: true });
const ids = Array.from(enc.input_ids.data, Number);
const mask = Array.from(enc.attention_mask.data, Number);
const [nText, seqLen] = enc.input_ids.dims;
const pyIds = spec.input_ids_python_bpe.flat();
const pyMask = spec.attention_mask_python_bpe.flat();
const tokenizerAgrees = ids.length === pyIds.length && ids.every((v, i) => v === pyIds[i]) &&
  mask.every((v, i) => v === pyMask[i]);
if (!tokenizerAgrees) {
  console.error('transformers.js and Python BPE token ids differ:', JSON.stringify({ ids, pyIds }));
  process.exit(1);
}

// onnxruntime on Pillow-preprocessed pixels.
const pix = readNpy(join(root, spec.pixel_values));
const session = await ort.InferenceSession.create(join(root, 'testdata', 'models', modelName, 'onnx', 'model.onnx'),
  { ...sessionOptions, graphOptimizationLevel: 'all' });
const res = await session.run({
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [nText, seqLen]),
  attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.map(BigInt)), [nText, seqLen]),
  pixel_values: new ort.Tensor('float32', pix.data, pix.dims),
});
const logits = res.logits_per_image;
const nLabels = logits.dims[1];

// transformers.js pipeline on the image files.
const classifier = await pipeline('zero-shot-image-classification', modelName,
  { dtype: 'fp32', session_options: sessionOptions });

const images = [];
const acc = { onnxruntime: { seen: [0, 0], held_out: [0, 0] }, transformers_js: { seen: [0, 0], held_out: [0, 0] } };
for (let i = 0; i < spec.images.length; i++) {
  const file = spec.images[i];
  const truth = manifest.images.find((m) => m.file === file);
  const row = Array.from(logits.data.slice(i * nLabels, (i + 1) * nLabels));
  const p = softmax(row);
  const ortProbs = Object.fromEntries(spec.labels.map((l, k) => [l, p[k]]));
  const ortTop = spec.labels[p.indexOf(Math.max(...p))];
  const out = await classifier(join(root, spec.images_dir, file), spec.labels,
    { hypothesis_template: spec.template });
  const tjsProbs = Object.fromEntries(spec.labels.map((l) => [l, out.find((o) => o.label === l).score]));
  const tjsTop = out[0].label;
  const group = truth.held_out ? 'held_out' : 'seen';
  acc.onnxruntime[group][0] += ortTop === truth.label; acc.onnxruntime[group][1]++;
  acc.transformers_js[group][0] += tjsTop === truth.label; acc.transformers_js[group][1]++;
  images.push({
    file, label: truth.label, held_out: truth.held_out,
    onnxruntime: { top1: ortTop, logits: row, probs: ortProbs },
    transformers_js: { top1: tjsTop, probs: tjsProbs },
  });
}
const ratio = ([a, n]) => ({ correct: a, total: n, top1: n ? a / n : null });
const result = {
  model: `testdata/models/${modelName}`,
  made_by: 'scripts/reference/zeroshot_run.mjs',
  tools: {
    'onnxruntime-node': pkgVersion('onnxruntime-node'),
    '@huggingface/transformers': pkgVersion('@huggingface/transformers'),
    node: process.version,
    pillow_preprocessing: `${spec.preprocess_by} (Pillow ${spec.pillow_version})`,
  },
  how: {
    onnxruntime: 'pixel_values from Pillow CLIPImageProcessor semantics (tiny-shapes.pixel_values.npy), ' +
      'token ids from transformers.js (checked equal to the Python BPE), onnxruntime-node on onnx/model.onnx, ' +
      'softmax of logits_per_image over the labels',
    transformers_js: "pipeline('zero-shot-image-classification') on the model dir, env.allowRemoteModels=false, " +
      'dtype fp32; its image decoding/resizing (sharp) differs from Pillow',
  },
  labels: spec.labels,
  template: spec.template,
  tokenizer_agrees_with_python_bpe: tokenizerAgrees,
  accuracy: {
    onnxruntime: { seen: ratio(acc.onnxruntime.seen), held_out: ratio(acc.onnxruntime.held_out) },
    transformers_js: { seen: ratio(acc.transformers_js.seen), held_out: ratio(acc.transformers_js.held_out) },
  },
  images,
};
writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result.accuracy));
