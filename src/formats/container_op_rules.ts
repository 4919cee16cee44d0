// Per-op rules of the container (docs/format.md, "OPS"): one row per op says which inputs
// it takes, their dtypes, its output dtype and what each of its 12 params means. The
// container reader (and through it the writer) applies them; the device reader
// (src/runtime/container.ts) holds the same rows in OP_TABLE and applies them in the same
// order, so host and device reject the same bytes at the same offset.

import { DType, Op, OP_COUNT, OP_PARAM_COUNT } from './schema.js';
import { validateGroupSparse } from './sparse.js';
import { FormatError } from './errors.js';

/** What a param must hold. Numbering shared with the device table. */
export enum Param {
  /** Must be 0. */
  UNUSED = 0,
  /** 1..255. */
  STRIDE = 1,
  /** >= 0; the SAME/VALID rule in checkOpShapes fixes its value. */
  PAD = 2,
  /** -128..127. */
  ACT_MIN = 3,
  /** -128..127 and >= the preceding ACT_MIN param. */
  ACT_MAX = 4,
  /** Pool window, 1..255. */
  FILTER = 5,
  /** ADD's input pre-shift, 0..23 (255 << 23 still fits an i32). */
  LEFT_SHIFT = 6,
  /** Q31 multiplier: 0 or 2^30..2^31-1. */
  MULTIPLIER = 7,
  /** Power-of-two exponent, -31..30 (positive = left). */
  SHIFT = 8,
  /** SOFTMAX input multiplier, 2^30..2^31-1 (from QuantizeMultiplierGreaterThanOne). */
  SOFTMAX_MULTIPLIER = 9,
  /** SOFTMAX input left shift, 0..31. */
  SOFTMAX_SHIFT = 10,
  /** SOFTMAX diffMin, <= 0. */
  DIFF_MIN = 11,
  /** An f32 bit pattern (learning rate, input scale): finite and > 0. */
  POSITIVE_F32 = 12,
  /**
   * Flags of a parameter update, 0..15: bit 0 nearest rounding (else stochastic), bit 1 no QAS
   * (else QAS), bit 2 carry rounding of int8 weights (BIAS_UPDATE ignores it), bit 3 compact
   * rows (CONV2D_UPDATE and FULLY_CONNECTED_UPDATE only: row i of w holds the weights of
   * channel selected[i]).
   */
  UPDATE_FLAGS = 13,
  /** Momentum coefficient: an f32 bit pattern in [0, 1); 0 = plain SGD. */
  MOMENTUM = 14,
}

export interface SlotRule {
  name: string;
  /** Required dtype; 0 accepts any. */
  dtype: DType | 0;
  /** May be 0xFFFF (absent). */
  optional?: boolean;
  /** Must be a CONST tensor (its values are checked at load). */
  constOnly?: boolean;
}

export interface OpRule {
  inputs: SlotRule[];
  /** Output dtype; 0 means "same as input 0". */
  output: DType | 0;
  /** Params by index; missing entries are UNUSED. */
  params: Param[];
  /** Input slots whose buffer the output may take when that input dies at this op. */
  inPlace?: number[];
  /** The op writes no output tensor (nOutputs 0, output 0xFFFF): it updates `updates` in place. */
  noOutput?: boolean;
  /** Input slots the op updates in place: ARENA tensors of category TRAINABLE. */
  updates?: number[];
}

const x8: SlotRule = { name: 'x', dtype: DType.INT8 };
const convInputs: SlotRule[] = [
  x8,
  { name: 'w', dtype: DType.INT8 },
  { name: 'b', dtype: DType.INT32, optional: true },
  { name: 'rq', dtype: DType.INT32, constOnly: true },
];
/** Sparse ops take a group-sparse weight blob (docs/sparse.md) where dense ones take the filter. */
const sparseInputs: SlotRule[] = [x8, { name: 'w', dtype: DType.UINT8, constOnly: true }, convInputs[2], convInputs[3]];
const { STRIDE, PAD, ACT_MIN, ACT_MAX, FILTER, MULTIPLIER, SHIFT, UNUSED, POSITIVE_F32, UPDATE_FLAGS, MOMENTUM } = Param;
const g32: SlotRule = { name: 'dy', dtype: DType.FLOAT32 };
const w8: SlotRule = { name: 'w', dtype: DType.INT8 };
const lossInputs: SlotRule[] = [{ name: 'logits', dtype: DType.INT8 }, { name: 'label', dtype: DType.INT32 }];
/** Output channels an update touches: CONST int32 [n], strictly ascending, each below the channel count. */
const selectedSlot: SlotRule = { name: 'selected', dtype: DType.INT32, constOnly: true };
const updateInputs: SlotRule[] = [x8, g32, w8, selectedSlot];
/** A gradient already there: the op adds its result to it (the output may take its buffer). */
const accSlot: SlotRule = { name: 'acc', dtype: DType.FLOAT32, optional: true };
const predictionInputs: SlotRule[] = [{ name: 'prediction', dtype: DType.INT8 }, { name: 'target', dtype: DType.FLOAT32 }];
const poolBackwardParams = [FILTER, FILTER, STRIDE, STRIDE, PAD, PAD];
const convParams = [STRIDE, STRIDE, PAD, PAD, ACT_MIN, ACT_MAX];
const poolParams = [FILTER, FILTER, STRIDE, STRIDE, PAD, PAD, ACT_MIN, ACT_MAX];

