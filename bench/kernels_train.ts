// Benchmarks of the training kernels on the reference CNN's layers (28x28x1: conv3x3 s2 8 ->
// dw3x3 -> pw16 -> dw3x3 s2 -> pw32 -> GAP -> fc10): input-gradient and fused weight-update
// times, scalar kernel on both builds vs the SIMD kernel, plus masks and the loss.
// Prints one JSON object per result: {"what","build","shape","median","min","max","unit"}.
// Usage: npx tsx bench/kernels_train.ts
import { pathToFileURL } from 'node:url';
import { loadTrainKernels, Workspace, type KernelBuild } from '../test/helpers/train_kernels.js';
import { Rng } from '../test/helpers/rng.js';
import { measure, type BenchResult } from './kernels_misc.js';

const ROUND_STOCHASTIC = 0;

/** Microseconds per call (median, min, max over samples). */
const measureUs = (call: () => void) => measure(call, 1, 'us');

interface Case {
  what: string;
  shape: string;
  /** The scalar kernel's name; `<name>_simd` is measured too when the simd build has it. */
  kernel: string;
  setup(ws: Workspace, rng: Rng): (fn: (...args: number[]) => number) => void;
}

const f32s = (ws: Workspace, rng: Rng, n: number) => ws.f32(Float32Array.from({ length: n }, () => rng.normal()));
const scales = (ws: Workspace, rng: Rng, n: number) => ws.f32(Float32Array.from({ length: n }, () => rng.uniform(0.005, 0.05)));
const allChannels = (ws: Workspace, n: number) => ws.i32(Array.from({ length: n }, (_, i) => i));

/** conv2d (3x3, SAME) input gradient and update; the reference CNN's first layer. */
function convCases(h: number, inC: number, outC: number, stride: number): Case[] {
  const out = Math.ceil(h / stride), pad = Math.floor(Math.max((out - 1) * stride + 3 - h, 0) / 2);
  const shape = `${h}x${h}x${inC} -> ${out}x${out}x${outC}`;
  return [
    {
      what: `conv3x3 s${stride} backward-input`, shape, kernel: 'conv2d_backward_input_f32',
      setup(ws, rng) {
        const dy = f32s(ws, rng, out * out * outC), w = ws.i8(rng.int8Array(outC * 9 * inC, -127, 127)), s = scales(ws, rng, outC), dx = ws.alloc(h * h * inC * 4);
        return (fn) => fn(dy, out, out, outC, w, 3, 3, s, dx, h, h, inC, stride, stride, pad, pad);
      },
    },
    {
      what: `conv3x3 s${stride} weight+bias update (all channels)`, shape, kernel: 'conv2d_update_s8',
      setup(ws, rng) {
        const x = ws.i8(rng.int8Array(h * h * inC)), dy = f32s(ws, rng, out * out * outC), w = ws.i8(rng.int8Array(outC * 9 * inC, -127, 127));
        const s = scales(ws, rng, outC), b = ws.i32(new Int32Array(outC)), ch = allChannels(ws, outC);
        return (fn) => fn(x, h, h, inC, -128, 0.02, dy, out, out, outC, w, 3, 3, s, b, stride, stride, pad, pad, ch, outC, 1e-4, 1e-4, 0, 0, 0, ROUND_STOCHASTIC);
      },
    },
  ];
}

function depthwiseCases(h: number, c: number, stride: number): Case[] {
  const out = Math.ceil(h / stride), pad = Math.floor(Math.max((out - 1) * stride + 3 - h, 0) / 2);
  const shape = `${h}x${h}x${c} s${stride}`;
  return [
    {
      what: `dw3x3 s${stride} backward-input`, shape, kernel: 'depthwise_conv2d_backward_input_f32',
      setup(ws, rng) {
        const dy = f32s(ws, rng, out * out * c), w = ws.i8(rng.int8Array(9 * c, -127, 127)), s = scales(ws, rng, c), dx = ws.alloc(h * h * c * 4);
        return (fn) => fn(dy, out, out, c, w, 3, 3, s, dx, h, h, stride, stride, pad, pad);
      },
    },
    {
      what: `dw3x3 s${stride} weight+bias update (all channels)`, shape, kernel: 'depthwise_conv2d_update_s8',
      setup(ws, rng) {
        const x = ws.i8(rng.int8Array(h * h * c)), dy = f32s(ws, rng, out * out * c), w = ws.i8(rng.int8Array(9 * c, -127, 127));
        const s = scales(ws, rng, c), b = ws.i32(new Int32Array(c)), ch = allChannels(ws, c);
        return (fn) => fn(x, h, h, c, -128, 0.02, dy, out, out, w, 3, 3, s, b, stride, stride, pad, pad, ch, c, 1e-4, 1e-4, 0, 0, 0, ROUND_STOCHASTIC);
      },
    },
  ];
}

