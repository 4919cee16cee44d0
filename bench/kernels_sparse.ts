// Benchmarks of the group-sparse kernels against our dense kernels on the same (pruned)
// weights: sparse_conv1x1_s8 / sparse_fully_connected_s8 vs conv1x1_s8 / fully_connected_s8,
// scalar on kernels.mvp and SIMD on kernels.simd, at group sparsities 0..95 % for g = 1, 4 and 8
// (1 and 2 where outC is not a multiple of 4). Dense and sparse are timed side by side,
// sample by sample, so both see the same machine load. Prints one JSON object per result:
//   {"what", "build", "shape", "median", "min", "max", "unit"}
//   what "<dense kernel>/dense"                       unit GMAC/s
//   what "<sparse kernel>/g<g>/s<sparsity %>"         unit GMAC/s (dense-equivalent: all MACs
//                                                     of the dense layer per second)
//   what ".../effective"                              unit GMAC/s (MACs of the nonzero groups)
//   what ".../speedup"                                unit x (fastest dense sample / fastest sparse
//                                                     sample; min/max: extremes of sorted-sample ratios)
//   what "<sparse kernel>/g<g>/break-even"            unit % (sparsity where speedup = 1,
//                                                     interpolated; 0 when always faster)
// Usage: [BENCH_CLOCK=cpu] npx tsx bench/kernels_sparse.ts [--simd-only | --mvp-only] [--only <text>]
//   BENCH_SAMPLES, BENCH_SAMPLE_MS change the timing; BENCH_CLOCK=cpu times samples by this
//   process's CPU time (user + system), so time spent descheduled on a loaded machine does not
//   count; --only keeps the shapes whose name contains <text>.
import { pathToFileURL } from 'node:url';
import { encodeGroupSparse } from '../src/formats/sparse.js';
import { Workspace, loadKernels, type KernelBuild, type KernelExports } from '../test/helpers/kernels.js';
import { Rng } from '../test/helpers/rng.js';
import type { BenchLine } from '../targets/node/bench_model.js';

/** A benchmark line (what, build, shape, median, min, max, unit) with this file's build and units. */
export interface SparseBenchResult extends BenchLine {
  build: KernelBuild;
  unit: 'GMAC/s' | 'x' | '%';
}

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 21);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 1);
const WARMUP_CALLS = 100;
const now: () => number = process.env.BENCH_CLOCK === 'cpu'
  ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }
  : () => performance.now();
export const SPARSITIES = [0, 0.5, 0.7, 0.8, 0.9, 0.95];

export type SparseKind = 'conv1x1' | 'fc';
export interface SparseShape { kind: SparseKind; name: string; rows: number; inC: number; outC: number; groupSizes: number[] }

const SHAPES: SparseShape[] = [
  { kind: 'conv1x1', name: '14x14 64->64', rows: 196, inC: 64, outC: 64, groupSizes: [1, 4, 8] },
  { kind: 'conv1x1', name: '7x7 128->128', rows: 49, inC: 128, outC: 128, groupSizes: [1, 4, 8] },
  { kind: 'conv1x1', name: '28x28 32->64', rows: 784, inC: 32, outC: 64, groupSizes: [1, 4, 8] },
  // MobileNet v1 x0.25 at 192x192: its 12x12 pointwise layers are 128 -> 128
  { kind: 'conv1x1', name: 'mobilenet-0.25 12x12 128->128', rows: 144, inC: 128, outC: 128, groupSizes: [1, 4, 8] },
  { kind: 'fc', name: '256->256', rows: 1, inC: 256, outC: 256, groupSizes: [1, 4, 8] },
  { kind: 'fc', name: '784->128', rows: 1, inC: 784, outC: 128, groupSizes: [1, 4, 8] },
  { kind: 'fc', name: '128->10', rows: 1, inC: 128, outC: 10, groupSizes: [1, 2] },
];

export const DENSE_KERNEL = { conv1x1: 'conv1x1_s8', fc: 'fully_connected_s8' } as const;

type Call = () => void;

/** Calls per sample so that one sample lasts about SAMPLE_MS (after warm-up). */
function calibrate(call: Call, sampleMs: number): number {
  for (let i = 0; i < WARMUP_CALLS; i++) call(); // short calls first: tier up before timing
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < reps; i++) call();
    if (now() - t0 >= sampleMs) return reps;
    reps *= 2;
  }
}

/** Seconds per call of each contender, sorted ascending; samples of the contenders alternate. */
export function timeSideBySide(calls: Call[], samples = SAMPLES, sampleMs = SAMPLE_MS): number[][] {
  const reps = calls.map((c) => calibrate(c, sampleMs));
  const out: number[][] = calls.map(() => []);
  for (let s = 0; s < samples; s++) {
    calls.forEach((call, i) => {
      const t0 = now();
      for (let r = 0; r < reps[i]; r++) call();
      out[i].push((now() - t0) / 1000 / reps[i]);
    });
  }
  return out.map((xs) => xs.sort((a, b) => a - b));
}

/** Random weights in [-127, 127] with exactly round(sparsity * groups) all-zero groups. */
export function prunedWeights(rng: Rng, outC: number, inC: number, g: number, sparsity: number): { w: Int8Array; nonzeroGroups: number } {
  const w = new Int8Array(outC * inC);
  for (let i = 0; i < w.length; i++) w[i] = rng.int(1, 127) * (rng.next() < 0.5 ? -1 : 1);
  const groups = (outC / g) * inC;
  const order = rng.shuffle(Array.from({ length: groups }, (_, i) => i));
  const zero = Math.round(sparsity * groups);
  for (const k of order.slice(0, zero)) {
    const b = Math.floor(k / inC), ci = k % inC;
    for (let j = 0; j < g; j++) w[(b * g + j) * inC + ci] = 0;
  }
  return { w, nonzeroGroups: groups - zero };
}

