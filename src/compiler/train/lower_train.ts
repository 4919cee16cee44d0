// Lowering of one on-device train step: an int8 QModel and a recipe become one container
// (docs/format.md, "Train-step ops") that the training executor runs once per sample.
//
//   QModel --lowerModel--> forward op records, constants, requantization tables
//          --graphOfQModel--> fp32 graph --resolveRecipe, buildTrainStep--> TrainStepPlan
//          --planTrainMemory--> an offset for every buffer of the step
//   then each plan op becomes container ops:
//     forward          the inference op (trained layers read their TRAINABLE filter/bias; a
//                      compact-rows layer the whole filter MERGE_ROWS builds first from the
//                      flash filter and its TRAINABLE rows), then RELU_MASK when the plan saves a mask
//     loss             SOFTMAX_CE_LOSS (the loss value, the graph output), SOFTMAX_CE_GRAD
//     activation_grad  APPLY_MASK, in place (a new tensor record on the gradient's bytes)
//     input_grad       *_BACKWARD_INPUT (after a MERGE_ROWS for a compact-rows layer), GLOBAL_AVG_POOL_BACKWARD or RESHAPE
//     update           *_UPDATE (selected output channels of the filter), BIAS_UPDATE
//
// The container's lifetimes are those of the plan refined (a plan op becomes one to three
// container ops), so the plan's offsets never make two live tensors overlap, and the device's
// measured high-water mark is the plan's.

import type { ContainerModel, OpRecord, TensorRecord } from '../../formats/container_types.js';
import { f32Bits, UPDATE_COMPACT_ROWS } from '../../formats/container_op_rules.js';
import { RecipeError, ShapeError } from '../../formats/errors.js';
import type { QModel } from '../../formats/qmodel.js';
import { ALIGN, Category, DType, NO_TENSOR, OP_PARAM_COUNT, Op, Storage } from '../../formats/schema.js';
import { sramBudget, type DeviceProfile } from '../devices.js';
import type { Graph } from '../graph.js';
import { lowerModel } from '../lower.js';
import { chooseStepFusion, ringOf, type FusedStep, type StepFuseMode } from '../lower_fuse_train.js';
import { buildTrainStep } from './autodiff.js';
import { graphOfQModel } from './qmodel_graph.js';
import { resolveRecipe, type ResolvedRecipe, type TrainRecipe } from './recipe.js';
import { checkTrainBudget, type TrainMemoryReport } from './train_memory.js';
import type { GradWrite, TrainOp, TrainStepPlan } from './train_plan.js';

export interface TrainLowerOptions {
  /** Checks the step's arena and constants against this device (BudgetError when over). */
  device?: DeviceProfile;
  /**
   * Frozen expand -> depthwise pairs streamed as EXPAND_DEPTHWISE (lower_fuse_train.ts):
   * `auto` (default) when the unfused step does not fit the device, `always`, `never`.
   */
  fuse?: StepFuseMode;
  /**
   * The sample the host writes before each step: `float32` (default), quantized by the step's
   * first op; or `int8`, already quantized with the model input's scale and zero point (the
   * output of the QModel's QUANTIZE op), which removes the float32 sample from SRAM.
   */
  input?: StepInput;
  /**
   * Internal: layers trained at ratio < 1 keep their whole filter TRAINABLE, as before compact
   * rows (the equivalence tests compare both forms). Default false.
   */
  wholeFilters?: boolean;
}

export type StepInput = 'float32' | 'int8';

/** A TRAINABLE tensor of the container and the QModel tensor it trains. */
export interface TrainableTensor {
  /** Container tensor index (ARENA TRAINABLE, initialised from `init`). */
  tensor: number;
  init: number;
  /** The QModel tensor whose values it holds (a filter or a bias). */
  source: string;
  /** Compact rows: the tensor holds these output channels' rows of `source`, in this order (else all of it). */
  rows?: number[];
  dtype: 'int8' | 'int32';
  bytes: number;
}

