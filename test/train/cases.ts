// Seeded shapes, data and checks shared by the training-kernel tests.
import { expect } from 'vitest';
import { windowGeometry, type WindowGeometry } from '../../src/compiler/fp32/window.js';
import type { Padding } from '../../src/formats/qmodel.js';
import { Rng } from '../helpers/rng.js';

/** Channel counts around the SIMD kernels' 4-lane (f32) and 16-lane (int8) widths. */
export const EDGE_CHANNELS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];

export interface WindowCase {
  g: WindowGeometry;
  padding: Padding;
  /** Output channels (conv2d); depthwise and pools use g.inC. */
  outC: number;
}

/** The reference CNN's window layers: [inHW, inC, outC, kernel, stride] (conv, dw, dw s2). */
const REFERENCE_LAYERS: Array<[number, number, number, number, number]> = [[28, 1, 8, 3, 2], [14, 8, 8, 3, 1], [14, 16, 16, 3, 2]];

/**
 * A random sliding-window shape (kernel 1..5, stride 1..3, SAME or VALID, odd sizes, channels
 * at vector edges) with at most `maxWork` output-by-tap products; the first cases are the
 * reference CNN's layers.
 */
export function randomWindow(rng: Rng, index: number, maxWork = 40_000): WindowCase {
  for (;;) {
    let inC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 24);
    let outC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 24);
    let kH = rng.int(1, 5);
    let kW = rng.next() < 0.6 ? kH : rng.int(1, 5);
    let sH = rng.pick([1, 1, 2, 2, 3]);
    let sW = rng.next() < 0.8 ? sH : rng.int(1, 3);
    let inH = rng.pick([1, 2, 3, 5, 7, 8, 9, 11, 13]);
    let inW = rng.next() < 0.6 ? inH : rng.pick([1, 3, 4, 6, 9, 13]);
    let padding: Padding = rng.next() < 0.5 ? 'same' : 'valid';
    if (index < REFERENCE_LAYERS.length) {
      [inH, inC, outC, kH, sH] = REFERENCE_LAYERS[index];
      [inW, kW, sW, padding] = [inH, kH, sH, 'same'];
    }
    if (inH < kH || inW < kW) padding = 'same';
    const g = windowGeometry([inH, inW, inC], 1, [kH, kW], [sH, sW], padding);
    if (g.outH * g.outW * kH * kW * Math.max(inC, outC) * outC <= maxWork || index < REFERENCE_LAYERS.length) return { g, padding, outC };
  }
}

export function describeWindow({ g, padding, outC }: WindowCase): string {
  return `in ${g.inH}x${g.inW}x${g.inC} -> out ${g.outH}x${g.outW}x${outC}, kernel ${g.kH}x${g.kW}, stride ${g.strideH}x${g.strideW}, ${padding} (pad ${g.padTop},${g.padLeft})`;
}

export function normalArray(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/** int8 weights in [-127, 127] (the weight range) and one scale per output channel. */
export function randomWeights(rng: Rng, n: number): Int8Array {
  return rng.int8Array(n, -127, 127);
}
export function randomScales(rng: Rng, n: number, lo = 0.002, hi = 0.05): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** s_w[c] * W_q for weights laid out with the channel at `channelOf(i)`. */
export function dequantize(q: Int8Array, scales: Float32Array, channelOf: (i: number) => number): Float32Array {
  return Float32Array.from(q, (v, i) => scales[channelOf(i)] * v);
}

export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Checks grad[i] against the central difference of L(x) = <dY, forward(x)> at `count`
 * seeded coordinates. `h` is the step (large for piecewise-linear ops: exact there). The
 * tolerance covers the f32 forward's rounding (relative to sum |dY * y|).
 */
export function expectFiniteDifferences(
  label: string, forward: (x: Float32Array) => Float32Array, x: Float32Array, dY: Float32Array, grad: Float32Array,
  rng: Rng, count: number, h: number,
): void {
  const loss = (p: Float32Array) => dot64(dY, forward(p));
  const y = forward(x);
  let magnitude = 0;
  for (let i = 0; i < y.length; i++) magnitude += Math.abs(dY[i] * y[i]);
  for (let n = 0; n < Math.min(count, x.length); n++) {
    const i = rng.int(0, x.length - 1);
    const plus = x.slice(), minus = x.slice();
    plus[i] += h;
    minus[i] -= h;
    const fd = (loss(plus) - loss(minus)) / (2 * h);
    const tol = 1e-4 * Math.abs(fd) + (4e-6 * (magnitude + 1)) / h;
    if (!(Math.abs(fd - grad[i]) <= tol)) {
      expect.fail(`${label}: d/dx[${i}] kernel ${grad[i]} vs central difference ${fd} (h ${h}, tol ${tol})`);
    }
  }
}

/**
 * actual[i] within rel * bound[i] + abs of expected[i], where bound[i] is the sum of |terms|
 * behind expected[i] (so the tolerance is the f32 rounding of that sum, whatever its order).
 */
export function expectWithinBound(label: string, actual: Float32Array, expected: Float32Array, bound: Float32Array, rel = 1e-5, abs = 1e-30): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const tol = rel * bound[i] + abs;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) expect.fail(`${label}: [${i}] kernel ${actual[i]} vs reference ${expected[i]} (tol ${tol})`);
  }
}

export const abs32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a, Math.abs);