/** Pointwise (rows = pixels) or fully connected (rows = 1): one kernel pair. */
function matmulCases(name: string, rows: number, inC: number, outC: number): Case[] {
  const shape = `${rows}x${inC} -> ${rows}x${outC}`;
  return [
    {
      what: `${name} backward-input`, shape, kernel: 'fully_connected_backward_input_f32',
      setup(ws, rng) {
        const dy = f32s(ws, rng, rows * outC), w = ws.i8(rng.int8Array(outC * inC, -127, 127)), s = scales(ws, rng, outC), dx = ws.alloc(rows * inC * 4);
        return (fn) => fn(dy, rows, outC, w, inC, s, dx);
      },
    },
    {
      what: `${name} weight+bias update (all channels)`, shape, kernel: 'fully_connected_update_s8',
      setup(ws, rng) {
        const x = ws.i8(rng.int8Array(rows * inC)), dy = f32s(ws, rng, rows * outC), w = ws.i8(rng.int8Array(outC * inC, -127, 127));
        const s = scales(ws, rng, outC), b = ws.i32(new Int32Array(outC)), ch = allChannels(ws, outC);
        return (fn) => fn(x, rows, inC, -128, 0.02, dy, outC, w, s, b, ch, outC, 1e-4, 1e-4, 0, 0, 0, ROUND_STOCHASTIC);
      },
    },
  ];
}

function cases(): Case[] {
  const n = 14 * 14 * 16;
  return [
    ...convCases(28, 1, 8, 2),
    ...depthwiseCases(14, 8, 1),
    ...matmulCases('pw 8->16', 196, 8, 16),
    ...depthwiseCases(14, 16, 2),
    ...matmulCases('pw 16->32', 49, 16, 32),
    {
      what: 'gap backward', shape: '7x7x32', kernel: 'global_avg_pool_backward_f32',
      setup(ws, rng) {
        const dy = f32s(ws, rng, 32), dx = ws.alloc(49 * 32 * 4);
        return (fn) => fn(dy, 7, 7, 32, dx);
      },
    },
    ...matmulCases('fc 32->10', 1, 32, 10),
    {
      what: 'relu mask (forward side)', shape: `${n}`, kernel: 'relu_mask_s8',
      setup(ws, rng) {
        const y = ws.i8(rng.int8Array(n)), mask = ws.alloc(n / 8);
        return (fn) => fn(y, n, -128, 127, mask);
      },
    },
    {
      what: 'apply mask', shape: `${n}`, kernel: 'apply_mask_f32',
      setup(ws, rng) {
        const g = f32s(ws, rng, n), mask = ws.i8(rng.int8Array(n / 8));
        return (fn) => fn(g, n, mask);
      },
    },
    {
      what: 'softmax cross-entropy', shape: '10', kernel: 'softmax_cross_entropy_s8',
      setup(ws, rng) {
        const z = ws.i8(rng.int8Array(10)), g = ws.alloc(40);
        return (fn) => fn(z, 10, 0.1, 3, g);
      },
    },
  ];
}

/** Runs every case on the scalar kernel (both builds) and the SIMD kernel when there is one. */
export function benchTrainKernels(print = false): BenchResult[] {
  const results: BenchResult[] = [];
  const workspaces = new Map<KernelBuild, Workspace>();
  const workspace = (build: KernelBuild) => {
    let ws = workspaces.get(build);
    if (!ws) workspaces.set(build, (ws = new Workspace(loadTrainKernels(build), 1 << 20)));
    ws.reset();
    return ws;
  };
  for (const c of cases()) {
    const variants: [KernelBuild, string][] = [['mvp', c.kernel], ['simd', c.kernel]];
    if (typeof loadTrainKernels('simd')[`${c.kernel}_simd`] === 'function') variants.push(['simd', `${c.kernel}_simd`]);
    for (const [build, name] of variants) {
      const k = loadTrainKernels(build);
      k.prng_seed(1);
      const invoke = c.setup(workspace(build), new Rng(1));
      const kernel = k[name] as (...args: number[]) => number;
      const r: BenchResult = { what: c.what, build: name.endsWith('_simd') ? `${build}/simd-kernel` : `${build}/scalar-kernel`, shape: c.shape, ...measureUs(() => invoke(kernel)), unit: 'us' };
      results.push(r);
      if (print) console.log(JSON.stringify(r));
    }
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) benchTrainKernels(true);
