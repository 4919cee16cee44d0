// The quantized-model JSON (src/formats/qmodel.ts): parse with full structural validation,
// and serialize in a stable, readable layout (fixed key order, numeric arrays on one line).
// Errors are FormatError naming the tensor or op and what to fix.

import { FormatError } from './errors.js';
import { MAX_RANK } from './schema.js';
import type { DTypeName, OpName, QModel, QOp, QTensor } from './qmodel.js';

const DTYPES: readonly DTypeName[] = ['int8', 'int32', 'float32', 'uint8'];
const OPS: readonly OpName[] = [
  'conv2d', 'depthwise_conv2d', 'fully_connected', 'add', 'avg_pool', 'max_pool',
  'global_avg_pool', 'reshape', 'softmax', 'quantize', 'dequantize',
];
/** Inputs each op takes: [min, max]; conv and fc take an optional bias. */
const ARITY: Record<OpName, [number, number]> = {
  conv2d: [2, 3], depthwise_conv2d: [2, 3], fully_connected: [2, 3], add: [2, 2],
  avg_pool: [1, 1], max_pool: [1, 1], global_avg_pool: [1, 1], reshape: [1, 1],
  softmax: [1, 1], quantize: [1, 1], dequantize: [1, 1],
};
/** Ops whose input 1 is an int8 weight tensor (symmetric: [-127, 127]). */
const WEIGHTED = new Set<OpName>(['conv2d', 'depthwise_conv2d', 'fully_connected']);
const RANGE: Record<DTypeName, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int32: [-(2 ** 31), 2 ** 31 - 1], float32: [-Infinity, Infinity],
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function check(cond: unknown, where: string, msg: string): asserts cond {
  if (!cond) throw new FormatError(`${where}: ${msg}`);
}

/** Parses and validates a model; throws FormatError naming the tensor/op at fault. */
export function parseModelJson(text: string): QModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`model JSON does not parse: ${(e as Error).message}`);
  }
  check(isObject(doc), 'model', 'must be a JSON object');
  check(doc.format === 'sparrow-model', 'model', `format must be "sparrow-model", is ${JSON.stringify(doc.format)}`);
  check(doc.version === 1, 'model', `version must be 1, is ${JSON.stringify(doc.version)}`);
  check(doc.name === undefined || typeof doc.name === 'string', 'model', 'name must be a string');
  check(Array.isArray(doc.tensors) && doc.tensors.length > 0, 'model', 'tensors must be a non-empty array');
  check(Array.isArray(doc.ops) && doc.ops.length > 0, 'model', 'ops must be a non-empty array');
  const tensors = doc.tensors.map((t, i) => parseTensor(t, i));
  const byName = new Map<string, QTensor>();
  for (const t of tensors) {
    check(!byName.has(t.name), `tensor "${t.name}"`, 'name is used twice');
    byName.set(t.name, t);
  }
  const ops = doc.ops.map((o, i) => parseOp(o, i, byName));
  const producer = new Map<string, number>();
  ops.forEach((op, i) => {
    for (const out of op.outputs) {
      check(!producer.has(out), `op ${i} (${op.op})`, `output "${out}" is already written by op ${producer.get(out)}`);
      check(byName.get(out)!.data === undefined, `op ${i} (${op.op})`, `output "${out}" is a constant (has data)`);
      producer.set(out, i);
    }
  });
  for (const key of ['inputs', 'outputs'] as const) {
    const names = doc[key];
    check(isStringArray(names) && names.length > 0, 'model', `${key} must be a non-empty array of tensor names`);
    for (const n of names) check(byName.has(n), 'model', `${key} names unknown tensor "${n}"`);
    check(new Set(names).size === names.length, 'model', `${key} lists a tensor twice`);
  }
  const model: QModel = { format: 'sparrow-model', version: 1, tensors, ops, inputs: doc.inputs as string[], outputs: doc.outputs as string[] };
  if (doc.name !== undefined) model.name = doc.name as string;
  checkWeights(model);
  return model;
}

function parseTensor(v: unknown, index: number): QTensor {
  check(isObject(v), `tensor ${index}`, 'must be an object');
  check(typeof v.name === 'string' && v.name.length > 0, `tensor ${index}`, 'needs a non-empty name');
  const where = `tensor "${v.name}"`;
  const shape = v.shape;
  check(Array.isArray(shape) && shape.length >= 1 && shape.length <= MAX_RANK && shape.every((d) => isInt(d) && d >= 1),
    where, `shape must be 1..${MAX_RANK} integers >= 1, is ${JSON.stringify(shape)}`);
  check(DTYPES.includes(v.dtype as DTypeName), where, `dtype must be one of ${DTYPES.join(', ')}, is ${JSON.stringify(v.dtype)}`);
  const dtype = v.dtype as DTypeName;
  const t: QTensor = { name: v.name, shape: shape as number[], dtype };
  if (v.quant !== undefined) {
    const q = v.quant;
    check(isObject(q) && Array.isArray(q.scale) && Array.isArray(q.zeroPoint), where, 'quant must be { scale: number[], zeroPoint: number[] }');
    const n = q.scale.length;
    check(n > 0 && q.zeroPoint.length === n, where, `quant has ${n} scales and ${q.zeroPoint.length} zero points`);
    check(n === 1 || n === t.shape[0] || n === t.shape[t.shape.length - 1], where, `quant has ${n} scales: expected 1 or one per channel (${t.shape[0]} or ${t.shape[t.shape.length - 1]})`);
    q.scale.forEach((s, i) => check(typeof s === 'number' && Number.isFinite(s) && s > 0, where, `quant.scale[${i}] = ${s} is not finite and > 0`));
    const [lo, hi] = dtype === 'int32' || dtype === 'float32' ? [0, 0] : RANGE[dtype];
    q.zeroPoint.forEach((z, i) => check(isInt(z) && z >= lo && z <= hi, where, `quant.zeroPoint[${i}] = ${z} is not an integer in [${lo}, ${hi}]`));
    t.quant = { scale: q.scale as number[], zeroPoint: q.zeroPoint as number[] };
  }
  if (v.data !== undefined) {
    const data = v.data;
    const size = t.shape.reduce((a, b) => a * b, 1);
    check(Array.isArray(data) && data.length === size, where, `data has ${Array.isArray(data) ? data.length : 'no'} values, shape [${t.shape}] needs ${size}`);
    const [lo, hi] = RANGE[dtype];
    const integral = dtype !== 'float32';
    data.forEach((x, i) => {
      const ok = typeof x === 'number' && (integral ? isInt(x) && x >= lo && x <= hi : Number.isFinite(x));
      check(ok, where, `data[${i}] = ${JSON.stringify(x)} is not ${integral ? `an integer in [${lo}, ${hi}]` : 'a finite number'}`);
    });
    t.data = data as number[];
  }
  return t;
}

