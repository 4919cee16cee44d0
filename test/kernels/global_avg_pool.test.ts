// int8 GLOBAL_AVG_POOL kernels (scalar in both builds, SIMD) in both semantics:
// - requantizing (multiplier != 0): against the BigInt oracle of TFLM's int8 MEAN (test/oracle/mean.ts);
// - same scale (multiplier 0): against the average-pool oracle (test/oracle/pool.ts).
// Seeded shapes aim at the SIMD kernel's edges: 16-channel steps (+-1), the 256-pixel int16 run.
import { describe, expect, it } from 'vitest';
import { Workspace, loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { Rng } from '../helpers/rng.js';
import { firstMismatch } from '../oracle/compare.js';
import { meanOracle, type MeanCase } from '../oracle/mean.js';
import { globalAvgPoolOracle } from '../oracle/pool.js';

const VARIANTS: [KernelBuild, string][] = [['mvp', 'global_avg_pool_s8'], ['simd', 'global_avg_pool_s8'], ['simd', 'global_avg_pool_s8_simd']];
const EDGE_CHANNELS = [1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33];
const EDGE_SIDES = [1, 2, 3, 7, 16, 17];
const CASES = 1200;
const Q31_MIN = 2 ** 30;

function randomActivation(rng: Rng): [number, number] {
  if (rng.next() < 0.7) return [-128, 127]; // MEAN: PTQ's clamp
  const lo = rng.int(-128, 127);
  return [lo, rng.int(lo, 127)];
}

/** A requantizing case: mostly the shifts PTQ gives (s_in / s_out within 2^+-8), sometimes the extremes. */
function randomMean(rng: Rng): MeanCase {
  const channels = rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 48);
  const side = (): number => (rng.next() < 0.5 ? rng.pick(EDGE_SIDES) : rng.int(1, 12));
  const zeroPoint = (): number => (rng.next() < 0.3 ? rng.pick([-128, 127]) : rng.int(-128, 127));
  const multiplier = rng.next() < 0.1 ? rng.pick([Q31_MIN, 2 ** 31 - 1]) : rng.int(Q31_MIN, 2 ** 31 - 1);
  const shift = rng.next() < 0.8 ? rng.int(-8, 8) : rng.int(-31, 30);
  const [actMin, actMax] = randomActivation(rng);
  return { inH: side(), inW: side(), channels, inZp: zeroPoint(), outZp: zeroPoint(), multiplier, shift, actMin, actMax };
}

