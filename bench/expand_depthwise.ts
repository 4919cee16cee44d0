// Expand -> depthwise, streamed (expand_depthwise_s8, one op, a ring of rows) vs unfused
// (conv1x1_s8 into the whole expanded tensor, then depthwise_conv2d_s8), on MobileNetV2-w0.35
// 128x128 block shapes, both builds, ring heights kH and 2 kH. Variants run interleaved in
// the same process (a sample of each in turn), so machine load hits them alike.
// Prints one JSON object per result: {"what","build","shape","median","min","max","unit"}, and
// per fused variant its time over the unfused pair's ("unit": "x": paired samples' ratios, and
// `fastest` = fastest fused sample over fastest unfused sample, the figure load disturbs least).
// Usage: npx tsx bench/expand_depthwise.ts
import { pathToFileURL } from 'node:url';
import { Workspace, loadKernels, type KernelBuild } from '../test/helpers/kernels.js';
import { Rng } from '../test/helpers/rng.js';
import type { BenchLine } from '../targets/node/bench_model.js';

/** A benchmark line (what, build, shape, median, min, max, unit) with this file's build and units. */
export interface ExpandDepthwiseResult extends BenchLine {
  build: KernelBuild;
  unit: 'us' | 'x';
  fastest?: number;
}

/** [H, W, Ci, Ce, stride]: blocks 2 (the arena peak, stride 2) and 3 (stride 1). */
const BLOCKS: [number, number, number, number, number][] = [[64, 64, 8, 48, 2], [32, 32, 8, 48, 1]];
const SAMPLES = 21;
const TARGET_MS = 4;

export function benchExpandDepthwise(): ExpandDepthwiseResult[] {
  const results: ExpandDepthwiseResult[] = [];
  for (const build of ['mvp', 'simd'] as KernelBuild[]) {
    const k = loadKernels(build);
    const suffix = build === 'simd' ? '_simd' : '';
    const [conv1x1, depthwise, fused] = ['conv1x1_s8', 'depthwise_conv2d_s8', 'expand_depthwise_s8'].map((n) => k[n + suffix] as (...a: number[]) => void);
    for (const [h, w, ci, ce, s] of BLOCKS) {
      const ws = new Workspace(k, 4 << 20);
      const rng = new Rng(h * 1000 + s);
      const oh = Math.ceil(h / s), ow = Math.ceil(w / s);
      const pad = Math.floor(Math.max((oh - 1) * s + 3 - h, 0) / 2), padL = Math.floor(Math.max((ow - 1) * s + 3 - w, 0) / 2);
      const x = ws.i8(rng.int8Array(h * w * ci)), we = ws.i8(rng.int8Array(ce * ci, -127, 127)), wd = ws.i8(rng.int8Array(9 * ce, -127, 127));
      const stage = () => [ws.i32(Array.from({ length: ce }, () => rng.int(-5000, 5000))), ws.i32(Array.from({ length: 2 * ce }, (_, i) => (i % 2 ? -8 : 1518500250)))];
      const [eb, erq] = stage(), [db, drq] = stage();
      const mid = ws.alloc(h * w * ce), y = ws.alloc(oh * ow * ce), ring = ws.alloc(6 * w * ce);
      const variants: [string, () => void][] = [
        ['unfused', () => {
          conv1x1(x, h * w, ci, -3, we, ce, eb, erq, mid, -128, -128, 127);
          depthwise(mid, h, w, ce, -128, wd, 3, 3, db, drq, y, oh, ow, 5, s, s, pad, padL, -128, 127);
        }],
        ...[3, 6].map((rows): [string, () => void] => [`streamed ${rows} rows`, () => fused(x, h, w, ci, -3, we, ce, eb, erq, -128, -128, 127, ring, rows, wd, 3, 3, db, drq, y, oh, ow, 5, s, s, pad, padL, -128, 127)]),
      ];
      const times = interleaved(variants.map(([, f]) => f));
      const shape = `${h}x${w}x${ci}->${ce} dw3x3/${s}`;
      variants.forEach(([name], i) => results.push({ what: `expand_depthwise/${name}`, build, shape, ...stats(times[i]), unit: 'us' }));
      variants.slice(1).forEach(([name], i) => {
        const ratios = times[i + 1].map((t, j) => t / times[0][j]);
        const fastest = Math.round((Math.min(...times[i + 1]) / Math.min(...times[0])) * 1000) / 1000;
        results.push({ what: `expand_depthwise/${name} over unfused`, build, shape, ...stats(ratios, 1000), unit: 'x', fastest });
      });
    }
  }
  return results;
}

/** Microseconds per call of each function, SAMPLES samples each, taken in turn. */
function interleaved(calls: (() => void)[]): number[][] {
  for (const f of calls) for (let i = 0; i < 3; i++) f(); // warm-up (and tier-up)
  const reps = calls.map((f) => {
    let n = 1;
    for (let t0 = performance.now(); performance.now() - t0 < TARGET_MS / 4; n *= 2) for (let i = 0; i < n; i++) f();
    return n;
  });
  const times = calls.map(() => [] as number[]);
  for (let s = 0; s < SAMPLES; s++) {
    calls.forEach((f, v) => {
      const t0 = performance.now();
      for (let i = 0; i < reps[v]; i++) f();
      times[v].push(((performance.now() - t0) * 1000) / reps[v]);
    });
  }
  return times;
}

function stats(values: number[], scale = 100): Pick<ExpandDepthwiseResult, 'median' | 'min' | 'max'> {
  const v = [...values].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * scale) / scale;
  return { median: round(v[v.length >> 1]), min: round(v[0]), max: round(v[v.length - 1]) };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of benchExpandDepthwise()) console.log(JSON.stringify(line));
}