function pair(v: unknown, where: string, key: string): [number, number] {
  check(Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x >= 1), where, `${key} must be [int >= 1, int >= 1], is ${JSON.stringify(v)}`);
  return [v[0], v[1]];
}

function parseOp(v: unknown, index: number, byName: Map<string, QTensor>): QOp {
  check(isObject(v), `op ${index}`, 'must be an object');
  check(OPS.includes(v.op as OpName), `op ${index}`, `op must be one of ${OPS.join(', ')}, is ${JSON.stringify(v.op)}`);
  const name = v.op as OpName;
  const where = `op ${index} (${name})`;
  const [lo, hi] = ARITY[name];
  check(isStringArray(v.inputs) && v.inputs.length >= lo && v.inputs.length <= hi, where, `takes ${lo === hi ? lo : `${lo}..${hi}`} input names, has ${JSON.stringify(v.inputs)}`);
  check(isStringArray(v.outputs) && v.outputs.length === 1, where, `takes exactly 1 output name, has ${JSON.stringify(v.outputs)}`);
  for (const n of [...v.inputs, ...v.outputs]) check(byName.has(n), where, `names unknown tensor "${n}"`);
  const op: QOp = { op: name, inputs: v.inputs, outputs: v.outputs };
  if (v.stride !== undefined) op.stride = pair(v.stride, where, 'stride');
  if (v.filter !== undefined) op.filter = pair(v.filter, where, 'filter');
  if (name === 'avg_pool' || name === 'max_pool') check(op.filter, where, 'needs filter [h, w]');
  if (v.padding !== undefined) {
    check(v.padding === 'same' || v.padding === 'valid', where, `padding must be "same" or "valid", is ${JSON.stringify(v.padding)}`);
    op.padding = v.padding;
  }
  if (v.activation !== undefined) {
    check(v.activation === 'none' || v.activation === 'relu' || v.activation === 'relu6', where, `activation must be none, relu or relu6, is ${JSON.stringify(v.activation)}`);
    op.activation = v.activation;
  }
  if (v.beta !== undefined) {
    check(typeof v.beta === 'number' && Number.isFinite(v.beta) && v.beta > 0, where, `beta must be finite and > 0, is ${JSON.stringify(v.beta)}`);
    op.beta = v.beta;
  }
  return op;
}

/** int8 weights are symmetric: [-127, 127] with zero point 0 (TFLite int8 spec). */
function checkWeights(m: QModel): void {
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  m.ops.forEach((op, i) => {
    if (!WEIGHTED.has(op.op)) return;
    const w = byName.get(op.inputs[1])!;
    if (w.dtype !== 'int8') return;
    const where = `tensor "${w.name}" (weights of op ${i}, ${op.op})`;
    w.data?.forEach((x, j) => check(x >= -127, where, `data[${j}] = ${x}: int8 weights must be in [-127, 127]`));
    w.quant?.zeroPoint.forEach((z, j) => check(z === 0, where, `quant.zeroPoint[${j}] = ${z}: weights are symmetric (zero point 0)`));
  });
}

/** Stable JSON: fixed key order, 2-space indent, every array of numbers or strings on one line. */
export function modelToJson(m: QModel): string {
  const tensor = (t: QTensor): Json => ({
    name: t.name, shape: t.shape, dtype: t.dtype,
    ...(t.quant ? { quant: { scale: t.quant.scale, zeroPoint: t.quant.zeroPoint } } : {}),
    ...(t.data ? { data: t.data } : {}),
  });
  const op = (o: QOp): Json => ({
    op: o.op, inputs: o.inputs, outputs: o.outputs,
    ...(o.stride ? { stride: o.stride } : {}), ...(o.padding ? { padding: o.padding } : {}),
    ...(o.filter ? { filter: o.filter } : {}), ...(o.activation ? { activation: o.activation } : {}),
    ...(o.beta !== undefined ? { beta: o.beta } : {}),
  });
  const doc = {
    format: m.format, version: m.version, ...(m.name !== undefined ? { name: m.name } : {}),
    inputs: m.inputs, outputs: m.outputs, tensors: m.tensors.map(tensor), ops: m.ops.map(op),
  };
  const text = JSON.stringify(doc, null, 2);
  // collapse arrays whose items are all scalars onto one line
  return text.replace(/\[\n\s+((?:(?:-?[\d.eE+-]+|"(?:[^"\\]|\\.)*"),\n\s+)*(?:-?[\d.eE+-]+|"(?:[^"\\]|\\.)*"))\n\s+\]/g,
    (_, items: string) => `[${items.split(/,\n\s+/).join(', ')}]`) + '\n';
}
