// Group-sparse kernels (sparse_conv1x1_s8, sparse_fully_connected_s8: scalar on both builds,
// SIMD on the simd build) against the dense scalar kernel on the same pruned weights: the
// outputs must be identical. Cases walk the group sizes, tile edges (rows around 4 and 8,
// channel counts around 4, 8, 16), block patterns (empty, dense, one group, random) and
// sparsities from 0 to 100 %; every case is reproducible from its seed.
import { describe as group, expect, it } from 'vitest';
import { encodeGroupSparse } from '../../src/formats/sparse.js';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import type { OutputStage } from '../oracle/conv.js';
import {
  describe, firstMismatch, placeOutput, placeStage, randomActivations, randomStage, randomWeights, randomZeroPoint,
  readOutput, variantsOf,
} from './mac_cases.js';

const CASES = 1000;
const MAX_MACS = 60_000;
const GROUP_SIZES = [1, 2, 4, 8] as const;
/** Blocks per layer around the SIMD widths (outC = blocks * g). */
const EDGE_BLOCKS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17];
const EDGE_IN = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64];

type BlockPattern = 'random' | 'empty' | 'dense' | 'one';

interface SparseCase {
  seed: number; rows: number; inC: number; outC: number; g: number; inZp: number; sparsity: number;
  patterns: BlockPattern[]; x: Int8Array; w: Int8Array; stage: OutputStage;
}

/** Zeroes whole groups of w [outC][inC] by block pattern; the kept groups keep their values. */
function pruneGroups(rng: Rng, w: Int8Array, outC: number, inC: number, g: number, sparsity: number, patterns: BlockPattern[]): void {
  for (let b = 0; b < outC / g; b++) {
    const one = rng.int(0, inC - 1);
    for (let ci = 0; ci < inC; ci++) {
      const p = patterns[b];
      const keep = p === 'dense' || (p === 'one' && ci === one) || (p === 'random' && rng.next() >= sparsity);
      for (let j = 0; j < g; j++) {
        const at = (b * g + j) * inC + ci;
        if (!keep) w[at] = 0;
        else if (p === 'dense' && j === 0 && w[at] === 0) w[at] = 1; // a dense block has no all-zero group
      }
    }
  }
}

function makeCase(seed: number, rowChoices: (rng: Rng) => number): SparseCase {
  const rng = new Rng(seed);
  let rows: number, inC: number, outC: number, g: number;
  do {
    g = rng.pick(GROUP_SIZES);
    outC = g * (rng.next() < 0.7 ? rng.pick(EDGE_BLOCKS) : rng.int(1, 24));
    inC = rng.next() < 0.7 ? rng.pick(EDGE_IN) : rng.int(1, 300);
    rows = rowChoices(rng);
  } while (rows * inC * outC > MAX_MACS);
  const sparsity = rng.pick([0, 0.5, 0.7, 0.8, 0.9, 0.95, 1, rng.next()]);
  const patterns = Array.from({ length: outC / g }, () => rng.pick<BlockPattern>(['random', 'random', 'random', 'empty', 'dense', 'one']));
  const w = randomWeights(rng, outC * inC);
  if (rng.next() < 0.3) for (let i = 0; i < w.length; i++) if (rng.next() < 0.3) w[i] = 0; // zeros inside kept groups
  pruneGroups(rng, w, outC, inC, g, sparsity, patterns);
  return {
    seed, rows, inC, outC, g, inZp: randomZeroPoint(rng), sparsity, patterns,
    x: randomActivations(rng, rows * inC), w, stage: randomStage(rng, outC, inC),
  };
}

/** Nonzero groups of each block of a case's weights. */
function blockGroupCounts(c: SparseCase): number[] {
  return Array.from({ length: c.outC / c.g }, (_, b) => {
    let n = 0;
    for (let ci = 0; ci < c.inC; ci++) {
      let any = false;
      for (let j = 0; j < c.g; j++) any ||= c.w[(b * c.g + j) * c.inC + ci] !== 0;
      if (any) n++;
    }
    return n;
  });
}

const EXTREME_BIAS = 2147483600;

const kernels = [
  { name: 'conv1x1_s8', seed: 0x5c1000, rows: (rng: Rng) => rng.pick([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 49, 196, rng.int(1, 64)]) },
  { name: 'fully_connected_s8', seed: 0x5fc000, rows: (rng: Rng) => rng.pick([1, 1, 1, 2, 3, 7, 8, 9, rng.int(1, 12)]) },
];

