// The train-step ops a residual model needs, on a small graph that has them all:
//   conv -> max pool -> [expand 1x1 -> depthwise -> project 1x1 (linear)] + skip (ADD)
//        -> avg pool 3x3 SAME -> global avg pool -> fully connected
// The max pool's output feeds the expand conv and the ADD: its gradient is accumulated from
// two consumers. Every layer trains; losses softmax cross-entropy and MSE; momentum 0.9.
// Checks: one step against the reference backward on the device forward (device_oracle.ts),
// mvp and simd give the same bits for one seed, planned high-water mark == measured.

import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../../src/compiler/builder.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import type { TrainRecipe } from '../../src/compiler/train/recipe.js';
import { Random } from '../../src/host/random.js';
import { Trainer } from '../../src/host/trainer.js';
import { BUILDS } from '../helpers/device.js';
import { writeContainer } from '../../src/formats/container.js';
import { NO_TENSOR, Op, Status } from '../../src/formats/schema.js';
import { loadInto, setInput } from '../helpers/device.js';
import { expectStepMatchesOracle } from './device_oracle.js';
import { trainExecutor } from './step_probe.js';

const CLASSES = 4;
const SIZE = 8 * 8 * 3;

function residualModel() {
  const b = new ModelBuilder('residual', [8, 8, 3]);
  let x = b.conv2d(b.input(), { filters: 8, kernel: 3, activation: 'relu', name: 'stem' });
  x = b.maxPool(x, { pool: 2, name: 'maxpool' });
  let y = b.pointwise(x, { filters: 16, activation: 'relu6', name: 'expand' });
  y = b.depthwise(y, { kernel: 3, activation: 'relu6', name: 'dw' });
  y = b.pointwise(y, { filters: 8, name: 'project' });
  x = b.add(x, y, { name: 'residual' });
  x = b.avgPool(x, { pool: 3, stride: 1, padding: 'same', name: 'avgpool' });
  x = b.globalAvgPool(x, { name: 'gap' });
  x = b.fullyConnected(x, { units: CLASSES, name: 'fc' });
  const rng = new Random(7);
  const graph = b.build(x, rng);
  const calibration = Float32Array.from({ length: 64 * SIZE }, () => rng.next());
  return { qmodel: quantizeGraph(graph, calibration), rng };
}

const { qmodel, rng } = residualModel();
const samples = Array.from({ length: 8 }, () => Float32Array.from({ length: SIZE }, () => rng.next()));
const labels = samples.map((_, i) => i % CLASSES);
const targets = samples.map((_, i) => Float32Array.from({ length: CLASSES }, (_, c) => (c === i % CLASSES ? 2 : -1)));
const ALL = ['stem', 'expand', 'dw', 'project'].map((layer) => ({ layer, ratio: 1 as const }));

describe('residual graph: every train-step op it needs', () => {
  it('lowers to pool backward, gradient accumulation and ADD backward', () => {
    const counts = lowerTrainStep(qmodel, { weights: ALL }).report.opCounts;
    expect(counts, JSON.stringify(counts)).toMatchObject({ MAX_POOL_BACKWARD: 1, AVG_POOL_BACKWARD: 1, GRADIENT_ADD: 2 });
    const accumulating = [Op.CONV2D_BACKWARD_INPUT, Op.DEPTHWISE_CONV2D_BACKWARD_INPUT, Op.FULLY_CONNECTED_BACKWARD_INPUT, Op.GLOBAL_AVG_POOL_BACKWARD, Op.AVG_POOL_BACKWARD, Op.MAX_POOL_BACKWARD];
    const acc = lowerTrainStep(qmodel, { weights: ALL }).container.ops.filter((o) => accumulating.includes(o.op) && o.inputs[o.inputs.length - 1] !== NO_TENSOR);
    expect(acc.length, 'backward ops adding into an existing gradient').toBeGreaterThan(0);
  });

  const learningRate = { weight: 0.2, bias: 0.2 };
  const cases: [string, TrainRecipe, (i: number) => number | Float32Array][] = [
    ['softmax cross-entropy', { weights: ALL, learningRate }, (i) => labels[i]],
    ['MSE', { weights: ALL, learningRate, loss: 'mse' }, (i) => targets[i]],
  ];
  for (const [loss, recipe, target] of cases) {
    for (const build of BUILDS) {
      for (const i of [0, 1]) {
        it(`${loss} on ${build}, sample ${i}: every gradient and parameter against the oracle`, async () => {
          await expectStepMatchesOracle(qmodel, recipe, build, samples[i], target(i), `${loss} ${build} sample ${i}`);
        });
      }
    }
  }

  const reproducible: [string, TrainRecipe][] = [
    ['cross-entropy, momentum 0.9', { weights: ALL, momentum: 0.9, seed: 99, learningRate: { weight: 0.05, bias: 0.05 } }],
    ['MSE', { weights: ALL, loss: 'mse', seed: 5, learningRate: { weight: 0.05, bias: 0.05 } }],
  ];
  for (const [what, recipe] of reproducible) {
    it(`${what}: mvp and simd give the same bits; planned == measured`, async () => {
      const runs = await Promise.all(BUILDS.map(async (build) => {
        const trainer = await Trainer.create(qmodel, recipe, { build });
        const losses = samples.map((x, i) => trainer.step(x, recipe.loss === 'mse' ? targets[i] : labels[i]));
        const m = trainer.memory();
        expect(m.highWaterBytes, `${build} ${JSON.stringify(m)}`).toBe(m.plannedHighWaterBytes);
        return { losses, tensors: trainer.trainedTensors() };
      }));
      expect(runs[1].losses).toEqual(runs[0].losses);
      for (const [name, t] of runs[0].tensors) expect(Array.from(runs[1].tensors.get(name)!), name).toEqual(Array.from(t));
      const before = new Map(qmodel.tensors.map((t) => [t.name, t.data!]));
      const moved = [...runs[0].tensors].filter(([name, t]) => t.some((v, i) => v !== before.get(name)![i]));
      expect(moved.length, 'tensors that moved').toBe(runs[0].tensors.size);
    });
  }
});

