// conv2d_s8 (scalar, both builds) and conv2d_s8_simd against the oracle.
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import { conv2d, convPadding, type ConvGeometry, type OutputStage } from '../oracle/conv.js';
import {
  EDGE_CHANNELS, describe, firstMismatch, placeOutput, placeStage, randomActivations, randomStage,
  randomWeights, randomZeroPoint, readOutput, variantsOf,
} from './mac_cases.js';

const CASES = 1000;
const SEED = 0xc0417;
const MAX_MACS = 120_000;
const SHALLOW_CASES = 400;

interface ConvCase {
  seed: number; index: number; padding: 'SAME' | 'VALID';
  g: ConvGeometry; outC: number; inZp: number;
  x: Int8Array; w: Int8Array; stage: OutputStage;
}

function geometry(rng: Rng, index: number): { g: ConvGeometry; outC: number; padding: 'SAME' | 'VALID' } {
  for (;;) {
    const inC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
    const outC = rng.next() < 0.7 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
    const kH = rng.int(1, 5);
    const kW = rng.next() < 0.5 ? kH : rng.int(1, 5);
    const strideH = rng.pick([1, 1, 2, 2, 3]);
    const strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
    const inH = rng.pick([1, 2, 3, 5, 7, 8, 9, 11, rng.int(1, 16)]);
    const inW = rng.next() < 0.6 ? inH : rng.pick([1, 3, 4, 6, 9, 13, rng.int(1, 16)]);
    let padding: 'SAME' | 'VALID' = rng.next() < 0.5 ? 'SAME' : 'VALID';
    if (inH < kH || inW < kW) padding = 'SAME';
    const h = convPadding(padding, inH, kH, strideH);
    const w = convPadding(padding, inW, kW, strideW);
    const g = { inH, inW, inC, kH, kW, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before };
    if (g.outH * g.outW * outC * kH * kW * inC <= MAX_MACS || index < 0) return { g, outC, padding };
  }
}

/**
 * The SIMD shallow path's shapes: 3-row windows of at most 4 values per row, output channels
 * around its 8-channel passes, images from 1x1 up, strides 1-3 (odd sizes with stride 2).
 */
function shallowGeometry(rng: Rng): { g: ConvGeometry; outC: number; padding: 'SAME' | 'VALID' } {
  const [kW, inC] = rng.pick([[3, 1], [3, 1], [1, 1], [2, 2], [1, 4], [4, 1], [1, 3], [2, 1]]);
  const outC = rng.pick([1, 3, 4, 7, 8, 9, 12, 15, 16, 17, 24]);
  const strideH = rng.pick([1, 2, 2, 3]);
  const strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
  const inH = rng.pick([1, 2, 3, 4, 5, 7, 9, 13, 28]);
  const inW = rng.next() < 0.6 ? inH : rng.pick([1, 3, 4, 6, 9, 13, 17]);
  let padding: 'SAME' | 'VALID' = rng.next() < 0.6 ? 'SAME' : 'VALID';
  if (inH < 3 || inW < kW) padding = 'SAME';
  const h = convPadding(padding, inH, 3, strideH);
  const w = convPadding(padding, inW, kW, strideW);
  return { outC, padding, g: { inH, inW, inC, kH: 3, kW, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before } };
}

/**
 * The SIMD stem path's shapes: 1..7 input channels, window rows of 1..5 taps, output channels
 * around its 4-channel blocks, 8-pixel tiles along rows and (padded columns) along columns,
 * and tiny images (pixel by pixel).
 */
