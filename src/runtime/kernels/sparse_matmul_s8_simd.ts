// SIMD128 int8 sparse x dense product shared by sparse_conv1x1_s8_simd and
// sparse_fully_connected_s8_simd; bit-exact with sparseMatmulS8 (and so with matmulS8 on the
// decoded weights). Same operands: input int8 [rows][inC], a group-sparse blob validated for
// (outC, inC), output int8 [rows][outC].
//   G = 8, rows >= 4 (G = 4: also when the block has few groups): 4 rows at a time, lanes =
//            the block's output channels (sparse_quads_s8_simd.ts)
//   G <= 4, rows >= 8: tiles of 8 pixels, lanes = pixels (sparse_tiles_s8_simd.ts)
//   other:   one row at a time, lanes = the block's output channels (sparse_rows_s8_simd.ts);
//            a single row (FC at batch 1) runs its block loop in a function per group size
// Each block is dispatched on g once, so the inner loops are compiled per group size.
import { sparseBlockQuads, QUAD_ROWS } from './sparse_quads_s8_simd';
import { sparseBlockRow } from './sparse_rows_s8_simd';
import { sparseBlockTiles, TILE_MIN_ROWS } from './sparse_tiles_s8_simd';
import { sparseDeltasOffset, sparseGroupCount, sparseGroupSize, sparseValuesOffset } from '../sparse_weights';

/**
 * Nonzero groups below which a block of 4 channels takes the 4-row pass rather than the pixel
 * tiles: the tiles' gathers cost less per group, the 4-row pass's output stage less per row
 * (measured crossover about 7 groups; bench/kernels_sparse.ts).
 */
// @ts-ignore: decorator
@inline const QUAD_MAX_GROUPS_G4: i32 = 8;

/** All rows, block of G channels starting at c (G constant at each call site). */
// @ts-ignore: decorator
@inline
function block(input: usize, rows: i32, inC: i32, inZp: i32, zp: v128, deltas: usize, values: usize, n: i32, G: i32, c: i32, output: usize, outC: i32, bias: usize, requant: usize, outZp: i32, actMin: i32, actMax: i32, actLo: v128, actHi: v128): void {
  const inStride = <usize>inC, outStride = <usize>outC;
  const quads = G == 8 ? rows >= QUAD_ROWS : G == 4 && rows >= QUAD_ROWS && (n < QUAD_MAX_GROUPS_G4 || rows < TILE_MIN_ROWS);
  if (quads) {
    sparseBlockQuads(input, rows, inStride, inZp, deltas, values, n, G, c, output, outStride, bias, requant, outZp, actLo, actHi);
    return;
  }
  if (G <= 4 && rows >= TILE_MIN_ROWS) {
    sparseBlockTiles(input, rows, inStride, zp, deltas, values, n, G, c, output, outStride, bias, requant, outZp, actLo, actHi);
    return;
  }
  let x = input, y = output;
  for (let r = 0; r < rows; r++) {
    sparseBlockRow(x, inZp, zp, deltas, values, n, G, c, y, bias, requant, outZp, actMin, actMax, actLo, actHi);
    x += inStride;
    y += outStride;
  }
}

/**
 * One row (a fully connected layer at batch 1), every block of G channels (G constant at each
 * call site): a loop of its own, so the per-block work is only the row kernel.
 */
// @ts-ignore: decorator
@inline
function singleRow(x: usize, inZp: i32, weights: usize, outC: i32, G: i32, bias: usize, requant: usize, y: usize, outZp: i32, actMin: i32, actMax: i32): void {
  const blocks = outC / G;
  const zp = i16x8.splat(<i16>inZp);
  const actLo = i8x16.splat(<i8>actMin), actHi = i8x16.splat(<i8>actMax);
  let counts = weights + 16;
  let deltas = weights + <usize>sparseDeltasOffset(<u32>blocks);
  let values = weights + <usize>sparseValuesOffset(<u32>blocks, sparseGroupCount(weights));
  for (let c = 0; c < outC; c += G) {
    const n = <i32>load<u16>(counts);
    sparseBlockRow(x, inZp, zp, deltas, values, n, G, c, y, bias, requant, outZp, actMin, actMax, actLo, actHi);
    counts += 2;
    deltas += <usize>n << 1;
    values += <usize>(n * G);
  }
}

// One function per group size: V8 allocates registers per function, and these loops are hot.
function singleRow8(x: usize, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, y: usize, outZp: i32, actMin: i32, actMax: i32): void {
  singleRow(x, inZp, weights, outC, 8, bias, requant, y, outZp, actMin, actMax);
}
function singleRow4(x: usize, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, y: usize, outZp: i32, actMin: i32, actMax: i32): void {
  singleRow(x, inZp, weights, outC, 4, bias, requant, y, outZp, actMin, actMax);
}
function singleRow2(x: usize, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, y: usize, outZp: i32, actMin: i32, actMax: i32): void {
  singleRow(x, inZp, weights, outC, 2, bias, requant, y, outZp, actMin, actMax);
}
function singleRow1(x: usize, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, y: usize, outZp: i32, actMin: i32, actMax: i32): void {
  singleRow(x, inZp, weights, outC, 1, bias, requant, y, outZp, actMin, actMax);
}

// @ts-ignore: decorator
@inline
export function sparseMatmulS8Simd(input: usize, rows: i32, inC: i32, inZp: i32, weights: usize, outC: i32, bias: usize, requant: usize, output: usize, outZp: i32, actMin: i32, actMax: i32): void {
  const g = sparseGroupSize(weights);
  if (rows == 1) {
    if (g == 8) singleRow8(input, inZp, weights, outC, bias, requant, output, outZp, actMin, actMax);
    else if (g == 4) singleRow4(input, inZp, weights, outC, bias, requant, output, outZp, actMin, actMax);
    else if (g == 2) singleRow2(input, inZp, weights, outC, bias, requant, output, outZp, actMin, actMax);
    else singleRow1(input, inZp, weights, outC, bias, requant, output, outZp, actMin, actMax);
    return;
  }
  const blocks = outC / g; // g in {1, 2, 4, 8}, divides outC (validated)
  const groups = sparseGroupCount(weights);
  const zp = i16x8.splat(<i16>inZp);
  const actLo = i8x16.splat(<i8>actMin), actHi = i8x16.splat(<i8>actMax);
  let counts = weights + 16;
  let deltas = weights + <usize>sparseDeltasOffset(<u32>blocks);
  let values = weights + <usize>sparseValuesOffset(<u32>blocks, groups);
  for (let b = 0; b < blocks; b++) {
    const n = <i32>load<u16>(counts);
    const c = b * g;
    if (g == 1) block(input, rows, inC, inZp, zp, deltas, values, n, 1, c, output, outC, bias, requant, outZp, actMin, actMax, actLo, actHi);
    else if (g == 2) block(input, rows, inC, inZp, zp, deltas, values, n, 2, c, output, outC, bias, requant, outZp, actMin, actMax, actLo, actHi);
    else if (g == 4) block(input, rows, inC, inZp, zp, deltas, values, n, 4, c, output, outC, bias, requant, outZp, actMin, actMax, actLo, actHi);
    else block(input, rows, inC, inZp, zp, deltas, values, n, 8, c, output, outC, bias, requant, outZp, actMin, actMax, actLo, actHi);
    counts += 2;
    deltas += <usize>n << 1;
    values += <usize>(n * g);
  }
}
