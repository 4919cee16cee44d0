// Int8 samples (lowerTrainStep / Trainer `input: 'int8'`, lowerModel `input: 'int8'`): a camera
// that delivers pixels already quantized with the model input's scale and zero point. On
// MobileNetV2-w0.35 at 64x64 (2 classes, the sparse scheme, pairs streamed): the step holds no
// float32 sample, its container loads within the stm32f746 budget, steps on int8 samples give
// exactly the losses and weights of steps on the float32 samples they quantize, and the training
// executor measures the planned high-water mark, on both builds.
import { describe, expect, it } from 'vitest';
import { getDevice, sramBudget } from '../../src/compiler/devices.js';
import { mobilenetV2 } from '../../src/compiler/models.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { quantizeScalar } from '../../src/compiler/quant_math.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import { mobilenetV2Sparse } from '../../src/compiler/train/schemes.js';
import { ShapeError } from '../../src/formats/errors.js';
import { DType, Op } from '../../src/formats/schema.js';
import { Model } from '../../src/host/model.js';
import { Random } from '../../src/host/random.js';
import { Session } from '../../src/host/session.js';
import { Trainer } from '../../src/host/trainer.js';
import { BUILDS } from '../helpers/device.js';

const RES = 64;
const SIZE = RES * RES * 3;
const rng = new Random(0x18a);
const qmodel = quantizeGraph(mobilenetV2(1, 0.35, RES, 2), Float32Array.from({ length: 2 * SIZE }, () => rng.next()), { batchSize: 2, percentile: 100 });
const inputTensor = qmodel.tensors.find((t) => t.name === qmodel.ops[0].outputs[0])!;
const [scale, zeroPoint] = [inputTensor.quant!.scale[0], inputTensor.quant!.zeroPoint[0]];
const floats = Array.from({ length: 3 }, () => Float32Array.from({ length: SIZE }, () => rng.next()));
const int8s = floats.map((x) => Int8Array.from(x, (v) => quantizeScalar(v, scale, zeroPoint)));
const recipe = { ...mobilenetV2Sparse(), seed: 5, learningRate: { weight: 0.05, bias: 0.05 } };
const device = getDevice('stm32f746');

