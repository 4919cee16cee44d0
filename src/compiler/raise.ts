// The inverse of lowering: a container's records back to the QModel a person writes
// (`sparrow unpack`). Requantization tables and per-channel scale tensors fold back into
// quant params; explicit paddings and clamp ranges become padding modes and activations; a
// streamed EXPAND_DEPTHWISE op splits back into its 1x1 convolution and depthwise convolution.
import type { ContainerModel, OpRecord, TensorRecord } from '../formats/container_types.js';
import type { Activation, OpName, QModel, QOp, QTensor } from '../formats/qmodel.js';
import { DTYPE_NAMES } from '../formats/dtypes.js';
import { decodeGroupSparse } from '../formats/sparse.js';
import { DType, NO_TENSOR, Op, Storage } from '../formats/schema.js';
import { activationRange, softmaxParams } from './quant_math.js';
import { convAxis } from './graph.js';
import type { PairSources } from './lower_fuse.js';

const OP_NAMES: Record<number, OpName> = {
  [Op.CONV2D]: 'conv2d',
  [Op.DEPTHWISE_CONV2D]: 'depthwise_conv2d',
  [Op.CONV1X1]: 'conv2d',
  [Op.FULLY_CONNECTED]: 'fully_connected',
  [Op.ADD]: 'add',
  [Op.AVG_POOL]: 'avg_pool',
  [Op.MAX_POOL]: 'max_pool',
  [Op.GLOBAL_AVG_POOL]: 'global_avg_pool',
  [Op.RESHAPE]: 'reshape',
  [Op.SOFTMAX]: 'softmax',
  [Op.QUANTIZE]: 'quantize',
  [Op.DEQUANTIZE]: 'dequantize',
  [Op.SPARSE_CONV1X1]: 'conv2d',
  [Op.SPARSE_FULLY_CONNECTED]: 'fully_connected',
};
/** Where each op keeps its clamp range in `params`. */
const ACT_PARAMS: Partial<Record<Op, [number, number]>> = {
  [Op.CONV2D]: [4, 5], [Op.DEPTHWISE_CONV2D]: [4, 5], [Op.CONV1X1]: [4, 5], [Op.FULLY_CONNECTED]: [4, 5],
  [Op.ADD]: [7, 8], [Op.AVG_POOL]: [6, 7], [Op.MAX_POOL]: [6, 7], [Op.GLOBAL_AVG_POOL]: [6, 7],
  [Op.SPARSE_CONV1X1]: [4, 5], [Op.SPARSE_FULLY_CONNECTED]: [4, 5],
};

function tensorData(c: ContainerModel, t: TensorRecord): number[] {
  const buf = c.data.buffer.slice(c.data.byteOffset + t.offset, c.data.byteOffset + t.offset + t.bytes);
  const view = t.dtype === DType.INT8 ? new Int8Array(buf) : t.dtype === DType.INT32 ? new Int32Array(buf) : t.dtype === DType.UINT8 ? new Uint8Array(buf) : new Float32Array(buf);
  return Array.from(view);
}

/** A group-sparse blob back to the dense int8 filter it encodes, in the layout of its op. */
function denseFilter(c: ContainerModel, blob: TensorRecord, op: OpRecord): Pick<QTensor, 'shape' | 'dtype' | 'data'> {
  const { outC, inC, weights } = decodeGroupSparse(new Uint8Array(tensorData(c, blob)));
  const shape = op.op === Op.SPARSE_CONV1X1 ? [outC, 1, 1, inC] : [outC, inC];
  return { shape, dtype: 'int8', data: Array.from(weights) };
}

/** The activation whose clamp range equals [min, max] in the output's quantization. */
function activationOf(min: number, max: number, out: TensorRecord): Activation {
  for (const a of ['none', 'relu', 'relu6'] as const) {
    const [lo, hi] = activationRange(a, out.scale, out.zeroPoint);
    if (lo === min && hi === max) return a;
  }
  return 'none';
}

/** The padding mode whose output size TFLite's rule gives for this op's output shape. */
function paddingOf(input: TensorRecord, output: TensorRecord, kH: number, kW: number, strideH: number, strideW: number): 'same' | 'valid' {
  const same = convAxis(input.shape[1], kH, strideH, 'same').out === output.shape[1] && convAxis(input.shape[2], kW, strideW, 'same').out === output.shape[2];
  return same ? 'same' : 'valid';
}