export const OP_RULES: Record<Op, OpRule> = {
  [Op.CONV2D]: { inputs: convInputs, output: DType.INT8, params: convParams },
  [Op.DEPTHWISE_CONV2D]: { inputs: convInputs, output: DType.INT8, params: convParams },
  [Op.CONV1X1]: { inputs: convInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.FULLY_CONNECTED]: { inputs: convInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.ADD]: {
    inputs: [{ name: 'a', dtype: DType.INT8 }, { name: 'b', dtype: DType.INT8 }], output: DType.INT8, inPlace: [0, 1],
    params: [Param.LEFT_SHIFT, MULTIPLIER, SHIFT, MULTIPLIER, SHIFT, MULTIPLIER, SHIFT, ACT_MIN, ACT_MAX],
  },
  [Op.AVG_POOL]: { inputs: [x8], output: DType.INT8, params: poolParams },
  [Op.MAX_POOL]: { inputs: [x8], output: DType.INT8, params: poolParams },
  // 0..5: the pool geometry slots, unused; 8, 9: requantization to the output's own scale (MEAN), multiplier 0 = same scale
  [Op.GLOBAL_AVG_POOL]: { inputs: [x8], output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX, MULTIPLIER, SHIFT] },
  [Op.RESHAPE]: { inputs: [{ name: 'x', dtype: 0 }], output: 0, params: [], inPlace: [0] },
  [Op.SOFTMAX]: { inputs: [x8], output: DType.INT8, params: [Param.SOFTMAX_MULTIPLIER, Param.SOFTMAX_SHIFT, Param.DIFF_MIN] },
  [Op.QUANTIZE]: { inputs: [{ name: 'x', dtype: DType.FLOAT32 }], output: DType.INT8, params: [] },
  [Op.DEQUANTIZE]: { inputs: [x8], output: DType.FLOAT32, params: [] },
  [Op.SPARSE_CONV1X1]: { inputs: sparseInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  [Op.SPARSE_FULLY_CONNECTED]: { inputs: sparseInputs, output: DType.INT8, params: [UNUSED, UNUSED, UNUSED, UNUSED, ACT_MIN, ACT_MAX] },
  // train-step ops (docs/format.md "Train-step ops")
  [Op.RELU_MASK]: { inputs: [{ name: 'y', dtype: DType.INT8 }], output: DType.UINT8, params: [ACT_MIN, ACT_MAX] },
  [Op.APPLY_MASK]: { inputs: [g32, { name: 'mask', dtype: DType.UINT8 }], output: 0, params: [], inPlace: [0] },
  [Op.SOFTMAX_CE_LOSS]: { inputs: lossInputs, output: DType.FLOAT32, params: [] },
  [Op.SOFTMAX_CE_GRAD]: { inputs: lossInputs, output: DType.FLOAT32, params: [] },
  [Op.CONV2D_BACKWARD_INPUT]: { inputs: [g32, w8, accSlot], output: DType.FLOAT32, params: [STRIDE, STRIDE, PAD, PAD], inPlace: [2] },
  [Op.DEPTHWISE_CONV2D_BACKWARD_INPUT]: { inputs: [g32, w8, accSlot], output: DType.FLOAT32, params: [STRIDE, STRIDE, PAD, PAD], inPlace: [2] },
  [Op.FULLY_CONNECTED_BACKWARD_INPUT]: { inputs: [g32, w8, accSlot], output: DType.FLOAT32, params: [], inPlace: [2] },
  [Op.GLOBAL_AVG_POOL_BACKWARD]: { inputs: [g32, accSlot], output: DType.FLOAT32, params: [], inPlace: [1] },
  [Op.CONV2D_UPDATE]: { inputs: updateInputs, output: 0, noOutput: true, updates: [2], params: [STRIDE, STRIDE, PAD, PAD, POSITIVE_F32, UPDATE_FLAGS, MOMENTUM] },
  [Op.DEPTHWISE_CONV2D_UPDATE]: { inputs: updateInputs, output: 0, noOutput: true, updates: [2], params: [STRIDE, STRIDE, PAD, PAD, POSITIVE_F32, UPDATE_FLAGS, MOMENTUM] },
  [Op.FULLY_CONNECTED_UPDATE]: { inputs: updateInputs, output: 0, noOutput: true, updates: [2], params: [UNUSED, UNUSED, UNUSED, UNUSED, POSITIVE_F32, UPDATE_FLAGS, MOMENTUM] },
  [Op.BIAS_UPDATE]: {
    inputs: [g32, { name: 'b', dtype: DType.INT32 }, selectedSlot, { name: 'scales', dtype: DType.FLOAT32, constOnly: true }],
    output: 0, noOutput: true, updates: [1], params: [POSITIVE_F32, POSITIVE_F32, UPDATE_FLAGS, MOMENTUM],
  },
  [Op.MSE_LOSS]: { inputs: predictionInputs, output: DType.FLOAT32, params: [] },
  [Op.MSE_GRAD]: { inputs: predictionInputs, output: DType.FLOAT32, params: [] },
  [Op.AVG_POOL_BACKWARD]: { inputs: [g32, accSlot], output: DType.FLOAT32, params: poolBackwardParams, inPlace: [1] },
  [Op.MAX_POOL_BACKWARD]: { inputs: [g32, x8, accSlot], output: DType.FLOAT32, params: poolBackwardParams, inPlace: [2] },
  [Op.GRADIENT_ADD]: { inputs: [{ name: 'g', dtype: DType.FLOAT32 }, accSlot], output: DType.FLOAT32, params: [], inPlace: [0, 1] },
  // w, b, rq: the pair's constants concatenated, the expand's first; 6, 7: depthwise window; 8, 9: the expand's clamp
  [Op.EXPAND_DEPTHWISE]: { inputs: convInputs, output: DType.INT8, params: [...convParams, FILTER, FILTER, ACT_MIN, ACT_MAX] },
  // w: the filter in flash; rows: its trained rows, one per selected channel, in list order
  [Op.MERGE_ROWS]: { inputs: [{ name: 'w', dtype: DType.INT8, constOnly: true }, { name: 'rows', dtype: DType.INT8 }, selectedSlot], output: DType.INT8, params: [] },
};

