// The device's requantization primitives (src/runtime/requant.ts through the probe exports)
// against the BigInt oracle: corners, ties, and 100k seeded random values, on both builds.
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, type KernelBuild } from '../helpers/kernels.js';
import { INT32, mbqm, rdbpot, srdhm } from '../oracle/requant.js';

const RANDOM = 100_000;
const SEED = 0x5eed;
const CORNERS = [INT32.MIN, INT32.MIN + 1, -(2 ** 30), -65536, -3, -2, -1, 0, 1, 2, 3, 65536, 2 ** 30, INT32.MAX - 1, INT32.MAX];
const MULTIPLIERS = [0, 1, 2 ** 30, 2 ** 30 + 1, 1518500250, INT32.MAX - 1, INT32.MAX, INT32.MIN, -1];

/** int32 values whose product with b lands exactly on a rounding tie (ab = (2k+1) * 2^30). */
function tiesFor(b: number): number[] {
  return b === 2 ** 30 ? [-5, -3, -1, 1, 3, 5] : [];
}

function randomInt32(rng: Rng): number {
  // mix of full-range values and small accumulators
  return rng.next() < 0.5 ? (rng.int(0, 0xffffffff) | 0) : rng.int(-70000, 70000);
}

for (const build of ['mvp', 'simd'] as KernelBuild[]) {
  group(`requantization (${build})`, () => {
    const k = loadKernels(build);

    it('probe_srdhm matches SaturatingRoundingDoublingHighMul on corners, ties and random pairs', () => {
      const pairs: Array<[number, number]> = [];
      for (const a of CORNERS) for (const b of [...CORNERS, ...MULTIPLIERS]) pairs.push([a, b]);
      for (const b of MULTIPLIERS) for (const a of tiesFor(b)) pairs.push([a, b]);
      const rng = new Rng(SEED);
      for (let i = 0; i < RANDOM; i++) pairs.push([randomInt32(rng), rng.next() < 0.8 ? rng.int(2 ** 30, INT32.MAX) : randomInt32(rng)]);
      for (const [i, [a, b]] of pairs.entries()) {
        const got = k.probe_srdhm(a, b);
        if (got !== srdhm(a, b)) expect.fail(`srdhm(${a}, ${b}) [case ${i}, seed ${SEED}]: expected ${srdhm(a, b)}, got ${got}`);
      }
      expect(srdhm(INT32.MIN, INT32.MIN)).toBe(INT32.MAX);
      expect(srdhm(2 ** 30, 1)).toBe(1); // 0.5 rounds up
      expect(srdhm(-(2 ** 30), 1)).toBe(0); // -0.5 rounds up too: the nudge is 1 - 2^30
    });

    it('probe_rdbpot matches RoundingDivideByPOT for every exponent 0..31', () => {
      const rng = new Rng(SEED + 1);
      let checked = 0;
      for (let e = 0; e <= 31; e++) {
        const half = e > 0 ? 2 ** (e - 1) : 0;
        const xs = [...CORNERS, half, -half, 3 * half, -3 * half, half - 1, -half + 1, half + 1, -half - 1].map((v) => v | 0);
        for (let i = 0; i < RANDOM / 32; i++) xs.push(randomInt32(rng));
        for (const x of xs) {
          const got = k.probe_rdbpot(x, e);
          if (got !== rdbpot(x, e)) expect.fail(`rdbpot(${x}, ${e}) [seed ${SEED + 1}]: expected ${rdbpot(x, e)}, got ${got}`);
          checked++;
        }
      }
      expect(rdbpot(5, 1)).toBe(3); // 2.5 -> 3
      expect(rdbpot(-5, 1)).toBe(-3); // -2.5 -> -3 (away from zero)
      expect(checked).toBeGreaterThan(RANDOM * 0.9);
    });

    it('probe_mbqm matches MultiplyByQuantizedMultiplier for shifts -31..30', () => {
      const rng = new Rng(SEED + 2);
      const cases: Array<[number, number, number]> = [];
      for (const x of CORNERS) for (const m of MULTIPLIERS) for (const s of [-31, -16, -1, 0, 1, 8, 30]) cases.push([x, m, s]);
      for (let i = 0; i < RANDOM; i++) {
        const shift = rng.int(-31, 8);
        // keep x << shift inside int32 most of the time; the rest exercises the wrap
        const limit = shift > 0 && rng.next() < 0.9 ? 2 ** (31 - shift) - 1 : INT32.MAX;
        cases.push([rng.int(-limit, limit), rng.next() < 0.9 ? rng.int(2 ** 30, INT32.MAX) : rng.pick(MULTIPLIERS), shift]);
      }
      for (const [i, [x, m, s]] of cases.entries()) {
        const got = k.probe_mbqm(x, m, s);
        if (got !== mbqm(x, m, s)) expect.fail(`mbqm(${x}, ${m}, ${s}) [case ${i}, seed ${SEED + 2}]: expected ${mbqm(x, m, s)}, got ${got}`);
      }
      expect(mbqm(1000, 2 ** 30, -1)).toBe(250);
    });
  });
}
