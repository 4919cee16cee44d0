// Benchmarks of the int8 multiply-accumulate kernels (conv2d, depthwise, conv1x1, fully
// connected): scalar from kernels.mvp vs SIMD from kernels.simd, on the reference CNN's layers
// and on larger representative shapes. Prints one JSON object per result:
//   {"what": "<kernel>/<variant>", "build", "shape", "median", "min", "max", "unit"}
// unit "GMAC/s" (dense multiply-accumulates per second) and, for the reference CNN's layers,
// also "us" per call. Usage: npx tsx bench/kernels_mac.ts
import { pathToFileURL } from 'node:url';
import { Workspace, loadKernels, type KernelBuild } from '../test/helpers/kernels.js';
import { Rng } from '../test/helpers/rng.js';
import { convPadding } from '../test/oracle/conv.js';

export interface BenchResult {
  what: string;
  build: KernelBuild;
  shape: string;
  median: number;
  min: number;
  max: number;
  unit: 'GMAC/s' | 'us';
}

const SAMPLES = 7;
const SAMPLE_MS = 6;
const WARMUP_CALLS = 200;

type Layer =
  | { kind: 'conv2d'; name: string; cnn: boolean; inH: number; inC: number; outC: number; k: number; stride: number }
  | { kind: 'depthwise'; name: string; cnn: boolean; inH: number; inC: number; k: number; stride: number }
  | { kind: 'conv1x1' | 'fc'; name: string; cnn: boolean; rows: number; inC: number; outC: number };

/** The reference CNN (28x28x1 -> conv3x3 s2 8 -> dw3x3 -> pw16 -> dw3x3 s2 -> pw32 -> GAP -> fc10), then larger shapes. */
const LAYERS: Layer[] = [
  { kind: 'conv2d', name: 'cnn.conv1', cnn: true, inH: 28, inC: 1, outC: 8, k: 3, stride: 2 },
  { kind: 'depthwise', name: 'cnn.dw1', cnn: true, inH: 14, inC: 8, k: 3, stride: 1 },
  { kind: 'conv1x1', name: 'cnn.pw1', cnn: true, rows: 196, inC: 8, outC: 16 },
  { kind: 'depthwise', name: 'cnn.dw2', cnn: true, inH: 14, inC: 16, k: 3, stride: 2 },
  { kind: 'conv1x1', name: 'cnn.pw2', cnn: true, rows: 49, inC: 16, outC: 32 },
  { kind: 'fc', name: 'cnn.fc', cnn: true, rows: 1, inC: 32, outC: 10 },
  { kind: 'conv1x1', name: '14x14 64->64', cnn: false, rows: 196, inC: 64, outC: 64 },
  { kind: 'conv1x1', name: '7x7 128->128', cnn: false, rows: 49, inC: 128, outC: 128 },
  { kind: 'conv1x1', name: '7x7 256->256', cnn: false, rows: 49, inC: 256, outC: 256 },
  { kind: 'fc', name: '64->64', cnn: false, rows: 1, inC: 64, outC: 64 },
  { kind: 'fc', name: '128->128', cnn: false, rows: 1, inC: 128, outC: 128 },
  { kind: 'fc', name: '256->256', cnn: false, rows: 1, inC: 256, outC: 256 },
  { kind: 'depthwise', name: '56x56x32 3x3', cnn: false, inH: 56, inC: 32, k: 3, stride: 1 },
  { kind: 'conv2d', name: '14x14x16->32 3x3', cnn: false, inH: 14, inC: 16, outC: 32, k: 3, stride: 1 },
];

