// depthwise_conv2d_s8 (scalar, both builds) and depthwise_conv2d_s8_simd against the oracle.
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import { convPadding, depthwiseConv2d, type ConvGeometry, type OutputStage } from '../oracle/conv.js';
import {
  EDGE_CHANNELS, describe, firstMismatch, placeOutput, placeStage, randomActivations, randomStage,
  randomWeights, randomZeroPoint, readOutput, variantsOf,
} from './mac_cases.js';

const CASES = 1000;
const SEED = 0xd3e9;
const MAX_MACS = 60_000;

interface DepthwiseCase {
  seed: number; index: number; padding: 'SAME' | 'VALID';
  g: ConvGeometry; inZp: number; x: Int8Array; w: Int8Array; stage: OutputStage;
}

/** The reference CNN's depthwise layers, then the MobileNet-like 3x3 shapes, then random. */
const FIXED: Array<[inHW: number, C: number, stride: number]> = [[14, 8, 1], [14, 16, 2], [9, 32, 1], [10, 24, 2]];

function geometry(rng: Rng, index: number): { g: ConvGeometry; padding: 'SAME' | 'VALID' } {
  for (;;) {
    let inC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 48);
    let kH = rng.int(1, 5);
    let kW = rng.next() < 0.5 ? kH : rng.int(1, 5);
    let strideH = rng.pick([1, 1, 2, 2, 3]);
    let strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
    let inH = rng.pick([1, 2, 3, 5, 7, 8, 9, 11, 13, rng.int(1, 20)]);
    let inW = rng.next() < 0.6 ? inH : rng.pick([1, 3, 4, 6, 9, 13, 17, rng.int(1, 20)]);
    let padding: 'SAME' | 'VALID' = rng.next() < 0.5 ? 'SAME' : 'VALID';
    if (index < FIXED.length) {
      [inH, inC, strideH] = FIXED[index];
      [inW, strideW, kH, kW, padding] = [inH, strideH, 3, 3, 'SAME'];
    }
    if (inH < kH || inW < kW) padding = 'SAME';
    const h = convPadding(padding, inH, kH, strideH);
    const w = convPadding(padding, inW, kW, strideW);
    const g = { inH, inW, inC, kH, kW, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before };
    if (g.outH * g.outW * inC * kH * kW <= MAX_MACS) return { g, padding };
  }
}

/**
 * The SIMD 3x3 path's shapes: channels around its 8-channel groups, images from 1x1 up
 * (border-only), odd sizes with stride 2, interior-only windows (VALID), large interiors.
 */
function geometry3x3(rng: Rng): { g: ConvGeometry; padding: 'SAME' | 'VALID' } {
  const inC = rng.pick([1, 7, 8, 9, 15, 16, 17, 24, 33]);
  const strideH = rng.pick([1, 1, 2, 2, 3]);
  const strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
  const inH = rng.pick([1, 2, 3, 4, 5, 6, 7, 9, 14, 15]);
  const inW = rng.next() < 0.6 ? inH : rng.pick([1, 3, 4, 5, 7, 13]);
  let padding: 'SAME' | 'VALID' = rng.next() < 0.6 ? 'SAME' : 'VALID';
  if (inH < 3 || inW < 3) padding = 'SAME';
  const h = convPadding(padding, inH, 3, strideH);
  const w = convPadding(padding, inW, 3, strideW);
  return { padding, g: { inH, inW, inC, kH: 3, kW: 3, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before } };
}

function makeCase(index: number): DepthwiseCase {
  const seed = SEED + index;
  const rng = new Rng(seed);
  const { g, padding } = index >= CASES ? geometry3x3(rng) : geometry(rng, index);
  return {
    seed, index, padding, g, inZp: randomZeroPoint(rng),
    x: randomActivations(rng, g.inH * g.inW * g.inC),
    w: randomWeights(rng, g.kH * g.kW * g.inC),
    stage: randomStage(rng, g.inC, g.kH * g.kW),
  };
}

const CASES_3X3 = 400;
const cases = Array.from({ length: CASES + CASES_3X3 }, (_, i) => makeCase(i));

group('depthwise_conv2d_s8', () => {
  for (const v of variantsOf('depthwise_conv2d_s8')) {
    it(`${v.name} (${v.build}) equals the oracle on ${CASES} seeded cases + ${CASES_3X3} 3x3-path shapes`, () => {
      const k = loadKernels(v.build);
      const ws = new Workspace(k);
      const fn = k[v.name] as (...a: number[]) => void;
      for (const c of cases) {
        ws.reset();
        const { g, stage } = c;
        const [bias, requant] = placeStage(ws, stage);
        const x = ws.i8(c.x);
        const w = ws.i8(c.w);
        const n = g.outH * g.outW * g.inC;
        const y = placeOutput(ws, n);
        fn(x, g.inH, g.inW, g.inC, c.inZp, w, g.kH, g.kW, bias, requant, y, g.outH, g.outW,
          stage.outZp, g.strideH, g.strideW, g.padTop, g.padLeft, stage.actMin, stage.actMax);
        const expected = depthwiseConv2d(c.x, c.inZp, c.w, g, stage);
        const bad = firstMismatch(expected, readOutput(ws, y, n));
        if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
      }
    });
  }
});
