import { describe, expect, it } from 'vitest';
import { lowerModel } from '../src/compiler/lower.js';
import { getDevice, type DeviceProfile } from '../src/compiler/devices.js';
import { readContainer, writeContainer } from '../src/formats/container.js';
import { BudgetError, FormatError, ShapeError } from '../src/formats/errors.js';
import type { QModel, QOp, QTensor } from '../src/formats/qmodel.js';
import { ALIGN, Category, DType, NO_TENSOR, Op, Storage } from '../src/formats/schema.js';
import { Rng } from './helpers/rng.js';
import { referenceCnn } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { Model } from '../src/host/model.js';
import { Session } from '../src/host/session.js';

const act = (name: string, shape: number[], scale: number, zeroPoint: number): QTensor => ({ name, shape, dtype: 'int8', quant: { scale: [scale], zeroPoint: [zeroPoint] } });
const filled = (n: number, rng: Rng, lo: number, hi: number) => Array.from({ length: n }, () => rng.int(lo, hi));
const weights = (name: string, shape: number[], scales: number[], rng: Rng): QTensor => ({
  name, shape, dtype: 'int8', quant: { scale: scales, zeroPoint: scales.map(() => 0) }, data: filled(shape.reduce((a, b) => a * b), rng, -127, 127),
});
const bias = (name: string, n: number, rng: Rng): QTensor => ({ name, shape: [n], dtype: 'int32', data: filled(n, rng, -1000, 1000) });

/**
 * x [1,5,5,2] -> conv2d 3x3 s2 SAME relu -> c1 [1,3,3,4] -> depthwise 3x3 VALID -> d1 [1,1,1,4]
 * -> reshape -> r [1,4] -> fully_connected -> f [1,3] -> softmax -> s [1,3]
 */
function chainModel(): QModel {
  const rng = new Rng(11);
  return {
    format: 'sparrow-model', version: 1, name: 'chain',
    tensors: [
      act('x', [1, 5, 5, 2], 0.5, -1),
      weights('w1', [4, 3, 3, 2], [0.01, 0.02, 0.03, 0.04], rng), bias('b1', 4, rng),
      act('c1', [1, 3, 3, 4], 0.25, 3),
      weights('w2', [1, 3, 3, 4], [0.05], rng), bias('b2', 4, rng),
      act('d1', [1, 1, 1, 4], 0.125, 0),
      act('r', [1, 4], 0.125, 0),
      weights('w3', [3, 4], [0.1, 0.2, 0.3], rng), bias('b3', 3, rng),
      act('f', [1, 3], 0.5, 1),
      { name: 's', shape: [1, 3], dtype: 'int8' },
      { name: 'unused', shape: [7], dtype: 'int32', data: [1, 2, 3, 4, 5, 6, 7] },
    ],
    ops: [
      { op: 'conv2d', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], stride: [2, 2], padding: 'same', activation: 'relu' },
      { op: 'depthwise_conv2d', inputs: ['c1', 'w2', 'b2'], outputs: ['d1'] },
      { op: 'reshape', inputs: ['d1'], outputs: ['r'] },
      { op: 'fully_connected', inputs: ['r', 'w3', 'b3'], outputs: ['f'] },
      { op: 'softmax', inputs: ['f'], outputs: ['s'] },
    ],
    inputs: ['x'],
    outputs: ['s'],
  };
}

/**
 * q float32 [1,4,4,8] -> quantize -> x -> conv 1x1 -> p; add(p, x) -> a -> max_pool 2x2 s2 -> m
 * -> avg_pool 2x2 s1 SAME relu6 -> v -> global_avg_pool -> g -> dequantize -> y float32
 */
