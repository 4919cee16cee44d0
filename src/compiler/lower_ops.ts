// Per-op lowering: each QModel op becomes one op record (code, inputs, params) plus the
// derived constants it needs (requantization table, per-channel scales). Every check names
// the op (index, kind, output) and the tensor at fault. Used by lower.ts, which owns the
// tensor table, the memory plan and the report.

import { FormatError, ShapeError, SparrowError } from '../formats/errors.js';
import type { Activation, OpName, QOp } from '../formats/qmodel.js';
import { DType, Op } from '../formats/schema.js';
import { activationRange, addParams, quantizeMultiplier, softmaxParams } from './quant_math.js';

export type Role = 'activation' | 'weight' | 'bias' | 'requant' | 'scales' | 'const';

/** A tensor on its way into the container. */
export interface Draft {
  name: string;
  dtype: DType;
  shape: number[];
  role: Role;
  scale: number;
  zeroPoint: number;
  /** Constant values (CONST tensors only). */
  data?: ArrayLike<number>;
  /** Name of the per-channel scales tensor (weights). */
  channelScales?: string;
  /** Per-element scales and zero points as the QModel gave them. */
  quant?: { scale: number[]; zeroPoint: number[] };
  used: boolean;
}

export interface LoweredOp {
  code: Op;
  /** Input tensor names; undefined for an absent optional input. */
  inputs: (string | undefined)[];
  output: string;
  params: number[];
  /** An input whose buffer the output may take if the input dies here. */
  inPlaceOf?: string;
}

export const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const f32eq = (a: number, b: number): boolean => Math.fround(a) === Math.fround(b);

/** What one op's lowering sees; its checks throw errors that name the op and the tensor. */
export class OpContext {
  constructor(
    readonly where: string, readonly q: QOp, readonly inputs: (Draft | undefined)[], readonly out: Draft,
    /** Every tensor by name; derived constants are added here (after the QModel's own). */
    private readonly drafts: Map<string, Draft>,
  ) {}

  shapeError(message: string): never {
    throw new ShapeError(`${this.where}: ${message}`);
  }
  formatError(message: string): never {
    throw new FormatError(`${this.where}: ${message}`);
  }

