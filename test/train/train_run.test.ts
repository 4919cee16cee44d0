// Train steps in one call (src/train/staged_steps.ts, Trainer.trainEpoch) and the training
// executor's run() that does the arena accounting on the first step after load only. On a small
// graph where every layer trains (conv, depthwise, 1x1, fc; stochastic rounding): trainEpoch
// over 70 samples (calls of 32, 32 and 6 steps) gives the same losses and the same weights as 70
// step() calls, on both builds, for softmax cross-entropy, MSE and int8 samples; a bad label
// stops where step() by step() would; the high-water mark stays the planned one.

import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/compiler/builder.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { quantizeScalar } from '../../src/compiler/quant_math.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { writeContainer } from '../../src/formats/container.js';
import { ShapeError, ValueError } from '../../src/formats/errors.js';
import { Status } from '../../src/formats/schema.js';
import { Random } from '../../src/host/random.js';
import { Trainer, type Dataset } from '../../src/host/trainer.js';
import { BUILDS, loadInto, NO_BUDGET } from '../helpers/device.js';
import { trainExecutor } from './step_probe.js';

const CLASSES = 4;
const SIZE = 8 * 8 * 3;
const COUNT = 70;

function smallModel() {
  const b = new ModelBuilder('staged', [8, 8, 3]);
  let x = b.conv2d(b.input(), { filters: 8, kernel: 3, activation: 'relu', name: 'stem' });
  x = b.depthwise(x, { kernel: 3, activation: 'relu6', name: 'dw' });
  x = b.pointwise(x, { filters: 8, activation: 'relu', name: 'pw' });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: CLASSES, name: 'fc' });
  const rng = new Random(11);
  const graph = b.build(x, rng);
  return { qmodel: quantizeGraph(graph, Float32Array.from({ length: 64 * SIZE }, () => rng.next())), rng };
}

const { qmodel, rng } = smallModel();
const images = Float32Array.from({ length: COUNT * SIZE }, () => rng.next());
const classes = Array.from({ length: COUNT }, () => Math.floor(rng.next() * CLASSES));
const targets = Float32Array.from({ length: COUNT * CLASSES }, () => rng.next() * 4 - 2);
const ALL = ['stem', 'dw', 'pw'].map((layer) => ({ layer, ratio: 1 as const }));
const learningRate = { weight: 0.1, bias: 0.1 };

function sampleOf(data: Dataset, i: number) {
  return data.images.subarray(i * SIZE, (i + 1) * SIZE) as Float32Array | Int8Array;
}
function targetOf(recipe: TrainRecipe, data: Dataset, i: number): number | ArrayLike<number> {
  return recipe.loss === 'mse' ? (data.labels as Float32Array).subarray(i * CLASSES, (i + 1) * CLASSES) : data.labels[i];
}

/** The same data as int8 samples, quantized with the model input's scale and zero point. */
function int8Images(): Int8Array {
  const input = qmodel.tensors.find((t) => t.name === qmodel.ops[0].outputs[0])!;
  return Int8Array.from(images, (v) => quantizeScalar(v, input.quant!.scale[0], input.quant!.zeroPoint[0]));
}

const cases: [string, TrainRecipe, Dataset, 'float32' | 'int8'][] = [
  ['softmax cross-entropy', { weights: ALL, learningRate, seed: 3 }, { images, labels: classes, count: COUNT }, 'float32'],
  ['MSE', { weights: ALL, learningRate, seed: 4, loss: 'mse' }, { images, labels: targets, count: COUNT }, 'float32'],
  ['classifier only, int8 samples', { learningRate, seed: 5 }, { images: int8Images() as unknown as Float32Array, labels: classes, count: COUNT }, 'int8'],
];