/** UPDATE_FLAGS bit 3: the update's w holds only the selected channels' rows, in list order. */
export const UPDATE_COMPACT_ROWS = 8;

/** Read access to one op record and the tensors it names (all indices already checked). */
export interface OpView {
  op: Op;
  /** File offset of the op record. */
  record: number;
  /** The 4 input slots (0xFFFF when empty). */
  ids: number[];
  output: number;
  /** The scratch field: a SCRATCH tensor, an update op's OPTIMIZER state, or 0xFFFF. */
  scratch: number;
  param(i: number): number;
  /** 4 dims, padded with 1. */
  dims(t: number): number[];
  rank(t: number): number;
  scale(t: number): number;
  zeroPoint(t: number): number;
  dtype(t: number): number;
  /** Element i of a CONST int32 tensor and its file offset. */
  constI32(t: number, i: number): [number, number];
  /** The bytes of a CONST tensor and their file offset. */
  constBytes(t: number): [Uint8Array, number];
  /** The tensor's channelScales field (0xFFFF: none). */
  channelScales(t: number): number;
}

export type Fail = (offset: number, message: string) => never;

const inRange = (v: number, lo: number, hi: number): boolean => v >= lo && v <= hi;
/** The f32 whose bit pattern is the i32 `bits`. */
export function f32FromBits(bits: number): number {
  return new Float32Array(Int32Array.of(bits).buffer)[0];
}
/** The i32 bit pattern of `x` rounded to f32 (how learning rates and scales sit in params). */
export function f32Bits(x: number): number {
  return new Int32Array(Float32Array.of(x).buffer)[0];
}
const positiveF32 = (bits: number): boolean => {
  const f = f32FromBits(bits);
  return Number.isFinite(f) && f > 0;
};
const unitF32 = (bits: number): boolean => {
  const f = f32FromBits(bits);
  return f >= 0 && f < 1;
};
const Q31_MIN = 0x40000000;

/** Checks params 0..11 in order against the op's row. */
export function checkOpParams(v: OpView, bad: Fail): void {
  const kinds = OP_RULES[v.op].params;
  for (let i = 0; i < OP_PARAM_COUNT; i++) {
    const p = v.param(i);
    const kind = kinds[i] ?? Param.UNUSED;
    const ok = [
      p === 0, // UNUSED
      inRange(p, 1, 255), // STRIDE
      p >= 0, // PAD
      inRange(p, -128, 127), // ACT_MIN
      inRange(p, -128, 127) && p >= v.param(i - 1), // ACT_MAX
      inRange(p, 1, 255), // FILTER
      inRange(p, 0, 23), // LEFT_SHIFT
      p === 0 || p >= Q31_MIN, // MULTIPLIER
      inRange(p, -31, 30), // SHIFT
      p >= Q31_MIN, // SOFTMAX_MULTIPLIER
      inRange(p, 0, 31), // SOFTMAX_SHIFT
      p <= 0, // DIFF_MIN
      positiveF32(p), // POSITIVE_F32
      inRange(p, 0, 15), // UPDATE_FLAGS
      unitF32(p), // MOMENTUM
    ][kind];
    if (!ok) bad(v.record + 16 + 4 * i, `param ${i} (${Param[kind]}) = ${p} is out of range`);
  }
}

/**
 * Output size along one spatial axis must be TFLite's VALID or SAME result, and the stored
 * leading pad the one SAME implies (VALID: 0). Every window then touches the input.
 */
