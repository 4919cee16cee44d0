// Lowering: a quantized model (QModel, the TFLite-like JSON) becomes the records of one
// container (docs/format.md): tensor records, op records with explicit params, constant
// data (weights, biases, per-channel scales, requantization tables), and the memory plan.
// Everything the device would otherwise compute in a "prepare" step is computed here, with
// TFLite Micro's arithmetic (quant_math.ts), so the device only validates and executes.
//
// Order of tensors in the container: the QModel's tensors that are used, in QModel order,
// then the derived constants (per-channel scales, requantization tables) in op order.

import { FormatError, ShapeError, SparrowError } from '../formats/errors.js';
import type { ContainerModel, OpRecord, TensorRecord } from '../formats/container_types.js';
import type { Activation, OpName, QModel, QOp, QTensor } from '../formats/qmodel.js';
import {
  ALIGN, Category, DType, HEADER_BYTES, NO_TENSOR, Op, OP_PARAM_COUNT, OP_RECORD_BYTES,
  SECTION_ENTRY_BYTES, Storage, TENSOR_RECORD_BYTES,
} from '../formats/schema.js';
import { activationRange, addParams, quantizeMultiplier, softmaxParams } from './quant_math.js';
import { naiveArenaBytes, planArena, roundUp, type ArenaPlan, type OpUsage, type PlanBuffer } from './planner.js';
import { opWork, estimateLatency, type LatencyEstimate, type OpWork } from './latency.js';
import { checkBudget } from './budget.js';
import { flashBudget, sramBudget, type DeviceProfile } from './devices.js';

export interface LowerOptions {
  /** Adds the device's latency estimate and budget check to the report. */
  device?: DeviceProfile;
  /** With a device: throw BudgetError when the plan does not fit (default true). */
  checkBudget?: boolean;
}

export interface OpReport extends OpWork {
  /** The QModel op name ("conv2d", ...). */
  source: OpName;
  /** Name of the op's output tensor: how errors and tables name the op. */
  name: string;
}

/** Container bytes by what they hold; the fields sum to `total`, the file size. */
export interface FlashBreakdown {
  weights: number;
  biases: number;
  requantTables: number;
  /** Per-channel weight scales. */
  scales: number;
  /** Constant tensors with no other role (e.g. a constant ADD operand). */
  otherConstants: number;
  /** Header, section table, tensor and op records, plan. */
  schedule: number;
  /** NAMES and META (host-only JSON). */
  metadata: number;
  /** 16-byte alignment of sections and constant tensors. */
  padding: number;
  total: number;
}

/** One arena buffer, as `sparrow plan` prints it. */
export interface BufferRow {
  name: string;
  bytes: number;
  offset: number;
  first: number;
  last: number;
  category: string;
  /** Name of the buffer whose memory this one reuses (in place), if any. */
  sharesWith?: string;
}

export interface PlanSummary {
  arenaBytes: number;
  /** What the arena would be without reuse (every buffer its own region). */
  naiveBytes: number;
  peakOp: number;
  breakdown: ArenaPlan['breakdown'];
  timeline: OpUsage[];
  /** Buffers live at the peak, largest first, with the op that writes them. */
  peakBuffers: { name: string; bytes: number; op?: string }[];
}

export interface LoweringReport {
  model: string;
  ops: OpReport[];
  totalMacs: number;
  flash: FlashBreakdown;
  plan: PlanSummary;
  buffers: BufferRow[];
  /** QModel tensors no op or graph input/output uses: not written to the container. */
  unusedTensors: string[];
  device?: { name: string; sramBudget: number; flashBudget: number; latency: LatencyEstimate };
}

type Role = 'activation' | 'weight' | 'bias' | 'requant' | 'scales' | 'const';

