// Group-sparse weight blobs (docs/sparse.md): encode, decode, validate, sizes.
// A blob stores W[outC][inC] (int8, row-major) pruned in groups of g output channels x 1 input
// channel: per block of g channels, the nonzero input channels as u16 deltas, then their
// g weights each, interleaved by pairs of groups (the operand order of the SIMD dot products).
import { FormatError, ShapeError } from './errors.js';

export const SPARSE_GROUP_SIZES = [1, 2, 4, 8] as const;
export const SPARSE_HEADER_BYTES = 16;
/** The header's layout field: values interleaved by pairs of groups (the only layout read). */
export const SPARSE_LAYOUT_PAIRS = 1;
/** Largest inC: indices and per-block counts are u16. */
export const SPARSE_MAX_IN_CHANNELS = 65535;

export interface SparseLayout {
  countsAt: number;
  deltasAt: number;
  valuesAt: number;
  length: number;
}

/** Byte offsets of the blob's arrays and its exact length. */
export function sparseLayout(outC: number, g: number, groups: number): SparseLayout {
  const countsAt = SPARSE_HEADER_BYTES;
  const deltasAt = countsAt + 2 * (outC / g);
  const valuesAt = (deltasAt + 2 * groups + 3) & ~3;
  return { countsAt, deltasAt, valuesAt, length: valuesAt + groups * g };
}

/** Exact blob length for a layer with `groups` nonzero groups. */
export function sparseBlobBytes(outC: number, inC: number, g: number, groups: number): number {
  checkShape(outC, inC, g);
  return sparseLayout(outC, g, groups).length;
}

function checkShape(outC: number, inC: number, g: number): void {
  if (!(SPARSE_GROUP_SIZES as readonly number[]).includes(g)) throw new ShapeError(`group size ${g} is not one of ${SPARSE_GROUP_SIZES.join(', ')}`);
  if (!Number.isInteger(outC) || outC < 1 || outC % g !== 0) throw new ShapeError(`outC ${outC} is not a positive multiple of the group size ${g}`);
  if (!Number.isInteger(inC) || inC < 1 || inC > SPARSE_MAX_IN_CHANNELS) throw new ShapeError(`inC ${inC} is outside [1, ${SPARSE_MAX_IN_CHANNELS}]`);
}

/**
 * Offset, from the block's first value, of the weight of output channel j of the block's group
 * i (of n): groups 2p and 2p+1 interleave their g weights (a0 b0 a1 b1 ...); the last group of
 * an odd count stands alone (its g weights in order). For g = 1 this is plain group order.
 */
export function sparseValueOffset(i: number, n: number, g: number, j: number): number {
  return i < (n & ~1) ? (i & ~1) * g + 2 * j + (i & 1) : i * g + j;
}

function checkWeights(weights: Int8Array, outC: number, inC: number): void {
  if (weights.length !== outC * inC) throw new ShapeError(`weights have ${weights.length} values, expected outC * inC = ${outC} * ${inC}`);
}

/** True when input channel ci of block b has a non-zero weight. */
function groupIsNonzero(weights: Int8Array, inC: number, g: number, b: number, ci: number): boolean {
  for (let j = 0; j < g; j++) if (weights[(b * g + j) * inC + ci] !== 0) return true;
  return false;
}

/** Number of groups (of all (outC/g) * inC) with a non-zero weight. */
export function nonzeroGroups(weights: Int8Array, outC: number, inC: number, g: number): number {
  checkShape(outC, inC, g);
  checkWeights(weights, outC, inC);
  let n = 0;
  for (let b = 0; b < outC / g; b++) for (let ci = 0; ci < inC; ci++) if (groupIsNonzero(weights, inC, g, b, ci)) n++;
  return n;
}

/** Fraction of groups whose g weights are all zero, in [0, 1]. */
export function groupSparsity(weights: Int8Array, outC: number, inC: number, g: number): number {
  return 1 - nonzeroGroups(weights, outC, inC, g) / ((outC / g) * inC);
}

/** Encodes W[outC][inC] (values in [-127, 127]) with group size g. */
export function encodeGroupSparse(weights: Int8Array, outC: number, inC: number, g: number): Uint8Array {
  checkShape(outC, inC, g);
  checkWeights(weights, outC, inC);
  const bad = weights.indexOf(-128);
  if (bad >= 0) throw new ShapeError(`weight ${bad} is -128; int8 weights must be in [-127, 127]`);
  const blocks = outC / g;
  const indices: number[][] = [];
  for (let b = 0; b < blocks; b++) {
    const list: number[] = [];
    for (let ci = 0; ci < inC; ci++) if (groupIsNonzero(weights, inC, g, b, ci)) list.push(ci);
    indices.push(list);
  }
  const groups = indices.reduce((n, list) => n + list.length, 0);
  const at = sparseLayout(outC, g, groups);
  const blob = new Uint8Array(at.length);
  const view = new DataView(blob.buffer);
  view.setUint16(0, g, true);
  view.setUint32(4, outC, true);
  view.setUint32(8, inC, true);
  view.setUint32(12, groups, true);
  view.setUint16(2, SPARSE_LAYOUT_PAIRS, true);
  let k = 0;
  for (let b = 0; b < blocks; b++) {
    const n = indices[b].length;
    view.setUint16(at.countsAt + 2 * b, n, true);
    const blockValues = at.valuesAt + k * g;
    let previous = 0;
    indices[b].forEach((ci, i) => {
      view.setUint16(at.deltasAt + 2 * (k + i), ci - previous, true);
      for (let j = 0; j < g; j++) view.setInt8(blockValues + sparseValueOffset(i, n, g, j), weights[(b * g + j) * inC + ci]);
      previous = ci;
    });
    k += n;
  }
  return blob;
}

