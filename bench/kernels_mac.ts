// Benchmarks of the int8 multiply-accumulate kernels (conv2d, depthwise, conv1x1, fully
// connected): scalar from kernels.mvp vs SIMD from kernels.simd, on the reference CNN's layers,
// the reference CNN's whole conv stack (its five conv layers back to back) and larger shapes.
// Prints one JSON object per result:
//   {"what": "<kernel>/<variant>", "build", "shape", "median", "min", "max", "unit"}
// unit "GMAC/s" (dense multiply-accumulates per second) and, for the reference CNN's layers
// and stack, also "us" per call.
// Usage: [BENCH_CLOCK=cpu] npx tsx bench/kernels_mac.ts [--simd-only] [--baseline <kernels.simd.wasm>] [--only <text>]
//   --baseline also times the SIMD kernels of another build (variant "simd-baseline"),
//   sample by sample interleaved with the current build so both see the same machine load.
//   --only keeps the results whose kernel or shape contains <text> (e.g. cnn, fully_connected).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Workspace, loadKernels, type KernelBuild, type KernelExports } from '../test/helpers/kernels.js';
import { Rng } from '../test/helpers/rng.js';
import { convPadding } from '../test/oracle/conv.js';
import type { BenchLine } from '../targets/node/bench_model.js';

/** A benchmark line (what, build, shape, median, min, max, unit) with this file's build and units. */
export interface BenchResult extends BenchLine {
  build: KernelBuild;
  unit: 'GMAC/s' | 'us';
}

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 9);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 6);
const WARMUP_CALLS = 200;
/**
 * BENCH_CLOCK=cpu times samples by this process's CPU time (user + system) instead of wall time:
 * on a loaded shared machine, time spent descheduled then does not count.
 */
const now: () => number = process.env.BENCH_CLOCK === 'cpu'
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }
  : () => performance.now();

type Layer =
  | { kind: 'conv2d'; name: string; cnn: boolean; inH: number; inC: number; outC: number; k: number; stride: number }
  | { kind: 'depthwise'; name: string; cnn: boolean; inH: number; inC: number; k: number; stride: number }
  | { kind: 'conv1x1' | 'fc'; name: string; cnn: boolean; rows: number; inC: number; outC: number };

/** The reference CNN (28x28x1 -> conv3x3 s2 8 -> dw3x3 -> pw16 -> dw3x3 s2 -> pw32 -> GAP -> fc10). */
const CNN: Layer[] = [
  { kind: 'conv2d', name: 'cnn.conv1', cnn: true, inH: 28, inC: 1, outC: 8, k: 3, stride: 2 },
  { kind: 'depthwise', name: 'cnn.dw1', cnn: true, inH: 14, inC: 8, k: 3, stride: 1 },
  { kind: 'conv1x1', name: 'cnn.pw1', cnn: true, rows: 196, inC: 8, outC: 16 },
  { kind: 'depthwise', name: 'cnn.dw2', cnn: true, inH: 14, inC: 16, k: 3, stride: 2 },
  { kind: 'conv1x1', name: 'cnn.pw2', cnn: true, rows: 49, inC: 16, outC: 32 },
  { kind: 'fc', name: 'cnn.fc', cnn: true, rows: 1, inC: 32, outC: 10 },
];
/** The conv stack the latency target is about: CNN layers 0..4 (conv1, dw1, pw1, dw2, pw2). */
const STACK_LAYERS = 5;

