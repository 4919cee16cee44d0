// Input-gradient kernels (conv2d, depthwise, fully connected / 1x1, avg / max / global avg
// pool, add) against the host fp32 engine on the dequantized operands and against central
// finite differences of its forward pass; SIMD variants bit-identical to the scalar kernel.
import { describe as group, expect, it } from 'vitest';
import { conv2dBackward, conv2dForward } from '../../src/compiler/fp32/conv2d.js';
import { depthwiseBackward, depthwiseForward } from '../../src/compiler/fp32/depthwise_conv2d.js';
import { fullyConnectedBackward, fullyConnectedForward } from '../../src/compiler/fp32/fully_connected.js';
import { avgPoolOp } from '../../src/compiler/fp32/avg_pool.js';
import { maxPoolOp } from '../../src/compiler/fp32/max_pool.js';
import { globalAvgPoolOp } from '../../src/compiler/fp32/global_avg_pool.js';
import type { GlobalAvgPoolNode, PoolNode } from '../../src/compiler/graph.js';
import { Rng } from '../helpers/rng.js';
import { firstBitMismatch, loadTrainKernels, trainVariants, Workspace, type KernelBuild, type KernelExports } from '../helpers/train_kernels.js';
import {
  EDGE_CHANNELS, abs32, dequantize, describeWindow, expectFiniteDifferences, expectWithinBound, normalArray,
  randomScales, randomWeights, randomWindow,
} from './cases.js';

interface BackwardCase {
  label: string;
  /** Runs kernel `fn` and returns the gradient it wrote (for add: dA then dB). */
  run(k: KernelExports, ws: Workspace, fn: string): Float32Array;
  /** The fp32 engine's gradient and the sum of |terms| behind each element (tolerance). */
  reference: Float32Array;
  bound: Float32Array;
  /** The fp32 forward in real values, the point x for finite differences and its step. */
  forward(x: Float32Array): Float32Array;
  x: Float32Array;
  dY: Float32Array;
  h: number;
}

/** dL/dy with some exact zeros, as after a ReLU mask. */
function outputGrad(rng: Rng, n: number): Float32Array {
  return Float32Array.from(normalArray(rng, n), (v) => (rng.next() < 0.2 ? 0 : v));
}

/** Places `n` f32 of NaN: the kernel must overwrite every element. */
function poisoned(ws: Workspace, n: number): number {
  return ws.f32(new Float32Array(n).fill(NaN));
}

function conv2dCase(rng: Rng, index: number): BackwardCase {
  const w = randomWindow(rng, index);
  const { g, outC } = w;
  const filterSize = g.kH * g.kW * g.inC;
  const wq = randomWeights(rng, outC * filterSize), scales = randomScales(rng, outC);
  const wReal = dequantize(wq, scales, (i) => Math.floor(i / filterSize));
  const dY = outputGrad(rng, g.outH * g.outW * outC);
  const nIn = g.inH * g.inW * g.inC;
  const sink = () => [new Float32Array(wq.length), new Float32Array(outC)] as const;
  return {
    label: `conv2d ${describeWindow(w)}`,
    reference: conv2dBackward(g, new Float32Array(nIn), wReal, dY, outC, ...sink()),
    bound: conv2dBackward(g, new Float32Array(nIn), abs32(wReal), abs32(dY), outC, ...sink()),
    forward: (x) => conv2dForward(g, x, wReal, new Float32Array(outC), outC),
    x: normalArray(rng, nIn), dY, h: 1,
    run(k, ws, fn) {
      const dx = poisoned(ws, nIn);
      k[fn](ws.f32(dY), g.outH, g.outW, outC, ws.i8(wq), g.kH, g.kW, ws.f32(scales), dx, g.inH, g.inW, g.inC, g.strideH, g.strideW, g.padTop, g.padLeft);
      return ws.readF32(dx, nIn);
    },
  };
}