export function spatialOk(inSize: number, k: number, stride: number, pad: number, out: number): boolean {
  const valid = pad === 0 && inSize >= k && out === Math.floor((inSize - k) / stride) + 1;
  const same = out === Math.ceil(inSize / stride) && pad === Math.floor(Math.max((out - 1) * stride + k - inSize, 0) / 2);
  return valid || same;
}

const eq = (a: number[], b: number[]): boolean => a.every((x, i) => x === b[i]);
const elements = (d: number[]): number => d[0] * d[1] * d[2] * d[3];

/** Shapes, quantization and requantization tables, in the order the device checks them. */
export function checkOpShapes(v: OpView, bad: Fail): void {
  const slot = (s: number): number => v.record + 4 + 2 * s;
  const outAt = v.record + 12;
  const [x, w, b, rq] = v.ids;
  const xd = v.dims(x), od = v.output === 0xffff ? [] : v.dims(v.output);
  const need = (cond: boolean, at: number, msg: string): void => {
    if (!cond) bad(at, msg);
  };
  switch (v.op) {
    case Op.CONV2D: case Op.DEPTHWISE_CONV2D: case Op.CONV1X1: case Op.FULLY_CONNECTED: {
      const wd = v.dims(w);
      const fc = v.op === Op.FULLY_CONNECTED;
      const dw = v.op === Op.DEPTHWISE_CONV2D;
      const outC = dw ? wd[3] : wd[0];
      need(fc || v.rank(x) === 4, slot(0), `x must be rank 4 [N,H,W,C], is rank ${v.rank(x)}`);
      if (fc) need(v.rank(w) === 2 && wd[1] * xd[0] === elements(xd), slot(1), `w [${wd.slice(0, 2)}] must be [Co, size(x)/N] for x [${xd}]`);
      else if (dw) need(v.rank(w) === 4 && wd[0] === 1 && wd[3] === xd[3], slot(1), `w [${wd}] must be [1,kH,kW,${xd[3]}]`);
      else if (v.op === Op.CONV1X1) need(v.rank(w) === 4 && wd[1] === 1 && wd[2] === 1 && wd[3] === xd[3], slot(1), `w [${wd}] must be [Co,1,1,${xd[3]}]`);
      else need(v.rank(w) === 4 && wd[3] === xd[3], slot(1), `w [${wd}] must be [Co,kH,kW,${xd[3]}]`);
      if (b !== 0xffff) need(v.rank(b) === 1 && v.dims(b)[0] === outC, slot(2), `b must be [${outC}]`);
      need(v.rank(rq) === 2 && v.dims(rq)[0] === outC && v.dims(rq)[1] === 2, slot(3), `rq must be [${outC},2]`);
      if (fc) {
        need(v.rank(v.output) === 2 && od[0] === xd[0] && od[1] === outC, outAt, `output [${od}] must be [${xd[0]},${outC}]`);
      } else {
        const [kH, kW] = v.op === Op.CONV1X1 ? [1, 1] : [wd[1], wd[2]];
        const [sH, sW, pT, pL] = v.op === Op.CONV1X1 ? [1, 1, 0, 0] : [v.param(0), v.param(1), v.param(2), v.param(3)];
        need(v.rank(v.output) === 4 && od[0] === xd[0] && od[3] === outC && spatialOk(xd[1], kH, sH, pT, od[1]) && spatialOk(xd[2], kW, sW, pL, od[2]),
          outAt, `output [${od}] does not follow from x [${xd}], kernel ${kH}x${kW}, stride ${sH}x${sW}, pad ${pT},${pL}`);
      }
      checkRequantTable(v, rq, outC, bad);
      return;
    }
    case Op.SPARSE_CONV1X1: case Op.SPARSE_FULLY_CONNECTED: {
      const fc = v.op === Op.SPARSE_FULLY_CONNECTED;
      need(fc || v.rank(x) === 4, slot(0), `x must be rank 4 [N,H,W,C], is rank ${v.rank(x)}`);
      const outC = fc ? od[1] : od[3];
      const inC = fc ? elements(xd) / xd[0] : xd[3];
      if (fc) need(v.rank(v.output) === 2 && od[0] === xd[0], outAt, `output [${od}] must be [${xd[0]}, Co]`);
      else need(v.rank(v.output) === 4 && od[0] === xd[0] && od[1] === xd[1] && od[2] === xd[2], outAt, `output [${od}] must be [${xd.slice(0, 3)}, Co]`);
      need(v.rank(w) === 1, slot(1), 'the sparse weight blob must be rank 1');
      const [blob, blobAt] = v.constBytes(w);
      try {
        validateGroupSparse(blob, outC, inC);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        bad(blobAt + (e.offset ?? 0), `sparse weights (tensor ${w}): ${e.message.replace(/ \(at byte \d+\)$/, '')}`);
      }
      if (b !== 0xffff) need(v.rank(b) === 1 && v.dims(b)[0] === outC, slot(2), `b must be [${outC}]`);
      need(v.rank(rq) === 2 && v.dims(rq)[0] === outC && v.dims(rq)[1] === 2, slot(3), `rq must be [${outC},2]`);
      checkRequantTable(v, rq, outC, bad);
      return;
    }
    case Op.ADD:
      need(v.rank(w) === v.rank(x) && eq(v.dims(w), xd), slot(1), 'b must have the shape of a');
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of a');
      return;
    case Op.AVG_POOL: case Op.MAX_POOL: case Op.GLOBAL_AVG_POOL: {
      need(v.rank(x) === 4, slot(0), 'x must be rank 4 [N,H,W,C]');
      const shapeOk = v.op === Op.GLOBAL_AVG_POOL
        ? od[1] === 1 && od[2] === 1
        : spatialOk(xd[1], v.param(0), v.param(2), v.param(4), od[1]) && spatialOk(xd[2], v.param(1), v.param(3), v.param(5), od[2]);
      need(v.rank(v.output) === 4 && od[0] === xd[0] && od[3] === xd[3] && shapeOk, outAt, `output [${od}] does not follow from x [${xd}] and the pool params`);
      if (v.op === Op.GLOBAL_AVG_POOL && v.param(8) !== 0) return; // requantizing (MEAN): the output has its own scale
      if (v.op === Op.GLOBAL_AVG_POOL) need(v.param(9) === 0, v.record + 16 + 4 * 9, 'GLOBAL_AVG_POOL shift must be 0 when its multiplier is 0 (same-scale pooling)');
      need(v.scale(v.output) === v.scale(x) && v.zeroPoint(v.output) === v.zeroPoint(x), outAt, 'pool output must keep the input scale and zero point');
      return;
    }
    case Op.RESHAPE:
      need(elements(od) === elements(xd), outAt, `output [${od}] does not hold the ${elements(xd)} elements of x`);
      need(v.scale(v.output) === v.scale(x) && v.zeroPoint(v.output) === v.zeroPoint(x), outAt, 'RESHAPE output must keep the input scale and zero point');
      return;
    case Op.SOFTMAX:
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      need(v.scale(v.output) === 1 / 256 && v.zeroPoint(v.output) === -128, outAt, 'SOFTMAX output must have scale 1/256 and zero point -128');
      return;
    case Op.QUANTIZE:
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      need(v.scale(v.output) > 0, outAt, 'QUANTIZE output needs a scale > 0');
      return;
    case Op.DEQUANTIZE:
      need(v.scale(x) > 0, slot(0), 'DEQUANTIZE input needs a scale > 0');
      need(v.rank(v.output) === v.rank(x) && eq(od, xd), outAt, 'output must have the shape of x');
      return;
    case Op.EXPAND_DEPTHWISE:
      checkExpandDepthwise(v, need, slot, outAt, bad);
      return;
    default:
      checkTrainOpShapes(v, need, slot, outAt);
  }
}