/** Places one layer's operands (realistic requantization: outputs mostly inside the int8 range). */
function prepare(ws: Workspace, layer: Layer, rng: Rng): { call: (fn: (...a: number[]) => void) => void; macs: number } {
  const stage = (channels: number, reduction: number): [number, number] => {
    const rq = new Int32Array(2 * channels);
    const shift = -Math.round(Math.log2(Math.sqrt(reduction) * 73 * 128 / 32));
    for (let c = 0; c < channels; c++) [rq[2 * c], rq[2 * c + 1]] = [rng.int(1 << 30, 2147483647), shift];
    return [ws.i32(Array.from({ length: channels }, () => rng.int(-5000, 5000))), ws.i32(rq)];
  };
  if (layer.kind === 'conv1x1' || layer.kind === 'fc') {
    const { rows, inC, outC } = layer;
    const x = ws.i8(rng.int8Array(rows * inC));
    const w = ws.i8(rng.int8Array(outC * inC, -127, 127));
    const [bias, rq] = stage(outC, inC);
    const y = ws.alloc(rows * outC);
    return { macs: rows * inC * outC, call: (fn) => fn(x, rows, inC, -128, w, outC, bias, rq, y, -128, -128, 127) };
  }
  const { inH, inC, k, stride } = layer as Extract<Layer, { kind: 'conv2d' | 'depthwise' }>;
  const pad = convPadding('SAME', inH, k, stride);
  const outC = layer.kind === 'conv2d' ? layer.outC : inC;
  const x = ws.i8(rng.int8Array(inH * inH * inC));
  const w = ws.i8(rng.int8Array((layer.kind === 'conv2d' ? outC * inC : inC) * k * k, -127, 127));
  const [bias, rq] = stage(outC, k * k * (layer.kind === 'conv2d' ? inC : 1));
  const y = ws.alloc(pad.out * pad.out * outC);
  const macs = pad.out * pad.out * outC * k * k * (layer.kind === 'conv2d' ? inC : 1);
  if (layer.kind === 'conv2d') {
    return { macs, call: (fn) => fn(x, inH, inH, inC, -128, w, k, k, outC, bias, rq, y, pad.out, pad.out, -128, stride, stride, pad.before, pad.before, -128, 127) };
  }
  return { macs, call: (fn) => fn(x, inH, inH, inC, -128, w, k, k, bias, rq, y, pad.out, pad.out, -128, stride, stride, pad.before, pad.before, -128, 127) };
}

/** Seconds per call: samples of batches of calls, each batch about SAMPLE_MS long. */
function time(call: () => void): number[] {
  for (let i = 0; i < WARMUP_CALLS; i++) call(); // short calls first: tier up before timing
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    if (performance.now() - t0 >= SAMPLE_MS) break;
    reps *= 2;
  }
  const out: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) call();
    out.push((performance.now() - t0) / 1000 / reps);
  }
  return out.sort((a, b) => a - b);
}

const KERNEL = { conv2d: 'conv2d_s8', depthwise: 'depthwise_conv2d_s8', conv1x1: 'conv1x1_s8', fc: 'fully_connected_s8' } as const;

export async function benchMacKernels(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const variants: Array<{ build: KernelBuild; simd: boolean }> = [{ build: 'mvp', simd: false }, { build: 'simd', simd: true }];
  for (const { build, simd } of variants) {
    const k = loadKernels(build);
    const ws = new Workspace(k, 8 << 20);
    for (const layer of LAYERS) {
      ws.reset();
      const { call, macs } = prepare(ws, layer, new Rng(0xbe7c));
      const fn = k[`${KERNEL[layer.kind]}${simd ? '_simd' : ''}`] as (...a: number[]) => void;
      const secs = time(() => call(fn));
      const what = `${KERNEL[layer.kind]}/${simd ? 'simd' : 'scalar'}`;
      const shape = layer.name;
      const rate = (s: number) => macs / s / 1e9;
      results.push({ what, build, shape, median: rate(secs[SAMPLES >> 1]), min: rate(secs[SAMPLES - 1]), max: rate(secs[0]), unit: 'GMAC/s' });
      if (layer.cnn) results.push({ what, build, shape, median: secs[SAMPLES >> 1] * 1e6, min: secs[0] * 1e6, max: secs[SAMPLES - 1] * 1e6, unit: 'us' });
    }
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchMacKernels()) {
    console.log(JSON.stringify({ ...r, median: +r.median.toPrecision(4), min: +r.min.toPrecision(4), max: +r.max.toPrecision(4) }));
  }
}