/** A tensor on its way into the container. */
interface Draft {
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

interface LoweredOp {
  code: Op;
  /** Input tensor names; undefined for an absent optional input. */
  inputs: (string | undefined)[];
  output: string;
  params: number[];
  /** An input whose buffer the output may take if the input dies here. */
  inPlaceOf?: string;
}

const DTYPES: Record<string, DType> = { int8: DType.INT8, int32: DType.INT32, float32: DType.FLOAT32, uint8: DType.UINT8 };
const DTYPE_BYTES: Record<DType, number> = { [DType.INT8]: 1, [DType.INT32]: 4, [DType.FLOAT32]: 4, [DType.UINT8]: 1 };
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  [DType.INT8]: [-128, 127], [DType.UINT8]: [0, 255], [DType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};
const MAX_GRAPH_IO = 16;
const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const f32eq = (a: number, b: number): boolean => Math.fround(a) === Math.fround(b);

export function lowerModel(model: QModel, options: LowerOptions = {}): { container: ContainerModel; report: LoweringReport } {
  if (model?.format !== 'sparrow-model' || model.version !== 1) {
    throw new FormatError(`not a sparrow-model version 1 (format '${model?.format}', version ${model?.version})`);
  }
  const drafts = new Map<string, Draft>();
  for (const t of model.tensors ?? []) {
    if (drafts.has(t.name)) throw new FormatError(`tensor '${t.name}' is defined twice`);
    drafts.set(t.name, draftOf(t));
  }
  if (!model.ops?.length) throw new FormatError('the model has no ops');
  const schedule = new ScheduleBuilder(model, drafts);
  const lowered = model.ops.map((q, i) => schedule.lowerOp(q, i));
  schedule.checkGraphIo();

  // Tensor indices: used QModel tensors first, then derived constants.
  const order = [...drafts.values()].filter((d) => d.used);
  const index = new Map(order.map((d, i) => [d.name, i]));
  const unusedTensors = (model.tensors ?? []).filter((t) => !drafts.get(t.name)!.used).map((t) => t.name);

  const { data, offsets: dataOffsets } = packData(order);
  const plan = planBuffers(order, index, lowered, model);
  const tensors: TensorRecord[] = order.map((d, i) => tensorRecord(d, i, dataOffsets, plan, index));
  const ops: OpRecord[] = lowered.map((l) => ({
    op: l.code,
    inputs: l.inputs.map((n) => (n === undefined ? NO_TENSOR : index.get(n)!)),
    output: index.get(l.output)!,
    scratch: NO_TENSOR,
    params: [...l.params, ...new Array(OP_PARAM_COUNT - l.params.length).fill(0)],
  }));
  const modelName = model.name ?? 'model';
  const container: ContainerModel = {
    tensors,
    ops,
    data,
    plan: { arenaBytes: plan.arenaBytes, inputs: model.inputs.map((n) => index.get(n)!), outputs: model.outputs.map((n) => index.get(n)!) },
    names: order.map((d) => d.name),
    meta: { producer: 'sparrow', model: modelName, arenaBytes: plan.arenaBytes, arenaBreakdown: plan.breakdown },
  };

  const report = buildReport(modelName, container, order, lowered, model, plan, unusedTensors);
  if (options.device) {
    const device = options.device;
    report.device = { name: device.name, sramBudget: sramBudget(device), flashBudget: flashBudget(device), latency: estimateLatency(report, device) };
    if (options.checkBudget ?? true) checkBudget(report, device, `model ${modelName}`);
  }
  return { container, report };
}

// ---------------------------------------------------------------------------------------
// Tensors

function draftOf(t: QTensor): Draft {
  const what = `tensor '${t?.name}'`;
  if (typeof t?.name !== 'string' || t.name === '') throw new FormatError(`a tensor has no name: ${JSON.stringify(t)?.slice(0, 80)}`);
  const dtype = DTYPES[t.dtype];
  if (dtype === undefined) throw new FormatError(`${what} has dtype '${t.dtype}'; expected int8, int32, float32 or uint8`);
  if (!Array.isArray(t.shape) || t.shape.length < 1 || t.shape.length > 4 || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new ShapeError(`${what} has shape [${t.shape}]; need 1 to 4 whole dims, each >= 1`);
  }
  const n = count(t.shape);
  if (t.data !== undefined) {
    if (!Array.isArray(t.data) || t.data.length !== n) throw new ShapeError(`${what} [${t.shape}] needs ${n} values, has ${t.data?.length}`);
    const range = INT_RANGE[dtype];
    for (let i = 0; i < n; i++) {
      const v = t.data[i];
      const ok = range ? Number.isInteger(v) && v >= range[0] && v <= range[1] : Number.isFinite(v);
      if (!ok) throw new FormatError(`${what} value ${i} is ${v}, not ${range ? `an integer in [${range}]` : 'finite'} (${t.dtype})`);
    }
  }
  let scale = 0;
  let zeroPoint = 0;
  if (t.quant) {
    const { scale: s, zeroPoint: z } = t.quant;
    if (!Array.isArray(s) || !Array.isArray(z) || s.length < 1 || s.length !== z.length) {
      throw new FormatError(`${what}: quant needs equally long, non-empty scale and zeroPoint arrays`);
    }
    s.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0 && Math.fround(v) > 0 && Number.isFinite(Math.fround(v)))) throw new FormatError(`${what}: scale ${i} is ${v}; need a finite float32 > 0`);
    });
    const zr = dtype === DType.UINT8 ? [0, 255] : [-128, 127];
    z.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= zr[0] && v <= zr[1])) throw new FormatError(`${what}: zero point ${i} is ${v}; need an integer in [${zr}]`);
    });
    if (s.length === 1 && (dtype === DType.INT8 || dtype === DType.UINT8)) {
      scale = Math.fround(s[0]);
      zeroPoint = z[0];
    }
  }
  return {
    name: t.name, dtype, shape: [...t.shape], role: t.data ? 'const' : 'activation', scale, zeroPoint,
    data: t.data, quant: t.quant, used: false,
  };
}

