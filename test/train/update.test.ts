// Fused gradient + in-place update kernels (conv2d, depthwise, fully connected / 1x1, bias):
// bit-exact against the TypeScript mirror of the documented formula (all three roundings, QAS
// on and off, momentum, channel subsets, every variant on both builds from the same seed);
// gradients against the fp32 engine and finite differences; one int8 step equal to one fp32
// SGD step (QAS) and the plain int8-domain step without QAS; stochastic rounding unbiased and
// reproducible; saturation; bad arguments.
import { describe as group, expect, it } from 'vitest';
import { conv2dBackward, conv2dForward } from '../../src/compiler/fp32/conv2d.js';
import { depthwiseBackward, depthwiseForward } from '../../src/compiler/fp32/depthwise_conv2d.js';
import { UPDATE_COMPACT_ROWS } from '../../src/formats/container_op_rules.js';
import { Status } from '../../src/formats/schema.js';
import { Rng } from '../helpers/rng.js';
import { firstBitMismatch, loadTrainKernels, trainVariants, Workspace, type KernelBuild } from '../helpers/train_kernels.js';
import { abs32, dequantize, expectFiniteDifferences, expectWithinBound } from './cases.js';
import { UPDATE_CARRY, UPDATE_NEAREST, UPDATE_NO_QAS, biasGrad, conv2dWeightGrad, depthwiseWeightGrad, roundHalfEven } from './sgd_mirror.js';
import { KERNEL_OF, perChannelWeights, rowsGeometry, runKernel, runMirror, updateCase, type UpdateCase, type UpdateKind, type UpdateResult } from './update_cases.js';

const SEED = 0x5eed;
const workspaces = new Map<KernelBuild, Workspace>();
function workspace(build: KernelBuild): Workspace {
  let ws = workspaces.get(build);
  if (!ws) workspaces.set(build, (ws = new Workspace(loadTrainKernels(build), 1 << 20)));
  return ws;
}
const run = (c: UpdateCase, build: KernelBuild, fn: string, seed: number) => runKernel(c, loadTrainKernels(build), workspace(build), fn, seed);

function expectSameResult(label: string, actual: UpdateResult, expected: UpdateResult): void {
  expect(actual.status, `${label}: status`).toBe(expected.status);
  const w = firstBitMismatch(actual.filter, expected.filter);
  expect(w, `${label}: weight [${w}] ${actual.filter[w]}, expected ${expected.filter[w]}`).toBe(-1);
  if (expected.bias) {
    const b = firstBitMismatch(actual.bias!, expected.bias);
    expect(b, `${label}: bias [${b}] ${actual.bias![b]}, expected ${expected.bias[b]}`).toBe(-1);
  }
  for (const part of ['weights', 'biases'] as const) {
    const e = expected.state[part];
    if (!e) continue;
    const at = firstBitMismatch(actual.state[part]!, e);
    expect(at, `${label}: state ${part} [${at}] ${actual.state[part]![at]}, expected ${e[at]}`).toBe(-1);
  }
  expect(actual.nextDraw, `${label}: PRNG draws consumed differ`).toBe(expected.nextDraw);
}

const COUNTS: Record<UpdateKind, number> = { conv2d: 40, depthwise_conv2d: 40, fully_connected: 40, bias: 20 };

group('update kernels equal the documented formula', () => {
  for (const kind of Object.keys(COUNTS) as UpdateKind[]) {
    const variants = trainVariants(KERNEL_OF[kind]);
    it(`${KERNEL_OF[kind]}: ${variants.length} variants (mvp and simd builds) bit-exact with the mirror on ${COUNTS[kind]} seeded cases`, () => {
      for (let index = 0; index < COUNTS[kind]; index++) {
        const seed = SEED + index;
        const c = updateCase(kind, new Rng(seed), index);
        const expected = runMirror(c, seed);
        expect(expected.status, `case ${index}: the mirror saw a non-finite step`).toBe(Status.OK);
        for (const v of variants) expectSameResult(`${v.name} (${v.build}) case ${index} (seed ${seed}): ${c.label}`, run(c, v.build, v.name, seed), expected);
      }
    });
  }
});