function depthwiseCase(rng: Rng, index: number): BackwardCase {
  const w = randomWindow(rng, index);
  const { g } = w;
  const C = g.inC;
  const wq = randomWeights(rng, g.kH * g.kW * C), scales = randomScales(rng, C);
  const wReal = dequantize(wq, scales, (i) => i % C);
  const dY = outputGrad(rng, g.outH * g.outW * C);
  const nIn = g.inH * g.inW * C;
  const sink = () => [new Float32Array(wq.length), new Float32Array(C)] as const;
  return {
    label: `depthwise ${describeWindow({ ...w, outC: C })}`,
    reference: depthwiseBackward(g, new Float32Array(nIn), wReal, dY, ...sink()),
    bound: depthwiseBackward(g, new Float32Array(nIn), abs32(wReal), abs32(dY), ...sink()),
    forward: (x) => depthwiseForward(g, x, wReal, new Float32Array(C)),
    x: normalArray(rng, nIn), dY, h: 1,
    run(k, ws, fn) {
      const dx = poisoned(ws, nIn);
      k[fn](ws.f32(dY), g.outH, g.outW, C, ws.i8(wq), g.kH, g.kW, ws.f32(scales), dx, g.inH, g.inW, g.strideH, g.strideW, g.padTop, g.padLeft);
      return ws.readF32(dx, nIn);
    },
  };
}

/** Fully connected (rows = 1) and 1x1 convolution (rows = pixels): the same kernel. */
function fullyConnectedCase(rng: Rng, index: number): BackwardCase {
  const rows = index % 2 === 0 ? 1 : rng.pick([2, 5, 9, 16, 25]);
  const inC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
  const outC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
  const wq = randomWeights(rng, outC * inC), scales = randomScales(rng, outC);
  const wReal = dequantize(wq, scales, (i) => Math.floor(i / inC));
  const dY = outputGrad(rng, rows * outC);
  const sink = () => [new Float32Array(wq.length), new Float32Array(outC)] as const;
  return {
    label: `fully_connected rows ${rows}, ${inC} -> ${outC}`,
    reference: fullyConnectedBackward(new Float32Array(rows * inC), wReal, dY, rows, inC, outC, ...sink()),
    bound: fullyConnectedBackward(new Float32Array(rows * inC), abs32(wReal), abs32(dY), rows, inC, outC, ...sink()),
    forward: (x) => fullyConnectedForward(x, wReal, new Float32Array(outC), rows, inC, outC),
    x: normalArray(rng, rows * inC), dY, h: 1,
    run(k, ws, fn) {
      const dx = poisoned(ws, rows * inC);
      k[fn](ws.f32(dY), rows, outC, ws.i8(wq), inC, ws.f32(scales), dx);
      return ws.readF32(dx, rows * inC);
    },
  };
}

function poolNode(kind: PoolNode['kind'], w: ReturnType<typeof randomWindow>): PoolNode {
  return { kind, name: kind, inputs: ['x'], shape: [w.g.outH, w.g.outW, w.g.inC], filter: [w.g.kH, w.g.kW], stride: [w.g.strideH, w.g.strideW], padding: w.padding };
}

function avgPoolCase(rng: Rng, index: number): BackwardCase {
  const w = randomWindow(rng, index + 3); // pools: no reference-layer shapes
  const { g } = w;
  const C = g.inC, nIn = g.inH * g.inW * C, shape = [g.inH, g.inW, C];
  const node = poolNode('avg_pool', w);
  const x = normalArray(rng, nIn), dY = outputGrad(rng, g.outH * g.outW * C);
  const y = avgPoolOp.forward(node, [x], [shape], 1);
  return {
    label: `avg_pool ${describeWindow({ ...w, outC: C })}`,
    reference: avgPoolOp.backward(node, [x], [shape], y, dY, 1, new Map())[0],
    bound: avgPoolOp.backward(node, [x], [shape], y, abs32(dY), 1, new Map())[0],
    forward: (p) => avgPoolOp.forward(node, [p], [shape], 1), x, dY, h: 1,
    run(k, ws, fn) {
      const dx = poisoned(ws, nIn);
      k[fn](ws.f32(dY), g.outH, g.outW, C, dx, g.inH, g.inW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft);
      return ws.readF32(dx, nIn);
    },
  };
}

