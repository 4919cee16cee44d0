// The host API: Model and Session in Node — loading, budgets, typed errors, memory report.
import { beforeAll, describe, expect, it } from 'vitest';
import { getDevice } from '../src/compiler/devices.js';
import { BudgetError, FormatError, ShapeError, ValueError } from '../src/formats/errors.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';
import { bestBuild } from '../src/host/runtime.js';
import { referenceData, referenceQModel } from '../targets/node/reference.js';

let qmodel: QModel;
let model: Model;
let image: Float32Array;

beforeAll(() => {
  const data = referenceData();
  qmodel = referenceQModel('reference-cnn', data).qmodel;
  model = Model.compile(qmodel, { device: getDevice('stm32f746') });
  image = data.test.images.slice(0, 784);
});

describe('Model', () => {
  it('describes its graph inputs and outputs and its memory', () => {
    expect(model.name).toBe('reference-cnn');
    expect(model.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([['input', 'float32', [1, 28, 28, 1]]]);
    expect(model.outputs.map((o) => [o.dtype, o.shape])).toEqual([['float32', [1, 10]]]);
    expect(model.flashBytes).toBe(model.bytes.length);
    expect(model.arenaBytes).toBe(model.report!.plan.arenaBytes);
  });

  it('reads back its own bytes and refuses corrupt ones with FormatError', () => {
    expect(Model.fromBytes(model.bytes).container.plan).toEqual(model.container.plan);
    const corrupt = model.bytes.slice();
    corrupt[40] ^= 1;
    expect(() => Model.fromBytes(corrupt)).toThrow(FormatError);
    expect(() => Model.fromBytes(model.bytes.subarray(0, 100))).toThrow(FormatError);
  });
});

describe('Session', () => {
  it('picks SIMD where the host has it, and both builds give identical outputs', async () => {
    expect(bestBuild()).toBe('simd');
    const auto = await Session.create(model);
    const mvp = await Session.create(model, { build: 'mvp' });
    expect(auto.build).toBe('simd');
    expect(Array.from(auto.run(image)[0])).toEqual(Array.from(mvp.run(image)[0]));
  });

  it('returns fresh output arrays that later runs do not overwrite', async () => {
    const s = await Session.create(model);
    const first = s.run(image)[0];
    const copy = Array.from(first);
    s.run(new Float32Array(784));
    expect(Array.from(first)).toEqual(copy);
  });

  it('reports planned and measured memory, equal, by category, within the device budget', async () => {
    const s = await Session.create(model, { device: 'nrf52840' });
    s.run(image);
    const m = s.memory();
    expect(m.device).toBe('nrf52840');
    expect(m.highWaterBytes).toBe(m.plannedBytes);
    expect(m.plannedBytes).toBe(model.arenaBytes);
    expect(m.byCategory).toEqual({ activation: model.report!.plan.categoryPeaks.ACTIVATION });
    expect(m.budgetBytes).toBe(getDevice('nrf52840').sramBytes - getDevice('nrf52840').reservedSramBytes);
    expect(m.flashBytes).toBe(model.bytes.length);
  });

  it('throws BudgetError naming needed, available and the buffers at the peak', async () => {
    const tiny = { ...getDevice('nrf52840'), sramBytes: 4096, reservedSramBytes: 0 };
    const error = await Session.create(model, { device: tiny }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetError);
    const b = error as BudgetError;
    expect([b.needed, b.available]).toEqual([model.arenaBytes, 4096]);
    expect(b.contributors.length).toBeGreaterThan(0);
    expect(b.message).toMatch(/needs 4704 B but only 4096 B are available \(608 B over\); largest: /);
  });

  it('refuses wrong dtypes, wrong sizes and non-finite values with typed errors, and keeps working', async () => {
    const s = await Session.create(model);
    expect(() => s.run(new Int8Array(784))).toThrow(ShapeError);
    expect(() => s.run(new Float32Array(783))).toThrow(/has 784 elements \[1,28,28,1\], got 783/);
    expect(() => s.run([image, image])).toThrow(/takes 1 input/);
    const withNaN = image.slice();
    withNaN[300] = NaN;
    expect(() => s.run(withNaN)).toThrow(ValueError);
    expect(() => s.run(withNaN)).toThrow(/input\[300\] is NaN/);
    withNaN[300] = 0;
    withNaN[5] = -Infinity;
    expect(() => s.run(withNaN)).toThrow(/input\[5\] is -Infinity/);
    const clean = await Session.create(model);
    expect(Array.from(s.run(image)[0])).toEqual(Array.from(clean.run(image)[0]));
  });
});
