// Lowering: a quantized model (QModel, the TFLite-like JSON) becomes the records of one
// container (docs/format.md): tensor records, op records with explicit params, constant
// data (weights, biases, per-channel scales, requantization tables), and the memory plan.
// Everything the device would otherwise compute in a "prepare" step is computed here, with
// TFLite Micro's arithmetic (quant_math.ts), so the device only validates and executes.
//
// Order of tensors in the container: the QModel's tensors that are used, in QModel order,
// then the derived constants (per-channel scales, requantization tables) in op order.

import { FormatError, ShapeError } from '../formats/errors.js';
import { DTYPE_BYTES, DTYPE_OF as DTYPES } from '../formats/dtypes.js';
import type { ContainerModel, OpRecord, TensorRecord } from '../formats/container_types.js';
import type { OpName, QModel, QOp, QTensor } from '../formats/qmodel.js';
import {
  ALIGN, Category, DType, HEADER_BYTES, NO_TENSOR, OP_PARAM_COUNT, OP_RECORD_BYTES,
  SECTION_ENTRY_BYTES, Storage, TENSOR_RECORD_BYTES,
} from '../formats/schema.js';
import { count, LOWERINGS, OpContext, type Draft, type LoweredOp, type Role } from './lower_ops.js';
import { naiveArenaBytes, planArena, roundUp, type ArenaPlan, type OpUsage, type PlanBuffer } from './planner.js';
import { opWork, estimateLatency, type LatencyEstimate, type OpWork } from './latency.js';
import { checkBudget } from './budget.js';
import { applySparseLayouts, type SparseDecision, type SparseMode, type TargetBuild } from './lower_sparse.js';
import { fusablePairs, fusePairs, hasScratch, pairSources, type FuseMode, type PairSources } from './lower_fuse.js';
import { flashBudget, sramBudget, type DeviceProfile } from './devices.js';

export interface LowerOptions {
  /** Adds the device's latency estimate and budget check to the report. */
  device?: DeviceProfile;
  /** With a device: throw BudgetError when the plan does not fit (default true). */
  checkBudget?: boolean;
  /**
   * Group-sparse 1x1 and fully connected layers: `auto` (default) picks dense or sparse per
   * layer with the measured cost model of `build`; `never` / `always` force one form.
   */
  sparse?: SparseMode;
  /** The executor build the sparse choice is priced for; default `mvp`, the microcontroller build. */
  build?: TargetBuild;
  /**
   * Expand -> depthwise pairs streamed as one EXPAND_DEPTHWISE op (lower_fuse.ts): `auto`
   * (default) when the unfused plan does not fit the device, `always`, `never`, or `{ only }`.
   */
  fuse?: FuseMode;
  /**
   * `int8`: the leading QUANTIZE op is dropped and its int8 output becomes the graph input, which
   * the caller fills already quantized with that tensor's scale and zero point (a camera that
   * delivers int8 pixels); the float32 sample then takes no SRAM. Default `float32`: as written.
   */
  input?: 'float32' | 'int8';
}

