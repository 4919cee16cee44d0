// Group-sparse weight blobs on the device (layout and rules: docs/sparse.md; host twin:
// src/formats/sparse.ts). Validation runs once, when a container is loaded; the sparse kernels
// then read the blob in place without checks.
//
//   0 u16 g | 2 u16 layout = 1 | 4 u32 outC | 8 u32 inC | 12 u32 groups
//   16 u16 counts[outC/g] | u16 deltas[groups] | 0-pad to 4 | i8 values[groups*g]
// Values, per block: groups 2p and 2p+1 interleaved (a0 b0 a1 b1 .. a[g-1] b[g-1]), then the
// last group of an odd count alone (its g weights in order).

// @ts-ignore: decorator
@inline export const SPARSE_HEADER_BYTES: u32 = 16;
// @ts-ignore: decorator
@inline export const SPARSE_MAX_IN_CHANNELS: u32 = 65535;
/** The header's layout field: values interleaved by pairs of groups. */
// @ts-ignore: decorator
@inline export const SPARSE_LAYOUT_PAIRS: u16 = 1;

/** Group size g of a valid blob. */
// @ts-ignore: decorator
@inline
export function sparseGroupSize(blob: usize): i32 {
  return <i32>load<u16>(blob);
}

/** Total nonzero groups of a valid blob. */
// @ts-ignore: decorator
@inline
export function sparseGroupCount(blob: usize): u32 {
  return load<u32>(blob, 12);
}

/** Byte offset of deltas[]: after the header and counts[blocks]. */
// @ts-ignore: decorator
@inline
export function sparseDeltasOffset(blocks: u32): u32 {
  return SPARSE_HEADER_BYTES + (blocks << 1);
}

/** Byte offset of values[]: deltas[groups] rounded up to 4 bytes. */
// @ts-ignore: decorator
@inline
export function sparseValuesOffset(blocks: u32, groups: u32): u32 {
  return (sparseDeltasOffset(blocks) + (groups << 1) + 3) & ~3;
}

/**
 * Byte offset of the first broken field of the blob [ptr, ptr + len) for a layer (outC, inC),
 * or -1 when it is valid; the rules, in order, are docs/sparse.md's table (offset `len` for a
 * wrong length). Never reads outside the blob; every loop runs at most len / 2 times. Sizes are
 * computed in u64 so no header value can overflow them.
 */
export function sparseWeightsFault(ptr: usize, len: u32, outC: u32, inC: u32): i32 {
  if (len < SPARSE_HEADER_BYTES) return <i32>len;
  const g = <u32>load<u16>(ptr);
  if (g != 1 && g != 2 && g != 4 && g != 8) return 0;
  if (load<u16>(ptr, 2) != SPARSE_LAYOUT_PAIRS) return 2;
  if (load<u32>(ptr, 4) != outC || outC < 1) return 4;
  if (load<u32>(ptr, 8) != inC || inC < 1 || inC > SPARSE_MAX_IN_CHANNELS) return 8;
  if (outC % g != 0) return 0;
  const blocks = outC / g;
  if (<u64>SPARSE_HEADER_BYTES + (<u64>blocks << 1) > <u64>len) return <i32>SPARSE_HEADER_BYTES;
  // from here on every offset below len fits i32 (len is u32 but a blob lives in memory < 4 GiB)
  let sum: u64 = 0;
  for (let b: u32 = 0; b < blocks; b++) {
    const n = <u32>load<u16>(ptr + SPARSE_HEADER_BYTES + (<usize>b << 1));
    if (n > inC) return <i32>(SPARSE_HEADER_BYTES + (b << 1));
    sum += n;
  }
  const groups = load<u32>(ptr, 12);
  if (<u64>groups != sum) return 12;
  const deltasAt = <u64>sparseDeltasOffset(blocks);
  const valuesAt = (deltasAt + (<u64>groups << 1) + 3) & ~(<u64>3);
  if (valuesAt + <u64>groups * <u64>g != <u64>len) return <i32>len;
  let at = ptr + <usize>deltasAt;
  for (let b: u32 = 0; b < blocks; b++) {
    const n = <u32>load<u16>(ptr + SPARSE_HEADER_BYTES + (<usize>b << 1));
    if (n == 0) continue;
    let ci = <u32>load<u16>(at);
    if (ci >= inC) return <i32>(at - ptr);
    at += 2;
    for (let i: u32 = 1; i < n; i++) {
      const d = <u32>load<u16>(at);
      ci += d;
      if (d == 0 || ci >= inC) return <i32>(at - ptr);
      at += 2;
    }
  }
  const valuesPtr = ptr + <usize>valuesAt;
  for (; at < valuesPtr; at++) if (load<u8>(at) != 0) return <i32>(at - ptr);
  const end = ptr + <usize>len;
  for (; at < end; at++) if (load<u8>(at) == 0x80) return <i32>(at - ptr);
  return -1;
}

/** True when [ptr, ptr + len) is a valid group-sparse blob for a layer (outC, inC). */
export function validateSparseWeights(ptr: usize, len: u32, outC: u32, inC: u32): bool {
  return sparseWeightsFault(ptr, len, outC, inC) < 0;
}