group('gradients of the fused update', () => {
  it('conv2d and fully connected: the mirrored dW, db equal the fp32 engine\'s and finite differences', () => {
    for (let index = 0; index < 30; index++) {
      const rng = new Rng(SEED + 1000 + index);
      const c = updateCase(index % 2 ? 'conv2d' : 'fully_connected', rng, index);
      const { o } = c, { g } = o;
      const size = g.kH * g.kW * g.inC;
      const xReal = Float32Array.from(o.x, (q) => o.inScale * (q - o.inZp));
      const wReal = dequantize(c.filter, o.scales, (i) => Math.floor(i / size));
      const dw = new Float32Array(wReal.length), db = new Float32Array(o.outC);
      const dwBound = new Float32Array(wReal.length), dbBound = new Float32Array(o.outC);
      conv2dBackward(g, xReal, wReal, o.dY, o.outC, dw, db);
      conv2dBackward(g, abs32(xReal), wReal, abs32(o.dY), o.outC, dwBound, dbBound);
      const mirrored = Float32Array.from(dw, (_, i) => conv2dWeightGrad(o, Math.floor(i / size), Math.floor(i / (g.kW * g.inC)) % g.kH, Math.floor(i / g.inC) % g.kW, i % g.inC));
      const label = `case ${index}: ${c.label}`;
      expectWithinBound(`${label} dW`, mirrored, dw, dwBound);
      expectWithinBound(`${label} db`, Float32Array.from(db, (_, i) => biasGrad(o, i)), db, dbBound);
      expectFiniteDifferences(`${label} dW`, (w) => conv2dForward(g, xReal, w, new Float32Array(o.outC), o.outC), wReal, o.dY, mirrored, rng, 8, 0.5);
    }
  });

  it('depthwise: the mirrored dW equals the fp32 engine\'s and finite differences', () => {
    for (let index = 0; index < 30; index++) {
      const rng = new Rng(SEED + 2000 + index);
      const c = updateCase('depthwise_conv2d', rng, index);
      const { o } = c, { g } = o;
      const C = o.outC;
      const xReal = Float32Array.from(o.x, (q) => o.inScale * (q - o.inZp));
      const wReal = dequantize(c.filter, o.scales, (i) => i % C);
      const dw = new Float32Array(wReal.length), dwBound = new Float32Array(wReal.length);
      depthwiseBackward(g, xReal, wReal, o.dY, dw, new Float32Array(C));
      depthwiseBackward(g, abs32(xReal), wReal, abs32(o.dY), dwBound, new Float32Array(C));
      const mirrored = Float32Array.from(dw, (_, i) => depthwiseWeightGrad(o, i % C, Math.floor(i / (g.kW * C)), Math.floor(i / C) % g.kW));
      const label = `case ${index}: ${c.label}`;
      expectWithinBound(`${label} dW`, mirrored, dw, dwBound);
      expectFiniteDifferences(`${label} dW`, (w) => depthwiseForward(g, xReal, w, new Float32Array(C)), wReal, o.dY, mirrored, rng, 8, 0.5);
    }
  });
});