/** DATA: every constant tensor at a 16-aligned offset, little-endian. */
function packData(order: Draft[]): { data: Uint8Array; offsets: Map<string, number> } {
  const offsets = new Map<string, number>();
  let size = 0;
  for (const d of order) {
    if (!d.data) continue;
    offsets.set(d.name, size);
    size = roundUp(size + count(d.shape) * DTYPE_BYTES[d.dtype], ALIGN);
  }
  const data = new Uint8Array(size);
  const view = new DataView(data.buffer);
  for (const d of order) {
    if (!d.data) continue;
    const at = offsets.get(d.name)!;
    const put = {
      [DType.INT8]: (i: number, v: number) => view.setInt8(at + i, v),
      [DType.UINT8]: (i: number, v: number) => view.setUint8(at + i, v),
      [DType.INT32]: (i: number, v: number) => view.setInt32(at + 4 * i, v, true),
      [DType.FLOAT32]: (i: number, v: number) => view.setFloat32(at + 4 * i, v, true),
    }[d.dtype];
    for (let i = 0; i < d.data.length; i++) put(i, d.data[i]);
  }
  return { data, offsets };
}

function tensorRecord(d: Draft, i: number, dataOffsets: Map<string, number>, plan: ArenaPlan, index: Map<string, number>): TensorRecord {
  const isConst = d.data !== undefined;
  return {
    dtype: d.dtype,
    shape: [...d.shape],
    storage: isConst ? Storage.CONST : Storage.ARENA,
    category: isConst ? Category.NONE : Category.ACTIVATION,
    offset: isConst ? dataOffsets.get(d.name)! : plan.offsets.get(i)!,
    bytes: count(d.shape) * DTYPE_BYTES[d.dtype],
    scale: d.role === 'weight' ? 0 : d.scale,
    zeroPoint: d.role === 'weight' ? 0 : d.zeroPoint,
    channelScales: d.channelScales === undefined ? NO_TENSOR : index.get(d.channelScales)!,
  };
}

// ---------------------------------------------------------------------------------------
// Memory plan

/** Lifetimes: written at its op (graph inputs: 0) through its last reader (graph outputs: the end). */
function planBuffers(order: Draft[], index: Map<string, number>, lowered: LoweredOp[], model: QModel): ArenaPlan {
  const last = new Map<string, number>();
  const first = new Map<string, number>();
  const producer = new Map<string, string>();
  for (const n of model.inputs) first.set(n, 0);
  lowered.forEach((l, k) => {
    first.set(l.output, k);
    producer.set(l.output, `op ${k} ${model.ops[k].op}`);
    for (const n of l.inputs) if (n !== undefined) last.set(n, k);
  });
  const end = lowered.length - 1;
  const outputs = new Set(model.outputs);
  for (const n of outputs) last.set(n, end);
  const buffers: PlanBuffer[] = [];
  for (const d of order) {
    if (d.data) continue;
    const f = first.get(d.name)!;
    buffers.push({
      id: index.get(d.name)!, name: d.name, bytes: count(d.shape) * DTYPE_BYTES[d.dtype],
      first: f, last: Math.max(f, last.get(d.name) ?? f), category: Category.ACTIVATION,
      producer: producer.get(d.name) ?? 'graph input',
    });
  }
  const byName = new Map(buffers.map((b) => [b.name, b]));
  // The format lets an output take an input's buffer only when the input dies at that op, is
  // not a graph output, and has the output's exact size (docs/format.md, PLAN).
  lowered.forEach((l, k) => {
    const input = l.inPlaceOf === undefined ? undefined : byName.get(l.inPlaceOf);
    const out = byName.get(l.output)!;
    if (input && input.last === k && !outputs.has(input.name) && input.bytes === out.bytes) out.inPlaceOf = input.id;
  });
  return planArena(buffers, { opCount: lowered.length });
}