export interface TrainStepReport {
  model: string;
  recipe: ResolvedRecipe;
  /** The sample's type (TrainLowerOptions.input). */
  input: StepInput;
  /** Planned SRAM of one step: the container's arenaBytes. */
  arenaBytes: number;
  /** Highest byte in use at the peak (the device's high_water() after a step). */
  highWaterBytes: number;
  peakOpLabel: string;
  memory: TrainMemoryReport;
  trainables: TrainableTensor[];
  /** Container op count by op name ("CONV2D_UPDATE": 1, ...). */
  opCounts: Record<string, number>;
}

export interface LoweredTrainStep {
  container: ContainerModel;
  report: TrainStepReport;
  /** The unfused plan and its graph (for the fp32 reference step; a fused op computes the same values). */
  plan: TrainStepPlan;
  graph: ReturnType<typeof graphOfQModel>['graph'];
}

/** Where each conv-like op keeps its clamp, for the RELU_MASK that follows it. */
const ACT_PARAMS: Partial<Record<Op, [number, number]>> = {
  [Op.CONV2D]: [4, 5], [Op.DEPTHWISE_CONV2D]: [4, 5], [Op.CONV1X1]: [4, 5], [Op.FULLY_CONNECTED]: [4, 5],
  [Op.ADD]: [7, 8], [Op.AVG_POOL]: [6, 7], [Op.MAX_POOL]: [6, 7], [Op.GLOBAL_AVG_POOL]: [6, 7], [Op.EXPAND_DEPTHWISE]: [4, 5],
};
const BACKWARD_INPUT: Partial<Record<Op, Op>> = {
  [Op.CONV2D]: Op.CONV2D_BACKWARD_INPUT, [Op.DEPTHWISE_CONV2D]: Op.DEPTHWISE_CONV2D_BACKWARD_INPUT,
  [Op.CONV1X1]: Op.FULLY_CONNECTED_BACKWARD_INPUT, [Op.FULLY_CONNECTED]: Op.FULLY_CONNECTED_BACKWARD_INPUT,
  [Op.GLOBAL_AVG_POOL]: Op.GLOBAL_AVG_POOL_BACKWARD, [Op.RESHAPE]: Op.RESHAPE,
  [Op.AVG_POOL]: Op.AVG_POOL_BACKWARD, [Op.MAX_POOL]: Op.MAX_POOL_BACKWARD,
};
const WEIGHT_UPDATE: Partial<Record<Op, Op>> = {
  [Op.CONV2D]: Op.CONV2D_UPDATE, [Op.DEPTHWISE_CONV2D]: Op.DEPTHWISE_CONV2D_UPDATE,
  [Op.CONV1X1]: Op.FULLY_CONNECTED_UPDATE, [Op.FULLY_CONNECTED]: Op.FULLY_CONNECTED_UPDATE,
};

/**
 * The plan and memory of the step lowerTrainStep builds with `options` (the sample's type, and
 * the pairs streamed as it chooses them), without the container: what a scheme search compares.
 * `unfused` is the plan before streaming.
 */
export function planTrainStep(graph: Graph, recipe: ResolvedRecipe, options: TrainLowerOptions = {}): FusedStep & { unfused: TrainStepPlan } {
  const unfused = buildTrainStep(graph, recipe, { floatSample: (options.input ?? 'float32') === 'float32', wholeFilters: options.wholeFilters });
  const budget = options.device ? sramBudget(options.device) : undefined;
  return { ...chooseStepFusion(graph, recipe, unfused, options.fuse ?? 'auto', budget), unfused };
}

