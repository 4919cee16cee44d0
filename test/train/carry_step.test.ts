// Carry rounding through the whole train step (docs/training-math.md "Rounding and saturation"):
// the recipe's rounding 'carry' -> update ops with UPDATE_FLAGS bit 2 and an INT8 OPTIMIZER
// state of one fraction per updated weight (biases: none, they round stochastically); the
// planner counts that state (1 byte a weight, live the whole step) and planned == measured on
// the device; mvp and simd give the same bits; after one step every weight plus its fraction
// is the nearest-rounded step's master value; QAS off sets bit 1 beside it; `sparrow train
// --rounding carry`; carry with momentum is refused by the recipe, the host reader and the device.
import { describe, expect, it } from 'vitest';
import { referenceCnn } from '../../src/compiler/models.js';
import { buildTrainStep } from '../../src/compiler/train/autodiff.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import { resolveRecipe, type TrainRecipe } from '../../src/compiler/train/recipe.js';
import { planTrainMemory } from '../../src/compiler/train/train_memory.js';
import { OP_RULES, Param } from '../../src/formats/container_op_rules.js';
import { ContainerError, readContainer, writeContainer } from '../../src/formats/container.js';
import { RecipeError } from '../../src/formats/errors.js';
import { Category, DType, NO_TENSOR, Op, Status } from '../../src/formats/schema.js';
import { Trainer } from '../../src/host/trainer.js';
import { DEFAULT_TRAIN_RECIPE, trainCommand } from '../../targets/node/train_command.js';
import { Layout, withCrc } from '../fixtures/broken.js';
import { BUILDS, loadInto, setInput } from '../helpers/device.js';
import { referenceCnnTask } from './reference_task.js';
import { trainExecutor } from './step_probe.js';
import { compactBit } from './compact_rows.js';