  /** Input `slot`, required, of the given dtype and (optionally) rank. */
  arg(slot: number, role: string, dtype: DType, rank?: number): Draft {
    const d = this.inputs[slot];
    if (!d) this.formatError(`missing input ${slot} (${role})`);
    if (d.dtype !== dtype) this.shapeError(`${role} '${d.name}' is ${DType[d.dtype].toLowerCase()}, expected ${DType[dtype].toLowerCase()}`);
    if (rank !== undefined && d.shape.length !== rank) this.shapeError(`${role} '${d.name}' has shape [${d.shape}], expected rank ${rank}`);
    if (d.dtype === DType.INT8 && role !== 'filter') this.quantOf(d, role);
    return d;
  }
  inputCount(min: number, max: number): void {
    const n = this.q.inputs?.length ?? 0;
    if (n < min || n > max) this.formatError(`takes ${min === max ? min : `${min} or ${max}`} inputs, has ${n}`);
  }
  output(dtype: DType, shape: number[]): Draft {
    const o = this.out;
    if (o.dtype !== dtype) this.shapeError(`output '${o.name}' is ${DType[o.dtype].toLowerCase()}, expected ${DType[dtype].toLowerCase()}`);
    if (o.shape.length !== shape.length || o.shape.some((v, k) => v !== shape[k])) this.shapeError(`output '${o.name}' has shape [${o.shape}], expected [${shape}]`);
    if (dtype === DType.INT8) this.quantOf(o, 'output');
    return o;
  }
  /** Per-tensor scale and zero point of an int8 activation. */
  quantOf(d: Draft, role: string): { scale: number; zeroPoint: number } {
    if (!d.quant || d.quant.scale.length !== 1) this.formatError(`${role} '${d.name}' needs one scale and zero point (int8 activation), has ${d.quant ? d.quant.scale.length : 'none'}`);
    return { scale: d.scale, zeroPoint: d.zeroPoint };
  }
  sameQuant(a: Draft, b: Draft, why: string): void {
    if (!f32eq(a.scale, b.scale) || a.zeroPoint !== b.zeroPoint) {
      this.formatError(`output '${b.name}' (scale ${b.scale}, zero point ${b.zeroPoint}) must keep the scale and zero point of '${a.name}' (${a.scale}, ${a.zeroPoint}): ${why}`);
    }
  }
  /** Weights are constant, int8 in [-127, 127], zero point 0, one scale per output channel (or one). */
  weights(slot: number, rank: number, channels: (w: Draft) => number): Draft {
    const w = this.arg(slot, 'filter', DType.INT8, rank);
    if (!w.data) this.formatError(`filter '${w.name}' has no constant data`);
    const c = channels(w);
    if (!w.quant || (w.quant.scale.length !== 1 && w.quant.scale.length !== c)) {
      this.formatError(`filter '${w.name}' needs 1 or ${c} scales (per output channel), has ${w.quant?.scale.length ?? 'none'}`);
    }
    if (w.quant.zeroPoint.some((z) => z !== 0)) this.formatError(`filter '${w.name}' needs zero points 0 (symmetric int8 weights)`);
    for (let k = 0; k < w.data.length; k++) {
      if (w.data[k] === -128) this.formatError(`filter '${w.name}' value ${k} is -128; int8 weights lie in [-127, 127]`);
    }
    w.role = 'weight';
    return w;
  }
  bias(slot: number, channels: number): Draft | undefined {
    if (!this.inputs[slot]) return undefined;
    const b = this.arg(slot, 'bias', DType.INT32, 1);
    if (!b.data) this.formatError(`bias '${b.name}' has no constant data`);
    if (b.shape[0] !== channels) this.shapeError(`bias '${b.name}' has shape [${b.shape}], expected [${channels}]`);
    b.role = 'bias';
    return b;
  }
  activation(): Activation {
    const a = this.q.activation ?? 'none';
    if (a !== 'none' && a !== 'relu' && a !== 'relu6') this.formatError(`unknown activation '${a}'; expected none, relu or relu6`);
    return a;
  }
  noActivation(): void {
    if ((this.q.activation ?? 'none') !== 'none') this.formatError(`${this.q.op} takes no fused activation, got '${this.q.activation}'`);
  }
  actRange(out: Draft): [number, number] {
    return activationRange(this.activation(), out.scale, out.zeroPoint);
  }
  pair(field: 'stride' | 'filter', fallback?: [number, number]): [number, number] {
    const v = this.q[field] ?? fallback;
    if (!v) this.formatError(`needs '${field}' [h, w]`);
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1 && x <= 255)) {
      this.formatError(`${field} [${v}] must be two integers in [1, 255]`);
    }
    return v;
  }
  /** Output size and leading pad along one axis, TFLite SAME/VALID. */
  window(axis: string, inSize: number, k: number, stride: number): { out: number; pad: number } {
    const padding = this.q.padding ?? 'valid';
    if (padding === 'same') {
      const out = Math.ceil(inSize / stride);
      return { out, pad: Math.floor(Math.max((out - 1) * stride + k - inSize, 0) / 2) };
    }
    if (padding !== 'valid') this.formatError(`padding '${padding}' must be 'same' or 'valid'`);
    if (inSize < k) this.shapeError(`window ${k} is larger than the input ${axis} ${inSize} (VALID padding)`);
    return { out: Math.floor((inSize - k) / stride) + 1, pad: 0 };
  }
  /** Per-channel (multiplier, shift) of s_in * s_w[c] / s_out as an int32 [C, 2] constant. */
  requantTable(x: Draft, w: Draft, out: Draft, channels: number): string {
    const values: number[] = [];
    for (let c = 0; c < channels; c++) {
      const sw = w.quant!.scale.length === 1 ? w.quant!.scale[0] : w.quant!.scale[c];
      // TFLM: double(input_scale) * double(filter_scale) / double(output_scale), scales float32.
      const { multiplier, shift } = quantizeMultiplier((Math.fround(x.scale) * Math.fround(sw)) / Math.fround(out.scale));
      if (shift > 30) this.formatError(`channel ${c}: s_in * s_w / s_out = ${(x.scale * sw) / out.scale} is too large to requantize (shift ${shift} > 30)`);
      values.push(multiplier, shift);
    }
    return this.addConstant(`${out.name}.requant`, 'requant', DType.INT32, [channels, 2], values);
  }
  /** The float32 [C] per-channel scales of a weight tensor (a single scale is repeated). */
  channelScales(w: Draft, channels: number): void {
    if (w.channelScales !== undefined) return; // a filter shared by two ops
    const s = w.quant!.scale;
    const data = Array.from({ length: channels }, (_, c) => Math.fround(s.length === 1 ? s[0] : s[c]));
    w.channelScales = this.addConstant(`${w.name}.scales`, 'scales', DType.FLOAT32, [channels], data);
  }
  /** Adds a derived constant under `base`, or `base#2`, ... if a tensor already has that name. */
  private addConstant(base: string, role: Role, dtype: DType, shape: number[], data: number[]): string {
    let name = base;
    for (let k = 2; this.drafts.has(name); k++) name = `${base}#${k}`;
    this.drafts.set(name, { name, dtype, shape, role, scale: 0, zeroPoint: 0, data, used: true });
    return name;
  }
  /** Wraps quant_math's errors so they name this op. */
  guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof SparrowError && !(e instanceof FormatError)) this.formatError(e.message);
      throw e;
    }
  }
}

