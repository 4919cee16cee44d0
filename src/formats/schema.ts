// The container's enums: the single source of truth for the file format.
// This file is compiled both as TypeScript (host) and as AssemblyScript (device),
// so it may only use syntax both accept: plain `export enum` with explicit values
// and `export const` numbers.
//
// APPEND-ONLY. A value, once released, never changes meaning; new values go at the end
// and the *_COUNT constant moves. Tables indexed by these enums assert their length.

export const MAGIC = 0x57525053; // "SPRW" read as a little-endian u32
export const VERSION_MAJOR = 1;
export const VERSION_MINOR = 0;

export const HEADER_BYTES = 32;
export const SECTION_ENTRY_BYTES = 12;
export const TENSOR_RECORD_BYTES = 40;
export const OP_RECORD_BYTES = 64;
export const OP_MAX_INPUTS = 4;
export const OP_PARAM_COUNT = 12;
export const MAX_RANK = 4;
/** Alignment of every section, every constant tensor in DATA and every arena buffer. */
export const ALIGN = 16;
/** Tensor index meaning "no tensor" in op records. */
export const NO_TENSOR = 0xffff;

export enum Section {
  TENSORS = 1,
  OPS = 2,
  DATA = 3,
  PLAN = 4,
  NAMES = 5,
  META = 6,
}
export const SECTION_COUNT = 7; // one past the largest value

export enum DType {
  INT8 = 1,
  INT32 = 2,
  FLOAT32 = 3,
  UINT8 = 4,
}
export const DTYPE_COUNT = 5;

/** Where a tensor's bytes live. */
export enum Storage {
  /** Read-only, inside the DATA section (flash on a board). */
  CONST = 1,
  /** Inside the arena (SRAM), at a planned offset. */
  ARENA = 2,
}

/** What an arena buffer is for: the memory report is broken down by these. */
export enum Category {
  NONE = 0,
  ACTIVATION = 1,
  SCRATCH = 2,
  SAVED_ACTIVATION = 3,
  GRADIENT = 4,
  MASK = 5,
  TRAINABLE = 6,
  OPTIMIZER = 7,
  REPLAY = 8,
}
export const CATEGORY_COUNT = 9;

export enum Op {
  CONV2D = 1,
  DEPTHWISE_CONV2D = 2,
  /** 1x1 convolution, stride 1, no padding: the pointwise fast path. */
  CONV1X1 = 3,
  FULLY_CONNECTED = 4,
  ADD = 5,
  AVG_POOL = 6,
  MAX_POOL = 7,
  GLOBAL_AVG_POOL = 8,
  RESHAPE = 9,
  SOFTMAX = 10,
  QUANTIZE = 11,
  DEQUANTIZE = 12,
  /** CONV1X1 with group-sparse weights (docs/sparse.md): a UINT8 blob instead of the filter. */
  SPARSE_CONV1X1 = 13,
  /** FULLY_CONNECTED with group-sparse weights. */
  SPARSE_FULLY_CONNECTED = 14,
  // ---- train-step ops (docs/format.md "Train-step ops", docs/training.md) ----
  /** 1-bit mask of an int8 output: bit = actMin < y < actMax (saved for the clamp's backward). */
  RELU_MASK = 15,
  /** dy *= mask, in place: dL/d(output) -> dL/d(pre-clamp output). */
  APPLY_MASK = 16,
  /** Softmax cross-entropy of int8 logits and an int32 label: the loss value, f32 [1]. */
  SOFTMAX_CE_LOSS = 17,
  /** Its gradient dL/dlogits = softmax - onehot, f32. */
  SOFTMAX_CE_GRAD = 18,
  /** dL/dx of CONV2D from dL/dy (f32) and the int8 filter. */
  CONV2D_BACKWARD_INPUT = 19,
  /** dL/dx of DEPTHWISE_CONV2D. */
  DEPTHWISE_CONV2D_BACKWARD_INPUT = 20,
  /** dL/dx of FULLY_CONNECTED and of CONV1X1 (rows = pixels). */
  FULLY_CONNECTED_BACKWARD_INPUT = 21,
  /** dL/dx of GLOBAL_AVG_POOL. */
  GLOBAL_AVG_POOL_BACKWARD = 22,
  /** Weight gradient + QAS + SGD of CONV2D, in place, for listed output channels. No output. */
  CONV2D_UPDATE = 23,
  /** As CONV2D_UPDATE for DEPTHWISE_CONV2D (listed channels). */
  DEPTHWISE_CONV2D_UPDATE = 24,
  /** As CONV2D_UPDATE for FULLY_CONNECTED and CONV1X1. */
  FULLY_CONNECTED_UPDATE = 25,
  /** Bias gradient + QAS + SGD of any conv/fc layer, in place, for listed output channels. No output. */
  BIAS_UPDATE = 26,
  /** Mean squared error of int8 predictions against f32 targets: the loss value, f32 [1]. */
  MSE_LOSS = 27,
  /** Its gradient dL/dprediction = 2 (p - t) / n, f32. */
  MSE_GRAD = 28,
  /** dL/dx of AVG_POOL (optionally added to a gradient already there). */
  AVG_POOL_BACKWARD = 29,
  /** dL/dx of MAX_POOL from the saved int8 input (optionally added to a gradient already there). */
  MAX_POOL_BACKWARD = 30,
  /** A copy of an f32 gradient, or its sum with another (ADD's backward, gradients of tensors with several consumers). */
  GRADIENT_ADD = 31,
  /**
   * A 1x1 convolution (expand) streamed row by row into a depthwise convolution: the expanded
   * tensor never exists whole, only a window of its rows in the op's scratch tensor.
   */
  EXPAND_DEPTHWISE = 32,
  /**
   * The whole int8 filter of a layer that trains only some output channels: the flash filter
   * with the trained rows (TRAINABLE, channel-list order) copied over their channels.
   */
  MERGE_ROWS = 33,
}
export const OP_COUNT = 34;

/** Device status codes. 0 is success; every failure has its own code. */
export enum Status {
  OK = 0,
  BAD_MAGIC = 1,
  BAD_VERSION = 2,
  TRUNCATED = 3,
  BAD_CHECKSUM = 4,
  BAD_SECTION = 5,
  BAD_TENSOR = 6,
  BAD_OP = 7,
  BAD_PLAN = 8,
  OVER_BUDGET = 9,
  NOT_LOADED = 10,
  BAD_ARGUMENT = 11,
  OUT_OF_MEMORY = 12,
  BAD_INPUT = 13,
  IO_ERROR = 14,
}
export const STATUS_COUNT = 15;