/** Compiles one train step of `qmodel` under `recipe`. Throws RecipeError, ShapeError, BudgetError. */
export function lowerTrainStep(qmodel: QModel, recipe: TrainRecipe, options: TrainLowerOptions = {}): LoweredTrainStep {
  const { graph } = graphOfQModel(qmodel);
  const resolved = resolveRecipe(graph, recipe);
  const input = options.input ?? 'float32';
  const { plan, memory, expanded, unfused } = planTrainStep(graph, resolved, options);
  if (options.device) checkTrainBudget(memory, options.device, `train step of ${graph.name}`);
  const inference = lowerModel(qmodel, { sparse: 'never', fuse: { only: expanded }, input }).container;
  const builder = new StepContainer(inference, plan, memory, resolved);
  const container = builder.build();
  const opCounts: Record<string, number> = {};
  for (const op of container.ops) opCounts[Op[op.op]] = (opCounts[Op[op.op]] ?? 0) + 1;
  const report: TrainStepReport = {
    model: graph.name, recipe: resolved, input, arenaBytes: memory.arenaBytes,
    highWaterBytes: Math.max(...memory.timeline.map((t) => t.highWater)), peakOpLabel: memory.peakOpLabel,
    memory, trainables: builder.trainables, opCounts,
  };
  return { container, report, plan: unfused, graph };
}

const elementsOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Builds the container of one plan; tensors are the inference ones kept, then new ones. */
class StepContainer {
  private readonly tensors: TensorRecord[] = [];
  private readonly names: string[] = [];
  private readonly ops: OpRecord[] = [];
  private readonly extraData: { offset: number; values: Uint8Array }[] = [];
  /** Layer name -> its CONST channel list (updates and MERGE_ROWS share it). */
  private readonly channelLists = new Map<string, number>();
  private dataEnd: number;
  /** Inference tensor index -> container index (CONST tensors and the activations kept). */
  private readonly fromInference = new Map<number, number>();
  /** Plan buffer id -> the container tensor holding it now (in-place ops move it). */
  private readonly current = new Map<number, number>();
  private readonly byName = new Map<string, number>();
  readonly trainables: TrainableTensor[] = [];

  constructor(private readonly inf: ContainerModel, private readonly plan: TrainStepPlan, private readonly memory: TrainMemoryReport, private readonly recipe: ResolvedRecipe) {
    this.dataEnd = inf.data.length;
    inf.names!.forEach((n, i) => this.byName.set(n, i));
  }

  build(): ContainerModel {
    // CONST tensors first, in inference order; channelScales remapped after.
    this.inf.tensors.forEach((t, i) => {
      if (t.storage === Storage.CONST) this.keep(i);
    });
    for (const t of this.tensors) if (t.channelScales !== NO_TENSOR) t.channelScales = this.fromInference.get(t.channelScales)!;
    const sample = this.plan.buffers.find((b) => b.stepInput && (b.name === 'sample' || b.name === 'input'))!; // f32 or int8
    const label = this.plan.buffers.find((b) => b.stepInput && b !== sample)!; // int32 label (CE) or f32 target (MSE)
    const loss = this.plan.buffers.find((b) => b.name === 'loss')!;
    for (const op of this.plan.ops) this.lowerOp(op);
    const data = new Uint8Array(this.dataEnd);
    data.set(this.inf.data);
    for (const { offset, values } of this.extraData) data.set(values, offset);
    return {
      tensors: this.tensors, ops: this.ops, data,
      plan: { arenaBytes: this.memory.arenaBytes, inputs: [this.tensorOf(sample.id), this.tensorOf(label.id)], outputs: [this.tensorOf(loss.id)] },
      names: this.names,
      meta: { producer: 'sparrow', model: this.plan.graph, trainStep: { arenaBytes: this.memory.arenaBytes, peakOp: this.memory.peakOpLabel, trainables: this.trainables } },
    };
  }

  // ---- tensors --------------------------------------------------------------------------

  private add(t: TensorRecord, name: string): number {
    this.tensors.push(t);
    this.names.push(name);
    return this.tensors.length - 1;
  }

  /** The inference tensor `i` in the step container (ARENA ones get `offset`). */
  private keep(i: number, offset?: number, category = Category.ACTIVATION): number {
    const known = this.fromInference.get(i);
    if (known !== undefined) return known;
    const t = { ...this.inf.tensors[i], shape: [...this.inf.tensors[i].shape] };
    if (t.storage === Storage.ARENA) Object.assign(t, { offset: offset!, category });
    const k = this.add(t, this.inf.names![i]);
    this.fromInference.set(i, k);
    return k;
  }

