// Seeded cases for the fused gradient + update kernels, each runnable on a device kernel and
// on the TypeScript mirror (test/train/sgd_mirror.ts) from the same starting state.
import type { WindowGeometry } from '../../src/compiler/fp32/window.js';
import { Status } from '../../src/formats/schema.js';
import { Rng } from '../helpers/rng.js';
import type { KernelExports, Workspace } from '../helpers/train_kernels.js';
import { EDGE_CHANNELS, describeWindow, normalArray, randomScales, randomWeights, randomWindow } from './cases.js';
import {
  DevicePrng, UPDATE_CARRY, UPDATE_NEAREST, UPDATE_NO_QAS, conv2dUpdateMirror, depthwiseUpdateMirror, updateMirror,
  type MomentumState, type SgdSettings, type UpdateOperands,
} from './sgd_mirror.js';

export type UpdateKind = 'conv2d' | 'depthwise_conv2d' | 'fully_connected' | 'bias';
export const KERNEL_OF: Record<UpdateKind, string> = {
  conv2d: 'conv2d_update_s8', depthwise_conv2d: 'depthwise_conv2d_update_s8',
  fully_connected: 'fully_connected_update_s8', bias: 'bias_update_s32',
};

export interface UpdateCase {
  kind: UpdateKind;
  label: string;
  o: UpdateOperands;
  filter: Int8Array;
  bias: Int32Array | null;
  channels: number[];
  settings: SgdSettings;
  state: MomentumState;
}

/** Everything an update writes, plus its status and the PRNG's next draw (counts the draws). */
export interface UpdateResult {
  status: number;
  filter: Int8Array;
  bias: Int32Array | null;
  state: MomentumState;
  nextDraw: number;
}

/** The 1x1 window of a fully connected layer over `rows` input rows. */
export function rowsGeometry(rows: number, inC: number): WindowGeometry {
  return { batch: 1, inH: rows, inW: 1, inC, outH: rows, outW: 1, kH: 1, kW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 };
}

/** A random selection of a ratio (1/8 .. 1) of `n` channels, in random order. */
function selectChannels(rng: Rng, n: number): number[] {
  const ratio = rng.pick([1 / 8, 1 / 4, 1 / 2, 1]);
  return Array.from(rng.permutation(n)).slice(0, Math.max(1, Math.round(n * ratio)));
}

function randomSettings(rng: Rng, index: number): SgdSettings {
  const lrW = 10 ** rng.uniform(-4, -1), lrB = 10 ** rng.uniform(-4, -1);
  const momentum = rng.next() < 0.5 ? 0.9 : 0;
  // even cases stochastic, odd nearest; every other pair without QAS; every third case carries
  // (weights only: the rounding bit still rounds the biases; no momentum)
  const flags = (index % 2 === 0 ? 0 : UPDATE_NEAREST) | (index % 4 >= 2 ? UPDATE_NO_QAS : 0);
  return index % 3 === 2 ? { lrW, lrB, momentum: 0, flags: flags | UPDATE_CARRY } : { lrW, lrB, momentum, flags };
}

export function perChannelWeights(kind: UpdateKind, g: WindowGeometry): number {
  return kind === 'conv2d' || kind === 'fully_connected' ? g.kH * g.kW * g.inC : kind === 'depthwise_conv2d' ? g.kH * g.kW : 0;
}

/** A seeded case; momentum state or carry fractions (when used) start random. */
export function updateCase(kind: UpdateKind, rng: Rng, index: number): UpdateCase {
  let g: WindowGeometry, outC: number, label: string;
  if (kind === 'fully_connected' || kind === 'bias') {
    const rows = index % 2 === 0 ? 1 : rng.pick([2, 5, 9, 16]);
    const inC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
    outC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
    g = rowsGeometry(rows, inC);
    label = `${kind} rows ${rows}, ${inC} -> ${outC}`;
  } else {
    const w = randomWindow(rng, index, 20_000);
    g = w.g;
    outC = kind === 'depthwise_conv2d' ? g.inC : w.outC;
    label = `${kind} ${describeWindow({ ...w, outC })}`;
  }
  const filterSize = kind === 'depthwise_conv2d' ? g.kH * g.kW * outC : outC * g.kH * g.kW * g.inC;
  const xSize = g.inH * g.inW * (kind === 'depthwise_conv2d' ? outC : g.inC);
  const o: UpdateOperands = {
    x: rng.int8Array(xSize), inZp: rng.int(-40, 40), inScale: rng.uniform(0.005, 0.1),
    dY: Float32Array.from(normalArray(rng, g.outH * g.outW * outC, 0.5), (v) => (rng.next() < 0.2 ? 0 : v)),
    g, outC, scales: randomScales(rng, outC),
  };
  const channels = selectChannels(rng, outC);
  const settings = randomSettings(rng, index);
  const withBias = kind === 'bias' || rng.next() < 0.75;
  const bias = withBias ? Int32Array.from({ length: outC }, () => rng.int(-100_000, 100_000)) : null;
  const perChannel = perChannelWeights(kind, g);
  const state: MomentumState = {
    weights: settings.flags & UPDATE_CARRY ? rng.int8Array(channels.length * perChannel)
      : settings.momentum ? normalArray(rng, channels.length * perChannel, 0.1) : null,
    biases: settings.momentum && withBias ? normalArray(rng, channels.length, 0.1) : null,
  };
  return { kind, label: `${label}, ${channels.length} channels, ${JSON.stringify(settings)}, bias ${withBias}`, o, filter: randomWeights(rng, filterSize), bias, channels, settings, state };
}