const LARGER: Layer[] = [
  { kind: 'conv1x1', name: '14x14 64->64', cnn: false, rows: 196, inC: 64, outC: 64 },
  { kind: 'conv1x1', name: '7x7 128->128', cnn: false, rows: 49, inC: 128, outC: 128 },
  { kind: 'conv1x1', name: '7x7 256->256', cnn: false, rows: 49, inC: 256, outC: 256 },
  { kind: 'fc', name: '64->64', cnn: false, rows: 1, inC: 64, outC: 64 },
  { kind: 'fc', name: '128->128', cnn: false, rows: 1, inC: 128, outC: 128 },
  { kind: 'fc', name: '256->256', cnn: false, rows: 1, inC: 256, outC: 256 },
  { kind: 'depthwise', name: '56x56x32 3x3', cnn: false, inH: 56, inC: 32, k: 3, stride: 1 },
  { kind: 'conv2d', name: '14x14x16->32 3x3', cnn: false, inH: 14, inC: 16, outC: 32, k: 3, stride: 1 },
  // RGB stems (MobileNetV1 0.25 / 0.5 at 96x96)
  { kind: 'conv2d', name: 'stem 96x96x3->8 3x3 s2', cnn: false, inH: 96, inC: 3, outC: 8, k: 3, stride: 2 },
  { kind: 'conv2d', name: 'stem 96x96x3->16 3x3 s2', cnn: false, inH: 96, inC: 3, outC: 16, k: 3, stride: 2 },
];

const KERNEL = { conv2d: 'conv2d_s8', depthwise: 'depthwise_conv2d_s8', conv1x1: 'conv1x1_s8', fc: 'fully_connected_s8' } as const;

type Call = () => void;

/**
 * Places one layer's operands (realistic requantization: per-channel multipliers, shifts that
 * differ by one between channels, outputs mostly inside the int8 range) and returns a closure
 * calling kernel `fn` on them.
 */
function prepare(k: KernelExports, ws: Workspace, layer: Layer, rng: Rng, simd: boolean): { call: Call; macs: number } {
  const fn = k[`${KERNEL[layer.kind]}${simd ? '_simd' : ''}`] as (...a: number[]) => void;
  const stage = (channels: number, reduction: number): [number, number] => {
    const rq = new Int32Array(2 * channels);
    const shift = -Math.round(Math.log2(Math.sqrt(reduction) * 73 * 128 / 32));
    for (let c = 0; c < channels; c++) [rq[2 * c], rq[2 * c + 1]] = [rng.int(1 << 30, 2147483647), shift + rng.int(-1, 0)];
    return [ws.i32(Array.from({ length: channels }, () => rng.int(-5000, 5000))), ws.i32(rq)];
  };
  if (layer.kind === 'conv1x1' || layer.kind === 'fc') {
    const { rows, inC, outC } = layer;
    const x = ws.i8(rng.int8Array(rows * inC));
    const w = ws.i8(rng.int8Array(outC * inC, -127, 127));
    const [bias, rq] = stage(outC, inC);
    const y = ws.alloc(rows * outC);
    return { macs: rows * inC * outC, call: () => fn(x, rows, inC, -128, w, outC, bias, rq, y, -128, -128, 127) };
  }
  const { inH, inC, k: kk, stride } = layer as Extract<Layer, { kind: 'conv2d' | 'depthwise' }>;
  const pad = convPadding('SAME', inH, kk, stride);
  const outC = layer.kind === 'conv2d' ? layer.outC : inC;
  const x = ws.i8(rng.int8Array(inH * inH * inC));
  const w = ws.i8(rng.int8Array((layer.kind === 'conv2d' ? outC * inC : inC) * kk * kk, -127, 127));
  const [bias, rq] = stage(outC, kk * kk * (layer.kind === 'conv2d' ? inC : 1));
  const y = ws.alloc(pad.out * pad.out * outC);
  const macs = pad.out * pad.out * outC * kk * kk * (layer.kind === 'conv2d' ? inC : 1);
  if (layer.kind === 'conv2d') {
    return { macs, call: () => fn(x, inH, inH, inC, -128, w, kk, kk, outC, bias, rq, y, pad.out, pad.out, -128, stride, stride, pad.before, pad.before, -128, 127) };
  }
  return { macs, call: () => fn(x, inH, inH, inC, -128, w, kk, kk, bias, rq, y, pad.out, pad.out, -128, stride, stride, pad.before, pad.before, -128, 127) };
}