  private infIndex(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new ShapeError(`train step: tensor '${name}' is not in the lowered model`);
    return i;
  }

  private offsetOf(id: number): number {
    return this.memory.buffers[id].offset;
  }

  /** The container tensor of plan buffer `id`, created on first use. */
  private tensorOf(id: number, shape?: number[]): number {
    const known = this.current.get(id);
    if (known !== undefined) return known;
    const b = this.plan.buffers[id];
    if (b.aliasOf !== undefined) return this.tensorOf(b.aliasOf);
    let t: number;
    if (b.category === Category.ACTIVATION && (b.dtype === 'int8' || b.name === 'sample')) {
      // the node's activation (named as its node), or the float sample
      const name = b.name === 'sample' || b.name === 'input' ? this.sampleOrInput(b.name) : b.node;
      t = this.keep(this.infIndex(name), this.offsetOf(id));
    } else {
      const dtype = { int8: DType.INT8, int32: DType.INT32, float32: DType.FLOAT32, bit: DType.UINT8 }[b.dtype];
      const dims = shape ?? [b.bytes / (dtype === DType.UINT8 || dtype === DType.INT8 ? 1 : 4)];
      t = this.add(arenaTensor(dtype, dims, this.offsetOf(id), b.category), b.name);
    }
    this.current.set(id, t);
    return t;
  }

  /** The float sample is the inference graph input; the int8 input is what its QUANTIZE writes, or the graph input itself. */
  private sampleOrInput(name: string): string {
    const first = this.inf.ops[0];
    const graphInput = this.inf.plan.inputs[0];
    return this.inf.names![name === 'sample' || first.op !== Op.QUANTIZE ? graphInput : first.output];
  }

  /** A new gradient record on the bytes of buffer `id` (an in-place op's output). */
  private moved(id: number): number {
    const old = this.tensors[this.tensorOf(id)];
    const t = this.add({ ...old, shape: [...old.shape] }, `${this.plan.buffers[id].name}'`);
    this.current.set(id, t);
    return t;
  }

  /** Shape of a gradient: the activation's shape (batch included), float32. */
  private gradShape(node: string): number[] {
    return [...this.inf.tensors[this.infIndex(node)].shape];
  }

  /** `bytes` appended to DATA, 16-aligned; returns their offset. */
  private appendData(bytes: Uint8Array): number {
    const offset = Math.ceil(this.dataEnd / ALIGN) * ALIGN;
    this.extraData.push({ offset, values: bytes });
    this.dataEnd = offset + bytes.length;
    return offset;
  }

  /** A CONST int32 [n] channel list, 16-aligned in DATA. */
  private channelList(channels: number[], name: string): number {
    const offset = this.appendData(new Uint8Array(Int32Array.from(channels).buffer));
    return this.add({ dtype: DType.INT32, shape: [channels.length], storage: Storage.CONST, category: Category.NONE, offset, bytes: 4 * channels.length, scale: 0, zeroPoint: 0, channelScales: NO_TENSOR }, name);
  }

  /** The selected output channels of trained layer `node`, one CONST list per layer. */
  private channelsOf(node: string): number {
    const known = this.channelLists.get(node);
    if (known !== undefined) return known;
    const t = this.channelList(this.recipe.layers.find((l) => l.layer === node)!.channels, `${node}/channels`);
    this.channelLists.set(node, t);
    return t;
  }

