// The SIMD output stage (fast and general requantization paths, output_stage_s8_simd.ts)
// against the oracle, driven through the SIMD kernels with accumulators set exactly:
// x[r][0] = inZp + d[r] and filter[c][0] = 1, every other x[r][k] = inZp, so the accumulator of
// (r, c) is d[r] + bias[c]. Channel groups of 4 are built around the fast path's limits:
// shift -1 / -18 / -19 / -20 / -21, exponent spread 3 / 4 / 8 / 12, multiplier 2^30 / 2^30 + 1,
// multipliers that make rounding ties frequent, and biases at the clamp bound 2^27, at 2^30, at
// the int32 ends and at the bounded path's limits 2^(30 - spread) +- inC * 127 * 128
// (output_stage_s8_simd_bounded.ts, taken by conv1x1_s8_simd for 8 and 16 input channels).
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import { fullyConnected, type OutputStage } from '../oracle/conv.js';
import { describe, firstMismatch, placeOutput, placeStage, readOutput } from './mac_cases.js';

const CASES = 150;
const SEED = 0x0575;
const IN_CS = [8, 16];
const GROUPS = 12;
const OUT_C = 4 * GROUPS + 3; // + a partial group
const D = [-255, -254, -200, -129, -128, -127, -64, -3, -2, -1, 0, 1, 2, 3, 64, 127, 128, 129, 200, 254, 255];

/** Multipliers: random, fast-path edges, and 1.5 * 2^30 / 1.25 * 2^30 (many exact ties). */
function multiplier(rng: Rng, fastOnly: boolean): number {
  const fast = [rng.int(2 ** 30 + 1, 2 ** 31 - 1), 2 ** 30 + 1, 2 ** 31 - 1, 3 * 2 ** 29, 5 * 2 ** 28];
  return rng.pick(fastOnly ? fast : [...fast, 2 ** 30, 0]);
}

/** Shifts of one group of 4: mostly fast-path groups at and past its limits. */
function groupShifts(rng: Rng): number[] {
  const kind = rng.int(0, 5);
  if (kind === 0) return [0, 1, 2, 3].map(() => rng.int(-31, 4)); // anything
  const eMax = rng.pick([1, 2, 9, 12, 17, 18, 19, 20, 21]);
  const spread = rng.pick([0, 1, 3, 4, 8, 12]);
  return [0, 1, 2, 3].map((j) => -Math.max(1, j === 0 ? eMax : eMax - rng.int(0, spread)));
}

/** Biases around the interesting accumulator magnitudes for a right shift e (group spread s). */
function biasFor(rng: Rng, e: number, spread: number, inC: number): number {
  const bound = 2 ** (30 - spread);
  const edge = rng.pick([2 ** 27, 2 ** 30, 2 ** 31, 2 ** Math.min(30, e + 8), bound - inC * 127 * 128, bound, 2 ** 31 - inC * 127 * 128]);
  const kind = rng.int(0, 3);
  if (kind === 0) return rng.int(-(2 ** Math.min(30, e + 9)), 2 ** Math.min(30, e + 9)); // outputs across the int8 range
  if (kind === 1) return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, rng.pick([-1, 1]) * edge + rng.int(-300, 300)));
  if (kind === 2) return rng.int(-(2 ** 31), 2 ** 31 - 1);
  return rng.int(-1000, 1000);
}

interface StageCase { seed: number; inC: number; rows: number; inZp: number; d: number[]; stage: OutputStage; x: Int8Array; w: Int8Array }

