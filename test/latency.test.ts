import { describe, expect, it } from 'vitest';
import { DEVICES, type DeviceProfile } from '../src/compiler/devices.js';
import { estimateLatency, opWork } from '../src/compiler/latency.js';
import { lowerModel } from '../src/compiler/lower.js';
import type { QModel, QTensor } from '../src/formats/qmodel.js';
import { Op } from '../src/formats/schema.js';

const act = (name: string, shape: number[]): QTensor => ({ name, shape, dtype: 'int8', quant: { scale: [0.1], zeroPoint: [0] } });
const konst = (name: string, shape: number[], dtype: 'int8' | 'int32'): QTensor => ({
  name, shape, dtype, data: new Array(shape.reduce((a, b) => a * b)).fill(1), ...(dtype === 'int8' ? { quant: { scale: [0.01], zeroPoint: [0] } } : {}),
});

/** x [1,4,4,2] -> conv 3x3 VALID, 3 filters -> c [1,2,2,3] -> reshape r [1,12] -> fc 5 -> f [1,5] -> softmax s */
const model: QModel = {
  format: 'sparrow-model', version: 1, name: 'latency',
  tensors: [act('x', [1, 4, 4, 2]), konst('w', [3, 3, 3, 2], 'int8'), act('c', [1, 2, 2, 3]), act('r', [1, 12]),
    konst('w2', [5, 12], 'int8'), konst('b2', [5], 'int32'), act('f', [1, 5]), { name: 's', shape: [1, 5], dtype: 'int8' }],
  ops: [
    { op: 'conv2d', inputs: ['x', 'w'], outputs: ['c'] },
    { op: 'reshape', inputs: ['c'], outputs: ['r'] },
    { op: 'fully_connected', inputs: ['r', 'w2', 'b2'], outputs: ['f'] },
    { op: 'softmax', inputs: ['f'], outputs: ['s'] },
  ],
  inputs: ['x'], outputs: ['s'],
};

/** Round numbers, so every cycle count below can be checked by hand. */
const toy: DeviceProfile = {
  name: 'toy', description: 'toy', core: 'toy', clockHz: 1e6, sramBytes: 1 << 20, reservedSramBytes: 0, flashBytes: 1 << 20, reservedFlashBytes: 0,
  macsPerCycle: { conv: 0.5, depthwise: 0.5, pointwise: 0.25, fc: 0.25 },
  cyclesPerElement: { requant: 2, add: 3, pool: 1, softmax: 10, convert: 4 },
  opOverheadCycles: 100,
};

describe('opWork', () => {
  it('counts MACs, elements and outputs from the records', () => {
    const { container } = lowerModel(model);
    // conv: 12 outputs x 3*3*2 taps = 216; fc: 5 outputs x 12 inputs = 60; softmax: 5 elements.
    expect(opWork(container).map((w) => [w.op, w.kind, w.macs, w.elements, w.outputs])).toEqual([
      [Op.CONV2D, 'conv', 216, 0, 12], [Op.RESHAPE, 'none', 0, 0, 12], [Op.FULLY_CONNECTED, 'fc', 60, 0, 5], [Op.SOFTMAX, 'softmax', 0, 5, 5],
    ]);
  });
});

describe('estimateLatency', () => {
  const { container, report } = lowerModel(model);

  it('prices each op as MACs / rate + elements x cost + overhead', () => {
    // conv 100 + 216/0.5 + 12*2 = 556; reshape 100; fc 100 + 60/0.25 + 5*2 = 350; softmax 100 + 5*10 = 150.
    const e = estimateLatency(report, toy);
    expect(e.perOp.map((o) => o.cycles)).toEqual([556, 100, 350, 150]);
    expect(e.totalCycles).toBe(1156);
    expect(e.totalUs).toBeCloseTo(1156, 9); // 1 MHz: one cycle per microsecond
    expect(e.device).toBe('toy');
  });

  it('gives the same answer from the container as from the report', () => {
    expect(estimateLatency(container, toy).perOp.map((o) => o.cycles)).toEqual(estimateLatency(report, toy).perOp.map((o) => o.cycles));
  });

  it('time scales inversely with the clock', () => {
    const fast = estimateLatency(report, { ...toy, clockHz: 4e6 });
    expect(fast.totalUs).toBeCloseTo(1156 / 4, 9);
  });

  it('is positive and ordered by clock x throughput on the real profiles', () => {
    const us = Object.fromEntries(Object.values(DEVICES).map((d) => [d.name, estimateLatency(report, d).totalUs]));
    for (const [name, t] of Object.entries(us)) expect(t, name).toBeGreaterThan(0);
    expect(us.stm32h743).toBeLessThan(us.stm32f746); // same core, 480 vs 216 MHz
    expect(us.stm32f746).toBeLessThan(us.nrf52840); // faster core and clock
  });
});

describe('estimateLatency of train steps', () => {
  it('prices backward and update MACs, so more training costs more cycles', async () => {
    const { lowerTrainStep } = await import('../src/compiler/train/lower_train.js');
    const { referenceQModel } = await import('../targets/node/reference.js');
    const q = referenceQModel('reference-cnn').qmodel;
    const inference = estimateLatency(lowerModel(q, { sparse: 'never' }).container, DEVICES.stm32f746);
    const classifier = estimateLatency(lowerTrainStep(q, {}).container, DEVICES.stm32f746);
    const full = estimateLatency(lowerTrainStep(q, { weights: ['dw1', 'pw1', 'dw2', 'pw2'].map((layer) => ({ layer, ratio: 1 as const })) }).container, DEVICES.stm32f746);
    expect(classifier.totalCycles).toBeGreaterThan(inference.totalCycles);
    expect(full.totalCycles).toBeGreaterThan(classifier.totalCycles * 1.5);
    // the full step's backward MACs: dx of pw2, dw2, pw1, dw1 and the weight updates of all five layers
    const updates = full.perOp.filter((o) => o.op === Op.CONV2D_UPDATE || o.op === Op.DEPTHWISE_CONV2D_UPDATE || o.op === Op.FULLY_CONNECTED_UPDATE);
    expect(updates.reduce((s, o) => s + o.macs, 0)).toBe(14112 + 25088 + 7056 + 25088 + 320);
  });
});