/**
 * EXPAND_DEPTHWISE: x [N,H,W,Ci]; the scratch field names the row buffer INT8 [1,R,W,Ce]
 * (scale and zero point of the expanded tensor, min(kH, H) <= R <= H); w holds Ce*Ci expand
 * weights then kH*kW*Ce depthwise weights; b (optional) 2*Ce biases; rq 2*Ce rows.
 */
function checkExpandDepthwise(v: OpView, need: Need, slot: (s: number) => number, outAt: number, bad: Fail): void {
  const [x, w, b, rq] = v.ids;
  const xd = v.dims(x), od = v.dims(v.output);
  const [sH, sW, pT, pL] = [v.param(0), v.param(1), v.param(2), v.param(3)];
  const [kH, kW] = [v.param(6), v.param(7)];
  need(v.rank(x) === 4, slot(0), `x must be rank 4 [N,H,W,C], is rank ${v.rank(x)}`);
  need(v.scratch !== 0xffff, v.record + 14, 'EXPAND_DEPTHWISE needs its row buffer in the scratch field');
  const rd = v.dims(v.scratch);
  const minRows = Math.min(kH, xd[1]);
  need(v.dtype(v.scratch) === DType.INT8 && v.rank(v.scratch) === 4 && rd[0] === 1 && rd[2] === xd[2] && rd[1] >= minRows && rd[1] <= xd[1] && v.scale(v.scratch) > 0,
    v.record + 14, `row buffer [${rd}] must be INT8 [1,R,${xd[2]},Ce] with ${minRows} <= R <= ${xd[1]} and a scale > 0`);
  const ce = rd[3];
  need(v.rank(w) === 1 && v.dims(w)[0] === ce * xd[3] + kH * kW * ce, slot(1), `w [${v.dims(w)}] must be [${ce * xd[3] + kH * kW * ce}] (${ce}x${xd[3]} expand, then ${kH}x${kW}x${ce} depthwise)`);
  if (b !== 0xffff) need(v.rank(b) === 1 && v.dims(b)[0] === 2 * ce, slot(2), `b must be [${2 * ce}] (expand, then depthwise)`);
  need(v.rank(rq) === 2 && v.dims(rq)[0] === 2 * ce && v.dims(rq)[1] === 2, slot(3), `rq must be [${2 * ce},2] (expand, then depthwise)`);
  need(v.rank(v.output) === 4 && od[0] === xd[0] && od[3] === ce && spatialOk(xd[1], kH, sH, pT, od[1]) && spatialOk(xd[2], kW, sW, pL, od[2]),
    outAt, `output [${od}] does not follow from x [${xd}], ${ce} expanded channels, window ${kH}x${kW}, stride ${sH}x${sW}, pad ${pT},${pL}`);
  checkRequantTable(v, rq, 2 * ce, bad);
}