export interface LayerCalls { dense: Call; sparse: Call; nonzeroGroups: number }

/**
 * Places one layer (realistic requantization: per-channel multipliers, shifts within one of
 * each other) and returns calls of the dense and the sparse kernel on the same weights.
 */
export function prepareLayer(k: KernelExports, ws: Workspace, shape: Omit<SparseShape, 'name' | 'groupSizes'>, g: number, sparsity: number, simd: boolean, seed: number): LayerCalls {
  const rng = new Rng(seed);
  const { rows, inC, outC } = shape;
  const suffix = simd ? '_simd' : '';
  const dense = k[`${DENSE_KERNEL[shape.kind]}${suffix}`] as (...a: number[]) => void;
  const sparse = k[`sparse_${DENSE_KERNEL[shape.kind]}${suffix}`] as (...a: number[]) => void;
  const { w, nonzeroGroups } = prunedWeights(rng, outC, inC, g, sparsity);
  const x = ws.i8(rng.int8Array(rows * inC));
  const wDense = ws.i8(w);
  const wSparse = ws.i8(new Int8Array(encodeGroupSparse(w, outC, inC, g).buffer));
  const rq = new Int32Array(2 * outC);
  const shift = -Math.round(Math.log2(Math.sqrt(inC * Math.max(1 - sparsity, 0.05)) * 73 * 128 / 32));
  for (let c = 0; c < outC; c++) [rq[2 * c], rq[2 * c + 1]] = [rng.int(1 << 30, 2147483647), shift + rng.int(-1, 0)];
  const bias = ws.i32(Array.from({ length: outC }, () => rng.int(-5000, 5000)));
  const requant = ws.i32(rq);
  const yDense = ws.alloc(rows * outC);
  const ySparse = ws.alloc(rows * outC);
  return {
    nonzeroGroups,
    dense: () => dense(x, rows, inC, -128, wDense, outC, bias, requant, yDense, -128, -128, 127),
    sparse: () => sparse(x, rows, inC, -128, wSparse, outC, bias, requant, ySparse, -128, -128, 127),
  };
}

/** Sparsity where the speedup crosses 1, interpolated between measured points (0: never slower). */
export function breakEven(points: { sparsity: number; speedup: number }[]): number {
  if (points[0].speedup >= 1) return 0;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (b.speedup >= 1) return a.sparsity + ((1 - a.speedup) / (b.speedup - a.speedup)) * (b.sparsity - a.sparsity);
  }
  return 1;
}

export function benchSparseKernels(shapes: SparseShape[] = SHAPES, builds: KernelBuild[] = ['mvp', 'simd']): SparseBenchResult[] {
  const results: SparseBenchResult[] = [];
  for (const build of builds) {
    const simd = build === 'simd';
    const k = loadKernels(build);
    const ws = new Workspace(k, 8 << 20);
    for (const shape of shapes) {
      const macs = shape.rows * shape.inC * shape.outC;
      const denseName = `${DENSE_KERNEL[shape.kind]}${simd ? '_simd' : ''}`;
      const sparseName = `sparse_${denseName}`;
      const rate = (s: number, n = macs) => n / s / 1e9;
      let denseTimes: number[] = [];
      for (const g of shape.groupSizes) {
        const points: { sparsity: number; speedup: number }[] = [];
        for (const sparsity of SPARSITIES) {
          ws.reset();
          const layer = prepareLayer(k, ws, shape, g, sparsity, simd, 0x5ba5e);
          const [dense, sparse] = timeSideBySide([layer.dense, layer.sparse]);
          denseTimes = denseTimes.concat(dense);
          const mid = SAMPLES >> 1;
          const nonzeroMacs = shape.rows * layer.nonzeroGroups * g;
          const what = `${sparseName}/g${g}/s${Math.round(sparsity * 100)}`;
          results.push({ what, build, shape: shape.name, median: rate(sparse[mid]), min: rate(sparse[SAMPLES - 1]), max: rate(sparse[0]), unit: 'GMAC/s' });
          results.push({ what: `${what}/effective`, build, shape: shape.name, median: rate(sparse[mid], nonzeroMacs), min: rate(sparse[SAMPLES - 1], nonzeroMacs), max: rate(sparse[0], nonzeroMacs), unit: 'GMAC/s' });
          // the ratio of the fastest samples: on a shared machine the minimum is the least disturbed
          const ratios = dense.map((d, i) => d / sparse[i]).sort((a, b) => a - b);
          const speedup = dense[0] / sparse[0];
          results.push({ what: `${what}/speedup`, build, shape: shape.name, median: speedup, min: ratios[0], max: ratios[SAMPLES - 1], unit: 'x' });
          points.push({ sparsity, speedup });
        }
        const be = 100 * breakEven(points);
        results.push({ what: `${sparseName}/g${g}/break-even`, build, shape: shape.name, median: be, min: be, max: be, unit: '%' });
      }
      denseTimes.sort((a, b) => a - b);
      const n = denseTimes.length;
      results.push({ what: `${denseName}/dense`, build, shape: shape.name, median: rate(denseTimes[n >> 1]), min: rate(denseTimes[n - 1]), max: rate(denseTimes[0]), unit: 'GMAC/s' });
    }
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : '';
  const builds: KernelBuild[] = args.includes('--simd-only') ? ['simd'] : args.includes('--mvp-only') ? ['mvp'] : ['mvp', 'simd'];
  for (const r of benchSparseKernels(SHAPES.filter((s) => s.name.includes(only)), builds)) {
    console.log(JSON.stringify({ ...r, median: +r.median.toPrecision(4), min: +r.min.toPrecision(4), max: +r.max.toPrecision(4) }));
  }
}