  /**
   * The TRAINABLE copy of inference CONST tensor `source` at plan buffer `id`. A plan buffer
   * smaller than the filter holds compact rows: the selected channels' rows, initialised from a
   * CONST tensor of those rows (channelScales stay the whole filter's, indexed by channel).
   */
  private trainable(id: number, source: number): number {
    const known = this.current.get(id);
    if (known !== undefined) return known;
    let init = this.fromInference.get(source)!;
    let src = this.tensors[init];
    const buffer = this.plan.buffers[id];
    const rows = buffer.bytes < src.bytes ? buffer.channels! : undefined;
    if (rows) {
      const rowBytes = src.bytes / src.shape[0];
      const values = new Uint8Array(rows.length * rowBytes);
      const from = this.inf.tensors[source].offset;
      rows.forEach((c, i) => values.set(this.inf.data.subarray(from + c * rowBytes, from + (c + 1) * rowBytes), i * rowBytes));
      const shape = [rows.length, ...src.shape.slice(1)];
      init = this.add({ ...src, shape, offset: this.appendData(values), bytes: values.length }, `${buffer.name} rows`);
      src = this.tensors[init];
    }
    const t = this.add({ ...src, shape: [...src.shape], storage: Storage.ARENA, category: Category.TRAINABLE, offset: this.offsetOf(id), init }, buffer.name);
    this.current.set(id, t);
    this.trainables.push({ tensor: t, init, source: this.inf.names![source], ...(rows ? { rows } : {}), dtype: src.dtype === DType.INT8 ? 'int8' : 'int32', bytes: src.bytes });
    return t;
  }

  /**
   * The filter a compact-rows layer's forward or input_grad op reads: MERGE_ROWS writes the
   * flash filter with the trained rows over it into plan buffer `op.merged`; else the TRAINABLE
   * filter, or the flash one when the weights are frozen.
   */
  private filterFor(op: TrainOp, source: number): number {
    if (op.weight === undefined) return this.fromInference.get(source)!;
    const rows = this.trainable(op.weight, source);
    if (op.merged === undefined) return rows;
    const flash = this.fromInference.get(source)!;
    const f = this.tensors[flash];
    const whole = this.add({ ...f, shape: [...f.shape], storage: Storage.ARENA, category: Category.ACTIVATION, offset: this.offsetOf(op.merged) }, this.plan.buffers[op.merged].name);
    this.emit(Op.MERGE_ROWS, [flash, rows, this.channelsOf(op.node)], whole);
    return whole;
  }

  // ---- ops ------------------------------------------------------------------------------

  private emit(op: Op, inputs: number[], output: number, params: number[] = [], scratch = NO_TENSOR): void {
    this.ops.push({ op, inputs, output, scratch, params: [...params, ...new Array(OP_PARAM_COUNT - params.length).fill(0)] });
  }

  /**
   * The optimizer state of one update op: `values` of `dtype` from value `at` on in plan buffer
   * `id` (a layer's state holds its selected weight rows, then its biases), an ARENA OPTIMIZER
   * tensor zeroed at load; NO_TENSOR without state. FLOAT32: momentum; INT8: carry fractions
   * (weights only: the buffer then holds no biases).
   */
  private optimizerState(id: number | undefined, dtype: DType.FLOAT32 | DType.INT8, at: number, values: number, name: string): number {
    if (id === undefined) return NO_TENSOR;
    const bytes = dtype === DType.INT8 ? 1 : 4;
    return this.add(arenaTensor(dtype, [values], this.offsetOf(id) + bytes * at, Category.OPTIMIZER), name);
  }

  /** The inference op that computes node `node`. */
  private inferenceOp(node: string): OpRecord {
    const i = this.infIndex(node);
    const op = this.inf.ops.find((o) => o.output === i);
    if (!op) throw new ShapeError(`train step: no op writes '${node}'`);
    return op;
  }

  private lowerOp(op: TrainOp): void {
    switch (op.kind) {
      case 'forward': return this.forward(op);
      case 'loss': {
        const logits = this.tensorOf(op.inputs![0]), target = this.tensorOf(op.target!);
        const [loss, grad] = this.recipe.loss === 'mse' ? [Op.MSE_LOSS, Op.MSE_GRAD] : [Op.SOFTMAX_CE_LOSS, Op.SOFTMAX_CE_GRAD];
        this.emit(loss, [logits, target], this.tensorOf(op.lossValue!));
        this.emit(grad, [logits, target], this.tensorOf(op.output!, this.gradShape(op.node)));
        return;
      }
      case 'activation_grad': {
        if (op.dx?.length) throw new ShapeError(`train step: standalone activation '${op.node}' is not supported (int8 models fuse activations)`);
        const dy = this.tensorOf(op.dy!);
        this.emit(Op.APPLY_MASK, [dy, this.tensorOf(op.mask!)], this.moved(op.dy!));
        return;
      }
      case 'input_grad': return this.inputGrad(op);
      case 'update': return this.update(op);
    }
  }

