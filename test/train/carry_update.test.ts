// Carry rounding (UPDATE_CARRY, docs/training-math.md "Rounding and saturation"): every weight
// kernel variant on both builds equals the TypeScript mirror weight for weight and fraction for
// fraction after many steps; sub-quantum steps accumulate exactly (nearest rounding drops
// them); the rounding of the fine step and of the master value; saturation of the master
// value; no PRNG draw for weights; a non-finite step leaves weight and fraction alone.
import { describe as group, expect, it } from 'vitest';
import { Status } from '../../src/formats/schema.js';
import { Rng } from '../helpers/rng.js';
import { firstBitMismatch, loadTrainKernels, trainVariants, Workspace, type KernelBuild } from '../helpers/train_kernels.js';
import { UPDATE_CARRY, UPDATE_NEAREST, UPDATE_NO_QAS } from './sgd_mirror.js';
import { KERNEL_OF, perChannelWeights, rowsGeometry, runKernel, runMirror, updateCase, type UpdateCase, type UpdateResult } from './update_cases.js';

const workspaces = new Map<KernelBuild, Workspace>();
function run(c: UpdateCase, build: KernelBuild, fn: string, seed: number): UpdateResult {
  let ws = workspaces.get(build);
  if (!ws) workspaces.set(build, (ws = new Workspace(loadTrainKernels(build), 1 << 20)));
  return runKernel(c, loadTrainKernels(build), ws, fn, seed);
}

/** The next step's case: the weights, biases and state `r` left, and a new output gradient. */
function nextStep(c: UpdateCase, r: UpdateResult, rng: Rng): UpdateCase {
  const dY = Float32Array.from(c.o.dY, (v) => v * rng.uniform(-2, 2));
  return { ...c, filter: r.filter, bias: r.bias, state: r.state, o: { ...c.o, dY } };
}

/** fully connected, one row, one output channel, s_w = inScale = 1: weight i steps by lr * x[i] quanta (QAS). */
function stepsCase(x: number[], lr: number, flags: number, filter: number[], fractions: number[]): UpdateCase {
  return {
    kind: 'fully_connected', label: `fc 1x${x.length}, lr ${lr}, flags ${flags}`, filter: Int8Array.from(filter), bias: null,
    channels: [0], settings: { lrW: lr, lrB: lr, momentum: 0, flags }, state: { weights: Int8Array.from(fractions), biases: null },
    o: { x: Int8Array.from(x), inZp: 0, inScale: 1, dY: Float32Array.of(1), g: rowsGeometry(1, x.length), outC: 1, scales: Float32Array.of(1) },
  };
}

const STEPS = 12;