const { qmodel, train, sample } = referenceCnnTask();
const EVERY_UPDATE: TrainRecipe = { biasLastK: 5, weights: ['conv1', 'dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 0.5 as const })) };
const CARRY: TrainRecipe = { ...EVERY_UPDATE, rounding: 'carry', seed: 3, learningRate: { weight: 0.002, bias: 0.002 } };
const WEIGHT_UPDATES = new Set([Op.CONV2D_UPDATE, Op.DEPTHWISE_CONV2D_UPDATE, Op.FULLY_CONNECTED_UPDATE]);

describe('carry rounding in the train step', () => {
  it('the planner counts one int8 fraction per updated weight, live the whole step, and none for biases', () => {
    const cnn = referenceCnn(1);
    const plan = (recipe: TrainRecipe) => {
      const resolved = resolveRecipe(cnn, recipe);
      return planTrainMemory(cnn, resolved, buildTrainStep(cnn, resolved));
    };
    const carry = plan({ biasLastK: 2, weights: [{ layer: 'pw2', ratio: 0.5 }], rounding: 'carry' });
    const state = carry.buffers.filter((b) => b.category === 'OPTIMIZER');
    // pw2: 16 of 32 rows of 16 inputs; the classifier: 10 x 32; biases (dw2, pw2, classifier) carry nothing
    expect(state.map((b) => [b.name, b.bytes])).toEqual([['pw2/carry', 16 * 16], ['fc/carry', 10 * 32]]);
    for (const b of state) expect([b.first, b.last], b.name).toEqual([0, carry.timeline.length - 1]);
    const plain = plan({ biasLastK: 2, weights: [{ layer: 'pw2', ratio: 0.5 }] });
    expect(carry.categoryPeaks.OPTIMIZER).toBe(16 * 16 + 10 * 32);
    expect(plain.categoryPeaks.OPTIMIZER ?? 0).toBe(0);
  });

  it('every weight update op names an INT8 OPTIMIZER state of its updated weights and flags 4; bias updates have none', () => {
    const { container, report } = lowerTrainStep(qmodel, CARRY);
    const updates = container.ops.filter((o) => WEIGHT_UPDATES.has(o.op) || o.op === Op.BIAS_UPDATE);
    expect(updates.filter((o) => WEIGHT_UPDATES.has(o.op)).length).toBe(6);
    for (const op of updates) {
      const flags = op.params[OP_RULES[op.op as Op].params.indexOf(Param.UPDATE_FLAGS)];
      expect(flags, Op[op.op]).toBe(4 | compactBit(report.trainables, op));
      if (op.op === Op.BIAS_UPDATE) {
        expect(op.scratch, 'BIAS_UPDATE state').toBe(NO_TENSOR);
        continue;
      }
      const w = container.tensors[op.inputs[2]], selected = container.tensors[op.inputs[3]].shape[0];
      const perChannel = w.bytes / (op.op === Op.DEPTHWISE_CONV2D_UPDATE ? w.shape[3] : w.shape[0]);
      const s = container.tensors[op.scratch];
      expect([DType[s.dtype], Category[s.category], s.bytes], `${Op[op.op]} ${container.names![op.scratch]}`).toEqual(['INT8', 'OPTIMIZER', selected * perChannel]);
    }
    expect(readContainer(writeContainer(container)).ops.map((o) => o.scratch)).toEqual(container.ops.map((o) => o.scratch));
  });

  for (const build of BUILDS) {
    it(`${build}: after one step every weight plus its fraction / 256 is within half a quantum (+ 1/512) of the nearest-rounded step`, async () => {
      const { container, report } = lowerTrainStep(qmodel, CARRY);
      const nearest = await Trainer.create(qmodel, { ...CARRY, rounding: 'nearest' }, { build });
      nearest.step(sample(0), train.labels[0]);
      const ex = trainExecutor(build);
      expect(loadInto(ex, writeContainer(container)).status).toBe(Status.OK);
      setInput(ex, 0, sample(0));
      new Int32Array(ex.memory.buffer, ex.input_ptr(1), 1)[0] = train.labels[0];
      expect(ex.run()).toBe(Status.OK);
      const bytesAt = (t: number, n: number) => new Int8Array(ex.memory.buffer.slice(ex.tensor_ptr(t), ex.tensor_ptr(t) + n));
      let carried = 0;
      for (const op of container.ops.filter((o) => WEIGHT_UPDATES.has(o.op))) {
        const trainable = report.trainables.find((t) => t.tensor === op.inputs[2])!;
        const w = bytesAt(trainable.tensor, trainable.bytes), f = bytesAt(op.scratch, container.tensors[op.scratch].bytes);
        const wNearest = nearest.trainedTensors().get(trainable.source)!;
        const shape = container.tensors[op.inputs[2]].shape;
        const dw = op.op === Op.DEPTHWISE_CONV2D_UPDATE;
        const C = dw ? shape[3] : shape[0], perChannel = trainable.bytes / C;
        const selected = selectedChannels(container, op.inputs[3]);
        selected.forEach((c, n) => {
          for (let k = 0; k < perChannel; k++) {
            // compact rows: row n of w holds channel c; wNearest is the whole filter
            const at = dw ? k * C + c : c * perChannel + k, mine = dw ? at : (trainable.rows ? n : c) * perChannel + k;
            const fraction = f[n * perChannel + k];
            if (fraction !== 0) carried++;
            const master = w[mine] + fraction / 256;
            if (Math.abs(master - wNearest[at]) > 0.5 + 1 / 512) expect.fail(`${trainable.source}[${at}]: carry ${w[mine]} + ${fraction}/256, nearest ${wNearest[at]}`);
          }
        });
      }
      expect(carried, 'fractions written').toBeGreaterThan(0);
    });
  }

  it('mvp and simd give the same weights, biases and fractions after 6 steps; planned == measured', async () => {
    const runs = await Promise.all(BUILDS.map(async (build) => {
      const trainer = await Trainer.create(qmodel, CARRY, { build });
      const losses = [0, 1, 2, 3, 4, 5].map((i) => trainer.step(sample(i), train.labels[i]));
      const m = trainer.memory();
      expect(m.highWaterBytes, `${build} ${JSON.stringify(m)}`).toBe(m.plannedHighWaterBytes);
      return { losses, tensors: trainer.trainedTensors() };
    }));
    expect(runs[1].losses).toEqual(runs[0].losses);
    for (const [name, t] of runs[0].tensors) expect(Array.from(runs[1].tensors.get(name)!), name).toEqual(Array.from(t));
  });

  it('sparrow train --rounding carry: the recipe\'s rounding replaced, one byte of OPTIMIZER state per trained weight, measured as planned', async () => {
    const summary = await trainCommand({ rounding: 'carry', trainDigits: '100', build: 'mvp', progress: false });
    expect(summary.recipe.rounding).toBe('carry');
    expect(summary.recipe.weights).toEqual(DEFAULT_TRAIN_RECIPE.weights);
    // models.ts referenceCnn: pw1 at 1/2 (8 of its 16 rows of 8 inputs), pw2 whole (32 rows of 16), the classifier fc (10 rows of 32)
    expect(summary.memory.byCategory.optimizer).toBe(8 * 8 + 32 * 16 + 10 * 32);
    expect(summary.memory.highWaterBytes).toBe(summary.memory.plannedHighWaterBytes);
  });

  it('carry with QAS off: flags 6 on every update op, and the step moves the weights otherwise than with QAS on', async () => {
    const { container, report } = lowerTrainStep(qmodel, { ...CARRY, qas: false });
    for (const op of container.ops.filter((o) => WEIGHT_UPDATES.has(o.op) || o.op === Op.BIAS_UPDATE)) {
      expect(op.params[OP_RULES[op.op as Op].params.indexOf(Param.UPDATE_FLAGS)], Op[op.op]).toBe(6 | compactBit(report.trainables, op));
    }
    const moved = await Promise.all([true, false].map(async (qas) => {
      const trainer = await Trainer.create(qmodel, { ...CARRY, qas }, { build: 'mvp' });
      for (let i = 0; i < 3; i++) trainer.step(sample(i), train.labels[i]);
      return trainer.trainedTensors();
    }));
    expect([...moved[0]].some(([name, t]) => t.some((v, i) => v !== moved[1].get(name)![i])), 'QAS on and off trained alike').toBe(true);
  });

  it('carry with momentum: RecipeError from the recipe; ContainerError from the host reader and BAD_OP from the device at the momentum param', () => {
    expect(() => lowerTrainStep(qmodel, { ...CARRY, momentum: 0.9 })).toThrow(RecipeError);
    expect(() => lowerTrainStep(qmodel, { ...CARRY, momentum: 0.9 })).toThrow(/'carry' and recipe.momentum 0.9 exclude each other/);
    const { container } = lowerTrainStep(qmodel, CARRY);
    const k = container.ops.findIndex((o) => o.op === Op.FULLY_CONNECTED_UPDATE);
    const momentumParam = OP_RULES[Op.FULLY_CONNECTED_UPDATE].params.indexOf(Param.MOMENTUM);
    const bytes = writeContainer(container);
    const l = new Layout(bytes);
    const at = l.op(k) + 16 + 4 * momentumParam;
    l.f32(at, 0.9);
    withCrc(bytes);
    expect(() => readContainer(bytes)).toThrow(ContainerError);
    expect(() => readContainer(bytes)).toThrow(/carry rounding \(UPDATE_FLAGS bit 2\) and momentum exclude each other/);
    for (const build of BUILDS) {
      const loaded = loadInto(trainExecutor(build), bytes);
      expect([Status[loaded.status], loaded.detail, loaded.op], build).toEqual(['BAD_OP', at, k]);
    }
  });
});

/** The int32 channel list of CONST tensor `t`. */
function selectedChannels(container: ReturnType<typeof lowerTrainStep>['container'], t: number): number[] {
  const r = container.tensors[t];
  return Array.from(new Int32Array(container.data.slice(r.offset, r.offset + 4 * r.shape[0]).buffer));
}
