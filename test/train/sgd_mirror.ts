// A TypeScript mirror of the device's fused gradient + SGD update kernels (QAS on or off), operation for
// operation in f32 (Math.fround after every step) and with the device PRNG's draws in the
// same order, so the kernels can be checked bit for bit. The formulas are the ones documented
// in src/train/kernels/sgd_step.ts and docs/training-math.md.
import { Random } from '../../src/host/random.js';
import type { WindowGeometry } from '../../src/compiler/fp32/window.js';

const f = Math.fround;
/** Bits of the kernels' `flags` argument (sgd_step.ts); 0 = stochastic rounding with QAS. */
export const UPDATE_NEAREST = 1;
export const UPDATE_NO_QAS = 2;
export const UPDATE_CARRY = 4;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The device PRNG (mulberry32, as src/train/kernels/prng.ts): the host's Random, 32 bits a draw. */
export class DevicePrng {
  private readonly random: Random;
  constructor(seed: number) {
    this.random = new Random(seed);
  }
  nextU32(): number {
    return this.random.next() * 4294967296;
  }
  uniform(): number {
    return f((this.nextU32() >>> 8) * 2 ** -24);
  }
}

/** f32.nearest: round to the nearest integer, ties to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface SgdSettings {
  lrW: number;
  lrB: number;
  momentum: number;
  flags: number;
}

/** The f32 factor from a real gradient to a step in quanta: 1 / scale (QAS) or scale (no QAS). */
export function gradScaleOf(scale: number, flags: number): number {
  return flags & UPDATE_NO_QAS ? f(scale) : f(1 / f(scale));
}

/**
 * State of one kernel call, list order, as on the device, or null (none): momentum f32, or with
 * UPDATE_CARRY the weights' int8 carry fractions (biases then have none).
 */
export interface MomentumState {
  weights: Float32Array | Int8Array | null;
  biases: Float32Array | null;
}

/**
 * Carry rounding (sgd_step.ts), in plain integers: the master value t = q * 256 + f moves by
 * the step rounded to 1/256 quanta (ties to even), clamped to [-127.5, 127.5) quanta; q is its
 * nearest quantum (ties up), f the rest. Returns the new q; writes f.
 */
export function carryStep(q: number, step: number, fractions: Int8Array, at: number): number {
  const fine = roundHalfEven(f(Math.min(Math.max(step, -1024), 1024) * 256));
  const t = Math.min(Math.max(q * 256 + fractions[at] - fine, -127 * 256 - 128), 127 * 256 + 127);
  const w = Math.floor((t + 128) / 256);
  fractions[at] = t - w * 256;
  return w;
}

/**
 * One parameter's update (sgd_step.ts): returns the new quantized value, or null when the
 * step is not finite (value and state untouched). The PRNG draw happens first in stochastic mode.
 */
export function stepParameter(
  q: number, gradReal: number, gradScale: number, lr: number, momentum: number,
  state: Float32Array | null, at: number, flags: number, prng: DevicePrng, lo: number, hi: number, stepLimit: number,
): number | null {
  const nearest = (flags & UPDATE_NEAREST) !== 0;
  const u = nearest ? 0 : prng.uniform();
  // lr and momentum reach the kernel as f32 arguments
  let g = f(gradReal * gradScale);
  if (state) g = f(f(f(momentum) * state[at]) + g);
  const step = f(f(lr) * g);
  if (!Number.isFinite(step)) return null;
  if (state) state[at] = g;
  let r: number;
  if (nearest) r = roundHalfEven(step);
  else {
    const down = Math.floor(step);
    r = u < f(step - down) ? down + 1 : down;
  }
  r = Math.min(Math.max(r, -stepLimit), stepLimit);
  return Math.min(Math.max(q - r, lo), hi);
}

export function stepWeight(q: number, grad: number, gradScale: number, s: SgdSettings, state: Float32Array | Int8Array | null, at: number, prng: DevicePrng): number | null {
  if (!(s.flags & UPDATE_CARRY)) return stepParameter(q, grad, gradScale, s.lrW, s.momentum, state as Float32Array | null, at, s.flags, prng, -127, 127, 1024);
  const step = f(f(s.lrW) * f(grad * gradScale)); // no momentum, no draw
  return Number.isFinite(step) ? carryStep(q, step, state as Int8Array, at) : null;
}
export const stepBias = (q: number, grad: number, gradScale: number, s: SgdSettings, state: Float32Array | null, at: number, prng: DevicePrng) =>
  stepParameter(q, grad, gradScale, s.lrB, s.momentum, state, at, s.flags, prng, INT32_MIN, INT32_MAX, 4294967296);

