// int8 ADD kernels (scalar in both builds, SIMD) against the TFLM-spec oracle.
import { describe, expect, it } from 'vitest';
import { Workspace, loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { Rng } from '../helpers/rng.js';
import { activationRange, addParams } from '../../src/compiler/quant_math.js';
import { addOracle, type AddCase } from '../oracle/elementwise.js';
import { firstMismatch, logUniform } from '../oracle/compare.js';

const VARIANTS: [KernelBuild, string][] = [['mvp', 'add_s8'], ['simd', 'add_s8'], ['simd', 'add_s8_simd']];
const EDGE_COUNTS = [1, 3, 7, 8, 9, 15, 16, 17, 33];
const CASES = 1200;

function randomCase(rng: Rng): { params: AddCase; count: number; scales: number[] } {
  const aScale = logUniform(() => rng.next(), 1e-4, 10);
  const bScale = aScale * logUniform(() => rng.next(), 1e-3, 1e3);
  // keep outScale above max(a, b) / 2^19, the bound TFLM's prepare accepts
  const outScale = Math.max(aScale, bScale) * logUniform(() => rng.next(), 1e-4, 1e3);
  const zp = () => (rng.next() < 0.15 ? rng.pick([-128, 127]) : rng.int(-128, 127));
  const outZp = zp();
  const [actMin, actMax] = activationRange(rng.pick(['none', 'relu', 'relu6'] as const), outScale, outZp);
  const count = rng.next() < 0.5 ? rng.pick(EDGE_COUNTS) : rng.int(1, 80);
  return { params: { ...addParams(aScale, bScale, outScale), aZp: zp(), bZp: zp(), outZp, actMin, actMax }, count, scales: [aScale, bScale, outScale] };
}

function runAdd(ws: Workspace, fn: string, a: Int8Array, b: Int8Array, p: AddCase): Int8Array {
  ws.reset();
  const pa = ws.i8(a), pb = ws.i8(b), po = ws.alloc(a.length);
  ws.k[fn](pa, p.aZp, pb, p.bZp, po, p.outZp, a.length, p.leftShift, p.aMultiplier, p.aShift, p.bMultiplier, p.bShift, p.outMultiplier, p.outShift, p.actMin, p.actMax);
  return ws.readI8(po, a.length);
}

describe.each(VARIANTS)('%s %s', (build, fn) => {
  const ws = new Workspace(loadKernels(build), 1 << 20);

  it(`matches the oracle on ${CASES} seeded random cases`, () => {
    const rng = new Rng(0xadd);
    for (let t = 0; t < CASES; t++) {
      const { params, count, scales } = randomCase(rng);
      const a = rng.int8Array(count), b = rng.int8Array(count);
      const diff = firstMismatch(`${fn} case ${t}`, runAdd(ws, fn, a, b, params), addOracle(a, b, params), { params, scales, a: [...a], b: [...b] });
      expect(diff, diff).toBe('');
    }
  });

  it('is exhaustive over all int8 pairs for equal scales and extreme zero points', () => {
    const a = new Int8Array(65536), b = new Int8Array(65536);
    for (let i = 0; i < 65536; i++) { a[i] = i & 255; b[i] = i >> 8; }
    for (const [aZp, bZp, outZp] of [[-128, 127, 0], [127, -128, -128], [0, 0, 127]]) {
      const params: AddCase = { ...addParams(0.05, 0.05, 0.1), aZp, bZp, outZp, actMin: -128, actMax: 127 };
      const diff = firstMismatch(fn, runAdd(ws, fn, a, b, params), addOracle(a, b, params), params);
      expect(diff, diff).toBe('');
    }
  });

  it('matches the oracle with synthetic parameters that land the rounding steps on ties', () => {
    // leftShift 0 and multipliers near 2^30 make x * m / 2^31 and x / 2^shift hit exact halves,
    // so every rounding rule (and a positive output shift) is observable in the int8 output.
    const rng = new Rng(0x7e5);
    const multiplier = () => rng.pick([2 ** 30, 2 ** 30 + 1, 2 ** 31 - 1, rng.int(2 ** 30, 2 ** 31 - 1)]);
    for (let t = 0; t < 1000; t++) {
      const params: AddCase = {
        leftShift: rng.int(0, 2), aMultiplier: multiplier(), aShift: rng.int(-3, 0), bMultiplier: multiplier(), bShift: rng.int(-3, 0),
        outMultiplier: multiplier(), outShift: rng.int(-2, 1), aZp: rng.int(-128, 127), bZp: rng.int(-128, 127), outZp: rng.int(-20, 20), actMin: -128, actMax: 127,
      };
      const count = rng.pick([8, 9, 17, 33]);
      const a = rng.int8Array(count), b = rng.int8Array(count);
      const diff = firstMismatch(`${fn} case ${t}`, runAdd(ws, fn, a, b, params), addOracle(a, b, params), { params, a: [...a], b: [...b] });
      expect(diff, diff).toBe('');
    }
  });

  it('works in place (output aliases input a)', () => {
    const rng = new Rng(7);
    const { params } = randomCase(rng);
    const a = rng.int8Array(37), b = rng.int8Array(37);
    ws.reset();
    const pa = ws.i8(a), pb = ws.i8(b);
    ws.k[fn](pa, params.aZp, pb, params.bZp, pa, params.outZp, 37, params.leftShift, params.aMultiplier, params.aShift, params.bMultiplier, params.bShift, params.outMultiplier, params.outShift, params.actMin, params.actMax);
    expect([...ws.readI8(pa, 37)]).toEqual([...addOracle(a, b, params)]);
  });
});

describe('add_s8 meaning', () => {
  it('approximates the real sum within one output step', () => {
    const rng = new Rng(11);
    const ws = new Workspace(loadKernels('mvp'), 1 << 20);
    for (let t = 0; t < 200; t++) {
      const { params, scales } = randomCase(rng);
      if (params.actMin !== -128 || params.actMax !== 127) continue;
      const a = rng.int8Array(16), b = rng.int8Array(16);
      const out = runAdd(ws, 'add_s8', a, b, params);
      for (let i = 0; i < 16; i++) {
        const real = scales[0] * (a[i] - params.aZp) + scales[1] * (b[i] - params.bZp);
        const ideal = Math.min(127, Math.max(-128, real / scales[2] + params.outZp));
        expect(Math.abs(out[i] - ideal), `case ${t} element ${i}: ${JSON.stringify({ params, scales, a: a[i], b: b[i] })}`).toBeLessThanOrEqual(0.51);
      }
    }
  });
});