function residualModel(): QModel {
  const rng = new Rng(12);
  return {
    format: 'sparrow-model', version: 1, name: 'residual',
    tensors: [
      { name: 'q', shape: [1, 4, 4, 8], dtype: 'float32' },
      act('x', [1, 4, 4, 8], 0.05, 2),
      weights('w', [8, 1, 1, 8], Array.from({ length: 8 }, (_, c) => 0.01 * (c + 1)), rng),
      act('p', [1, 4, 4, 8], 0.1, -3),
      act('a', [1, 4, 4, 8], 0.2, -5),
      act('m', [1, 2, 2, 8], 0.2, -5),
      act('v', [1, 2, 2, 8], 0.2, -5),
      act('g', [1, 1, 1, 8], 0.2, -5),
      { name: 'y', shape: [1, 1, 1, 8], dtype: 'float32' },
    ],
    ops: [
      { op: 'quantize', inputs: ['q'], outputs: ['x'] },
      { op: 'conv2d', inputs: ['x', 'w'], outputs: ['p'], padding: 'same' },
      { op: 'add', inputs: ['p', 'x'], outputs: ['a'], activation: 'relu' },
      { op: 'max_pool', inputs: ['a'], outputs: ['m'], filter: [2, 2], stride: [2, 2] },
      { op: 'avg_pool', inputs: ['m'], outputs: ['v'], filter: [2, 2], padding: 'same', activation: 'relu6' },
      { op: 'global_avg_pool', inputs: ['v'], outputs: ['g'] },
      { op: 'dequantize', inputs: ['g'], outputs: ['y'] },
    ],
    inputs: ['q'],
    outputs: ['y'],
  };
}

const tensorIndex = (names: string[] | undefined, name: string) => names!.indexOf(name);

