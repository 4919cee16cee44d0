// expand_depthwise_s8 (both builds) and expand_depthwise_s8_simd against the unfused pair:
// the oracle's 1x1 convolution (as a fully connected layer over pixels) and then its depthwise
// convolution on the whole expanded tensor. Ring sizes from the smallest the contract allows
// (min(kH, H) rows) to the whole height; guard bytes after the ring and the output.
import { describe as group, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { loadKernels, Workspace } from '../helpers/kernels.js';
import { convPadding, depthwiseConv2d, fullyConnected, type ConvGeometry, type OutputStage } from '../oracle/conv.js';
import {
  EDGE_CHANNELS, describe, firstMismatch, placeOutput, placeStage, randomActivations, randomStage,
  randomWeights, randomZeroPoint, readOutput,
} from './mac_cases.js';

const CASES = 400;
const SEED = 0xed1;
const MAX_MACS = 80_000;

interface FusedCase {
  seed: number; index: number; padding: 'SAME' | 'VALID'; inC: number; ringRows: number;
  g: ConvGeometry; inZp: number; x: Int8Array; we: Int8Array; wd: Int8Array; expand: OutputStage; dw: OutputStage;
}

/** MobileNetV2-like blocks first (3x3 and 5x5, stride 1 and 2), then random geometry. */
function geometry(rng: Rng): { g: ConvGeometry; padding: 'SAME' | 'VALID'; inC: number } {
  for (;;) {
    const inC = rng.next() < 0.5 ? rng.pick([1, 3, 5, 7, 8, 9, 15, 16, 17]) : rng.int(1, 24);
    const ce = rng.next() < 0.6 ? rng.pick(EDGE_CHANNELS) : rng.int(1, 40);
    const kH = rng.next() < 0.8 ? rng.pick([3, 5]) : rng.int(1, 5);
    const kW = rng.next() < 0.8 ? kH : rng.int(1, 5);
    const strideH = rng.pick([1, 1, 2, 2, 3]);
    const strideW = rng.next() < 0.8 ? strideH : rng.int(1, 3);
    const inH = rng.pick([1, 2, 3, 4, 5, 6, 7, 9, 12, rng.int(1, 16)]);
    const inW = rng.next() < 0.6 ? inH : rng.pick([1, 2, 3, 5, 8, 13, rng.int(1, 16)]);
    let padding: 'SAME' | 'VALID' = rng.next() < 0.6 ? 'SAME' : 'VALID';
    if (inH < kH || inW < kW) padding = 'SAME';
    const h = convPadding(padding, inH, kH, strideH);
    const w = convPadding(padding, inW, kW, strideW);
    const g = { inH, inW, inC: ce, kH, kW, outH: h.out, outW: w.out, strideH, strideW, padTop: h.before, padLeft: w.before };
    if (inH * inW * ce * (inC + kH * kW) <= MAX_MACS) return { g, padding, inC };
  }
}

function makeCase(index: number): FusedCase {
  const seed = SEED + index;
  const rng = new Rng(seed);
  const { g, padding, inC } = geometry(rng);
  const ce = g.inC;
  const ringRows = rng.int(Math.min(g.kH, g.inH), g.inH);
  return {
    seed, index, padding, inC, ringRows, g, inZp: randomZeroPoint(rng),
    x: randomActivations(rng, g.inH * g.inW * inC),
    we: randomWeights(rng, ce * inC),
    wd: randomWeights(rng, g.kH * g.kW * ce),
    expand: randomStage(rng, ce, inC),
    dw: randomStage(rng, ce, g.kH * g.kW),
  };
}

const cases = Array.from({ length: CASES }, (_, i) => makeCase(i));
const VARIANTS = [
  { build: 'mvp', name: 'expand_depthwise_s8' },
  { build: 'simd', name: 'expand_depthwise_s8' },
  { build: 'simd', name: 'expand_depthwise_s8_simd' },
] as const;

group('expand_depthwise_s8', () => {
  it('the cases cover stride 1 and 2, 3x3 and 5x5, SAME and VALID, 1-row images, minimal and whole-height rings', () => {
    const has = (f: (c: FusedCase) => boolean) => cases.filter(f).length;
    expect(has((c) => c.g.strideH === 1 && c.g.kH === 3)).toBeGreaterThan(10);
    expect(has((c) => c.g.strideH === 2 && c.g.kH === 5)).toBeGreaterThan(10);
    expect(has((c) => c.padding === 'VALID')).toBeGreaterThan(50);
    expect(has((c) => c.g.inH === 1)).toBeGreaterThan(5);
    expect(has((c) => c.ringRows === Math.min(c.g.kH, c.g.inH) && c.g.inH > c.g.kH)).toBeGreaterThan(20);
    expect(has((c) => c.ringRows === c.g.inH)).toBeGreaterThan(20);
    expect(has((c) => c.expand.outZp === -128 || c.expand.outZp === 127)).toBeGreaterThan(10);
  });

  for (const v of VARIANTS) {
    it(`${v.name} (${v.build}) equals the unfused pair on ${CASES} seeded cases`, () => {
      const k = loadKernels(v.build);
      const ws = new Workspace(k);
      const fn = k[v.name] as (...a: number[]) => void;
      for (const c of cases) {
        ws.reset();
        const { g } = c;
        const ce = g.inC;
        const [eb, erq] = placeStage(ws, c.expand);
        const [db, drq] = placeStage(ws, c.dw);
        const x = ws.i8(c.x), we = ws.i8(c.we), wd = ws.i8(c.wd);
        const ringBytes = c.ringRows * g.inW * ce;
        const ring = placeOutput(ws, ringBytes);
        const n = g.outH * g.outW * ce;
        const y = placeOutput(ws, n);
        fn(x, g.inH, g.inW, c.inC, c.inZp, we, ce, eb, erq, c.expand.outZp, c.expand.actMin, c.expand.actMax, ring, c.ringRows,
          wd, g.kH, g.kW, db, drq, y, g.outH, g.outW, c.dw.outZp, g.strideH, g.strideW, g.padTop, g.padLeft, c.dw.actMin, c.dw.actMax);
        const mid = fullyConnected(c.x, g.inH * g.inW, c.inC, c.inZp, c.we, ce, c.expand);
        const expected = depthwiseConv2d(mid, c.expand.outZp, c.wd, g, c.dw);
        readOutput(ws, ring, ringBytes); // throws when the kernel wrote past the ring
        const bad = firstMismatch(expected, readOutput(ws, y, n));
        if (bad) expect.fail(`${v.name} (${v.build}) case ${describe(c)}: ${bad}`);
      }
    });
  }
});
