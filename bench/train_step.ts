// One on-device train step (batch 1) of the reference CNN on the training executor, per
// recipe and build, plus the training executor's .wasm sizes. One JSON object per result:
// {"what","build","shape","median","min","max","unit"} (us per step; B for sizes).
// Targets (docs/training.md): full update <= 360 us on simd, classifier only <= 20 us,
// sparrow-train.mvp.wasm <= 64 KB.
// Then, interleaved in one process (same load for each, samples of 200 calls, 40 rounds): the
// classifier-only step (Trainer.step) and plain inference (Session.run) on each build, {"what":"side-by-side/<what>","build","median","min","max","unit":"us"}:
// step minus inference is the training overhead.
// Usage: npx tsx bench/train_step.ts [--profile]
// --profile: per container op of each step on simd, {"what":"train-op/<recipe>/<k> <OP> <tensor>","us"}:
// the step cut after op k minus the step cut after op k - 1 (best of 21 runs of 500 steps; noisy below ~0.3 us).
import { readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { lowerTrainStep } from '../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../src/compiler/train/recipe.js';
import { writeContainer } from '../src/formats/container.js';
import { NO_TENSOR, Op, Status } from '../src/formats/schema.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { Trainer, type TrainExecutorExports } from '../src/host/trainer.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';
import { measure, type BenchResult } from './kernels_misc.js';

const RECIPES: [string, TrainRecipe][] = [
  ['classifier only', {}],
  ['bias only (all 6 layers)', { biasLastK: 5 }],
  ['sparse: biases of the last 2 + pw1 at 1/4', { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] }],
  ['full update', { weights: ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 1 as const })) }],
];

/** Steps run before timing each recipe: V8 tiers the executor up only after a while. */
const WARMUP_STEPS = 2000;

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
      for (let w = 0; w < WARMUP_STEPS; w++) step(); // until the wasm is tiered up (measure() alone warms up for a few ms)
      out.push({ what: `train-step/reference-cnn/${what}`, build, shape: `arena ${trainer.report.arenaBytes} B`, unit: 'us', ...measure(step, 1, 'us') });
    }
  }
  for (const build of ['mvp', 'simd'] as const) out.push(...(await sideBySide(build)));
  return out;
}

/** The classifier-only step and inference, interleaved (see the usage note). */
async function sideBySide(build: 'mvp' | 'simd', calls = 200, rounds = 40): Promise<BenchResult[]> {
  const data = referenceData();
  const { qmodel } = referenceQModel('reference-cnn', data);
  const images = data.train.images, labels = data.train.labels;
  const trainer = await Trainer.create(qmodel, {}, { build });
  const session = await Session.create(Model.compile(qmodel, { sparse: 'never' }), { build });
  const sample = (k: number) => images.subarray((k % 256) * 784, ((k % 256) + 1) * 784);
  const cases: [string, () => void][] = [
    ['classifier-only step, Trainer.step', () => { for (let k = 0; k < calls; k++) trainer.step(sample(k), labels[k % 256]); }],
    ['inference, Session.run', () => { for (let k = 0; k < calls; k++) session.run(sample(k)); }],
  ];
  for (const [, run] of cases) for (let w = 0; w < 10; w++) run(); // warm-up and tier-up
  const us = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    cases.forEach(([, run], c) => {
      const t0 = performance.now();
      run();
      us[c].push(((performance.now() - t0) * 1000) / calls);
    });
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return cases.map(([what], c) => {
    const v = us[c].sort((a, b) => a - b);
    return { what: `side-by-side/${what}`, build, shape: 'reference-cnn, batch 1', unit: 'us', median: round(v[rounds >> 1]), min: round(v[0]), max: round(v[rounds - 1]) };
  });
}

/** Microseconds per op of one train step on `build` (see the usage note above). */
export function profileTrainStep(recipe: TrainRecipe, build: 'mvp' | 'simd' = 'simd'): { op: string; us: number }[] {
  const data = referenceData();
  const { qmodel } = referenceQModel('reference-cnn', data);
  const { container } = lowerTrainStep(qmodel, recipe);
  const module = new WebAssembly.Module(readFileSync(new URL(`../build/sparrow-train.${build}.wasm`, import.meta.url)));
  const firstUpdate = container.ops.findIndex((o) => o.output === NO_TENSOR);
  const stepUs = (k: number): number => {
    // ops without an output (updates) keep the loss as the graph output
    const out = container.ops[k].output;
    const cut = { ...container, ops: container.ops.slice(0, k + 1), plan: { ...container.plan, outputs: out === NO_TENSOR ? container.plan.outputs : [out] } };
    const bytes = writeContainer(cut);
    const ex = new WebAssembly.Instance(module, {}).exports as unknown as TrainExecutorExports;
    new Uint8Array(ex.memory.buffer, ex.container_buffer(bytes.length), bytes.length).set(bytes);
    if (ex.load(bytes.length, -1) !== Status.OK) throw new Error(`cut after op ${k}: load failed`);
    const sample = new Float32Array(ex.memory.buffer, ex.input_ptr(0), 784), label = new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1);
    let i = 0;
    const step = () => {
      const n = i++ % 256;
      sample.set(data.train.images.subarray(n * 784, (n + 1) * 784)); // the float sample dies at op 0: refill it every step
      label[0] = data.train.labels[n];
      ex.run();
    };
    for (let w = 0; w < 2000; w++) step();
    let best = Infinity;
    for (let r = 0; r < 21; r++) {
      const t0 = performance.now();
      for (let w = 0; w < 500; w++) step();
      best = Math.min(best, ((performance.now() - t0) * 1000) / 500);
    }
    return best;
  };
  const names = container.names!;
  const rows: { op: string; us: number }[] = [];
  let previous = 0;
  container.ops.forEach((op, k) => {
    if (k < firstUpdate && op.output === NO_TENSOR) return;
    const us = stepUs(k);
    rows.push({ op: `${k} ${Op[op.op]} ${op.output === NO_TENSOR ? '-' : names[op.output]}`, us: Math.round((us - previous) * 100) / 100 });
    previous = us;
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--profile')) {
    for (const [what, recipe] of RECIPES) {
      for (const { op, us } of profileTrainStep(recipe)) console.log(JSON.stringify({ what: `train-op/${what}/${op}`, build: 'simd', us }));
    }
  } else {
    for (const line of await benchTrainStep()) console.log(JSON.stringify(line));
  }
}