for (const kernel of kernels) {
  const cases = Array.from({ length: CASES }, (_, i) => makeCase(kernel.seed + i, kernel.rows));
  group(`sparse_${kernel.name}`, () => {
    it('cases cover every group size, empty and dense layers, 1 and >= 8 rows', () => {
      for (const g of GROUP_SIZES) expect(cases.filter((c) => c.g === g).length).toBeGreaterThan(100);
      expect(cases.some((c) => c.sparsity === 1 || c.patterns.every((p) => p === 'empty'))).toBe(true);
      expect(cases.some((c) => c.sparsity === 0)).toBe(true);
      expect(cases.filter((c) => c.rows === 1).length).toBeGreaterThan(50);
      expect(cases.filter((c) => c.rows >= 8).length).toBeGreaterThan(kernel.name === 'conv1x1_s8' ? 300 : 100);
    });
    it('cases reach every SIMD path: 4-row passes (g 8, and g 4 blocks with < 8 groups), pixel tiles, single rows', () => {
      const counts = cases.map(blockGroupCounts);
      const quadCases = cases.filter((c) => c.rows >= 4 && (c.g === 8 || (c.g === 4 && (c.rows < 8 || counts[cases.indexOf(c)].some((n) => n < 8)))));
      const tileCases = cases.filter((c, i) => c.rows >= 8 && c.g <= 4 && (c.g < 4 || counts[i].some((n) => n >= 8)));
      const rowCases = cases.filter((c) => c.rows < 4 || (c.g <= 2 && c.rows < 8));
      // the 4-row pass also sees a partial last quad (rows % 4 != 0) and biases beyond the
      // bounded fast requantization (its general fallback)
      expect(quadCases.length).toBeGreaterThan(kernel.name === 'conv1x1_s8' ? 200 : 50);
      expect(quadCases.filter((c) => c.rows % 4 !== 0).length).toBeGreaterThan(20);
      expect(quadCases.filter((c) => c.stage.bias?.some((b) => Math.abs(b) >= EXTREME_BIAS)).length).toBeGreaterThan(5);
      expect(tileCases.length).toBeGreaterThan(kernel.name === 'conv1x1_s8' ? 150 : 30);
      expect(rowCases.length).toBeGreaterThan(100);
    });
    it('the comparison sees a changed weight (the dense and sparse outputs are real)', () => {
      const k = loadKernels('simd');
      const ws = new Workspace(k);
      const c = makeCase(kernel.seed, () => 9);
      c.w.fill(0)[c.inC - 1] = 100; // channel 0: one group, the last input channel
      c.x.fill(-127); // x - inZp = 1
      const stage: OutputStage = { bias: null, requant: Int32Array.from({ length: 2 * c.outC }, (_, i) => (i % 2 ? 0 : 1 << 30)), outZp: 0, actMin: -128, actMax: 127 };
            const blob = encodeGroupSparse(c.w, c.outC, c.inC, c.g);
      blob[blob.length - c.g] = 1; // channel 0's last weight: 100 -> 1
      const [bias, requant] = placeStage(ws, stage);
      const n = c.rows * c.outC;
      const outputs = [kernel.name, `sparse_${kernel.name}_simd`].map((name, i) => {
        const y = placeOutput(ws, n);
        const w = i === 0 ? ws.i8(c.w) : ws.i8(new Int8Array(blob.buffer));
        k[name](ws.i8(c.x), c.rows, c.inC, -128, w, c.outC, bias, requant, y, 0, -128, 127);
        return readOutput(ws, y, n);
      });
      expect(firstMismatch(outputs[0], outputs[1])).not.toBeNull();
    });
    for (const v of variantsOf(`sparse_${kernel.name}`)) {
      it(`${v.name} (${v.build}) equals dense ${kernel.name} on the pruned weights, ${CASES} seeded cases`, () => {
        const k = loadKernels(v.build);
        const ws = new Workspace(k);
        const sparse = k[v.name] as (...a: number[]) => void;
        const dense = k[kernel.name] as (...a: number[]) => void;
        for (const [i, c] of cases.entries()) {
          ws.reset();
          const blob = encodeGroupSparse(c.w, c.outC, c.inC, c.g);
          const [bias, requant] = placeStage(ws, c.stage);
          const n = c.rows * c.outC;
          const yDense = placeOutput(ws, n);
          const ySparse = placeOutput(ws, n);
          const mem = () => new Uint8Array(k.memory.buffer);
          // alternate cases put the blob or the input flush against the end of memory, so a read
          // past either traps
          const end = k.memory.buffer.byteLength;
          let xPtr: number, blobPtr: number;
          if (i % 2 === 0) {
            xPtr = ws.i8(c.x);
            blobPtr = end - blob.length;
          } else {
            blobPtr = ws.alloc(blob.length);
            xPtr = end - c.x.length;
            new Int8Array(k.memory.buffer, xPtr, c.x.length).set(c.x);
          }
          mem().set(blob, blobPtr);
          const wPtr = ws.i8(c.w);
          const { outZp, actMin, actMax } = c.stage;
          dense(xPtr, c.rows, c.inC, c.inZp, wPtr, c.outC, bias, requant, yDense, outZp, actMin, actMax);
          sparse(xPtr, c.rows, c.inC, c.inZp, blobPtr, c.outC, bias, requant, ySparse, outZp, actMin, actMax);
          const bad = firstMismatch(readOutput(ws, yDense, n), readOutput(ws, ySparse, n));
          if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
        }
      });
    }
  });
}

