// Compare freshly produced reference outputs with the committed goldens.
//
//   node scripts/reference/ort_compare.mjs --golden testdata/golden/ort --fresh DIR
//   node scripts/reference/ort_compare.mjs --zeroshot testdata/golden/zeroshot/tiny-shapes.json --fresh FILE
//
// .npy outputs must be byte-identical, or else equal within rtol 1e-4 / atol 1e-5
// (reported as a warning: a different CPU can take another onnxruntime kernel path).
// Zero-shot files must agree on every top-1 label and on every probability within
// 1e-4. The tool versions recorded in meta.json must match. Exit 1 on any failure.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from './ort_npy.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
let failures = 0;
let warnings = 0;
const fail = (msg) => { console.error(`FAIL ${msg}`); failures++; };

function closeArrays(a, b, rtol, atol) {
  if (a.length !== b.length) return { ok: false, worst: Infinity };
  let worst = 0;
  let ok = true;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    const d = Math.abs(x - y);
    if (Number.isNaN(x) !== Number.isNaN(y)) return { ok: false, worst: Infinity };
    if (d > atol + rtol * Math.abs(x)) ok = false;
    if (d > worst) worst = d;
  }
  return { ok, worst };
}

function compareOrt(golden, fresh) {
  for (const model of readdirSync(golden).sort()) {
    if (!statSync(join(golden, model)).isDirectory()) continue; // README.md
    for (const stem of readdirSync(join(golden, model)).sort()) {
      const gdir = join(golden, model, stem);
      const fdir = join(fresh, model, stem);
      if (!existsSync(join(gdir, 'meta.json'))) continue;
      if (!existsSync(join(fdir, 'meta.json'))) { fail(`${model}/${stem}: not regenerated`); continue; }
      const gm = JSON.parse(readFileSync(join(gdir, 'meta.json'), 'utf8'));
      const fm = JSON.parse(readFileSync(join(fdir, 'meta.json'), 'utf8'));
      if (gm.version !== fm.version) fail(`${model}/${stem}: golden made by ${gm.tool} ${gm.version}, now ${fm.version}`);
      for (const f of readdirSync(join(gdir, 'outputs')).sort()) {
        const gp = join(gdir, 'outputs', f);
        const fp = join(fdir, 'outputs', f);
        if (!existsSync(fp)) { fail(`${model}/${stem}/outputs/${f}: missing in the fresh run`); continue; }
        if (Buffer.compare(readFileSync(gp), readFileSync(fp)) === 0) continue;
        const g = readNpy(gp);
        const n = readNpy(fp);
        if (g.dtype !== n.dtype || g.dims.join() !== n.dims.join()) {
          fail(`${model}/${stem}/outputs/${f}: ${g.dtype}[${g.dims}] vs fresh ${n.dtype}[${n.dims}]`);
          continue;
        }
        const { ok, worst } = closeArrays(g.data, n.data, 1e-4, 1e-5);
        if (!ok) fail(`${model}/${stem}/outputs/${f}: differs, max abs diff ${worst}`);
        else { console.warn(`warn ${model}/${stem}/outputs/${f}: not bit-identical, max abs diff ${worst}`); warnings++; }
      }
    }
  }
}

function compareZeroshot(golden, fresh) {
  const g = JSON.parse(readFileSync(golden, 'utf8'));
  const n = JSON.parse(readFileSync(fresh, 'utf8'));
  for (const [tool, v] of Object.entries(g.tools)) {
    if (n.tools[tool] !== v) fail(`${golden}: ${tool} ${v} in the golden, ${n.tools[tool]} now`);
  }
  if (g.images.length !== n.images.length) { fail(`${golden}: image count differs`); return; }
  g.images.forEach((gi, i) => {
    const ni = n.images[i];
    for (const path of ['onnxruntime', 'transformers_js']) {
      if (gi[path].top1 !== ni[path].top1) fail(`${golden}: ${gi.file} ${path} top1 ${gi[path].top1} vs ${ni[path].top1}`);
      const gp = g.labels.map((l) => gi[path].probs[l]);
      const np = g.labels.map((l) => ni[path].probs[l]);
      const { ok, worst } = closeArrays(gp, np, 0, 1e-4);
      if (!ok) fail(`${golden}: ${gi.file} ${path} probabilities differ by ${worst}`);
      else if (worst > 0) warnings++;
    }
  });
}

if (args.golden) compareOrt(args.golden, args.fresh);
if (args.zeroshot) compareZeroshot(args.zeroshot, args.fresh);
console.log(`compared: ${failures} failure(s), ${warnings} tolerated difference(s)`);
process.exit(failures ? 1 : 0);