type Need = (cond: boolean, at: number, msg: string) => void;

/** Train-step ops (codes RELU_MASK and up), in the order the device checks them. */
function checkTrainOpShapes(v: OpView, need: Need, slot: (s: number) => number, outAt: number): void {
  const [a, b, c, d] = v.ids;
  const ad = v.dims(a), od = v.output === 0xffff ? [] : v.dims(v.output);
  /** The filter's per-channel scales exist and hold `channels` values. */
  const scalesOf = (w: number, channels: number, at: number): void => {
    const cs = v.channelScales(w);
    need(cs !== 0xffff && elements(v.dims(cs)) === channels, at, `filter (tensor ${w}) needs channelScales with ${channels} values`);
  };
  /** An `acc` slot, when used, holds a gradient of the output's shape. */
  const accOk = (s: number): void => {
    const t = v.ids[s];
    if (t !== 0xffff) need(v.rank(t) === v.rank(v.output) && eq(v.dims(t), od), slot(s), `acc [${v.dims(t)}] must have the shape of the output [${od}]`);
  };
  switch (v.op) {
    case Op.RELU_MASK:
      need(v.rank(v.output) === 1 && od[0] === Math.ceil(elements(ad) / 8), outAt, `mask [${od}] must be [${Math.ceil(elements(ad) / 8)}] (1 bit per element of y)`);
      return;
    case Op.APPLY_MASK:
      need(v.rank(b) === 1 && v.dims(b)[0] === Math.ceil(elements(ad) / 8), slot(1), `mask must be [${Math.ceil(elements(ad) / 8)}]`);
      need(v.rank(v.output) === v.rank(a) && eq(od, ad), outAt, 'output must have the shape of dy');
      return;
    case Op.SOFTMAX_CE_LOSS: case Op.SOFTMAX_CE_GRAD:
      need(v.rank(a) === 2 && ad[0] === 1 && v.scale(a) > 0, slot(0), `logits [${ad.slice(0, 2)}] must be [1, classes] with a scale > 0`);
      need(v.rank(b) === 1 && v.dims(b)[0] === 1, slot(1), 'label must be [1]');
      if (v.op === Op.SOFTMAX_CE_LOSS) need(v.rank(v.output) === 1 && od[0] === 1, outAt, 'loss must be [1]');
      else need(v.rank(v.output) === 2 && eq(od, ad), outAt, 'gradient must have the shape of the logits');
      return;
    case Op.CONV2D_BACKWARD_INPUT: case Op.DEPTHWISE_CONV2D_BACKWARD_INPUT: {
      const wd = v.dims(b);
      const dw = v.op === Op.DEPTHWISE_CONV2D_BACKWARD_INPUT;
      const outC = dw ? wd[3] : wd[0];
      need(v.rank(a) === 4 && ad[0] === 1 && ad[3] === outC, slot(0), `dy [${ad}] must be [1,H,W,${outC}]`);
      need(v.rank(b) === 4 && (!dw || wd[0] === 1), slot(1), `w [${wd}] must be ${dw ? '[1,kH,kW,C]' : '[Co,kH,kW,Ci]'}`);
      scalesOf(b, outC, slot(1));
      need(v.rank(v.output) === 4 && od[0] === 1 && od[3] === wd[3] && spatialOk(od[1], wd[1], v.param(0), v.param(2), ad[1]) && spatialOk(od[2], wd[2], v.param(1), v.param(3), ad[2]),
        outAt, `dx [${od}] is not an input that gives dy [${ad}] with w [${wd}] and the stride/pad params`);
      accOk(2);
      return;
    }
    case Op.FULLY_CONNECTED_BACKWARD_INPUT: {
      const wd = v.dims(b);
      need(denseRows(v, b), slot(1), `w [${wd}] must be [Co, Ci] or [Co,1,1,Ci]`);
      const outC = wd[0], inC = wd[v.rank(b) - 1];
      need(ad[v.rank(a) - 1] === outC, slot(0), `dy [${ad}] must end in ${outC} channels`);
      scalesOf(b, outC, slot(1));
      need(elements(od) === (elements(ad) / outC) * inC, outAt, `dx [${od}] must hold ${(elements(ad) / outC) * inC} values (${inC} per row of dy)`);
      accOk(2);
      return;
    }
    case Op.GLOBAL_AVG_POOL_BACKWARD:
      need(v.rank(v.output) === 4 && od[0] === 1 && elements(ad) === od[3], outAt, `dx [${od}] must be [1,H,W,${elements(ad)}]`);
      accOk(1);
      return;
    case Op.MSE_LOSS: case Op.MSE_GRAD:
      need(v.scale(a) > 0, slot(0), 'prediction needs a scale > 0');
      need(elements(v.dims(b)) === elements(ad), slot(1), `target [${v.dims(b)}] must hold the ${elements(ad)} values of the prediction`);
      if (v.op === Op.MSE_LOSS) need(v.rank(v.output) === 1 && od[0] === 1, outAt, 'loss must be [1]');
      else need(v.rank(v.output) === v.rank(a) && eq(od, ad), outAt, 'gradient must have the shape of the prediction');
      return;
    case Op.AVG_POOL_BACKWARD: case Op.MAX_POOL_BACKWARD: {
      const max = v.op === Op.MAX_POOL_BACKWARD;
      need(v.rank(a) === 4 && ad[0] === 1, slot(0), `dy [${ad}] must be [1,H,W,C]`);
      need(v.rank(v.output) === 4 && od[0] === 1 && od[3] === ad[3] && spatialOk(od[1], v.param(0), v.param(2), v.param(4), ad[1]) && spatialOk(od[2], v.param(1), v.param(3), v.param(5), ad[2]),
        outAt, `dx [${od}] is not an input that gives dy [${ad}] with the pool params`);
      if (max) need(v.rank(b) === 4 && eq(v.dims(b), od), slot(1), `x [${v.dims(b)}] must have the shape of dx [${od}]`);
      accOk(max ? 2 : 1);
      return;
    }
    case Op.GRADIENT_ADD:
      need(v.rank(v.output) === v.rank(a) && eq(od, ad), outAt, 'output must have the shape of g');
      accOk(1);
      return;
    case Op.CONV2D_UPDATE: case Op.DEPTHWISE_CONV2D_UPDATE: case Op.FULLY_CONNECTED_UPDATE: {
      const gd = v.dims(b), wd = v.dims(c);
      const compact = (v.param(5) & UPDATE_COMPACT_ROWS) !== 0;
      need(!compact || v.op !== Op.DEPTHWISE_CONV2D_UPDATE, v.record + 16 + 4 * 5, 'compact rows (UPDATE_FLAGS bit 3) need channels on the first axis: not for DEPTHWISE_CONV2D_UPDATE');
      let outC: number;
      if (v.op === Op.FULLY_CONNECTED_UPDATE) {
        need(denseRows(v, c), slot(2), `w [${wd}] must be [Co, Ci] or [Co,1,1,Ci]`);
        outC = compact ? gd[v.rank(b) - 1] : wd[0];
        const inC = wd[v.rank(c) - 1];
        need(elements(ad) % inC === 0, slot(0), `x [${ad}] does not split into rows of ${inC}`);
        need(gd[v.rank(b) - 1] === outC && elements(gd) === (elements(ad) / inC) * outC, slot(1), `dy [${gd}] must be ${elements(ad) / inC} rows of ${outC}`);
      } else {
        const dw = v.op === Op.DEPTHWISE_CONV2D_UPDATE;
        outC = dw ? wd[3] : compact ? gd[3] : wd[0];
        need(v.rank(a) === 4 && ad[0] === 1, slot(0), `x [${ad}] must be [1,H,W,C]`);
        need(v.rank(c) === 4 && wd[3] === ad[3] && (!dw || wd[0] === 1), slot(2), `w [${wd}] must be ${dw ? `[1,kH,kW,${ad[3]}]` : `[Co,kH,kW,${ad[3]}]`}`);
        need(v.rank(b) === 4 && gd[0] === 1 && gd[3] === outC && spatialOk(ad[1], wd[1], v.param(0), v.param(2), gd[1]) && spatialOk(ad[2], wd[2], v.param(1), v.param(3), gd[2]),
          slot(1), `dy [${gd}] does not follow from x [${ad}], w [${wd}] and the stride/pad params`);
      }
      scalesOf(c, outC, slot(2));
      checkSelected(v, d, outC, slot(3), need);
      const n = v.dims(d)[0];
      if (compact) need(wd[0] === n, slot(2), `w [${wd}] must hold one row per selected channel (${n}): compact rows`);
      const perChannel = v.op === Op.DEPTHWISE_CONV2D_UPDATE ? wd[0] * wd[1] * wd[2] : wd[1] * wd[2] * wd[3];
      stateOk(v, n * perChannel, 6, need);
      return;
    }
    case Op.BIAS_UPDATE: {
      const C = v.dims(b)[0];
      need((v.param(2) & UPDATE_COMPACT_ROWS) === 0, v.record + 16 + 4 * 2, 'BIAS_UPDATE takes no compact rows (UPDATE_FLAGS bit 3)');
      need(v.rank(b) === 1, slot(1), 'b must be rank 1 [C]');
      need(ad[v.rank(a) - 1] === C, slot(0), `dy [${ad}] must end in ${C} channels`);
      checkSelected(v, c, C, slot(2), need);
      need(v.rank(d) === 1 && v.dims(d)[0] === C, slot(3), `scales must be [${C}]`);
      stateOk(v, v.dims(c)[0], 3, need);
      return;
    }
    case Op.MERGE_ROWS: {
      const wd = v.dims(a), rd = v.dims(b);
      need(v.rank(a) === 2 || v.rank(a) === 4, slot(0), `w [${wd}] must be [Co, Ci] or [Co,kH,kW,Ci]`);
      checkSelected(v, c, wd[0], slot(2), need);
      need(v.rank(b) === v.rank(a) && rd[0] === v.dims(c)[0] && eq(rd.slice(1), wd.slice(1)), slot(1), `rows [${rd}] must be [${v.dims(c)[0]},${wd.slice(1, v.rank(a))}] (one row of w per selected channel)`);
      need(v.rank(v.output) === v.rank(a) && eq(od, wd) && v.channelScales(v.output) === v.channelScales(a), outAt, `output [${od}] must have the shape and channelScales of w [${wd}]`);
      return;
    }
  }
}

