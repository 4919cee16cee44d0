// The in-memory image of a container (docs/format.md), one field per record field.
// Writer and reader convert between this and bytes; the compiler's lowering produces it.

import type { Category, DType, Op, Storage } from './schema.js';

export interface TensorRecord {
  dtype: DType;
  /** 1..4 dims; NHWC for activations. */
  shape: number[];
  storage: Storage;
  /** Category.NONE for CONST tensors. */
  category: Category;
  /** CONST: byte offset inside DATA; ARENA: byte offset inside the arena. Multiple of ALIGN. */
  offset: number;
  /** product(shape) * dtype size. */
  bytes: number;
  /** Per-tensor scale of quantized activations; 0 when not quantized. */
  scale: number;
  zeroPoint: number;
  /** Index of a CONST FLOAT32 [C] tensor of per-channel scales, or NO_TENSOR. */
  channelScales: number;
  /**
   * ARENA TRAINABLE tensors only: index of the CONST tensor (same dtype and bytes) copied into
   * this buffer once at load; the buffer is then live for the whole schedule of every run.
   */
  init?: number;
}

export interface OpRecord {
  op: Op;
  /** Tensor indices, at most OP_MAX_INPUTS; NO_TENSOR marks an absent optional input. */
  inputs: number[];
  output: number;
  /** ARENA tensor of Category.SCRATCH live only during this op, or NO_TENSOR. */
  scratch: number;
  /** OP_PARAM_COUNT int32 values; meaning per op in docs/format.md. */
  params: number[];
}

export interface PlanRecord {
  /** Planned arena size in bytes: the exact SRAM peak of the schedule. */
  arenaBytes: number;
  inputs: number[];
  outputs: number[];
}

export interface ContainerModel {
  tensors: TensorRecord[];
  ops: OpRecord[];
  /** The DATA section's bytes; CONST tensors point into it. */
  data: Uint8Array;
  plan: PlanRecord;
  /** Optional NAMES section: one name per tensor. */
  names?: string[];
  /** Optional META section: free-form JSON (producer, model name, memory breakdown). */
  meta?: Record<string, unknown>;
}
