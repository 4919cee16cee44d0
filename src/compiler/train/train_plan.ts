// The train-step plan: the static schedule of one on-device training step (forward ops, the
// loss, then the pruned backward with each update right after its gradient), and every SRAM
// buffer it touches with its size, dtype, category and lifetime. autodiff.ts builds it;
// train_memory.ts places its buffers in one arena; reference_step.ts runs it in fp32.
//
// Buffer lifetimes are op indices, inclusive, as in the arena planner (docs/memory.md):
// `producer` is the first op that writes the buffer, `lastReader` the last op that reads or
// updates it. Persistent buffers (trainable slices, optimizer state) and the step's inputs
// are live from op 0; persistent buffers and the loss value stay live to the last op.

import { SparrowError } from '../../formats/errors.js';
import { Category } from '../../formats/schema.js';

export type TrainOpKind = 'forward' | 'loss' | 'activation_grad' | 'input_grad' | 'update';
/** 'bit': 1-bit masks, packed 8 per byte. */
export type BufferDType = 'int8' | 'int32' | 'float32' | 'bit';

export interface TrainBuffer {
  id: number;
  name: string;
  dtype: BufferDType;
  /** Number of elements (bits for masks). */
  elements: number;
  /** elements x dtype size, masks rounded up to whole bytes. */
  bytes: number;
  category: Category;
  /** The graph node the buffer belongs to (a saved input: the node whose backward reads it). */
  node: string;
  producer: number;
  lastReader: number;
  /** Saved activations that are a whole activation: the same memory, kept alive longer. */
  aliasOf?: number;
  /** Gradients that may overwrite the gradient they are computed from (add, reshape, relu). */
  inPlaceOf?: number;
  /**
   * Partial saved activations: the input channels they hold, ascending. A layer's TRAINABLE
   * weights: the output channels it trains, ascending (compact rows: the rows it holds, in order).
   */
  channels?: number[];
  /** Never freed within the step (trainable slices, optimizer state, loss value). */
  persistent?: boolean;
  /** Written by the host before op 0 (the input sample, its label or target). */
  stepInput?: boolean;
}

/** A gradient written by an input_grad or activation_grad op. */
export interface GradWrite {
  /** Operand index of the node input the gradient belongs to. */
  operand: number;
  buffer: number;
  /** true: add into a gradient another consumer already wrote; false: first write. */
  accumulate: boolean;
}

export interface TrainOp {
  index: number;
  kind: TrainOpKind;
  /** The graph node the op works for. */
  node: string;
  /** forward: activation buffers of the node's inputs, in operand order; loss: [logits]. */
  inputs?: number[];
  /** forward: the activation; loss: dL/dlogits. */
  output?: number;
  /** forward: writes it; activation_grad: reads it. */
  mask?: number;
  /** forward: writes it (or extends an input's life); update/input_grad (max pool): reads it. */
  saved?: number;
  /** Backward ops: dL/d(node output), fp32; activation_grad multiplies it by the mask in place. */
  dy?: number;
  dx?: GradWrite[];
  /** Trainable slices (read by forward and input_grad, updated in place by update). */
  weight?: number;
  /**
   * forward and input_grad of a layer whose weight slice holds only its trained rows: the whole
   * filter (flash filter + trained rows, container op MERGE_ROWS), written and read by this op only.
   */
  merged?: number;
  bias?: number;
  momentum?: number;
  /** loss: the label or target, and the loss value it writes. */
  target?: number;
  lossValue?: number;
  /** Multiply-accumulates of the op (0 for ops without MACs). */
  macs: number;
}

export interface TrainStepPlan {
  graph: string;
  ops: TrainOp[];
  buffers: TrainBuffer[];
}

const DTYPE_SIZE: Record<BufferDType, number> = { int8: 1, int32: 4, float32: 4, bit: 1 / 8 };

/** Bytes of `elements` values of `dtype`; bits round up to whole bytes. */
export function bufferBytes(dtype: BufferDType, elements: number): number {
  return Math.ceil(elements * DTYPE_SIZE[dtype]);
}

/** Ids of the buffers an op reads (including those it updates in place). */
export function readsOf(op: TrainOp): number[] {
  const accumulated = (op.dx ?? []).filter((w) => w.accumulate).map((w) => w.buffer);
  const byKind: Record<TrainOpKind, (number | undefined)[]> = {
    forward: [...(op.inputs ?? []), op.weight, op.bias],
    loss: [...(op.inputs ?? []), op.target],
    activation_grad: [op.dy, op.mask, ...accumulated],
    input_grad: [op.dy, op.saved, op.weight, ...accumulated],
    update: [op.dy, op.saved, op.weight, op.bias, op.momentum],
  };
  return byKind[op.kind].filter((id): id is number => id !== undefined);
}

/** Ids of the buffers an op writes (including those it updates in place). */
export function writesOf(op: TrainOp): number[] {
  const ids: (number | undefined)[] = [op.output, op.lossValue, ...(op.dx ?? []).map((w) => w.buffer)];
  if (op.kind === 'forward') ids.push(op.mask, op.saved);
  // the whole filter of a compact-rows layer: written and read within this op (its lifetime)
  if (op.kind === 'forward' || op.kind === 'input_grad') ids.push(op.merged);
  if (op.kind === 'activation_grad') ids.push(op.dy);
  if (op.kind === 'update') ids.push(op.weight, op.bias, op.momentum);
  return ids.filter((id): id is number => id !== undefined);
}

/** Accumulates buffers and ops, then derives every lifetime from who reads and writes what. */
export class StepBuilder {
  readonly buffers: TrainBuffer[] = [];
  readonly ops: TrainOp[] = [];

  buffer(b: Omit<TrainBuffer, 'id' | 'bytes' | 'producer' | 'lastReader'>): number {
    const id = this.buffers.length;
    this.buffers.push({ ...b, id, bytes: bufferBytes(b.dtype, b.elements), producer: -1, lastReader: -1 });
    return id;
  }

  op(o: Omit<TrainOp, 'index'>): TrainOp {
    const op = { ...o, index: this.ops.length };
    this.ops.push(op);
    return op;
  }

  /** Fills producer/lastReader from the ops; `stepInputs` are written by the host before op 0. */
  finish(graph: string, stepInputs: number[]): TrainStepPlan {
    const last = this.ops.length - 1;
    for (const op of this.ops) {
      for (const id of writesOf(op)) {
        const b = this.buffers[id];
        if (b.producer < 0) b.producer = op.index;
        b.lastReader = Math.max(b.lastReader, op.index);
      }
      for (const id of readsOf(op)) this.buffers[id].lastReader = Math.max(this.buffers[id].lastReader, op.index);
    }
    for (const id of stepInputs) Object.assign(this.buffers[id], { producer: 0, stepInput: true });
    for (const b of this.buffers) {
      if (b.persistent) {
        b.producer = 0;
        b.lastReader = last;
      }
      if (b.producer < 0) throw new SparrowError(`train step '${graph}': buffer '${b.name}' is never written`);
      b.lastReader = Math.max(b.lastReader, b.producer);
    }
    return { graph, ops: this.ops, buffers: this.buffers };
  }
}
