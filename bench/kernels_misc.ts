// Benchmarks of the int8 elementwise, pooling, softmax and (de)quantize kernels, scalar vs SIMD.
// Prints one JSON object per result: {"what","build","shape","median","min","max","unit"}.
// Usage: npx tsx bench/kernels_misc.ts
import { pathToFileURL } from 'node:url';
import { Workspace, loadKernels, type KernelBuild } from '../test/helpers/kernels.js';
import { Rng } from '../test/helpers/rng.js';
import { addParams, softmaxParams } from '../src/compiler/quant_math.js';
import type { BenchLine } from '../targets/node/bench_model.js';

/** A benchmark line (what, build, shape, median, min, max, unit) with this file's build and units. */
export interface BenchResult extends BenchLine {
  build: string;
  unit: 'Melem/s' | 'us';
}

const SAMPLES = 9;
const TARGET_MS = 15; // per sample: enough calls to dwarf timer resolution

/** Times `call` and reports millions of `elements` per second (or microseconds per call). */
export function measure(call: () => void, elements: number, unit: BenchResult['unit']): Pick<BenchResult, 'median' | 'min' | 'max'> {
  call(); // warm-up (and tier-up)
  let reps = 1;
  for (let t0 = performance.now(); performance.now() - t0 < TARGET_MS / 4; reps *= 2) for (let i = 0; i < reps; i++) call();
  const values: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    const usPerCall = ((performance.now() - t0) * 1000) / reps;
    values.push(unit === 'us' ? usPerCall : elements / usPerCall);
  }
  values.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { median: round(values[SAMPLES >> 1]), min: round(values[0]), max: round(values[SAMPLES - 1]) };
}

interface Case {
  what: string;
  shape: string;
  elements: number;
  unit: BenchResult['unit'];
  /** Variant names by build; the same setup serves each. */
  variants: [KernelBuild, string][];
  setup(ws: Workspace, rng: Rng): (fn: (...args: number[]) => void) => void;
}

function poolCase(kind: 'avg' | 'max', h: number, w: number, c: number): Case {
  const outH = Math.ceil(h / 2), outW = Math.ceil(w / 2);
  const name = `${kind}_pool_s8`;
  return {
    what: `${kind}_pool 3x3 s2 same`, shape: `${h}x${w}x${c}`, elements: outH * outW * c * 9, unit: 'Melem/s',
    variants: [['mvp', name], ['simd', name], ['simd', `${name}_simd`]],
    setup(ws, rng) {
      const input = ws.i8(rng.int8Array(h * w * c)), out = ws.alloc(outH * outW * c);
      return (fn) => fn(input, h, w, c, out, outH, outW, 3, 3, 2, 2, 0, 0, -128, 127);
    },
  };
}

function cases(): Case[] {
  const add = addParams(0.05, 0.08, 0.1);
  const sm = softmaxParams(1, 0.1);
  return [
    ...[1024, 16384].map((n): Case => ({
      what: 'add', shape: `${n}`, elements: n, unit: 'Melem/s',
      variants: [['mvp', 'add_s8'], ['simd', 'add_s8'], ['simd', 'add_s8_simd']],
      setup(ws, rng) {
        const a = ws.i8(rng.int8Array(n)), b = ws.i8(rng.int8Array(n)), out = ws.alloc(n);
        return (fn) => fn(a, 3, b, -7, out, 1, n, add.leftShift, add.aMultiplier, add.aShift, add.bMultiplier, add.bShift, add.outMultiplier, add.outShift, -128, 127);
      },
    })),
    poolCase('avg', 32, 32, 16), poolCase('avg', 16, 16, 64), poolCase('avg', 32, 32, 3),
    poolCase('max', 32, 32, 16), poolCase('max', 16, 16, 64), poolCase('max', 32, 32, 3),
    ...[[7, 7, 256], [14, 14, 64], [28, 28, 8]].map(([h, w, c]): Case => ({
      what: 'global_avg_pool', shape: `${h}x${w}x${c}`, elements: h * w * c, unit: 'Melem/s',
      variants: [['mvp', 'global_avg_pool_s8'], ['simd', 'global_avg_pool_s8'], ['simd', 'global_avg_pool_s8_simd']],
      setup(ws, rng) {
        const input = ws.i8(rng.int8Array(h * w * c)), out = ws.alloc(c);
        return (fn) => fn(input, h, w, c, out, -128, 127);
      },
    })),
    ...[10, 1000].map((d): Case => ({
      what: 'softmax', shape: `1x${d}`, elements: d, unit: 'us',
      variants: [['mvp', 'softmax_s8'], ['simd', 'softmax_s8']],
      setup(ws, rng) {
        const input = ws.i8(rng.int8Array(d)), out = ws.alloc(d);
        return (fn) => fn(input, 1, d, sm.inputMultiplier, sm.inputLeftShift, sm.diffMin, out);
      },
    })),
    {
      what: 'quantize', shape: '784', elements: 784, unit: 'Melem/s', variants: [['mvp', 'quantize_f32_s8'], ['simd', 'quantize_f32_s8'], ['simd', 'quantize_f32_s8_simd']],
      setup(ws, rng) {
        const input = ws.f32(Float32Array.from({ length: 784 }, () => rng.next())), out = ws.alloc(784);
        return (fn) => fn(input, 784, 1 / 255, -128, out);
      },
    },
    {
      what: 'dequantize', shape: '784', elements: 784, unit: 'Melem/s', variants: [['mvp', 'dequantize_s8_f32'], ['simd', 'dequantize_s8_f32']],
      setup(ws, rng) {
        const input = ws.i8(rng.int8Array(784)), out = ws.alloc(784 * 4);
        return (fn) => fn(input, 784, 1 / 255, -128, out);
      },
    },
  ];
}

/** Runs every case on every variant; returns the results (and prints them if `print`). */
export function benchMiscKernels(print = false): BenchResult[] {
  const results: BenchResult[] = [];
  const workspaces = new Map<KernelBuild, Workspace>();
  const workspace = (build: KernelBuild) => {
    let ws = workspaces.get(build);
    if (!ws) workspaces.set(build, (ws = new Workspace(loadKernels(build), 4 << 20)));
    return ws;
  };
  for (const c of cases()) {
    for (const [build, fn] of c.variants) {
      const ws = workspace(build);
      ws.reset();
      const invoke = c.setup(ws, new Rng(1));
      const kernel = ws.k[fn] as (...args: number[]) => void;
      const stats = measure(() => invoke(kernel), c.elements, c.unit);
      const r: BenchResult = { what: c.what, build: fn.endsWith('_simd') ? `${build}/simd-kernel` : `${build}/scalar-kernel`, shape: c.shape, ...stats, unit: c.unit };
      results.push(r);
      if (print) console.log(JSON.stringify(r));
    }
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) benchMiscKernels(true);