function lowerConvLike(ctx: OpContext, kind: 'conv2d' | 'depthwise_conv2d' | 'fully_connected'): LoweredOp {
  ctx.inputCount(2, 3);
  const fc = kind === 'fully_connected';
  const x = fc ? ctx.arg(0, 'input', DType.INT8) : ctx.arg(0, 'input', DType.INT8, 4);
  if (!fc && x.shape[0] !== 1) ctx.shapeError(`input '${x.name}' has batch ${x.shape[0]}; only batch 1 [1,H,W,C] is supported`);
  let w: Draft;
  let channels: number;
  let code: Op;
  let params: number[] = [];
  let outShape: number[];
  if (fc) {
    const n = x.shape[0];
    const ci = count(x.shape) / n;
    w = ctx.weights(1, 2, (t) => t.shape[0]);
    channels = w.shape[0];
    if (w.shape[1] !== ci) ctx.shapeError(`filter '${w.name}' [${w.shape}] must be [Co, ${ci}] for input '${x.name}' [${x.shape}]`);
    code = Op.FULLY_CONNECTED;
    outShape = [n, channels];
    params = [0, 0, 0, 0];
  } else {
    const dw = kind === 'depthwise_conv2d';
    w = ctx.weights(1, 4, (t) => (dw ? t.shape[3] : t.shape[0]));
    const [, inH, inW, inC] = x.shape;
    const [wo, kH, kW, wi] = w.shape;
    if (dw && (wo !== 1 || wi !== inC)) ctx.shapeError(`filter '${w.name}' [${w.shape}] must be [1,kH,kW,${inC}] (depth multiplier 1)`);
    if (!dw && wi !== inC) ctx.shapeError(`filter '${w.name}' [${w.shape}] must be [Co,kH,kW,${inC}] for input '${x.name}' [${x.shape}]`);
    channels = dw ? inC : wo;
    const [sH, sW] = ctx.pair('stride', [1, 1]);
    const rows = ctx.window('height', inH, kH, sH);
    const cols = ctx.window('width', inW, kW, sW);
    outShape = [1, rows.out, cols.out, channels];
    if (!dw && kH === 1 && kW === 1 && sH === 1 && sW === 1) {
      code = Op.CONV1X1;
      params = [0, 0, 0, 0];
    } else {
      code = dw ? Op.DEPTHWISE_CONV2D : Op.CONV2D;
      params = [sH, sW, rows.pad, cols.pad];
    }
  }
  const b = ctx.bias(2, channels);
  const out = ctx.output(DType.INT8, outShape);
  const [actMin, actMax] = ctx.guard(() => ctx.actRange(out));
  const lowered: LoweredOp = { code, inputs: [x.name, w.name, b?.name], output: out.name, params: [...params, actMin, actMax] };
  lowered.inputs.push(ctx.requantTable(x, w, out, channels));
  ctx.channelScales(w, channels);
  return lowered;
}

