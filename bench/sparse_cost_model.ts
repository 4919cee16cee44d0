// Measures the dense and the group-sparse int8 kernels on a grid of layer shapes and sparsities,
// per build (mvp: scalar kernels, simd: SIMD kernels), kind (conv1x1: 16+ pixels; fc: batch
// 1) and group size, fits a linear time model to each and writes
// src/compiler/sparse_cost_model.json, which src/compiler/sparse_choice.ts reads to pick dense or
// sparse per layer. Models (microseconds per call on the measuring machine):
//   dense  = c0 + c1 * rows*outC + c2 * rows*outC*inC                 per (build, kind)
//   sparse = c0 + c1 * rows*outC + c2 * rows*nonzeroGroups            per (build, kind, g)
// (rows*nonzeroGroups*g, the MACs, is proportional to the last feature for a fixed g.) The fit
// minimises relative error (each equation divided by its measured time), so small layers count
// as much as big ones; the file records the median and worst relative error of each fit.
// Dense and sparse of a point are timed side by side; a point's time is the minimum of many
// short samples (the machine is shared: the minimum is the least disturbed estimate).
// Usage: npx tsx bench/sparse_cost_model.ts [--dry-run]   (prints the fit, writes unless dry)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { loadKernels, Workspace, type KernelBuild } from '../test/helpers/kernels.js';
import { prepareLayer, timeSideBySide, type SparseKind } from './kernels_sparse.js';

const GROUP_SIZES = [1, 2, 4, 8];
const SPARSITIES = [0, 0.5, 0.7, 0.8, 0.9, 0.95];
const SAMPLES = 11;
const SAMPLE_MS = 1;

/**
 * [rows, inC, outC] per kind; outC is a multiple of 8 so every group size applies. fc is
 * measured at batch 1, the executor's batch, where the kernels take their one-row paths (rows
 * 2-3 and 4+ take others, so mixing them would blur the one fit); a batch of rows is priced
 * as rows times one row.
 */
const GRID: Record<SparseKind, [number, number, number][]> = {
  conv1x1: [[16, 64, 64], [49, 128, 128], [196, 32, 64], [196, 64, 64], [144, 128, 128], [784, 16, 32]],
  fc: [[1, 256, 256], [1, 784, 128], [1, 128, 16], [1, 128, 64], [1, 64, 128], [1, 512, 32]],
};

export interface LinearFit { features: string[]; coefficients: number[]; medianRelativeError: number; maxRelativeError: number; points: number }

/**
 * Least squares on relative error with non-negative coefficients: solve, drop the most negative
 * feature (its coefficient becomes 0), solve again (a time model must not go below zero).
 */
function fit(features: string[], rows: number[][], times: number[]): LinearFit {
  const active = features.map(() => true);
  for (;;) {
    const idx = features.map((_, p) => p).filter((p) => active[p]);
    const c = solve(idx.map((p) => features[p]), rows.map((x) => idx.map((p) => x[p])), times);
    const worst = c.coefficients.reduce((w, v, i) => (v < 0 && (w < 0 || v < c.coefficients[w]) ? i : w), -1);
    if (worst < 0 || idx.length === 1) {
      const coefficients = features.map(() => 0);
      idx.forEach((p, i) => (coefficients[p] = Math.max(0, c.coefficients[i])));
      return { ...c, features, coefficients };
    }
    active[idx[worst]] = false;
  }
}

/** Least squares on relative error via the normal equations. */
function solve(features: string[], rows: number[][], times: number[]): LinearFit {
  const n = features.length;
  const a = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  rows.forEach((x, i) => {
    const w = 1 / times[i];
    for (let p = 0; p < n; p++) {
      for (let q = 0; q < n; q++) a[p][q] += x[p] * w * x[q] * w;
      a[p][n] += x[p] * w * times[i] * w;
    }
  });
  for (let p = 0; p < n; p++) { // Gauss-Jordan with partial pivoting
    let best = p;
    for (let r = p + 1; r < n; r++) if (Math.abs(a[r][p]) > Math.abs(a[best][p])) best = r;
    [a[p], a[best]] = [a[best], a[p]];
    for (let r = 0; r < n; r++) {
      if (r === p) continue;
      const f = a[r][p] / a[p][p];
      for (let q = p; q <= n; q++) a[r][q] -= f * a[p][q];
    }
  }
  const coefficients = a.map((row, p) => row[n] / row[p]);
  const errors = rows.map((x, i) => Math.abs(x.reduce((s, v, p) => s + v * coefficients[p], 0) - times[i]) / times[i]).sort((p, q) => p - q);
  return { features, coefficients, medianRelativeError: errors[errors.length >> 1], maxRelativeError: errors[errors.length - 1], points: rows.length };
}

export interface CostModel {
  date: string;
  machine: { cpu: string; cores: number; node: string; loadAverage: number[] };
  unit: 'us';
  method: string;
  dense: Record<KernelBuild, Record<SparseKind, LinearFit>>;
  sparse: Record<KernelBuild, Record<SparseKind, Record<string, LinearFit>>>;
}

export function measureCostModel(log: (line: string) => void = () => {}): CostModel {
  const dense = {} as CostModel['dense'];
  const sparse = {} as CostModel['sparse'];
  for (const build of ['mvp', 'simd'] as KernelBuild[]) {
    const k = loadKernels(build);
    const ws = new Workspace(k, 8 << 20);
    dense[build] = {} as Record<SparseKind, LinearFit>;
    sparse[build] = {} as Record<SparseKind, Record<string, LinearFit>>;
    for (const kind of ['conv1x1', 'fc'] as SparseKind[]) {
      const denseX: number[][] = [], denseT: number[] = [];
      sparse[build][kind] = {};
      for (const g of GROUP_SIZES) {
        const sparseX: number[][] = [], sparseT: number[] = [];
        for (const [rows, inC, outC] of GRID[kind]) {
          for (const sparsity of SPARSITIES) {
            ws.reset();
            const layer = prepareLayer(k, ws, { kind, rows, inC, outC }, g, sparsity, build === 'simd', 0xc057 + rows + inC + outC);
            const [d, s] = timeSideBySide([layer.dense, layer.sparse], SAMPLES, SAMPLE_MS);
            denseX.push([1, rows * outC, rows * outC * inC]);
            denseT.push(d[0] * 1e6);
            sparseX.push([1, rows * outC, rows * layer.nonzeroGroups]);
            sparseT.push(s[0] * 1e6);
          }
        }
        sparse[build][kind][String(g)] = fit(['1', 'rows*outC', 'rows*nonzeroGroups'], sparseX, sparseT);
        log(`${build} ${kind} g${g}: ${JSON.stringify(sparse[build][kind][String(g)])}`);
      }
      dense[build][kind] = fit(['1', 'rows*outC', 'rows*outC*inC'], denseX, denseT);
      log(`${build} ${kind} dense: ${JSON.stringify(dense[build][kind])}`);
    }
  }
  return {
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverage: os.loadavg().map((x) => +x.toFixed(2)) },
    unit: 'us',
    method: 'min of 11 interleaved 1 ms samples per point; least squares on relative error; bench/sparse_cost_model.ts',
    dense,
    sparse,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const model = measureCostModel((line) => console.error(line));
  const round = (_k: string, v: unknown) => (typeof v === 'number' ? +v.toPrecision(5) : v);
  const text = JSON.stringify(model, round, 2) + '\n';
  if (process.argv.includes('--dry-run')) process.stdout.write(text);
  else writeFileSync(new URL('../src/compiler/sparse_cost_model.json', import.meta.url), text);
}