/**
 * An update op's state (its scratch field), one value per updated parameter: FLOAT32 momentum,
 * required when the momentum param (index `param`) is not 0; or, for a weight op with carry
 * rounding (UPDATE_FLAGS bit 2, the param before), INT8 carry fractions, required, and then
 * momentum must be 0.
 */
function stateOk(v: OpView, updated: number, param: number, need: Need): void {
  const momentumAt = v.record + 16 + 4 * param;
  const carry = v.op !== Op.BIAS_UPDATE && (v.param(param - 1) & 4) !== 0;
  if (carry) need(v.param(param) === 0, momentumAt, 'carry rounding (UPDATE_FLAGS bit 2) and momentum exclude each other: set momentum 0');
  const kind = carry ? 'carry fractions' : 'momentum state';
  if (v.scratch === 0xffff) need(!carry && v.param(param) === 0, carry ? v.record + 14 : momentumAt, `${carry ? 'carry rounding' : 'momentum > 0'} needs a state tensor (the scratch field)`);
  else {
    need(v.dtype(v.scratch) === (carry ? DType.INT8 : DType.FLOAT32), v.record + 14, `${kind} must be ${carry ? 'INT8' : 'FLOAT32'}, is ${DType[v.dtype(v.scratch)]}`);
    need(elements(v.dims(v.scratch)) === updated, v.record + 14, `${kind} [${v.dims(v.scratch)}] must hold ${updated} values (one per updated parameter)`);
  }
}

