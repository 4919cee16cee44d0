// One on-device train step (batch 1) of the reference CNN on the training executor, per
// recipe and build, plus the training executor's .wasm sizes. One JSON object per result:
// {"what","build","shape","median","min","max","unit"} (us per step; B for sizes).
// Targets (docs/training.md): full update <= 360 us on simd, classifier only <= 20 us,
// sparrow-train.mvp.wasm <= 64 KB.
// Usage: npx tsx bench/train_step.ts
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { TrainRecipe } from '../src/compiler/train/recipe.js';
import { Trainer } from '../src/host/trainer.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';
import { measure, type BenchResult } from './kernels_misc.js';

const RECIPES: [string, TrainRecipe][] = [
  ['classifier only', {}],
  ['bias only (all 6 layers)', { biasLastK: 5 }],
  ['sparse: biases of the last 2 + pw1 at 1/4', { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] }],
  ['full update', { weights: ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 1 as const })) }],
];

export async function benchTrainStep(): Promise<(BenchResult | { what: string; shape: string; median: number; min: number; max: number; unit: 'B' })[]> {
  const out: (BenchResult | { what: string; shape: string; median: number; min: number; max: number; unit: 'B' })[] = [];
  for (const name of ['sparrow-train.mvp', 'sparrow-train.simd']) {
    const bytes = statSync(new URL(`../build/${name}.wasm`, import.meta.url)).size;
    out.push({ what: `wasm-size/${name}`, shape: '-', median: bytes, min: bytes, max: bytes, unit: 'B' });
  }
  const data = referenceData();
  const { qmodel } = referenceQModel('reference-cnn', data);
  const images = data.train.images;
  for (const [what, recipe] of RECIPES) {
    for (const build of ['mvp', 'simd'] as const) {
      const trainer = await Trainer.create(qmodel, recipe, { build });
      let i = 0;
      const step = () => {
        const k = i++ % 256;
        trainer.step(images.subarray(k * 784, (k + 1) * 784), data.train.labels[k]);
      };
      out.push({ what: `train-step/reference-cnn/${what}`, build, shape: `arena ${trainer.report.arenaBytes} B`, unit: 'us', ...measure(step, 1, 'us') });
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await benchTrainStep()) console.log(JSON.stringify(line));
}