group('carry rounding', () => {
  for (const kind of ['conv2d', 'depthwise_conv2d', 'fully_connected'] as const) {
    const variants = trainVariants(KERNEL_OF[kind]);
    it(`${KERNEL_OF[kind]}: ${variants.length} variants equal the mirror after ${STEPS} steps on 12 seeded cases (weights, fractions, biases, PRNG draws)`, () => {
      let movedCases = 0, carriedCases = 0;
      for (let index = 0; index < 12; index++) {
        const seed = 0xca + index;
        const rng = new Rng(seed);
        const first = updateCase(kind, rng, 2 + 3 * index); // index % 3 == 2: a carry case
        first.settings = { ...first.settings, lrW: 10 ** rng.uniform(-3.5, -0.5) }; // from far below to above a quantum a step
        expect(first.settings.flags & UPDATE_CARRY, first.label).toBe(UPDATE_CARRY);
        let mirror = { c: first, r: runMirror(first, seed) };
        const device = variants.map((v) => ({ c: first, r: run(first, v.build, v.name, seed) }));
        const fractionsBefore = first.state.weights!;
        for (let step = 0; step < STEPS; step++) {
          const label = (name: string) => `${name} case ${index} (seed ${seed}) step ${step}: ${first.label}, lrW ${first.settings.lrW}`;
          expect(mirror.r.status, label('mirror')).toBe(Status.OK);
          device.forEach((d, i) => {
            const name = `${variants[i].name} (${variants[i].build})`;
            expect(d.r.status, label(name)).toBe(Status.OK);
            const w = firstBitMismatch(d.r.filter, mirror.r.filter);
            expect(w, `${label(name)}: weight [${w}] ${d.r.filter[w]}, expected ${mirror.r.filter[w]}`).toBe(-1);
            const f = firstBitMismatch(d.r.state.weights!, mirror.r.state.weights!);
            expect(f, `${label(name)}: fraction [${f}] ${d.r.state.weights![f]}, expected ${mirror.r.state.weights![f]}`).toBe(-1);
            if (mirror.r.bias) expect(firstBitMismatch(d.r.bias!, mirror.r.bias), `${label(name)}: bias`).toBe(-1);
            expect(d.r.nextDraw, `${label(name)}: PRNG draws consumed differ`).toBe(mirror.r.nextDraw);
          });
          const stepRng = new Rng(seed * 100 + step);
          const c = nextStep(mirror.c, mirror.r, stepRng);
          mirror = { c, r: runMirror(c, seed + step + 1) };
          device.forEach((d, i) => {
            const dc = nextStep(d.c, d.r, new Rng(seed * 100 + step));
            device[i] = { c: dc, r: run(dc, variants[i].build, variants[i].name, seed + step + 1) };
          });
        }
        if (firstBitMismatch(mirror.c.state.weights!, fractionsBefore) >= 0) carriedCases++;
        if (firstBitMismatch(mirror.c.filter, first.filter) >= 0) movedCases++;
      }
      // a case whose selected channels all see dY = 0 moves nothing: most must move
      expect(carriedCases, 'cases in which some fraction changed').toBeGreaterThanOrEqual(8);
      expect(movedCases, 'cases in which some weight moved').toBeGreaterThanOrEqual(4);
    });
  }

  it('sub-quantum steps accumulate exactly: 0.1 quanta a step moves a weight once its sum passes half a quantum; nearest rounding drops them', () => {
    // x = [1, -1, 3]: steps 0.1, -0.1, 0.3 quanta; t -= nearest(step * 256) = 26, -26, 77 (f32(0.1) * 256 = 25.6000004)
    const fine = [26, -26, 77];
    let c = stepsCase([1, -1, 3], 0.1, UPDATE_CARRY, [0, 0, 0], [0, 0, 0]);
    let nearest = stepsCase([1, -1, 3], 0.1, UPDATE_NEAREST, [0, 0, 0], [0, 0, 0]);
    for (let n = 1; n <= 20; n++) {
      const r = run(c, 'mvp', 'fully_connected_update_s8', 1);
      const t = fine.map((d) => -d * n);
      expect(Array.from(r.filter), `step ${n}`).toEqual(t.map((v) => Math.floor((v + 128) / 256)));
      expect(Array.from(r.state.weights!), `step ${n}`).toEqual(t.map((v) => v - 256 * Math.floor((v + 128) / 256)));
      c = { ...c, filter: r.filter, state: r.state };
      nearest = { ...nearest, filter: run(nearest, 'mvp', 'fully_connected_update_s8', 1).filter };
    }
    expect(Array.from(c.filter), 'after 20 steps: 2, -2 and 6 quanta (the fractions hold the rest)').toEqual([-2, 2, -6]);
    expect(Array.from(nearest.filter), 'nearest: steps below half a quantum are lost every time').toEqual([0, 0, 0]);
  });

  it('rounds the fine step half to even and the master value to the nearest quantum, ties up (fractions in [-128, 127])', () => {
    // lr = 1/512: steps x / 512 quanta, x * 0.5 in 1/256 quanta: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
    const ties = run(stepsCase([1, 3, 5, -1, -3], 1 / 512, UPDATE_CARRY, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]), 'mvp', 'fully_connected_update_s8', 1);
    expect(Array.from(ties.state.weights!)).toEqual([0, -2, -2, 0, 2]);
    // t = 256 w + f - fine: 127 - (-1) = 128 -> w 1, f -128; -127 - 1 = -128 -> w 0, f -128; 127 - 0 -> w 0, f 127
    for (const v of trainVariants('fully_connected_update_s8')) {
      const up = run(stepsCase([-1, 1, 0, 0], 1 / 256, UPDATE_CARRY, [0, 0, 0, 0], [127, -127, 127, -128]), v.build, v.name, 1);
      expect(Array.from(up.filter), v.name).toEqual([1, 0, 0, 0]);
      expect(Array.from(up.state.weights!), v.name).toEqual([-128, -128, 127, -128]);
    }
  });

  it('saturates the master value to [-127.5, 127.5) quanta: weight 127 with fraction 127 (or -127, -128), and the next step back counts from there', () => {
    for (const v of trainVariants('fully_connected_update_s8')) {
      // steps -60, 60, -0.5, 0.5 quanta from 120 / -120 / the ends
      const c = stepsCase([-120, 120, -1, 1], 0.5, UPDATE_CARRY | UPDATE_NEAREST, [120, -120, 127, -127], [0, 0, 127, -128]);
      const up = run(c, v.build, v.name, 1);
      expect(Array.from(up.filter), v.name).toEqual([127, -127, 127, -127]);
      expect(Array.from(up.state.weights!), v.name).toEqual([127, -128, 127, -128]);
      // back by 0.5 quanta (128/256): 127 * 256 + 127 - 128 -> w 127, f -1; -127 * 256 - 128 + 128 -> w -127, f 0
      const back = run({ ...c, filter: up.filter, state: up.state, o: { ...c.o, x: Int8Array.of(1, -1, 1, -1) } }, v.build, v.name, 1);
      expect(Array.from(back.filter), v.name).toEqual([127, -127, 127, -127]);
      expect(Array.from(back.state.weights!), v.name).toEqual([-1, 0, -1, 0]);
    }
  });

  it('draws no random number for weights (stochastic biases still draw one each), and ignores QAS only as flags say', () => {
    const c = updateCase('conv2d', new Rng(31), 2);
    const withBias = { ...c, bias: c.bias ?? new Int32Array(c.o.outC), settings: { ...c.settings, flags: UPDATE_CARRY } };
    const noBias = { ...withBias, bias: null };
    const draws = (x: UpdateCase) => run(x, 'mvp', 'conv2d_update_s8', 5).nextDraw;
    const untouched = runMirror({ ...c, channels: [], settings: { ...c.settings, flags: UPDATE_NEAREST } }, 5).nextDraw;
    expect(draws(noBias), 'carry weights drew a number').toBe(untouched);
    expect(draws(withBias), 'stochastic biases should draw').not.toBe(untouched);
    expect(draws({ ...withBias, settings: { ...withBias.settings, flags: UPDATE_CARRY | UPDATE_NEAREST } })).toBe(untouched);
    const qasOff = run({ ...noBias, settings: { ...noBias.settings, flags: UPDATE_CARRY | UPDATE_NO_QAS } }, 'mvp', 'conv2d_update_s8', 5);
    expect(qasOff.status).toBe(Status.OK);
    expect(firstBitMismatch(qasOff.state.weights!, runMirror({ ...noBias, settings: { ...noBias.settings, flags: UPDATE_CARRY | UPDATE_NO_QAS } }, 5).state.weights!)).toBe(-1);
  });

  it('a non-finite step leaves its weight and fraction unchanged, updates the rest and reports BAD_INPUT', () => {
    for (const kind of ['conv2d', 'fully_connected'] as const) {
      for (const v of trainVariants(KERNEL_OF[kind])) {
        const c = updateCase(kind, new Rng(12), 5); // index 5: a carry case
        c.o = { ...c.o, dY: c.o.dY.slice() };
        c.o.dY[0] = Infinity; // output pixel 0, channel 0
        c.channels = Array.from({ length: c.o.outC }, (_, i) => i);
        c.state = { weights: new Rng(13).int8Array(c.o.outC * perChannelWeights(kind, c.o.g)), biases: null };
        const expected = runMirror(c, 3);
        expect(expected.status).toBe(Status.BAD_INPUT);
        const got = run(c, v.build, v.name, 3);
        expect(got.status, v.name).toBe(Status.BAD_INPUT);
        expect(firstBitMismatch(got.filter, expected.filter), `${v.name} (${v.build}) weights`).toBe(-1);
        expect(firstBitMismatch(got.state.weights!, expected.state.weights!), `${v.name} (${v.build}) fractions`).toBe(-1);
      }
    }
  });
});
