// QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32) kernels against the TFLM-spec
// oracles, including ties, huge values and non-finite inputs.
import { describe, expect, it } from 'vitest';
import { Workspace, loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { Rng } from '../helpers/rng.js';
import { dequantizeOracle, quantizeOracle } from '../oracle/quantize.js';
import { firstMismatch, logUniform } from '../oracle/compare.js';
import { quantizeScalar } from '../../src/compiler/quant_math.js';

// every quantize variant of each build: the scalar reference everywhere, SIMD where there is SIMD
const BUILDS: [KernelBuild, string][] = [['mvp', 'quantize_f32_s8'], ['simd', 'quantize_f32_s8'], ['simd', 'quantize_f32_s8_simd']];
const CASES = 1000;

describe.each(BUILDS)('%s %s / dequantize_s8_f32', (build, quantizeKernel) => {
  const ws = new Workspace(loadKernels(build), 1 << 20);
  const quantize = (input: Float32Array, scale: number, zp: number) => {
    ws.reset();
    const pin = ws.f32(input), pout = ws.alloc(input.length);
    const nonFinite = ws.k[quantizeKernel](pin, input.length, scale, zp, pout) as number;
    return { output: ws.readI8(pout, input.length), nonFinite };
  };
  const dequantize = (input: Int8Array, scale: number, zp: number) => {
    ws.reset();
    const pin = ws.i8(input), pout = ws.alloc(input.length * 4);
    ws.k.dequantize_s8_f32(pin, input.length, scale, zp, pout);
    return ws.readF32(pout, input.length);
  };

  it(`quantize matches the oracle on ${CASES} seeded random cases`, () => {
    const rng = new Rng(0x9a);
    for (let t = 0; t < CASES; t++) {
      const scale = Math.fround(logUniform(() => rng.next(), 1e-6, 1e3));
      const zp = rng.next() < 0.2 ? rng.pick([-128, 127]) : rng.int(-128, 127);
      const n = rng.int(1, 70); // the SIMD kernel takes 16 a step: blocks, tails, both
      const input = Float32Array.from({ length: n }, () => {
        const u = rng.next();
        if (u < 0.3) return (rng.int(-300, 300) + 0.5) * scale; // ties (x / scale may round to .5)
        if (u < 0.35) return rng.pick([NaN, Infinity, -Infinity, 3e38, -3e38, 0, -0]);
        return (rng.next() * 2 - 1) * 200 * scale;
      });
      const got = quantize(input, scale, zp);
      const want = quantizeOracle(input, scale, zp);
      const c = { scale, zp, input: [...input].map(String) };
      const diff = firstMismatch(`case ${t}`, got.output, want.output, c);
      expect(diff, diff).toBe('');
      expect(got.nonFinite, JSON.stringify(c)).toBe(want.nonFinite);
    }
  });

  it('rounds exact ties away from zero and saturates huge and infinite values', () => {
    const input = Float32Array.from([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, 1e30, -1e30, Infinity, -Infinity, NaN]);
    const got = quantize(input, 1, 0);
    // hand-derived: ties away from zero; the largest float below 0.5 rounds to 0; inf/NaN -> zp
    expect([...got.output]).toEqual([1, -1, 2, -2, 3, -3, 0, 127, -128, 0, 0, 0]);
    expect(got.nonFinite).toBe(3);
    expect([...quantize(Float32Array.from([NaN, 0.25]), 0.5, -7).output]).toEqual([-7, -7 + 1]);
  });

  it('agrees with the host-side quantizeScalar on finite values', () => {
    const rng = new Rng(21);
    for (let t = 0; t < 200; t++) {
      const scale = Math.fround(logUniform(() => rng.next(), 1e-4, 10));
      const zp = rng.int(-128, 127);
      const input = Float32Array.from({ length: 16 }, () => (rng.int(-400, 400) / 2) * scale);
      expect([...quantize(input, scale, zp).output], JSON.stringify({ scale, zp })).toEqual([...input].map((x) => quantizeScalar(x, scale, zp)));
    }
  });

  it(`dequantize matches the oracle on ${CASES} seeded random cases and inverts quantize`, () => {
    const rng = new Rng(0xde);
    for (let t = 0; t < CASES; t++) {
      const scale = Math.fround(logUniform(() => rng.next(), 1e-6, 1e3));
      const zp = rng.next() < 0.2 ? rng.pick([-128, 127]) : rng.int(-128, 127);
      const input = rng.int8Array(rng.int(1, 40));
      const got = dequantize(input, scale, zp);
      const diff = firstMismatch(`case ${t}`, got, dequantizeOracle(input, scale, zp), { scale, zp, input: [...input] });
      expect(diff, diff).toBe('');
      expect([...quantize(got, scale, zp).output], JSON.stringify({ scale, zp })).toEqual([...input]);
    }
  });
});
