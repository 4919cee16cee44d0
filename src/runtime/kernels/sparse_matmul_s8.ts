// Scalar int8 sparse x dense product shared by sparse_conv1x1_s8 and
// sparse_fully_connected_s8 (the sparse reference):
//   output[r][c] = stage(sum over nonzero groups ci of block c/g: W[c][ci] * (input[r][ci] - inZp))
//   input int8 [rows][inC], weights: a group-sparse blob already validated for (outC, inC)
//   (docs/sparse.md), output int8 [rows][outC]. Bit-exact with matmulS8 on the decoded W:
//   int32 sums wrap, so neither the order of the terms nor the zero-point fold below changes them.
import { outputStageS8 } from './output_stage_s8';
import { sparseDeltasOffset, sparseGroupCount, sparseGroupSize, sparseValuesOffset } from '../sparse_weights';

/** Pixels per tile: each decoded (index, weight) serves this many rows. */
// @ts-ignore: decorator
@inline const TILE_ROWS: i32 = 4;

/**
 * Channel c over rows r..r+3: walks its block's n groups once. The input zero point is folded
 * out of the loop: sum w * (x - zp) = sum w * x - zp * sum w.
 * `deltas` u16 [n] (this block's), `values` = the block's values (pair-interleaved,
 * docs/sparse.md), `j` = c mod g.
 */
// @ts-ignore: decorator
@inline
function channelTile(x0: usize, inStride: usize, inZp: i32, deltas: usize, values: usize, n: i32, g: usize, j: usize, c: i32, y0: usize, outStride: usize, bias: usize, requant: usize, outZp: i32, actMin: i32, actMax: i32): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, wsum = 0;
  // p: row 0's input at the current index; rows 1..3 at p + inStride, + 2 inStride, + 3 inStride
  let p = x0, d = deltas, v = values + (j << 1);
  const pairsEnd = deltas + (<usize>(n & ~1) << 1);
  while (d < pairsEnd) {
    const pa = p + <usize>load<u16>(d);
    p = pa + <usize>load<u16>(d, 2);
    const wa = <i32>load<i8>(v), wb = <i32>load<i8>(v, 1);
    a0 += wa * <i32>load<i8>(pa) + wb * <i32>load<i8>(p);
    a1 += wa * <i32>load<i8>(pa + inStride) + wb * <i32>load<i8>(p + inStride);
    a2 += wa * <i32>load<i8>(pa + 2 * inStride) + wb * <i32>load<i8>(p + 2 * inStride);
    a3 += wa * <i32>load<i8>(pa + 3 * inStride) + wb * <i32>load<i8>(p + 3 * inStride);
    wsum += wa + wb;
    d += 4;
    v += g << 1;
  }
  if (n & 1) { // the lone last group: its g weights in order
    p += <usize>load<u16>(d);
    const w = <i32>load<i8>(values + <usize>(n - 1) * g + j);
    a0 += w * <i32>load<i8>(p);
    a1 += w * <i32>load<i8>(p + inStride);
    a2 += w * <i32>load<i8>(p + 2 * inStride);
    a3 += w * <i32>load<i8>(p + 3 * inStride);
    wsum += w;
  }
  const zpTerm = inZp * wsum;
  store<i8>(y0, <i8>outputStageS8(a0 - zpTerm, c, bias, requant, outZp, actMin, actMax));
  store<i8>(y0 + outStride, <i8>outputStageS8(a1 - zpTerm, c, bias, requant, outZp, actMin, actMax));
  store<i8>(y0 + 2 * outStride, <i8>outputStageS8(a2 - zpTerm, c, bias, requant, outZp, actMin, actMax));
  store<i8>(y0 + 3 * outStride, <i8>outputStageS8(a3 - zpTerm, c, bias, requant, outZp, actMin, actMax));
}

/**
 * One row, one block of G channels (G a constant at each call site, so the unused accumulators
 * and branches fold away): each input value is loaded once for its G weights. A pair of groups
 * stores channel j's two weights at 2j, 2j + 1; the lone last group channel j's at j.
 */
