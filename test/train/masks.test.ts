// relu_mask_s8 and apply_mask_f32 (scalar and SIMD) against a direct TypeScript statement of
// the mask contract: bit i (LSB first) = actMin < q[i] < actMax; zero the gradient where 0.
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { firstBitMismatch, loadTrainKernels, trainVariants, Workspace } from '../helpers/train_kernels.js';

const SENTINEL = 0xa5;

/** Counts around the 8-element byte and the 16-element SIMD step, then random ones. */
function counts(rng: Rng): number[] {
  const edges = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];
  return [...edges, ...Array.from({ length: 40 }, () => rng.int(1, 2000))];
}

/** [actMin, actMax] pairs: ReLU at a zero point, ReLU6-like, none, empty, beyond int8. */
function bounds(rng: Rng): [number, number] {
  const zp = rng.int(-128, 100);
  return rng.pick<[number, number]>([[zp, 127], [zp, Math.min(127, zp + rng.int(1, 120))], [-128, 127], [5, 5], [10, -10], [-300, 400], [-128, 200], [rng.int(-128, 127), rng.int(-128, 127)]]);
}

function expectedMask(q: Int8Array, lo: number, hi: number): Uint8Array {
  const mask = new Uint8Array(Math.ceil(q.length / 8));
  q.forEach((v, i) => {
    if (v > lo && v < hi) mask[i >> 3] |= 1 << (i & 7);
  });
  return mask;
}

group('masks', () => {
  it('relu_mask_s8 packs exactly the unclamped elements, LSB first, and writes no byte past ceil(count / 8)', () => {
    const rng = new Rng(0x3a5c);
    for (const { build, name } of trainVariants('relu_mask_s8')) {
      const k = loadTrainKernels(build), ws = new Workspace(k, 1 << 16);
      for (const count of counts(new Rng(1))) {
        ws.reset();
        const [lo, hi] = bounds(rng);
        const q = rng.int8Array(count);
        const bytes = Math.ceil(count / 8);
        const mask = ws.alloc(bytes + 4);
        new Uint8Array(k.memory.buffer, mask, bytes + 4).fill(SENTINEL);
        k[name](ws.i8(q), count, lo, hi, mask);
        const got = new Uint8Array(k.memory.buffer, mask, bytes + 4).slice();
        const want = expectedMask(q, lo, hi);
        const at = want.findIndex((b, i) => b !== got[i]);
        expect(at, `${name} (${build}) count ${count}, bounds [${lo}, ${hi}]: byte ${at} = ${got[at]}, want ${want[at]}`).toBe(-1);
        expect(Array.from(got.subarray(bytes)), `${name} count ${count}: wrote past the mask`).toEqual([SENTINEL, SENTINEL, SENTINEL, SENTINEL]);
      }
    }
  });

  it('apply_mask_f32 zeroes (+0.0) exactly the gradients whose bit is 0, NaN included, and nothing past count', () => {
    const rng = new Rng(0x3a5d);
    for (const { build, name } of trainVariants('apply_mask_f32')) {
      const k = loadTrainKernels(build), ws = new Workspace(k, 1 << 16);
      for (const count of counts(new Rng(2))) {
        ws.reset();
        const grad = Float32Array.from({ length: count + 3 }, () => (rng.next() < 0.05 ? NaN : rng.normal()));
        const mask = Uint8Array.from({ length: Math.ceil(count / 8) }, () => rng.int(0, 255));
        const pg = ws.f32(grad), pm = ws.alloc(mask.length);
        new Uint8Array(k.memory.buffer, pm, mask.length).set(mask);
        k[name](pg, count, pm);
        const want = grad.map((g, i) => (i >= count || (mask[i >> 3] >> (i & 7)) & 1 ? g : 0));
        const got = ws.readF32(pg, count + 3);
        const at = firstBitMismatch(got, want);
        expect(at, `${name} (${build}) count ${count}: [${at}] = ${got[at]}, want ${want[at]}`).toBe(-1);
      }
    }
  });
});