/** Operands of a conv2d-shaped update: fully connected is a 1x1 window over rows x 1 pixels. */
export interface UpdateOperands {
  x: Int8Array;
  inZp: number;
  inScale: number;
  dY: Float32Array;
  g: WindowGeometry;
  outC: number;
  scales: Float32Array;
}

/** dW of conv2d weight (c, ky, kx, ic) as the kernel sums it (output pixels row-major, f32). */
export function conv2dWeightGrad(o: UpdateOperands, c: number, ky: number, kx: number, ic: number): number {
  const { g } = o;
  let acc = 0;
  for (let oy = 0; oy < g.outH; oy++) {
    const iy = oy * g.strideH - g.padTop + ky;
    if (iy < 0 || iy >= g.inH) continue;
    for (let ox = 0; ox < g.outW; ox++) {
      const ix = ox * g.strideW - g.padLeft + kx;
      if (ix < 0 || ix >= g.inW) continue;
      const dy = o.dY[(oy * g.outW + ox) * o.outC + c];
      acc = f(acc + f(dy * (o.x[(iy * g.inW + ix) * g.inC + ic] - o.inZp)));
    }
  }
  return f(acc * f(o.inScale));
}

/** dW of depthwise weight (ky, kx) of channel c (outC = channels). */
export function depthwiseWeightGrad(o: UpdateOperands, c: number, ky: number, kx: number): number {
  const { g } = o;
  let acc = 0;
  for (let oy = 0; oy < g.outH; oy++) {
    const iy = oy * g.strideH - g.padTop + ky;
    if (iy < 0 || iy >= g.inH) continue;
    for (let ox = 0; ox < g.outW; ox++) {
      const ix = ox * g.strideW - g.padLeft + kx;
      if (ix < 0 || ix >= g.inW) continue;
      acc = f(acc + f(o.dY[(oy * g.outW + ox) * o.outC + c] * (o.x[(iy * g.inW + ix) * o.outC + c] - o.inZp)));
    }
  }
  return f(acc * f(o.inScale));
}

/** db[c]: sum over output pixels, ascending, in f32. */
export function biasGrad(o: UpdateOperands, c: number): number {
  let acc = 0;
  for (let p = 0; p < o.g.outH * o.g.outW; p++) acc = f(acc + o.dY[p * o.outC + c]);
  return acc;
}

/**
 * The update kernels' loop: for each listed channel, its weights in filter order, then its
 * bias. `weightIndex(c, k)` is the filter offset of the channel's k-th weight (of `perChannel`)
 * and `grad(c, k)` its gradient. Mutates filter, bias and state; returns false when some step
 * was not finite.
 */
export function updateMirror(
  o: UpdateOperands, filter: Int8Array, bias: Int32Array | null, channels: readonly number[], s: SgdSettings,
  state: MomentumState, prng: DevicePrng, perChannel: number,
  weightIndex: (c: number, k: number) => number, grad: (c: number, k: number) => number,
): boolean {
  let finite = true;
  channels.forEach((c, n) => {
    const weightScale = gradScaleOf(o.scales[c], s.flags);
    for (let k = 0; k < perChannel; k++) {
      const at = weightIndex(c, k);
      const q = stepWeight(filter[at], grad(c, k), weightScale, s, state.weights, n * perChannel + k, prng);
      if (q === null) finite = false;
      else filter[at] = q;
    }
    if (bias) {
      const q = stepBias(bias[c], biasGrad(o, c), gradScaleOf(f(f(o.inScale) * o.scales[c]), s.flags), s, state.biases, n, prng);
      if (q === null) finite = false;
      else bias[c] = q;
    }
  });
  return finite;
}

export function conv2dUpdateMirror(o: UpdateOperands, filter: Int8Array, bias: Int32Array | null, channels: readonly number[], s: SgdSettings, state: MomentumState, prng: DevicePrng): boolean {
  const { kH, kW, inC } = o.g;
  const size = kH * kW * inC;
  const grad = (c: number, k: number) => conv2dWeightGrad(o, c, Math.floor(k / (kW * inC)), Math.floor(k / inC) % kW, k % inC);
  return updateMirror(o, filter, bias, channels, s, state, prng, size, (c, k) => c * size + k, grad);
}

export function depthwiseUpdateMirror(o: UpdateOperands, filter: Int8Array, bias: Int32Array | null, channels: readonly number[], s: SgdSettings, state: MomentumState, prng: DevicePrng): boolean {
  const { kH, kW } = o.g;
  const grad = (c: number, t: number) => depthwiseWeightGrad(o, c, Math.floor(t / kW), t % kW);
  return updateMirror(o, filter, bias, channels, s, state, prng, kH * kW, (c, t) => t * o.outC + c, grad);
}