/**
 * Max pool on a saved int8 input. `ties`: values from a 5-value range (many tied windows: the
 * engine's first-maximum rule decides); otherwise distinct values per channel, so that a step
 * of a quarter quantum never changes a window's winner and finite differences are exact.
 */
function maxPoolCase(rng: Rng, index: number, ties: boolean): BackwardCase {
  const w = randomWindow(rng, index + 3);
  const { g } = w;
  const C = g.inC, pixels = g.inH * g.inW, nIn = pixels * C, shape = [g.inH, g.inW, C];
  const q = new Int8Array(nIn);
  for (let c = 0; c < C; c++) {
    const distinct = rng.permutation(256);
    for (let p = 0; p < pixels; p++) q[p * C + c] = ties ? rng.int(-2, 2) : distinct[p] - 128;
  }
  const scale = 0.05, zp = rng.int(-20, 20);
  const x = Float32Array.from(q, (v) => scale * (v - zp));
  const node = poolNode('max_pool', w);
  const dY = outputGrad(rng, g.outH * g.outW * C);
  const y = maxPoolOp.forward(node, [x], [shape], 1);
  return {
    label: `max_pool${ties ? ' (ties)' : ''} ${describeWindow({ ...w, outC: C })}`,
    reference: maxPoolOp.backward(node, [x], [shape], y, dY, 1, new Map())[0],
    bound: maxPoolOp.backward(node, [x], [shape], y, abs32(dY), 1, new Map())[0],
    forward: (p) => maxPoolOp.forward(node, [p], [shape], 1), x, dY, h: ties ? 0 : scale / 4,
    run(k, ws, fn) {
      const dx = poisoned(ws, nIn);
      k[fn](ws.i8(q), g.inH, g.inW, C, ws.f32(dY), g.outH, g.outW, dx, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft);
      return ws.readF32(dx, nIn);
    },
  };
}

function globalAvgPoolCase(rng: Rng): BackwardCase {
  const H = rng.int(1, 14), W = rng.int(1, 14), C = rng.pick(EDGE_CHANNELS), shape = [H, W, C];
  const node: GlobalAvgPoolNode = { kind: 'global_avg_pool', name: 'gap', inputs: ['x'], shape: [1, 1, C] };
  const x = normalArray(rng, H * W * C), dY = outputGrad(rng, C);
  const y = globalAvgPoolOp.forward(node, [x], [shape], 1);
  return {
    label: `global_avg_pool ${H}x${W}x${C}`,
    reference: globalAvgPoolOp.backward(node, [x], [shape], y, dY, 1, new Map())[0],
    bound: globalAvgPoolOp.backward(node, [x], [shape], y, abs32(dY), 1, new Map())[0],
    forward: (p) => globalAvgPoolOp.forward(node, [p], [shape], 1), x, dY, h: 1,
    run(k, ws, fn) {
      const dx = poisoned(ws, H * W * C);
      k[fn](ws.f32(dY), H, W, C, dx);
      return ws.readF32(dx, H * W * C);
    },
  };
}

/** y = a + b with x = [a, b]: the gradient returned is [dA, dB]. */
function addCase(rng: Rng): BackwardCase {
  const n = rng.int(1, 300);
  const dY = outputGrad(rng, n);
  const both = new Float32Array(2 * n);
  both.set(dY);
  both.set(dY, n);
  return {
    label: `add ${n}`, reference: both, bound: abs32(both),
    forward: (x) => Float32Array.from({ length: n }, (_, i) => x[i] + x[n + i]),
    x: normalArray(rng, 2 * n), dY, h: 1,
    run(k, ws, fn) {
      const da = poisoned(ws, n), db = poisoned(ws, n);
      k[fn](ws.f32(dY), n, da, db);
      const out = new Float32Array(2 * n);
      out.set(ws.readF32(da, n));
      out.set(ws.readF32(db, n), n);
      return out;
    },
  };
}