export function raiseContainer(c: ContainerModel): QModel {
  const name = (i: number): string => c.names?.[i] ?? `t${i}`;
  const pairs = new Map<number, SplitPair>(); // by the fused op's weight tensor
  for (const op of c.ops) if (op.op === Op.EXPAND_DEPTHWISE) pairs.set(op.inputs[1], splitExpandDepthwise(c, op, name));
  // tensors that only exist for the device: requantization tables, per-channel scales, a
  // fused op's concatenated constants and its row buffer (the pair's own tensors replace them)
  const deviceOnly = new Set<number>();
  for (const op of c.ops) if (op.inputs[3] !== undefined && op.inputs[3] !== NO_TENSOR) deviceOnly.add(op.inputs[3]);
  for (const t of c.tensors) if (t.channelScales !== NO_TENSOR) deviceOnly.add(t.channelScales);
  for (const op of c.ops) if (op.op === Op.EXPAND_DEPTHWISE) [op.inputs[1], op.inputs[2], op.scratch].forEach((i) => deviceOnly.add(i));

  const tensors: QTensor[] = [];
  c.tensors.forEach((t, i) => {
    if (pairs.has(i)) tensors.push(...pairs.get(i)!.tensors);
    if (deviceOnly.has(i)) return;
    const q: QTensor = { name: name(i), shape: [...t.shape], dtype: DTYPE_NAMES[t.dtype as DType] };
    if (t.channelScales !== NO_TENSOR) {
      const scales = tensorData(c, c.tensors[t.channelScales]);
      q.quant = { scale: scales, zeroPoint: scales.map(() => 0) };
    } else if (t.scale > 0) {
      q.quant = { scale: [t.scale], zeroPoint: [t.zeroPoint] };
    }
    if (t.storage === Storage.CONST) q.data = tensorData(c, t);
    const sparseReader = c.ops.find((op) => op.inputs[1] === i && (op.op === Op.SPARSE_CONV1X1 || op.op === Op.SPARSE_FULLY_CONNECTED));
    if (sparseReader) Object.assign(q, denseFilter(c, t, sparseReader));
    tensors.push(q);
  });

  const ops: QOp[] = c.ops.flatMap((op): QOp[] => {
    if (op.op === Op.EXPAND_DEPTHWISE) return pairs.get(op.inputs[1])!.ops;
    const inputs = op.inputs.slice(0, op.op === Op.ADD ? 2 : 3).filter((i) => i !== NO_TENSOR).map(name);
    const out = c.tensors[op.output];
    const q: QOp = { op: OP_NAMES[op.op], inputs, outputs: [name(op.output)] };
    const act = ACT_PARAMS[op.op as Op];
    if (act) q.activation = activationOf(op.params[act[0]], op.params[act[1]], out);
    const x = c.tensors[op.inputs[0]];
    if (op.op === Op.CONV2D || op.op === Op.DEPTHWISE_CONV2D) {
      const w = c.tensors[op.inputs[1]];
      q.stride = [op.params[0], op.params[1]];
      q.padding = paddingOf(x, out, w.shape[1], w.shape[2], op.params[0], op.params[1]);
    } else if (op.op === Op.CONV1X1 || op.op === Op.SPARSE_CONV1X1) {
      q.stride = [1, 1];
      q.padding = 'valid';
    } else if (op.op === Op.AVG_POOL || op.op === Op.MAX_POOL) {
      q.filter = [op.params[0], op.params[1]];
      q.stride = [op.params[2], op.params[3]];
      q.padding = paddingOf(x, out, op.params[0], op.params[1], op.params[2], op.params[3]);
    } else if (op.op === Op.SOFTMAX) {
      q.beta = betaOf(op, x.scale);
    }
    return [q];
  });
  // one recorded entry per QModel op: with the fused ops split, the ops line up with them again
  const recorded = Array.isArray(c.meta?.['opOptions']) ? (c.meta['opOptions'] as unknown[]) : [];

  const meta = c.meta ?? {};
  return {
    format: 'sparrow-model',
    version: 1,
    ...(typeof meta['model'] === 'string' ? { name: meta['model'] } : {}),
    tensors,
    ops: ops.map((q, k) => withRecordedOptions(q, recorded[k])),
    inputs: c.plan.inputs.map(name),
    outputs: c.plan.outputs.map(name),
  };
}

/** The two ops and five tensors (expanded activation, two filters, two biases) one EXPAND_DEPTHWISE op stands for. */
interface SplitPair {
  tensors: QTensor[];
  ops: [QOp, QOp];
}

/**
 * Splits an EXPAND_DEPTHWISE op (lower_fuse.ts): its filter holds the expand's Ce*Ci weights
 * then the depthwise's kH*kW*Ce, its bias Ce + Ce values, its requantization table Ce + Ce
 * rows; the row buffer carries the expanded tensor's scale and zero point. Names come from
 * META `fusedPairs` (invented from the output's name when absent). The per-channel weight scales
 * are not in the container: each is recovered from its requantization row,
 * s_w = multiplier 2^(shift - 31) s_out / s_in, which rounds back to the float32 scale the row
 * was made from (the row is exact to 2^-31, a float32 to 2^-24), so lowering the result
 * rebuilds the same table.
 */