// @ts-ignore: decorator
@inline
function blockRow(x: usize, inZp: i32, deltas: usize, values: usize, n: i32, G: i32, c0: i32, y: usize, bias: usize, requant: usize, outZp: i32, actMin: i32, actMax: i32): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  // p: the input at the current group's index
  let p = x, d = deltas, v = values;
  const pairsEnd = deltas + (<usize>(n & ~1) << 1);
  if (G == 1) {
    // two pairs per iteration: a single channel has little work per group to hide the loop
    const quadsEnd = deltas + (<usize>(n & ~3) << 1);
    while (d < quadsEnd) {
      p += <usize>load<u16>(d); const x0 = <i32>load<i8>(p) - inZp;
      p += <usize>load<u16>(d, 2); const x1 = <i32>load<i8>(p) - inZp;
      p += <usize>load<u16>(d, 4); const x2 = <i32>load<i8>(p) - inZp;
      p += <usize>load<u16>(d, 6); const x3 = <i32>load<i8>(p) - inZp;
      a0 += <i32>load<i8>(v) * x0 + <i32>load<i8>(v, 1) * x1 + <i32>load<i8>(v, 2) * x2 + <i32>load<i8>(v, 3) * x3;
      d += 8;
      v += 4;
    }
  }
  while (d < pairsEnd) {
    p += <usize>load<u16>(d);
    const xa = <i32>load<i8>(p) - inZp;
    p += <usize>load<u16>(d, 2);
    const xb = <i32>load<i8>(p) - inZp;
    a0 += <i32>load<i8>(v) * xa + <i32>load<i8>(v, 1) * xb;
    if (G >= 2) a1 += <i32>load<i8>(v, 2) * xa + <i32>load<i8>(v, 3) * xb;
    if (G >= 4) {
      a2 += <i32>load<i8>(v, 4) * xa + <i32>load<i8>(v, 5) * xb;
      a3 += <i32>load<i8>(v, 6) * xa + <i32>load<i8>(v, 7) * xb;
    }
    if (G == 8) {
      a4 += <i32>load<i8>(v, 8) * xa + <i32>load<i8>(v, 9) * xb;
      a5 += <i32>load<i8>(v, 10) * xa + <i32>load<i8>(v, 11) * xb;
      a6 += <i32>load<i8>(v, 12) * xa + <i32>load<i8>(v, 13) * xb;
      a7 += <i32>load<i8>(v, 14) * xa + <i32>load<i8>(v, 15) * xb;
    }
    d += 4;
    v += <usize>(2 * G);
  }
  if (n & 1) {
    p += <usize>load<u16>(d);
    const xv = <i32>load<i8>(p) - inZp;
    a0 += <i32>load<i8>(v) * xv;
    if (G >= 2) a1 += <i32>load<i8>(v, 1) * xv;
    if (G >= 4) {
      a2 += <i32>load<i8>(v, 2) * xv;
      a3 += <i32>load<i8>(v, 3) * xv;
    }
    if (G == 8) {
      a4 += <i32>load<i8>(v, 4) * xv;
      a5 += <i32>load<i8>(v, 5) * xv;
      a6 += <i32>load<i8>(v, 6) * xv;
      a7 += <i32>load<i8>(v, 7) * xv;
    }
  }
  const yc = y + <usize>c0;
  store<i8>(yc, <i8>outputStageS8(a0, c0, bias, requant, outZp, actMin, actMax));
  if (G >= 2) store<i8>(yc, <i8>outputStageS8(a1, c0 + 1, bias, requant, outZp, actMin, actMax), 1);
  if (G >= 4) {
    store<i8>(yc, <i8>outputStageS8(a2, c0 + 2, bias, requant, outZp, actMin, actMax), 2);
    store<i8>(yc, <i8>outputStageS8(a3, c0 + 3, bias, requant, outZp, actMin, actMax), 3);
  }
  if (G == 8) {
    store<i8>(yc, <i8>outputStageS8(a4, c0 + 4, bias, requant, outZp, actMin, actMax), 4);
    store<i8>(yc, <i8>outputStageS8(a5, c0 + 5, bias, requant, outZp, actMin, actMax), 5);
    store<i8>(yc, <i8>outputStageS8(a6, c0 + 6, bias, requant, outZp, actMin, actMax), 6);
    store<i8>(yc, <i8>outputStageS8(a7, c0 + 7, bias, requant, outZp, actMin, actMax), 7);
  }
}

// @ts-ignore: decorator
@inline
export function sparseMatmulS8(input: usize, rows: i32, inC: i32, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  const g = sparseGroupSize(weights);
  const blocks = outC / g; // g in {1, 2, 4, 8}, divides outC (validated)
  const groups = sparseGroupCount(weights);
  const inStride = <usize>inC;
  const outStride = <usize>outC;
  const tiledRows = rows & ~(TILE_ROWS - 1);
  let counts = weights + 16;
  let deltas = weights + <usize>sparseDeltasOffset(<u32>blocks);
  let values = weights + <usize>sparseValuesOffset(<u32>blocks, groups);
  for (let b = 0; b < blocks; b++) {
    const n = <i32>load<u16>(counts);
    const c0 = b * g;
    for (let j = 0; j < g; j++) {
      let x = input, y = output + <usize>(c0 + j);
      for (let r = 0; r < tiledRows; r += TILE_ROWS) {
        channelTile(x, inStride, inZp, deltas, values, n, <usize>g, <usize>j, c0 + j, y, outStride, bias, requant, outZp, actMin, actMax);
        x += inStride * TILE_ROWS;
        y += outStride * TILE_ROWS;
      }
    }
    let x = input + inStride * <usize>tiledRows, y = output + outStride * <usize>tiledRows;
    for (let r = tiledRows; r < rows; r++) {
      if (g == 1) blockRow(x, inZp, deltas, values, n, 1, c0, y, bias, requant, outZp, actMin, actMax);
      else if (g == 2) blockRow(x, inZp, deltas, values, n, 2, c0, y, bias, requant, outZp, actMin, actMax);
      else if (g == 4) blockRow(x, inZp, deltas, values, n, 4, c0, y, bias, requant, outZp, actMin, actMax);
      else blockRow(x, inZp, deltas, values, n, 8, c0, y, bias, requant, outZp, actMin, actMax);
      x += inStride;
      y += outStride;
    }
    counts += 2;
    deltas += <usize>n << 1;
    values += <usize>(n * g);
  }
}