/** Calls per sample so that one sample lasts about SAMPLE_MS (after warm-up). */
function calibrate(call: Call): number {
  for (let i = 0; i < WARMUP_CALLS; i++) call(); // short calls first: tier up before timing
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < reps; i++) call();
    if (now() - t0 >= SAMPLE_MS) return reps;
    reps *= 2;
  }
}

/** Seconds per call of each contender, sorted ascending; samples of the contenders alternate. */
function timeSideBySide(calls: Call[]): number[][] {
  const reps = calls.map(calibrate);
  const out: number[][] = calls.map(() => []);
  for (let s = 0; s < SAMPLES; s++) {
    calls.forEach((call, i) => {
      const t0 = now();
      for (let r = 0; r < reps[i]; r++) call();
      out[i].push((now() - t0) / 1000 / reps[i]);
    });
  }
  return out.map((xs) => xs.sort((a, b) => a - b));
}

interface Contender { variant: string; build: KernelBuild; k: KernelExports; ws: Workspace; simd: boolean }

function contenders(simdOnly: boolean, baseline?: string): Contender[] {
  const make = (variant: string, build: KernelBuild, k: KernelExports, simd: boolean): Contender => ({ variant, build, k, ws: new Workspace(k, 8 << 20), simd });
  const list: Contender[] = [];
  if (!simdOnly) list.push(make('scalar', 'mvp', loadKernels('mvp'), false));
  if (baseline) {
    const module = new WebAssembly.Module(readFileSync(baseline));
    list.push(make('simd-baseline', 'simd', new WebAssembly.Instance(module, {}).exports as unknown as KernelExports, true));
  }
  list.push(make('simd', 'simd', loadKernels('simd'), true));
  return list;
}

export async function benchMacKernels(options: { simdOnly?: boolean; baseline?: string; only?: string } = {}): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const all = contenders(options.simdOnly ?? false, options.baseline);
  const record = (c: Contender, what: string, shape: string, macs: number, secs: number[], perCall: boolean) => {
    const rate = (s: number) => macs / s / 1e9;
    const mid = secs[SAMPLES >> 1];
    results.push({ what, build: c.build, shape, median: rate(mid), min: rate(secs[SAMPLES - 1]), max: rate(secs[0]), unit: 'GMAC/s' });
    if (perCall) results.push({ what, build: c.build, shape, median: mid * 1e6, min: secs[0] * 1e6, max: secs[SAMPLES - 1] * 1e6, unit: 'us' });
  };
  const only = options.only;
  const wanted = (what: string, shape: string) => !only || what.includes(only) || shape.includes(only);
  for (const layer of [...CNN, ...LARGER]) {
    if (!wanted(KERNEL[layer.kind], layer.name)) continue;
    const prepared = all.map((c) => {
      c.ws.reset();
      return prepare(c.k, c.ws, layer, new Rng(0xbe7c), c.simd);
    });
    const secs = timeSideBySide(prepared.map((p) => p.call));
    all.forEach((c, i) => record(c, `${KERNEL[layer.kind]}/${c.variant}`, layer.name, prepared[i].macs, secs[i], layer.cnn));
  }
  if (!wanted('cnn_conv_stack', 'cnn')) return results;
  // the conv stack: each layer on its own operands, called back to back
  const stacks = all.map((c) => {
    c.ws.reset();
    const layers = CNN.slice(0, STACK_LAYERS).map((layer) => prepare(c.k, c.ws, layer, new Rng(0xbe7c), c.simd));
    return { macs: layers.reduce((n, l) => n + l.macs, 0), call: () => { for (const l of layers) l.call(); } };
  });
  const secs = timeSideBySide(stacks.map((s) => s.call));
  all.forEach((c, i) => record(c, `cnn_conv_stack/${c.variant}`, 'conv1+dw1+pw1+dw2+pw2', stacks[i].macs, secs[i], true));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const options = { simdOnly: args.includes('--simd-only'), baseline: value('--baseline'), only: value('--only') };
  for (const r of await benchMacKernels(options)) {
    console.log(JSON.stringify({ ...r, median: +r.median.toPrecision(4), min: +r.min.toPrecision(4), max: +r.max.toPrecision(4) }));
  }
}