const SEED = 0x7b4c;
const families: Array<{ kernel: string; count: number; make(rng: Rng, index: number): BackwardCase }> = [
  { kernel: 'conv2d_backward_input_f32', count: 60, make: conv2dCase },
  { kernel: 'depthwise_conv2d_backward_input_f32', count: 60, make: depthwiseCase },
  { kernel: 'fully_connected_backward_input_f32', count: 60, make: fullyConnectedCase },
  { kernel: 'avg_pool_backward_f32', count: 50, make: avgPoolCase },
  { kernel: 'max_pool_backward_f32', count: 50, make: (rng, i) => maxPoolCase(rng, i, i % 3 === 2) },
  { kernel: 'global_avg_pool_backward_f32', count: 30, make: globalAvgPoolCase },
  { kernel: 'add_backward_f32', count: 20, make: addCase },
];

const workspaces = new Map<KernelBuild, Workspace>();
function workspace(build: KernelBuild): Workspace {
  let ws = workspaces.get(build);
  if (!ws) workspaces.set(build, (ws = new Workspace(loadTrainKernels(build), 4 << 20)));
  ws.reset();
  return ws;
}

group('backward input kernels', () => {
  for (const family of families) {
    const variants = trainVariants(family.kernel);
    it(`${family.kernel}: fp32 engine, finite differences, ${variants.length} variants bit-identical, ${family.count} seeded cases`, () => {
      for (let index = 0; index < family.count; index++) {
        const seed = SEED + index;
        const rng = new Rng(seed);
        const c = family.make(rng, index);
        const label = `${family.kernel} case ${index} (seed ${seed}): ${c.label}`;
        const [first, ...rest] = variants;
        const grad = c.run(loadTrainKernels(first.build), workspace(first.build), first.name);
        expectWithinBound(label, grad, c.reference, c.bound);
        if (c.h > 0) expectFiniteDifferences(label, c.forward, c.x, c.dY, grad, rng, 8, c.h);
        for (const v of rest) {
          const other = c.run(loadTrainKernels(v.build), workspace(v.build), v.name);
          const at = firstBitMismatch(grad, other);
          expect(at, `${label}: ${v.name} (${v.build}) [${at}] = ${other[at]}, scalar ${grad[at]}`).toBe(-1);
        }
      }
    });
  }

  it('add_backward_f32 writes nothing for a null gradient and accepts aGrad == outGrad', () => {
    for (const { build, name } of trainVariants('add_backward_f32')) {
      const k = loadTrainKernels(build), ws = workspace(build);
      const dY = Float32Array.from([1.5, -2, 3]);
      const pdy = ws.f32(dY), pb = ws.f32([9, 9, 9]);
      k[name](pdy, 3, pdy, 0);
      expect(Array.from(ws.readF32(pdy, 3))).toEqual(Array.from(dY));
      k[name](pdy, 3, 0, pb);
      expect(Array.from(ws.readF32(pb, 3))).toEqual(Array.from(dY));
    }
  });

  it('max_pool_backward_f32 sends a tied window\'s gradient to its first tap in row-major order', () => {
    const k = loadTrainKernels('mvp'), ws = workspace('mvp');
    // 2x2 input, one channel, one 2x2 window: all four taps equal
    const dx = ws.alloc(16);
    k.max_pool_backward_f32(ws.i8([5, 5, 5, 5]), 2, 2, 1, ws.f32([2.5]), 1, 1, dx, 2, 2, 1, 1, 0, 0);
    expect(Array.from(ws.readF32(dx, 4))).toEqual([2.5, 0, 0, 0]);
  });
});