function makeCase(index: number, inC: number): StageCase {
  const seed = SEED + index + 1000 * inC;
  const rng = new Rng(seed);
  const requant = new Int32Array(2 * OUT_C);
  const bias = new Int32Array(OUT_C);
  for (let g = 0; g * 4 < OUT_C; g++) {
    const shifts = groupShifts(rng);
    const spread = Math.max(...shifts) - Math.min(...shifts);
    const fastOnly = rng.next() < 0.7;
    for (let j = 0; j < 4 && 4 * g + j < OUT_C; j++) {
      const c = 4 * g + j;
      requant[2 * c] = multiplier(rng, fastOnly);
      requant[2 * c + 1] = shifts[j];
      bias[c] = biasFor(rng, Math.max(0, -shifts[j]), spread, inC);
    }
  }
  const outZp = rng.pick([-128, 127, 0, rng.int(-128, 127)]);
  const [actMin, actMax] = rng.pick([[-128, 127], [outZp, 127], [rng.int(-128, 0), rng.int(0, 127)]]);
  // d must keep inZp + d inside int8: pick the zero point per case, then the reachable d
  const inZp = rng.pick([-128, 127, 0]);
  const d = D.filter((v) => inZp + v >= -128 && inZp + v <= 127);
  const rows = d.length;
  const x = new Int8Array(rows * inC).fill(inZp);
  d.forEach((v, r) => { x[r * inC] = inZp + v; });
  const w = new Int8Array(OUT_C * inC);
  for (let c = 0; c < OUT_C; c++) {
    w[c * inC] = 1;
    // times (x - inZp) = 0; all +-127 make sum w * x reach +-inC * 127 * 128 (the bounded path's data bound)
    const corner = rng.pick([0, 127, -127]);
    for (let k = 1; k < inC; k++) w[c * inC + k] = corner || rng.int(-127, 127);
  }
  return { seed, inC, rows, inZp, d, stage: { bias, requant, outZp, actMin, actMax }, x, w };
}

const cases = IN_CS.flatMap((inC) => Array.from({ length: CASES }, (_, i) => makeCase(i, inC)));

group('SIMD output stage', () => {
  it('the cases reach the fast paths and their limits', () => {
    let fastGroups = 0, edgeGroups = 0, wideBoundedGroups = 0;
    for (const c of cases) {
      for (let g = 0; g + 4 <= OUT_C; g += 4) {
        const e = [0, 1, 2, 3].map((j) => -c.stage.requant[2 * (g + j) + 1]);
        const m = [0, 1, 2, 3].map((j) => c.stage.requant[2 * (g + j)]);
        const eMax = Math.max(...e), spread = eMax - Math.min(...e);
        const shape = e.every((v) => v >= 1) && m.every((v) => v > 2 ** 30);
        const fast = shape && eMax <= 18 && spread <= 3;
        if (fast) fastGroups++;
        if (fast && (eMax === 18 || spread === 3)) edgeGroups++;
        // the bounded path's magnitude condition (output_stage_s8_simd_bounded.ts), past the clamped path's spread
        if (shape && spread > 3 && 2 ** (30 - spread) - 1 - 2 * c.inC * 127 * 128 >= 2 ** (9 + eMax)) wideBoundedGroups++;
      }
    }
    expect(fastGroups).toBeGreaterThan(cases.length * GROUPS * 0.15);
    expect(edgeGroups).toBeGreaterThan(cases.length / 2);
    expect(wideBoundedGroups).toBeGreaterThan(cases.length / 2);
  });

  for (const name of ['conv1x1_s8_simd', 'fully_connected_s8_simd']) {
    it(`${name} equals the oracle for accumulators set through the bias (${cases.length} seeded cases, inC ${IN_CS})`, () => {
      const k = loadKernels('simd');
      const ws = new Workspace(k);
      const fn = k[name] as (...a: number[]) => void;
      for (const c of cases) {
        ws.reset();
        const [bias, requant] = placeStage(ws, c.stage);
        const n = c.rows * OUT_C;
        const y = placeOutput(ws, n);
        fn(ws.i8(c.x), c.rows, c.inC, c.inZp, ws.i8(c.w), OUT_C, bias, requant, y, c.stage.outZp, c.stage.actMin, c.stage.actMax);
        const expected = fullyConnected(c.x, c.rows, c.inC, c.inZp, c.w, OUT_C, c.stage);
        const bad = firstMismatch(expected, readOutput(ws, y, n));
        if (bad) {
          const at = Number(/index (\d+)/.exec(bad)![1]);
          const [r, ch] = [Math.floor(at / OUT_C), at % OUT_C];
          const where = `row ${r} (d ${c.d[r]}), channel ${ch} (bias ${c.stage.bias![ch]}, multiplier ${c.stage.requant[2 * ch]}, shift ${c.stage.requant[2 * ch + 1]})`;
          expect.fail(`${name} case ${describe(c)} at ${where}: ${bad}`);
        }
      }
    });
  }
});
