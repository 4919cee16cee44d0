// Expand -> depthwise streaming (EXPAND_DEPTHWISE) on whole models: MobileNetV2-w0.35 at
// 128x128 and the reference CNN lowered with fuse 'always' and 'never' give identical outputs
// on both builds, the fused plan is smaller, and the executor measures exactly the plan.
import { describe, expect, it } from 'vitest';
import { readContainer, writeContainer } from '../src/formats/container.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Op } from '../src/formats/schema.js';
import { getDevice, sramBudget } from '../src/compiler/devices.js';
import { lowerModel, type LowerOptions } from '../src/compiler/lower.js';
import { mobilenetV2, referenceCnn } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { Rng } from './helpers/rng.js';

const rng = new Rng(0xf05e);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.next());
/**
 * The model with its int8 tensor as the graph input (QUANTIZE dropped), as a camera pipeline
 * that delivers int8 pixels runs it: the fp32 input no longer sets the peak.
 */
function int8Input(q: QModel): QModel {
  const [quantize, ...ops] = q.ops;
  expect(quantize.op).toBe('quantize');
  return { ...q, inputs: quantize.outputs, ops, tensors: q.tensors.filter((t) => t.name !== quantize.inputs[0]) };
}

const mobilenet = int8Input(quantizeGraph(mobilenetV2(1, 0.35, 128, 102), random(2 * 128 * 128 * 3), { batchSize: 2, percentile: 100 }));
const cnn = quantizeGraph(referenceCnn(1), random(784 * 4), { batchSize: 4 });

/** Runs `qmodel` compiled with `options` on `build`: outputs, and the planned vs measured memory. */
async function run(qmodel: QModel, options: LowerOptions, build: 'mvp' | 'simd', input: Float32Array | Int8Array) {
  const model = Model.compile(qmodel, { sparse: 'never', ...options });
  const session = await Session.create(model, { build });
  const [y] = session.run(input);
  const report = model.report!;
  return { y: new Int8Array(y.buffer, y.byteOffset, y.byteLength).slice(), memory: session.memory(), report };
}

describe('fuse: MobileNetV2-w0.35 128x128, 102 classes', () => {
  const unfused = lowerModel(mobilenet, { sparse: 'never', fuse: 'never' });
  const fused = lowerModel(mobilenet, { sparse: 'never', fuse: 'always' });

  it('streams the 16 expand -> depthwise pairs (blocks 2..17) and plans a smaller arena the reader accepts', () => {
    expect(fused.report.fused.map((p) => p.expanded)).toEqual(Array.from({ length: 16 }, (_, i) => `b${i + 2}_expand`));
    expect(fused.container.ops.filter((o) => o.op === Op.EXPAND_DEPTHWISE)).toHaveLength(16);
    expect(fused.container.ops).toHaveLength(unfused.container.ops.length - 16);
    expect(readContainer(writeContainer(fused.container)).plan.arenaBytes).toBe(fused.report.plan.arenaBytes);
    // b2: 64x64x48 expanded (192 KiB) held as 2 x 3 rows (18 KiB)
    expect(fused.report.fused[0]).toMatchObject({ expandedBytes: 64 * 64 * 48, ringBytes: 6 * 64 * 48 });
    expect(fused.report.plan.arenaBytes, `fused ${fused.report.plan.arenaBytes} B vs unfused ${unfused.report.plan.arenaBytes} B`).toBeLessThan(unfused.report.plan.arenaBytes * 0.7);
    expect(fused.report.totalMacs).toBe(unfused.report.totalMacs);
  });

  it("'auto' streams only when the unfused plan does not fit the device", () => {
    const device = getDevice('stm32f746');
    expect(unfused.report.plan.arenaBytes).toBeLessThanOrEqual(sramBudget(device));
    expect(lowerModel(mobilenet, { sparse: 'never', device }).report.fused).toHaveLength(0);
    // a board whose budget lies between the two plans
    const small = { ...device, name: 'small', sramBytes: device.sramBytes - sramBudget(device) + (unfused.report.plan.arenaBytes + fused.report.plan.arenaBytes) / 2 };
    expect(sramBudget(small)).toBeLessThan(unfused.report.plan.arenaBytes);
    expect(lowerModel(mobilenet, { sparse: 'never', device: small }).report.fused).toHaveLength(16);
    expect(lowerModel(mobilenet, { sparse: 'never' }).report.fused).toHaveLength(0);
  });

  for (const build of ['mvp', 'simd'] as const) {
    it(`${build}: the same logits fused and unfused; measured = planned for both`, async () => {
      const x = rng.int8Array(128 * 128 * 3);
      const a = await run(mobilenet, { fuse: 'never' }, build, x);
      const b = await run(mobilenet, { fuse: 'always' }, build, x);
      expect(b.y).toEqual(a.y);
      expect(new Set(a.y).size, 'logits are not all equal').toBeGreaterThan(1);
      for (const r of [a, b]) {
        expect(r.memory.highWaterBytes).toBe(Math.max(...r.report.plan.timeline.map((u) => u.highWater)));
        expect(r.memory.plannedBytes).toBe(r.report.plan.arenaBytes);
        expect(r.memory.byCategory).toEqual(Object.fromEntries(Object.entries(r.report.plan.categoryPeaks).map(([k, v]) => [k.toLowerCase(), v])));
      }
      expect(b.memory.byCategory.scratch).toBe(6 * 64 * 48);
    });
  }
});

describe('fuse: the reference CNN (pw1 -> dw2 stride 2)', () => {
  for (const build of ['mvp', 'simd'] as const) {
    it(`${build}: identical outputs, smaller plan, measured = planned`, async () => {
      const x = random(784);
      const a = await run(cnn, { fuse: 'never' }, build, x);
      const b = await run(cnn, { fuse: 'always' }, build, x);
      expect(b.report.fused.map((p) => `${p.expanded} -> ${p.output}`)).toEqual(['pw1 -> dw2']);
      expect(b.y).toEqual(a.y);
      expect(b.report.plan.arenaBytes).toBeLessThan(a.report.plan.arenaBytes);
      expect(b.memory.highWaterBytes).toBe(Math.max(...b.report.plan.timeline.map((u) => u.highWater)));
    });
  }
});
