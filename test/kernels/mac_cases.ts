// Seeded case generation and device invocation shared by the int8 multiply-accumulate kernel
// tests (conv2d, depthwise, pointwise, fully connected). Every case is a plain object so a
// failure message can print it and the seed reproduces it.
import { Rng } from '../helpers/rng.js';
import { Workspace, type KernelExports } from '../helpers/kernels.js';
import type { OutputStage } from '../oracle/conv.js';

export const EDGE_CHANNELS = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64] as const;
const Q31_CORNERS = [1 << 30, 2147483647, 0];

/** Operands of one layer's output stage, in the int32 layout the kernels read. */
export function randomStage(rng: Rng, channels: number, reduction: number): OutputStage {
  const outZp = rng.next() < 0.2 ? rng.pick([-128, 127]) : rng.int(-100, 100);
  const ranges: Array<[number, number]> = [
    [-128, 127],
    [-128, 127],
    [outZp, 127], // relu
    [outZp, Math.min(127, outZp + rng.int(0, 60))], // relu6-like
    [rng.int(-128, 0), rng.int(0, 127)],
  ];
  const [actMin, actMax] = rng.pick(ranges);
  // |acc| is typically sqrt(reduction) * 73 * 150; aim the output at +-32 for most channels.
  const typicalLog2 = Math.log2(Math.sqrt(reduction) * 73 * 150 * 0.75 / 32);
  const requant = new Int32Array(2 * channels);
  for (let c = 0; c < channels; c++) {
    const corner = rng.next() < 0.15;
    requant[2 * c] = corner ? rng.pick(Q31_CORNERS) : rng.int(1 << 30, 2147483647);
    requant[2 * c + 1] = rng.next() < 0.1 ? rng.int(-31, 8) : Math.max(-31, Math.min(8, -Math.round(typicalLog2) + rng.int(-1, 1)));
  }
  let bias: Int32Array | null = null;
  const biasKind = rng.int(0, 3);
  if (biasKind > 0) {
    bias = new Int32Array(channels);
    for (let c = 0; c < channels; c++) {
      bias[c] = biasKind === 3 && rng.next() < 0.3
        ? rng.pick([-2147483648, 2147483647, -2147483647, 2147483600])
        : rng.int(-40000, 40000);
    }
  }
  return { bias, requant, outZp, actMin, actMax };
}

/** Zero point corners first, then random. */
export function randomZeroPoint(rng: Rng): number {
  return rng.pick([-128, 127, 0, rng.int(-128, 127)]);
}

/** Weights in [-127, 127] with extra mass on the corners. */
export function randomWeights(rng: Rng, n: number): Int8Array {
  const w = new Int8Array(n);
  const cornerRate = rng.pick([0, 0.1, 1]);
  for (let i = 0; i < n; i++) w[i] = rng.next() < cornerRate ? rng.pick([-127, 127]) : rng.int(-127, 127);
  return w;
}

/** Input activations: uniform, or all at one corner (extreme accumulators). */
export function randomActivations(rng: Rng, n: number): Int8Array {
  const kind = rng.int(0, 5);
  if (kind === 0) return new Int8Array(n).fill(rng.pick([-128, 127]));
  return rng.int8Array(n);
}

const GUARD = 16;
const GUARD_BYTE = 0x5a;

/** Places the output stage operands; returns [biasPtr (0 = none), requantPtr]. */
export function placeStage(ws: Workspace, s: OutputStage): [number, number] {
  return [s.bias ? ws.i32(s.bias) : 0, ws.i32(s.requant)];
}

/** An output region followed by guard bytes that must survive the call. */
export function placeOutput(ws: Workspace, n: number): number {
  const p = ws.alloc(n + GUARD);
  new Uint8Array(ws.k.memory.buffer, p, n + GUARD).fill(GUARD_BYTE);
  return p;
}

/** Reads the output; throws if the kernel wrote past its end. */
export function readOutput(ws: Workspace, p: number, n: number): Int8Array {
  const tail = new Uint8Array(ws.k.memory.buffer, p + n, GUARD);
  if (tail.some((b) => b !== GUARD_BYTE)) throw new Error(`kernel wrote past the end of its ${n}-byte output`);
  return ws.readI8(p, n);
}

/** First index where two outputs differ, with both values, or null when equal. */
export function firstMismatch(expected: Int8Array, actual: Int8Array): string | null {
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== actual[i]) return `index ${i}: expected ${expected[i]}, got ${actual[i]}`;
  }
  return null;
}

/** Short printable form of a case (arrays summarised, scalars kept). */
export function describe(c: object): string {
  return JSON.stringify(c, (_k, v) => (ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as Int8Array).length})` : v));
}

export type Variant = { build: 'mvp' | 'simd'; name: string };

/** The scalar kernel on both builds and the SIMD kernel on the simd build. */
export function variantsOf(scalar: string): Variant[] {
  return [
    { build: 'mvp', name: scalar },
    { build: 'simd', name: scalar },
    { build: 'simd', name: `${scalar}_simd` },
  ];
}

export type { KernelExports };
