// Expand -> depthwise streaming in a train step: MobileNetV2-w0.75 (64x64, 10 classes; at
// width 0.35 the step's fp32 sample ties with block 2 for the peak) under the sparse scheme
// (biases of the last 10 layers, expand weights of blocks 15-17) streams its frozen pairs; the fused step trains to the same bits as the unfused one on both builds, its
// arena is smaller, and the training executor measures exactly the planned high-water mark.
import { describe, expect, it } from 'vitest';
import { getDevice, sramBudget } from '../../src/compiler/devices.js';
import { fusableForwardPairs } from '../../src/compiler/lower_fuse_train.js';
import { mobilenetV2 } from '../../src/compiler/models.js';
import { quantizeGraph } from '../../src/compiler/ptq.js';
import { lowerTrainStep } from '../../src/compiler/train/lower_train.js';
import { mobilenetV2Sparse } from '../../src/compiler/train/schemes.js';
import { Random } from '../../src/host/random.js';
import { Trainer } from '../../src/host/trainer.js';
import { BUILDS } from '../helpers/device.js';

const SIZE = 64 * 64 * 3;
const rng = new Random(0x5e9);
const qmodel = quantizeGraph(mobilenetV2(2, 0.75, 64, 10), Float32Array.from({ length: 4 * SIZE }, () => rng.next()), { batchSize: 4, percentile: 100 });
const samples = Array.from({ length: 3 }, () => Float32Array.from({ length: SIZE }, () => rng.next()));
const recipe = { ...mobilenetV2Sparse(), seed: 3, learningRate: { weight: 0.05, bias: 0.05 } };

describe('train step: frozen expand -> depthwise pairs streamed', () => {
  const never = lowerTrainStep(qmodel, recipe, { fuse: 'never' });
  const always = lowerTrainStep(qmodel, recipe, { fuse: 'always' });

  it('streams the pairs of the frozen prefix only (blocks 2..14; b15-17 train their expand weights)', () => {
    expect(always.report.opCounts.EXPAND_DEPTHWISE).toBe(13);
    expect(never.report.opCounts.EXPAND_DEPTHWISE).toBeUndefined();
    expect(fusableForwardPairs(never.graph, never.plan).map((i) => never.plan.ops[i].node)).toEqual(Array.from({ length: 13 }, (_, i) => `b${i + 2}_expand`));
    expect(always.report.arenaBytes, `fused ${always.report.arenaBytes} B, unfused ${never.report.arenaBytes} B`).toBeLessThan(never.report.arenaBytes);
    expect(always.report.memory.categoryPeaks.SCRATCH).toBe(6 * 32 * 96); // b2: 2 x 3 rows of 32x96
  });

  // 'auto' streams on a board whose budget lies between the two plans, and not on a roomy one
  const roomy = getDevice('stm32h743');
  const base = roomy;
  const tight = { ...base, name: 'tight', sramBytes: base.sramBytes - sramBudget(base) + (never.report.arenaBytes + always.report.arenaBytes) / 2 };

  for (const build of BUILDS) {
    it(`${build}: 'auto' on a tight board streams; same losses and trained tensors; planned == measured`, async () => {
      const runs = await Promise.all([roomy, tight].map(async (device) => {
        const trainer = await Trainer.create(qmodel, recipe, { build, device });
        const losses = samples.map((x, i) => trainer.step(x, i % 10));
        const m = trainer.memory();
        expect(m.highWaterBytes, `${device.name} ${JSON.stringify(m)}`).toBe(m.plannedHighWaterBytes);
        return { losses, tensors: trainer.trainedTensors(), fused: trainer.report.opCounts.EXPAND_DEPTHWISE ?? 0, planned: m.plannedBytes };
      }));
      expect(runs.map((r) => r.fused)).toEqual([0, 13]);
      expect(runs[1].planned).toBeLessThan(runs[0].planned);
      expect(runs[1].losses).toEqual(runs[0].losses);
      expect(runs[0].losses.every(Number.isFinite)).toBe(true);
      for (const [name, t] of runs[0].tensors) expect(Array.from(runs[1].tensors.get(name)!), name).toEqual(Array.from(t));
      const before = new Map(qmodel.tensors.map((t) => [t.name, t.data!]));
      expect([...runs[0].tensors].filter(([name, t]) => t.some((v, i) => v !== before.get(name)![i])).length, 'tensors that moved').toBeGreaterThan(0);
    });
  }
});