describe.each(VARIANTS)('%s %s', (build, fn) => {
  const ws = new Workspace(loadKernels(build), 4 << 20);
  const run = (input: Int8Array, m: MeanCase): Int8Array => {
    ws.reset();
    const pin = ws.i8(input), pout = ws.alloc(m.channels);
    ws.k[fn](pin, m.inH, m.inW, m.channels, pout, m.actMin, m.actMax, m.inZp, m.outZp, m.multiplier, m.shift);
    return ws.readI8(pout, m.channels);
  };

  it(`requantizing: matches TFLM MEAN on ${CASES} seeded cases (edge sizes, extreme zero points, shifts -31..30)`, () => {
    const rng = new Rng(0x3ea7);
    for (let t = 0; t < CASES; t++) {
      const m = randomMean(rng);
      const n = m.inH * m.inW * m.channels;
      const input = rng.next() < 0.1 ? new Int8Array(n).fill(rng.pick([-128, 127])) : rng.int8Array(n);
      const diff = firstMismatch(`${fn} case ${t}`, run(input, m), meanOracle(input, m), { ...m, input: [...input] });
      expect(diff, diff).toBe('');
    }
  });

  it('requantizing: exact past the int16 run (40x40 and 1x300 pixels), saturated inputs, zero points at the ends', () => {
    const rng = new Rng(0x5eed);
    for (const [inH, inW] of [[40, 40], [1, 300], [16, 16], [17, 15]]) {
      for (const fill of [-128, 127, undefined]) {
        for (const [inZp, outZp] of [[-128, 127], [127, -128], [-128, -128], [3, -7]]) {
          const m: MeanCase = { inH, inW, channels: 33, inZp, outZp, multiplier: rng.int(Q31_MIN, 2 ** 31 - 1), shift: rng.int(-3, 5), actMin: -128, actMax: 127 };
          const input = fill === undefined ? rng.int8Array(inH * inW * 33) : new Int8Array(inH * inW * 33).fill(fill);
          const diff = firstMismatch(fn, run(input, m), meanOracle(input, m), { ...m, fill });
          expect(diff, diff).toBe('');
        }
      }
    }
  });

  it('requantizing: int32 wrap-around of acc << shift matches the reference arithmetic', () => {
    // 40x40 pixels of 127 - (-128) = 255 sum to 408,000; shifted left by 13..30 they leave int32.
    for (const shift of [13, 14, 20, 30]) {
      const m: MeanCase = { inH: 40, inW: 40, channels: 17, inZp: -128, outZp: 0, multiplier: Q31_MIN + 12345, shift, actMin: -128, actMax: 127 };
      const input = new Int8Array(40 * 40 * 17).fill(127);
      const diff = firstMismatch(fn, run(input, m), meanOracle(input, m), m);
      expect(diff, diff).toBe('');
    }
  });

  it('requantizing with s_in / s_out = 1 (multiplier 2^30, shift 1) is round(mean(q - inZp)) + outZp', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 50; t++) {
      const m: MeanCase = { inH: rng.int(1, 6), inW: rng.int(1, 6), channels: rng.pick([5, 16, 19]), inZp: rng.int(-128, 127), outZp: rng.int(-128, 127), multiplier: Q31_MIN, shift: 1, actMin: -128, actMax: 127 };
      const pixels = m.inH * m.inW;
      const input = rng.int8Array(pixels * m.channels);
      const expected = Int8Array.from({ length: m.channels }, (_, c) => {
        let sum = 0;
        for (let p = 0; p < pixels; p++) sum += input[p * m.channels + c] - m.inZp;
        const mean = sum / pixels;
        const rounded = mean < 0 ? -Math.round(-mean) : Math.round(mean); // ties away from zero
        return Math.max(-128, Math.min(127, rounded + m.outZp));
      });
      const diff = firstMismatch(fn, run(input, m), expected, { ...m, input: [...input] });
      expect(diff, diff).toBe('');
    }
  });

  it('same scale (multiplier 0): matches the average-pool oracle; zero points are not read', () => {
    const rng = new Rng(0x6a9);
    for (let t = 0; t < CASES; t++) {
      const channels = rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 48);
      const inH = rng.int(1, 9), inW = rng.int(1, 9);
      const [actMin, actMax] = randomActivation(rng);
      const input = rng.int8Array(inH * inW * channels);
      const m: MeanCase = { inH, inW, channels, inZp: rng.int(-128, 127), outZp: rng.int(-128, 127), multiplier: 0, shift: 0, actMin, actMax };
      const diff = firstMismatch(`${fn} case ${t}`, run(input, m), globalAvgPoolOracle(input, inH, inW, channels, actMin, actMax), { ...m, input: [...input] });
      expect(diff, diff).toBe('');
    }
  });

  it('same scale: exact past the int16 run length (40x40 pixels of -128 / 127)', () => {
    const rng = new Rng(3);
    for (const fill of [-128, 127, 0]) {
      const input = fill === 0 ? rng.int8Array(40 * 40 * 33) : new Int8Array(40 * 40 * 33).fill(fill);
      const m: MeanCase = { inH: 40, inW: 40, channels: 33, inZp: 0, outZp: 0, multiplier: 0, shift: 0, actMin: -128, actMax: 127 };
      const diff = firstMismatch(fn, run(input, m), globalAvgPoolOracle(input, 40, 40, 33, -128, 127), { fill });
      expect(diff, diff).toBe('');
    }
  });

  it('same scale: rounds ties away from zero (averages of +-0.5 and +-1.5)', () => {
    // 2 pixels, channel c holds (x, y): exact averages chosen by hand
    const pairs = [[0, 1], [0, -1], [1, 2], [-1, -2], [127, 126], [-128, -127]];
    const input = new Int8Array(2 * pairs.length);
    pairs.forEach(([x, y], c) => { input[c] = x; input[pairs.length + c] = y; });
    const m: MeanCase = { inH: 1, inW: 2, channels: pairs.length, inZp: 0, outZp: 0, multiplier: 0, shift: 0, actMin: -128, actMax: 127 };
    expect([...run(input, m)]).toEqual([1, -1, 2, -2, 127, -128]);
  });
});

describe('MEAN oracle', () => {
  it('stays within one output step of the real mean rescaled by s_in / s_out', () => {
    const rng = new Rng(77);
    for (let t = 0; t < 200; t++) {
      const ratio = 2 ** (rng.next() * 8 - 2); // s_in / s_out in [1/4, 64)
      let exponent = Math.floor(Math.log2(ratio)) + 1;
      let multiplier = Math.round((ratio / 2 ** exponent) * 2 ** 31);
      if (multiplier === 2 ** 31) { multiplier /= 2; exponent++; }
      const m: MeanCase = { inH: rng.int(1, 8), inW: rng.int(1, 8), channels: 4, inZp: rng.int(-128, 127), outZp: -128, multiplier, shift: exponent, actMin: -128, actMax: 127 };
      const pixels = m.inH * m.inW;
      const input = rng.int8Array(pixels * 4);
      const got = meanOracle(input, m);
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let p = 0; p < pixels; p++) sum += input[p * 4 + c] - m.inZp;
        const real = (ratio * sum) / pixels + m.outZp;
        if (real > 127 || real < -128) continue; // saturated
        expect(Math.abs(got[c] - real), JSON.stringify({ m, c, real, got: got[c] })).toBeLessThanOrEqual(1);
      }
    }
  });
});
