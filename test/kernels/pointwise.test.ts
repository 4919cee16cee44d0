// conv1x1_s8 and fully_connected_s8 (scalar, both builds) and their SIMD variants against
// the oracle. Both kernels compute output[r][c] over filter [outC][inC].
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import { fullyConnected, type OutputStage } from '../oracle/conv.js';
import {
  EDGE_CHANNELS, describe, firstMismatch, placeOutput, placeStage, randomActivations, randomStage,
  randomWeights, randomZeroPoint, readOutput, variantsOf,
} from './mac_cases.js';

const CASES = 1000;
const MAX_MACS = 100_000;

interface MatmulCase {
  seed: number; index: number; rows: number; inC: number; outC: number; inZp: number;
  x: Int8Array; w: Int8Array; stage: OutputStage;
}

function makeCase(seedBase: number, index: number, rowChoices: () => number): MatmulCase {
  const seed = seedBase + index;
  const rng = new Rng(seed);
  let rows: number, inC: number, outC: number;
  do {
    // the first 169 cases walk every pair of edge channel counts
    inC = index < 169 ? EDGE_CHANNELS[index % 13] : rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 300);
    outC = index < 169 ? EDGE_CHANNELS[Math.floor(index / 13)] : rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 80);
    rows = rowChoices.call(rng);
  } while (rows * inC * outC > MAX_MACS);
  return {
    seed, index, rows, inC, outC, inZp: randomZeroPoint(rng),
    x: randomActivations(rng, rows * inC),
    w: randomWeights(rng, outC * inC),
    stage: randomStage(rng, outC, inC),
  };
}

const kernels = [
  // 1x1 conv: rows are pixels of images from 1x1 up to 14x14
  { name: 'conv1x1_s8', seed: 0x1c1, rows(this: Rng) { return this.pick([1, 2, 3, 4, 5, 9, 16, 49, 196, this.int(1, 64)]); } },
  // fully connected: rows are batch rows, mostly 1
  { name: 'fully_connected_s8', seed: 0xfc0, rows(this: Rng) { return this.pick([1, 1, 1, 2, 3, this.int(1, 8)]); } },
];

for (const kernel of kernels) {
  const cases = Array.from({ length: CASES }, (_, i) => makeCase(kernel.seed, i, kernel.rows));
  group(kernel.name, () => {
    it('the cases reach the SIMD special paths and their edges', () => {
      // conv1x1_s8_simd_shallow: inC 8 or 16, outC >= 8 (passes of 8 plus a tail); matvec_s8_simd: batch 1
      const shallow = cases.filter((c) => (c.inC === 8 || c.inC === 16) && c.outC >= 8);
      expect(shallow.filter((c) => c.outC % 8 !== 0).length, 'inC 8/16 with a channel tail').toBeGreaterThan(10);
      expect(shallow.filter((c) => c.rows === 1).length, 'inC 8/16 on a 1x1 image').toBeGreaterThan(3);
      expect(cases.filter((c) => c.rows === 1 && c.inC >= 8 && c.inC % 8 !== 0 && c.outC >= 8).length, 'batch 1, inC % 8 != 0').toBeGreaterThan(20);
    });
    for (const v of variantsOf(kernel.name)) {
      it(`${v.name} (${v.build}) equals the oracle on ${CASES} seeded cases`, () => {
        const k = loadKernels(v.build);
        const ws = new Workspace(k);
        const fn = k[v.name] as (...a: number[]) => void;
        for (const c of cases) {
          ws.reset();
          const { stage } = c;
          const [bias, requant] = placeStage(ws, stage);
          const x = ws.i8(c.x);
          const w = ws.i8(c.w);
          const n = c.rows * c.outC;
          const y = placeOutput(ws, n);
          fn(x, c.rows, c.inC, c.inZp, w, c.outC, bias, requant, y, stage.outZp, stage.actMin, stage.actMax);
          const expected = fullyConnected(c.x, c.rows, c.inC, c.inZp, c.w, c.outC, stage);
          const bad = firstMismatch(expected, readOutput(ws, y, n));
          if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
        }
      });
    }
  });
}
