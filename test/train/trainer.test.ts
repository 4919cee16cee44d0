// The on-device train step end to end: the container lowerTrainStep writes, run by the
// training executor (build/sparrow-train.{mvp,simd}.wasm) through the Trainer, on the
// relabelled-digits task of reference_task.ts.

import { describe, expect, it } from 'vitest';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { runReferenceStep } from '../../src/compiler/train/reference_step.js';
import { getDevice } from '../../src/compiler/devices.js';
import { BudgetError, RecipeError } from '../../src/formats/errors.js';
import type { QModel } from '../../src/formats/qmodel.js';
import { Trainer } from '../../src/host/trainer.js';
import { BUILDS } from '../helpers/device.js';
import { referenceCnnTask } from './reference_task.js';

const { qmodel, train, test, sample } = referenceCnnTask();
const BELOW = ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'];

const SCHEMES: Record<string, TrainRecipe> = {
  classifier: {},
  biasOnly: { biasLastK: 5 },
  sparse: { biasLastK: 2, weights: [{ layer: 'pw1', ratio: 0.25 }] },
  full: { weights: BELOW.map((layer) => ({ layer, ratio: 1 as const })) },
};

describe('one device train step against the fp32 reference step', () => {
  // Nearest rounding and a large rate, so each step is many quanta and rounding is small.
  // Expected change of a parameter in quanta: -lr * dL/dp / s (docs/training-math.md, QAS),
  // with dL/dp from runReferenceStep on the dequantized graph. The device's forward is int8:
  // its logits and masks differ from the fp32 graph's by quantization, and that error grows
  // with depth. Stated tolerances: the classifier's bias (dL/db = softmax - onehot) within
  // half a quantum + 2% of its largest change, element by element; its weights (which also
  // see the int8 pooled features) at cosine >= 0.95 between device and fp32 changes; every
  // other trained tensor but conv1's at cosine >= 0.7. conv1's gradients are sums over 14x14
  // pixels that nearly cancel, so the int8-vs-fp32 forward difference dominates them (bias
  // cosine 0.07 on sample 0); step_oracle.test.ts compares every tensor, conv1 included,
  // element by element against the reference backward on the device's own int8 forward.
  for (const scheme of ['biasOnly', 'sparse', 'full']) {
    it(`${scheme}: trained parameters move as the fp32 gradient says`, async () => {
      const recipe: TrainRecipe = { ...SCHEMES[scheme], rounding: 'nearest', learningRate: { weight: 0.5, bias: 0.5 } };
      const trainer = await Trainer.create(qmodel, recipe, { build: 'mvp' });
      const { plan, graph } = lowerTrainStep(qmodel, recipe);
      const x = sample(0), label = train.labels[0];
      trainer.step(x, label);
      const ref = runReferenceStep(graph, trainer.report.recipe, plan, x, label);
      const tensors = new Map(qmodel.tensors.map((t) => [t.name, t]));
      const after = trainer.trainedTensors();
      let compared = 0;
      for (const [name, now] of after) {
        const op = qmodel.ops.find((o) => o.inputs[1] === name || o.inputs[2] === name)!;
        const layer = trainer.report.recipe.layers.find((l) => l.layer === op.outputs[0])!;
        if (layer.layer === 'conv1') continue;
        const was = tensors.get(name)!.data!;
        const wScales = tensors.get(op.inputs[1])!.quant!.scale;
        const sx = tensors.get(op.inputs[0])!.quant!.scale[0];
        const isBias = op.inputs[2] === name;
        const channels = wScales.length, perRow = was.length / channels;
        const channelOf = (i: number) => (isBias ? i : op.op === 'depthwise_conv2d' ? i % channels : Math.floor(i / perRow));
        const grad = ref.grads.get(name)!;
        const expected = Array.from(grad, (g, i) => {
          const c = channelOf(i);
          return isBias || layer.channels.includes(c) ? (-0.5 * g) / (isBias ? sx * wScales[c] : wScales[c]) : 0;
        });
        const moved = Array.from(now, (v, i) => v - was[i]);
        // saturation bounds int8 weights: compare what the int8 range allows
        const want = expected.map((e, i) => (isBias ? e : Math.max(-127, Math.min(127, was[i] + e)) - was[i]));
        if (layer.layer === 'fc' && isBias) {
          const tol = 0.5 + 0.02 * Math.max(...want.map(Math.abs));
          want.forEach((w, i) => {
            if (Math.abs(moved[i] - w) > tol) expect.fail(`${scheme} ${name}[${i}]: device moved ${moved[i]}, fp32 step ${w.toFixed(2)} (tolerance ${tol.toFixed(2)})`);
          });
        } else {
          const dot = moved.reduce((s, m, i) => s + m * want[i], 0);
          const cosine = dot / Math.sqrt(moved.reduce((s, m) => s + m * m, 0) * want.reduce((s, w) => s + w * w, 0));
          expect(cosine, `${scheme} ${name}: cosine of device and fp32 changes`).toBeGreaterThanOrEqual(layer.layer === 'fc' ? 0.95 : 0.7);
        }
        compared++;
      }
      expect(compared).toBeGreaterThan(1);
    });
  }
});