function stemGeometry(rng: Rng): { g: ConvGeometry; outC: number; padding: 'SAME' | 'VALID' } {
  for (;;) {
    const inC = rng.int(1, 7);
    const kW = rng.next() < 0.8 ? rng.int(1, Math.min(5, Math.floor(16 / inC))) : rng.int(1, 5);
    const kH = rng.next() < 0.5 ? 3 : rng.int(1, 5);
    const outC = rng.next() < 0.5 ? rng.pick([1, 3, 4, 5, 8, 9, 16, 17, 32, 33]) : rng.int(1, 33);
    const strideH = rng.pick([1, 2, 2, 3]);
    const strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
    const inH = rng.next() < 0.5 ? rng.pick([1, 2, 3, 4, 5, 7, 9, 11]) : rng.int(8 * strideH + kH, 12 * strideH + kH);
    const width = rng.next();
    const inW = width < 0.1 ? rng.int(1, 3) : width < 0.3 ? rng.int(4, 8 * strideW + kW) : rng.int(8 * strideW + kW, 14 * strideW + kW);
    let padding: 'SAME' | 'VALID' = rng.next() < 0.6 ? 'SAME' : 'VALID';
    if (inH < kH || inW < kW) padding = 'SAME';
    const h = convPadding(padding, inH, kH, strideH);
    const w = convPadding(padding, inW, kW, strideW);
    const g = { inH, inW, inC, kH, kW, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before };
    if (g.outH * g.outW * outC * kH * kW * inC <= MAX_MACS) return { g, outC, padding };
  }
}

function makeCase(index: number): ConvCase {
  const seed = SEED + index;
  const rng = new Rng(seed);
  let shape = index >= CASES + SHALLOW_CASES ? stemGeometry(rng) : index >= CASES ? shallowGeometry(rng) : geometry(rng, index);
  if (index === 0) {
    // the reference CNN's first layer: 28x28x1 -> 3x3 stride 2 SAME -> 8 channels
    const h = convPadding('SAME', 28, 3, 2);
    shape = { padding: 'SAME', outC: 8, g: { inH: 28, inW: 28, inC: 1, kH: 3, kW: 3, outH: h.out, outW: h.out, strideH: 2, strideW: 2, padTop: h.before, padLeft: h.before } };
  }
  if (index === CASES + SHALLOW_CASES) {
    // MobileNetV1's stem at 96x96: 96x96x3 -> 3x3 stride 2 SAME -> 8 channels
    const h = convPadding('SAME', 96, 3, 2);
    shape = { padding: 'SAME', outC: 8, g: { inH: 96, inW: 96, inC: 3, kH: 3, kW: 3, outH: h.out, outW: h.out, strideH: 2, strideW: 2, padTop: h.before, padLeft: h.before } };
  }
  const { g, outC, padding } = shape;
  const reduction = g.kH * g.kW * g.inC;
  return {
    seed, index, padding, g, outC, inZp: randomZeroPoint(rng),
    x: randomActivations(rng, g.inH * g.inW * g.inC),
    w: randomWeights(rng, outC * reduction),
    stage: randomStage(rng, outC, reduction),
  };
}

const STEM_CASES = 400;
const cases = Array.from({ length: CASES + SHALLOW_CASES + STEM_CASES }, (_, i) => makeCase(i));

group('conv2d_s8', () => {
  for (const v of variantsOf('conv2d_s8')) {
    it(`${v.name} (${v.build}) equals the oracle on ${CASES} seeded cases + ${SHALLOW_CASES} shallow-path + ${STEM_CASES} stem-path shapes`, () => {
      const k = loadKernels(v.build);
      const ws = new Workspace(k);
      const fn = k[v.name] as (...a: number[]) => void;
      for (const c of cases) {
        ws.reset();
        const { g, stage } = c;
        const [bias, requant] = placeStage(ws, stage);
        const x = ws.i8(c.x);
        const w = ws.i8(c.w);
        const n = g.outH * g.outW * c.outC;
        const y = placeOutput(ws, n);
        fn(x, g.inH, g.inW, g.inC, c.inZp, w, g.kH, g.kW, c.outC, bias, requant, y, g.outH, g.outW,
          stage.outZp, g.strideH, g.strideW, g.padTop, g.padLeft, stage.actMin, stage.actMax);
        const expected = conv2d(c.x, c.inZp, c.w, c.outC, g, stage);
        const bad = firstMismatch(expected, readOutput(ws, y, n));
        if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
      }
    });
  }
});