describe('lowerModel: a conv / depthwise / reshape / fc / softmax chain', () => {
  const model = chainModel();
  const { container, report } = lowerModel(model);
  const t = (name: string) => container.tensors[tensorIndex(container.names, name)];

  it('keeps used tensors in model order, then derived constants, and drops unused ones', () => {
    expect(container.names).toEqual([
      'x', 'w1', 'b1', 'c1', 'w2', 'b2', 'd1', 'r', 'w3', 'b3', 'f', 's',
      'c1.requant', 'w1.scales', 'd1.requant', 'w2.scales', 'f.requant', 'w3.scales',
    ]);
    expect(report.unusedTensors).toEqual(['unused']);
  });

  it('lowers each op with explicit params (SAME: out 3, pad total 2, top 1; relu at zp 3)', () => {
    expect(container.ops.map((o) => o.op)).toEqual([Op.CONV2D, Op.DEPTHWISE_CONV2D, Op.RESHAPE, Op.FULLY_CONNECTED, Op.SOFTMAX]);
    const idx = (n: string) => tensorIndex(container.names, n);
    expect(container.ops[0]).toEqual({
      op: Op.CONV2D, inputs: [idx('x'), idx('w1'), idx('b1'), idx('c1.requant')], output: idx('c1'), scratch: NO_TENSOR,
      params: [2, 2, 1, 1, 3, 127, 0, 0, 0, 0, 0, 0],
    });
    expect(container.ops[1].params).toEqual([1, 1, 0, 0, -128, 127, 0, 0, 0, 0, 0, 0]);
    expect(container.ops[2]).toMatchObject({ inputs: [idx('d1')], output: idx('r'), params: new Array(12).fill(0) });
    expect(container.ops[3].params.slice(4, 6)).toEqual([-128, 127]);
  });

  it('requantization table = QuantizeMultiplier(s_in * s_w[c] / s_out), float32 scales', () => {
    // By hand: 0.5 * f32(0.01) / 0.25 = 0.019999999552965164 = 0.63999998569 * 2^-5, and
    // 0.63999998569 * 2^31 = 1374389504 exactly; likewise for the other channels.
    const rq = t('c1.requant');
    expect(rq).toMatchObject({ dtype: DType.INT32, shape: [4, 2], storage: Storage.CONST });
    const values = Array.from(new Int32Array(container.data.buffer, container.data.byteOffset + rq.offset, 8));
    expect(values).toEqual([1374389504, -5, 1374389504, -4, 2061584256, -4, 1374389504, -3]);
  });

  it('gives weights their per-channel scales (a single scale is repeated per channel)', () => {
    const w2 = t('w2');
    expect(w2.channelScales).toBe(tensorIndex(container.names, 'w2.scales'));
    const sc = t('w2.scales');
    expect(sc).toMatchObject({ dtype: DType.FLOAT32, shape: [4] });
    expect(Array.from(new Float32Array(container.data.slice(sc.offset, sc.offset + 16).buffer))).toEqual(new Array(4).fill(Math.fround(0.05)));
    expect(t('w1')).toMatchObject({ scale: 0, zeroPoint: 0 });
    expect(t('x')).toMatchObject({ scale: 0.5, zeroPoint: -1, storage: Storage.ARENA, category: Category.ACTIVATION });
  });

  it('sets the softmax output to scale 1/256, zero point -128', () => {
    expect(t('s')).toMatchObject({ scale: 1 / 256, zeroPoint: -128 });
  });

  it('stores constants 16-aligned in DATA with their values', () => {
    for (const [i, rec] of container.tensors.entries()) {
      expect(rec.offset % ALIGN, container.names![i]).toBe(0);
      if (rec.storage === Storage.CONST) expect(rec.offset + rec.bytes, container.names![i]).toBeLessThanOrEqual(container.data.length);
    }
    const w1 = t('w1');
    expect(Array.from(new Int8Array(container.data.buffer, container.data.byteOffset + w1.offset, 72))).toEqual(model.tensors[1].data);
    const b1 = t('b1');
    expect(Array.from(new Int32Array(container.data.slice(b1.offset, b1.offset + 16).buffer))).toEqual(model.tensors[2].data);
  });

  it('plans the arena as derived by hand', () => {
    // Slots: x 50 B [0,0]; c1 36 B [0,1]; d1 + r (reshape in place) 4 B [1,3]; f 3 B [3,4]; s 3 B [4,4].
    // Largest first: x@0, c1@64 (live with x), d1@0, f@16 (live with d1), s@0. Peak 100 -> 112.
    const at = Object.fromEntries(report.buffers.map((b) => [b.name, b.offset]));
    expect(at).toEqual({ x: 0, c1: 64, d1: 0, r: 0, f: 16, s: 0 });
    expect(report.buffers.find((b) => b.name === 'r')!.sharesWith).toBe('d1');
    expect(container.plan).toEqual({ arenaBytes: 112, inputs: [0], outputs: [11] });
    expect(report.plan.timeline.map((u) => [u.liveBytes, u.highWater])).toEqual([[86, 100], [40, 100], [4, 4], [7, 19], [6, 19]]);
    expect(report.plan.peakOp).toBe(0);
    expect(report.plan.peakBuffers).toEqual([{ name: 'x', bytes: 50, op: 'graph input' }, { name: 'c1', bytes: 36, op: 'op 0 conv2d' }]);
    expect(report.plan.naiveBytes).toBe(64 + 48 + 16 + 16 + 16 + 16);
    expect(container.meta).toMatchObject({ producer: 'sparrow', model: 'chain', arenaBytes: 112, arenaPeaks: { ACTIVATION: 86 } });
    expect((container.meta!.opOptions as unknown[]).length).toBe(container.ops.length);
  });

  it('counts MACs per op', () => {
    // conv: 3*3*4 outputs x 3*3*2 taps; depthwise: 4 outputs x 9 taps; fc: 3 outputs x 4 inputs.
    expect(report.ops.map((o) => [o.name, o.macs])).toEqual([['c1', 648], ['d1', 36], ['r', 0], ['f', 12], ['s', 0]]);
    expect(report.totalMacs).toBe(696);
  });

  it('breaks the container size down exactly (round trip through the container writer)', () => {
    const bytes = writeContainer(container);
    expect(report.flash.total).toBe(bytes.length);
    expect(report.flash).toMatchObject({ weights: 72 + 36 + 12, biases: 16 + 16 + 12, requantTables: 88, scales: 44, otherConstants: 0 });
    const { weights, biases, requantTables, scales, otherConstants, schedule, metadata, padding, total } = report.flash;
    expect(weights + biases + requantTables + scales + otherConstants + schedule + metadata + padding).toBe(total);
    expect(padding).toBeGreaterThanOrEqual(0);
    const back = readContainer(bytes);
    expect(back.tensors).toEqual(container.tensors);
    expect(back.ops).toEqual(container.ops);
    expect(back.plan).toEqual(container.plan);
    expect(back.names).toEqual(container.names);
    expect(Array.from(back.data)).toEqual(Array.from(container.data));
  });
});