/** The dense weights W[outC][inC] of a blob (validated first). */
export function decodeGroupSparse(blob: Uint8Array): { g: number; outC: number; inC: number; weights: Int8Array } {
  if (blob.length < SPARSE_HEADER_BYTES) throw new FormatError(`group-sparse blob of ${blob.length} B is shorter than its ${SPARSE_HEADER_BYTES}-byte header`, blob.length);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const outC = view.getUint32(4, true);
  const inC = view.getUint32(8, true);
  validateGroupSparse(blob, outC, inC);
  const g = view.getUint16(0, true);
  const at = sparseLayout(outC, g, view.getUint32(12, true));
  const weights = new Int8Array(outC * inC);
  let k = 0;
  for (let b = 0; b < outC / g; b++) {
    const n = view.getUint16(at.countsAt + 2 * b, true);
    const blockValues = at.valuesAt + k * g;
    let ci = 0;
    for (let i = 0; i < n; i++) {
      ci += view.getUint16(at.deltasAt + 2 * (k + i), true);
      for (let j = 0; j < g; j++) weights[(b * g + j) * inC + ci] = view.getInt8(blockValues + sparseValueOffset(i, n, g, j));
    }
    k += n;
  }
  return { g, outC, inC, weights };
}

/**
 * Checks a blob against the layer it is for; throws FormatError naming the field and its byte
 * offset (the rules and their order: docs/sparse.md, shared with the device validator).
 */
export function validateGroupSparse(blob: Uint8Array, outC: number, inC: number): void {
  const fail = (what: string, offset: number): never => {
    throw new FormatError(`group-sparse weights: ${what}`, offset);
  };
  const len = blob.length;
  if (len < SPARSE_HEADER_BYTES) fail(`blob of ${len} B is shorter than the ${SPARSE_HEADER_BYTES}-byte header`, len);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const g = view.getUint16(0, true);
  if (!(SPARSE_GROUP_SIZES as readonly number[]).includes(g)) fail(`group size ${g} is not 1, 2, 4 or 8`, 0);
  const layout = view.getUint16(2, true);
  if (layout !== SPARSE_LAYOUT_PAIRS) fail(`layout is ${layout}, not ${SPARSE_LAYOUT_PAIRS} (values interleaved by pairs of groups${layout === 0 ? '; a blob of the earlier group-by-group layout: compile the model again' : ''})`, 2);
  const blobOutC = view.getUint32(4, true);
  if (blobOutC !== outC || outC < 1) fail(`outC is ${blobOutC}, the layer has ${outC}`, 4);
  const blobInC = view.getUint32(8, true);
  if (blobInC !== inC || inC < 1 || inC > SPARSE_MAX_IN_CHANNELS) fail(`inC is ${blobInC}, the layer has ${inC} (at most ${SPARSE_MAX_IN_CHANNELS})`, 8);
  if (outC % g !== 0) fail(`group size ${g} does not divide outC ${outC}`, 0);
  const blocks = outC / g;
  const countsAt = SPARSE_HEADER_BYTES;
  if (len < countsAt + 2 * blocks) fail(`${blocks} block counts run past the end of the ${len}-byte blob`, countsAt);
  let sum = 0;
  for (let b = 0; b < blocks; b++) {
    const n = view.getUint16(countsAt + 2 * b, true);
    if (n > inC) fail(`block ${b} counts ${n} groups, more than inC ${inC}`, countsAt + 2 * b);
    sum += n;
  }
  const groups = view.getUint32(12, true);
  if (groups !== sum) fail(`groups is ${groups} but the block counts add up to ${sum}`, 12);
  const at = sparseLayout(outC, g, groups);
  if (len !== at.length) fail(`blob is ${len} B, its header implies exactly ${at.length} B`, len);
  let k = 0;
  for (let b = 0; b < blocks; b++) {
    let ci = -1;
    for (let i = view.getUint16(countsAt + 2 * b, true); i > 0; i--, k++) {
      const at2 = at.deltasAt + 2 * k;
      const d = view.getUint16(at2, true);
      if (ci >= 0 && d === 0) fail(`block ${b}: zero delta after its first group`, at2);
      ci = ci < 0 ? d : ci + d;
      if (ci >= inC) fail(`block ${b}: input channel ${ci} >= inC ${inC}`, at2);
    }
  }
  for (let p = at.deltasAt + 2 * groups; p < at.valuesAt; p++) if (blob[p] !== 0) fail(`padding byte is ${blob[p]}, not 0`, p);
  for (let p = at.valuesAt; p < len; p++) if (blob[p] === 0x80) fail('weight value -128 (int8 weights are in [-127, 127])', p);
}