// ---------------------------------------------------------------------------------------
// Ops

class ScheduleBuilder {
  private readonly written = new Map<string, number>();
  private readonly graphInputs: Set<string>;

  constructor(private readonly model: QModel, private readonly drafts: Map<string, Draft>) {
    if (!Array.isArray(model.inputs) || model.inputs.length < 1 || model.inputs.length > MAX_GRAPH_IO) {
      throw new FormatError(`the model needs 1 to ${MAX_GRAPH_IO} graph inputs, has ${model.inputs?.length ?? 0}`);
    }
    if (!Array.isArray(model.outputs) || model.outputs.length < 1 || model.outputs.length > MAX_GRAPH_IO) {
      throw new FormatError(`the model needs 1 to ${MAX_GRAPH_IO} graph outputs, has ${model.outputs?.length ?? 0}`);
    }
    for (const n of model.inputs) {
      const d = drafts.get(n);
      if (!d) throw new FormatError(`graph input '${n}' is not a tensor of the model`);
      if (d.data) throw new FormatError(`graph input '${n}' has constant data; graph inputs are activations`);
      if (d.dtype === DType.INT8 && d.quant?.scale.length !== 1) throw new FormatError(`graph input '${n}' needs one scale and zero point (int8 activation)`);
      d.used = true;
    }
    this.graphInputs = new Set(model.inputs);
    if (this.graphInputs.size !== model.inputs.length) throw new FormatError(`graph inputs [${model.inputs}] name a tensor twice`);
  }

  checkGraphIo(): void {
    const seen = new Set<string>();
    for (const n of this.model.outputs) {
      if (!this.drafts.has(n)) throw new FormatError(`graph output '${n}' is not a tensor of the model`);
      if (!this.written.has(n)) throw new FormatError(`graph output '${n}' is written by no op`);
      if (seen.has(n)) throw new FormatError(`graph output '${n}' is listed twice`);
      seen.add(n);
    }
  }

  lowerOp(q: QOp, i: number): LoweredOp {
    const outName = Array.isArray(q?.outputs) && q.outputs.length === 1 ? q.outputs[0] : undefined;
    const where = `op ${i} (${q?.op} -> '${outName ?? q?.outputs}')`;
    if (outName === undefined) throw new FormatError(`${where}: needs exactly one output, has ${q?.outputs?.length ?? 0}`);
    const out = this.drafts.get(outName);
    if (!out) throw new FormatError(`${where}: output '${outName}' is not a tensor of the model`);
    if (out.data) throw new FormatError(`${where}: output '${outName}' has constant data`);
    if (this.graphInputs.has(outName)) throw new FormatError(`${where}: output '${outName}' is a graph input`);
    const previous = this.written.get(outName);
    if (previous !== undefined) throw new FormatError(`${where}: output '${outName}' is already written by op ${previous}`);
    const inputs = (q.inputs ?? []).map((n, slot) => (n === '' || n === undefined ? undefined : this.input(where, n, slot, i)));
    out.used = true;
    this.written.set(outName, i);
    const lowering = Object.hasOwn(LOWERINGS, q.op) ? LOWERINGS[q.op] : undefined;
    if (!lowering) throw new FormatError(`${where}: unknown op '${q.op}'; known: ${Object.keys(LOWERINGS).join(', ')}`);
    return lowering(new OpContext(where, q, inputs, out, this.drafts));
  }