group('QAS: one int8 step is one fp32 SGD step', () => {
  // docs/training-math.md: with G~ = dL/dW / s_w (QAS on the int8 tensor's gradient) the int8
  // step lr * G~ moves the dequantized weight by exactly the fp32 step lr * dL/dW, so after
  // nearest rounding |s_w * W_q' - (W - lr dL/dW)| <= s_w / 2 (+ f32 error of the gradient).
  for (const kind of ['conv2d', 'depthwise_conv2d', 'fully_connected'] as const) {
    it(`${KERNEL_OF[kind]}: dequantized weights and biases within half a quantum of fp32 SGD`, () => {
      for (let index = 0; index < 20; index++) {
        const rng = new Rng(SEED + 3000 + index);
        const c = updateCase(kind, rng, index);
        const { o } = c, { g } = o;
        c.filter = rng.int8Array(c.filter.length, -40, 40); // room for the step: no saturation
        c.state = { weights: null, biases: null };
        const depthwise = kind === 'depthwise_conv2d';
        const size = g.kH * g.kW * g.inC;
        const channelOf = (i: number) => (depthwise ? i % o.outC : Math.floor(i / size));
        const xReal = Float32Array.from(o.x, (q) => o.inScale * (q - o.inZp));
        const wReal = dequantize(c.filter, o.scales, channelOf);
        const dw = new Float32Array(wReal.length), db = new Float32Array(o.outC), dwBound = new Float32Array(wReal.length);
        if (depthwise) {
          depthwiseBackward(g, xReal, wReal, o.dY, dw, db);
          depthwiseBackward(g, abs32(xReal), wReal, abs32(o.dY), dwBound, new Float32Array(o.outC));
        } else {
          conv2dBackward(g, xReal, wReal, o.dY, o.outC, dw, db);
          conv2dBackward(g, abs32(xReal), wReal, abs32(o.dY), o.outC, dwBound, new Float32Array(o.outC));
        }
        // learning rates that move the largest weight by ~20 quanta and the largest bias by ~1000
        let maxQuanta = 0, maxBiasQuanta = 0;
        for (let i = 0; i < dw.length; i++) maxQuanta = Math.max(maxQuanta, Math.abs(dw[i] / o.scales[channelOf(i)]));
        for (let ch = 0; ch < o.outC; ch++) maxBiasQuanta = Math.max(maxBiasQuanta, Math.abs(db[ch] / (o.inScale * o.scales[ch])));
        c.settings = { lrW: maxQuanta > 0 ? 20 / maxQuanta : 0.01, lrB: maxBiasQuanta > 0 ? 1000 / maxBiasQuanta : 0.01, momentum: 0, flags: UPDATE_NEAREST };
        const out = run(c, 'mvp', KERNEL_OF[kind], 1);
        expect(out.status).toBe(Status.OK);
        const selected = new Set(c.channels);
        for (let i = 0; i < dw.length; i++) {
          const s = o.scales[channelOf(i)];
          const sgd = wReal[i] - (selected.has(channelOf(i)) ? c.settings.lrW * dw[i] : 0);
          const tol = s / 2 + c.settings.lrW * 1e-5 * dwBound[i] + 1e-6 * s;
          const got = s * out.filter[i];
          if (!(Math.abs(got - sgd) <= tol)) expect.fail(`case ${index} ${c.label}: weight [${i}] int8 step gives ${got}, fp32 SGD ${sgd} (tol ${tol})`);
        }
        if (!c.bias) continue;
        for (const ch of c.channels) {
          const sb = o.inScale * o.scales[ch];
          const sgd = sb * c.bias[ch] - c.settings.lrB * db[ch];
          const got = sb * out.bias![ch];
          expect(Math.abs(got - sgd), `case ${index}: bias [${ch}] int32 step gives ${got}, fp32 SGD ${sgd}`).toBeLessThanOrEqual(sb / 2 + 1e-4 * Math.abs(c.settings.lrB * db[ch]) + 1e-9);
        }
      }
    });
  }
});

/** A fully connected case with one row and one output channel: dW[i] = inScale * dY * (x[i] - inZp). */
function singleChannelCase(x: number[], dY: number, lr: number, flags: number, filter: number[], bias: number | null): UpdateCase {
  const g = rowsGeometry(1, x.length);
  return {
    kind: 'fully_connected', label: `fc 1x${x.length}`, filter: Int8Array.from(filter), bias: bias === null ? null : Int32Array.of(bias),
    channels: [0], settings: { lrW: lr, lrB: lr, momentum: 0, flags }, state: { weights: null, biases: null },
    o: { x: Int8Array.from(x), inZp: 0, inScale: 1, dY: Float32Array.of(dY), g, outC: 1, scales: Float32Array.of(1) },
  };
}
group('QAS off: the plain gradient w.r.t. the int8 tensors', () => {
  // docs/training-math.md: without QAS the int8 step is lr * s * dL/dx_real (s = s_w for a
  // weight, s_x * s_w for a bias); with QAS lr * dL/dx_real / s. One row, dY = 3, inScale 1,
  // s_w = 0.25: dL/dW_real[i] = 3 x[i], dL/db_real = 3, every product exact in f32.
  const x = [1, 2, 3, -5, 10, 7]; // 6 inputs: one SIMD group of four and a scalar tail
  const lr = 1, dY = 3, sw = 0.25;
  const exactCase = (flags: number): UpdateCase => {
    const c = singleChannelCase(x, dY, lr, flags, x.map(() => 0), 0);
    c.o = { ...c.o, scales: Float32Array.of(sw) };
    return c;
  };
  const cases = [
    { name: 'QAS off', flags: UPDATE_NEAREST | UPDATE_NO_QAS, weightStep: (g: number) => lr * sw * g, biasStep: (g: number) => lr * sw * g },
    { name: 'QAS on', flags: UPDATE_NEAREST, weightStep: (g: number) => (lr * g) / sw, biasStep: (g: number) => (lr * g) / sw },
  ];
  for (const { name, flags, weightStep, biasStep } of cases) {
    it(`${name}, nearest rounding: every fully connected variant moves each weight and the bias by the formula's rounded step`, () => {
      const expectedW = x.map((xi) => 0 - Math.min(127, Math.max(-127, roundHalfEven(weightStep(dY * xi)))) || 0);
      const expectedB = 0 - roundHalfEven(biasStep(dY)) || 0;
      for (const v of trainVariants('fully_connected_update_s8')) {
        const out = run(exactCase(flags), v.build, v.name, 1);
        expect(out.status, `${v.name} (${v.build}) ${name}`).toBe(Status.OK);
        expect(Array.from(out.filter), `${v.name} (${v.build}) ${name}: weights`).toEqual(expectedW);
        expect(out.bias![0], `${v.name} (${v.build}) ${name}: bias`).toBe(expectedB);
      }
    });
  }

  it('QAS off and on differ by s^2 in the step: the same case moves weights by 0.75 x vs 12 x quanta', () => {
    const off = run(exactCase(UPDATE_NEAREST | UPDATE_NO_QAS), 'mvp', 'fully_connected_update_s8', 1);
    const on = run(exactCase(UPDATE_NEAREST), 'mvp', 'fully_connected_update_s8', 1);
    x.forEach((xi, i) => {
      expect(off.filter[i], `QAS off weight ${i} (x ${xi})`).toBe(-roundHalfEven(0.75 * xi) || 0);
      expect(on.filter[i], `QAS on weight ${i} (x ${xi})`).toBe(Math.max(-127, Math.min(127, -12 * xi)));
    });
  });
});