const cloneState = (s: MomentumState): MomentumState => ({ weights: s.weights?.slice() ?? null, biases: s.biases?.slice() ?? null });

/** Runs the case on the device kernel `fn` after prng_seed(seed). */
export function runKernel(c: UpdateCase, k: KernelExports, ws: Workspace, fn: string, seed: number): UpdateResult {
  ws.reset();
  const { o, settings: s } = c;
  const { g } = o;
  const x = ws.i8(o.x), dY = ws.f32(o.dY), filter = ws.i8(c.filter), scales = ws.f32(o.scales);
  const bias = c.bias ? ws.i32(c.bias) : 0;
  const channels = ws.i32(c.channels);
  const w8 = c.state.weights instanceof Int8Array;
  const wState = !c.state.weights ? 0 : c.state.weights instanceof Int8Array ? ws.i8(c.state.weights) : ws.f32(c.state.weights);
  const bState = c.state.biases ? ws.f32(c.state.biases) : 0;
  k.prng_seed(seed);
  let status: number;
  const n = c.channels.length;
  switch (c.kind) {
    case 'conv2d':
      status = k[fn](x, g.inH, g.inW, g.inC, o.inZp, o.inScale, dY, g.outH, g.outW, o.outC, filter, g.kH, g.kW, scales, bias, g.strideH, g.strideW, g.padTop, g.padLeft, channels, n, s.lrW, s.lrB, s.momentum, wState, bState, s.flags);
      break;
    case 'depthwise_conv2d':
      status = k[fn](x, g.inH, g.inW, o.outC, o.inZp, o.inScale, dY, g.outH, g.outW, filter, g.kH, g.kW, scales, bias, g.strideH, g.strideW, g.padTop, g.padLeft, channels, n, s.lrW, s.lrB, s.momentum, wState, bState, s.flags);
      break;
    case 'fully_connected':
      status = k[fn](x, g.inH, g.inC, o.inZp, o.inScale, dY, o.outC, filter, scales, bias, channels, n, s.lrW, s.lrB, s.momentum, wState, bState, s.flags);
      break;
    case 'bias':
      status = k[fn](dY, g.outH * g.outW, o.outC, bias, o.inScale, scales, channels, n, s.lrB, s.momentum, bState, s.flags);
      break;
  }
  return {
    status,
    filter: ws.readI8(filter, c.filter.length),
    bias: c.bias ? new Int32Array(k.memory.buffer, bias, c.bias.length).slice() : null,
    state: {
      weights: !c.state.weights ? null : w8 ? ws.readI8(wState, c.state.weights.length) : ws.readF32(wState, c.state.weights.length),
      biases: c.state.biases ? ws.readF32(bState, c.state.biases.length) : null,
    },
    nextDraw: k.prng_next_u32() >>> 0,
  };
}

/** Runs the case on the TypeScript mirror with the device PRNG seeded with `seed`. */
export function runMirror(c: UpdateCase, seed: number): UpdateResult {
  const filter = c.filter.slice(), bias = c.bias?.slice() ?? null, state = cloneState(c.state);
  const prng = new DevicePrng(seed);
  let finite: boolean;
  if (c.kind === 'depthwise_conv2d') finite = depthwiseUpdateMirror(c.o, filter, bias, c.channels, c.settings, state, prng);
  else if (c.kind === 'bias') finite = updateMirror(c.o, filter, bias, c.channels, c.settings, state, prng, 0, () => 0, () => 0);
  else finite = conv2dUpdateMirror(c.o, filter, bias, c.channels, c.settings, state, prng);
  return { status: finite ? Status.OK : Status.BAD_INPUT, filter, bias, state, nextDraw: prng.nextU32() };
}