/**
 * Exact group counts per block around the pair and quad boundaries of the SIMD loops (an odd
 * count leaves a lone last group; 0 is an empty block; inC groups is a fully dense block), at
 * row counts around the 4-row pass and the 8-pixel tiles; every block of a layer has its own
 * count, so empty and full blocks sit next to partial ones.
 */
group('sparse kernels at exact group counts per block', () => {
  const ROWS = [1, 3, 4, 5, 7, 8, 9, 12];
  const COUNTS = [0, 1, 2, 3, 4, 5, 8, 9, 17];
  const IN_C = 17;
  function exactCase(seed: number, g: number, rows: number): SparseCase {
    const rng = new Rng(seed);
    const outC = g * COUNTS.length;
    const w = randomWeights(rng, outC * IN_C);
    COUNTS.forEach((n, b) => {
      const kept = new Set(rng.shuffle(Array.from({ length: IN_C }, (_, i) => i)).slice(0, n));
      for (let ci = 0; ci < IN_C; ci++) {
        for (let j = 0; j < g; j++) {
          const at = (b * g + j) * IN_C + ci;
          if (!kept.has(ci)) w[at] = 0;
          else if (j === 0 && w[at] === 0) w[at] = -1; // every kept group is nonzero
        }
      }
    });
    return {
      seed, rows, inC: IN_C, outC, g, inZp: randomZeroPoint(rng), sparsity: -1, patterns: [],
      x: randomActivations(rng, rows * IN_C), w, stage: randomStage(rng, outC, IN_C),
    };
  }
  for (const kernel of ['conv1x1_s8', 'fully_connected_s8']) {
    for (const v of variantsOf(`sparse_${kernel}`)) {
      it(`${v.name} (${v.build}): g 1-8, blocks of ${COUNTS.join(', ')} groups, rows ${ROWS.join(', ')}`, () => {
        const k = loadKernels(v.build);
        const ws = new Workspace(k);
        let checked = 0;
        for (const g of GROUP_SIZES) {
          for (const rows of ROWS) {
            ws.reset();
            const c = exactCase(0x5e0000 + g * 100 + rows, g, rows);
            const blob = encodeGroupSparse(c.w, c.outC, c.inC, g);
            expect(blockGroupCounts(c), describe(c)).toEqual(COUNTS);
            const [bias, requant] = placeStage(ws, c.stage);
            const n = rows * c.outC;
            const yDense = placeOutput(ws, n), ySparse = placeOutput(ws, n);
            const xPtr = ws.i8(c.x), wPtr = ws.i8(c.w), blobPtr = ws.i8(new Int8Array(blob.buffer));
            const { outZp, actMin, actMax } = c.stage;
            k[kernel](xPtr, rows, c.inC, c.inZp, wPtr, c.outC, bias, requant, yDense, outZp, actMin, actMax);
            k[v.name](xPtr, rows, c.inC, c.inZp, blobPtr, c.outC, bias, requant, ySparse, outZp, actMin, actMax);
            const bad = firstMismatch(readOutput(ws, yDense, n), readOutput(ws, ySparse, n));
            if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
            checked++;
          }
        }
        expect(checked).toBe(GROUP_SIZES.length * ROWS.length);
      });
    }
  }
});