describe('lowerModel: 1x1 conv, add in place, pools, quantize/dequantize', () => {
  const { container, report } = lowerModel(residualModel(), { sparse: 'never' }); // dense records (sparse: test/sparse_model.test.ts)
  const idx = (n: string) => tensorIndex(container.names, n);

  it('a 1x1 stride-1 conv becomes CONV1X1 without stride or padding params', () => {
    expect(container.ops.map((o) => o.op)).toEqual([Op.QUANTIZE, Op.CONV1X1, Op.ADD, Op.MAX_POOL, Op.AVG_POOL, Op.GLOBAL_AVG_POOL, Op.DEQUANTIZE]);
    expect(container.ops[1].inputs).toEqual([idx('x'), idx('w'), NO_TENSOR, idx('p.requant')]);
    expect(container.ops[1].params).toEqual([0, 0, 0, 0, -128, 127, 0, 0, 0, 0, 0, 0]);
  });

  it('pools carry filter, stride and SAME padding (out 2, total 1, top 0); relu6 in the output scale', () => {
    // relu6 at scale 0.2, zp -5: [-5 + 0, -5 + round(6 / 0.2) = 25]
    expect(container.ops[3].params).toEqual([2, 2, 2, 2, 0, 0, -128, 127, 0, 0, 0, 0]);
    expect(container.ops[4].params).toEqual([2, 2, 1, 1, 0, 0, -5, 25, 0, 0, 0, 0]);
    expect(container.ops[5].params).toEqual([0, 0, 0, 0, 0, 0, -128, 127, 0, 0, 0, 0]);
  });

  it('ADD gets TFLite prepare params and writes over its dying input', () => {
    // twice max input scale = 0.2: a multiplier 0.1/0.2 = 0.5 -> (2^30, 0); b 0.05/0.2 = 0.25 -> (2^30, -1);
    // out 0.2 / (2^20 * 0.2) = 2^-20 -> (2^30, -19); relu at zp -5 -> [-5, 127].
    expect(container.ops[2].params).toEqual([20, 2 ** 30, 0, 2 ** 30, -1, 2 ** 30, -19, -5, 127, 0, 0, 0]);
    const a = report.buffers.find((b) => b.name === 'a')!;
    expect(a.sharesWith).toBe('p');
    expect(a.offset).toBe(report.buffers.find((b) => b.name === 'p')!.offset);
    expect(report.buffers.find((b) => b.name === 'x')!.offset).not.toBe(a.offset);
  });

  it('counts pool taps and elementwise work', () => {
    expect(report.ops.map((o) => [o.kind, o.macs, o.elements])).toEqual([
      ['convert', 0, 128], ['pointwise', 1024, 0], ['add', 0, 128], ['pool', 0, 128], ['pool', 0, 128], ['pool', 0, 32], ['convert', 0, 8],
    ]);
  });

  it('round-trips through the container reader', () => {
    const bytes = writeContainer(container);
    expect(readContainer(bytes).ops).toEqual(container.ops);
    expect(report.flash.total).toBe(bytes.length);
  });
});