  private forward(op: TrainOp): void {
    const inf = this.inferenceOp(op.node);
    const inputs = inf.inputs.map((i, slot) => {
      if (i === NO_TENSOR) return NO_TENSOR;
      if (slot === 1 && op.weight !== undefined) return this.filterFor(op, i);
      if (slot === 2 && op.bias !== undefined) return this.trainable(op.bias, i);
      if (this.inf.tensors[i].storage === Storage.CONST) return this.fromInference.get(i)!;
      return this.tensorOf(op.inputs![inf.inputs.slice(0, slot).filter((j) => j !== NO_TENSOR && this.inf.tensors[j].storage === Storage.ARENA).length]);
    });
    if (op.bias !== undefined && inf.inputs[2] === NO_TENSOR) throw new RecipeError(`layer '${op.node}' has no bias tensor to train`);
    const y = this.tensorOf(op.output!);
    const ring = ringOf(this.plan, op); // a streamed expand -> depthwise pair: its row buffer
    this.emit(inf.op, inputs, y, inf.params, ring === undefined ? NO_TENSOR : this.keep(inf.scratch, this.offsetOf(ring), Category.SCRATCH));
    if (op.mask !== undefined) {
      const [lo, hi] = ACT_PARAMS[inf.op as Op]!;
      this.emit(Op.RELU_MASK, [y], this.tensorOf(op.mask), [inf.params[lo], inf.params[hi]]);
    }
  }

  private inputGrad(op: TrainOp): void {
    const inf = this.inferenceOp(op.node);
    if (inf.op === Op.ADD) return this.addGrad(op);
    const [write, ...rest] = op.dx!;
    const code = BACKWARD_INPUT[inf.op as Op];
    if (rest.length || code === undefined || (code === Op.RESHAPE && write.accumulate)) {
      throw new ShapeError(`train step: the backward of '${op.node}' (${Op[inf.op]}${write.accumulate ? ' into a tensor with several consumers' : ''}) has no device op yet`);
    }
    const dy = this.tensorOf(op.dy!);
    const xName = this.inf.names![inf.inputs[0]];
    const [acc, dx] = this.gradientOut(write, xName);
    if (code === Op.RESHAPE) return this.emit(code, [dy], dx);
    if (code === Op.GLOBAL_AVG_POOL_BACKWARD || code === Op.AVG_POOL_BACKWARD) return this.emit(code, [dy, acc], dx, inf.params.slice(0, 6));
    if (code === Op.MAX_POOL_BACKWARD) return this.emit(code, [dy, this.tensorOf(op.saved!), acc], dx, inf.params.slice(0, 6));
    const w = this.filterFor(op, inf.inputs[1]);
    const geometry = code === Op.FULLY_CONNECTED_BACKWARD_INPUT ? [] : inf.params.slice(0, 4);
    this.emit(code, [dy, w, acc], dx, geometry);
  }

  /**
   * Where a gradient op writes dL/d(tensor `x`): [the gradient already there or NO_TENSOR, the
   * op's output]. Accumulating ops add into the existing gradient and take over its bytes.
   */
  private gradientOut(write: GradWrite, x: string): [number, number] {
    if (!write.accumulate) return [NO_TENSOR, this.tensorOf(write.buffer, this.gradShape(x))];
    const acc = this.tensorOf(write.buffer);
    return [acc, this.moved(write.buffer)];
  }