describe('trainEpoch runs the staged steps of step() bit for bit', () => {
  for (const build of BUILDS) {
    for (const [what, recipe, data, input] of cases) {
      it(`${build}, ${what}: same losses and weights as ${COUNT} step() calls; planned == measured`, async () => {
        const staged = await Trainer.create(qmodel, recipe, { build, input });
        const single = await Trainer.create(qmodel, recipe, { build, input });
        const stagedLosses: number[] = [];
        const mean = staged.trainEpoch(data, { onStep: (i, loss) => stagedLosses.push(i, loss) });
        const singleLosses = Array.from({ length: COUNT }, (_, i) => [i, single.step(sampleOf(data, i), targetOf(recipe, data, i))]).flat();
        expect(stagedLosses).toEqual(singleLosses);
        expect(mean).toBeCloseTo(singleLosses.filter((_, j) => j % 2 === 1).reduce((a, b) => a + b, 0) / COUNT, 5);
        const before = new Map(qmodel.tensors.map((t) => [t.name, t.data!]));
        let moved = 0;
        for (const [name, t] of single.trainedTensors()) {
          expect(Array.from(staged.trainedTensors().get(name)!), `${build} ${what} ${name}`).toEqual(Array.from(t));
          if (t.some((v, i) => v !== before.get(name)![i])) moved++;
        }
        expect(moved, 'trained tensors that moved').toBe(single.trainedTensors().size);
        const m = staged.memory();
        expect(m.highWaterBytes, `${build} ${what} ${JSON.stringify(m)}`).toBe(m.plannedHighWaterBytes);
      });
    }

    it(`${build}: a bad label stops trainEpoch where step() by step() would`, async () => {
      const recipe: TrainRecipe = { weights: ALL, learningRate, seed: 6 };
      for (const [at, label, error] of [[40, CLASSES + 1, ValueError], [37, 1.5, ShapeError]] as const) {
        const labels = classes.map((c, i) => (i === at ? label : c));
        const staged = await Trainer.create(qmodel, recipe, { build });
        const seen: number[] = [];
        expect(() => staged.trainEpoch({ images, labels, count: COUNT }, { onStep: (i) => seen.push(i) }), `label ${label} at ${at}`).toThrow(error);
        expect(seen, `label ${label} at ${at}: onStep of the chunks before the failing call`).toEqual(Array.from({ length: 32 }, (_, i) => i));
        const single = await Trainer.create(qmodel, recipe, { build });
        for (let i = 0; i < at; i++) single.step(sampleOf({ images, labels, count: COUNT }, i), labels[i]);
        for (const [name, t] of single.trainedTensors()) expect(Array.from(staged.trainedTensors().get(name)!), `label ${label} at ${at}: ${name}`).toEqual(Array.from(t));
        // the executor goes on: the next sample steps normally
        expect(Number.isFinite(staged.step(sampleOf({ images, labels, count: COUNT }, at + 1), classes[at + 1]))).toBe(true);
      }
    });
  }
});

describe('training executor: staging and accounting at the ABI', () => {
  const bytes = writeContainer(lowerTrainStep(qmodel, { weights: ALL, learningRate }).container);
  for (const build of BUILDS) {
    it(`${build}: refuses a run past the region, before load, and drops the region at load`, () => {
      const ex = trainExecutor(build);
      expect(ex.stage_reserve!(4), 'not loaded').toBe(0);
      expect(ex.run_staged!(1)).toBe(Status.NOT_LOADED);
      expect(loadInto(ex, bytes, NO_BUDGET).status).toBe(Status.OK);
      const base = ex.stage_reserve!(4);
      expect(base).toBeGreaterThan(ex.output_ptr(0));
      expect(ex.stage_plane!(0)).toBe(base);
      // planes: the float sample, the int32 label, the f32 loss, each 16-aligned
      expect(ex.stage_plane!(1)).toBe(base + Math.ceil((4 * ex.input_bytes(0)) / 16) * 16);
      expect(ex.stage_plane!(2)).toBe(ex.stage_plane!(1) + 16);
      expect(ex.stage_plane!(3), 'no fourth plane').toBe(0);
      expect(ex.run_staged!(5)).toBe(Status.BAD_ARGUMENT);
      expect(ex.staged_done!()).toBe(0);
      expect(ex.run_staged!(0)).toBe(Status.OK);
      expect(loadInto(ex, bytes, NO_BUDGET).status).toBe(Status.OK);
      expect(ex.stage_plane!(0), 'after a new load').toBe(0);
      expect(ex.run_staged!(1)).toBe(Status.BAD_ARGUMENT);
    });

    it(`${build}: a first step that fails leaves the accounting to the next one; errors clear on success`, () => {
      const ex = trainExecutor(build);
      expect(loadInto(ex, bytes, NO_BUDGET).status).toBe(Status.OK);
      const planned = lowerTrainStep(qmodel, { weights: ALL, learningRate }).report.highWaterBytes;
      new Float32Array(ex.memory.buffer, ex.input_ptr(0), SIZE).set(images.subarray(0, SIZE));
      const label = new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1);
      label[0] = CLASSES; // outside the classes: the loss op fails
      expect(ex.run()).toBe(Status.BAD_INPUT);
      const failedAt = ex.error_op();
      expect(failedAt).toBeGreaterThan(0);
      for (let s = 0; s < 3; s++) {
        // the inputs' bytes are reused later in a step: write both every step
        new Float32Array(ex.memory.buffer, ex.input_ptr(0), SIZE).set(images.subarray(s * SIZE, (s + 1) * SIZE));
        label[0] = 1;
        expect(ex.run(), `step ${s}`).toBe(Status.OK);
        expect([ex.error_op(), ex.error_detail()], `step ${s}`).toEqual([-1, -1]);
        expect(ex.high_water(), `step ${s}`).toBe(planned);
      }
      label[0] = CLASSES; // a failure on the unaccounted path reports the same op
      expect(ex.run()).toBe(Status.BAD_INPUT);
      expect(ex.error_op()).toBe(failedAt);
      expect(ex.high_water()).toBe(planned);
    });
  }
});