describe('reproducible: the same seed gives the same bits on mvp and simd', () => {
  it('full update, stochastic rounding, 12 steps', async () => {
    const runs = await Promise.all(BUILDS.map(async (build) => {
      const trainer = await Trainer.create(qmodel, { ...SCHEMES.full, seed: 1234 }, { build });
      const losses = Array.from({ length: 12 }, (_, i) => trainer.step(sample(i), train.labels[i]));
      return { losses, tensors: trainer.trainedTensors() };
    }));
    expect(runs[1].losses).toEqual(runs[0].losses);
    for (const [name, t] of runs[0].tensors) expect(Array.from(runs[1].tensors.get(name)!), name).toEqual(Array.from(t));
    const before = new Map(qmodel.tensors.map((t) => [t.name, t.data]));
    const changed = [...runs[0].tensors].filter(([name, t]) => t.some((v, i) => v !== before.get(name)![i]));
    expect(changed.length, 'some parameters moved').toBeGreaterThan(0);
  });
  it('another seed gives other weights', async () => {
    const weights = await Promise.all([1, 2].map(async (seed) => {
      const trainer = await Trainer.create(qmodel, { seed }, { build: 'mvp' });
      for (let i = 0; i < 8; i++) trainer.step(sample(i), train.labels[i]);
      return Array.from(trainer.trainedTensors().values()).flatMap((t) => Array.from(t));
    }));
    expect(weights[1]).not.toEqual(weights[0]);
  });
});

describe('memory: the planned high-water mark is the measured one', () => {
  for (const [scheme, recipe] of Object.entries(SCHEMES)) {
    for (const build of BUILDS) {
      it(`${scheme} on ${build}`, async () => {
        const trainer = await Trainer.create(qmodel, recipe, { build });
        trainer.step(sample(0), train.labels[0]);
        const m = trainer.memory();
        expect(m.highWaterBytes, JSON.stringify(m)).toBe(m.plannedHighWaterBytes);
        expect(m.plannedBytes - m.highWaterBytes).toBeLessThan(16); // the arena is the high-water mark rounded to 16
        expect(m.byCategory.trainable).toBe(trainer.report.trainables.reduce((n, t) => n + t.bytes, 0));
      });
    }
  }
});