group('rounding', () => {
  // steps of -x[i] * 0.137 quanta: fractional parts spread over (0, 1), some below one half
  const x = [1, 2, 3, 5, 7, 11, -4, -9];
  const lr = 0.137;
  const steps = x.map((v) => Math.fround(lr * Math.fround(v)));

  it('stochastic rounding is unbiased: the mean change over 4000 draws is the exact step (within 5 sigma)', () => {
    const trials = 4000;
    const k = loadTrainKernels('mvp'), ws = workspace('mvp');
    const c = singleChannelCase(x, 1, lr, 0, x.map(() => 0), null);
    const sums = new Float64Array(x.length);
    k.prng_seed(12345);
    ws.reset();
    const px = ws.i8(c.o.x), pdy = ws.f32(c.o.dY), pw = ws.i8(c.filter), ps = ws.f32(c.o.scales), pch = ws.i32([0]);
    for (let t = 0; t < trials; t++) {
      new Int8Array(k.memory.buffer, pw, x.length).fill(0);
      expect(k.fully_connected_update_s8(px, 1, x.length, 0, 1, pdy, 1, pw, ps, 0, pch, 1, lr, lr, 0, 0, 0, /* flags: stochastic, QAS */ 0)).toBe(Status.OK);
      const w = new Int8Array(k.memory.buffer, pw, x.length);
      for (let i = 0; i < x.length; i++) sums[i] += -w[i];
    }
    steps.forEach((step, i) => {
      const frac = step - Math.floor(step);
      const sigma = Math.sqrt((frac * (1 - frac)) / trials);
      expect(Math.abs(sums[i] / trials - step), `weight ${i}: mean step ${sums[i] / trials}, exact ${step}`).toBeLessThanOrEqual(5 * sigma + 1e-9);
    });
  });

  it('nearest rounding rounds the step half to even, and loses steps below half a quantum', () => {
    const out = run(singleChannelCase(x, 1, lr, UPDATE_NEAREST, x.map(() => 0), null), 'mvp', 'fully_connected_update_s8', 1);
    expect(Array.from(out.filter)).toEqual(steps.map((s) => -roundHalfEven(s) || 0));
    expect(out.filter[0]).toBe(0); // step 0.137: lost
    const ties = run(singleChannelCase([1, 3, 5, -1, -3], 1, 0.5, UPDATE_NEAREST, [0, 0, 0, 0, 0], null), 'mvp', 'fully_connected_update_s8', 1);
    expect(Array.from(ties.filter)).toEqual([0, -2, -2, 0, 2]); // steps 0.5, 1.5, 2.5, -0.5, -1.5
    expect(out.nextDraw, 'nearest rounding draws nothing').toBe(runMirror(singleChannelCase([], 0, 0, UPDATE_NEAREST, [], null), 1).nextDraw);
  });

  it('the same seed gives the same weights; another seed gives others', () => {
    const c = updateCase('conv2d', new Rng(77), 5);
    c.settings = { ...c.settings, flags: 0, lrW: 0.002 };
    const a = run(c, 'mvp', 'conv2d_update_s8', 99), b = run(c, 'mvp', 'conv2d_update_s8', 99), other = run(c, 'mvp', 'conv2d_update_s8', 100);
    expect(firstBitMismatch(a.filter, b.filter)).toBe(-1);
    expect(firstBitMismatch(a.filter, other.filter), 'seeds 99 and 100 rounded every weight alike').not.toBe(-1);
    const simd = run(c, 'simd', 'conv2d_update_s8_simd', 99);
    expect(firstBitMismatch(a.filter, simd.filter), 'mvp and simd builds differ for the same seed').toBe(-1);
  });
});

