// The requantizing GLOBAL_AVG_POOL (TFLM int8 MEAN) through every layer: PTQ gives the pool
// its own range, lowering writes (multiplier, shift) into params 8 and 9, host and device
// readers apply the same rules at the same offsets, and both executors equal the MEAN oracle.
import { describe, expect, it } from 'vitest';
import { ModelBuilder } from '../src/compiler/builder.js';
import { lowerModel } from '../src/compiler/lower.js';
import { referenceCnn } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { quantizeMultiplier } from '../src/compiler/quant_math.js';
import { readContainer, writeContainer } from '../src/formats/container.js';
import { FormatError } from '../src/formats/errors.js';
import { DType, Op, Status } from '../src/formats/schema.js';
import { Random } from '../src/host/random.js';
import { ContainerBuilder, type Quant } from './fixtures/builder.js';
import { Layout, withCrc, expectRefusedAlike } from './fixtures/broken.js';
import { BUILDS, instantiate, loadInto, outputBytes, setInput } from './helpers/device.js';
import { Rng } from './helpers/rng.js';
import { firstMismatch } from './oracle/compare.js';
import { meanOracle } from './oracle/mean.js';

const X: Quant = { scale: 0.07, zeroPoint: -5 };
const Y: Quant = { scale: 0.011, zeroPoint: -128 };

/** x [batch,4,4,8] -> GLOBAL_AVG_POOL -> y [batch,1,1,8], y on its own grid; params 8/9 as given. */
function meanContainer(batch: number, params: Record<number, number>, y: Quant = Y) {
  const b = new ContainerBuilder();
  const x = b.arena('x', DType.INT8, [batch, 4, 4, 8], 0, X);
  const out = b.arena('y', DType.INT8, [batch, 1, 1, 8], 128 * batch, y);
  b.op(Op.GLOBAL_AVG_POOL, [x], out, { 6: -128, 7: 127, ...params });
  return b.build(128 * batch + 16 * batch, [x], [out]);
}

const ratio = quantizeMultiplier(Math.fround(X.scale) / Math.fround(Y.scale));

describe('requantizing GLOBAL_AVG_POOL on the device', () => {
  it.each(BUILDS)('%s: batch 1 and 2 equal the MEAN oracle', (build) => {
    const ex = instantiate(build);
    const rng = new Rng(41);
    for (const batch of [1, 2]) {
      for (let t = 0; t < 20; t++) {
        const r = loadInto(ex, writeContainer(meanContainer(batch, { 8: ratio.multiplier, 9: ratio.shift })));
        expect(Status[r.status]).toBe('OK');
        const input = rng.int8Array(batch * 128);
        setInput(ex, 0, input);
        expect(Status[ex.run()]).toBe('OK');
        const got = new Int8Array(outputBytes(ex, 0).buffer);
        const m = { inH: 4, inW: 4, channels: 8, inZp: X.zeroPoint, outZp: Y.zeroPoint, ...ratio, actMin: -128, actMax: 127 };
        const expected = new Int8Array(batch * 8);
        for (let i = 0; i < batch; i++) expected.set(meanOracle(input.subarray(128 * i, 128 * (i + 1)), m), 8 * i);
        const diff = firstMismatch(`${build} batch ${batch} case ${t}`, got, expected, { input: [...input] });
        expect(diff, diff).toBe('');
      }
    }
  });
});