  /** ADD: dA = dB = dy (GRADIENT_ADD copies or adds it); the write that takes dy's bytes goes last. */
  private addGrad(op: TrainOp): void {
    const inf = this.inferenceOp(op.node);
    const dyOffset = this.offsetOf(op.dy!);
    const takesDy = (w: GradWrite) => !w.accumulate && this.offsetOf(w.buffer) === dyOffset;
    const writes = [...op.dx!].sort((a, b) => Number(takesDy(a)) - Number(takesDy(b)));
    const dy = this.tensorOf(op.dy!);
    for (const w of writes) {
      const [acc, dx] = this.gradientOut(w, this.inf.names![inf.inputs[w.operand]]);
      this.emit(Op.GRADIENT_ADD, [dy, acc], dx);
    }
  }

  private update(op: TrainOp): void {
    const inf = this.inferenceOp(op.node);
    const l = this.recipe.layers.find((x) => x.layer === op.node)!;
    const dy = this.tensorOf(op.dy!);
    const flags = updateFlags(this.recipe);
    const momentum = f32Bits(this.recipe.momentum);
    let stateAt = 0;
    if (op.weight !== undefined) {
      const code = WEIGHT_UPDATE[inf.op as Op]!;
      const w = this.trainable(op.weight, inf.inputs[1]);
      const compact = this.trainables.find((t) => t.tensor === w)!.rows !== undefined;
      const geometry = code === Op.FULLY_CONNECTED_UPDATE ? [0, 0, 0, 0] : inf.params.slice(0, 4);
      const x = this.tensorOf(op.saved!);
      const wt = this.tensors[w];
      const updated = l.channels.length * (wt.bytes / (code === Op.DEPTHWISE_CONV2D_UPDATE ? wt.shape[3] : wt.shape[0])); // compact: shape[0] is the row count
      const carry = this.recipe.rounding === 'carry';
      const state = this.optimizerState(op.momentum, carry ? DType.INT8 : DType.FLOAT32, 0, updated, `${op.node}/weight ${carry ? 'carry' : 'momentum'}`);
      stateAt = updated;
      const weightFlags = flags | (compact ? UPDATE_COMPACT_ROWS : 0);
      this.emit(code, [x, dy, w, this.channelsOf(op.node)], NO_TENSOR, [...geometry, f32Bits(this.recipe.learningRate.weight), weightFlags, momentum], state);
    }
    if (op.bias !== undefined) {
      const b = this.trainable(op.bias, inf.inputs[2]);
      const C = this.tensors[b].shape[0];
      const scales = this.fromInference.get(this.inf.tensors[inf.inputs[1]].channelScales)!;
      const inScale = this.inf.tensors[inf.inputs[0]].scale;
      const all = this.channelList([...Array(C).keys()], `${op.node}/bias channels`);
      const state = this.recipe.momentum > 0 ? this.optimizerState(op.momentum, DType.FLOAT32, stateAt, C, `${op.node}/bias momentum`) : NO_TENSOR;
      this.emit(Op.BIAS_UPDATE, [dy, b, all, scales], NO_TENSOR, [f32Bits(inScale), f32Bits(this.recipe.learningRate.bias), flags, momentum], state);
    }
  }
}

/**
 * The update ops' UPDATE_FLAGS param (docs/format.md): bit 0 nearest rounding, bit 1 no QAS,
 * bit 2 carry rounding of the weights (BIAS_UPDATE ignores it: carry biases round stochastically).
 */
export function updateFlags(recipe: ResolvedRecipe): number {
  return (recipe.rounding === 'nearest' ? 1 : 0) | (recipe.qas ? 0 : 2) | (recipe.rounding === 'carry' ? 4 : 0);
}

function arenaTensor(dtype: DType, shape: number[], offset: number, category: Category): TensorRecord {
  const size = dtype === DType.INT8 || dtype === DType.UINT8 ? 1 : 4;
  return { dtype, shape, storage: Storage.ARENA, category, offset, bytes: elementsOf(shape) * size, scale: 0, zeroPoint: 0, channelScales: NO_TENSOR };
}