describe('train step with int8 samples', () => {
  const float = lowerTrainStep(qmodel, recipe, { fuse: 'always' });
  const int8 = lowerTrainStep(qmodel, recipe, { fuse: 'always', input: 'int8' });

  it('takes the quantized tensor as its first input: no QUANTIZE op, no float32 sample in the plan', () => {
    const sample = int8.container.tensors[int8.container.plan.inputs[0]];
    expect(sample).toMatchObject({ dtype: DType.INT8, shape: [1, RES, RES, 3], zeroPoint });
    expect(sample.scale).toBe(Math.fround(scale));
    expect(int8.container.ops.some((o) => o.op === Op.QUANTIZE)).toBe(false);
    expect(float.container.ops[0].op).toBe(Op.QUANTIZE);
    expect(int8.report.memory.buffers.map((b) => b.name)).not.toContain('sample');
    expect(int8.report.input).toBe('int8');
    // the float step peaks at its quantize (float32 sample + its int8 copy); the int8 one in block 1
    expect(float.report.memory.buffers.find((b) => b.name === 'sample')?.bytes).toBe(4 * SIZE);
    expect(float.report.peakOpLabel).toMatch(/^op 0 /);
    expect(int8.report.peakOpLabel).toMatch(/forward b1_dw$/);
    expect(int8.report.arenaBytes, `int8 ${int8.report.arenaBytes} B, float32 ${float.report.arenaBytes} B`).toBeLessThan(float.report.arenaBytes);
    expect(int8.report.opCounts.EXPAND_DEPTHWISE).toBe(13);
  });

  for (const build of BUILDS) {
    it(`${build}: int8 samples train to the same bits as the float32 samples they quantize; planned == measured on stm32f746`, async () => {
      const [f, q] = await Promise.all([
        Trainer.create(qmodel, recipe, { build, device, fuse: 'always' }),
        Trainer.create(qmodel, recipe, { build, device, fuse: 'always', input: 'int8' }),
      ]);
      const lossesF = floats.map((x, i) => f.step(x, i % 2));
      const lossesQ = int8s.map((x, i) => q.step(x, i % 2));
      expect(lossesQ).toEqual(lossesF);
      expect(lossesQ.every(Number.isFinite)).toBe(true);
      const before = new Map(qmodel.tensors.map((t) => [t.name, t.data!]));
      const trained = q.trainedTensors();
      expect([...trained].filter(([name, t]) => t.some((v, i) => v !== before.get(name)![i])).length, 'tensors that moved').toBeGreaterThan(0);
      for (const [name, t] of f.trainedTensors()) expect(Array.from(trained.get(name)!), name).toEqual(Array.from(t));
      const m = q.memory();
      expect(m.highWaterBytes, JSON.stringify(m)).toBe(m.plannedHighWaterBytes);
      expect(m.plannedBytes).toBe(int8.report.arenaBytes);
      expect(m.plannedBytes).toBeLessThanOrEqual(sramBudget(device));
      expect(m.byCategory.scratch).toBe(int8.report.memory.categoryPeaks.SCRATCH);

      // the exported model takes int8 samples too and agrees with the float32 one
      const images = new Int8Array(int8s.length * SIZE);
      int8s.forEach((x, i) => images.set(x, i * SIZE));
      const labels = int8s.map((_, i) => i % 2);
      const floatImages = new Float32Array(floats.length * SIZE);
      floats.forEach((x, i) => floatImages.set(x, i * SIZE));
      expect(await q.evaluate({ images, labels, count: int8s.length })).toEqual(await f.evaluate({ images: floatImages, labels, count: floats.length }));
    });
  }

  it('refuses a sample of the wrong kind or length with a ShapeError that says what it takes', async () => {
    const [f, q] = await Promise.all([
      Trainer.create(qmodel, recipe, { build: 'mvp', device, fuse: 'always' }),
      Trainer.create(qmodel, recipe, { build: 'mvp', device, fuse: 'always', input: 'int8' }),
    ]);
    expect(() => q.step(floats[0], 0)).toThrow(ShapeError);
    expect(() => q.step(floats[0], 0)).toThrow(/int8 samples \(Int8Array\), got Float32Array/);
    expect(() => f.step(int8s[0], 0)).toThrow(/float32 samples \(Float32Array\), got Int8Array/);
    expect(() => q.step(int8s[0].subarray(1), 0)).toThrow(new RegExp(`a sample has ${SIZE} values, got ${SIZE - 1}`));
  });
});

describe('inference with int8 samples (lowerModel input int8)', () => {
  for (const build of BUILDS) {
    it(`${build}: the same logits as the float32 samples they quantize, and a smaller streamed arena`, async () => {
      const a = Model.compile(qmodel, { sparse: 'never', fuse: 'always' });
      const b = Model.compile(qmodel, { sparse: 'never', fuse: 'always', input: 'int8' });
      expect(b.report!.plan.arenaBytes).toBeLessThan(a.report!.plan.arenaBytes);
      const [sa, sb] = await Promise.all([Session.create(a, { build }), Session.create(b, { build })]);
      expect(sb.inputs[0]).toMatchObject({ dtype: 'int8', shape: [1, RES, RES, 3] });
      for (let i = 0; i < floats.length; i++) expect(sb.run(int8s[i]), `sample ${i}`).toEqual(sa.run(floats[i]));
      expect(() => sb.run(floats[0])).toThrow(ShapeError);
    });
  }

  it('refuses input int8 on a model whose first op is not a quantize', () => {
    const int8Only = { ...qmodel, inputs: [...qmodel.ops[0].outputs], ops: qmodel.ops.slice(1) };
    expect(() => Model.compile(int8Only, { input: 'int8' })).toThrow(/an int8 input needs one float32 input quantized by the first op/);
  });
});
