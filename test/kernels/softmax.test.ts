// int8 SOFTMAX kernel against the gemmlowp/TFLM-spec oracle, with parameters from
// quant_math.softmaxParams over a wide range of input scales and betas.
import { describe, expect, it } from 'vitest';
import { Workspace, loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { Rng } from '../helpers/rng.js';
import { softmaxParams } from '../../src/compiler/quant_math.js';
import { softmaxFloat, softmaxOracle } from '../oracle/softmax.js';
import { firstMismatch, logUniform } from '../oracle/compare.js';

const BUILDS: KernelBuild[] = ['mvp', 'simd'];
const CASES = 1000;

describe.each(BUILDS)('%s softmax_s8', (build) => {
  const ws = new Workspace(loadKernels(build), 1 << 20);
  const run = (input: Int8Array, rows: number, depth: number, p: ReturnType<typeof softmaxParams>) => {
    ws.reset();
    const pin = ws.i8(input), pout = ws.alloc(input.length);
    ws.k.softmax_s8(pin, rows, depth, p.inputMultiplier, p.inputLeftShift, p.diffMin, pout);
    return ws.readI8(pout, input.length);
  };

  it(`matches the oracle on ${CASES} seeded random cases (scales 1e-3..2, beta 0.1..10)`, () => {
    const rng = new Rng(0x50f7);
    for (let t = 0; t < CASES; t++) {
      const scale = logUniform(() => rng.next(), 1e-3, 2);
      const beta = rng.next() < 0.5 ? 1 : logUniform(() => rng.next(), 0.1, 10);
      const p = softmaxParams(beta, scale);
      const depth = rng.pick([1, 2, 3, 7, 10, 16, 17, rng.int(1, 64)]);
      const rows = rng.int(1, 3);
      const lo = rng.int(-128, 127);
      const input = rng.int8Array(rows * depth, lo, rng.int(lo, 127));
      const diff = firstMismatch(`case ${t}`, run(input, rows, depth, p), softmaxOracle(input, rows, depth, p.inputMultiplier, p.inputLeftShift, p.diffMin), { scale, beta, p, rows, depth, input: [...input] });
      expect(diff, diff).toBe('');
    }
  });

  it('handles depth 1, 10 and 1000, all-equal rows and extreme values', () => {
    const rng = new Rng(5);
    for (const depth of [1, 10, 1000]) {
      for (const scale of [1 / 16, 0.1, 1]) {
        const p = softmaxParams(1, scale);
        const rows = [
          new Int8Array(depth).fill(-128),
          new Int8Array(depth).fill(127),
          rng.int8Array(depth),
          Int8Array.from({ length: depth }, (_, i) => (i % 2 ? -128 : 127)),
        ];
        const input = new Int8Array(rows.length * depth);
        rows.forEach((r, i) => input.set(r, i * depth));
        const diff = firstMismatch('edge', run(input, rows.length, depth, p), softmaxOracle(input, rows.length, depth, p.inputMultiplier, p.inputLeftShift, p.diffMin), { depth, scale, p });
        expect(diff, diff).toBe('');
      }
    }
  });

  it('is close to the float softmax (within 1/256 + rounding) and puts 1.0 on a lone winner', () => {
    const rng = new Rng(9);
    for (let t = 0; t < 100; t++) {
      const scale = logUniform(() => rng.next(), 0.01, 0.5);
      const depth = rng.int(2, 20);
      const input = rng.int8Array(depth);
      const out = run(input, 1, depth, softmaxParams(1, scale));
      const ref = softmaxFloat(input, scale, 1);
      for (let c = 0; c < depth; c++) {
        expect(Math.abs((out[c] + 128) / 256 - ref[c]), `case ${t} c ${c}: ${JSON.stringify({ scale, input: [...input] })}`).toBeLessThanOrEqual(1.5 / 256);
      }
    }
    const winner = new Int8Array(10).fill(-128);
    winner[3] = 127;
    expect([...run(winner, 1, 10, softmaxParams(1, 0.5))]).toEqual([-128, -128, -128, 127, -128, -128, -128, -128, -128, -128]);
  });

  it('works in place', () => {
    const rng = new Rng(13);
    const p = softmaxParams(1, 0.07);
    const input = rng.int8Array(2 * 33);
    ws.reset();
    const ptr = ws.i8(input);
    ws.k.softmax_s8(ptr, 2, 33, p.inputMultiplier, p.inputLeftShift, p.diffMin, ptr);
    expect([...ws.readI8(ptr, input.length)]).toEqual([...softmaxOracle(input, 2, 33, p.inputMultiplier, p.inputLeftShift, p.diffMin)]);
  });
});