group('saturation and bad input', () => {
  it('saturates int8 weights at -127/127 and int32 biases at their ends', () => {
    // x = [1, -1, 50, -50], dY = 1: steps +lr, -lr, +50 lr, -50 lr
    const c = singleChannelCase([1, -1, 50, -50], 1, 10, UPDATE_NEAREST, [-120, 120, 0, 0], 2147483647 - 3);
    for (const v of trainVariants('fully_connected_update_s8')) {
      const up = run(c, v.build, v.name, 1);
      expect(Array.from(up.filter), v.name).toEqual([-127, 127, -127, 127]);
      expect(up.bias![0], v.name).toBe(2147483647 - 3 - 10); // bias step lr * dY / (1 * 1) = 10
      const huge = run({ ...c, settings: { ...c.settings, lrB: -1e12, lrW: 1e30 } }, v.build, v.name, 1);
      expect(Array.from(huge.filter), v.name).toEqual([-127, 127, -127, 127]);
      expect(huge.bias![0], v.name).toBe(2147483647);
      const down = run({ ...c, bias: Int32Array.of(-2147483648 + 5), settings: { ...c.settings, lrB: 1e9 } }, v.build, v.name, 1);
      expect(down.bias![0], v.name).toBe(-2147483648);
    }
  });

  it('rejects a channel out of range, an unknown flag bit, or carry with momentum or without its state, without writing anything', () => {
    for (const kind of ['conv2d', 'depthwise_conv2d', 'fully_connected', 'bias'] as const) {
      for (const v of trainVariants(KERNEL_OF[kind])) {
        const c = updateCase(kind, new Rng(5), 3);
        const bads = [{ ...c, channels: [...c.channels, c.o.outC] }, { ...c, channels: [-1] }, { ...c, settings: { ...c.settings, flags: 16 } }, { ...c, settings: { ...c.settings, flags: -1 } }];
        // compact rows (bit 3): only the kernels whose filter rows are output channels
        if (kind === 'depthwise_conv2d' || kind === 'bias') bads.push({ ...c, settings: { ...c.settings, flags: UPDATE_COMPACT_ROWS } });
        if (kind !== 'bias') {
          const fractions = new Int8Array(c.channels.length * perChannelWeights(kind, c.o.g));
          bads.push({ ...c, settings: { ...c.settings, flags: UPDATE_CARRY, momentum: 0.9 }, state: { weights: fractions, biases: null } });
          bads.push({ ...c, settings: { ...c.settings, flags: UPDATE_CARRY, momentum: 0 }, state: { weights: null, biases: null } });
        }
        for (const bad of bads) {
          const out = run(bad, v.build, v.name, 7);
          expect(out.status, `${v.name}: channels ${JSON.stringify(bad.channels)}, flags ${bad.settings.flags}, momentum ${bad.settings.momentum}, state ${bad.state.weights !== null}`).toBe(Status.BAD_ARGUMENT);
          expect(firstBitMismatch(out.filter, c.filter)).toBe(-1);
          if (c.bias) expect(firstBitMismatch(out.bias!, c.bias)).toBe(-1);
          expect(out.nextDraw, 'no PRNG draw').toBe(runMirror({ ...c, channels: [] }, 7).nextDraw);
        }
      }
    }
  });

  it('a non-finite gradient leaves its parameters unchanged, updates the rest and reports BAD_INPUT', () => {
    for (const kind of ['conv2d', 'fully_connected'] as const) {
      for (const v of trainVariants(KERNEL_OF[kind])) {
        const c = updateCase(kind, new Rng(11), 4);
        c.o = { ...c.o, dY: c.o.dY.slice() };
        c.o.dY[0] = NaN; // output pixel 0, channel 0
        c.channels = Array.from({ length: c.o.outC }, (_, i) => i);
        c.state = { weights: null, biases: null }; // sized for the old selection
        const expected = runMirror(c, 3);
        expect(expected.status).toBe(Status.BAD_INPUT);
        expectSameResult(`${v.name} (${v.build})`, run(c, v.build, v.name, 3), expected);
      }
    }
  });
});