describe('GLOBAL_AVG_POOL params 8 and 9: host and device refuse the same bytes at the same offset', () => {
  const param = (l: Layout, i: number): number => l.op(0) + 16 + 4 * i;
  const cases: { rule: string; model: ReturnType<typeof meanContainer>; mutate?: (l: Layout) => void; at: (l: Layout) => number }[] = [
    { rule: 'multiplier below 2^30', model: meanContainer(1, { 8: ratio.multiplier, 9: ratio.shift }), mutate: (l) => l.i32(param(l, 8), 12345), at: (l) => param(l, 8) },
    { rule: 'shift above 30', model: meanContainer(1, { 8: ratio.multiplier, 9: ratio.shift }), mutate: (l) => l.i32(param(l, 9), 31), at: (l) => param(l, 9) },
    { rule: 'same scale (multiplier 0) with a shift', model: meanContainer(1, {}, X), mutate: (l) => l.i32(param(l, 9), 2), at: (l) => param(l, 9) },
    { rule: 'same scale (multiplier 0) with another output scale', model: meanContainer(1, { 8: ratio.multiplier, 9: ratio.shift }), mutate: (l) => { l.i32(param(l, 8), 0); l.i32(param(l, 9), 0); }, at: (l) => l.op(0) + 12 },
  ];
  const executors = BUILDS.map((b) => [b, instantiate(b)] as const);

  it.each(cases)('$rule', (c) => {
    const base = writeContainer(c.model);
    const l = new Layout(base.slice());
    c.mutate?.(l);
    const bytes = withCrc(l.bytes);
    const at = c.at(new Layout(base));
    expectRefusedAlike(bytes, c.rule, Status.BAD_OP, at, executors);
  });

  it('accepts a same-scale pool (multiplier 0, shift 0) and a requantizing one with any output grid', () => {
    for (const model of [meanContainer(1, {}, X), meanContainer(1, { 8: ratio.multiplier, 9: ratio.shift }), meanContainer(1, { 8: 2 ** 30, 9: 1 }, X)]) {
      expect(() => readContainer(writeContainer(model))).not.toThrow();
      for (const [build, ex] of executors) expect({ build, status: Status[loadInto(ex, writeContainer(model)).status] }).toEqual({ build, status: 'OK' });
    }
  });
});

describe('PTQ and lowering of the global average pool', () => {
  const graph = referenceCnn(3);
  const calibration = Float32Array.from({ length: 64 * 784 }, (_, i) => new Random(i >> 10).next() * ((i % 7) / 6));

  it('PTQ calibrates the pool output on its own grid; lowering writes TFLM MEAN multiplier and shift', () => {
    const q = quantizeGraph(graph, calibration);
    const gap = q.tensors.find((t) => t.name === 'gap')!;
    const pw2 = q.tensors.find((t) => t.name === 'pw2')!;
    expect(gap.quant!.zeroPoint[0]).toBe(-128); // averages of ReLU outputs: range from 0
    expect(gap.quant!.scale[0]).toBeLessThan(pw2.quant!.scale[0]);
    const { container } = lowerModel(q, { sparse: 'never' });
    const op = container.ops.find((o) => o.op === Op.GLOBAL_AVG_POOL)!;
    const expected = quantizeMultiplier(Math.fround(pw2.quant!.scale[0]) / Math.fround(gap.quant!.scale[0]));
    expect(op.params.slice(0, 10)).toEqual([0, 0, 0, 0, 0, 0, -128, 127, expected.multiplier, expected.shift]);
  });

  it("'keep-scale' keeps the input's grid and lowers to multiplier 0 (AVERAGE_POOL semantics)", () => {
    const q = quantizeGraph(graph, calibration, { globalAvgPool: 'keep-scale' });
    expect(q.tensors.find((t) => t.name === 'gap')!.quant).toEqual(q.tensors.find((t) => t.name === 'pw2')!.quant);
    const op = lowerModel(q, { sparse: 'never' }).container.ops.find((o) => o.op === Op.GLOBAL_AVG_POOL)!;
    expect(op.params.slice(6, 10)).toEqual([-128, 127, 0, 0]);
  });

  it('refuses a pool whose s_in / s_out cannot be requantized, naming the op', () => {
    const b = new ModelBuilder('tiny', [2, 2, 4]);
    const tiny = b.build(b.globalAvgPool(b.input(), { name: 'gap' }), new Random(1));
    const q = quantizeGraph(tiny, Float32Array.from({ length: 32 }, (_, i) => i / 32));
    q.tensors.find((t) => t.name === 'gap')!.quant!.scale = [1e12];
    expect(() => lowerModel(q, { sparse: 'never' })).toThrow(FormatError);
    expect(() => lowerModel(q, { sparse: 'never' })).toThrow(/global_avg_pool -> 'gap'.*requantizable range/);
  });
});