describe('pruned backward: what the container runs per scheme', () => {
  // From the pruning rules (docs/training.md section 2) on conv1 -> dw1 -> pw1 -> dw2 -> pw2 -> gap -> fc.
  const forward = { QUANTIZE: 1, CONV2D: 1, DEPTHWISE_CONV2D: 2, CONV1X1: 2, GLOBAL_AVG_POOL: 1, FULLY_CONNECTED: 1, SOFTMAX_CE_LOSS: 1, SOFTMAX_CE_GRAD: 1 };
  const expected: Record<string, Record<string, number>> = {
    // frozen features: no mask, no input gradient, only the classifier's update
    classifier: { ...forward, FULLY_CONNECTED_UPDATE: 1, BIAS_UPDATE: 1 },
    // pw1's input (dw1) and everything below it get no gradient
    sparse: {
      ...forward, RELU_MASK: 3, APPLY_MASK: 3, FULLY_CONNECTED_BACKWARD_INPUT: 2, GLOBAL_AVG_POOL_BACKWARD: 1,
      DEPTHWISE_CONV2D_BACKWARD_INPUT: 1, FULLY_CONNECTED_UPDATE: 2, BIAS_UPDATE: 4,
      MERGE_ROWS: 1, // pw1 keeps its 4 trained rows: its forward reads the merged filter (no input gradient below it)
    },
    full: {
      ...forward, RELU_MASK: 5, APPLY_MASK: 5, FULLY_CONNECTED_BACKWARD_INPUT: 3, GLOBAL_AVG_POOL_BACKWARD: 1,
      DEPTHWISE_CONV2D_BACKWARD_INPUT: 2, FULLY_CONNECTED_UPDATE: 3, DEPTHWISE_CONV2D_UPDATE: 2, CONV2D_UPDATE: 1, BIAS_UPDATE: 6,
    },
  };
  for (const [scheme, counts] of Object.entries(expected)) {
    it(scheme, () => expect(lowerTrainStep(qmodel, SCHEMES[scheme]).report.opCounts).toEqual(counts));
  }
});

describe('learning: the loss falls on the relabelled digits', () => {
  // 300 online steps (batch 1); mean loss of the last 100 against the first 100.
  const recipes: [string, TrainRecipe][] = [
    ['classifier only', { learningRate: { weight: 0.05, bias: 0.05 } }],
    ['biases of the last 5 layers + classifier', { biasLastK: 5, learningRate: { weight: 0.05, bias: 0.02 } }],
  ];
  for (const [what, recipe] of recipes) {
    it(what, async () => {
      const trainer = await Trainer.create(qmodel, recipe, { build: 'simd' });
      const losses: number[] = [];
      trainer.trainEpoch({ ...train, count: 300 }, { onStep: (_, loss) => losses.push(loss) });
      const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
      const [first, last] = [mean(losses.slice(0, 100)), mean(losses.slice(200))];
      expect(last, `mean loss ${first.toFixed(3)} -> ${last.toFixed(3)}`).toBeLessThan(0.5 * first);
      const before = await evaluateQModel(qmodel);
      const after = await trainer.evaluate({ ...test, count: 300 });
      expect(after.accuracy, `accuracy ${before} -> ${after.accuracy}`).toBeGreaterThan(before + 0.2);
    });
  }
});

/** Accuracy of the untrained model on the relabelled task (an evaluate before any step). */
async function evaluateQModel(q: QModel): Promise<number> {
  const trainer = await Trainer.create(q, {}, { build: 'simd' });
  return (await trainer.evaluate({ ...test, count: 300 })).accuracy;
}

describe('typed errors', () => {
  it('bad recipes', async () => {
    await expect(Trainer.create(qmodel, { weights: [{ layer: 'nope', ratio: 1 }] })).rejects.toThrow(RecipeError);
    await expect(Trainer.create(qmodel, { weights: [{ layer: 'pw1', ratio: 0.3 as never }] })).rejects.toThrow(/allowed: 0.125, 0.25, 0.5, 1/);
    await expect(Trainer.create(qmodel, { momentum: 1 })).rejects.toThrow(RecipeError);
  });
  it('a step that does not fit the device', async () => {
    const tiny = { ...getDevice('stm32f746'), name: 'tiny', sramBytes: 32_768 + 8_000, reservedSramBytes: 32_768 };
    await expect(Trainer.create(qmodel, SCHEMES.full, { device: tiny })).rejects.toThrow(BudgetError);
  });
  it('a label outside the classes', async () => {
    const trainer = await Trainer.create(qmodel, {}, { build: 'mvp' });
    expect(() => trainer.step(sample(0), 10)).toThrow(/label outside the classes/);
  });
});