/** A 1x1 or fully connected filter: [Co, Ci] or [Co,1,1,Ci]. */
function denseRows(v: OpView, w: number): boolean {
  const wd = v.dims(w);
  return v.rank(w) === 2 || (v.rank(w) === 4 && wd[1] === 1 && wd[2] === 1);
}

/** A channel list: rank 1, at most `channels` entries, strictly ascending, each in [0, channels). */
function checkSelected(v: OpView, t: number, channels: number, at: number, need: Need): void {
  const n = v.dims(t)[0];
  need(v.rank(t) === 1 && n <= channels, at, `selected [${v.dims(t)}] must list at most ${channels} channels`);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const [ch, chAt] = v.constI32(t, i);
    need(ch > previous && ch < channels, chAt, `selected[${i}] = ${ch} is not above ${previous} and below ${channels}`);
    previous = ch;
  }
}

/** Every (multiplier, shift) of a requantization table is in range. */
function checkRequantTable(v: OpView, rq: number, outC: number, bad: Fail): void {
  for (let c = 0; c < outC; c++) {
    const [m, mAt] = v.constI32(rq, 2 * c);
    if (!(m === 0 || m >= Q31_MIN)) bad(mAt, `rq multiplier of channel ${c} is ${m}, not 0 or in [2^30, 2^31)`);
    const [s, sAt] = v.constI32(rq, 2 * c + 1);
    if (!inRange(s, -31, 30)) bad(sAt, `rq shift of channel ${c} is ${s}, not in [-31, 30]`);
  }
}

/** Bytes per row of the device's copy of OP_RULES (OP_TABLE in src/runtime/container.ts). */
export const OP_TABLE_ROW_BYTES = 24;

/**
 * OP_RULES as the device stores them, one row per op value (row 0 unused):
 * 0 nInputs, 1 output dtype (0: as input 0), 2 optional-slot mask, 3 CONST-slot mask,
 * 4..7 slot dtypes (0: any), 8 in-place allowed, 9 no output, 10 updated-slot mask, 11 zero,
 * 12..23 Param per param index.
 */
export function encodeOpTable(): number[][] {
  const rows: number[][] = [];
  for (let op = 0; op < OP_COUNT; op++) {
    const row = new Array<number>(OP_TABLE_ROW_BYTES).fill(0);
    const rule = OP_RULES[op as Op];
    if (rule) {
      row[0] = rule.inputs.length;
      row[1] = rule.output;
      rule.inputs.forEach((s, i) => {
        if (s.optional) row[2] |= 1 << i;
        if (s.constOnly) row[3] |= 1 << i;
        row[4 + i] = s.dtype;
      });
      for (const s of rule.inPlace ?? []) row[8] |= 1 << s;
      row[9] = rule.noOutput ? 1 : 0;
      for (const u of rule.updates ?? []) row[10] |= 1 << u;
      rule.params.forEach((p, i) => (row[12 + i] = p));
    }
    rows.push(row);
  }
  return rows;
}