function splitExpandDepthwise(c: ContainerModel, op: OpRecord, name: (i: number) => string): SplitPair {
  const [x, y, ring] = [c.tensors[op.inputs[0]], c.tensors[op.output], c.tensors[op.scratch]];
  const [, H, W, ci] = x.shape;
  const ce = ring.shape[3];
  const [kH, kW] = [op.params[6], op.params[7]];
  const hasBias = op.inputs[2] !== NO_TENSOR;
  const recorded = Array.isArray(c.meta?.['fusedPairs']) ? (c.meta['fusedPairs'] as PairSources[]).find((p) => p?.output === name(op.output)) : undefined;
  const out = name(op.output);
  const src: PairSources = recorded ?? {
    output: out, expanded: `${out}.expanded`, weights: [`${out}.expand_weights`, `${out}.depthwise_weights`],
    biases: hasBias ? [`${out}.expand_bias`, `${out}.depthwise_bias`] : [null, null],
  };
  const weights = tensorData(c, c.tensors[op.inputs[1]]);
  const biases = hasBias ? tensorData(c, c.tensors[op.inputs[2]]) : [];
  const requant = tensorData(c, c.tensors[op.inputs[3]]);
  const expanded: QTensor = { name: src.expanded, shape: [1, H, W, ce], dtype: 'int8', quant: { scale: [ring.scale], zeroPoint: [ring.zeroPoint] } };
  const part = (k: 0 | 1, shape: number[], sIn: number, sOut: number): QTensor[] => {
    const scale = Array.from({ length: ce }, (_, c) => weightScale(requant[2 * (k * ce + c)], requant[2 * (k * ce + c) + 1], sIn, sOut));
    const w: QTensor = { name: src.weights[k], shape, dtype: 'int8', quant: { scale, zeroPoint: scale.map(() => 0) }, data: k === 0 ? weights.slice(0, ce * ci) : weights.slice(ce * ci) };
    const bias = src.biases[k];
    return bias === null || !hasBias ? [w] : [w, { name: bias, shape: [ce], dtype: 'int32', data: biases.slice(k * ce, (k + 1) * ce) }];
  };
  const [e, d] = [part(0, [ce, 1, 1, ci], x.scale, ring.scale), part(1, [1, kH, kW, ce], ring.scale, y.scale)];
  const expand: QOp = {
    op: 'conv2d', inputs: [name(op.inputs[0]), ...e.map((t) => t.name)], outputs: [src.expanded],
    activation: activationOf(op.params[8], op.params[9], ring), stride: [1, 1], padding: 'valid',
  };
  const depthwise: QOp = {
    op: 'depthwise_conv2d', inputs: [src.expanded, ...d.map((t) => t.name)], outputs: [out],
    activation: activationOf(op.params[4], op.params[5], y), stride: [op.params[0], op.params[1]],
    padding: paddingOf({ ...ring, shape: expanded.shape }, y, kH, kW, op.params[0], op.params[1]),
  };
  return { tensors: [expanded, ...e, ...d], ops: [expand, depthwise] };
}

/**
 * The float32 weight scale of one requantization row (multiplier, shift) of s_in s_w / s_out.
 * A row flushed to (0, 0) (real below 2^-32) gets a scale that flushes again.
 */
function weightScale(multiplier: number, shift: number, sIn: number, sOut: number): number {
  const real = multiplier === 0 ? 2 ** -40 : multiplier * 2 ** (shift - 31);
  return Math.fround((real * Math.fround(sOut)) / Math.fround(sIn));
}

/**
 * The options the lowering recorded in META for this op (activation, padding, beta), where
 * they agree with what the records allow; the inferred ones otherwise.
 */
function withRecordedOptions(q: QOp, recorded: unknown): QOp {
  if (typeof recorded !== 'object' || recorded === null) return q;
  const r = recorded as Partial<QOp>;
  const valid = {
    activation: (v: unknown) => v === 'none' || v === 'relu' || v === 'relu6',
    padding: (v: unknown) => v === 'same' || v === 'valid',
    beta: (v: unknown) => typeof v === 'number' && Number.isFinite(v),
  };
  const out: QOp = { ...q };
  for (const key of ['activation', 'padding', 'beta'] as const) {
    if (!(key in q)) continue; // this op has no such option
    if (r[key] === undefined) delete out[key]; // the source left it at its default
    else if (valid[key](r[key])) Object.assign(out, { [key]: r[key] });
  }
  return out;
}

/** The beta whose softmax parameters equal the stored ones (searched around the usual 1). */
function betaOf(op: OpRecord, inputScale: number): number {
  const stored = { inputMultiplier: op.params[0], inputLeftShift: op.params[1] };
  const real = (stored.inputMultiplier / 2 ** 31) * 2 ** stored.inputLeftShift / 2 ** 26 / inputScale;
  const rounded = Number(real.toPrecision(6));
  const p = softmaxParams(rounded, inputScale);
  return p.inputMultiplier === stored.inputMultiplier && p.inputLeftShift === stored.inputLeftShift ? rounded : real;
}