describe('lowerModel: with a device', () => {
  it('adds the latency estimate and budgets', () => {
    const device = getDevice('stm32f746');
    const { report } = lowerModel(chainModel(), { device });
    expect(report.device!.name).toBe('stm32f746');
    expect(report.device!.sramBudget).toBe(device.sramBytes - device.reservedSramBytes);
    expect(report.device!.latency.perOp).toHaveLength(5);
    expect(report.device!.latency.totalUs).toBeGreaterThan(0);
  });
  it('refuses a plan over the SRAM budget with the peak contributors', () => {
    const tiny: DeviceProfile = { ...getDevice('rp2040'), name: 'tiny', sramBytes: 100, reservedSramBytes: 0 };
    let error: unknown;
    try {
      lowerModel(chainModel(), { device: tiny });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BudgetError);
    const b = error as BudgetError;
    expect([b.needed, b.available]).toEqual([112, 100]);
    expect(b.contributors.map((c) => c.name)).toEqual(['x', 'c1']);
    expect(b.message).toMatch(/model chain on tiny \(SRAM arena\) needs 112 B but only 100 B/);
    expect(() => lowerModel(chainModel(), { device: tiny, checkBudget: false })).not.toThrow();
  });
});

describe('lowerModel: invalid models name the op and the tensor', () => {
  type Edit = (m: QModel) => void;
  const tensor = (m: QModel, name: string) => m.tensors.find((t) => t.name === name)!;
  const op = (m: QModel, i: number): QOp => m.ops[i];
  const cases: [string, () => QModel, Edit, typeof FormatError | typeof ShapeError, RegExp][] = [
    ['filter depth differs from the input', chainModel, (m) => { tensor(m, 'w1').shape = [4, 3, 3, 3]; tensor(m, 'w1').data = new Array(108).fill(1); },
      ShapeError, /op 0 \(conv2d -> 'c1'\): filter 'w1' \[4,3,3,3\] must be \[Co,kH,kW,2\]/],
    ['wrong conv output shape', chainModel, (m) => { tensor(m, 'c1').shape = [1, 2, 2, 4]; },
      ShapeError, /op 0 \(conv2d -> 'c1'\): output 'c1' has shape \[1,2,2,4\], expected \[1,3,3,4\]/],
    ['unknown input', chainModel, (m) => { op(m, 1).inputs[0] = 'nope'; },
      FormatError, /op 1 \(depthwise_conv2d -> 'd1'\): input 0 'nope' is not a tensor of the model/],
    ['input read before it is written', chainModel, (m) => { op(m, 0).inputs[0] = 'f'; },
      FormatError, /op 0 \(conv2d -> 'c1'\): input 0 'f' is read before op 3 writes it/],
    ['int8 activation without quantization', chainModel, (m) => { delete tensor(m, 'd1').quant; },
      FormatError, /op 1 \(depthwise_conv2d -> 'd1'\): output 'd1' needs one scale and zero point/],
    ['weight value -128', chainModel, (m) => { tensor(m, 'w3').data![5] = -128; },
      FormatError, /op 3 \(fully_connected -> 'f'\): filter 'w3' value 5 is -128/],
    ['weight with a zero point', chainModel, (m) => { tensor(m, 'w3').quant!.zeroPoint = [0, 1, 0]; },
      FormatError, /filter 'w3' needs zero points 0/],
    ['wrong number of weight scales', chainModel, (m) => { tensor(m, 'w1').quant = { scale: [0.1, 0.1], zeroPoint: [0, 0] }; },
      FormatError, /op 0 \(conv2d -> 'c1'\): filter 'w1' needs 1 or 4 scales/],
    ['bias of the wrong length', chainModel, (m) => { tensor(m, 'b3').shape = [4]; tensor(m, 'b3').data = [1, 2, 3, 4]; },
      ShapeError, /op 3 \(fully_connected -> 'f'\): bias 'b3' has shape \[4\], expected \[3\]/],
    ['fc filter width differs from the input size', chainModel, (m) => { tensor(m, 'w3').shape = [2, 6]; tensor(m, 'w3').quant!.scale = [0.1, 0.1]; tensor(m, 'w3').quant!.zeroPoint = [0, 0]; tensor(m, 'w3').data = new Array(12).fill(1); },
      ShapeError, /op 3 \(fully_connected -> 'f'\): filter 'w3' \[2,6\] must be \[Co, 4\]/],
    ['softmax output with another scale', chainModel, (m) => { tensor(m, 's').quant = { scale: [0.5], zeroPoint: [0] }; },
      FormatError, /op 4 \(softmax -> 's'\): output 's' has scale 0.5, zero point 0; int8 softmax outputs use scale 1\/256/],
    ['reshape changing the element count', chainModel, (m) => { tensor(m, 'r').shape = [1, 5]; },
      ShapeError, /op 2 \(reshape -> 'r'\): output 'r' \[1,5\] does not hold the 4 elements of 'd1'/],
    ['VALID window larger than the input', chainModel, (m) => { tensor(m, 'w2').shape = [1, 4, 4, 4]; tensor(m, 'w2').data = new Array(64).fill(1); },
      ShapeError, /op 1 \(depthwise_conv2d -> 'd1'\): window 4 is larger than the input height 3/],
    ['unknown op', chainModel, (m) => { (op(m, 2) as { op: string }).op = 'gelu'; },
      FormatError, /op 2 \(gelu -> 'r'\): unknown op 'gelu'/],
    ['output written twice', chainModel, (m) => { op(m, 1).outputs = ['c1']; },
      FormatError, /op 1 \(depthwise_conv2d -> 'c1'\): output 'c1' is already written by op 0/],
    ['graph output written by no op', chainModel, (m) => { m.outputs = ['unused']; },
      FormatError, /graph output 'unused' is written by no op/],
    ['a fused activation on softmax', chainModel, (m) => { op(m, 4).activation = 'relu'; },
      FormatError, /op 4 \(softmax -> 's'\): softmax takes no fused activation/],
    ['add output scale too small', residualModel, (m) => { tensor(m, 'a').quant!.scale = [1e-9]; },
      FormatError, /op 2 \(add -> 'a'\): ADD output scale [0-9.e-]+ is too small/],
    ['pool changing the scale', residualModel, (m) => { tensor(m, 'm').quant!.scale = [0.3]; },
      FormatError, /op 3 \(max_pool -> 'm'\): output 'm' \(scale 0.30000001192092896, zero point -5\) must keep the scale and zero point of 'a'/],
    ['pool without a filter', residualModel, (m) => { delete op(m, 3).filter; },
      FormatError, /op 3 \(max_pool -> 'm'\): needs 'filter'/],
    ['quantize from int8', residualModel, (m) => { tensor(m, 'q').dtype = 'int8'; tensor(m, 'q').quant = { scale: [1], zeroPoint: [0] }; },
      ShapeError, /op 0 \(quantize -> 'x'\): input 'q' is int8, expected float32/],
    ['dequantize into int8', residualModel, (m) => { tensor(m, 'y').dtype = 'int8'; tensor(m, 'y').quant = { scale: [1], zeroPoint: [0] }; },
      ShapeError, /op 6 \(dequantize -> 'y'\): output 'y' is int8, expected float32/],
    ['batch 2 convolution', residualModel, (m) => { for (const n of ['q', 'x']) tensor(m, n).shape = [2, 4, 4, 8]; },
      ShapeError, /op 1 \(conv2d -> 'p'\): input 'x' has batch 2/],
    ['a tensor with a bad shape', chainModel, (m) => { tensor(m, 'unused').shape = [0]; },
      ShapeError, /tensor 'unused' has shape \[0\]/],
    ['data of the wrong length', chainModel, (m) => { tensor(m, 'b1').data = [1, 2]; },
      ShapeError, /tensor 'b1' \[4\] needs 4 values, has 2/],
    ['int8 data out of range', chainModel, (m) => { tensor(m, 'w1').data![0] = 300; },
      FormatError, /tensor 'w1' value 0 is 300, not an integer in \[-128,127\]/],
  ];
  for (const [what, base, edit, type, message] of cases) {
    it(what, () => {
      const m = base();
      edit(m);
      let error: unknown;
      try {
        lowerModel(m);
      } catch (e) {
        error = e;
      }
      expect(error, `no error for: ${what}`).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
    });
  }
  it('add inputs of different shapes (no broadcasting)', () => {
    const m = residualModel();
    m.tensors.push(act('x2', [1, 4, 4, 4], 0.05, 2));
    m.inputs.push('x2');
    m.ops[2].inputs[1] = 'x2';
    expect(() => lowerModel(m)).toThrow(ShapeError);
    expect(() => lowerModel(m)).toThrow(/op 2 \(add -> 'a'\): inputs 'p' \[1,4,4,8\] and 'x2' \[1,4,4,4\] differ in shape/);
  });
});