function lowerPool(ctx: OpContext, code: Op.AVG_POOL | Op.MAX_POOL): LoweredOp {
  ctx.inputCount(1, 1);
  const x = ctx.arg(0, 'input', DType.INT8, 4);
  if (x.shape[0] !== 1) ctx.shapeError(`input '${x.name}' has batch ${x.shape[0]}; only batch 1 [1,H,W,C] is supported`);
  const [fH, fW] = ctx.pair('filter');
  const [sH, sW] = ctx.pair('stride', [1, 1]);
  const rows = ctx.window('height', x.shape[1], fH, sH);
  const cols = ctx.window('width', x.shape[2], fW, sW);
  const out = ctx.output(DType.INT8, [1, rows.out, cols.out, x.shape[3]]);
  ctx.sameQuant(x, out, 'pooling does not rescale');
  const [actMin, actMax] = ctx.guard(() => ctx.actRange(out));
  return { code, inputs: [x.name], output: out.name, params: [fH, fW, sH, sW, rows.pad, cols.pad, actMin, actMax] };
}

/**
 * GLOBAL_AVG_POOL params 8, 9: [0, 0] when the output keeps the input's scale and zero point
 * (TFLite AVERAGE_POOL_2D semantics), else TFLM MEAN's (multiplier, shift) of s_in / s_out.
 */
function globalPoolRequant(ctx: OpContext, x: Draft, out: Draft): [number, number] {
  if (f32eq(x.scale, out.scale) && x.zeroPoint === out.zeroPoint) return [0, 0];
  const real = Math.fround(x.scale) / Math.fround(out.scale); // TFLM: double(input scale) / double(output scale)
  const { multiplier, shift } = ctx.guard(() => quantizeMultiplier(real));
  if (multiplier === 0 || shift > 30) ctx.formatError(`s_in / s_out = ${real} of the global average pool is out of the requantizable range [2^-32, 2^30)`);
  return [multiplier, shift];
}