describe('momentum: the OPTIMIZER state is zeroed at load and kept across steps', () => {
  // Nearest rounding, momentum m: v = m v + g (QAS units), W_q -= round(lr v) (docs/training-math.md).
  const recipe: TrainRecipe = { weights: ALL, momentum: 0.9, rounding: 'nearest', learningRate: { weight: 0.05, bias: 0.05 } };
  for (const build of BUILDS) {
    it(`${build}: step 1 is plain SGD; step 2 moves every weight by round(lr v) with v read back`, async () => {
      const { container, report } = lowerTrainStep(qmodel, recipe);
      const plain = await Trainer.create(qmodel, { ...recipe, momentum: 0 }, { build });
      plain.step(samples[0], labels[0]);
      const ex = trainExecutor(build);
      expect(loadInto(ex, writeContainer(container)).status).toBe(Status.OK);
      const run = (i: number) => {
        setInput(ex, 0, samples[i]);
        new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1)[0] = labels[i];
        expect(ex.run(), `step ${i}`).toBe(Status.OK);
      };
      const read = (t: number, n: number, type: typeof Int8Array | typeof Float32Array) => new type(ex.memory.buffer.slice(ex.tensor_ptr(t), ex.tensor_ptr(t) + n * type.BYTES_PER_ELEMENT));
      run(0);
      for (const [name, t] of plain.trainedTensors()) {
        const mine = report.trainables.find((x) => x.source === name)!;
        const now = mine.dtype === 'int8' ? read(mine.tensor, mine.bytes, Int8Array) : new Int32Array(ex.memory.buffer.slice(ex.tensor_ptr(mine.tensor), ex.tensor_ptr(mine.tensor) + mine.bytes));
        expect(Array.from(now), `${name} after step 1`).toEqual(Array.from(t));
      }
      const states = container.names!.flatMap((n, t) => (n.endsWith('/weight momentum') ? [{ node: n.split('/')[0], t }] : []));
      expect(states.length, 'the listed layers and the classifier').toBe(ALL.length + 1);
      const before = states.map(({ node }) => read(report.trainables.find((x) => x.source === `${node}/weight`)!.tensor, qmodel.tensors.find((x) => x.name === `${node}/weight`)!.data!.length, Int8Array));
      run(1);
      let moved = 0;
      states.forEach(({ node, t }, k) => {
        const w = report.trainables.find((x) => x.source === `${node}/weight`)!;
        const v = read(t, w.bytes, Float32Array), after = read(w.tensor, w.bytes, Int8Array);
        // the state lists each selected channel's parameters (all channels here); depthwise filters are [1,kH,kW,C]
        const C = qmodel.tensors.find((x) => x.name === `${node}/weight`)!.shape.at(-1)!;
        const stateOf = (i: number) => (node === 'dw' ? (i % C) * (w.bytes / C) + Math.floor(i / C) : i);
        after.forEach((q, i) => {
          const step = Math.fround(0.05 * v[stateOf(i)]);
          const want = Math.max(-127, Math.min(127, before[k][i] - roundHalfEven(step)));
          if (q !== want) expect.fail(`${build} ${node}/weight[${i}]: ${before[k][i]} -> ${q}, v ${v[stateOf(i)]} wants ${want}`);
          if (q !== before[k][i]) moved++;
        });
      });
      expect(moved, 'weights moved in step 2').toBeGreaterThan(0);
    });
  }
});

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