describe('lowerModel: the reference CNN after post-training quantization', () => {
  // conv3x3/2 8 -> dw3x3 -> pw16 -> dw3x3/2 -> pw32 -> GAP -> fc10 on 28x28x1, with quantize and dequantize.
  const rng = new Rng(3);
  const calibration = Float32Array.from({ length: 784 * 8 }, () => rng.next());
  const { container, report } = lowerModel(quantizeGraph(referenceCnn(1), calibration), { sparse: 'never' });

  it('lowers pointwise convs to CONV1X1 and counts the MACs by layer', () => {
    expect(container.ops.map((o) => Op[o.op])).toEqual([
      'QUANTIZE', 'CONV2D', 'DEPTHWISE_CONV2D', 'CONV1X1', 'DEPTHWISE_CONV2D', 'CONV1X1', 'GLOBAL_AVG_POOL', 'FULLY_CONNECTED', 'DEQUANTIZE',
    ]);
    // 14x14x8 x 9 taps; 14x14x8 x 9; 14x14x16 x 8; 7x7x16 x 9; 7x7x32 x 16; 10 x 32.
    expect(report.ops.map((o) => o.macs)).toEqual([0, 14112, 14112, 25088, 7056, 25088, 0, 320, 0]);
  });

  it('plans an arena the container reader accepts, well under the naive sum', () => {
    const back = readContainer(writeContainer(container)); // the reader re-checks every lifetime overlap
    expect(back.plan.arenaBytes).toBe(report.plan.arenaBytes);
    const peakLive = Math.max(...report.plan.timeline.map((u) => u.liveBytes));
    expect(report.plan.arenaBytes).toBeGreaterThanOrEqual(peakLive);
    expect(report.plan.arenaBytes).toBeLessThan(report.plan.naiveBytes / 2);
  });

  for (const build of ['mvp', 'simd'] as const) {
    it(`the executor (${build}) measures exactly the planned high-water mark`, async () => {
      const session = await Session.create(Model.compile(quantizeGraph(referenceCnn(1), calibration)), { build });
      session.run(Float32Array.from({ length: 784 }, () => rng.next()));
      const memory = session.memory();
      const plannedTop = Math.max(...report.plan.timeline.map((u) => u.highWater));
      expect(memory.highWaterBytes).toBe(plannedTop);
      expect(memory.plannedBytes).toBe(report.plan.arenaBytes);
      const plannedByCategory = Object.fromEntries(Object.entries(report.plan.categoryPeaks).map(([k, v]) => [k.toLowerCase(), v]));
      expect(memory.byCategory).toEqual(plannedByCategory);
    });
  }
});