export const LOWERINGS: Record<OpName, (ctx: OpContext) => LoweredOp> = {
  conv2d: (ctx) => lowerConvLike(ctx, 'conv2d'),
  depthwise_conv2d: (ctx) => lowerConvLike(ctx, 'depthwise_conv2d'),
  fully_connected: (ctx) => lowerConvLike(ctx, 'fully_connected'),
  avg_pool: (ctx) => lowerPool(ctx, Op.AVG_POOL),
  max_pool: (ctx) => lowerPool(ctx, Op.MAX_POOL),
  global_avg_pool: (ctx) => {
    ctx.inputCount(1, 1);
    const x = ctx.arg(0, 'input', DType.INT8, 4);
    if (x.shape[0] !== 1) ctx.shapeError(`input '${x.name}' has batch ${x.shape[0]}; only batch 1 [1,H,W,C] is supported`);
    const out = ctx.output(DType.INT8, [1, 1, 1, x.shape[3]]);
    const [actMin, actMax] = ctx.guard(() => ctx.actRange(out));
    return { code: Op.GLOBAL_AVG_POOL, inputs: [x.name], output: out.name, params: [0, 0, 0, 0, 0, 0, actMin, actMax, ...globalPoolRequant(ctx, x, out)] };
  },
  add: (ctx) => {
    ctx.inputCount(2, 2);
    const a = ctx.arg(0, 'input a', DType.INT8);
    const b = ctx.arg(1, 'input b', DType.INT8);
    if (a.shape.length !== b.shape.length || a.shape.some((v, k) => v !== b.shape[k])) {
      ctx.shapeError(`inputs '${a.name}' [${a.shape}] and '${b.name}' [${b.shape}] differ in shape (no broadcasting)`);
    }
    const out = ctx.output(DType.INT8, a.shape);
    const p = ctx.guard(() => addParams(a.scale, b.scale, out.scale));
    const [actMin, actMax] = ctx.guard(() => ctx.actRange(out));
    // Prefer the input that is not a constant; the planner grants it only if it dies here.
    const inPlaceOf = [a, b].find((t) => !t.data)?.name;
    return {
      code: Op.ADD, inputs: [a.name, b.name], output: out.name, inPlaceOf,
      params: [p.leftShift, p.aMultiplier, p.aShift, p.bMultiplier, p.bShift, p.outMultiplier, p.outShift, actMin, actMax],
    };
  },
  reshape: (ctx) => {
    ctx.inputCount(1, 1);
    ctx.noActivation();
    const x = ctx.inputs[0] ?? ctx.formatError('missing input 0');
    const out = ctx.out;
    if (out.dtype !== x.dtype) ctx.shapeError(`output '${out.name}' is ${DType[out.dtype].toLowerCase()}, input '${x.name}' is ${DType[x.dtype].toLowerCase()}`);
    if (count(out.shape) !== count(x.shape)) ctx.shapeError(`output '${out.name}' [${out.shape}] does not hold the ${count(x.shape)} elements of '${x.name}' [${x.shape}]`);
    if (x.dtype === DType.INT8) {
      ctx.quantOf(x, 'input');
      ctx.quantOf(out, 'output');
      ctx.sameQuant(x, out, 'a reshape does not rescale');
    }
    return { code: Op.RESHAPE, inputs: [x.name], output: out.name, params: [], inPlaceOf: x.data ? undefined : x.name };
  },
  softmax: (ctx) => {
    ctx.inputCount(1, 1);
    ctx.noActivation();
    const x = ctx.arg(0, 'input', DType.INT8);
    const out = ctx.out;
    // TFLite's int8 softmax output is fixed at scale 1/256, zero point -128: set it if absent.
    if (!out.quant && out.dtype === DType.INT8) {
      out.quant = { scale: [1 / 256], zeroPoint: [-128] };
      out.scale = 1 / 256;
      out.zeroPoint = -128;
    }
    ctx.output(DType.INT8, x.shape);
    if (out.scale !== 1 / 256 || out.zeroPoint !== -128) {
      ctx.formatError(`output '${out.name}' has scale ${out.scale}, zero point ${out.zeroPoint}; int8 softmax outputs use scale 1/256, zero point -128`);
    }
    const beta = ctx.q.beta ?? 1;
    const p = ctx.guard(() => softmaxParams(beta, x.scale));
    return { code: Op.SOFTMAX, inputs: [x.name], output: out.name, params: [p.inputMultiplier, p.inputLeftShift, p.diffMin] };
  },
  quantize: (ctx) => {
    ctx.inputCount(1, 1);
    ctx.noActivation();
    const x = ctx.arg(0, 'input', DType.FLOAT32);
    const out = ctx.output(DType.INT8, x.shape);
    return { code: Op.QUANTIZE, inputs: [x.name], output: out.name, params: [] };
  },
  dequantize: (ctx) => {
    ctx.inputCount(1, 1);
    ctx.noActivation();
    const x = ctx.arg(0, 'input', DType.INT8);
    const out = ctx.output(DType.FLOAT32, x.shape);
    return { code: Op.DEQUANTIZE, inputs: [x.name], output: out.name, params: [] };
  },
};