/** An expand -> depthwise pair streamed as one EXPAND_DEPTHWISE op. */
export interface FusedPair {
  /** The expanded tensor (the CONV1X1's output, no longer in the container). */
  expanded: string;
  /** The depthwise output, written by the fused op. */
  output: string;
  /** Bytes of the expanded tensor, and of the ring of rows that replaces it. */
  expandedBytes: number;
  ringBytes: number;
  /** The pair's own constants, concatenated in the fused op (kept in META so `unpack` restores them). */
  sources: PairSources;
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
  /** Per-category high-water marks: what the executor's high_water_of() measures. */
  categoryPeaks: ArenaPlan['categoryPeaks'];
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
  /** Dense or sparse, per 1x1 / fully connected layer with zero groups, and why. */
  sparse: SparseDecision[];
  /** Flash the sparse encodings save over the dense filters they replace. */
  sparseSavedBytes: number;
  /** Expand -> depthwise pairs streamed row by row (EXPAND_DEPTHWISE). */
  fused: FusedPair[];
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  [DType.INT8]: [-128, 127], [DType.UINT8]: [0, 255], [DType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};
const MAX_GRAPH_IO = 16;

/**
 * The options of a QModel op that its records cannot give back exactly (a ReLU whose clamp is
 * no clamp, SAME vs VALID on a 1x1 kernel, beta), kept in META so `unpack` is exact.
 */
function sourceOptions(q: QOp): Pick<QOp, 'activation' | 'padding' | 'beta'> {
  const { activation, padding, beta } = q;
  return JSON.parse(JSON.stringify({ activation, padding, beta }));
}

export function lowerModel(model: QModel, options: LowerOptions = {}): { container: ContainerModel; report: LoweringReport } {
  if (model?.format !== 'sparrow-model' || model.version !== 1) {
    throw new FormatError(`not a sparrow-model version 1 (format '${model?.format}', version ${model?.version})`);
  }
  if (options.input === 'int8') model = withInt8Input(model);
  const drafts = new Map<string, Draft>();
  for (const t of model.tensors ?? []) {
    if (drafts.has(t.name)) throw new FormatError(`tensor '${t.name}' is defined twice`);
    drafts.set(t.name, draftOf(t));
  }
  if (!model.ops?.length) throw new FormatError('the model has no ops');
  const schedule = new ScheduleBuilder(model, drafts);
  const lowered = model.ops.map((q, i) => schedule.lowerOp(q, i));
  schedule.checkGraphIo();
  const sparse = applySparseLayouts(lowered, drafts, options.build ?? 'mvp', options.sparse ?? 'auto');
  const unfused = layout(drafts, lowered, lowered.map((_, k) => k), model);
  const { order, index, plan, sources, fused, scheduled } = chooseFusion(unfused, drafts, model, options);
  const unusedTensors = (model.tensors ?? []).filter((t) => !drafts.get(t.name)!.used && !fused.some((f) => f.expanded === t.name)).map((t) => t.name);

  const { data, offsets: dataOffsets } = packData(order);
  const tensors: TensorRecord[] = order.map((d, i) => tensorRecord(d, i, dataOffsets, plan, index));
  const ops: OpRecord[] = scheduled.map((l) => ({
    op: l.code,
    inputs: l.inputs.map((n) => (n === undefined ? NO_TENSOR : index.get(n)!)),
    output: index.get(l.output)!,
    scratch: hasScratch(l) ? index.get(l.scratch)! : NO_TENSOR,
    params: [...l.params, ...new Array(OP_PARAM_COUNT - l.params.length).fill(0)],
  }));
  for (const l of scheduled) if (hasScratch(l)) tensors[index.get(l.scratch)!].category = Category.SCRATCH;
  const modelName = model.name ?? 'model';
  const container: ContainerModel = {
    tensors,
    ops,
    data,
    plan: { arenaBytes: plan.arenaBytes, inputs: model.inputs.map((n) => index.get(n)!), outputs: model.outputs.map((n) => index.get(n)!) },
    names: order.map((d) => d.name),
    meta: {
      producer: 'sparrow', model: modelName, arenaBytes: plan.arenaBytes, arenaPeaks: plan.categoryPeaks, opOptions: model.ops.map(sourceOptions),
      ...(fused.length ? { fusedPairs: fused.map((f) => f.sources) } : {}),
    },
  };

  const report = buildReport(modelName, container, order, scheduled, sources, model, plan, unusedTensors, sparse, fused);
  if (options.device) {
    const device = options.device;
    report.device = { name: device.name, sramBudget: sramBudget(device), flashBudget: flashBudget(device), latency: estimateLatency(report, device) };
    if (options.checkBudget ?? true) checkBudget(report, device, `model ${modelName}`);
  }
  return { container, report };
}

/** `model` with its leading QUANTIZE dropped: the int8 tensor it writes is the graph input. */
export function withInt8Input(model: QModel): QModel {
  const [quantize, ...ops] = model.ops ?? [];
  if (model.inputs?.length !== 1 || quantize?.op !== 'quantize' || quantize.inputs[0] !== model.inputs[0]) {
    throw new ShapeError(`model '${model.name ?? 'model'}': an int8 input needs one float32 input quantized by the first op`);
  }
  return { ...model, inputs: [...quantize.outputs], ops, tensors: (model.tensors ?? []).filter((t) => t.name !== model.inputs[0]) };
}

interface Layout {
  /** The schedule and, per op, the QModel op it comes from. */
  scheduled: LoweredOp[];
  sources: number[];
  /** Used tensors in container order, their indices, the arena plan. */
  order: Draft[];
  index: Map<string, number>;
  plan: ArenaPlan;
}

/** Tensor indices (used QModel tensors first, then derived constants) and the plan of one schedule. */
function layout(drafts: Map<string, Draft>, scheduled: LoweredOp[], sources: number[], model: QModel): Layout {
  const order = [...drafts.values()].filter((d) => d.used);
  const index = new Map(order.map((d, i) => [d.name, i]));
  return { scheduled, sources, order, index, plan: planBuffers(order, index, scheduled, sources, model) };
}

/** Applies options.fuse to the unfused layout (lower_fuse.ts); `fused` lists the pairs streamed. */
function chooseFusion(unfused: Layout, drafts: Map<string, Draft>, model: QModel, options: LowerOptions): Layout & { fused: FusedPair[] } {
  const mode = options.fuse ?? 'auto';
  let pairs = fusablePairs(unfused.scheduled, model.outputs);
  if (mode === 'never') pairs = [];
  else if (mode === 'auto') pairs = options.device && unfused.plan.arenaBytes > sramBudget(options.device) ? pairs : [];
  else if (mode !== 'always') pairs = pairs.filter((k) => mode.only.includes(unfused.scheduled[k].output));
  if (pairs.length === 0) return { ...unfused, fused: [] };
  const fused: FusedPair[] = pairs.map((k) => {
    const e = unfused.scheduled[k];
    return { expanded: e.output, output: unfused.scheduled[k + 1].output, expandedBytes: count(drafts.get(e.output)!.shape), ringBytes: 0, sources: pairSources(e, unfused.scheduled[k + 1]) };
  });
  const { lowered, sources } = fusePairs(unfused.scheduled, drafts, pairs);
  for (const [i, l] of lowered.filter(hasScratch).entries()) fused[i].ringBytes = count(drafts.get(l.scratch)!.shape);
  return { ...layout(drafts, lowered, sources, model), fused };
}

// ---------------------------------------------------------------------------------------
// Tensors

function draftOf(t: QTensor): Draft {
  const what = `tensor '${t?.name}'`;
  if (typeof t?.name !== 'string' || t.name === '') throw new FormatError(`a tensor has no name: ${JSON.stringify(t)?.slice(0, 80)}`);
  const dtype = Object.hasOwn(DTYPES, t.dtype) ? DTYPES[t.dtype] : undefined;
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

/**
 * Lifetimes: written at its op (graph inputs: 0) through its last reader (graph outputs: the
 * end); an op's scratch tensor lives while that op runs.
 */
function planBuffers(order: Draft[], index: Map<string, number>, lowered: LoweredOp[], sources: number[], model: QModel): ArenaPlan {
  const last = new Map<string, number>();
  const first = new Map<string, number>();
  const producer = new Map<string, string>();
  const scratch = new Set<string>();
  for (const n of model.inputs) first.set(n, 0);
  lowered.forEach((l, k) => {
    const label = `op ${k} ${hasScratch(l) ? 'expand_depthwise' : model.ops[sources[k]].op}`;
    first.set(l.output, k);
    producer.set(l.output, label);
    for (const n of l.inputs) if (n !== undefined) last.set(n, k);
    if (hasScratch(l)) {
      first.set(l.scratch, k);
      producer.set(l.scratch, `${label} (scratch)`);
      scratch.add(l.scratch);
    }
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
      first: f, last: Math.max(f, last.get(d.name) ?? f), category: scratch.has(d.name) ? Category.SCRATCH : Category.ACTIVATION,
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
  modelName: string, container: ContainerModel, order: Draft[], lowered: LoweredOp[], sources: number[], model: QModel, plan: ArenaPlan, unusedTensors: string[],
  sparse: SparseDecision[], fused: FusedPair[],
): LoweringReport {
  const work = opWork(container);
  const ops: OpReport[] = work.map((w, k) => ({ ...w, source: model.ops[sources[k]].op, name: lowered[k].output }));

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
      breakdown: plan.breakdown, categoryPeaks: plan.categoryPeaks, timeline: plan.timeline, peakBuffers,
    },
    buffers,
    unusedTensors,
    sparse,
    sparseSavedBytes: sparse.filter((d) => d.sparse).reduce((sum, d) => sum + d.denseBytes - d.sparseBytes, 0),
    fused,
  };
}
