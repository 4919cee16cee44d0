import { describe, expect, it } from 'vitest';
import { FormatError } from '../src/formats/errors.js';
import { modelToJson, parseModelJson } from '../src/formats/model_json.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Rng } from './helpers/rng.js';

/** A small valid model: conv (with bias) -> relu'd output -> fc -> softmax. */
function sample(seed = 1): QModel {
  const rng = new Rng(seed);
  const ints = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => rng.int(lo, hi));
  return {
    format: 'sparrow-model', version: 1, name: 'sample',
    inputs: ['x'], outputs: ['probs'],
    tensors: [
      { name: 'x', shape: [1, 4, 4, 1], dtype: 'int8', quant: { scale: [0.02], zeroPoint: [-128] } },
      { name: 'conv/w', shape: [2, 3, 3, 1], dtype: 'int8', quant: { scale: [0.01, 0.02], zeroPoint: [0, 0] }, data: ints(18, -127, 127) },
      { name: 'conv/b', shape: [2], dtype: 'int32', data: ints(2, -1000, 1000) },
      { name: 'conv', shape: [1, 4, 4, 2], dtype: 'int8', quant: { scale: [0.05], zeroPoint: [0] } },
      { name: 'fc/w', shape: [3, 32], dtype: 'int8', quant: { scale: [0.01, 0.01, 0.02], zeroPoint: [0, 0, 0] }, data: ints(96, -127, 127) },
      { name: 'logits', shape: [1, 3], dtype: 'int8', quant: { scale: [0.1], zeroPoint: [2] } },
      { name: 'probs', shape: [1, 3], dtype: 'int8', quant: { scale: [1 / 256], zeroPoint: [-128] } },
    ],
    ops: [
      { op: 'conv2d', inputs: ['x', 'conv/w', 'conv/b'], outputs: ['conv'], stride: [1, 1], padding: 'same', activation: 'relu' },
      { op: 'fully_connected', inputs: ['conv', 'fc/w'], outputs: ['logits'] },
      { op: 'softmax', inputs: ['logits'], outputs: ['probs'], beta: 1 },
    ],
  };
}

describe('model JSON', () => {
  it('round trips: parse(serialize(m)) == m, and serializing is stable', () => {
    const m = sample();
    const text = modelToJson(m);
    expect(parseModelJson(text)).toEqual(m);
    expect(modelToJson(parseModelJson(text))).toBe(text);
    expect(text).toMatch(/"shape": \[1, 4, 4, 1\]/); // scalar arrays on one line
    expect(text).not.toMatch(/^\s+(-?\d[\d.e+-]*|"[^"]*"),?$/m); // no array item alone on a line
  });

  // [what, change to the sample, message the FormatError must contain]
  const broken: [string, (m: any) => void, RegExp][] = [
    ['not an object', (m) => Object.keys(m).forEach((k) => delete m[k]), /format must be "sparrow-model"/],
    ['version', (m) => (m.version = 2), /version must be 1/],
    ['no tensors', (m) => (m.tensors = []), /tensors must be a non-empty array/],
    ['duplicate tensor name', (m) => (m.tensors[3].name = 'x'), /tensor "x": name is used twice/],
    ['empty name', (m) => (m.tensors[0].name = ''), /tensor 0: needs a non-empty name/],
    ['rank 5', (m) => (m.tensors[0].shape = [1, 1, 4, 4, 1]), /tensor "x": shape must be 1..4 integers/],
    ['dim 0', (m) => (m.tensors[0].shape = [1, 0, 4, 1]), /tensor "x": shape/],
    ['dtype', (m) => (m.tensors[0].dtype = 'int4'), /tensor "x": dtype must be one of/],
    ['data length', (m) => m.tensors[1].data.pop(), /tensor "conv\/w": data has 17 values, shape \[2,3,3,1\] needs 18/],
    ['int8 data out of range', (m) => (m.tensors[1].data[4] = 128), /tensor "conv\/w": data\[4\] = 128 is not an integer in \[-128, 127\]/],
    ['int8 weight -128', (m) => (m.tensors[1].data[7] = -128), /tensor "conv\/w" \(weights of op 0, conv2d\): data\[7\] = -128/],
    ['int32 data not integral', (m) => (m.tensors[2].data[0] = 0.5), /tensor "conv\/b": data\[0\] = 0.5/],
    ['quant lengths differ', (m) => m.tensors[1].quant.zeroPoint.pop(), /tensor "conv\/w": quant has 2 scales and 1 zero points/],
    ['quant count', (m) => (m.tensors[4].quant = { scale: [1, 1], zeroPoint: [0, 0] }), /tensor "fc\/w": quant has 2 scales: expected 1 or one per channel/],
    ['scale not positive', (m) => (m.tensors[0].quant.scale[0] = 0), /tensor "x": quant.scale\[0\] = 0/],
    ['zero point out of range', (m) => (m.tensors[0].quant.zeroPoint[0] = -129), /tensor "x": quant.zeroPoint\[0\] = -129/],
    ['weight zero point', (m) => (m.tensors[1].quant.zeroPoint[1] = 3), /weights are symmetric/],
    ['unknown op', (m) => (m.ops[1].op = 'matmul'), /op 1: op must be one of/],
    ['unresolved input', (m) => (m.ops[1].inputs[0] = 'nope'), /op 1 \(fully_connected\): names unknown tensor "nope"/],
    ['arity', (m) => m.ops[1].inputs.pop(), /op 1 \(fully_connected\): takes 2..3 input names/],
    ['two outputs', (m) => m.ops[2].outputs.push('logits'), /op 2 \(softmax\): takes exactly 1 output name/],
    ['output written twice', (m) => (m.ops[2].outputs = ['logits']), /op 2 \(softmax\): output "logits" is already written by op 1/],
    ['output is a constant', (m) => (m.ops[2].outputs = ['fc/w']), /output "fc\/w" is a constant/],
    ['stride', (m) => (m.ops[0].stride = [0, 1]), /op 0 \(conv2d\): stride must be/],
    ['padding', (m) => (m.ops[0].padding = 'full'), /padding must be "same" or "valid"/],
    ['activation', (m) => (m.ops[0].activation = 'tanh'), /activation must be none, relu or relu6/],
    ['beta', (m) => (m.ops[2].beta = -1), /beta must be finite and > 0/],
    ['pool without filter', (m) => (m.ops[2] = { op: 'max_pool', inputs: ['logits'], outputs: ['probs'] }), /op 2 \(max_pool\): needs filter/],
    ['unknown graph input', (m) => (m.inputs = ['y']), /inputs names unknown tensor "y"/],
    ['graph output listed twice', (m) => (m.outputs = ['probs', 'probs']), /outputs lists a tensor twice/],
  ];
  for (const [what, change, message] of broken) {
    it(`refuses: ${what}`, () => {
      const m = JSON.parse(modelToJson(sample()));
      change(m);
      expect(() => parseModelJson(JSON.stringify(m))).toThrow(FormatError);
      expect(() => parseModelJson(JSON.stringify(m))).toThrow(message);
    });
  }

  it('refuses text that is not JSON', () => {
    expect(() => parseModelJson('{"format": ')).toThrow(/model JSON does not parse/);
  });
});