  private input(where: string, name: string, slot: number, i: number): Draft {
    const d = this.drafts.get(name);
    if (!d) throw new FormatError(`${where}: input ${slot} '${name}' is not a tensor of the model`);
    if (!d.data && !this.graphInputs.has(name) && !this.written.has(name)) {
      const later = this.model.ops.findIndex((o, k) => k > i && o.outputs?.includes(name));
      throw new FormatError(`${where}: input ${slot} '${name}' ` + (later >= 0 ? `is read before op ${later} writes it` : 'is neither a graph input, a constant nor written by an op'));
    }
    d.used = true;
    return d;
  }
}

/** What one op's lowering sees; its checks throw errors that name the op and the tensor. */
class OpContext {
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

const LOWERINGS: Record<OpName, (ctx: OpContext) => LoweredOp> = {
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
    ctx.sameQuant(x, out, 'the global average pool does not rescale');
    const [actMin, actMax] = ctx.guard(() => ctx.actRange(out));
    return { code: Op.GLOBAL_AVG_POOL, inputs: [x.name], output: out.name, params: [0, 0, 0, 0, 0, 0, actMin, actMax] };
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

// ---------------------------------------------------------------------------------------
// Report

/** File size the container writer produces: header, section table, then 16-aligned sections. */
function containerBytes(sectionLengths: number[]): number {
  let cursor = roundUp(HEADER_BYTES + sectionLengths.length * SECTION_ENTRY_BYTES, ALIGN);
  let end = cursor;
  for (const length of sectionLengths) {
    end = cursor + length;
    cursor = roundUp(end, ALIGN);
  }
  return end;
}

function buildReport(
  modelName: string, container: ContainerModel, order: Draft[], lowered: LoweredOp[], model: QModel, plan: ArenaPlan, unusedTensors: string[],
): LoweringReport {
  const work = opWork(container);
  const ops: OpReport[] = work.map((w, k) => ({ ...w, source: model.ops[k].op, name: lowered[k].output }));

  const enc = new TextEncoder();
  const records = container.tensors.length * TENSOR_RECORD_BYTES + container.ops.length * OP_RECORD_BYTES;
  const planBytes = 16 + 2 * (container.plan.inputs.length + container.plan.outputs.length);
  const metadata = [enc.encode(JSON.stringify(container.names)).length, enc.encode(JSON.stringify(container.meta)).length];
  const total = containerBytes([container.tensors.length * TENSOR_RECORD_BYTES, container.ops.length * OP_RECORD_BYTES, planBytes, container.data.length, ...metadata]);
  const byRole = (role: Role) => order.filter((d) => d.data && d.role === role).reduce((s, d) => s + count(d.shape) * DTYPE_BYTES[d.dtype], 0);
  const flash: FlashBreakdown = {
    weights: byRole('weight'),
    biases: byRole('bias'),
    requantTables: byRole('requant'),
    scales: byRole('scales'),
    otherConstants: byRole('const'),
    schedule: HEADER_BYTES + (4 + metadata.length) * SECTION_ENTRY_BYTES + records + planBytes,
    metadata: metadata[0] + metadata[1],
    padding: 0,
    total,
  };
  const accounted = flash.weights + flash.biases + flash.requantTables + flash.scales + flash.otherConstants + flash.schedule + flash.metadata;
  flash.padding = flash.total - accounted;

  const byId = new Map(plan.buffers.map((b) => [b.id, b]));
  const buffers: BufferRow[] = plan.buffers.map((b) => ({
    name: b.name, bytes: b.bytes, offset: plan.offsets.get(b.id)!, first: b.first, last: b.last,
    category: Category[b.category], sharesWith: plan.sharesWith.has(b.id) ? byId.get(plan.sharesWith.get(b.id)!)!.name : undefined,
  }));
  const peakBuffers = plan.liveAtPeak.map((id) => ({ name: byId.get(id)!.name, bytes: byId.get(id)!.bytes, op: byId.get(id)!.producer }));
  return {
    model: modelName,
    ops,
    totalMacs: ops.reduce((s, o) => s + o.macs, 0),
    flash,
    plan: {
      arenaBytes: plan.arenaBytes, naiveBytes: naiveArenaBytes(plan.buffers), peakOp: plan.peakOp,
      breakdown: plan.breakdown, timeline: plan.timeline, peakBuffers,
    },
    buffers,
    unusedTensors,
  };
}
