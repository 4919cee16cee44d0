// int8 AVG_POOL and MAX_POOL kernels (scalar in both builds, SIMD) against the TFLM-spec
// oracles (GLOBAL_AVG_POOL: global_avg_pool.test.ts), over seeded random shapes and the tile
// edges of the SIMD kernels.
import { describe, expect, it } from 'vitest';
import { Workspace, loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { Rng } from '../helpers/rng.js';
import { avgPoolOracle, maxPoolOracle, poolGeometry, type PoolGeometry } from '../oracle/pool.js';
import { firstMismatch } from '../oracle/compare.js';

const EDGE_CHANNELS = [1, 3, 7, 8, 9, 15, 16, 17, 33];
const CASES = 1000;

type Oracle = (input: Int8Array, g: PoolGeometry) => Int8Array;
const WINDOWED: [KernelBuild, string, Oracle][] = [
  ['mvp', 'avg_pool_s8', avgPoolOracle],
  ['simd', 'avg_pool_s8', avgPoolOracle],
  ['simd', 'avg_pool_s8_simd', avgPoolOracle],
  ['mvp', 'max_pool_s8', maxPoolOracle],
  ['simd', 'max_pool_s8', maxPoolOracle],
  ['simd', 'max_pool_s8_simd', maxPoolOracle],
];

function randomActivation(rng: Rng): [number, number] {
  switch (rng.int(0, 3)) {
    case 0: return [-128, 127];
    case 1: { const lo = rng.int(-128, 127); return [lo, 127]; } // relu with some zero point
    case 2: { const lo = rng.int(-128, 0); return [lo, rng.int(lo, 127)]; } // relu6
    default: return [-128, rng.int(-128, 127)];
  }
}

function randomGeometry(rng: Rng): PoolGeometry {
  const channels = rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
  const inH = rng.pick([1, 2, 3, 5, 7, rng.int(1, 12)]);
  const inW = rng.pick([1, 2, 4, 6, 9, rng.int(1, 12)]);
  const filterH = rng.int(1, Math.min(inH + 1, 5));
  const filterW = rng.int(1, Math.min(inW + 1, 5));
  const padding = filterH > inH || filterW > inW || rng.next() < 0.5 ? 'same' : 'valid';
  const [actMin, actMax] = randomActivation(rng);
  return poolGeometry(inH, inW, channels, filterH, filterW, rng.int(1, 3), rng.int(1, 3), padding, actMin, actMax);
}

function runWindowed(ws: Workspace, fn: string, input: Int8Array, g: PoolGeometry): Int8Array {
  ws.reset();
  const pin = ws.i8(input), pout = ws.alloc(g.outH * g.outW * g.channels);
  ws.k[fn](pin, g.inH, g.inW, g.channels, pout, g.outH, g.outW, g.filterH, g.filterW, g.strideH, g.strideW, g.padTop, g.padLeft, g.actMin, g.actMax);
  return ws.readI8(pout, g.outH * g.outW * g.channels);
}

describe.each(WINDOWED)('%s %s', (build, fn, oracle) => {
  const ws = new Workspace(loadKernels(build), 1 << 20);

  it(`matches the oracle on ${CASES} seeded random shapes (SAME/VALID, strides 1-3)`, () => {
    const rng = new Rng(0x9001);
    for (let t = 0; t < CASES; t++) {
      const g = randomGeometry(rng);
      const input = rng.next() < 0.1 ? new Int8Array(g.inH * g.inW * g.channels).fill(rng.pick([-128, 127])) : rng.int8Array(g.inH * g.inW * g.channels);
      const diff = firstMismatch(`${fn} case ${t}`, runWindowed(ws, fn, input, g), oracle(input, g), { g, input: [...input] });
      expect(diff, diff).toBe('');
    }
  });

  it('handles partial windows: 3x3 stride 2 SAME on odd sizes, every edge channel count', () => {
    const rng = new Rng(0x5a3e);
    for (const channels of EDGE_CHANNELS) {
      for (const [inH, inW] of [[1, 1], [5, 7], [7, 5], [9, 9]]) {
        const g = poolGeometry(inH, inW, channels, 3, 3, 2, 2, 'same');
        const input = rng.int8Array(inH * inW * channels);
        const diff = firstMismatch(fn, runWindowed(ws, fn, input, g), oracle(input, g), g);
        expect(diff, diff).toBe('');
      }
    }
  });

  it('stays exact at the int16 accumulation limit (16x16 window of -128 and of 127) and above it', () => {
    for (const value of [-128, 127]) {
      for (const k of [16, 17]) {
        const g = poolGeometry(k, k, 17, k, k, 1, 1, 'valid');
        const input = new Int8Array(k * k * 17).fill(value);
        input[5] = value === -128 ? -127 : 126; // breaks the tie so rounding matters
        const diff = firstMismatch(fn, runWindowed(ws, fn, input, g), oracle(input, g), { g, value });
        expect(diff, diff).toBe('');
      }
    }
  });
});
