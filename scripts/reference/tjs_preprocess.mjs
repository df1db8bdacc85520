// Writes what transformers.js (the pinned @huggingface/transformers, which
// decodes with sharp/libvips and resizes with its own code) feeds a CLIP
// vision model: pixel_values as float32 .npy, one file per image.
// For comparing clip's Pillow-exact preprocessing with the JS pipeline; not
// a golden (the reference for preprocessing is Pillow + HF Python).
//
//   node scripts/reference/tjs_preprocess.mjs MODEL_DIR OUT_DIR IMAGE...
//
// With CLIP_GOLDEN=testdata/golden/preprocess set, each tensor is also
// compared with Pillow+HF's (<image>.crop.npy, written by
// scripts/preprocess_golden.py for the OpenAI CLIP config) and the max/mean
// difference in 1/255 pixel units is printed.
import { AutoImageProcessor, RawImage, env } from '@huggingface/transformers';
import { basename, join, resolve } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { readNpy, writeNpy } from './ort_npy.mjs';

const [modelDir, outDir, ...images] = process.argv.slice(2);
const golden = process.env.CLIP_GOLDEN;
if (!modelDir || !outDir || images.length === 0) {
  console.error('usage: node tjs_preprocess.mjs MODEL_DIR OUT_DIR IMAGE...');
  process.exit(2);
}
env.allowRemoteModels = false;
env.localModelPath = resolve(modelDir, '..');
const processor = await AutoImageProcessor.from_pretrained(basename(resolve(modelDir)));
mkdirSync(outDir, { recursive: true });
for (const path of images) {
  try {
    const image = await RawImage.read(path);
    const { pixel_values } = await processor(image);
    writeNpy(join(outDir, basename(path) + '.tjs.npy'), 'float32', pixel_values.dims, pixel_values.data);
    const g = golden && join(golden, basename(path) + '.crop.npy');
    if (g && existsSync(g)) {
      const crop = readNpy(g).data; // uint8 [3,H,W]
      const { image_mean: mean, image_std: std } = processor.config;
      const plane = crop.length / 3;
      let max = 0, sum = 0;
      for (let i = 0; i < crop.length; i++) {
        const c = Math.floor(i / plane);
        const px = (pixel_values.data[i] * std[c] + mean[c]) * 255; // back to pixel units
        const d = Math.abs(px - crop[i]);
        max = Math.max(max, d); sum += d;
      }
      console.log(`${basename(path)}\ttransformers.js vs Pillow+HF: max ${max.toFixed(1)}/255 mean ${(sum / crop.length).toFixed(3)}/255`);
    }
  } catch (e) {
    console.error(`${path}: ${e.message}`);
  }
}
